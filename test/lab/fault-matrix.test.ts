// The fault matrix: every fault of faults.ts applied to a live lab, the kernel's outcome probed
// with real traffic, a bundle captured while the fault is in place (.knet-tmp/lab/OVERLAY-ID/),
// and — once knet trace exists — knet's verdict on that bundle held against the kernel's.
// Needs root; skips with a message otherwise. Results: .knet-tmp/lab/matrix.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureBundle } from './capture.js';
import { isRoot, listNamespaces, runPrefix } from './exec.js';
import { BASELINE, FAULTS, type Fault, type FaultProbe } from './faults.js';
import { loadScenario, type Overlay } from './scenario.js';
import { buildLab, type Lab, type ProbeResult, reapStaleLabs } from './topology.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCENARIO = join(ROOT, 'test/lab/scenarios/basic.yaml');
const MATRIX_DIR = join(ROOT, '.knet-tmp/lab');

interface MatrixRow {
  overlay: Overlay;
  fault: string;
  title: string;
  probe: string;
  expectedKernel: string[];
  kernel: string;
  answeredBy?: string;
  triesMs: number[];
  bundle: string;
  expectedVerdict: string;
  expectedFinding: string;
  knetVerdict: string;
}

const rows: MatrixRow[] = [];

function probe(lab: Lab, p: FaultProbe): ProbeResult {
  return lab.probe(p.from, p.host, p.port, { protocol: p.protocol, big: p.big });
}

const describeProbe = (p: FaultProbe) =>
  `pod/${p.from} → ${p.target}${p.protocol === 'udp' ? '/udp' : ''}` +
  (p.big ? (p.protocol === 'udp' ? ' (1400-byte datagram)' : ' (256 KiB answer)') : '');

if (!isRoot) console.warn('[knet lab] not root: the fault matrix is skipped (it needs network namespaces)');

describe.skipIf(!isRoot).each(['hostgw', 'vxlan'] as Overlay[])('fault matrix (%s)', (overlay) => {
  const prefix = runPrefix(`m${overlay === 'vxlan' ? 'v' : 'h'}`);
  let lab: Lab;

  beforeAll(async () => {
    reapStaleLabs();
    lab = await buildLab(loadScenario(SCENARIO, { overlay }), prefix);
  }, 60_000);

  afterAll(() => {
    const failed = lab?.destroy() ?? [];
    expect(failed).toEqual([]);
    expect(listNamespaces(prefix)).toEqual([]);
  });

  it('baseline: every probed path works before any fault', () => {
    for (const p of BASELINE[overlay])
      expect(probe(lab, p), describeProbe(p)).toMatchObject({ outcome: 'ok' });
  });

  const faults = FAULTS.filter((f) => f.overlay === overlay);
  it.each(faults.map((f) => [f.id, f] as [string, Fault]))(
    '%s',
    async (_id, fault) => {
      const bundle = join(MATRIX_DIR, `${overlay}-${fault.id}`);
      let result: ProbeResult;
      await fault.apply(lab);
      try {
        result = probe(lab, fault.probe);
        captureBundle(lab, bundle, { context: `knet-lab-${overlay}-${fault.id}` });
      } finally {
        await fault.revert(lab);
      }
      rows.push({
        overlay,
        fault: fault.id,
        title: fault.title,
        probe: describeProbe(fault.probe),
        expectedKernel: fault.kernel,
        kernel: result.outcome,
        answeredBy: result.answeredBy,
        triesMs: result.tries.map((t) => t.ms),
        bundle: bundle.slice(ROOT.length),
        expectedVerdict: fault.verdict,
        expectedFinding: fault.finding,
        knetVerdict: 'not compared yet',
      });
      // The kernel shows the fault …
      expect(
        fault.kernel,
        `kernel outcome of ${describeProbe(fault.probe)}: ${JSON.stringify(result)}`,
      ).toContain(result.outcome);
      // … the bundle holds the evidence knet needs to see it …
      fault.evidence(bundle);
      // … and the undo really undid it.
      for (const p of BASELINE[overlay]) {
        expect(probe(lab, p), `after reverting ${fault.id}: ${describeProbe(p)}`).toMatchObject({
          outcome: 'ok',
        });
      }
    },
    30_000,
  );
});

// knet's side of the matrix: knetVerdict(bundle, source, destination) (verdict.ts) must give
// the expected verdict and finding for each captured bundle; the test fails when they disagree.
describe('knet trace verdicts on the fault bundles', () => {
  for (const f of FAULTS) {
    const name =
      `${f.overlay}-${f.id}: knetVerdict(.knet-tmp/lab/${f.overlay}-${f.id}, pod/${f.probe.from}, ${f.probe.target}) ` +
      `→ ${f.verdict}, finding ${f.finding}`;
    it.skipIf(!isRoot)(name, async () => {
      // Loaded here, so that the kernel half of the matrix never depends on knet's analyses.
      const { knetVerdict } = await import('./verdict.js');
      const v = await knetVerdict(
        join(MATRIX_DIR, `${f.overlay}-${f.id}`),
        `pod/${f.probe.from}`,
        f.probe.target,
        f.probe.protocol === 'udp' ? 'UDP' : undefined,
      );
      const row = rows.find((r) => r.overlay === f.overlay && r.fault === f.id);
      if (row) row.knetVerdict = `${v.verdict} [${v.findings.join(', ')}]`;
      expect(v.verdict).toBe(f.verdict);
      expect(v.findings).toContain(f.finding);
    });
  }
});

afterAll(() => {
  if (rows.length === 0) return;
  mkdirSync(MATRIX_DIR, { recursive: true });
  writeFileSync(join(MATRIX_DIR, 'matrix.json'), `${JSON.stringify(rows, null, 2)}\n`);
  const md = [
    '| overlay | fault | probe | kernel (expected) | kernel (observed) | knet (expected) | finding | knet (observed) |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.overlay} | ${r.title} | ${r.probe} | ${r.expectedKernel.join(' or ')} | ${r.kernel} ` +
        `(${r.triesMs.join('/')} ms) | ${r.expectedVerdict} | ${r.expectedFinding} | ${r.knetVerdict} |`,
    ),
  ];
  writeFileSync(join(MATRIX_DIR, 'matrix.md'), `${md.join('\n')}\n`);
});

// The fault matrix for one kube-proxy mode (fault-matrix.test.ts: iptables,
// fault-matrix-nft.test.ts: nftables; two files so that vitest runs them in parallel). For each
// overlay a live lab is built; every fault of faults.ts for that overlay and mode is applied, the
// kernel's outcome probed with real traffic, a bundle captured while the fault is in place
// (.knet-tmp/lab/OVERLAY-ID/ or OVERLAY-nft-ID/), the fault reverted and the baseline re-probed.
// Then knet's verdict on each bundle is held against the expected one. Needs root; skips with a
// message otherwise (fails with KNET_REQUIRE_REAL=1). Results: .knet-tmp/lab/matrix.{json,md}.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureBundle } from './capture.js';
import { listNamespaces, runPrefix } from './exec.js';
import {
  BASELINE,
  FAULTS,
  type Fault,
  type FaultProbe,
  type FaultProbeResult,
  faultBundleName,
  faultModes,
  runFaultProbe,
} from './faults.js';
import { labCanRun } from './gate.js';
import { loadScenario, type Overlay, type ProxyMode } from './scenario.js';
import { buildLab, type Lab, reapStaleLabs } from './topology.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCENARIO = join(ROOT, 'test/lab/scenarios/basic.yaml');
export const MATRIX_DIR = join(ROOT, '.knet-tmp/lab');

export interface MatrixRow {
  overlay: Overlay;
  mode: ProxyMode;
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

export const describeProbe = (p: FaultProbe) =>
  `pod/${p.from} → ${p.target}${p.protocol === 'udp' ? '/udp' : ''}` +
  (p.big ? (p.protocol === 'udp' ? ' (1400-byte datagram)' : ' (256 KiB answer)') : '') +
  (p.repeat ? ` (×${p.repeat})` : '');

const OVERLAYS: Overlay[] = ['hostgw', 'vxlan'];

export function defineFaultMatrix(mode: ProxyMode): void {
  const rows: MatrixRow[] = [];
  const faultsOf = (overlay: Overlay) =>
    FAULTS.filter((f) => f.overlay === overlay && faultModes(f).includes(mode));
  const canRun = labCanRun(`fault matrix (${mode})`);
  const tag = mode === 'nftables' ? 'n' : 'i';

  describe.skipIf(!canRun).each(OVERLAYS)(`fault matrix (%s, kube-proxy ${mode})`, (overlay) => {
    const prefix = runPrefix(`m${overlay === 'vxlan' ? 'v' : 'h'}${tag}`);
    let lab: Lab;

    beforeAll(async () => {
      reapStaleLabs();
      lab = await buildLab(loadScenario(SCENARIO, { overlay, proxyMode: mode }), prefix);
    }, 60_000);

    afterAll(() => {
      const failed = lab?.destroy() ?? [];
      expect(failed).toEqual([]);
      expect(listNamespaces(prefix)).toEqual([]);
    });

    /** Every baseline path, probed at once; the failures described. */
    const baselineFailures = async (): Promise<string[]> => {
      const results = await Promise.all(BASELINE[overlay].map((p) => runFaultProbe(lab, p)));
      return results.flatMap((r, i) =>
        r.outcome === 'ok' ? [] : [`${describeProbe(BASELINE[overlay][i])}: ${JSON.stringify(r)}`],
      );
    };

    it('baseline: every probed path works before any fault', async () => {
      expect(await baselineFailures()).toEqual([]);
    });

    it.each(faultsOf(overlay).map((f) => [f.id, f] as [string, Fault]))(
      '%s',
      async (_id, fault) => {
        const bundle = join(MATRIX_DIR, faultBundleName(overlay, mode, fault.id));
        let result: FaultProbeResult;
        await fault.apply(lab);
        try {
          result = await runFaultProbe(lab, fault.probe);
          captureBundle(lab, bundle, { context: `knet-lab-${faultBundleName(overlay, mode, fault.id)}` });
          fault.afterCapture?.(bundle);
        } finally {
          await fault.revert(lab);
        }
        rows.push({
          overlay,
          mode,
          fault: fault.id,
          title: fault.title,
          probe: describeProbe(fault.probe),
          expectedKernel: fault.kernel,
          kernel: result.outcome,
          answeredBy: result.answeredBy,
          triesMs: result.tries.map((t) => t.ms),
          bundle: bundle.slice(ROOT.length),
          expectedVerdict: fault.verdict,
          expectedFinding: fault.finding ?? '—',
          knetVerdict: 'not compared',
        });
        // The kernel shows the fault …
        expect(
          fault.kernel,
          `kernel outcome of ${describeProbe(fault.probe)}: ${JSON.stringify(result)}`,
        ).toContain(result.outcome);
        // … the bundle holds the evidence knet needs to see it …
        fault.evidence(bundle);
        // … and the undo really undid it.
        expect(await baselineFailures(), `after reverting ${fault.id}`).toEqual([]);
      },
      60_000,
    );
  });

  // knet's side: knetVerdict(bundle, source, destination) (verdict.ts) must give the expected
  // verdict and (where one is named) finding for each captured bundle.
  describe(`knet trace verdicts on the fault bundles (kube-proxy ${mode})`, () => {
    for (const overlay of OVERLAYS) {
      for (const f of faultsOf(overlay)) {
        const name = faultBundleName(overlay, mode, f.id);
        const title =
          `${name}: knetVerdict(.knet-tmp/lab/${name}, pod/${f.probe.from}, ${f.probe.target}) ` +
          `→ ${f.verdict}${f.finding ? `, finding ${f.finding}` : ''}`;
        it.skipIf(!canRun)(title, async () => {
          // Loaded here, so that the kernel half of the matrix never depends on knet's analyses.
          const { knetVerdict } = await import('./verdict.js');
          const row = rows.find((r) => r.overlay === overlay && r.fault === f.id);
          let v: Awaited<ReturnType<typeof knetVerdict>>;
          try {
            v = await knetVerdict(
              join(MATRIX_DIR, name),
              `pod/${f.probe.from}`,
              f.probe.target,
              f.probe.protocol === 'udp' ? 'UDP' : undefined,
            );
          } catch (err) {
            if (row) row.knetVerdict = `error: ${(err as Error).message.split('\n')[0]}`;
            throw err;
          }
          if (row) row.knetVerdict = `${v.verdict} [${v.findings.join(', ')}]`;
          expect(v.verdict).toBe(f.verdict);
          if (f.finding) expect(v.findings).toContain(f.finding);
        });
      }
    }
  });

  afterAll(() => {
    if (rows.length === 0) return;
    mkdirSync(MATRIX_DIR, { recursive: true });
    writeFileSync(join(MATRIX_DIR, `matrix-${mode}.json`), `${JSON.stringify(rows, null, 2)}\n`);
    writeMergedMatrix();
  });
}

/** matrix.json and matrix.md: the rows of both modes' last runs. */
function writeMergedMatrix(): void {
  const rows: MatrixRow[] = [];
  for (const mode of ['iptables', 'nftables'] as ProxyMode[]) {
    const file = join(MATRIX_DIR, `matrix-${mode}.json`);
    if (existsSync(file)) rows.push(...(JSON.parse(readFileSync(file, 'utf8')) as MatrixRow[]));
  }
  writeFileSync(join(MATRIX_DIR, 'matrix.json'), `${JSON.stringify(rows, null, 2)}\n`);
  const md = [
    '| overlay | kube-proxy | fault | probe | kernel (expected) | kernel (observed) | knet (expected) | finding | knet (observed) |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.overlay} | ${r.mode} | ${r.title} | ${r.probe} | ${r.expectedKernel.join(' or ')} | ${r.kernel} ` +
        `(${summariseMs(r.triesMs)}) | ${r.expectedVerdict} | ${r.expectedFinding} | ${r.knetVerdict} |`,
    ),
  ];
  writeFileSync(join(MATRIX_DIR, 'matrix.md'), `${md.join('\n')}\n`);
}

function summariseMs(ms: number[]): string {
  if (ms.length <= 3) return `${ms.join('/')} ms`;
  return `${ms.length} tries, ${Math.min(...ms)}–${Math.max(...ms)} ms`;
}

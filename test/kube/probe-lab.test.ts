// Predicted vs observed, for real (issue #21, part 2): the test API server serves the lab
// cluster, whose pods are real network namespaces made by the real CNI plugins. Its exec
// endpoint runs the probe command of a debug pod in that pod's node namespace (as a hostPID
// debug pod would run it on the node): the script finds the source pod's process through its
// cgroup, enters its network namespace with nsenter and makes the attempts there. For every
// fault of the lab (hostgw, kube-proxy iptables) the observation must be the kernel's, and the
// agreement what knet's verdict and the kernel say together; a rule added after the bundle was
// captured must give PROBE_DISAGREES. Root only: skipped with a message otherwise (a failure
// with KNET_REQUIRE_REAL=1). Namespaces: knl-PID-kpr-…, all removed.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Raw } from '../../src/model/normalize.js';
import { captureBundle } from '../lab/capture.js';
import { listNamespaces, runPrefix } from '../lab/exec.js';
import { FAULTS, type Fault, type FaultProbeResult, runFaultProbe } from '../lab/faults.js';
import { labCanRun } from '../lab/gate.js';
import { loadScenario } from '../lab/scenario.js';
import { buildLab, type Lab } from '../lab/topology.js';
import { type CliRun, cleanupTemp, runKnet, sharedPki, tempDir } from './helpers.js';
import { canEmulateNodes } from './netns.js';
import { type ExecHandler, startTestApiServer, type TestApiServer } from './server/apiserver.js';
import { loadBundleDir } from './server/bundle.js';
import { bundleExec } from './server/fake-node.js';

const SCENARIO = path.resolve(__dirname, '../lab/scenarios/basic.yaml');
const emulation = canEmulateNodes();
const canRun = labCanRun('probe through the test API server (lab)') && emulation.ok;
if (!emulation.ok) console.warn(`probe-lab.test.ts: skipped, ${emulation.why} (needs root and cgroups)`);

const cgroupBase = existsSync('/sys/fs/cgroup/pids/cgroup.procs') ? '/sys/fs/cgroup/pids' : '/sys/fs/cgroup';
/** The faults whose probe the lab makes over TCP or UDP with small packets (hostgw, iptables). */
const FAULT_CASES = FAULTS.filter(
  (f) => f.overlay === 'hostgw' && (f.modes ?? ['iptables']).includes('iptables') && !f.probe.big,
);
/** The lab's probe outcome as the probe's attempt outcome. */
const AS_ATTEMPT: Record<string, string> = {
  ok: 'connected',
  refused: 'refused',
  timeout: 'timeout',
  unreachable: 'unreachable',
  reset: 'reset',
  // The lab's probe got no answer to its data: the handshake passed, what follows did not.
  'no-reply': 'stalled',
};

describe.skipIf(!canRun)('trace --probe in the lab (real namespaces, real CNI plugins)', () => {
  const prefix = runPrefix('kpr');
  let lab: Lab;
  /** Source pod key → [its uid as served, the sleeper holding its namespace in a cgroup]. */
  const sources = new Map<string, { uid: string; proc: ChildProcess; cgroup: string }>();
  /** The probe's commands running now (killed when their exec session goes away). */
  const running = new Set<ChildProcess>();

  /** Exec: the collection from the captured bundle, the probe for real in the node's namespace. */
  const labExec =
    (nodeFiles: Record<string, Record<string, string>>): ExecHandler =>
    async (ctx, io) => {
      if (ctx.command[3] !== 'knet-probe') return bundleExec(nodeFiles)(ctx, io);
      const node = lab.node(String(ctx.pod.spec?.nodeName));
      const child = spawn('ip', ['netns', 'exec', node.ns, ...ctx.command], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      running.add(child);
      child.stdout.on('data', (d) => io.stdout(d));
      child.stderr.on('data', (d) => io.stderr(d));
      const watch = setInterval(() => io.closed() && child.kill('SIGKILL'), 50);
      try {
        return await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 137)));
      } finally {
        clearInterval(watch);
        running.delete(child);
      }
    };

  /** The bundle's objects as served: the source pods carry the uid of their cgroup. */
  function served(objects: Raw[]): Raw[] {
    return objects.map((o) => {
      const s = o.kind === 'Pod' ? sources.get(`${o.metadata.namespace}/${o.metadata.name}`) : undefined;
      return s ? { ...o, metadata: { ...o.metadata, uid: s.uid } } : o;
    });
  }

  async function serve(bundleDir: string): Promise<TestApiServer> {
    const b = loadBundleDir(bundleDir);
    return startTestApiServer({ objects: served(b.objects), pki: sharedPki(), exec: labExec(b.nodeFiles) });
  }

  const debugPods = (server: TestApiServer) =>
    server.objects('Pod').filter((p) => String(p.metadata.name).startsWith('knet-collect-'));

  function expectAllDeleted(server: TestApiServer): void {
    const created = server.requests.filter((r) => r.method === 'POST' && r.status === 201);
    const deleted = server.requests.filter((r) => r.method === 'DELETE');
    expect(debugPods(server)).toEqual([]);
    expect(deleted.length).toBe(created.length);
    expect(running.size).toBe(0);
  }

  beforeAll(async () => {
    lab = await buildLab(loadScenario(SCENARIO, { overlay: 'hostgw', proxyMode: 'iptables' }), prefix);
    // Each source pod gets a process in its namespace, in a cgroup named after its uid, as the
    // kubelet's containers are: that is how the probe finds the namespace on the node.
    for (const key of new Set(FAULT_CASES.map((f) => f.probe.from))) {
      const pod = lab.pod(key);
      const uid = randomUUID();
      const cgroup = `${cgroupBase}/${prefix}pod${uid}`;
      const proc = spawn('ip', ['netns', 'exec', pod.ns, 'sleep', '900'], { stdio: 'ignore' });
      mkdirSync(cgroup);
      writeFileSync(`${cgroup}/cgroup.procs`, String(proc.pid));
      sources.set(key, { uid, proc, cgroup });
    }
  }, 90_000);

  afterAll(() => {
    for (const s of sources.values()) {
      s.proc.kill('SIGKILL');
      for (let i = 0; i < 40 && existsSync(s.cgroup); i++) {
        try {
          rmdirSync(s.cgroup);
        } catch {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        }
      }
    }
    const failed = lab?.destroy() ?? [];
    expect(failed).toEqual([]);
    expect(listNamespaces(prefix)).toEqual([]);
    cleanupTemp();
  });

  const traceArgs = (f: Fault, count: number) => [
    'trace',
    `pod/${f.probe.from}`,
    f.probe.target,
    ...(f.probe.protocol === 'udp' ? ['--protocol', 'udp'] : []),
    '--collect-nodes',
    '--probe',
    '--probe-count',
    String(count),
    '--probe-timeout',
    '0.5s',
    '--json',
  ];

  it.each(FAULT_CASES.map((f) => [f.id, f] as [string, Fault]))(
    '%s: the probe sees what the kernel does, and agrees with a right verdict',
    async (_id, fault) => {
      const dir = path.join(tempDir('knet9-kpr-'), fault.id);
      let kernel: FaultProbeResult;
      let run: CliRun;
      let server: TestApiServer | undefined;
      const count = fault.probe.repeat ? 20 : 3;
      await fault.apply(lab);
      try {
        kernel = await runFaultProbe(lab, fault.probe);
        captureBundle(lab, dir);
        fault.afterCapture?.(dir);
        server = await serve(dir);
        run = await runKnet([...traceArgs(fault, count), '--kubeconfig', server.kubeconfig()]);
        expectAllDeleted(server);
      } finally {
        await fault.revert(lab);
        await server?.close();
      }
      const doc = JSON.parse(run.stdout);
      // The live trace (node files collected through the API) is the matrix's verdict.
      expect(doc.verdict, run.stderr).toBe(fault.verdict);
      const o = doc.observed;
      if (fault.probe.protocol === 'udp' && fault.probe.port !== 53) {
        expect(o.notProbed).toMatch(/^UDP port \d+ is not DNS: no reply is not a failure for UDP/);
        expect(doc.agreement.agrees).toBeNull();
        return;
      }
      expect(o.attempts).toBe(count);
      // The observation is the kernel's: every outcome one the lab's own probe got.
      const kernelOutcomes = new Set(kernel.tries.map((t) => AS_ATTEMPT[t.outcome] ?? t.outcome));
      if (kernel.outcome === 'mixed') {
        expect(o.succeeded).toBeGreaterThan(0);
        expect(o.succeeded).toBeLessThan(count);
      } else {
        for (const outcome of Object.keys(o.outcomes))
          expect([...kernelOutcomes, ...fault.kernel.map((k) => AS_ATTEMPT[k])], JSON.stringify(o)).toContain(
            outcome,
          );
        if (kernel.outcome === 'ok') expect(o.succeeded).toBe(count);
        else expect(o.succeeded).toBe(0);
      }
      // knet's verdict matches the kernel for every fault of the matrix: the probe agrees,
      // unless the verdict is unknown (nothing to compare).
      expect(doc.agreement.agrees, doc.agreement.reason).toBe(fault.verdict === 'unknown' ? null : true);
      expect(doc.findings.map((f: { code: string }) => f.code)).not.toContain('PROBE_DISAGREES');
    },
    90_000,
  );

  describe('a rule added after the bundle was captured', () => {
    const forwardDrop = FAULTS.find((f) => f.id === 'forward-drop') as Fault;
    let dir: string;
    let server: TestApiServer;

    beforeAll(async () => {
      dir = path.join(tempDir('knet9-kpr-'), 'baseline');
      captureBundle(lab, dir);
      server = await serve(dir);
    });
    afterAll(async () => {
      await server?.close();
    });

    it('predicted reachable from the bundle, observed timeouts: PROBE_DISAGREES', async () => {
      await forwardDrop.apply(lab);
      let json: CliRun;
      let table: CliRun;
      try {
        // The node files are the bundle's (captured before the rule): the prediction is stale.
        const args = [
          'trace',
          'pod/shop/client',
          'svc/shop/api:80',
          '--collect-nodes',
          '--probe',
          '--probe-count',
          '5',
          '--probe-timeout',
          '0.5s',
        ];
        json = await runKnet([...args, '--json', '--kubeconfig', server.kubeconfig()]);
        table = await runKnet([...args, '--kubeconfig', server.kubeconfig()]);
      } finally {
        await forwardDrop.revert(lab);
      }
      const doc = JSON.parse(json.stdout);
      expect(doc.verdict).toBe('reachable');
      expect(doc.observed).toMatchObject({
        attempts: 5,
        succeeded: 0,
        outcomes: { timeout: 5 },
        rttMs: null,
      });
      expect(doc.agreement).toMatchObject({ agrees: false, predicted: 'reachable' });
      const f = doc.findings.find((x: { code: string }) => x.code === 'PROBE_DISAGREES');
      expect(f.message).toBe(
        'The probe disagrees with the trace: predicted reachable, but 5 of 5 attempts failed (5 timeout).',
      );
      expect(f.evidence[0]).toBe('predicted: reachable');
      expect(f.hint).toMatch(/collected just before the probe/);
      const lines = table.stdout.split('\n');
      const v = lines.findIndex((l) => l.startsWith('Verdict: REACHABLE'));
      expect(lines[v + 1]).toBe(
        'observed: 0/5 connected, 5 timeout — DISAGREES (predicted reachable, but 5 of 5 attempts failed (5 timeout))',
      );
      expectAllDeleted(server);
    }, 60_000);

    it('and with the rule gone, the same trace agrees, with the RTT', async () => {
      const r = await runKnet([
        'trace',
        'pod/shop/client',
        'svc/shop/api:80',
        '--probe',
        '--collect-nodes',
        '--kubeconfig',
        server.kubeconfig(),
      ]);
      const lines = r.stdout.split('\n');
      const v = lines.findIndex((l) => l.startsWith('Verdict: REACHABLE'));
      expect(lines[v + 1]).toMatch(/^observed: 10\/10 connected, median \d+(\.\d)? ms — agrees$/);
      expect(r.code).toBe(0);
      expectAllDeleted(server);
    }, 60_000);

    it('a probe that fails on the node (the pod has no process there): said, pods deleted', async () => {
      // web-2 has no process in a cgroup of its uid: the script cannot find its namespace.
      const r = await runKnet([
        'trace',
        'pod/shop/web-2',
        'svc/shop/api:80',
        '--probe',
        '--json',
        '--kubeconfig',
        server.kubeconfig(),
      ]);
      const doc = JSON.parse(r.stdout);
      expect(doc.observed.notProbed).toMatch(/no process of pod uid [\w-]+ on this node/);
      expect(doc.agreement.agrees).toBeNull();
      expectAllDeleted(server);
    }, 60_000);

    it('SIGINT while the attempts run: the debug pod is deleted, exit 130', async () => {
      await forwardDrop.apply(lab);
      try {
        const child = spawn(
          process.execPath,
          [
            path.resolve(__dirname, '../../bin/knet'),
            ...[
              'trace',
              'pod/shop/client',
              'svc/shop/api:80',
              '--probe',
              '--probe-count',
              '10',
              '--probe-timeout',
              '20s',
            ],
            '--kubeconfig',
            server.kubeconfig(),
          ],
          { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let stderr = '';
        child.stderr.on('data', (d) => {
          stderr += d;
        });
        try {
          const end = Date.now() + 20_000;
          while (running.size === 0) {
            if (Date.now() > end) throw new Error(`the probe did not start: ${stderr}`);
            await new Promise((r) => setTimeout(r, 20));
          }
          await new Promise((r) => setTimeout(r, 200));
          child.kill('SIGINT');
          const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
          expect(code).toBe(130);
          expect(stderr).toMatch(/interrupted: deleted the debug pods knet-collect-\w+/);
        } finally {
          child.kill('SIGKILL');
        }
        // The probe's own processes end with their session.
        const end = Date.now() + 5000;
        while (running.size > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
        expectAllDeleted(server);
      } finally {
        await forwardDrop.revert(lab);
      }
    }, 60_000);
  });
});

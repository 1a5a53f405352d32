// Predicted vs observed, for real (issue #21, part 2): the test API server serves the lab
// cluster, whose pods are real network namespaces made by the real CNI plugins. Its exec
// endpoint runs the probe command of a debug pod in that pod's node namespace (as a hostPID
// debug pod would run it on the node): the script finds the source pod's process through its
// cgroup, enters its network namespace with nsenter and makes the attempts there. For every
// fault of the lab (kube-proxy iptables; a hostgw lab, then a vxlan lab) the observation must be
// the kernel's, and the agreement what knet's verdict and the kernel say together; a fault that
// drops full-size packets only (an MTU mismatch) is one a probe of small packets cannot see, and
// says so; a rule added after the bundle was captured must give PROBE_DISAGREES. Root only:
// skipped with a message otherwise (a failure with KNET_REQUIRE_REAL=1). Namespaces:
// knl-PID-kpr-… (hostgw) and knl-PID-kpv-… (vxlan), all removed.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Raw } from '../../src/model/normalize.js';
import { captureBundle } from '../lab/capture.js';
import { listNamespaces, runPrefix } from '../lab/exec.js';
import {
  FAULTS,
  type Fault,
  type FaultProbe,
  type FaultProbeResult,
  faultModes,
  runFaultProbe,
} from '../lab/faults.js';
import { labCanRun } from '../lab/gate.js';
import { loadScenario, type Overlay } from '../lab/scenario.js';
import { buildLab, type Lab } from '../lab/topology.js';
import { type CliRun, cleanupTemp, interruptKnet, runKnet, sharedPki, tempDir } from './helpers.js';
import { canEmulateNodes } from './netns.js';
import { type ExecHandler, startTestApiServer, type TestApiServer } from './server/apiserver.js';
import { loadBundleDir } from './server/bundle.js';
import { bundleExec } from './server/fake-node.js';

const SCENARIO = path.resolve(__dirname, '../lab/scenarios/basic.yaml');
const emulation = canEmulateNodes();
// The probe program is Python (as in the debug image): here it runs on this machine.
const python = spawnSync('python3', ['-c', 'import socket; socket.TCP_INFO']).status === 0;
const canRun = labCanRun('probe through the test API server (lab)') && emulation.ok && python;
if (!emulation.ok) console.warn(`probe-lab.test.ts: skipped, ${emulation.why} (needs root and cgroups)`);
if (!python)
  console.warn('probe-lab.test.ts: skipped, python3 is not installed (the probe program needs it)');

const cgroupBase = existsSync('/sys/fs/cgroup/pids/cgroup.procs') ? '/sys/fs/cgroup/pids' : '/sys/fs/cgroup';
/** Every fault of the lab with kube-proxy in iptables mode, by overlay. */
const faultsOf = (overlay: Overlay) =>
  FAULTS.filter((f) => f.overlay === overlay && faultModes(f).includes('iptables'));
/** The faults whose probe the lab makes with small packets, as knet's probe does. */
const smallPacketCases = (overlay: Overlay) => faultsOf(overlay).filter((f) => !f.probe.big);
/** The faults that only full-size packets show (an MTU mismatch): knet's probe cannot see them. */
const bigPacketCases = (overlay: Overlay) => faultsOf(overlay).filter((f) => f.probe.big);
const RESOLV_CONF =
  'search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 127.0.0.53\noptions ndots:5\n';
/**
 * A DNS server on 127.0.0.53 in the client's namespace: api.shop.svc.cluster.local is the api
 * Service's address (10.96.0.11, as the cluster DNS would say); web.shop.svc.cluster.local is
 * a wrong one (192.0.2.80, a stale record); every other name is NXDOMAIN.
 */
const DNS_RESPONDER = `
import dgram from 'node:dgram';
import { createRequire } from 'node:module';
const packet = createRequire(${JSON.stringify(path.resolve(__dirname, '../../package.json'))})('dns-packet');
const A = { 'api.shop.svc.cluster.local': '10.96.0.11', 'web.shop.svc.cluster.local': '192.0.2.80' };
const sock = dgram.createSocket('udp4');
sock.on('message', (msg, rinfo) => {
  const q = packet.decode(msg);
  const name = q.questions[0].name.toLowerCase();
  const ip = q.questions[0].type === 'A' ? A[name] : undefined;
  const answer = packet.encode({
    id: q.id, type: 'response', flags: packet.RECURSION_DESIRED | (A[name] ? 0 : 3),
    questions: q.questions,
    answers: ip ? [{ name, type: 'A', ttl: 5, data: ip }] : [],
  });
  sock.send(answer, rinfo.port, rinfo.address);
});
sock.bind(53, '127.0.0.53', () => process.stdout.write('ready\\n'));
setTimeout(() => process.exit(0), 900_000).unref();
`;

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

/** A lab cluster of one overlay (kube-proxy iptables) whose bundles the test API server serves. */
class ProbeLab {
  lab!: Lab;
  /** Source pod key → [its uid as served, the sleeper holding its namespace in a cgroup]. */
  readonly sources = new Map<string, { uid: string; proc: ChildProcess; cgroup: string }>();
  /** The probe's commands running now (killed when their exec session goes away). */
  readonly running = new Set<ChildProcess>();

  constructor(
    readonly overlay: Overlay,
    readonly prefix: string,
  ) {}

  /** `prepare`: what the source pods' processes must find when they start (their /etc/netns files). */
  async build(prepare?: (lab: Lab) => void): Promise<void> {
    this.lab = await buildLab(
      loadScenario(SCENARIO, { overlay: this.overlay, proxyMode: 'iptables' }),
      this.prefix,
    );
    prepare?.(this.lab);
    // Each source pod gets a process in its namespace, in a cgroup named after its uid, as the
    // kubelet's containers are: that is how the probe finds the namespace on the node.
    for (const key of new Set(faultsOf(this.overlay).map((f) => f.probe.from))) {
      const pod = this.lab.pod(key);
      const uid = randomUUID();
      const cgroup = `${cgroupBase}/${this.prefix}pod${uid}`;
      const proc = spawn('ip', ['netns', 'exec', pod.ns, 'sleep', '900'], { stdio: 'ignore' });
      mkdirSync(cgroup);
      writeFileSync(`${cgroup}/cgroup.procs`, String(proc.pid));
      this.sources.set(key, { uid, proc, cgroup });
    }
  }

  /** Removes the sleepers, their cgroups and the lab's namespaces: nothing may remain. */
  destroy(): void {
    for (const s of this.sources.values()) {
      s.proc.kill('SIGKILL');
      for (let i = 0; i < 40 && existsSync(s.cgroup); i++) {
        try {
          rmdirSync(s.cgroup);
        } catch {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        }
      }
    }
    const failed = this.lab?.destroy() ?? [];
    expect(failed).toEqual([]);
    expect(listNamespaces(this.prefix)).toEqual([]);
  }

  /** Exec: the collection from the captured bundle, the probe for real in the node's namespace. */
  private exec =
    (nodeFiles: Record<string, Record<string, string>>): ExecHandler =>
    async (ctx, io) => {
      if (ctx.command[3] !== 'knet-probe') return bundleExec(nodeFiles)(ctx, io);
      // A debug pod runs on its node; an ephemeral container (--probe-mode ephemeral) is in
      // the pod's own namespace.
      const ns = ctx.container.startsWith('knet-probe-')
        ? this.lab.pod(`${ctx.namespace}/${ctx.pod.metadata.name}`).ns
        : this.lab.node(String(ctx.pod.spec?.nodeName)).ns;
      const child = spawn('ip', ['netns', 'exec', ns, ...ctx.command], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      this.running.add(child);
      child.stdout.on('data', (d) => io.stdout(d));
      child.stderr.on('data', (d) => io.stderr(d));
      const watch = setInterval(() => io.closed() && child.kill('SIGKILL'), 50);
      try {
        return await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 137)));
      } finally {
        clearInterval(watch);
        this.running.delete(child);
      }
    };

  /** The bundle's objects as served: the source pods carry the uid of their cgroup. */
  private served(objects: Raw[]): Raw[] {
    return objects.map((o) => {
      const s = o.kind === 'Pod' ? this.sources.get(`${o.metadata.namespace}/${o.metadata.name}`) : undefined;
      return s ? { ...o, metadata: { ...o.metadata, uid: s.uid } } : o;
    });
  }

  async serve(bundleDir: string): Promise<TestApiServer> {
    const b = loadBundleDir(bundleDir);
    return startTestApiServer({
      objects: this.served(b.objects),
      pki: sharedPki(),
      exec: this.exec(b.nodeFiles),
    });
  }

  /** Every debug pod the run created is deleted, and no probe command is left running. */
  expectAllDeleted(server: TestApiServer): void {
    const created = server.requests.filter((r) => r.method === 'POST' && r.status === 201);
    const deleted = server.requests.filter((r) => r.method === 'DELETE');
    expect(debugPods(server)).toEqual([]);
    expect(deleted.length).toBe(created.length);
    expect(this.running.size).toBe(0);
  }

  /**
   * With the fault in place: the kernel's outcome of each probe (the lab's own), a bundle
   * captured, and knet's trace --probe of the fault's path through the test API server (--json;
   * `withTable`: the table too).
   */
  async traceUnderFault(
    fault: Fault,
    count: number,
    kernelProbes: FaultProbe[],
    withTable = false,
  ): Promise<{ kernel: FaultProbeResult[]; run: CliRun; table?: CliRun }> {
    const dir = path.join(tempDir('knet9-kpr-'), fault.id);
    const kernel: FaultProbeResult[] = [];
    let run: CliRun;
    let table: CliRun | undefined;
    let server: TestApiServer | undefined;
    await fault.apply(this.lab);
    try {
      for (const p of kernelProbes) kernel.push(await runFaultProbe(this.lab, p));
      captureBundle(this.lab, dir);
      fault.afterCapture?.(dir);
      server = await this.serve(dir);
      const args = traceArgs(fault, count);
      run = await knetAt(server, args);
      if (withTable)
        table = await knetAt(
          server,
          args.filter((a) => a !== '--json'),
        );
      this.expectAllDeleted(server);
    } finally {
      await fault.revert(this.lab);
      await server?.close();
    }
    return { kernel, run, table };
  }
}

/** knet run against a test API server (its kubeconfig appended to `args`). */
const knetAt = (server: TestApiServer, args: string[]): Promise<CliRun> =>
  runKnet([...args, '--kubeconfig', server.kubeconfig()]);

const debugPods = (server: TestApiServer) =>
  server.objects('Pod').filter((p) => String(p.metadata.name).startsWith('knet-collect-'));

/** A ProbeLab for the tests of a describe block: built before them, removed after them. */
function useProbeLab(overlay: Overlay, tag: string, prepare?: (lab: Lab) => void): ProbeLab {
  const pl = new ProbeLab(overlay, runPrefix(tag));
  beforeAll(() => pl.build(prepare), 90_000);
  afterAll(() => pl.destroy());
  return pl;
}

/** A server of a bundle captured when the block starts, for the tests of a describe block. */
function baselineServer(pl: ProbeLab, tag: string): () => TestApiServer {
  let server: TestApiServer | undefined;
  beforeAll(async () => {
    const dir = path.join(tempDir('knet9-kpr-'), tag);
    captureBundle(pl.lab, dir);
    server = await pl.serve(dir);
  });
  afterAll(async () => {
    await server?.close();
  });
  return () => server as TestApiServer;
}

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

/** Each small-packet fault of the lab: the probe sees what the kernel does, and agrees with a right verdict. */
function defineFaultCases(pl: ProbeLab): void {
  it.each(smallPacketCases(pl.overlay).map((f) => [f.id, f] as [string, Fault]))(
    '%s: the probe sees what the kernel does, and agrees with a right verdict',
    async (_id, fault) => {
      const count = fault.probe.repeat ? 20 : 3;
      const {
        kernel: [kernel],
        run,
      } = await pl.traceUnderFault(fault, count, [fault.probe]);
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
}

describe.skipIf(!canRun)('trace --probe in the lab (real namespaces, real CNI plugins)', () => {
  afterAll(() => cleanupTemp());

  describe('hostgw overlay', () => {
    // The client's resolver (as kubelet would mount it), in place before its process starts:
    // its nameserver is a DNS responder on the pod's own loopback, which knows two names
    // (DNS_RESPONDER above).
    const pl = useProbeLab('hostgw', 'kpr', (lab) => {
      const client = lab.pod('shop/client');
      mkdirSync(`/etc/netns/${client.ns}`, { recursive: true });
      writeFileSync(`/etc/netns/${client.ns}/resolv.conf`, RESOLV_CONF);
    });
    let responder: ChildProcess | undefined;

    beforeAll(async () => {
      responder = spawn(
        'ip',
        [
          'netns',
          'exec',
          pl.lab.pod('shop/client').ns,
          process.execPath,
          '--input-type=module',
          '-e',
          DNS_RESPONDER,
        ],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      await new Promise<void>((resolve, reject) => {
        responder?.stdout?.on('data', (d) => String(d).includes('ready') && resolve());
        responder?.on('exit', (code) => reject(new Error(`the DNS responder exited (${code})`)));
      });
    });

    afterAll(() => {
      responder?.kill('SIGKILL');
      if (!pl.lab) return;
      rmSync(`/etc/netns/${pl.lab.pod('shop/client').ns}`, { recursive: true, force: true });
      try {
        rmdirSync('/etc/netns');
      } catch {
        // another namespace's files are there
      }
    });

    defineFaultCases(pl);

    describe('UDP and DNS', () => {
      const server = baselineServer(pl, 'dns');

      it('UDP port 53: a DNS query per attempt; the echo server’s answer is a reply', async () => {
        const r = await knetAt(server(), [
          ...[
            'trace',
            'pod/shop/client',
            'svc/shop/echo:53',
            '--protocol',
            'udp',
            '--collect-nodes',
            '--probe',
          ],
          ...['--probe-count', '4', '--json'],
        ]);
        const doc = JSON.parse(r.stdout);
        expect(doc.verdict).toBe('reachable');
        expect(doc.observed).toMatchObject({
          method:
            "DNS query (A kubernetes.default.svc.cluster.local) to 10.96.0.12:53/UDP from pod/shop/client's network namespace",
          attempts: 4,
          succeeded: 4,
        });
        expect(doc.agreement.agrees).toBe(true);
        pl.expectAllDeleted(server());
      }, 60_000);

      it('dns --probe: the pod’s own resolver, search path included, agrees with knet', async () => {
        const r = await knetAt(server(), ['dns', 'api', '--from', 'pod/shop/client', '--probe', '--json']);
        const doc = JSON.parse(r.stdout);
        expect(doc.resolvedName).toBe('api.shop.svc.cluster.local');
        expect(doc.observed.resolvConf).toBe(RESOLV_CONF);
        // ndots:5: the search path first; the first candidate answers.
        expect(doc.observed.resolutions).toEqual([
          {
            queries: [
              {
                name: 'api.shop.svc.cluster.local',
                server: '127.0.0.53',
                rcode: 'NOERROR',
                outcome: 'connected',
                addresses: ['10.96.0.11'],
                ms: expect.any(Number),
              },
            ],
            addresses: ['10.96.0.11'],
          },
        ]);
        expect(doc.agreement).toEqual({
          agrees: true,
          reason: 'resolved as expected: 10.96.0.11 (from api.shop.svc.cluster.local)',
        });
        pl.expectAllDeleted(server());
      }, 60_000);

      it('dns --probe: a stale record the pod gets is PROBE_DISAGREES', async () => {
        const r = await knetAt(server(), ['dns', 'web', '--from', 'pod/shop/client', '--probe']);
        expect(r.stdout).toMatch(
          /^observed: 0\/1 resolution from pod\/shop\/client as expected — DISAGREES \(expected 10\.96\.0\.\d+ \(from web\.shop\.svc\.cluster\.local\), the pod's resolver got 192\.0\.2\.80 \(from web\.shop\.svc\.cluster\.local\)\)$/m,
        );
        expect(r.stdout).toMatch(/WARNING PROBE_DISAGREES +The pod's own resolver disagrees with knet/);
        expect(r.stdout).toContain('evidence: web.shop.svc.cluster.local → 127.0.0.53: NOERROR 192.0.2.80');
        // A name the cluster does not have: every candidate of the search path, then the name.
        const nx = await knetAt(server(), [
          'dns',
          'nothere',
          '--from',
          'pod/shop/client',
          '--probe',
          '--json',
        ]);
        const queries = JSON.parse(nx.stdout).observed.resolutions[0].queries.map(
          (q: { name: string; rcode: string }) => `${q.name} ${q.rcode}`,
        );
        expect(queries).toEqual([
          'nothere.shop.svc.cluster.local NXDOMAIN',
          'nothere.svc.cluster.local NXDOMAIN',
          'nothere.cluster.local NXDOMAIN',
          'nothere NXDOMAIN',
        ]);
        expect(JSON.parse(nx.stdout).agreement.agrees).toBe(true);
        pl.expectAllDeleted(server());
      }, 60_000);
    });

    describe('a rule added after the bundle was captured', () => {
      const forwardDrop = FAULTS.find((f) => f.id === 'forward-drop') as Fault;
      const server = baselineServer(pl, 'baseline');

      it('predicted reachable from the bundle, observed timeouts: PROBE_DISAGREES', async () => {
        await forwardDrop.apply(pl.lab);
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
          json = await knetAt(server(), [...args, '--json']);
          table = await knetAt(server(), args);
        } finally {
          await forwardDrop.revert(pl.lab);
        }
        const doc = JSON.parse(json.stdout);
        expect(doc.verdict).toBe('reachable');
        // the kernel dropped what knet predicted reachable: not an OK
        expect(json.code).toBe(1);
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
        expect(f.id).toMatch(/^PROBE_DISAGREES-[0-9a-f]{10}$/);
        expect(f.hint).toMatch(/collected just before the probe/);
        const lines = table.stdout.split('\n');
        const v = lines.findIndex((l) => l.startsWith('Verdict: REACHABLE'));
        expect(lines[v + 1]).toBe(
          'observed: 0/5 connected, 5 timeout — DISAGREES (predicted reachable, but 5 of 5 attempts failed (5 timeout))',
        );
        pl.expectAllDeleted(server());
      }, 60_000);

      it('and with the rule gone, the same trace agrees, with the RTT', async () => {
        const r = await knetAt(server(), [
          'trace',
          'pod/shop/client',
          'svc/shop/api:80',
          '--probe',
          '--collect-nodes',
        ]);
        const lines = r.stdout.split('\n');
        const v = lines.findIndex((l) => l.startsWith('Verdict: REACHABLE'));
        expect(lines[v + 1]).toMatch(/^observed: 10\/10 connected, median \d+(\.\d)? ms — agrees$/);
        expect(r.code).toBe(0);
        pl.expectAllDeleted(server());
      }, 60_000);

      it('--probe-mode ephemeral: an ephemeral container in the source pod, no privileged pod', async () => {
        const r = await knetAt(server(), [
          ...[
            'trace',
            'pod/shop/client',
            'svc/shop/api:80',
            '--probe',
            '--probe-mode',
            'ephemeral',
            '--probe-count',
            '5',
          ],
          ...['--collect-nodes', '--json'],
        ]);
        const doc = JSON.parse(r.stdout);
        expect(doc.observed).toMatchObject({ attempts: 5, succeeded: 5 });
        expect(doc.agreement.agrees).toBe(true);
        const patch = server().requests.filter((x) => x.method === 'PATCH');
        expect(patch.map((x) => x.path)).toEqual(['/api/v1/namespaces/shop/pods/client/ephemeralcontainers']);
        expect(r.stderr).toMatch(
          /an ephemeral container in each source pod: it stops by itself and stays in the pod spec/,
        );
        // The debug pods of --collect-nodes only, all deleted.
        pl.expectAllDeleted(server());
      }, 60_000);

      it('a probe that fails on the node (the pod has no process there): said, pods deleted', async () => {
        // web-2 has no process in a cgroup of its uid: the script cannot find its namespace.
        const r = await knetAt(server(), ['trace', 'pod/shop/web-2', 'svc/shop/api:80', '--probe', '--json']);
        const doc = JSON.parse(r.stdout);
        expect(doc.observed.notProbed).toMatch(/no process of pod uid [\w-]+ on this node/);
        expect(doc.agreement.agrees).toBeNull();
        pl.expectAllDeleted(server());
      }, 60_000);

      it('SIGINT while the attempts run: the debug pod is deleted, exit 130', async () => {
        await forwardDrop.apply(pl.lab);
        try {
          const args = ['trace', 'pod/shop/client', 'svc/shop/api:80', '--probe', '--probe-timeout', '20s'];
          const r = await interruptKnet(
            [...args, '--kubeconfig', server().kubeconfig()],
            () => pl.running.size > 0,
          );
          expect(r.code).toBe(130);
          expect(r.stderr).toMatch(/interrupted: deleted the debug pods knet-collect-\w+/);
          // The probe's own processes end with their session.
          const end = Date.now() + 5000;
          while (pl.running.size > 0 && Date.now() < end) await new Promise((done) => setTimeout(done, 20));
          pl.expectAllDeleted(server());
        } finally {
          await forwardDrop.revert(pl.lab);
        }
      }, 60_000);
    });
  });

  describe('vxlan overlay', () => {
    const pl = useProbeLab('vxlan', 'kpv');

    defineFaultCases(pl);

    // A fault that drops full-size packets only: knet's probe (a TCP connect, a DNS query)
    // sends small packets, which pass. The kernel is asked both ways: its full-size packet
    // shows the fault, its small one is the truth the probe must observe. knet predicts
    // partial from the node files (MTU_MISMATCH) and says the probe cannot compare with that.
    it.each(bigPacketCases('vxlan').map((f) => [f.id, f] as [string, Fault]))(
      '%s: small packets pass, the probe connects; knet says a probe cannot see the fault',
      async (_id, fault) => {
        const count = 3;
        const {
          kernel: [big, small],
          run,
          table,
        } = await pl.traceUnderFault(fault, count, [fault.probe, { ...fault.probe, big: false }], true);
        expect(fault.kernel, `full-size packet: ${JSON.stringify(big)}`).toContain(big.outcome);
        expect(small.outcome, `small packet: ${JSON.stringify(small)}`).toBe('ok');
        const doc = JSON.parse(run.stdout);
        expect(doc.verdict, run.stderr).toBe(fault.verdict);
        const codes = doc.findings.map((f: { code: string }) => f.code);
        expect(codes).toContain(fault.finding);
        expect(doc.observed).toMatchObject({
          attempts: count,
          succeeded: count,
          outcomes: { connected: count },
        });
        expect(doc.agreement).toEqual({
          agrees: null,
          predicted: 'partial',
          reason: `the probe sends small packets only, which pass an MTU mismatch (MTU_MISMATCH: full-size packets are dropped); all ${count} attempts connected, as small packets should`,
        });
        expect(codes).not.toContain('PROBE_DISAGREES');
        // The table says it under the verdict, and exits 1 (partial) as without --probe.
        const lines = String(table?.stdout).split('\n');
        const v = lines.findIndex((l) => l.startsWith('Verdict: PARTIAL'));
        expect(lines[v + 1]).toMatch(
          new RegExp(
            `^observed: ${count}/${count} connected, median [\\d.]+ ms — nothing to compare \\(the probe sends small packets only, `,
          ),
        );
        expect(table?.code).toBe(run.code);
      },
      90_000,
    );
  });
});

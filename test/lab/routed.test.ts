// The routed lab (issue #17): the scenario's pods made by the real `ptp` CNI plugin instead of
// `bridge` — per pod a veth with the gateway address on its host side and a /32 host route to
// the pod, no bridge — with host-gw routes between the nodes and kube-proxy in iptables mode.
// A healthy path and two faults of the per-pod routes (toward a pod of another node, and toward
// a pod of the client's own node); for each the kernel's outcome (real traffic) and knet's
// verdict on the bundle captured meanwhile (.knet-tmp/lab/routed-ID/; observed outcomes:
// .knet-tmp/lab/routed.json).
// Needs root and /usr/lib/cni/ptp; skips with a message otherwise (fails with KNET_REQUIRE_REAL=1).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIpAddr, parseIpLink, parseIpRoute } from '../../src/parsers/iproute2.js';
import { captureBundle } from './capture.js';
import { ipn, listNamespaces, runPrefix } from './exec.js';
import type { FaultOutcome, FaultProbe, TraceVerdict } from './faults.js';
import { runFaultProbe } from './faults.js';
import { labCanRun } from './gate.js';
import { describeProbe, MATRIX_DIR } from './matrix.js';
import { loadScenario } from './scenario.js';
import { buildLab, CNI_CONFLIST, type Lab, reapStaleLabs } from './topology.js';

const SCENARIO = fileURLToPath(new URL('./scenarios/basic.yaml', import.meta.url));

const CLIENT = 'shop/client';
const API_POD = 'shop/api-1';
const API_IP = '10.244.2.13';
/** Another pod of node-2: the wrong next hop points at its veth. */
const OTHER_POD = 'shop/web-2';
const viaApiService: FaultProbe = { from: CLIENT, host: '10.96.0.11', port: 80, target: 'svc/shop/api:80' };
const LOCAL_POD = 'shop/web-1';
const LOCAL_IP = '10.244.1.11';
/**
 * Why knet misjudges a broken per-pod route to a pod of the source's own node (docs/lab.md): it
 * takes a pod-to-pod path on one node for one switched by a bridge (trace.ts, `switched`), so
 * the node's per-pod route is never looked up; and podBridge() (hops.ts) takes a ptp host veth,
 * which holds the gateway 10.244.1.1/32, for the pod bridge, hence VETH_NOT_ON_BRIDGE (the
 * verdict, unreachable, is right by accident).
 */
/** A pod on the client's own node: routed by node-1 too (no bridge to switch it). */
const viaLocalPod: FaultProbe = {
  from: CLIENT,
  host: LOCAL_IP,
  port: 8080,
  target: 'pod/shop/web-1:8080',
};
/** Every path that must work before and after each case. */
const BASELINE: FaultProbe[] = [
  viaApiService,
  viaLocalPod,
  { from: CLIENT, host: API_IP, port: 9090, target: 'pod/shop/api-1:9090' },
  // api-1 through its own Service: DNATed by node-2 and sent back out of the veth it came in by.
  { from: API_POD, host: '10.96.0.11', port: 80, target: 'svc/shop/api:80' },
  // edge-1's hostPort, set up by portmap chained after ptp.
  { from: CLIENT, host: '172.18.0.12', port: 18443, target: 'ip/172.18.0.12:18443' },
];

interface RoutedCheck {
  probe: FaultProbe;
  kernel: FaultOutcome[];
  verdict: TraceVerdict;
  finding?: string;
}

interface RoutedCase {
  id: string;
  title: string;
  checks: RoutedCheck[];
  apply?(lab: Lab): void;
  revert?(lab: Lab): void;
  /** Throws unless the captured bundle shows the change. */
  evidence?(bundle: string): void;
}

const nodeRoutes = (bundle: string, node: string) =>
  parseIpRoute(readFileSync(join(bundle, 'nodes', node, 'ip-route.json'), 'utf8'), 'ip-route.json');
const hostRoute = (bundle: string, node: string, ip: string) =>
  nodeRoutes(bundle, node).find((r) => r.table === 'main' && (r.dst === ip || r.dst === `${ip}/32`));

/** The host veth of a pod, from the bundle: the node's link whose ifindex the pod's eth0 names. */
function podPeerVeth(bundle: string, node: string, podDir: string, ip: string): string | undefined {
  const dir = join(bundle, 'nodes', node);
  const eth0 = parseIpAddr(
    readFileSync(join(dir, 'pods', podDir, 'ip-addr.json'), 'utf8'),
    'ip-addr.json',
  ).find((i) => i.addresses.some((a) => a.local === ip));
  const links = parseIpLink(readFileSync(join(dir, 'ip-link.json'), 'utf8'), 'ip-link.json');
  return links.find((l) => l.ifindex === eth0?.linkIndex)?.ifname;
}

/** The /32 host route to the pod, as ptp writes it (scope host, to its host veth). */
const restoreHostRoute = (lab: Lab, key: string) => {
  const pod = lab.pod(key);
  ipn(pod.node.ns, ['route', 'replace', `${pod.ip}/32`, 'dev', pod.hostVeth, 'scope', 'host']);
};

const CASES: RoutedCase[] = [
  {
    id: 'healthy',
    title: 'healthy: nothing changed',
    checks: [
      { probe: viaApiService, kernel: ['ok'], verdict: 'reachable' },
      { probe: viaLocalPod, kernel: ['ok'], verdict: 'reachable' },
    ],
  },
  {
    id: 'pod-route-missing',
    title: 'the per-pod route to api-1 deleted on node-2 (only the default route to the underlay matches)',
    checks: [
      {
        probe: viaApiService,
        // node-2 forwards the SYN to its default router, which drops it silently.
        kernel: ['timeout', 'unreachable'],
        verdict: 'unreachable',
        finding: 'ROUTE_MISSING',
      },
    ],
    apply: (lab) => {
      ipn(lab.pod(API_POD).node.ns, ['route', 'del', `${API_IP}/32`]);
    },
    revert: (lab) => restoreHostRoute(lab, API_POD),
    evidence: (b) => {
      if (hostRoute(b, 'node-2', API_IP)) throw new Error(`node-2 still has a route to ${API_IP}`);
    },
  },
  {
    id: 'pod-route-wrong-veth',
    title: "node-2's /32 to api-1 pointed at web-2's veth",
    checks: [
      {
        probe: viaApiService,
        // The SYN goes into web-2's veth: ARP for api-1's address there goes unanswered.
        kernel: ['timeout', 'no-reply', 'unreachable'],
        verdict: 'unreachable',
        finding: 'ROUTE_WRONG_NEXT_HOP',
      },
    ],
    apply: (lab) => {
      const other = lab.pod(OTHER_POD);
      ipn(other.node.ns, ['route', 'replace', `${API_IP}/32`, 'dev', other.hostVeth, 'scope', 'host']);
    },
    revert: (lab) => {
      restoreHostRoute(lab, API_POD);
      // The failed neighbour entry on web-2's veth (harmless, but not part of the baseline).
      const other = lab.pod(OTHER_POD);
      ipn(other.node.ns, ['neigh', 'flush', 'dev', other.hostVeth, 'to', API_IP]);
    },
    evidence: (b) => {
      const r = hostRoute(b, 'node-2', API_IP);
      const wanted = podPeerVeth(b, 'node-2', 'shop_api-1', API_IP);
      const other = podPeerVeth(b, 'node-2', 'shop_web-2', '10.244.2.11');
      if (!wanted || !other || r?.dev !== other)
        throw new Error(`node-2 routes ${API_IP} to ${r?.dev}, not to web-2's ${other} (api-1: ${wanted})`);
    },
  },
  // The same two faults for a pod of the client's own node: with a routed CNI the node routes
  // pod-to-pod traffic on one node too (there is no bridge to switch it).
  {
    id: 'local-pod-route-missing',
    title: "the per-pod route to web-1 deleted on node-1 (the client's own node)",
    checks: [
      {
        probe: viaLocalPod,
        kernel: ['timeout', 'unreachable'],
        verdict: 'unreachable',
        finding: 'ROUTE_MISSING',
      },
    ],
    apply: (lab) => {
      ipn(lab.pod(LOCAL_POD).node.ns, ['route', 'del', `${LOCAL_IP}/32`]);
    },
    revert: (lab) => restoreHostRoute(lab, LOCAL_POD),
    evidence: (b) => {
      if (hostRoute(b, 'node-1', LOCAL_IP)) throw new Error(`node-1 still has a route to ${LOCAL_IP}`);
    },
  },
  {
    id: 'local-pod-route-wrong-veth',
    title: "node-1's /32 to web-1 pointed at the client's own veth",
    checks: [
      {
        probe: viaLocalPod,
        // The SYN goes back into the client's veth: nothing there answers ARP for web-1.
        kernel: ['timeout', 'no-reply', 'unreachable'],
        verdict: 'unreachable',
        finding: 'ROUTE_WRONG_NEXT_HOP',
      },
    ],
    apply: (lab) => {
      const client = lab.pod(CLIENT);
      ipn(client.node.ns, ['route', 'replace', `${LOCAL_IP}/32`, 'dev', client.hostVeth, 'scope', 'host']);
    },
    revert: (lab) => {
      restoreHostRoute(lab, LOCAL_POD);
      const client = lab.pod(CLIENT);
      ipn(client.node.ns, ['neigh', 'flush', 'dev', client.hostVeth, 'to', LOCAL_IP]);
    },
    evidence: (b) => {
      const r = hostRoute(b, 'node-1', LOCAL_IP);
      const client = podPeerVeth(b, 'node-1', 'shop_client', '10.244.1.10');
      if (!client || r?.dev !== client)
        throw new Error(`node-1 routes ${LOCAL_IP} to ${r?.dev}, not to the client's ${client}`);
    },
  },
];

const bundleOf = (c: RoutedCase) => join(MATRIX_DIR, `routed-${c.id}`);

const canRun = labCanRun('routed lab (ptp)', ['ptp']);

describe.skipIf(!canRun)('routed lab (ptp CNI, host-gw, kube-proxy iptables)', () => {
  const prefix = runPrefix('r');
  let lab: Lab;
  /** Per case: the kernel's outcome of each check (kernel half done). */
  const kernel = new Map<string, FaultOutcome[]>();
  /** What was observed, per case and check: .knet-tmp/lab/routed.json. */
  const rows: { case: string; probe: string; kernel: string; triesMs: number[]; knet?: string }[] = [];

  beforeAll(async () => {
    reapStaleLabs();
    lab = await buildLab(
      loadScenario(SCENARIO, { overlay: 'hostgw', proxyMode: 'iptables', cni: 'ptp' }),
      prefix,
    );
  }, 60_000);

  afterAll(() => {
    const failed = lab?.destroy() ?? [];
    expect(failed).toEqual([]);
    expect(listNamespaces(prefix)).toEqual([]);
    if (rows.length > 0) {
      mkdirSync(MATRIX_DIR, { recursive: true });
      writeFileSync(join(MATRIX_DIR, 'routed.json'), `${JSON.stringify(rows, null, 2)}\n`);
    }
  });

  const baselineFailures = async (): Promise<string[]> => {
    const results = await Promise.all(BASELINE.map((p) => runFaultProbe(lab, p)));
    return results.flatMap((r, i) =>
      r.outcome === 'ok' ? [] : [`${describeProbe(BASELINE[i])}: ${JSON.stringify(r)}`],
    );
  };

  it('the ptp plugin wired the pods: a veth per pod with a /32 host route, no bridge', () => {
    const bundle = join(MATRIX_DIR, 'routed-plumbing');
    captureBundle(lab, bundle, { context: 'knet-lab-routed-plumbing' });
    const conflist = JSON.parse(readFileSync(join(bundle, 'nodes', 'node-2', 'cni', CNI_CONFLIST), 'utf8'));
    expect(conflist.plugins.map((p: { type: string }) => p.type)).toEqual(['ptp', 'portmap']);
    expect(conflist.plugins[0]).toMatchObject({
      ipMasq: false,
      ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.2.0/24', gateway: '10.244.2.1' }]] },
    });
    const file = (node: string, name: string) => readFileSync(join(bundle, 'nodes', node, name), 'utf8');
    for (const node of lab.nodes.values()) {
      const links = parseIpLink(file(node.name, 'ip-link.json'), 'ip-link.json');
      expect(links.filter((l) => l.kind === 'bridge')).toEqual([]);
      const addrs = parseIpAddr(file(node.name, 'ip-addr.json'), 'ip-addr.json');
      const routes = parseIpRoute(file(node.name, 'ip-route.json'), 'ip-route.json');
      for (const pod of lab.pods.values()) {
        if (pod.node !== node || pod.hostNetwork) continue;
        const veth = links.find((l) => l.ifname === pod.hostVeth);
        expect(veth, pod.key).toMatchObject({ kind: 'veth' });
        expect(veth?.master, pod.key).toBeUndefined();
        // ptp gives every host veth the gateway address, as a /32.
        expect(
          addrs.find((i) => i.ifname === pod.hostVeth)?.addresses.map((a) => a.cidr),
          pod.key,
        ).toContain(`${node.gateway}/32`);
        expect(hostRoute(bundle, node.name, pod.ip), pod.key).toMatchObject({
          dev: pod.hostVeth,
          scope: 'host',
        });
      }
      // host-gw: the other nodes' pod CIDRs via their underlay address.
      for (const other of lab.nodes.values()) {
        if (other === node) continue;
        expect(routes.find((r) => r.table === 'main' && r.dst === other.podCIDR)).toMatchObject({
          gateway: other.ip,
        });
      }
    }
    const podRoutes = parseIpRoute(
      readFileSync(join(bundle, 'nodes', 'node-2', 'pods', 'shop_api-1', 'ip-route.json'), 'utf8'),
      'ip-route.json',
    );
    expect(podRoutes.find((r) => r.dst === 'default')).toMatchObject({ gateway: '10.244.2.1' });
  });

  it('baseline: every probed path works', async () => {
    expect(await baselineFailures()).toEqual([]);
  });

  it.each(CASES.map((c) => [c.id, c] as [string, RoutedCase]))(
    'kernel: %s',
    async (_id, c) => {
      const results: Awaited<ReturnType<typeof runFaultProbe>>[] = [];
      c.apply?.(lab);
      try {
        for (const check of c.checks) results.push(await runFaultProbe(lab, check.probe));
        captureBundle(lab, bundleOf(c), { context: `knet-lab-routed-${c.id}` });
      } finally {
        c.revert?.(lab);
      }
      kernel.set(
        c.id,
        results.map((r) => r.outcome),
      );
      for (const [i, check] of c.checks.entries())
        rows.push({
          case: c.id,
          probe: describeProbe(check.probe),
          kernel: results[i].outcome,
          triesMs: results[i].tries.map((t) => t.ms),
        });
      for (const [i, check] of c.checks.entries()) {
        expect(
          check.kernel,
          `kernel outcome of ${describeProbe(check.probe)}: ${JSON.stringify(results[i])}`,
        ).toContain(results[i].outcome);
      }
      c.evidence?.(bundleOf(c));
      expect(await baselineFailures(), `after reverting ${c.id}`).toEqual([]);
    },
    30_000,
  );

  describe('knet on the captured bundles', () => {
    for (const c of CASES) {
      for (const check of c.checks) {
        const title =
          `${c.id}: knetVerdict(.knet-tmp/lab/routed-${c.id}, pod/${check.probe.from}, ${check.probe.target}) ` +
          `→ ${check.verdict}${check.finding ? `, finding ${check.finding}` : ''}`;
        it(title, async () => {
          expect(kernel.has(c.id), `the kernel half of ${c.id} did not run`).toBe(true);
          const { knetVerdict } = await import('./verdict.js');
          const v = await knetVerdict(bundleOf(c), `pod/${check.probe.from}`, check.probe.target);
          const detail = JSON.stringify(v);
          const row = rows.find((r) => r.case === c.id && r.probe === describeProbe(check.probe));
          if (row) row.knet = `${v.verdict} [${v.findings.join(', ')}]`;
          expect(v.verdict, detail).toBe(check.verdict);
          if (check.finding) expect(v.findings, detail).toContain(check.finding);
          else expect(v.findings, detail).toEqual([]);
          // A routed CNI: no bridge anywhere on the path, nor a veth "not on the bridge".
          expect(
            v.hops.filter((h) => h.kind === 'bridge'),
            detail,
          ).toEqual([]);
          expect(v.findings, detail).not.toContain('VETH_NOT_ON_BRIDGE');
        });
      }
    }

    it('detectNodeDataplane: routed pods (ptp), kube-proxy iptables, on every node', async () => {
      const { readBundle } = await import('../../src/sources/bundle/read.js');
      const { buildModel } = await import('../../src/model/build.js');
      const { detectNodeDataplane } = await import('../../src/analyses/dataplane/detect.js');
      const b = await readBundle(bundleOf(CASES[0]));
      const model = buildModel(b.raws, b.nodeFiles);
      for (const node of ['node-1', 'node-2', 'node-3']) {
        expect(detectNodeDataplane(model, node), node).toMatchObject({
          pods: 'routed',
          cni: 'ptp',
          services: 'kube-proxy-iptables',
        });
      }
    });
  });
});

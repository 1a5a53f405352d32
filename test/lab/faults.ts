// The fault matrix: each fault breaks one thing in a live lab the way it breaks on real
// clusters, names the probe that must show it, the kernel outcome that probe must get, and what
// knet's trace should answer on the bundle captured while the fault is in place.
//
// Every fault has an undo; the matrix test checks after each undo that the baseline path works
// again, so faults never leak into each other.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ipForwarding } from '../../src/analyses/dataplane/sysctls.js';
import type { FindingCode } from '../../src/findings/catalog.js';
import type { Raw } from '../../src/model/normalize.js';
import { parseIpAddr, parseIpLink, parseIpRoute } from '../../src/parsers/iproute2.js';
import { parseSysctl } from '../../src/parsers/sysctl.js';
import { ipBatch, ipn, nsExec, run } from './exec.js';
import { cloneObjects, findObject, type Overlay, type ProxyMode } from './scenario.js';
import {
  CNI_CONFLIST,
  type Lab,
  type ProbeOutcome,
  type ProbeResult,
  sysctl,
  VXLAN_DEV,
} from './topology.js';

export type TraceVerdict = 'reachable' | 'unreachable' | 'partial' | 'unknown';
/** A probe's outcome; 'mixed' for a repeated probe of which some connections worked and some not. */
export type FaultOutcome = ProbeOutcome | 'mixed';

export interface FaultProbe {
  /** Source pod (namespace/name). */
  from: string;
  host: string;
  port: number;
  protocol?: 'tcp' | 'udp';
  big?: boolean;
  /** The same destination as a knet trace target. */
  target: string;
  /** Probe this many times, one try of at most 500 ms each (a fault that breaks some of the
   * connections only): the outcome is the one they all had, or 'mixed' when some worked. */
  repeat?: number;
}

export interface Fault {
  id: string;
  title: string;
  overlay: Overlay;
  probe: FaultProbe;
  /** The kernel outcomes that count as "the fault shows" (a dropped SYN may time out or come
   * back as ICMP host unreachable once ARP gave up, depending on timing). */
  kernel: FaultOutcome[];
  /** What knet trace must answer for the probe's source and destination. */
  verdict: TraceVerdict;
  /** A finding code knet's answer must include (none: only the verdict is compared). */
  finding?: FindingCode;
  /** kube-proxy modes the fault runs in (default: iptables only). */
  modes?: ProxyMode[];
  /** Where the fault is (for the matrix table). */
  where: string;
  apply(lab: Lab): void | Promise<void>;
  revert(lab: Lab): void | Promise<void>;
  /** Throws unless the captured bundle shows the fault (so knet has the evidence it needs). */
  evidence(bundle: string): void;
  /** Edits the captured bundle before knet reads it (e.g. leaves out a file a user's bundle lacks). */
  afterCapture?(bundle: string): void;
}

/** The kube-proxy modes a fault runs in. */
export const faultModes = (f: Fault): ProxyMode[] => f.modes ?? ['iptables'];

/** The fault's bundle folder under .knet-tmp/lab/: OVERLAY-ID (iptables), OVERLAY-nft-ID (nftables). */
export const faultBundleName = (overlay: Overlay, mode: ProxyMode, id: string): string =>
  mode === 'nftables' ? `${overlay}-nft-${id}` : `${overlay}-${id}`;

export interface FaultProbeResult {
  outcome: FaultOutcome;
  answeredBy?: string;
  tries: ProbeResult['tries'];
}

/** Runs a fault's probe (repeated ones as single tries, 10 at a time), bounded like every lab probe. */
export async function runFaultProbe(lab: Lab, p: FaultProbe): Promise<FaultProbeResult> {
  if (!p.repeat) return lab.probeAsync(p.from, p.host, p.port, { protocol: p.protocol, big: p.big });
  const results: ProbeResult[] = [];
  const total = Math.min(p.repeat, 50);
  while (results.length < total) {
    const batch = Math.min(10, total - results.length);
    results.push(
      ...(await Promise.all(
        Array.from({ length: batch }, () =>
          lab.probeAsync(p.from, p.host, p.port, { protocol: p.protocol, tries: 1, timeout: 500 }),
        ),
      )),
    );
  }
  const outcomes = new Set(results.map((r) => r.outcome));
  const count = (o: ProbeOutcome) => results.filter((r) => r.outcome === o).length;
  const outcome: FaultOutcome =
    outcomes.size === 1
      ? results[0].outcome
      : outcomes.has('ok')
        ? 'mixed'
        : [...outcomes].sort((a, b) => count(b) - count(a))[0];
  const answered = [...new Set(results.map((r) => r.answeredBy).filter((a) => a !== undefined))];
  return {
    outcome,
    ...(answered.length > 0 ? { answeredBy: answered.sort().join(',') } : {}),
    tries: results.flatMap((r) => r.tries),
  };
}

const CLIENT = 'shop/client';
const API_SVC = { host: '10.96.0.11', port: 80, target: 'svc/shop/api:80' };
const API_POD = 'shop/api-1';
const API_IP = '10.244.2.13';
const API_PORT = 9090;
const STALE_IP = '10.244.2.99';
const viaApiService: FaultProbe = { from: CLIENT, ...API_SVC };
const viaApiPod: FaultProbe = { from: CLIENT, host: API_IP, port: API_PORT, target: 'pod/shop/api-1:9090' };
/** agent-3: hostNetwork on node-3, listening in node-3's namespace. */
const viaHostNetPod: FaultProbe = {
  from: CLIENT,
  host: '172.18.0.13',
  port: 9100,
  target: 'pod/shop/agent-3:9100',
};
/** edge-1's hostPort on node-2 (portmap). */
const viaHostPort: FaultProbe = {
  from: CLIENT,
  host: '172.18.0.12',
  port: 18443,
  target: 'ip/172.18.0.12:18443',
};
/** svc/api-admin: targetPort 9091 on api-1, which nothing declares or listens on. */
const viaAdminService: FaultProbe = {
  from: CLIENT,
  host: '10.96.0.14',
  port: 80,
  target: 'svc/shop/api-admin:80',
};
/** api-1 to its own Service (its only endpoint): through the bridge port's hairpin. */
const hairpinProbe: FaultProbe = { from: API_POD, ...API_SVC };
const BOTH: ProxyMode[] = ['iptables', 'nftables'];
const viaEchoService: FaultProbe = {
  from: CLIENT,
  host: '10.96.0.12',
  port: 53,
  protocol: 'udp',
  target: 'svc/shop/echo:53',
};

const read = (bundle: string, node: string, file: string) =>
  readFileSync(join(bundle, 'nodes', node, file), 'utf8');

function check(cond: boolean, message: string): void {
  if (!cond) throw new Error(`bundle does not show the fault: ${message}`);
}

function link(bundle: string, node: string, ifname: string) {
  return parseIpLink(read(bundle, node, 'ip-link.json'), 'ip-link.json').find((l) => l.ifname === ifname);
}

function mainRoute(bundle: string, node: string, dst: string) {
  return parseIpRoute(read(bundle, node, 'ip-route.json'), 'ip-route.json').find(
    (r) => r.dst === dst && r.table === 'main',
  );
}

/** A copy of the objects in which the api endpoint has another address (a pod that moved). */
function withStaleApiEndpoint(objects: Raw[]): Raw[] {
  const copy = cloneObjects(objects);
  const slice = findObject(copy, 'EndpointSlice', 'shop', 'api-q8d4w');
  slice.endpoints[0].addresses = [STALE_IP];
  return copy;
}

function withoutApiService(objects: Raw[]): Raw[] {
  return cloneObjects(objects).filter(
    (o) =>
      !(o.kind === 'Service' && o.metadata.namespace === 'shop' && o.metadata.name === 'api') &&
      !(o.kind === 'EndpointSlice' && o.metadata.labels?.['kubernetes.io/service-name'] === 'api'),
  );
}

export const FAULTS: Fault[] = [
  {
    id: 'stale-sep',
    title: 'stale SEP DNAT target',
    where: "node-1's kube-proxy still DNATs svc/api to the pod's old IP 10.244.2.99",
    overlay: 'hostgw',
    probe: viaApiService,
    kernel: ['timeout', 'unreachable'],
    verdict: 'unreachable',
    finding: 'PROXY_ENDPOINT_STALE',
    // kube-proxy on node-1 missed the update: its rules come from the old EndpointSlice.
    apply: (lab) => {
      lab.syncProxyRules('node-1', withStaleApiEndpoint(lab.objects));
    },
    revert: (lab) => {
      lab.syncProxyRules('node-1');
    },
    evidence: (b) => {
      const rules = read(b, 'node-1', 'iptables-save.txt');
      check(rules.includes(`--to-destination ${STALE_IP}:${API_PORT}`), 'no DNAT to the stale IP');
      check(
        !rules.includes(`--to-destination ${API_IP}:${API_PORT}`),
        'the DNAT to the live pod is still there',
      );
    },
  },
  {
    id: 'missing-svc-chain',
    title: 'missing service chain',
    where: "node-1's kube-proxy has no rules for svc/api (it never saw the Service)",
    overlay: 'hostgw',
    probe: viaApiService,
    kernel: ['timeout'],
    verdict: 'unreachable',
    finding: 'PROXY_RULES_MISSING',
    apply: (lab) => {
      lab.syncProxyRules('node-1', withoutApiService(lab.objects));
    },
    revert: (lab) => {
      lab.syncProxyRules('node-1');
    },
    evidence: (b) => {
      check(
        !read(b, 'node-1', 'iptables-save.txt').includes(API_SVC.host),
        'node-1 still has rules for 10.96.0.11',
      );
      check(read(b, 'node-2', 'iptables-save.txt').includes(API_SVC.host), 'node-2 lost its rules too');
    },
  },
  {
    id: 'no-endpoints',
    title: 'no endpoints (REJECT)',
    where: 'api-1 fails its readiness probe: no ready endpoint, kube-proxy REJECTs',
    overlay: 'hostgw',
    probe: viaApiService,
    kernel: ['refused'],
    verdict: 'unreachable',
    finding: 'PROXY_REJECT',
    apply: (lab) => {
      const pod = findObject(lab.objects, 'Pod', 'shop', 'api-1');
      pod.status.conditions = [
        { type: 'Ready', status: 'False', reason: 'ContainersNotReady' },
        { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady' },
      ];
      const slice = findObject(lab.objects, 'EndpointSlice', 'shop', 'api-q8d4w');
      slice.endpoints[0].conditions = { ready: false, serving: false, terminating: false };
      for (const node of lab.nodes.values()) lab.syncProxyRules(node.name);
    },
    revert: (lab) => lab.resetObjects(),
    evidence: (b) => {
      check(
        /^-A KUBE-SERVICES .*-d 10\.96\.0\.11\/32 .*-j REJECT/m.test(read(b, 'node-1', 'iptables-save.txt')),
        'no REJECT rule for 10.96.0.11 on node-1',
      );
      const list = JSON.parse(readFileSync(join(b, 'cluster.json'), 'utf8'));
      const slice = list.items.find(
        (o: Raw) => o.kind === 'EndpointSlice' && o.metadata.name === 'api-q8d4w',
      );
      check(slice.endpoints[0].conditions.ready === false, 'the slice still says ready');
    },
  },
  {
    id: 'route-removed',
    title: "route to another node's pod CIDR removed",
    where: "node-1 has no route to node-2's 10.244.2.0/24 (only the default route to the underlay router)",
    overlay: 'hostgw',
    probe: viaApiService,
    kernel: ['timeout'],
    verdict: 'unreachable',
    finding: 'ROUTE_MISSING',
    apply: (lab) => {
      ipn(lab.node('node-1').ns, ['route', 'del', '10.244.2.0/24']);
    },
    revert: (lab) => {
      ipn(lab.node('node-1').ns, [
        'route',
        'replace',
        '10.244.2.0/24',
        'via',
        lab.node('node-2').ip,
        'dev',
        'eth0',
      ]);
    },
    evidence: (b) => check(mainRoute(b, 'node-1', '10.244.2.0/24') === undefined, 'the route is still there'),
  },
  {
    id: 'route-wrong-node',
    title: "route to another node's pod CIDR pointed at the wrong node",
    where: "node-1 routes node-2's 10.244.2.0/24 via node-3 (172.18.0.13)",
    overlay: 'hostgw',
    probe: viaApiService,
    // node-3 forwards the SYN on, the answer comes back directly: node-3's conntrack sees one
    // direction only and kube-proxy's KUBE-FORWARD drops the client's next packets as INVALID.
    kernel: ['no-reply', 'timeout'],
    verdict: 'unreachable',
    finding: 'ROUTE_WRONG_NEXT_HOP',
    apply: (lab) => {
      ipn(lab.node('node-1').ns, [
        'route',
        'replace',
        '10.244.2.0/24',
        'via',
        lab.node('node-3').ip,
        'dev',
        'eth0',
      ]);
    },
    revert: (lab) => {
      ipn(lab.node('node-1').ns, [
        'route',
        'replace',
        '10.244.2.0/24',
        'via',
        lab.node('node-2').ip,
        'dev',
        'eth0',
      ]);
    },
    evidence: (b) =>
      check(
        mainRoute(b, 'node-1', '10.244.2.0/24')?.gateway === '172.18.0.13',
        'the route does not point at node-3',
      ),
  },
  {
    id: 'host-veth-down',
    title: 'host veth down',
    where: "api-1's host-side veth on node-2 is down",
    overlay: 'hostgw',
    probe: viaApiService,
    kernel: ['timeout', 'unreachable'],
    verdict: 'unreachable',
    finding: 'IFACE_DOWN',
    apply: (lab) => {
      ipn(lab.node('node-2').ns, ['link', 'set', lab.pod(API_POD).hostVeth, 'down']);
    },
    revert: (lab) => {
      ipn(lab.node('node-2').ns, ['link', 'set', lab.pod(API_POD).hostVeth, 'up']);
    },
    evidence: (b) => {
      const veth = parseIpLink(read(b, 'node-2', 'ip-link.json'), 'ip-link.json').find(
        (l) => l.kind === 'veth' && l.master === 'cni0' && !l.up,
      );
      check(veth !== undefined, 'no bridge port is down on node-2');
    },
  },
  {
    id: 'bridge-down',
    title: 'bridge down',
    where: 'cni0 on node-2 is down (its connected route is gone with it)',
    overlay: 'hostgw',
    probe: viaApiService,
    kernel: ['timeout'],
    verdict: 'unreachable',
    finding: 'IFACE_DOWN',
    apply: (lab) => {
      ipn(lab.node('node-2').ns, ['link', 'set', 'cni0', 'down']);
    },
    revert: (lab) => {
      ipn(lab.node('node-2').ns, ['link', 'set', 'cni0', 'up']);
    },
    evidence: (b) => {
      check(link(b, 'node-2', 'cni0')?.up === false, 'cni0 is up');
      check(mainRoute(b, 'node-2', '10.244.2.0/24') === undefined, 'the connected route is still there');
    },
  },
  {
    id: 'veth-detached',
    title: 'veth detached from the bridge',
    where: "api-1's host-side veth on node-2 is up but not enslaved to cni0",
    overlay: 'hostgw',
    probe: viaApiService,
    kernel: ['timeout', 'unreachable'],
    verdict: 'unreachable',
    finding: 'VETH_NOT_ON_BRIDGE',
    apply: (lab) => {
      ipn(lab.node('node-2').ns, ['link', 'set', lab.pod(API_POD).hostVeth, 'nomaster']);
    },
    revert: (lab) => {
      const veth = lab.pod(API_POD).hostVeth;
      ipn(lab.node('node-2').ns, ['link', 'set', veth, 'master', 'cni0']);
      // A port joins a bridge with hairpin off: back to what the bridge plugin had set.
      ipn(lab.node('node-2').ns, ['link', 'set', veth, 'type', 'bridge_slave', 'hairpin', 'on']);
    },
    evidence: (b) => {
      const links = parseIpLink(read(b, 'node-2', 'ip-link.json'), 'ip-link.json');
      check(
        links.some((l) => l.kind === 'veth' && l.up && l.master === undefined && l.linkNetnsid !== undefined),
        'every pod veth on node-2 has a master',
      );
    },
  },
  {
    id: 'ip-forward-off',
    title: 'ip_forward=0',
    where: 'net.ipv4.ip_forward=0 on node-1 (the source node)',
    overlay: 'hostgw',
    probe: viaApiService,
    // The kernel drops packets it may not forward without an ICMP error (ip_error() skips
    // it when forwarding is off).
    kernel: ['timeout'],
    verdict: 'unreachable',
    finding: 'IP_FORWARD_DISABLED',
    apply: (lab) => sysctl(lab.node('node-1').ns, 'net.ipv4.ip_forward', '0'),
    revert: (lab) => sysctl(lab.node('node-1').ns, 'net.ipv4.ip_forward', '1'),
    evidence: (b) =>
      check(
        ipForwarding(parseSysctl(read(b, 'node-1', 'sysctl.txt'), 'sysctl.txt')) === false,
        'ip_forward is 1',
      ),
  },
  {
    id: 'forward-drop',
    title: 'a DROP in FORWARD',
    where:
      'node-1: iptables -I FORWARD -d 10.244.2.13/32 -p tcp --dport 9090 -j DROP (a hand-made firewall rule)',
    overlay: 'hostgw',
    probe: viaApiService,
    kernel: ['timeout'],
    verdict: 'unreachable',
    finding: 'FILTER_DROP',
    apply: (lab) => {
      nsExec(lab.node('node-1').ns, ['iptables', '-w', '5', '-I', 'FORWARD', '1', ...DROP_RULE]);
    },
    revert: (lab) => {
      nsExec(lab.node('node-1').ns, ['iptables', '-w', '5', '-D', 'FORWARD', ...DROP_RULE]);
    },
    evidence: (b) =>
      check(
        /^-A FORWARD -d 10\.244\.2\.13\/32 -p tcp -m tcp --dport 9090 -j DROP$/m.test(
          read(b, 'node-1', 'iptables-save.txt'),
        ),
        'no DROP rule in FORWARD',
      ),
  },
  {
    id: 'not-listening',
    title: 'server not listening on the targetPort',
    where: "api-1's process is gone: nothing listens on 9090",
    overlay: 'hostgw',
    probe: viaApiService,
    kernel: ['refused'],
    verdict: 'unreachable',
    finding: 'POD_PORT_NOT_LISTENING',
    apply: (lab) => lab.stopServer(API_POD),
    revert: (lab) => lab.startServer(API_POD),
    evidence: (b) => {
      const ss = read(b, 'node-2', 'pods/shop_api-1/ss.txt');
      check(!/:9090\s/.test(ss), 'ss still shows a listener on 9090');
    },
  },
  {
    id: 'vxlan-down',
    title: 'VXLAN device down',
    where: "flannel.1 on node-1 is down (its routes to the other nodes' pod CIDRs are gone with it)",
    overlay: 'vxlan',
    probe: viaApiService,
    kernel: ['timeout'],
    verdict: 'unreachable',
    finding: 'IFACE_DOWN',
    apply: (lab) => {
      ipn(lab.node('node-1').ns, ['link', 'set', VXLAN_DEV, 'down']);
    },
    revert: (lab) => {
      const node = lab.node('node-1');
      ipn(node.ns, ['link', 'set', VXLAN_DEV, 'up']);
      lab.programVxlanPeers(node);
    },
    evidence: (b) => {
      check(link(b, 'node-1', VXLAN_DEV)?.up === false, 'flannel.1 is up');
      check(mainRoute(b, 'node-1', '10.244.2.0/24') === undefined, 'the route via flannel.1 is still there');
    },
  },
  {
    id: 'mtu-mismatch',
    title: 'MTU mismatch (stretch)',
    where:
      "node-3's underlay link has MTU 1400; flannel.1 there still assumes 1500 (1450 + 50 bytes of VXLAN)",
    overlay: 'vxlan',
    // Small datagrams pass; a full-size one (1400 bytes, fits the pods' 1450) becomes a
    // 1478-byte VXLAN packet that node-3's link drops, and no ICMP tells anyone. (A TCP bulk
    // transfer would not show it here: veths pass GSO super-packets whatever their MTU.)
    probe: { ...viaEchoService, big: true },
    kernel: ['timeout'],
    // Small packets pass and full-size ones are lost: partly broken, not reachable.
    verdict: 'partial',
    finding: 'MTU_MISMATCH',
    apply: (lab) => {
      const node = lab.node('node-3');
      ipn(lab.underlayNs, ['link', 'set', node.underlayPort, 'mtu', '1400']);
      ipn(node.ns, ['link', 'set', 'eth0', 'mtu', '1400']);
    },
    revert: (lab) => {
      const node = lab.node('node-3');
      ipn(node.ns, ['link', 'set', 'eth0', 'mtu', '1500']);
      ipn(lab.underlayNs, ['link', 'set', node.underlayPort, 'mtu', '1500']);
    },
    evidence: (b) => {
      const addrs = parseIpAddr(read(b, 'node-3', 'ip-addr.json'), 'ip-addr.json');
      const eth0 = addrs.find((i) => i.ifname === 'eth0');
      const vx = addrs.find((i) => i.ifname === VXLAN_DEV);
      check(!!eth0 && !!vx && vx.mtu + 50 > eth0.mtu, 'flannel.1 fits in eth0');
    },
  },

  // ---- issue #24: netfilter, routing and sockets on every node of the path (both proxy modes) ----
  {
    id: 'dst-forward-drop',
    title: "a DROP in the destination node's FORWARD",
    where:
      'node-2: iptables -I FORWARD 1 -d 10.244.2.13/32 -p tcp --dport 9090 -j DROP; probe straight to the pod',
    overlay: 'hostgw',
    modes: BOTH,
    probe: viaApiPod,
    kernel: ['timeout'],
    verdict: 'unreachable',
    finding: 'FILTER_DROP',
    apply: (lab) => {
      nsExec(lab.node('node-2').ns, ['iptables', '-w', '5', '-I', 'FORWARD', '1', ...DROP_RULE]);
    },
    revert: (lab) => {
      nsExec(lab.node('node-2').ns, ['iptables', '-w', '5', '-D', 'FORWARD', ...DROP_RULE]);
    },
    evidence: (b) =>
      check(FORWARD_DROP.test(read(b, 'node-2', 'iptables-save.txt')), 'no DROP rule in FORWARD on node-2'),
  },
  {
    id: 'dst-forward-drop-dnat',
    title: "a DROP in the destination node's FORWARD, through the ClusterIP",
    where: 'node-2: the same rule; probe through svc/api (node-1 DNATs, node-2 drops the DNATed packet)',
    overlay: 'hostgw',
    modes: BOTH,
    probe: viaApiService,
    kernel: ['timeout'],
    verdict: 'unreachable',
    finding: 'FILTER_DROP',
    apply: (lab) => {
      nsExec(lab.node('node-2').ns, ['iptables', '-w', '5', '-I', 'FORWARD', '1', ...DROP_RULE]);
    },
    revert: (lab) => {
      nsExec(lab.node('node-2').ns, ['iptables', '-w', '5', '-D', 'FORWARD', ...DROP_RULE]);
    },
    evidence: (b) =>
      check(FORWARD_DROP.test(read(b, 'node-2', 'iptables-save.txt')), 'no DROP rule in FORWARD on node-2'),
  },
  {
    id: 'foreign-nft-forward-drop',
    title: 'a foreign nftables table drops in the forward hook',
    where:
      'node-2: table inet filter, chain forward (hook forward, priority 0, policy accept): ip daddr 10.244.2.13 tcp dport 9090 drop',
    overlay: 'hostgw',
    modes: BOTH,
    probe: viaApiService,
    kernel: ['timeout'],
    verdict: 'unreachable',
    finding: 'FILTER_DROP',
    apply: (lab) => {
      nsExec(lab.node('node-2').ns, ['nft', '-f', '-'], {
        input:
          'table inet filter {\n  chain forward {\n    type filter hook forward priority 0; policy accept;\n' +
          `    ip daddr ${API_IP} tcp dport ${API_PORT} drop\n  }\n}\n`,
      });
    },
    revert: (lab) => {
      nsExec(lab.node('node-2').ns, ['nft', 'delete', 'table', 'inet', 'filter']);
    },
    evidence: (b) => {
      const items = nftItems(b, 'node-2');
      check(
        items.some(
          (i) => i.chain?.family === 'inet' && i.chain.table === 'filter' && i.chain.hook === 'forward',
        ),
        'no forward-hook chain in table inet filter',
      );
      check(
        items.some(
          (i) =>
            i.rule?.family === 'inet' &&
            i.rule.table === 'filter' &&
            JSON.stringify(i.rule.expr).includes('"drop"'),
        ),
        'no drop rule in table inet filter',
      );
    },
  },
  {
    id: 'hostnet-input-drop',
    title: "a DROP in a hostNetwork destination's INPUT",
    where:
      "node-3: iptables -I INPUT -p tcp --dport 9100 -j DROP (agent-3, hostNetwork, listens in node-3's namespace)",
    overlay: 'hostgw',
    modes: BOTH,
    probe: viaHostNetPod,
    kernel: ['timeout'],
    verdict: 'unreachable',
    finding: 'FILTER_DROP',
    apply: (lab) => {
      nsExec(lab.node('node-3').ns, ['iptables', '-w', '5', '-I', 'INPUT', '1', ...INPUT_DROP_9100]);
    },
    revert: (lab) => {
      nsExec(lab.node('node-3').ns, ['iptables', '-w', '5', '-D', 'INPUT', ...INPUT_DROP_9100]);
    },
    evidence: (b) => {
      check(
        /^-A INPUT -p tcp -m tcp --dport 9100 -j DROP$/m.test(read(b, 'node-3', 'iptables-save.txt')),
        'no DROP rule in INPUT on node-3',
      );
      check(/:9100\s/.test(read(b, 'node-3', 'ss.txt')), "node-3's ss.txt shows no listener on 9100");
    },
  },
  {
    id: 'sep-dnat-deleted',
    title: "one endpoint's DNAT deleted",
    where:
      "node-1: the DNAT rule of svc/web's last endpoint chain (iptables: the KUBE-SEP the KUBE-SVC chain jumps to last; nftables: web-2's endpoint-… chain) deleted; 30 probes",
    overlay: 'hostgw',
    modes: BOTH,
    probe: { from: CLIENT, host: '10.96.0.10', port: 80, target: 'svc/shop/web:80', repeat: 30 },
    kernel: ['mixed'],
    verdict: 'partial',
    finding: 'PROXY_DNAT_MISSING',
    apply: (lab) => deleteLastEndpointDnat(lab, 'node-1'),
    revert: (lab) => {
      lab.syncProxyRules('node-1');
    },
    evidence: (b) => {
      if (bundleProxyMode(b) === 'nftables') {
        const rules = nftItems(b, 'node-1')
          .map((i) => i.rule)
          .filter(
            (r) =>
              r?.table === 'kube-proxy' && r.chain.startsWith('endpoint-') && r.chain.includes('shop/web/'),
          );
        const chains = new Set(rules.map((r) => r?.chain));
        const withDnat = new Set(
          rules.filter((r) => JSON.stringify(r?.expr).includes('"dnat"')).map((r) => r?.chain),
        );
        check(
          chains.size === 2 && withDnat.size === 1,
          "both of web's endpoint chains still DNAT (or a chain is gone)",
        );
      } else {
        const save = read(b, 'node-1', 'iptables-save.txt');
        const seps = [...save.matchAll(/^-A (KUBE-SEP-\S+) .*"shop\/web:http"/gm)].map((m) => m[1]);
        const dnat = new Set([...save.matchAll(/^-A (KUBE-SEP-\S+) .*-j DNAT/gm)].map((m) => m[1]));
        check(new Set(seps).size === 2, 'svc/web does not have two KUBE-SEP chains');
        check(
          seps.some((c) => !dnat.has(c)),
          'every KUBE-SEP chain of svc/web still DNATs',
        );
      }
    },
  },
  {
    id: 'port-not-listening-no-ss',
    title: "targetPort nobody declares or listens on, bundle without the pod's ss.txt",
    where:
      'svc/api-admin: port 80 → targetPort 9091 on api-1, which declares and listens on 9090 only; the bundle lacks pods/shop_api-1/ss.txt',
    overlay: 'hostgw',
    modes: BOTH,
    probe: viaAdminService,
    kernel: ['refused'],
    verdict: 'unknown',
    apply: () => {},
    revert: () => {},
    afterCapture: (b) => rmSync(join(b, 'nodes', 'node-2', 'pods', 'shop_api-1', 'ss.txt'), { force: true }),
    evidence: (b) => {
      check(
        !existsSync(join(b, 'nodes', 'node-2', 'pods', 'shop_api-1', 'ss.txt')),
        "api-1's ss.txt is there",
      );
      check(
        read(b, 'node-2', 'iptables-save.txt').includes('10.244.2.13:9091') ||
          nftHasDnat(b, 'node-2', '10.244.2.13:9091'),
        'no DNAT to 10.244.2.13:9091 on node-2',
      );
    },
  },
  {
    id: 'port-not-listening',
    title: 'targetPort nobody declares or listens on',
    where: 'svc/api-admin: port 80 → targetPort 9091 on api-1, which declares and listens on 9090 only',
    overlay: 'hostgw',
    modes: BOTH,
    probe: viaAdminService,
    kernel: ['refused'],
    verdict: 'unreachable',
    finding: 'POD_PORT_NOT_LISTENING',
    apply: () => {},
    revert: () => {},
    evidence: (b) => {
      const ss = read(b, 'node-2', 'pods/shop_api-1/ss.txt');
      check(/:9090\s/.test(ss) && !/:9091\s/.test(ss), 'ss does not show 9090 without 9091');
    },
  },
  {
    id: 'hairpin-off',
    title: 'hairpin off: a pod cannot reach itself through its Service',
    where:
      "node-2's conflist says hairpinMode false and api-1's network was set up with it (its bridge port's hairpin flag is off); api-1 → svc/api (its only endpoint is api-1)",
    overlay: 'hostgw',
    modes: BOTH,
    probe: hairpinProbe,
    kernel: ['timeout'],
    verdict: 'unreachable',
    finding: 'HAIRPIN_DISABLED',
    apply: (lab) => {
      lab.setCniOptions('node-2', { hairpinMode: false });
      lab.recreatePodNetwork(API_POD);
    },
    revert: (lab) => {
      lab.setCniOptions('node-2', { hairpinMode: true });
      lab.recreatePodNetwork(API_POD);
    },
    evidence: (b) => {
      check(conflistHairpin(b, 'node-2') === false, 'the conflist says hairpinMode true');
      check(apiPortHairpin(b) === false, "api-1's bridge port has hairpin on");
    },
  },
  {
    id: 'hairpin-on',
    title: 'hairpin on: a pod reaches itself through its Service',
    where: 'no fault: hairpinMode true (the default); api-1 → svc/api',
    overlay: 'hostgw',
    modes: BOTH,
    probe: hairpinProbe,
    kernel: ['ok'],
    verdict: 'reachable',
    apply: () => {},
    revert: () => {},
    evidence: (b) => {
      check(conflistHairpin(b, 'node-2') === true, 'the conflist says hairpinMode false');
      check(apiPortHairpin(b) === true, "api-1's bridge port has hairpin off");
    },
  },
  {
    id: 'hostport-ok',
    title: 'hostPort through the portmap plugin',
    where: "no fault: edge-1's hostPort 18443 on node-2 (portmap's CNI-HOSTPORT-DNAT → 10.244.2.20:8443)",
    overlay: 'hostgw',
    modes: BOTH,
    probe: viaHostPort,
    kernel: ['ok'],
    verdict: 'reachable',
    apply: () => {},
    revert: () => {},
    evidence: (b) =>
      check(HOSTPORT_JUMP.test(read(b, 'node-2', 'iptables-save.txt')), 'no CNI-HOSTPORT-DNAT jump'),
  },
  {
    id: 'hostport',
    title: "hostPort's DNAT jump deleted",
    where:
      'node-2: the nat PREROUTING rule -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT deleted (CNI-DN-… stays)',
    overlay: 'hostgw',
    modes: BOTH,
    probe: viaHostPort,
    kernel: ['refused'],
    verdict: 'unreachable',
    finding: 'HOSTPORT_RULE_MISSING',
    apply: (lab) => {
      const ns = lab.node('node-2').ns;
      const rules = nsExec(ns, ['iptables', '-w', '5', '-t', 'nat', '-S', 'PREROUTING']).split('\n');
      // -S prints the policy (-P) first: the position of a -A line is its index.
      hostportJumpPosition = rules.indexOf(`-A PREROUTING ${HOSTPORT_JUMP_SPEC.join(' ')}`);
      if (hostportJumpPosition < 1)
        throw new Error(`no CNI-HOSTPORT-DNAT jump in PREROUTING: ${rules.join(' | ')}`);
      nsExec(ns, ['iptables', '-w', '5', '-t', 'nat', '-D', 'PREROUTING', ...HOSTPORT_JUMP_SPEC]);
    },
    revert: (lab) => {
      nsExec(lab.node('node-2').ns, [
        'iptables',
        '-w',
        '5',
        '-t',
        'nat',
        '-I',
        'PREROUTING',
        String(hostportJumpPosition),
        ...HOSTPORT_JUMP_SPEC,
      ]);
    },
    evidence: (b) => {
      const save = read(b, 'node-2', 'iptables-save.txt');
      check(!HOSTPORT_JUMP.test(save), 'the CNI-HOSTPORT-DNAT jump is still in PREROUTING');
      check(
        /^-A CNI-DN-\S+ .*-j DNAT --to-destination 10\.244\.2\.20:8443$/m.test(save),
        "edge-1's CNI-DN chain is gone too",
      );
    },
  },
  {
    id: 'rp-filter-asymmetric',
    title: 'strict rp_filter with an asymmetric return route',
    where:
      "node-2: rp_filter=1 (all and eth0) and 10.244.1.0/24 dev asym0 (a second link, a veth pair inside node-2): the client's packets arrive on eth0, the way back is asym0",
    overlay: 'hostgw',
    modes: BOTH,
    probe: viaApiService,
    kernel: ['timeout'],
    verdict: 'unreachable',
    finding: 'RP_FILTER_DROP',
    apply: (lab) => {
      const ns = lab.node('node-2').ns;
      savedRpFilter = ['all', 'eth0'].map((dev) =>
        nsExec(ns, ['sysctl', '-n', `net.ipv4.conf.${dev}.rp_filter`]).trim(),
      );
      // A second link (the dummy module may be missing: a veth pair with both ends in node-2).
      ipBatch(ns, [
        'link add asym0 type veth peer name asym1',
        'link set asym1 up',
        'link set asym0 up',
        'route replace 10.244.1.0/24 dev asym0',
      ]);
      sysctl(ns, 'net.ipv4.conf.all.rp_filter', '1');
      sysctl(ns, 'net.ipv4.conf.eth0.rp_filter', '1');
    },
    revert: (lab) => {
      const ns = lab.node('node-2').ns;
      ipBatch(ns, [`route replace 10.244.1.0/24 via ${lab.node('node-1').ip} dev eth0`, 'link del asym0']);
      sysctl(ns, 'net.ipv4.conf.all.rp_filter', savedRpFilter[0] ?? '0');
      sysctl(ns, 'net.ipv4.conf.eth0.rp_filter', savedRpFilter[1] ?? '0');
    },
    evidence: (b) => {
      const sysctls = read(b, 'node-2', 'sysctl.txt');
      check(/^net\.ipv4\.conf\.all\.rp_filter = 1$/m.test(sysctls), 'conf.all.rp_filter is not 1');
      check(/^net\.ipv4\.conf\.eth0\.rp_filter = 1$/m.test(sysctls), 'conf.eth0.rp_filter is not 1');
      check(
        mainRoute(b, 'node-2', '10.244.1.0/24')?.dev === 'asym0',
        'the route back to 10.244.1.0/24 is not via asym0',
      );
    },
  },
  {
    id: 'pod-input-drop',
    title: "a DROP in the destination pod's own INPUT",
    where: "inside api-1's namespace: iptables -I INPUT -p tcp --dport 9090 -j DROP",
    overlay: 'hostgw',
    modes: BOTH,
    probe: viaApiService,
    kernel: ['timeout'],
    verdict: 'unreachable',
    finding: 'FILTER_DROP',
    apply: (lab) => {
      nsExec(lab.pod(API_POD).ns, ['iptables', '-w', '5', '-I', 'INPUT', '1', ...INPUT_DROP_9090]);
    },
    revert: (lab) => {
      nsExec(lab.pod(API_POD).ns, ['iptables', '-w', '5', '-D', 'INPUT', ...INPUT_DROP_9090]);
    },
    evidence: (b) =>
      check(
        /^-A INPUT -p tcp -m tcp --dport 9090 -j DROP$/m.test(
          read(b, 'node-2', 'pods/shop_api-1/iptables-save.txt'),
        ),
        "no DROP rule in api-1's INPUT",
      ),
  },
  {
    id: 'pod-routes-flushed',
    title: "the destination pod's routes flushed",
    where:
      "inside api-1's namespace: ip route flush table main (the SYN arrives, the answer has no route out)",
    overlay: 'hostgw',
    modes: BOTH,
    probe: viaApiService,
    kernel: ['timeout'],
    verdict: 'unreachable',
    finding: 'REPLY_ROUTE_MISSING',
    apply: (lab) => {
      ipn(lab.pod(API_POD).ns, ['route', 'flush', 'table', 'main']);
    },
    revert: (lab) => {
      const pod = lab.pod(API_POD);
      ipBatch(pod.ns, [
        `route add ${pod.node.podCIDR} dev eth0 proto kernel scope link src ${pod.ip}`,
        `route add default via ${pod.node.gateway} dev eth0`,
      ]);
    },
    evidence: (b) => {
      const routes = parseIpRoute(read(b, 'node-2', 'pods/shop_api-1/ip-route.json'), 'ip-route.json');
      check(routes.length === 0, `api-1 still has routes: ${routes.map((r) => r.dst).join(', ')}`);
    },
  },
  {
    id: 'vxlan-fdb-missing',
    title: 'VXLAN FDB entry for a remote VTEP missing',
    where: "node-1: bridge fdb del <node-2's VTEP MAC> dev flannel.1 (route and neighbour stay)",
    overlay: 'vxlan',
    modes: BOTH,
    probe: viaApiService,
    kernel: ['timeout'],
    verdict: 'unreachable',
    finding: 'OVERLAY_FDB_MISSING',
    apply: (lab) => {
      const remote = lab.node('node-2');
      run([
        'bridge',
        '-n',
        lab.node('node-1').ns,
        'fdb',
        'del',
        remote.vtepMAC!,
        'dev',
        VXLAN_DEV,
        'dst',
        remote.ip,
        'self',
      ]);
    },
    revert: (lab) => lab.programVxlanPeers(lab.node('node-1')),
    evidence: (b) => {
      const mac = vtepMAC(b, 'node-2');
      const fdb = JSON.parse(read(b, 'node-1', 'bridge-fdb.json')) as { mac: string; ifname?: string }[];
      check(
        !fdb.some((e) => e.mac === mac && e.ifname === VXLAN_DEV),
        "node-2's VTEP MAC is still in node-1's FDB",
      );
      const neigh = JSON.parse(read(b, 'node-1', 'ip-neigh.json')) as { dst: string; lladdr?: string }[];
      check(
        neigh.some((n) => n.dst === '10.244.2.0' && n.lladdr === mac),
        "node-1's neighbour entry for node-2's VTEP is gone too",
      );
    },
  },
  {
    id: 'route-skips-overlay',
    title: 'a pod CIDR routed around the overlay',
    where:
      'node-1: 10.244.2.0/24 dev eth0 instead of via 10.244.2.0 dev flannel.1 (the underlay has no pod routes)',
    overlay: 'vxlan',
    modes: BOTH,
    probe: viaApiService,
    // node-1 ARPs for 10.244.2.13 on the underlay; nobody answers (ICMP host unreachable only
    // after ARP gives up, about 3 s).
    kernel: ['timeout', 'unreachable'],
    verdict: 'unreachable',
    finding: 'ROUTE_WRONG_NEXT_HOP',
    apply: (lab) => {
      ipn(lab.node('node-1').ns, ['route', 'replace', '10.244.2.0/24', 'dev', 'eth0']);
    },
    revert: (lab) => lab.programVxlanPeers(lab.node('node-1')),
    evidence: (b) => {
      const r = mainRoute(b, 'node-1', '10.244.2.0/24');
      check(r?.dev === 'eth0' && r.gateway === undefined, 'the route does not go straight out of eth0');
    },
  },
];

const DROP_RULE = ['-d', `${API_IP}/32`, '-p', 'tcp', '-m', 'tcp', '--dport', String(API_PORT), '-j', 'DROP'];

const FORWARD_DROP = /^-A FORWARD -d 10\.244\.2\.13\/32 -p tcp -m tcp --dport 9090 -j DROP$/m;
const INPUT_DROP_9090 = ['-p', 'tcp', '-m', 'tcp', '--dport', String(API_PORT), '-j', 'DROP'];
const INPUT_DROP_9100 = ['-p', 'tcp', '-m', 'tcp', '--dport', '9100', '-j', 'DROP'];
const HOSTPORT_JUMP_SPEC = ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'CNI-HOSTPORT-DNAT'];
const HOSTPORT_JUMP = /^-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT$/m;
/** Where the portmap plugin had put its PREROUTING jump (the hostport fault puts it back there). */
let hostportJumpPosition = 1;
/** node-2's rp_filter (all, eth0) before rp-filter-asymmetric. */
let savedRpFilter: string[] = [];

/** The path each overlay's faults break, probed before and after every fault. */
export const BASELINE: Record<Overlay, FaultProbe[]> = {
  hostgw: [viaApiService, viaApiPod, hairpinProbe, viaHostPort, viaHostNetPod],
  vxlan: [viaApiService, viaEchoService, { ...viaEchoService, big: true }, hairpinProbe, viaHostPort],
};

/** The kube-proxy mode a bundle was captured in (its kube-proxy ConfigMap). */
export function bundleProxyMode(bundle: string): ProxyMode {
  const list = JSON.parse(readFileSync(join(bundle, 'cluster.json'), 'utf8'));
  const cm = list.items.find(
    (o: Raw) =>
      o.kind === 'ConfigMap' && o.metadata.namespace === 'kube-system' && o.metadata.name === 'kube-proxy',
  );
  return /^mode:\s*nftables\s*$/m.test(cm?.data?.['config.conf'] ?? '') ? 'nftables' : 'iptables';
}

interface NftJsonRule {
  family: string;
  table: string;
  chain: string;
  handle?: number;
  expr: unknown[];
}

interface NftJsonItem {
  chain?: { family: string; table: string; name: string; hook?: string };
  rule?: NftJsonRule;
}

/** The objects of a node's nft.json (nft -j list ruleset). */
function nftItems(bundle: string, node: string): NftJsonItem[] {
  return (JSON.parse(read(bundle, node, 'nft.json')) as { nftables: NftJsonItem[] }).nftables;
}

function nftHasDnat(bundle: string, node: string, to: string): boolean {
  const [addr, port] = to.split(':');
  return nftItems(bundle, node).some((i) => {
    const text = JSON.stringify(i.rule?.expr ?? []);
    return text.includes('"dnat"') && text.includes(`"${addr}"`) && text.includes(port);
  });
}

/** The bridge plugin's hairpinMode in a node's captured conflist. */
function conflistHairpin(bundle: string, node: string): boolean | undefined {
  const conf = JSON.parse(read(bundle, node, `cni/${CNI_CONFLIST}`));
  return conf.plugins.find((p: { type: string }) => p.type === 'bridge')?.hairpinMode;
}

/** The hairpin flag of api-1's bridge port on node-2 (found through its eth0's peer ifindex). */
function apiPortHairpin(bundle: string): boolean | undefined {
  const eth0 = parseIpAddr(read(bundle, 'node-2', 'pods/shop_api-1/ip-addr.json'), 'ip-addr.json').find(
    (i) => i.ifname === 'eth0',
  );
  const links = JSON.parse(read(bundle, 'node-2', 'ip-link.json')) as {
    ifindex: number;
    linkinfo?: { info_slave_data?: { hairpin?: boolean } };
  }[];
  return links.find((l) => l.ifindex === eth0?.linkIndex)?.linkinfo?.info_slave_data?.hairpin;
}

/** A node's VTEP MAC, from flannel's backend-data annotation in cluster.json. */
function vtepMAC(bundle: string, node: string): string {
  const list = JSON.parse(readFileSync(join(bundle, 'cluster.json'), 'utf8'));
  const n = list.items.find((o: Raw) => o.kind === 'Node' && o.metadata.name === node);
  return JSON.parse(n.metadata.annotations['flannel.alpha.coreos.com/backend-data']).VtepMAC;
}

/**
 * Deletes the DNAT of svc/web's endpoint chain that no other endpoint follows: with iptables the
 * KUBE-SEP chain the KUBE-SVC chain jumps to last (its packets would otherwise fall through to
 * nothing), with nftables web-2's endpoint chain (the vmap's `goto`s never fall through).
 */
function deleteLastEndpointDnat(lab: Lab, nodeName: string): void {
  const ns = lab.node(nodeName).ns;
  if (lab.proxyMode === 'nftables') {
    const text = nsExec(ns, ['nft', '-a', 'list', 'table', 'ip', 'kube-proxy']);
    const chain = /^\s*chain (endpoint-\S+-shop\/web\/tcp\/http__10\.244\.2\.11\/8080) \{/m.exec(text)?.[1];
    if (!chain) throw new Error('no endpoint chain for web-2 in table ip kube-proxy');
    const body = text.slice(text.indexOf(`chain ${chain} {`));
    const handle = /dnat to [^\n]*# handle (\d+)/.exec(body.slice(0, body.indexOf('}')))?.[1];
    if (!handle) throw new Error(`no dnat rule in ${chain}`);
    nsExec(ns, ['nft', 'delete', 'rule', 'ip', 'kube-proxy', chain, 'handle', handle]);
    return;
  }
  const save = nsExec(ns, ['iptables-save', '-t', 'nat']).split('\n');
  const svc = save
    .find((l) => l.startsWith('-A KUBE-SERVICES ') && l.includes('-d 10.96.0.10/32'))
    ?.match(/-j (KUBE-SVC-\S+)/)?.[1];
  const sep = save
    .filter((l) => l.startsWith(`-A ${svc} `) && / -j KUBE-SEP-/.test(l))
    .pop()
    ?.match(/-j (KUBE-SEP-\S+)/)?.[1];
  if (!svc || !sep) throw new Error("no KUBE-SVC/KUBE-SEP chain for svc/web in node-1's nat table");
  const sepRules = save.filter((l) => l.startsWith(`-A ${sep} `));
  const index = sepRules.findIndex((l) => / -j DNAT /.test(l));
  if (index < 0) throw new Error(`no DNAT rule in ${sep}`);
  nsExec(ns, ['iptables', '-w', '5', '-t', 'nat', '-D', sep, String(index + 1)]);
}

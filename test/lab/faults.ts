// The fault matrix: each fault breaks one thing in a live lab the way it breaks on real
// clusters, names the probe that must show it, the kernel outcome that probe must get, and what
// knet's trace should answer on the bundle captured while the fault is in place.
//
// Every fault has an undo; the matrix test checks after each undo that the baseline path works
// again, so faults never leak into each other.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FindingCode } from '../../src/findings/catalog.js';
import type { Raw } from '../../src/model/normalize.js';
import { parseIpAddr, parseIpLink, parseIpRoute } from '../../src/parsers/iproute2.js';
import { ipForwarding, parseSysctl } from '../../src/parsers/sysctl.js';
import { ipn, nsExec } from './exec.js';
import { cloneObjects, findObject, type Overlay } from './scenario.js';
import { type Lab, type ProbeOutcome, sysctl, VXLAN_DEV } from './topology.js';

export type TraceVerdict = 'reachable' | 'unreachable' | 'partial' | 'unknown';

export interface FaultProbe {
  /** Source pod (namespace/name). */
  from: string;
  host: string;
  port: number;
  protocol?: 'tcp' | 'udp';
  big?: boolean;
  /** The same destination as a knet trace target. */
  target: string;
}

export interface Fault {
  id: string;
  title: string;
  overlay: Overlay;
  probe: FaultProbe;
  /** The kernel outcomes that count as "the fault shows" (a dropped SYN may time out or come
   * back as ICMP host unreachable once ARP gave up, depending on timing). */
  kernel: ProbeOutcome[];
  /** What knet trace must answer for the probe's source and destination. */
  verdict: TraceVerdict;
  finding: FindingCode;
  /** Where the fault is (for the matrix table). */
  where: string;
  apply(lab: Lab): void | Promise<void>;
  revert(lab: Lab): void | Promise<void>;
  /** Throws unless the captured bundle shows the fault (so knet has the evidence it needs). */
  evidence(bundle: string): void;
}

const CLIENT = 'shop/client';
const API_SVC = { host: '10.96.0.11', port: 80, target: 'svc/shop/api:80' };
const API_POD = 'shop/api-1';
const API_IP = '10.244.2.13';
const API_PORT = 9090;
const STALE_IP = '10.244.2.99';
const viaApiService: FaultProbe = { from: CLIENT, ...API_SVC };
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
      ipn(lab.node('node-2').ns, ['link', 'set', lab.pod(API_POD).hostVeth, 'master', 'cni0']);
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
    verdict: 'reachable',
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
];

const DROP_RULE = ['-d', `${API_IP}/32`, '-p', 'tcp', '-m', 'tcp', '--dport', String(API_PORT), '-j', 'DROP'];

/** The path each overlay's faults break, probed before and after every fault. */
export const BASELINE: Record<Overlay, FaultProbe[]> = {
  hostgw: [viaApiService],
  vxlan: [viaApiService, viaEchoService, { ...viaEchoService, big: true }],
};

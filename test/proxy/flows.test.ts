// Packet flows through kube-proxy rules captured from real tools (iptables-save and
// nft -j list ruleset after loading the generated rules into a network namespace).
import { describe, expect, it } from 'vitest';
import type { Packet, PacketFlow } from '../../src/analyses/proxy/packet.js';
import { classifyFlowDecision, loadNodeProxy, simulatePacket } from '../../src/analyses/proxy/simulate.js';
import { fixture, modelWithFiles, pkt } from './helpers.js';
import { NODE, NODE_IP } from './scenario.js';

const POD = '10.180.0.100';
const EXT = '203.0.113.9';

interface Expect {
  outcome: PacketFlow['outcome'];
  endpoints?: [string, number][];
  masquerade?: boolean;
  service?: string | null;
  decidedBy?: 'kube-proxy' | 'other';
  affinity?: number;
}

interface Case {
  name: string;
  packet: Packet;
  iptables: Expect;
  /** Defaults to the iptables expectation. */
  nftables?: Expect;
}

const both = (e: Expect): Pick<Case, 'iptables'> => ({ iptables: e });

const CASES: Case[] = [
  {
    name: 'ClusterIP from a pod, one endpoint',
    packet: pkt('pod', POD, '172.30.0.41:80'),
    ...both({
      outcome: 'dnat',
      endpoints: [['10.180.0.1:80', 1]],
      masquerade: false,
      service: 'ns1/svc1:p80',
    }),
  },
  {
    name: 'ClusterIP from off-cluster is masqueraded',
    packet: pkt('external', EXT, '172.30.0.41:80'),
    ...both({ outcome: 'dnat', endpoints: [['10.180.0.1:80', 1]], masquerade: true }),
  },
  {
    name: 'hairpin: the endpoint calls its own service',
    packet: pkt('pod', '10.180.0.1', '172.30.0.41:80'),
    ...both({ outcome: 'dnat', endpoints: [['10.180.0.1:80', 1]], masquerade: true }),
  },
  {
    name: 'ClusterIP without endpoints is rejected by kube-proxy',
    packet: pkt('pod', POD, '172.30.0.46:80'),
    ...both({ outcome: 'reject', service: 'ns6/svc6:p80', decidedBy: 'kube-proxy' }),
  },
  {
    name: 'ClusterIP on a port the service does not have',
    packet: pkt('pod', POD, '172.30.0.41:81'),
    iptables: { outcome: 'pass', service: null },
    nftables: { outcome: 'reject', decidedBy: 'kube-proxy' },
  },
  {
    name: 'ClusterIP with the wrong protocol',
    packet: pkt('pod', POD, '172.30.0.41:80', 'UDP'),
    iptables: { outcome: 'pass' },
    nftables: { outcome: 'reject', decidedBy: 'kube-proxy' },
  },
  {
    name: 'unallocated address in the service CIDR',
    packet: pkt('pod', POD, '172.30.9.9:80'),
    iptables: { outcome: 'pass', service: null },
    nftables: { outcome: 'drop', decidedBy: 'kube-proxy' },
  },
  {
    name: 'two endpoints: 1/2 each',
    packet: pkt('pod', POD, '172.30.0.44:80'),
    ...both({
      outcome: 'dnat',
      endpoints: [
        ['10.180.0.4:80', 0.5],
        ['10.180.0.5:80', 0.5],
      ],
      masquerade: false,
    }),
  },
  {
    name: 'DNS over UDP: three endpoints, 1/3 each',
    packet: pkt('pod', POD, '172.30.0.10:53', 'UDP'),
    ...both({
      outcome: 'dnat',
      endpoints: [
        ['10.180.0.7:53', 1 / 3],
        ['10.180.2.17:53', 1 / 3],
        ['10.180.2.7:53', 1 / 3],
      ],
      service: 'kube-system/kube-dns:dns',
    }),
  },
  {
    name: 'DNS over TCP is a different service port',
    packet: pkt('pod', POD, '172.30.0.10:53', 'TCP'),
    ...both({ outcome: 'dnat', service: 'kube-system/kube-dns:dns-tcp' }),
  },
  {
    name: 'NodePort from outside (eTP=Cluster) is masqueraded',
    packet: pkt('external', EXT, `${NODE_IP}:3003`),
    ...both({
      outcome: 'dnat',
      endpoints: [['10.180.0.3:80', 1]],
      masquerade: true,
      service: 'ns3/svc3:p80',
    }),
  },
  {
    name: 'localhost NodePort',
    packet: pkt('local', '127.0.0.1', '127.0.0.1:3003'),
    iptables: { outcome: 'dnat', endpoints: [['10.180.0.3:80', 1]], masquerade: true },
    nftables: { outcome: 'pass' },
  },
  {
    name: 'externalIP from outside',
    packet: pkt('external', EXT, '192.168.99.33:80'),
    ...both({
      outcome: 'dnat',
      endpoints: [
        ['10.180.0.4:80', 0.5],
        ['10.180.0.5:80', 0.5],
      ],
      masquerade: true,
    }),
  },
  {
    name: 'LB IP, eTP=Local, no local endpoint: external traffic dropped',
    packet: pkt('external', EXT, '1.2.3.4:80'),
    ...both({ outcome: 'drop', decidedBy: 'kube-proxy', service: 'ns2/svc2:p80' }),
  },
  {
    name: 'LB IP, eTP=Local, from a pod: short-circuited to all endpoints, not masqueraded',
    packet: pkt('pod', POD, '1.2.3.4:80'),
    ...both({ outcome: 'dnat', endpoints: [['10.180.0.2:80', 1]], masquerade: false }),
  },
  {
    name: 'LB IP, eTP=Local, from the node: all endpoints, masqueraded',
    packet: pkt('local', NODE_IP, '1.2.3.4:80'),
    ...both({ outcome: 'dnat', endpoints: [['10.180.0.2:80', 1]], masquerade: true }),
  },
  {
    name: 'NodePort, eTP=Local, no local endpoint: dropped',
    packet: pkt('external', EXT, `${NODE_IP}:3001`),
    ...both({ outcome: 'drop', decidedBy: 'kube-proxy' }),
  },
  {
    name: 'externalIP, eTP=Local, no local endpoint: dropped',
    packet: pkt('external', EXT, '192.168.99.22:80'),
    ...both({ outcome: 'drop', decidedBy: 'kube-proxy' }),
  },
  {
    name: 'externalIP, eTP=Local, from a pod',
    packet: pkt('pod', POD, '192.168.99.22:80'),
    ...both({ outcome: 'dnat', endpoints: [['10.180.0.2:80', 1]], masquerade: false }),
  },
  {
    name: 'LB source range: allowed source',
    packet: pkt('external', '203.0.113.5', '5.6.7.8:80'),
    ...both({ outcome: 'dnat', endpoints: [['10.180.0.3:80', 1]], masquerade: true, affinity: 10800 }),
  },
  {
    name: 'LB source range: other source dropped',
    packet: pkt('external', '198.51.100.1', '5.6.7.8:80'),
    ...both({ outcome: 'drop', decidedBy: 'kube-proxy', service: 'ns5/svc5:p80' }),
  },
  {
    name: 'NodePort of an LB with source ranges is not filtered',
    packet: pkt('external', '198.51.100.1', `${NODE_IP}:3002`),
    ...both({ outcome: 'dnat', endpoints: [['10.180.0.3:80', 1]] }),
  },
  {
    name: 'session affinity: reported, all candidates listed',
    packet: pkt('pod', POD, '172.30.0.45:80'),
    ...both({ outcome: 'dnat', endpoints: [['10.180.0.3:80', 1]], affinity: 10800, service: 'ns5/svc5:p80' }),
  },
  {
    name: 'source range containing the node IP: node allowed',
    packet: pkt('local', NODE_IP, '5.6.7.12:443'),
    ...both({
      outcome: 'dnat',
      endpoints: [['10.180.2.12:8443', 1]],
      masquerade: true,
      service: 'ns12/svc12',
    }),
  },
  {
    name: 'source range containing the node IP: LB IP as source allowed',
    packet: pkt('external', '5.6.7.12', '5.6.7.12:443'),
    ...both({ outcome: 'dnat', endpoints: [['10.180.2.12:8443', 1]] }),
  },
  {
    name: 'source range containing the node IP: others dropped',
    packet: pkt('external', '198.51.100.7', '5.6.7.12:443'),
    ...both({ outcome: 'drop', decidedBy: 'kube-proxy' }),
  },
  {
    name: 'iTP=Local without a local endpoint: dropped',
    packet: pkt('pod', POD, '172.30.0.47:80'),
    ...both({ outcome: 'drop', decidedBy: 'kube-proxy', service: 'ns7/svc7:p80' }),
  },
  {
    name: 'iTP=Local with a local endpoint: only that one',
    packet: pkt('pod', POD, '172.30.0.48:80'),
    ...both({ outcome: 'dnat', endpoints: [['10.180.0.8:80', 1]] }),
  },
  {
    name: 'only terminating endpoints: the serving one is used',
    packet: pkt('pod', POD, '172.30.0.49:80'),
    ...both({ outcome: 'dnat', endpoints: [['10.180.2.9:80', 1]] }),
  },
  {
    name: 'LB eTP=Local with a local endpoint, from outside: local only, source kept',
    packet: pkt('external', EXT, '5.6.7.10:80'),
    ...both({
      outcome: 'dnat',
      endpoints: [['10.180.0.10:8080', 1]],
      masquerade: false,
      service: 'ns10/svc10:http',
    }),
  },
  {
    name: 'LB eTP=Local with a local endpoint, from a pod: all endpoints',
    packet: pkt('pod', POD, '5.6.7.10:80'),
    ...both({
      outcome: 'dnat',
      endpoints: [
        ['10.180.0.10:8080', 0.5],
        ['10.180.2.10:8080', 0.5],
      ],
      masquerade: false,
    }),
  },
  {
    name: 'NodePort eTP=Local with a local endpoint',
    packet: pkt('external', EXT, `${NODE_IP}:3010`),
    ...both({ outcome: 'dnat', endpoints: [['10.180.0.10:8080', 1]], masquerade: false }),
  },
  {
    name: 'a pod IP directly: no kube-proxy rule decides',
    packet: pkt('pod', POD, '10.180.2.7:53', 'UDP'),
    ...both({ outcome: 'pass', service: null, endpoints: [] }),
  },
];

function check(flow: PacketFlow, e: Expect) {
  expect(flow.outcome).toBe(e.outcome);
  if (e.endpoints) {
    const got = flow.endpoints.map((x) => [`${x.ip}:${x.port}`, x.probability] as const);
    expect(got.map((g) => g[0])).toEqual(e.endpoints.map((x) => x[0]));
    got.forEach((g, i) => {
      expect(g[1]).toBeCloseTo(e.endpoints?.[i][1] ?? 0, 5);
    });
  }
  if (e.masquerade !== undefined) expect(flow.masquerade).toBe(e.masquerade);
  if (e.service !== undefined) expect(flow.service).toBe(e.service);
  if (e.decidedBy) expect(flow.decidedBy).toBe(e.decidedBy);
  if (e.affinity) expect(flow.sessionAffinity?.timeoutSeconds).toBe(e.affinity);
  if (flow.outcome !== 'pass') expect(flow.evidence.length).toBeGreaterThan(0);
  expect(flow.unknown).toBeUndefined();
}

describe('iptables flows (captured iptables-save)', () => {
  const model = modelWithFiles({ 'iptables-save.txt': fixture('iptables-save.scenario.txt') });
  const rules = loadNodeProxy(model, NODE);
  it('detects iptables mode', () => {
    expect(rules?.mode).toBe('iptables');
  });
  for (const c of CASES) {
    it(c.name, () => {
      check(simulatePacket(rules!, c.packet), c.iptables);
    });
  }
});

describe('nftables flows (captured nft -j list ruleset)', () => {
  const model = modelWithFiles({ 'nft.json': fixture('nft.scenario.json') });
  const rules = loadNodeProxy(model, NODE);
  it('detects nftables mode', () => {
    expect(rules?.mode).toBe('nftables');
  });
  for (const c of CASES) {
    it(c.name, () => {
      check(simulatePacket(rules!, c.packet), c.nftables ?? c.iptables);
    });
  }
});

describe('non-kube-proxy filter rules and unknown matches', () => {
  const base = fixture('iptables-save.scenario.txt');
  const withRule = (rule: string) => base.replace(/^(:OUTPUT ACCEPT \[0:0\]\n)/m, `$1${rule}\n`);
  it('a foreign DROP in FORWARD after DNAT is FILTER_DROP', () => {
    const model = modelWithFiles({ 'iptables-save.txt': withRule('-A FORWARD -d 10.180.0.1/32 -j DROP') });
    const flow = simulatePacket(loadNodeProxy(model, NODE)!, pkt('pod', POD, '172.30.0.41:80'));
    expect(flow.outcome).toBe('drop');
    expect(flow.decidedBy).toBe('other');
    expect(flow.decidingRule).toBe('-A FORWARD -d 10.180.0.1/32 -j DROP');
    expect(classifyFlowDecision(flow)).toBe('FILTER_DROP');
  });
  it('kube-proxy REJECT classifies as PROXY_REJECT', () => {
    const model = modelWithFiles({ 'iptables-save.txt': base });
    const flow = simulatePacket(loadNodeProxy(model, NODE)!, pkt('pod', POD, '172.30.0.46:80'));
    expect(classifyFlowDecision(flow)).toBe('PROXY_REJECT');
  });
  it('an unknown match on the path makes the flow unknown, not OK', () => {
    const model = modelWithFiles({
      'iptables-save.txt': withRule('-A FORWARD -m physdev --physdev-is-bridged -j DROP'),
    });
    const flow = simulatePacket(loadNodeProxy(model, NODE)!, pkt('pod', POD, '172.30.0.41:80'));
    expect(flow.unknown).toMatch(/physdev/);
  });
  it('a DROP policy on FORWARD drops when nothing accepts', () => {
    const model = modelWithFiles({ 'iptables-save.txt': base.replace(':FORWARD ACCEPT', ':FORWARD DROP') });
    const flow = simulatePacket(loadNodeProxy(model, NODE)!, pkt('pod', POD, '172.30.0.41:80'));
    expect(flow.outcome).toBe('drop');
    expect(flow.decidedBy).toBe('other');
  });
});

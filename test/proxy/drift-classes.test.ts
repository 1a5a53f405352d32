// Doctor's drift findings skip service ports whose checks fall in classes already simulated
// (drift-classes.ts). The oracle is the full simulation: driftFindings must equal
// driftFromRules' findings on every dump, whatever is wrong with it.
import { describe, expect, it } from 'vitest';
import { servicePortChainName } from '../../src/analyses/proxy/chain-names.js';
import { driftChecks, driftFindings, driftFromRules } from '../../src/analyses/proxy/drift.js';
import { iptablesDriftClasses } from '../../src/analyses/proxy/drift-classes.js';
import {
  renderKubeProxyIptables,
  servicePortRenderContext,
} from '../../src/analyses/proxy/expected-iptables.js';
import {
  expectedSharedRules,
  type VerifiedServicePorts,
} from '../../src/analyses/proxy/iptables-structure.js';
import { clusterCIDRFromModel } from '../../src/analyses/proxy/service-ports.js';
import { loadNodeProxy } from '../../src/analyses/proxy/simulate.js';
import { buildModel } from '../../src/model/build.js';
import type { ClusterModel } from '../../src/model/cluster.js';
import { memoryNodeFiles } from '../../src/model/node-files.js';
import type { Raw } from '../../src/model/normalize.js';
import { dumpViaChainTable } from '../support/iptables-dump.js';
import { fixture } from './helpers.js';
import { kubeProxyConfigMap, NODE, NODE_IP, node, OTHER_NODE, scenarioRaws, service } from './scenario.js';

const IPT = fixture('iptables-save.scenario.txt');

/**
 * A model whose node has `dump`; `indexed`: read through its chain table (when it can have one),
 * where the structure check compares each chain's text whole (IptablesTable.chainText).
 */
function withDump(raws: Raw[], dump: string, indexed = false): ClusterModel {
  return withDumps(raws, { [NODE]: dump }, indexed);
}

/** A model whose nodes have these dumps, each read through its chain table when `indexed`. */
function withDumps(raws: Raw[], dumps: Record<string, string>, indexed: boolean): ClusterModel {
  const files = memoryNodeFiles(
    Object.fromEntries(Object.entries(dumps).map(([n, d]) => [n, { 'iptables-save.txt': d }])),
  );
  // (undefined, for a dump that cannot have a table, reads it whole)
  if (indexed)
    files.indexedDump = (n, file) =>
      file === 'iptables-save.txt' && dumps[n] !== undefined ? dumpViaChainTable(dumps[n], file) : undefined;
  return buildModel(raws, files);
}

/** Fast findings equal the simulated ones; returns how many service ports had class keys. */
function expectSameFindings(model: ClusterModel, namespace?: string): number {
  const rules = loadNodeProxy(model, NODE);
  if (!rules) throw new Error('no rules');
  const full = driftFromRules(model, rules).findings.filter(
    (f) => namespace === undefined || f.objects.some((o) => o.startsWith(`svc/${namespace}/`)),
  );
  expect(driftFindings(model, rules, namespace)).toEqual(full);
  const classes = iptablesDriftClasses(model, rules);
  return rules.index.ports.filter((sp) => classes?.keys(sp, driftChecks(model, rules, sp))).length;
}

/** A cluster of many look-alike services, so that classes have several members. */
function manyRaws(): Raw[] {
  const raws: Raw[] = [
    node(NODE, NODE_IP, '10.180.0.0/24'),
    node(OTHER_NODE, '192.168.0.3', '10.180.2.0/24'),
    kubeProxyConfigMap('iptables'),
  ];
  for (let i = 0; i < 24; i++) {
    const n = 1 + (i % 3);
    raws.push(
      ...service({
        ns: `ns${i % 4}`,
        name: `svc${i}`,
        type: i % 6 === 5 ? 'NodePort' : i % 8 === 7 ? 'LoadBalancer' : 'ClusterIP',
        clusterIP: `172.30.1.${i + 1}`,
        ports: [
          {
            name: 'http',
            port: 80,
            targetPort: 8080,
            nodePort: i % 6 === 5 || i % 8 === 7 ? 31000 + i : undefined,
          },
        ],
        lbIPs: i % 8 === 7 ? [`5.6.8.${i}`] : undefined,
        etp: i % 16 === 15 ? 'Local' : undefined,
        affinity: i === 10,
        endpoints:
          i === 13
            ? []
            : Array.from({ length: n }, (_, e) => ({
                ip: `10.180.${e % 2 === 0 ? 0 : 2}.${10 + i * 4 + e}`,
                node: e % 2 === 0 ? NODE : OTHER_NODE,
                ready: !(i === 9 && e === 1),
              })),
      }),
    );
  }
  return raws;
}

/** A small deterministic generator (mulberry32). */
function rng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Rules someone else might add: tied to an endpoint or a VIP, or not tied at all. */
const FOREIGN = [
  '-A FORWARD -d 10.180.0.14/32 -p tcp -m tcp --dport 8080 -j DROP',
  '-A FORWARD -d 10.180.2.0/24 -j REJECT',
  '-A FORWARD -d 10.180.0.0/24 -p tcp -m multiport --dports 8080,9090 -j DROP',
  '-A FORWARD -m iprange --dst-range 10.180.0.20-10.180.0.40 -j DROP',
  '-A FORWARD -m addrtype --dst-type LOCAL -j DROP',
  '-A INPUT -d 10.180.0.0/16 -j DROP',
  '-A FORWARD -j DROP',
  '-A FORWARD -i eth0 -j DROP',
  '-A FORWARD -o eth0 -j ACCEPT',
  '-A FORWARD -m physdev --physdev-is-bridged -j DROP',
  '-A FORWARD -p udp -j DROP',
  '-A FORWARD ! -d 10.180.0.0/24 -j DROP',
  '-A FORWARD -m mark --mark 0x4000/0x4000 -j DROP',
];
const FOREIGN_NAT = [
  '-A PREROUTING -d 172.30.1.5/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.9.9.9:80',
  '-A PREROUTING -d 172.30.1.0/28 -j RETURN',
  '-A PREROUTING -d 172.30.1.16/28 -j RETURN',
  '-A PREROUTING -p tcp -m tcp --dport 31005 -j RETURN',
  '-A PREROUTING -j MARK --set-xmark 0x4000/0x4000',
  '-A PREROUTING -m statistic --mode random --probability 0.5 -j RETURN',
  '-A KUBE-SERVICES -d 172.30.1.3/32 -p tcp -m tcp --dport 80 -j KUBE-MARK-MASQ',
  '-A KUBE-SERVICES -d 172.30.1.0/24 -j RETURN',
  '-A KUBE-SERVICES -p tcp -j RETURN',
  '-A KUBE-SERVICES -j KUBE-SVC-X27LE4BHSL4DOUIK',
  '-A POSTROUTING -d 10.180.2.0/24 -j MASQUERADE',
];

/** Inserts `rule` before the `at`-th rule of its chain (at the end when there are fewer). */
function insertRule(dump: string, table: string, rule: string, at: number): string {
  const lines = dump.split('\n');
  const prefix = `${rule.split(' ', 2).join(' ')} `;
  const start = lines.indexOf(`*${table}`);
  const end = lines.indexOf('COMMIT', start);
  const mine = lines
    .map((l, i) => (i > start && i < end && l.startsWith(prefix) ? i : -1))
    .filter((i) => i >= 0);
  const where = mine[at] ?? (mine.length ? mine[mine.length - 1] + 1 : end);
  lines.splice(where, 0, rule);
  return lines.join('\n');
}

function mutate(dump: string, random: () => number): string {
  const lines = dump.split('\n');
  const pick = (n: number) => Math.floor(random() * n);
  const rules = lines.map((l, i) => (l.startsWith('-A ') ? i : -1)).filter((i) => i >= 0);
  const kind = pick(7);
  if (kind === 0) lines.splice(rules[pick(rules.length)], 1);
  else if (kind === 1) {
    const i = rules[pick(rules.length)];
    lines.splice(i, 0, lines[i]);
  } else if (kind === 2) {
    const i = rules[pick(rules.length)];
    lines[i] = lines[i].replace(/(\d+)(?!.*\d)/, (d) => String(Number(d) + 1));
  } else if (kind === 3) {
    const i = rules[pick(rules.length)];
    lines[i] = lines[i].replace(/10\.180\.(\d+)\.(\d+)/, '10.180.$1.99');
  } else if (kind === 4) return insertRule(dump, 'filter', FOREIGN[pick(FOREIGN.length)], pick(6));
  else if (kind === 5) return insertRule(dump, 'nat', FOREIGN_NAT[pick(FOREIGN_NAT.length)], pick(30));
  else lines[lines.indexOf(':FORWARD ACCEPT [0:0]')] = ':FORWARD DROP [0:0]';
  return lines.join('\n');
}

describe('drift findings through classes equal the full simulation', () => {
  it('the scenario as iptables-save printed it (canonical comparison)', () => {
    const keyed = expectSameFindings(withDump(scenarioRaws(), IPT));
    expect(keyed).toBeGreaterThan(8);
  });

  it('the scenario without comments, and one namespace', () => {
    const stripped = IPT.replace(/ -m comment --comment "[^"]*"/g, '');
    expectSameFindings(withDump(scenarioRaws(), stripped));
    expectSameFindings(withDump(scenarioRaws(), IPT), 'ns4');
  });

  it("rules written by knet's generator (text comparison), with and without jump rules", () => {
    const raws = manyRaws();
    const text = renderKubeProxyIptables(buildModel(raws), NODE);
    const keyed = expectSameFindings(withDump(raws, text));
    expect(keyed).toBe(24);
    expectSameFindings(withDump(raws, renderKubeProxyIptables(buildModel(raws), NODE, { jumpRules: false })));
  });

  it('the API moved on: endpoints added and removed, a service added, one deleted', () => {
    const raws = manyRaws();
    const text = renderKubeProxyIptables(buildModel(raws), NODE);
    const edited = raws
      .filter(
        (r) => r.metadata?.name !== 'svc4' && r.metadata?.labels?.['kubernetes.io/service-name'] !== 'svc4',
      )
      .map((r) =>
        r.kind === 'EndpointSlice' && r.metadata?.labels?.['kubernetes.io/service-name'] === 'svc7'
          ? {
              ...r,
              endpoints: [
                ...(r.endpoints as Raw[]),
                { addresses: ['10.180.0.250'], conditions: { ready: true } },
              ],
            }
          : r,
      );
    edited.push(
      ...service({ ns: 'ns9', name: 'late', clusterIP: '172.30.9.9', endpoints: [{ ip: '10.180.0.251' }] }),
    );
    expectSameFindings(withDump(edited, text));
  });

  it('an endpoint on the node itself (hostNetwork) and one at the pod source address', () => {
    const raws = manyRaws();
    raws.push(
      ...service({
        ns: 'ns8',
        name: 'host',
        clusterIP: '172.30.8.1',
        endpoints: [{ ip: NODE_IP, node: NODE }, { ip: '10.180.2.200' }],
      }),
      ...service({ ns: 'ns8', name: 'hairpin', clusterIP: '172.30.8.2', endpoints: [{ ip: '10.180.0.1' }] }),
    );
    expectSameFindings(withDump(raws, renderKubeProxyIptables(buildModel(raws), NODE)));
  });

  // The first service port of a class is fine, a later one is not: the class must not cover it.
  const later: [string, string, string, number][] = [
    ['a rule on later VIPs before KUBE-SERVICES', 'nat', '-A PREROUTING -d 172.30.1.16/28 -j RETURN', 0],
    [
      'a DROP tied to an endpoint',
      'filter',
      '-A FORWARD -d 10.180.0.14/32 -p tcp -m tcp --dport 8080 -j DROP',
      0,
    ],
    ['a RETURN halfway down KUBE-SERVICES', 'nat', '-A KUBE-SERVICES -j RETURN', 12],
    ['a REJECT of remote endpoints', 'filter', '-A FORWARD -d 10.180.2.0/24 -j REJECT', 0],
    [
      'a DROP of masqueraded packets (hairpin)',
      'filter',
      '-A FORWARD -m mark --mark 0x4000/0x4000 -j DROP',
      0,
    ],
  ];
  for (const [what, table, rule, at] of later) {
    it(`a later member of a class differs: ${what}`, () => {
      const raws = manyRaws();
      raws.push(
        ...service({
          ns: 'ns8',
          name: 'hairpin',
          clusterIP: '172.30.8.2',
          endpoints: [{ ip: '10.180.0.1' }],
        }),
      );
      const dump = insertRule(renderKubeProxyIptables(buildModel(raws), NODE), table, rule, at);
      const model = withDump(raws, dump);
      const rules = loadNodeProxy(model, NODE);
      expect(driftFromRules(model, rules!).findings.length).toBeGreaterThan(0);
      expectSameFindings(model);
    });
  }

  it('a REJECT of remote endpoints in a chain FORWARD jumps to', () => {
    const raws = manyRaws();
    let dump = renderKubeProxyIptables(buildModel(raws), NODE).replace(
      '*filter\n',
      '*filter\n:CUSTOM - [0:0]\n',
    );
    dump = insertRule(dump, 'filter', '-A FORWARD -j CUSTOM', 0);
    dump = insertRule(dump, 'filter', '-A CUSTOM -d 10.180.2.0/24 -j REJECT', 0);
    expectSameFindings(withDump(raws, dump));
  });

  it("a later service's entry rule jumps into another service's chain", () => {
    const raws = manyRaws();
    const text = renderKubeProxyIptables(buildModel(raws), NODE);
    const entry = text
      .split('\n')
      .find((l) => l.startsWith('-A KUBE-SERVICES') && l.includes(' 172.30.1.21 '));
    expect(entry).toBeDefined();
    const other = servicePortChainName('ns0/svc0:http', 'tcp');
    const model = withDump(raws, text.replace(entry!, entry!.replace(/-j \S+$/, `-j ${other}`)));
    expect(driftFromRules(model, loadNodeProxy(model, NODE)!).findings.length).toBeGreaterThan(0);
    expectSameFindings(model);
  });

  it("a foreign jump into one service's chain (it looks fine, its look-alikes do not)", () => {
    const raws = manyRaws();
    const jump = `-A KUBE-SERVICES -j ${servicePortChainName('ns1/svc5:http', 'tcp')}`;
    const dump = insertRule(renderKubeProxyIptables(buildModel(raws), NODE), 'nat', jump, 0);
    expectSameFindings(withDump(raws, dump));
  });

  it('the shape of the rules: eTP=Local first (not masqueraded), eTP=Cluster later (masqueraded)', () => {
    const lb = (name: string, etp: 'Local' | 'Cluster', n: number) =>
      service({
        ns: 'lb',
        name,
        type: 'LoadBalancer',
        clusterIP: `172.30.3.${n}`,
        ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 32000 + n }],
        lbIPs: [`5.6.9.${n}`],
        etp,
        endpoints: [{ ip: `10.180.0.${100 + n}`, node: NODE }],
      });
    const raws = [...manyRaws().slice(0, 3), ...lb('local', 'Local', 1), ...lb('cluster', 'Cluster', 2)];
    const drop = '-A FORWARD -m mark --mark 0x4000/0x4000 -j DROP';
    const model = withDump(
      raws,
      insertRule(renderKubeProxyIptables(buildModel(raws), NODE), 'filter', drop, 0),
    );
    expect(driftFromRules(model, loadNodeProxy(model, NODE)!).findings.length).toBeGreaterThan(0);
    expectSameFindings(model);
  });

  it('dumps read through their chain tables (each chain compared as one text)', () => {
    const raws = manyRaws();
    const text = renderKubeProxyIptables(buildModel(raws), NODE);
    const model = withDump(raws, text, true);
    expect(loadNodeProxy(model, NODE)?.iptables?.tables.get('nat')?.chainText).toBeDefined();
    expect(expectSameFindings(model)).toBe(24);
    expect(expectSameFindings(withDump(scenarioRaws(), IPT, true))).toBeGreaterThan(8);
    const random = rng(7);
    for (let i = 0; i < 60; i++) {
      const dump = mutate(text, random);
      const indexed = withDump(raws, dump, true);
      expectSameFindings(indexed);
      const whole = withDump(raws, dump);
      expect(driftFindings(indexed, loadNodeProxy(indexed, NODE)!)).toEqual(
        driftFindings(whole, loadNodeProxy(whole, NODE)!),
      );
    }
  });

  it('200 random edits of a generated dump (deleted, duplicated and altered rules, foreign rules)', () => {
    const raws = manyRaws();
    const text = renderKubeProxyIptables(buildModel(raws), NODE);
    const random = rng(42);
    for (let i = 0; i < 200; i++) {
      let dump = mutate(text, random);
      if (random() < 0.3) dump = mutate(dump, random);
      expectSameFindings(withDump(raws, dump));
    }
  });
});

describe("a second node's check reuses the first one's (rules that do not depend on the node)", () => {
  const findingsOf = (model: ClusterModel, n: string) => driftFindings(model, loadNodeProxy(model, n)!);

  it('an edit on the second node is found as if it were checked alone', () => {
    const raws = manyRaws();
    const first = renderKubeProxyIptables(buildModel(raws), NODE);
    const second = renderKubeProxyIptables(buildModel(raws), OTHER_NODE);
    const random = rng(11);
    let quiet = 0;
    for (let i = 0; i < 80; i++) {
      const indexed = i % 2 === 0;
      // The first node's own rules on the second node too: right for every port but those
      // with local endpoints (svc15's only endpoint is on the first node).
      const dump = i < 2 ? first : mutate(second, random);
      const both = withDumps(raws, { [NODE]: first, [OTHER_NODE]: dump }, indexed);
      // (svc13 has no endpoints: rejected, as kube-proxy does.)
      expect(findingsOf(both, NODE).map((f) => f.code)).toEqual(['PROXY_REJECT']);
      const after = findingsOf(both, OTHER_NODE);
      // The oracles: the second node alone (nothing to reuse), and the full simulation.
      const alone = withDumps(raws, { [OTHER_NODE]: dump }, indexed);
      expect(after).toEqual(findingsOf(alone, OTHER_NODE));
      expect(after).toEqual(driftFromRules(both, loadNodeProxy(both, OTHER_NODE)!).findings);
      if (after.length === 0) quiet++;
      if (i < 2) expect(after.map((f) => f.message).join('\n')).toContain('ns3/svc15:http');
    }
    // Some edits change nothing the check sees (a duplicated rule after a jump…): not all found.
    expect(quiet).toBeLessThan(80);
  });

  it("the first node's verdict is reused only for the same text and a port that is no node's own", () => {
    const raws = manyRaws();
    const first = renderKubeProxyIptables(buildModel(raws), NODE);
    const second = renderKubeProxyIptables(buildModel(raws), OTHER_NODE);
    const model = withDumps(raws, { [NODE]: first, [OTHER_NODE]: second }, true);
    const a = loadNodeProxy(model, NODE)!;
    const b = loadNodeProxy(model, OTHER_NODE)!;
    const ctx = servicePortRenderContext(a.index.ports, {
      clusterCIDR: clusterCIDRFromModel(model, 4),
      nodeIPs: [NODE_IP],
    });
    const verified: VerifiedServicePorts = new Map();
    const bPort = (spn: string) => b.index.ports.find((p) => p.spn === spn)!;
    const shared = a.index.ports.find((p) => p.spn === 'ns0/svc0:http')!;
    const local = a.index.ports.find((p) => p.externalPolicyLocal)!;
    const own = expectedSharedRules(a.iptables!, shared, ctx, verified);
    expect(own).toBeDefined();
    expect(expectedSharedRules(a.iptables!, local, ctx, verified)).toBeDefined();
    expect(verified.has(`${shared.spn}\u0000tcp`)).toBe(true);
    expect(verified.has(`${local.spn}\u0000tcp`)).toBe(false);
    // The same chains on the other node: the first node's answer, not a new one.
    expect(expectedSharedRules(b.iptables!, bPort(shared.spn), ctx, verified)).toBe(own);
    expect(expectedSharedRules(b.iptables!, bPort(local.spn), ctx, verified)).toBeDefined();
    // One endpoint chain's DNAT changed on the other node: checked, and refused.
    const sep = /-A (KUBE-SEP-\S+) .*--to-destination 10\.180\.0\.10:8080/.exec(second)![1];
    const edited = second.replace(
      new RegExp(`(-A ${sep} .*--to-destination) 10\\.180\\.0\\.10:8080`),
      '$1 10.180.0.11:8080',
    );
    const bad = withDumps(raws, { [NODE]: first, [OTHER_NODE]: edited }, true);
    const b2 = loadNodeProxy(bad, OTHER_NODE)!;
    expect(
      expectedSharedRules(b2.iptables!, b2.index.ports.find((p) => p.spn === shared.spn)!, ctx, verified),
    ).toBeUndefined();
  });
});

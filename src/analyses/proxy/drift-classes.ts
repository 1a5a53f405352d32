// Classes of drift checks that the rules treat alike (iptables mode), so that doctor runs one
// packet per class instead of one per service port: 10,000 services fan out into ~200,000
// endpoint branches, each walked through filter and POSTROUTING, where one walk per class
// tells the same.
//
// Two checks (packets of driftChecks) get the same key only when their walks through the
// dump are the same up to renaming the service's own addresses, ports, chains and endpoints,
// and up to how many endpoint branches a ladder forks into (branches that are alike):
// - the service port's per-service chains are exactly kube-proxy's for it (structure check),
//   and its expected rules have the same shape (the key's `shape`: what the generator's
//   output depends on, other than names, addresses, ports and ladder lengths);
// - the shared rules tied to the packet's destination and port are the service port's own
//   (its entry rule in nat KUBE-SERVICES or KUBE-NODEPORTS, its filter DROP or REJECT),
//   exactly as expected, after the same number of untied rules of their chains;
// - every other rule ("shared": outside per-service chains) answers the same for both, and
//   for every endpoint after DNAT: rules tied to one destination port match none of them
//   (else no class), other rules that look at the destination answer alike (the key's
//   vectors), and nothing else differs (same source, protocol, entry, hence marks).
// So the first check of a class that adds no finding when simulated (drift.ts) stands for
// every other one.
//
// A service port not in this form (missing or stale rules, a foreign rule on its path…) has
// no keys and is simulated on its own.

import type { ClusterModel } from '../../model/cluster.js';
import { perModel } from '../../model/memo.js';
import { chainRuleAt, chainRuleTexts } from '../../model/rule-lines.js';
import type { IptablesChain, IptablesDump, IptablesRule } from '../../parsers/iptables-save.js';
import { classifyKubeChain } from './chain-names.js';
import type { DriftCheck } from './drift.js';
import { servicePortRenderContext } from './expected-iptables.js';
import {
  canonicalHost,
  destinationView,
  matchRule,
  packetKeys,
  ruleKey,
  textKey,
  type WalkState,
} from './iptables-eval.js';
import { expectedSharedRules, sameRule, type VerifiedServicePorts } from './iptables-structure.js';
import { clusterCIDRFromModel, nodeIPsOf, type ProxyServicePort } from './service-ports.js';
import { isLocalAddress, type NodeProxyRules } from './simulate.js';

interface TiedRule {
  table: string;
  chain: IptablesChain;
  position: number;
  /** The rule's line (compared as sameRule compares). */
  text: string;
}

/** The rules of a dump outside per-service chains, indexed as the classes need them. */
interface SharedRules {
  /** Rules tied to one destination port (ruleKey), by key. */
  tied: Map<string, TiedRule[]>;
  /** The ports of those rules: most packets' ports are none of them. */
  tiedPorts: Set<number>;
  /**
   * The hosts ("*" for any) of those keys, by their "proto|port": an endpoint is looked up by
   * its own address, whose hash its string keeps, not by a key made for it.
   */
  tiedHosts: Map<string, Set<string>>;
  /** Positions of the other rules, per chain. */
  untied: Map<IptablesChain, number[]>;
  /**
   * Destination views of the untied rules that look at the destination; `afterDnat` when a
   * packet can meet the rule after kube-proxy's DNAT.
   */
  destination: { view: IptablesRule; afterDnat: boolean }[];
  /** An untied rule jumps into a per-service chain: such chains are no service's alone. */
  entersServiceChains: boolean;
}

/** Where a drift packet goes after kube-proxy's DNAT: INPUT or FORWARD, then POSTROUTING. */
const AFTER_DNAT: [string, string][] = [
  ['mangle', 'INPUT'],
  ['filter', 'INPUT'],
  ['mangle', 'FORWARD'],
  ['filter', 'FORWARD'],
  ['mangle', 'POSTROUTING'],
  ['nat', 'POSTROUTING'],
];

/** The chains those hooks run, and the chains they jump to. */
function chainsAfterDnat(dump: IptablesDump): Set<IptablesChain> {
  const seen = new Set<IptablesChain>();
  const visit = (table: string, name: string) => {
    const chain = dump.tables.get(table)?.chains.get(name);
    if (!chain || seen.has(chain)) return;
    seen.add(chain);
    for (const r of chain.rules) if (r.target) visit(table, r.target);
  };
  for (const [table, hook] of AFTER_DNAT) visit(table, hook);
  return seen;
}

function sharedRules(dump: IptablesDump): SharedRules {
  const afterDnat = chainsAfterDnat(dump);
  const shared: SharedRules = {
    tied: new Map(),
    tiedPorts: new Set(),
    tiedHosts: new Map(),
    untied: new Map(),
    destination: [],
    entersServiceChains: false,
  };
  for (const [table, t] of dump.tables) {
    // By name first: a per-service chain (190,000 in a large dump) is not made to be skipped.
    for (const name of t.chains.keys()) {
      if (classifyKubeChain(name)) continue;
      const chain = t.chains.get(name) as IptablesChain;
      const untied: number[] = [];
      // kube-proxy's KUBE-SERVICES lines (13,000) are keyed by their text, as the evaluator
      // keys them; the other lines are tokenized one by one.
      chainRuleTexts(chain).forEach((text, position) => {
        const k = textKey(text) ?? ruleKey(chainRuleAt(chain, position));
        if (k !== undefined) {
          const list = shared.tied.get(k);
          const tied = { table, chain, position, text };
          if (list) list.push(tied);
          else shared.tied.set(k, [tied]);
          const port = k.lastIndexOf('|');
          shared.tiedPorts.add(Number(k.slice(port + 1)));
          // Split before "proto|port", which hold no "|".
          const host = k.lastIndexOf('|', port - 1);
          const hosts = shared.tiedHosts.get(k.slice(host + 1));
          if (hosts) hosts.add(k.slice(0, host));
          else shared.tiedHosts.set(k.slice(host + 1), new Set([k.slice(0, host)]));
          return;
        }
        untied.push(position);
        const rule = chainRuleAt(chain, position);
        const view = destinationView(rule);
        if (view) shared.destination.push({ view, afterDnat: afterDnat.has(chain) });
        if (rule.target && classifyKubeChain(rule.target)) shared.entersServiceChains = true;
      });
      shared.untied.set(chain, untied);
    }
  }
  return shared;
}

/** What kube-proxy's rules for a service port look like (names, addresses, ports and ladder lengths aside). */
function shapeKey(sp: ProxyServicePort): string {
  return JSON.stringify([
    sp.family,
    sp.protocol,
    sp.internalPolicyLocal,
    sp.externalPolicyLocal,
    sp.usesClusterEndpoints,
    sp.usesLocalEndpoints,
    sp.externallyAccessible,
    sp.hasEndpoints,
    sp.hasInternalEndpoints,
    sp.hasExternalEndpoints,
    // Not how many: a ladder forks the packet into one branch per endpoint, and the branches
    // are alike but for the endpoint (below), so their number changes no finding.
    sp.clusterEndpoints.length > 0,
    sp.localEndpoints.length > 0,
    sp.externalIPs.length,
    sp.loadBalancerIPs.length,
    sp.sourceRanges,
    Boolean(sp.nodePort),
    Boolean(sp.healthCheckNodePort),
    sp.affinityTimeout ?? null,
  ]);
}

export interface DriftClasses {
  /**
   * One class key per check (in the order given), or undefined when the service port must be
   * simulated on its own.
   */
  keys(sp: ProxyServicePort, checks: DriftCheck[]): string[] | undefined;
}

/** The classes of a node's drift checks; undefined when the node is not in iptables mode. */
export function iptablesDriftClasses(model: ClusterModel, rules: NodeProxyRules): DriftClasses | undefined {
  if (rules.mode !== 'iptables') return undefined;
  const families = new Map<4 | 6, ReturnType<typeof familyClasses>>();
  return {
    keys(sp, checks) {
      let f = families.get(sp.family);
      if (f === undefined) {
        f = familyClasses(model, rules, sp.family);
        families.set(sp.family, f);
      }
      return f?.(sp, checks);
    },
  };
}

const verifiedPorts = perModel<VerifiedServicePorts>();

function familyClasses(model: ClusterModel, rules: NodeProxyRules, family: 4 | 6) {
  const dump = family === 6 ? rules.ip6tables : rules.iptables;
  if (!dump) return undefined;
  const shared = sharedRules(dump);
  if (shared.entersServiceChains) return undefined;
  const render = servicePortRenderContext(
    rules.index.ports.filter((p) => p.family === family),
    { clusterCIDR: clusterCIDRFromModel(model, family), nodeIPs: nodeIPsOf(model, rules.node, family) },
  );
  // Shared by the nodes of the model that render alike (the node IP only names a node-dependent port's rules).
  const verified = verifiedPorts(
    model,
    JSON.stringify([family, { ...render, nodeIP: undefined }]),
    () => new Map(),
  );
  const isLocal = (ip: string) => isLocalAddress(rules, ip);
  const ctx = { dump, isLocal };
  /**
   * Whether (dst, port) is local, and how the untied rules that look at the destination answer
   * it, one letter each: every such rule, or (for an endpoint) those a packet meets after DNAT.
   */
  const destinationVector = (dst: string, proto: WalkState['proto'], dport: number, endpoint: boolean) => {
    const st: WalkState = { src: '', dst, dport, proto, mark: 0, weight: 1, masquerade: false };
    let v = isLocal(dst) ? 'L' : 'R';
    for (const d of shared.destination)
      if (!endpoint || d.afterDnat) v += matchRule(d.view, st, ctx).result[0];
    return v;
  };
  return (sp: ProxyServicePort, checks: DriftCheck[]): string[] | undefined => {
    const own = expectedSharedRules(dump, sp, render, verified);
    if (!own) return undefined;
    // Addresses that coincide (a source that is an endpoint, two addresses of the service…)
    // make rules of the service match where they would not for another: no class.
    const addresses = new Set(checks.map((c) => c.packet.destination));
    if (addresses.size !== checks.length) return undefined;
    const taken = new Set(addresses);
    for (const c of checks) {
      if (addresses.has(c.packet.source)) return undefined;
      taken.add(c.packet.source);
    }
    // After DNAT: no rule tied to an endpoint's port, and every endpoint alike.
    let after = '';
    let tiedPort = -1;
    let hosts: Set<string> | undefined;
    for (const e of sp.allReachable) {
      if (taken.has(e.ip)) return undefined;
      // As packetKeys(e.ip, …).some((k) => shared.tied.has(k)), for the port of the last endpoint.
      if (shared.tiedPorts.has(e.port)) {
        if (e.port !== tiedPort) {
          tiedPort = e.port;
          hosts = shared.tiedHosts.get(`${sp.protocol}|${e.port}`);
        }
        if (hosts && (hosts.has('*') || hosts.has(canonicalHost(e.ip)))) return undefined;
      }
      const v = destinationVector(e.ip, sp.protocol, e.port, true);
      if (after === '') after = v;
      else if (v !== after) return undefined;
    }
    const shape = shapeKey(sp);
    const keys: string[] = [];
    for (const c of checks) {
      const { source, destination, port, from } = c.packet;
      // The shared rules tied to the packet are the service port's own (its entry rule, and
      // the filter rule that drops or rejects it when it has no endpoints), one per chain.
      const packet = packetKeys(destination, sp.protocol, port);
      const mine = own.filter((o) => o.key !== undefined && packet.includes(o.key));
      const tied = packet.flatMap((k) => shared.tied.get(k) ?? []);
      if (tied.length !== mine.length || new Set(tied.map((t) => t.chain)).size !== tied.length)
        return undefined;
      const where: string[] = [];
      for (const t of tied) {
        const o = mine.find(
          (m) => m.table === t.table && m.chain === t.chain.name && sameRule(t.text, m.line),
        );
        if (!o) return undefined;
        const before = (shared.untied.get(t.chain) ?? []).filter((p) => p < t.position).length;
        where.push(`${t.table}:${t.chain.name}:${before}`);
      }
      const dv = destinationVector(destination, sp.protocol, port, false);
      keys.push([c.kind, source, from, shape, where.sort().join(','), dv, after].join(' '));
    }
    return keys;
  };
}

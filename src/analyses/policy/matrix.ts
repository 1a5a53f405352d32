// knet policy --matrix: who can reach whom among a namespace's pods. Index-driven: the pods
// each policy selects and each rule's peers and ports are computed once, as bitsets over the
// namespace's pods, so a 500-pod × 300-policy namespace is a few million word operations, not
// 250 000 full evaluations. Pods the fast path does not model (hostNetwork, no IP yet) go
// through evaluatePolicy, so both paths give the same answer by construction.

import { ipFamily, isIP } from '../../core/ip.js';
import { collectFindings } from '../../findings/collector.js';
import type { Finding } from '../../findings/types.js';
import type { ClusterModel } from '../../model/cluster.js';
import type { NetworkPolicy, NetworkPolicyRule, Pod, Protocol } from '../../model/types.js';
import { affectsDirection, type Direction, describeRule, policyKey, ruleLabel, rulesOf } from './describe.js';
import { enforcementFindings, evaluatePolicy, namespaceLabels, type Verdict } from './evaluate.js';
import { addressOfFamily, ENDPORT_NOTE, matchPeers, matchPort, type PolicyPeer } from './match.js';
import { validatePolicy } from './validate.js';

/** One line of the legend: what decided one half of one or more cells. */
export interface MatrixExplanation {
  id: number;
  direction: Direction;
  verdict: Verdict;
  /** The allowing rule (verdict allowed). */
  policy?: string;
  rule?: number;
  /** The isolating policies (verdict denied/unknown). */
  policies: string[];
  text: string;
}

export interface MatrixCell {
  from: string;
  to: string;
  port: number | null;
  protocol: Protocol | null;
  allowed: boolean | null;
  verdict: Verdict;
  /** Explanation id of the egress half (source side); null = not isolated, nothing to explain. */
  egress: number | null;
  /** Explanation id of the ingress half (destination side); null = not isolated. */
  ingress: number | null;
}

export interface PolicyMatrix {
  namespace: string;
  /** The asked port, or null: then every port each destination declares is checked. */
  port: number | null;
  protocol: Protocol;
  pods: string[];
  /** One per (from, to, port); pairs whose destination declares no port (without --port) are unknown. */
  cells: MatrixCell[];
  explanations: MatrixExplanation[];
  findings: Finding[];
  notes: string[];
}

// ---------------------------------------------------------------------------------------------
// Bitsets over the namespace's pods

type Bits = Uint32Array;
const newBits = (n: number): Bits => new Uint32Array((n + 31) >>> 5);
const setBit = (b: Bits, i: number) => {
  b[i >>> 5] |= 1 << (i & 31);
};
const hasBit = (b: Bits, i: number) => (b[i >>> 5] & (1 << (i & 31))) !== 0;

interface RuleInfo {
  policy: NetworkPolicy;
  key: string;
  direction: Direction;
  index: number;
  rule: NetworkPolicyRule;
  /** Pods (as the other end) the rule's peers match, per address family. */
  peers: Map<4 | 6 | 0, Bits>;
  /** Its legend entry, once made. */
  explanation?: number;
}

interface Query {
  port: number;
  protocol: Protocol;
}

class MatrixBuilder {
  readonly pods: Pod[];
  readonly index = new Map<Pod, number>();
  /** Pods the fast path handles: pod network, with an address. */
  readonly regular: boolean[];
  readonly peers: PolicyPeer[][] = [];
  readonly egressRules: RuleInfo[][];
  readonly ingressRules: RuleInfo[][];
  readonly egressPolicies: string[][];
  readonly ingressPolicies: string[][];
  readonly explanations: MatrixExplanation[] = [];
  private readonly explanationIds = new Map<string, number>();
  readonly notes = new Set<string>();

  constructor(
    readonly model: ClusterModel,
    readonly namespace: string,
  ) {
    this.pods = [...model.podsInNamespace(namespace)].sort((a, b) => a.name.localeCompare(b.name));
    for (const [i, p] of this.pods.entries()) this.index.set(p, i);
    this.regular = this.pods.map((p) => !p.hostNetwork && p.ips.length > 0 && isIP(p.ips[0]));
    const labels = namespaceLabels(model, namespace);
    const peerOf = (pod: Pod, family: 4 | 6 | undefined): PolicyPeer => ({
      type: 'pod',
      pod,
      ip: addressOfFamily(pod.ips, family),
      namespaceLabels: labels,
    });
    for (const pod of this.pods) this.peers.push([peerOf(pod, undefined), peerOf(pod, 4), peerOf(pod, 6)]);
    this.egressRules = this.pods.map(() => []);
    this.ingressRules = this.pods.map(() => []);
    this.egressPolicies = this.pods.map(() => []);
    this.ingressPolicies = this.pods.map(() => []);
    for (const policy of model.policiesInNamespace(namespace)) {
      // The pods the policy selects, once, through the label index.
      const selected = model
        .podsMatchingSelector(namespace, policy.podSelector)
        .map((p) => this.index.get(p))
        .filter((i): i is number => i !== undefined && !this.pods[i].hostNetwork);
      if (selected.length === 0) continue;
      for (const direction of ['egress', 'ingress'] as Direction[]) {
        if (!affectsDirection(policy, direction)) continue;
        const infos: RuleInfo[] = rulesOf(policy, direction).map((rule, index) => ({
          policy,
          key: policyKey(policy),
          direction,
          index,
          rule,
          peers: new Map(),
        }));
        for (const i of selected) {
          (direction === 'egress' ? this.egressPolicies : this.ingressPolicies)[i].push(policyKey(policy));
          (direction === 'egress' ? this.egressRules : this.ingressRules)[i].push(...infos);
        }
      }
    }
  }

  /** The pods a rule's peers match (as the other end), for one address family. */
  peerBits(info: RuleInfo, family: 4 | 6 | 0): Bits {
    let bits = info.peers.get(family);
    if (bits) return bits;
    bits = newBits(this.pods.length);
    const slot = family === 0 ? 0 : family === 4 ? 1 : 2;
    for (let i = 0; i < this.pods.length; i++) {
      if (!this.regular[i]) continue;
      const m = matchPeers(info.rule.peers, info.policy.namespace, this.peers[i][slot]);
      if (m.match === true) {
        setBit(bits, i);
        for (const note of m.notes) this.notes.add(note);
      }
    }
    info.peers.set(family, bits);
    return bits;
  }

  familyOf(i: number): 4 | 6 | 0 {
    try {
      return ipFamily(this.pods[i].ips[0]);
    } catch {
      return 0;
    }
  }

  explain(key: string, make: () => Omit<MatrixExplanation, 'id'>): number {
    let id = this.explanationIds.get(key);
    if (id === undefined) {
      id = this.explanations.length + 1;
      this.explanations.push({ id, ...make() });
      this.explanationIds.set(key, id);
    }
    return id;
  }

  allowedExplanation(info: RuleInfo): number {
    if (info.explanation !== undefined) return info.explanation;
    info.explanation = this.explain(`${info.direction}|${info.key}|${info.index}`, () => ({
      direction: info.direction,
      verdict: 'allowed',
      policy: info.key,
      rule: info.index,
      policies: [info.key],
      text: `allowed by ${ruleLabel(info.key, info.direction, info.index)}: ${describeRule(info.rule, info.direction, info.policy.namespace)}`,
    }));
    return info.explanation;
  }

  private readonly deniedIds = { egress: new Map<number, number>(), ingress: new Map<number, number>() };

  /** The denial legend entry of one pod's isolation (its policies), once per pod. */
  deniedFor(direction: Direction, pod: number): number {
    let id = this.deniedIds[direction].get(pod);
    if (id === undefined) {
      id = this.deniedExplanation(
        direction,
        (direction === 'egress' ? this.egressPolicies : this.ingressPolicies)[pod],
      );
      this.deniedIds[direction].set(pod, id);
    }
    return id;
  }

  deniedExplanation(direction: Direction, policies: string[]): number {
    return this.explain(`${direction}|denied|${policies.join(',')}`, () => ({
      direction,
      verdict: 'denied',
      policies,
      text:
        `${direction} denied: ${policies.join(', ')} isolate${policies.length === 1 ? 's' : ''} the ` +
        `${direction === 'egress' ? 'source' : 'destination'} and no ${direction} rule allows it`,
    }));
  }

  /** From a full verdict (slow path): the explanation of one half. */
  halfExplanation(
    direction: Direction,
    half: ReturnType<typeof evaluatePolicy>['egress'],
    self: boolean,
  ): number | null {
    if (!half.isolated) return null;
    if (self && half.verdict === 'allowed') {
      return this.explain(`${direction}|self`, () => ({
        direction,
        verdict: 'allowed',
        policies: [],
        text: 'a pod can always reach itself (Kubernetes docs; the upstream e2e tests skip this case)',
      }));
    }
    if (half.verdict === 'allowed' && half.allowedBy.length > 0) {
      const a = half.allowedBy[0];
      const policy = this.model.policiesInNamespace(this.namespace).find((p) => policyKey(p) === a.policy);
      if (policy) {
        return this.allowedExplanation({
          policy,
          key: a.policy,
          direction,
          index: a.rule,
          rule: rulesOf(policy, direction)[a.rule],
          peers: new Map(),
        });
      }
    }
    if (half.verdict === 'denied') return this.deniedExplanation(direction, half.policies);
    return this.explain(`${direction}|${half.verdict}|${half.reason}`, () => ({
      direction,
      verdict: half.verdict,
      policies: half.policies,
      text: half.reason,
    }));
  }

  /** Regular destinations of each address family (a pair's family is its destination's). */
  private familyMasks: { 4: Bits; 6: Bits } | undefined;

  masks(): { 4: Bits; 6: Bits } {
    if (!this.familyMasks) {
      const m = { 4: newBits(this.pods.length), 6: newBits(this.pods.length) };
      for (let i = 0; i < this.pods.length; i++) {
        if (!this.regular[i]) continue;
        const f = this.familyOf(i);
        if (f !== 0) setBit(m[f], i);
      }
      this.familyMasks = m;
    }
    return this.familyMasks;
  }

  /** The first egress rule of `src` allowing each destination (index into its rules), or -1. */
  egressDeciders(src: number, q: Query, dstMask: Bits): Int32Array {
    const n = this.pods.length;
    const out = new Int32Array(n).fill(-1);
    const seen = newBits(n);
    const m = this.masks();
    this.egressRules[src].forEach((info, r) => {
      const p4 = this.peerBits(info, 4);
      const p6 = this.peerBits(info, 6);
      const ports = this.portBits(info, q);
      for (let w = 0; w < seen.length; w++) {
        let word = ((p4[w] & m[4][w]) | (p6[w] & m[6][w])) & dstMask[w];
        if (ports) word &= ports[w];
        decide(out, seen, w, word, r);
      }
    });
    return out;
  }

  private readonly portCache = new Map<RuleInfo, Map<string, Bits>>();

  /** Destinations for which a rule's `ports` match the query (named ports resolve per destination); null = all. */
  portBits(info: RuleInfo, q: Query): Bits | null {
    if (info.rule.ports.length === 0) return null;
    let byQuery = this.portCache.get(info);
    if (!byQuery) {
      byQuery = new Map();
      this.portCache.set(info, byQuery);
    }
    const k = `${q.protocol}/${q.port}`;
    let bits = byQuery.get(k);
    if (!bits) {
      bits = newBits(this.pods.length);
      for (let i = 0; i < this.pods.length; i++) {
        const dst = this.peers[i][0];
        const entry = info.rule.ports.find((p) => matchPort(p, q.port, q.protocol, dst) === true);
        if (!entry) continue;
        setBit(bits, i);
        if (entry.endPort !== undefined) this.notes.add(ENDPORT_NOTE);
      }
      byQuery.set(k, bits);
    }
    return bits;
  }

  /** For one destination: the first ingress rule allowing each source (index into its rules), or -1. */
  ingressDeciders(dst: number, q: Query): Int32Array {
    const n = this.pods.length;
    const out = new Int32Array(n).fill(-1);
    const seen = newBits(n);
    const family = this.familyOf(dst);
    this.ingressRules[dst].forEach((info, r) => {
      const ports = this.portBits(info, q);
      if (ports && !hasBit(ports, dst)) return;
      const bits = this.peerBits(info, family);
      for (let w = 0; w < seen.length; w++) decide(out, seen, w, bits[w], r);
    });
    return out;
  }
}

const podName = (p: Pod) => `${p.namespace}/${p.name}`;

/** Declared container ports of a pod, unique by port/protocol. */
function declaredPorts(pod: Pod): Query[] {
  const seen = new Map<string, Query>();
  for (const c of pod.containers)
    for (const p of c.ports)
      seen.set(`${p.protocol}/${p.containerPort}`, { port: p.containerPort, protocol: p.protocol });
  return [...seen.values()].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
}

/** The who-can-reach-whom matrix of a namespace's pods, on one port or on every declared port. */
export function policyMatrix(
  model: ClusterModel,
  namespace: string,
  port?: number,
  protocol: Protocol = 'TCP',
): PolicyMatrix {
  const b = new MatrixBuilder(model, namespace);
  const n = b.pods.length;
  const cells: MatrixCell[] = [];
  // The queries: the asked port, or every declared port of every destination.
  const queries = new Map<string, { q: Query; dsts: Bits }>();
  const noPorts: number[] = [];
  for (let d = 0; d < n; d++) {
    const list = port !== undefined ? [{ port, protocol }] : declaredPorts(b.pods[d]);
    if (list.length === 0) noPorts.push(d);
    for (const q of list) {
      const k = `${q.protocol}/${q.port}`;
      const entry = queries.get(k) ?? { q, dsts: newBits(n) };
      setBit(entry.dsts, d);
      queries.set(k, entry);
    }
  }
  const sorted = [...queries.values()].sort(
    (x, y) => x.q.port - y.q.port || x.q.protocol.localeCompare(y.q.protocol),
  );
  // results[s][d] collects the cells of a pair, in port order.
  const pairCells: MatrixCell[][][] = b.pods.map(() => b.pods.map(() => []));
  const names = b.pods.map(podName);
  for (const { q, dsts } of sorted) {
    const ingress: Int32Array[] = [];
    for (let d = 0; d < n; d++) if (hasBit(dsts, d) && b.regular[d]) ingress[d] = b.ingressDeciders(d, q);
    for (let s = 0; s < n; s++) {
      const egress =
        b.regular[s] && b.egressPolicies[s].length > 0 ? b.egressDeciders(s, q, dsts) : undefined;
      for (let d = 0; d < n; d++) {
        if (!hasBit(dsts, d)) continue;
        const from = names[s];
        const to = names[d];
        if (!b.regular[s] || !b.regular[d] || s === d) {
          // Slow path: the full evaluation (hostNetwork, no address, a pod to itself).
          const v = evaluatePolicy(model, {
            source: { kind: 'pod', pod: b.pods[s] },
            destination: { kind: 'pod', pod: b.pods[d] },
            port: q.port,
            protocol: q.protocol,
          });
          for (const note of v.notes) b.notes.add(note);
          pairCells[s][d].push({
            from,
            to,
            port: q.port,
            protocol: q.protocol,
            allowed: v.allowed,
            verdict: v.verdict,
            egress: b.halfExplanation('egress', v.egress, s === d),
            ingress: b.halfExplanation('ingress', v.ingress, s === d),
          });
          continue;
        }
        let egressId: number | null = null;
        let egressOk = true;
        if (b.egressPolicies[s].length > 0) {
          const r = egress ? egress[d] : -1;
          egressOk = r >= 0;
          egressId = egressOk ? b.allowedExplanation(b.egressRules[s][r]) : b.deniedFor('egress', s);
        }
        let ingressId: number | null = null;
        let ingressOk = true;
        if (b.ingressPolicies[d].length > 0) {
          const r = ingress[d][s];
          ingressOk = r >= 0;
          ingressId = ingressOk ? b.allowedExplanation(b.ingressRules[d][r]) : b.deniedFor('ingress', d);
        }
        const ok = egressOk && ingressOk;
        pairCells[s][d].push({
          from,
          to,
          port: q.port,
          protocol: q.protocol,
          allowed: ok,
          verdict: ok ? 'allowed' : 'denied',
          egress: egressId,
          ingress: ingressId,
        });
      }
    }
  }
  for (let s = 0; s < n; s++) {
    for (let d = 0; d < n; d++) {
      if (noPorts.includes(d)) {
        const id = b.explain('noports', () => ({
          direction: 'ingress',
          verdict: 'unknown',
          policies: [],
          text: 'the destination declares no container ports: pass --port to check a port',
        }));
        cells.push({
          from: podName(b.pods[s]),
          to: podName(b.pods[d]),
          port: null,
          protocol: null,
          allowed: null,
          verdict: 'unknown',
          egress: null,
          ingress: id,
        });
      } else cells.push(...pairCells[s][d]);
    }
  }
  const findings: Finding[] = [];
  const isolated = b.egressPolicies.some((l) => l.length) || b.ingressPolicies.some((l) => l.length);
  for (const p of model.policiesInNamespace(namespace)) findings.push(...validatePolicy(p));
  if (isolated) findings.push(...enforcementFindings(model, [`namespace/${namespace}`]));
  return {
    namespace,
    port: port ?? null,
    protocol,
    pods: b.pods.map(podName),
    cells,
    explanations: b.explanations,
    findings: collectFindings(findings, model),
    notes: [...b.notes],
  };
}

/** Rule r decides each pod of word w of `word` that no earlier rule decided (`seen`). */
function decide(out: Int32Array, seen: Bits, w: number, word: number, r: number): void {
  let rest = word & ~seen[w];
  if (rest === 0) return;
  seen[w] |= rest;
  while (rest !== 0) {
    const bit = 31 - Math.clz32(rest & -rest);
    out[(w << 5) + bit] = r;
    rest &= rest - 1;
  }
}

// knet policy: the exact networking.k8s.io/v1 NetworkPolicy verdict for one connection
// (source → destination, port, protocol), with both halves explained: egress at the source,
// ingress at the destination, the policies that isolate each pod and the rule that allowed it.
// Semantics and sources: shared/reference/netpol-semantics.md.

import { ipFamily, isIP, normalizeIP } from '../../core/ip.js';
import { finding } from '../../findings/catalog.js';
import { collectFindings } from '../../findings/collector.js';
import type { Finding } from '../../findings/types.js';
import type { ClusterModel } from '../../model/cluster.js';
import { matchesSelector } from '../../model/labels.js';
import type { Labels, NetworkPolicy, Pod, Protocol } from '../../model/types.js';
import type { ResolvedTarget } from '../targets.js';
import { detectCni } from './cni.js';
import {
  affectsDirection,
  type Direction,
  describeRule,
  plural,
  policyKey,
  ruleLabel,
  rulesOf,
} from './describe.js';
import {
  addressOfFamily,
  describeEndpoint,
  HOSTNETWORK_NOTE,
  matchPeers,
  matchPorts,
  type PolicyPeer,
  type Tri,
} from './match.js';
import { validatePolicy } from './validate.js';

/** A connection's end: a pod or an address (analyses/targets.ts resolves a target to it). */
export type PolicyEndpoint = Extract<ResolvedTarget, { kind: 'pod' | 'ip' }>;

export interface PolicyQuery {
  source: PolicyEndpoint;
  destination: PolicyEndpoint;
  port: number;
  protocol: Protocol;
}

export type Verdict = 'allowed' | 'denied' | 'unknown';

/** A rule that allowed the connection: `rule` is its index in the policy's ingress/egress list. */
export interface RuleRef {
  policy: string;
  rule: number;
  direction: Direction;
  /** The rule in words. */
  description: string;
  /** Why it matched: the peer and the port that matched. */
  match: string;
}

export interface DirectionVerdict {
  /** The pod whose policies decide this half (`ns/name`), or null when it is not a pod-network pod. */
  pod: string | null;
  /** Whether NetworkPolicy can apply at all (false for node and external addresses). */
  applies: boolean;
  /** Some policy selects the pod for this direction. */
  isolated: boolean;
  /** null = unknown (data missing). */
  allowed: boolean | null;
  verdict: Verdict;
  /** The policies (`ns/name`) that select the pod for this direction. */
  policies: string[];
  allowedBy: RuleRef[];
  /** Plain words: why this half allows or denies. */
  reason: string;
  /** Per rule that did not allow it: why not (the evidence of a denial). */
  evidence: string[];
}

export interface EndpointSummary {
  kind: 'Pod' | 'Node' | 'IP';
  namespace?: string;
  name?: string;
  ip: string | null;
  node?: string | null;
  hostNetwork?: boolean;
}

export interface PolicyVerdict {
  source: EndpointSummary;
  destination: EndpointSummary;
  port: number;
  protocol: Protocol;
  /** Both halves allow it; null = unknown. */
  allowed: boolean | null;
  verdict: Verdict;
  egress: DirectionVerdict;
  ingress: DirectionVerdict;
  findings: Finding[];
  /** Caveats: where CNIs differ, and what knet assumed. */
  notes: string[];
}

// ---------------------------------------------------------------------------------------------
// Which policies select a pod

/** NetworkPolicies of the pod's namespace whose podSelector matches it and that affect `direction`. */
export function selectingPolicies(model: ClusterModel, pod: Pod, direction: Direction): NetworkPolicy[] {
  if (pod.hostNetwork) return [];
  return model
    .policiesInNamespace(pod.namespace)
    .filter((p) => affectsDirection(p, direction) && matchesSelector(p.podSelector, pod.labels));
}

export function namespaceLabels(model: ClusterModel, namespace: string): Labels {
  return model.namespace(namespace)?.labels ?? { 'kubernetes.io/metadata.name': namespace };
}

const podName = (pod: Pod) => `${pod.namespace}/${pod.name}`;

// ---------------------------------------------------------------------------------------------
// Endpoints

interface ResolvedEndpoint {
  /** Before the address family is known. */
  make: (family: 4 | 6 | undefined) => PolicyPeer;
  ips: string[];
  summary: (peer: PolicyPeer) => EndpointSummary;
  notes: string[];
  /** A Service address: policy applies to its backends after DNAT, not to the Service. */
  serviceIP?: string;
}

function serviceOwning(model: ClusterModel, ip: string): string | undefined {
  const k = normalizeIP(ip);
  const svc = model.services.find((s) =>
    [...s.clusterIPs, ...s.externalIPs, ...s.loadBalancerIPs].some((a) => isIP(a) && normalizeIP(a) === k),
  );
  return svc ? `${svc.namespace}/${svc.name}` : undefined;
}

const podSummary = (pod: Pod, peer: PolicyPeer): EndpointSummary => ({
  kind: 'Pod',
  namespace: pod.namespace,
  name: pod.name,
  ip: peer.ip ?? null,
  node: pod.nodeName ?? null,
  hostNetwork: pod.hostNetwork,
});

function resolvePod(model: ClusterModel, pod: Pod): ResolvedEndpoint {
  if (pod.hostNetwork) {
    const node = pod.nodeName ? model.node(pod.nodeName) : undefined;
    const ips = pod.ips.length
      ? pod.ips
      : [...(pod.hostIP ? [pod.hostIP] : []), ...(node?.internalIPs ?? [])];
    return {
      make: (family) => ({ type: 'host', ip: addressOfFamily(ips, family), node: pod.nodeName, pod }),
      ips,
      summary: (peer) => podSummary(pod, peer),
      notes: [HOSTNETWORK_NOTE],
    };
  }
  const labels = namespaceLabels(model, pod.namespace);
  return {
    make: (family) => ({ type: 'pod', pod, ip: addressOfFamily(pod.ips, family), namespaceLabels: labels }),
    ips: pod.ips,
    summary: (peer) => podSummary(pod, peer),
    notes: [],
  };
}

function resolveEndpoint(model: ClusterModel, ep: PolicyEndpoint): ResolvedEndpoint {
  if (ep.kind === 'pod') return resolvePod(model, ep.pod);
  const ip = normalizeIP(ep.ip);
  const pods = model.podsByIP(ip);
  if (pods.length > 0) {
    const r = resolvePod(model, pods[0]);
    const ipSummary = (peer: PolicyPeer): EndpointSummary => ({ ...r.summary(peer), ip });
    const notes = [...r.notes, `${ip} is the address of pod ${podName(pods[0])}: evaluated as that pod`];
    if (pods.length > 1)
      notes.push(`${ip} is claimed by ${pods.length} pods (${pods.map(podName).join(', ')})`);
    return { ...r, make: () => ({ ...r.make(undefined), ip }), ips: [ip], summary: ipSummary, notes };
  }
  const node = model.nodeByIP(ip);
  if (node) {
    return {
      make: () => ({ type: 'host', ip, node: node.name }),
      ips: [ip],
      summary: () => ({ kind: 'Node', name: node.name, ip, node: node.name }),
      notes: [],
    };
  }
  const service = serviceOwning(model, ip);
  return {
    make: () => ({ type: 'external', ip }),
    ips: [ip],
    summary: () => ({ kind: 'IP', ip }),
    notes: [],
    serviceIP: service,
  };
}

function connectionFamily(
  src: ResolvedEndpoint,
  dst: ResolvedEndpoint,
  query: PolicyQuery,
): 4 | 6 | undefined {
  const first = (ips: string[]) => (ips.length ? ipFamily(ips[0]) : undefined);
  if (query.destination.kind === 'ip') return ipFamily(query.destination.ip);
  if (query.source.kind === 'ip') return ipFamily(query.source.ip);
  return first(dst.ips) ?? first(src.ips);
}

// ---------------------------------------------------------------------------------------------
// One half of the verdict

interface HalfInput {
  direction: Direction;
  /** The end whose policies decide (source for egress, destination for ingress). */
  subject: PolicyPeer;
  /** The other end, matched against the rules' peers. */
  other: PolicyPeer;
  /** The destination of the connection: named ports resolve on it. */
  destination: PolicyPeer;
  port: number;
  protocol: Protocol;
  self: boolean;
  notes: Set<string>;
}

function notPoliced(input: HalfInput): DirectionVerdict {
  const who = describeEndpoint(input.subject);
  const why =
    input.subject.type === 'host'
      ? `${who} is not on the pod network, so no NetworkPolicy ${input.direction} applies to it`
      : `${who} is not a pod, so no NetworkPolicy ${input.direction} applies to it`;
  return {
    pod: null,
    applies: false,
    isolated: false,
    allowed: true,
    verdict: 'allowed',
    policies: [],
    allowedBy: [],
    reason: `${why}.`,
    evidence: [],
  };
}

/** A pod always reaches its own node and its node reaches it (API Ingress doc, DOC "node"). */
function isOwnNode(subject: Pod, other: PolicyPeer): boolean {
  return other.type === 'host' && other.node !== undefined && other.node === subject.nodeName;
}

function evaluateHalf(model: ClusterModel, input: HalfInput): DirectionVerdict {
  const { direction, subject, other } = input;
  if (subject.type !== 'pod') return notPoliced(input);
  const pod = subject.pod;
  const policies = selectingPolicies(model, pod, direction);
  const names = policies.map(policyKey);
  const base = { pod: podName(pod), applies: true, isolated: policies.length > 0, policies: names };
  const traffic = `${direction === 'egress' ? 'to' : 'from'} ${describeEndpoint(other)} on ${input.protocol}/${input.port}`;
  if (policies.length === 0) {
    return {
      ...base,
      allowed: true,
      verdict: 'allowed',
      allowedBy: [],
      reason: `No NetworkPolicy in namespace ${pod.namespace} selects pod ${podName(pod)} for ${direction}, so all its ${direction} is allowed.`,
      evidence: [],
    };
  }
  const isolatedBy = `Pod ${podName(pod)} is isolated for ${direction} by ${plural(policies.length, 'policy', 'policies')} (${names.join(', ')})`;
  if (input.self) {
    input.notes.add(
      'traffic from a pod to itself: the Kubernetes docs say a pod cannot block access to itself; the upstream e2e ' +
        'tests ignore this case because CNIs differ',
    );
    return {
      ...base,
      allowed: true,
      verdict: 'allowed',
      allowedBy: [],
      reason: `${isolatedBy}, but a pod can always reach itself.`,
      evidence: [],
    };
  }
  if (isOwnNode(pod, other)) {
    return {
      ...base,
      allowed: true,
      verdict: 'allowed',
      allowedBy: [],
      reason: `${isolatedBy}, but traffic ${direction === 'egress' ? 'to' : 'from'} the pod's own node (${pod.nodeName}) is always allowed.`,
      evidence: [],
    };
  }
  const allowedBy: RuleRef[] = [];
  const evidence: string[] = [];
  let unknown: string | undefined;
  let ruleCount = 0;
  for (const policy of policies) {
    const key = policyKey(policy);
    const rules = rulesOf(policy, direction);
    if (rules.length === 0) evidence.push(`${key} allows no ${direction} at all`);
    rules.forEach((rule, i) => {
      ruleCount++;
      const label = ruleLabel(key, direction, i);
      const peers = matchPeers(rule.peers, policy.namespace, other);
      const ports = matchPorts(rule.ports, input.port, input.protocol, input.destination);
      const verdict: Tri = !ports.match ? false : peers.match;
      if (verdict === true) {
        for (const n of [...peers.notes, ...ports.notes]) input.notes.add(n);
        allowedBy.push({
          policy: key,
          rule: i,
          direction,
          description: describeRule(rule, direction, policy.namespace),
          match: `${peers.detail}; ${ports.detail}`,
        });
      } else if (verdict === undefined) {
        unknown ??= `${label}: ${peers.detail}`;
        evidence.push(`${label}: ${peers.detail}`);
      } else {
        for (const n of ports.notes) input.notes.add(n);
        if (peers.match !== true) for (const n of peers.notes) input.notes.add(n);
        evidence.push(`${label}: ${peers.match === true ? ports.detail : peers.detail}`);
      }
    });
  }
  if (allowedBy.length > 0) {
    const first = allowedBy[0];
    const more = allowedBy.length > 1 ? ` (and ${plural(allowedBy.length - 1, 'more rule')})` : '';
    return {
      ...base,
      allowed: true,
      verdict: 'allowed',
      allowedBy,
      reason: `${isolatedBy}; rule ${ruleLabel(first.policy, direction, first.rule)} allows it: ${first.description}${more}.`,
      evidence: [],
    };
  }
  if (unknown) {
    return {
      ...base,
      allowed: null,
      verdict: 'unknown',
      allowedBy: [],
      reason: `${isolatedBy}; no rule allows traffic ${traffic} for certain, and one needs data knet does not have (${unknown}).`,
      evidence,
    };
  }
  return {
    ...base,
    allowed: false,
    verdict: 'denied',
    allowedBy: [],
    reason: `${isolatedBy}, and no ${direction} rule of ${policies.length === 1 ? 'this policy' : `these ${policies.length} policies`} (${plural(ruleCount, 'rule')}) allows traffic ${traffic}.`,
    evidence,
  };
}

function unknownHalf(subject: PolicyPeer, reason: string, policies: string[]): DirectionVerdict {
  return {
    pod: subject.type === 'pod' ? podName(subject.pod) : null,
    applies: subject.type === 'pod',
    isolated: policies.length > 0,
    allowed: null,
    verdict: 'unknown',
    policies,
    allowedBy: [],
    reason,
    evidence: [],
  };
}

// ---------------------------------------------------------------------------------------------
// The verdict

const combine = (a: DirectionVerdict, b: DirectionVerdict): Verdict =>
  a.verdict === 'denied' || b.verdict === 'denied'
    ? 'denied'
    : a.verdict === 'unknown' || b.verdict === 'unknown'
      ? 'unknown'
      : 'allowed';

const objectOf = (peer: PolicyPeer): string =>
  peer.type === 'pod' || (peer.type === 'host' && peer.pod)
    ? `pod/${peer.type === 'pod' ? podName(peer.pod) : podName(peer.pod!)}`
    : peer.type === 'host' && peer.node
      ? `node/${peer.node}`
      : `ip/${peer.ip}`;

function deniedFinding(
  direction: Direction,
  half: DirectionVerdict,
  src: PolicyPeer,
  dst: PolicyPeer,
  port: number,
  protocol: Protocol,
): Finding {
  const what = `${describeEndpoint(src)} to ${describeEndpoint(dst)} on ${protocol}/${port}`;
  const policies = half.policies.join(', ');
  const message =
    direction === 'egress'
      ? `NetworkPolicy denies egress from ${what}: ${half.pod} is isolated for egress by ${policies} and no egress rule allows it.`
      : `NetworkPolicy denies ingress from ${what}: ${half.pod} is isolated for ingress by ${policies} and no ingress rule allows it.`;
  return finding(direction === 'egress' ? 'POLICY_DENIED_EGRESS' : 'POLICY_DENIED_INGRESS', {
    message,
    objects: [
      `pod/${half.pod}`,
      objectOf(direction === 'egress' ? dst : src),
      ...half.policies.map((p) => `networkpolicy/${p}`),
    ],
    evidence: half.evidence,
  });
}

const OTHER_POLICY_KINDS = new Set([
  'AdminNetworkPolicy',
  'BaselineAdminNetworkPolicy',
  'ClusterNetworkPolicy',
  'CiliumNetworkPolicy',
  'CiliumClusterwideNetworkPolicy',
  'GlobalNetworkPolicy',
  'AntreaNetworkPolicy',
  'AntreaClusterNetworkPolicy',
]);
const otherPolicyCache = new WeakMap<ClusterModel, string | undefined>();

/** A note when policy kinds knet does not evaluate are present: they can change the outcome. */
export function otherPolicyNote(model: ClusterModel): string | undefined {
  if (otherPolicyCache.has(model)) return otherPolicyCache.get(model);
  const kinds = new Set<string>();
  for (const o of model.others) {
    // Calico's own NetworkPolicy shares the kind name with networking.k8s.io's.
    if (
      OTHER_POLICY_KINDS.has(o.kind) ||
      (o.kind === 'NetworkPolicy' && o.apiVersion.includes('projectcalico.org'))
    ) {
      kinds.add(o.apiVersion ? `${o.kind} (${o.apiVersion})` : o.kind);
    }
  }
  const note = kinds.size
    ? `the cluster also has ${[...kinds].join(', ')}: knet evaluates networking.k8s.io/v1 NetworkPolicy only, and these can allow or deny before or after it`
    : undefined;
  otherPolicyCache.set(model, note);
  return note;
}

/** POLICY_NOT_ENFORCED when pods are isolated but the visible CNI does not enforce policies. */
export function enforcementFindings(model: ClusterModel, objects: string[]): Finding[] {
  const cni = detectCni(model);
  if (cni.enforcesPolicy !== false) return [];
  return [
    finding('POLICY_NOT_ENFORCED', {
      message: `NetworkPolicies select these pods, but the cluster's CNI (${cni.name}) does not enforce NetworkPolicy: this verdict is what the policies say, not what the network does.`,
      objects,
      evidence: cni.evidence,
    }),
  ];
}

export function evaluatePolicy(model: ClusterModel, query: PolicyQuery): PolicyVerdict {
  const { port, protocol } = query;
  const src = resolveEndpoint(model, query.source);
  const dst = resolveEndpoint(model, query.destination);
  const family = connectionFamily(src, dst, query);
  const srcPeer = src.make(family);
  const dstPeer = dst.make(family);
  const notes = new Set<string>([...src.notes, ...dst.notes]);
  const other = otherPolicyNote(model);
  if (other) notes.add(other);
  const self = srcPeer.type === 'pod' && dstPeer.type === 'pod' && srcPeer.pod === dstPeer.pod;
  const common = { port, protocol, self, notes, destination: dstPeer };

  let egress: DirectionVerdict;
  let ingress: DirectionVerdict;
  if (dst.serviceIP) {
    // Policies apply to the backend pods after the Service DNAT (the e2e probes go through
    // ClusterIPs): the verdict depends on the backend and its target port.
    const why = `${dstPeer.ip} is an address of Service ${dst.serviceIP}; NetworkPolicy applies to its backend pods after DNAT. Ask about a backend pod (or use knet trace).`;
    // Egress is decided only when the source is not isolated (then anything goes).
    const isolating = srcPeer.type === 'pod' ? selectingPolicies(model, srcPeer.pod, 'egress') : [];
    egress =
      isolating.length > 0
        ? unknownHalf(srcPeer, why, isolating.map(policyKey))
        : evaluateHalf(model, { ...common, direction: 'egress', subject: srcPeer, other: dstPeer });
    ingress = unknownHalf(dstPeer, why, []);
    notes.add(why);
  } else {
    egress = evaluateHalf(model, { ...common, direction: 'egress', subject: srcPeer, other: dstPeer });
    ingress = evaluateHalf(model, { ...common, direction: 'ingress', subject: dstPeer, other: srcPeer });
  }
  if (protocol === 'SCTP' && (egress.isolated || ingress.isolated)) {
    notes.add(
      'SCTP: NetworkPolicy support for SCTP is optional in CNIs; an SCTP-only rule never allows TCP or UDP',
    );
  }

  const findings: Finding[] = [];
  if (egress.verdict === 'denied')
    findings.push(deniedFinding('egress', egress, srcPeer, dstPeer, port, protocol));
  if (ingress.verdict === 'denied')
    findings.push(deniedFinding('ingress', ingress, srcPeer, dstPeer, port, protocol));
  for (const [half, peer] of [
    [egress, srcPeer],
    [ingress, dstPeer],
  ] as const) {
    if (peer.type !== 'pod') continue;
    for (const p of model.policiesInNamespace(peer.pod.namespace)) {
      if (half.policies.includes(policyKey(p))) findings.push(...validatePolicy(p));
    }
  }
  if (egress.isolated || ingress.isolated) {
    findings.push(...enforcementFindings(model, [objectOf(srcPeer), objectOf(dstPeer)]));
  }
  const verdict = combine(egress, ingress);
  return {
    source: src.summary(srcPeer),
    destination: dst.summary(dstPeer),
    port,
    protocol,
    allowed: verdict === 'unknown' ? null : verdict === 'allowed',
    verdict,
    egress,
    ingress,
    findings: collectFindings(findings, model),
    notes: [...notes],
  };
}

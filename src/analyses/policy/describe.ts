// NetworkPolicy pieces in plain words: selectors, peers, ports and rules as a person would say
// them ("from pods pod=b in namespace x, on TCP/80"). Used in reasons, evidence and the
// one-pod view; never parsed back.
import { formatSelector, isEmptySelector } from '../../model/labels.js';
import type {
  NetworkPolicy,
  NetworkPolicyPeer,
  NetworkPolicyPort,
  NetworkPolicyRule,
} from '../../model/types.js';

export type Direction = 'ingress' | 'egress';

/** `ns/name`, the way policies are named in verdicts. */
export const policyKey = (p: NetworkPolicy): string => `${p.namespace}/${p.name}`;

/** `x/allow-web ingress[0]`: a rule as it is named in tables and evidence. */
export const ruleLabel = (policy: string, direction: Direction, rule: number): string =>
  `${policy} ${direction}[${rule}]`;

export function describePeer(peer: NetworkPolicyPeer, policyNamespace: string): string {
  if (peer.ipBlock) {
    const except = peer.ipBlock.except.length ? ` except ${peer.ipBlock.except.join(', ')}` : '';
    return `addresses in ${peer.ipBlock.cidr}${except}`;
  }
  const { podSelector, namespaceSelector } = peer;
  if (!podSelector && !namespaceSelector) return 'nothing (a peer without selector or ipBlock is invalid)';
  const pods =
    !podSelector || isEmptySelector(podSelector) ? 'all pods' : `pods ${formatSelector(podSelector)}`;
  if (!namespaceSelector) return `${pods} in namespace ${policyNamespace}`;
  if (isEmptySelector(namespaceSelector)) return `${pods} in all namespaces`;
  return `${pods} in namespaces ${formatSelector(namespaceSelector)}`;
}

export function describePort(port: NetworkPolicyPort): string {
  if (port.port === undefined) return `all ${port.protocol} ports`;
  if (typeof port.port === 'string') return `${port.protocol}/${port.port} (named port)`;
  if (port.endPort !== undefined) return `${port.protocol}/${port.port}-${port.endPort}`;
  return `${port.protocol}/${port.port}`;
}

export function describePorts(ports: readonly NetworkPolicyPort[]): string {
  return ports.length === 0 ? 'any port and protocol' : ports.map(describePort).join(' or ');
}

/** "from pods pod=b in namespace x, on TCP/80". */
export function describeRule(rule: NetworkPolicyRule, direction: Direction, policyNamespace: string): string {
  const word = direction === 'ingress' ? 'from' : 'to';
  const peers =
    rule.peers.length === 0
      ? `${word} anywhere`
      : `${word} ${rule.peers.map((p) => describePeer(p, policyNamespace)).join(' or ')}`;
  return `${peers}, on ${describePorts(rule.ports)}`;
}

export function affectsDirection(policy: NetworkPolicy, direction: Direction): boolean {
  return policy.policyTypes.includes(direction === 'ingress' ? 'Ingress' : 'Egress');
}

export function rulesOf(policy: NetworkPolicy, direction: Direction): readonly NetworkPolicyRule[] {
  return direction === 'ingress' ? policy.ingress : policy.egress;
}

/** What one policy does in one direction, in one sentence. */
export function describePolicyDirection(policy: NetworkPolicy, direction: Direction): string {
  const rules = rulesOf(policy, direction);
  if (rules.length === 0) return `allows no ${direction} (isolation only)`;
  return rules.map((r, i) => `[${i}] allows ${describeRule(r, direction, policy.namespace)}`).join('; ');
}

export const plural = (n: number, word: string, many = `${word}s`): string => `${n} ${n === 1 ? word : many}`;

// What the API server's validation (pkg/apis/networking/validation) would reject in a
// NetworkPolicy. Objects read from a cluster passed it; hand-written bundle YAML may not have,
// and knet's verdict on an invalid policy is only a best effort, so it says so.

import { cidrContains } from '../../core/ip.js';
import { finding } from '../../findings/catalog.js';
import type { Finding } from '../../findings/types.js';
import type {
  LabelSelector,
  NetworkPolicy,
  NetworkPolicyPeer,
  NetworkPolicyPort,
} from '../../model/types.js';
import { type Direction, policyKey } from './describe.js';
import { cachedCIDR } from './match.js';

/** IANA_SVC_NAME (k8s.io/apimachinery validation.IsValidPortName). */
export function isValidPortName(name: string): boolean {
  return (
    name.length >= 1 &&
    name.length <= 15 &&
    /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name) &&
    !name.includes('--') &&
    /[a-z]/.test(name)
  );
}

function selectorProblems(sel: LabelSelector, where: string): string[] {
  const out: string[] = [];
  for (const r of sel.matchExpressions) {
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(r.operator)) {
      out.push(`${where}: unknown operator "${r.operator}"`);
    } else if ((r.operator === 'In' || r.operator === 'NotIn') && r.values.length === 0) {
      out.push(`${where}: operator ${r.operator} needs values (key ${r.key})`);
    } else if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && r.values.length > 0) {
      out.push(`${where}: operator ${r.operator} takes no values (key ${r.key})`);
    }
  }
  return out;
}

function portProblems(p: NetworkPolicyPort, where: string): string[] {
  const out: string[] = [];
  if (typeof p.port === 'number' && (p.port < 1 || p.port > 65535))
    out.push(`${where}: port ${p.port} is not in 1-65535`);
  if (typeof p.port === 'string' && !isValidPortName(p.port))
    out.push(`${where}: "${p.port}" is not a valid port name`);
  if (p.endPort !== undefined) {
    if (p.port === undefined) out.push(`${where}: endPort requires port`);
    else if (typeof p.port === 'string') out.push(`${where}: endPort may not be used with a named port`);
    else if (p.endPort < p.port) out.push(`${where}: endPort ${p.endPort} is less than port ${p.port}`);
    if (p.endPort < 1 || p.endPort > 65535) out.push(`${where}: endPort ${p.endPort} is not in 1-65535`);
  }
  return out;
}

function peerProblems(peer: NetworkPolicyPeer, where: string): string[] {
  const out: string[] = [];
  if (!peer.ipBlock && !peer.podSelector && !peer.namespaceSelector) return [`${where}: must specify a peer`];
  if (peer.ipBlock && (peer.podSelector || peer.namespaceSelector)) {
    out.push(`${where}: may not specify both ipBlock and another peer`);
  }
  if (peer.podSelector) out.push(...selectorProblems(peer.podSelector, `${where}.podSelector`));
  if (peer.namespaceSelector)
    out.push(...selectorProblems(peer.namespaceSelector, `${where}.namespaceSelector`));
  if (peer.ipBlock) {
    const cidr = cachedCIDR(peer.ipBlock.cidr);
    if (!cidr) return [...out, `${where}.ipBlock.cidr: "${peer.ipBlock.cidr}" is not a valid CIDR`];
    peer.ipBlock.except.forEach((ex, i) => {
      const e = cachedCIDR(ex);
      if (!e) out.push(`${where}.ipBlock.except[${i}]: "${ex}" is not a valid CIDR`);
      else if (!cidrContains(cidr, e[0]) || e[1] <= cidr[1]) {
        out.push(`${where}.ipBlock.except[${i}]: ${ex} must be a strict subset of ${peer.ipBlock!.cidr}`);
      }
    });
  }
  return out;
}

/** The problems the API server would report, as `spec.ingress[0].from[1]: …` lines. */
export function policyProblems(policy: NetworkPolicy): string[] {
  const out = selectorProblems(policy.podSelector, 'spec.podSelector');
  for (const direction of ['ingress', 'egress'] as Direction[]) {
    const rules = direction === 'ingress' ? policy.ingress : policy.egress;
    const peersKey = direction === 'ingress' ? 'from' : 'to';
    rules.forEach((rule, i) => {
      rule.ports.forEach((p, j) => {
        out.push(...portProblems(p, `spec.${direction}[${i}].ports[${j}]`));
      });
      rule.peers.forEach((p, j) => {
        out.push(...peerProblems(p, `spec.${direction}[${i}].${peersKey}[${j}]`));
      });
    });
  }
  return out;
}

export function validatePolicy(policy: NetworkPolicy): Finding[] {
  const problems = policyProblems(policy);
  if (problems.length === 0) return [];
  return [
    finding('POLICY_INVALID', {
      message: `NetworkPolicy ${policyKey(policy)} is not valid (${problems.length === 1 ? problems[0] : `${problems.length} problems`}); knet evaluates it as written.`,
      objects: [`networkpolicy/${policyKey(policy)}`],
      evidence: problems,
    }),
  ];
}

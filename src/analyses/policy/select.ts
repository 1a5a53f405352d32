// knet policy pod/NS/NAME: which NetworkPolicies select one pod, per direction, and what they
// allow, in plain words.
import { collectFindings } from '../../findings/collector.js';
import type { Finding } from '../../findings/types.js';
import type { ClusterModel } from '../../model/cluster.js';
import { formatSelector } from '../../model/labels.js';
import type { Pod } from '../../model/types.js';
import {
  type Direction,
  describePolicyDirection,
  describeRule,
  plural,
  policyKey,
  rulesOf,
} from './describe.js';
import { enforcementFindings, selectingPolicies } from './evaluate.js';
import { HOSTNETWORK_NOTE } from './match.js';
import { validatePolicy } from './validate.js';

export interface SelectingPolicy {
  policy: string;
  /** The policy's spec.podSelector, kubectl-style. */
  podSelector: string;
  rules: { rule: number; description: string }[];
  /** What the policy does in this direction, in one sentence. */
  summary: string;
}

export interface DirectionSelection {
  isolated: boolean;
  policies: SelectingPolicy[];
  /** Plain words: isolated or not, and what is allowed. */
  summary: string;
}

export interface PolicySelection {
  pod: {
    namespace: string;
    name: string;
    ip: string | null;
    hostNetwork: boolean;
    labels: Record<string, string>;
  };
  ingress: DirectionSelection;
  egress: DirectionSelection;
  findings: Finding[];
  notes: string[];
}

function directionSelection(model: ClusterModel, pod: Pod, direction: Direction): DirectionSelection {
  const policies = selectingPolicies(model, pod, direction);
  const name = `${pod.namespace}/${pod.name}`;
  if (policies.length === 0) {
    return {
      isolated: false,
      policies: [],
      summary: pod.hostNetwork
        ? `Pod ${name} uses the host network: NetworkPolicy does not isolate it (its traffic is node traffic).`
        : `No policy selects pod ${name} for ${direction}: all ${direction} is allowed.`,
    };
  }
  const list = policies.map((p) => ({
    policy: policyKey(p),
    podSelector: formatSelector(p.podSelector),
    rules: rulesOf(p, direction).map((r, i) => ({
      rule: i,
      description: describeRule(r, direction, p.namespace),
    })),
    summary: describePolicyDirection(p, direction),
  }));
  const ruleCount = list.reduce((n, p) => n + p.rules.length, 0);
  const summary =
    ruleCount === 0
      ? `Pod ${name} is isolated for ${direction} by ${plural(policies.length, 'policy', 'policies')} with no ${direction} rule: all ${direction} is denied${direction === 'ingress' ? ' (except from its own node)' : ''}.`
      : `Pod ${name} is isolated for ${direction} by ${plural(policies.length, 'policy', 'policies')}: only what their ${plural(ruleCount, 'rule')} allow${ruleCount === 1 ? 's' : ''} is allowed.`;
  return { isolated: true, policies: list, summary };
}

/** The policies that select `pod`, per direction, with every rule in words. */
export function policiesSelecting(model: ClusterModel, pod: Pod): PolicySelection {
  const ingress = directionSelection(model, pod, 'ingress');
  const egress = directionSelection(model, pod, 'egress');
  const notes: string[] = [];
  if (pod.hostNetwork) notes.push(HOSTNETWORK_NOTE);
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const p of [...selectingPolicies(model, pod, 'ingress'), ...selectingPolicies(model, pod, 'egress')]) {
    if (seen.has(policyKey(p))) continue;
    seen.add(policyKey(p));
    findings.push(...validatePolicy(p));
  }
  if (ingress.isolated || egress.isolated)
    findings.push(...enforcementFindings(model, [`pod/${pod.namespace}/${pod.name}`]));
  return {
    pod: {
      namespace: pod.namespace,
      name: pod.name,
      ip: pod.ips[0] ?? null,
      hostNetwork: pod.hostNetwork,
      labels: { ...pod.labels },
    },
    ingress,
    egress,
    findings: collectFindings(findings, model),
    notes,
  };
}

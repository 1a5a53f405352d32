// NetworkPolicy sanity for knet doctor: policies that cannot do what their author meant.
import { finding } from '../../findings/catalog.js';
import type { Finding } from '../../findings/types.js';
import type { ClusterModel } from '../../model/cluster.js';
import { isEmptySelector, matchesSelector } from '../../model/labels.js';
import type { LabelSelector, NetworkPolicy, NetworkPolicyPeer } from '../../model/types.js';
import { detectCni } from './cni.js';
import { validatePolicy } from './validate.js';

/**
 * Whether some pod of the namespace matches: the first match settles it (model.podsMatchingSelector
 * would list every match, and doctor asks this of every policy and peer).
 */
function selectsSomePod(model: ClusterModel, namespace: string, selector: LabelSelector): boolean {
  const candidates =
    Object.keys(selector.matchLabels).length > 0
      ? model.podsMatchingLabels(namespace, selector.matchLabels)
      : model.podsInNamespace(namespace);
  return candidates.some((p) => matchesSelector(selector, p.labels));
}

/** A peer whose selectors match no pod now (an ipBlock always may). */
function peerSelectsNothing(model: ClusterModel, policy: NetworkPolicy, peer: NetworkPolicyPeer): boolean {
  if (peer.ipBlock) return false;
  const namespaces = peer.namespaceSelector
    ? model.namespacesMatching(peer.namespaceSelector).map((n) => n.name)
    : [policy.namespace];
  if (namespaces.length === 0) return true;
  // A namespace selector alone selects every pod of those namespaces (even none yet): fine.
  if (!peer.podSelector || isEmptySelector(peer.podSelector)) return false;
  return namespaces.every((n) => !selectsSomePod(model, n, peer.podSelector!));
}

/**
 * NetworkPolicy sanity, policy by policy: a spec the API server would reject, a policy that
 * selects no pod, a peer that matches no pod, and policies the cluster's CNI does not enforce.
 */
export function policySanityFindings(model: ClusterModel, policies: readonly NetworkPolicy[]): Finding[] {
  const out: Finding[] = [];
  for (const policy of policies) {
    const ref = `networkpolicy/${policy.namespace}/${policy.name}`;
    out.push(...validatePolicy(policy));
    if (!selectsSomePod(model, policy.namespace, policy.podSelector)) {
      out.push(
        finding('POLICY_SELECTS_NO_POD', {
          message: `NetworkPolicy ${policy.namespace}/${policy.name} selects no pod.`,
          objects: [ref],
        }),
      );
    }
    for (const [direction, rules] of [
      ['ingress', policy.ingress],
      ['egress', policy.egress],
    ] as const) {
      rules.forEach((rule, i) => {
        rule.peers.forEach((peer, j) => {
          if (peerSelectsNothing(model, policy, peer)) {
            out.push(
              finding('POLICY_PEER_SELECTS_NOTHING', {
                message: `Peer ${j + 1} of ${direction} rule ${i + 1} of NetworkPolicy ${policy.namespace}/${policy.name} matches no pod.`,
                objects: [ref],
                evidence: [
                  `spec.${direction}[${i}].${direction === 'ingress' ? 'from' : 'to'}[${j}]: ${JSON.stringify(peer)}`,
                ],
              }),
            );
          }
        });
      });
    }
  }
  if (policies.length > 0) {
    const cni = detectCni(model);
    if (cni.enforcesPolicy === false) {
      out.push(
        finding('POLICY_NOT_ENFORCED', {
          message: `${policies.length} NetworkPolicies exist, but the cluster's CNI (${cni.name}) does not enforce them.`,
          objects: policies.slice(0, 5).map((p) => `networkpolicy/${p.namespace}/${p.name}`),
          evidence: cni.evidence,
        }),
      );
    }
  }
  return out;
}

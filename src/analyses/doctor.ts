// knet doctor: every check over the cluster (or one namespace), as one list of findings.
// Each check is an analysis that exists on its own; doctor only scopes, runs and merges them.
import { dedupeFindings, finding, sortFindings } from '../findings/catalog.js';
import { explainFindings } from '../findings/links.js';
import type { Finding, Severity } from '../findings/types.js';
import type { ClusterModel } from '../model/cluster.js';
import { isEmptySelector } from '../model/labels.js';
import type { NetworkPolicy, NetworkPolicyPeer } from '../model/types.js';
import { diagnoseService } from './endpoints/diagnose.js';
import { gatewayDoctorFindings } from './ingress/gateway.js';
import { ingressDoctorFindings } from './ingress/ingress.js';
import { nodeInventory, podInventoryFindings } from './inventory.js';
import { cniFindings } from './node-health/cni.js';
import { nodeHealthFindings } from './node-health/health.js';
import { detectCni } from './policy/cni.js';
import { validatePolicy } from './policy/validate.js';
import { proxyDriftFindings } from './proxy/drift.js';

export interface DoctorOptions {
  /** undefined = all namespaces. */
  namespace?: string;
  /** Only these finding codes. */
  only?: string[];
  /** The lowest severity to report. */
  severity?: Severity;
  /** Told what is being checked, with counts (a progress line; render/progress.ts). */
  onProgress?: (label: string, done?: number, total?: number) => void;
}

export interface DoctorCheck {
  name: string;
  /** What it looked at, e.g. "42 services". */
  scope: string;
  findings: number;
}

export interface DoctorReport {
  summary: { errors: number; warnings: number; infos: number };
  checks: DoctorCheck[];
  findings: Finding[];
}

/** "1 pod", "2 pods", "1 ingress", "2 ingresses". */
const n = (count: number, noun: string) =>
  `${count} ${count === 1 ? noun : noun.endsWith('s') ? `${noun}es` : `${noun}s`}`;

const RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function runDoctor(model: ClusterModel, options: DoctorOptions = {}): DoctorReport {
  const ns = options.namespace;
  const checks: DoctorCheck[] = [];
  const all: Finding[] = [];
  const say = options.onProgress ?? (() => {});
  const run = (name: string, scope: string, fn: () => Finding[]) => {
    say(`doctor: ${name}`);
    const found = fn();
    checks.push({ name, scope, findings: found.length });
    // (a loop: spreading 150,000 findings into push() overflows the call stack)
    for (const f of found) all.push(f);
  };

  const pods = ns === undefined ? model.pods : model.podsInNamespace(ns);
  run('pods', n(pods.length, 'pod'), () => podInventoryFindings(model, { namespace: ns }));
  run('nodes', n(model.nodes.length, 'node'), () => nodeInventory(model).findings);

  const services = ns === undefined ? model.services : model.servicesInNamespace(ns);
  run('services', n(services.length, 'service'), () =>
    services.flatMap((s, i) => {
      say('doctor: services', i, services.length);
      return diagnoseService(model, s.namespace, s.name).findings;
    }),
  );

  run('cluster DNS', 'kube-system/kube-dns', () => dnsServiceFindings(model, ns));

  const proxyNodes = model.nodeFiles.nodes().filter((n) => model.node(n));
  run('kube-proxy', `${n(proxyNodes.length, 'node')} with node files`, () =>
    proxyNodes.flatMap((node, i) => {
      say(`doctor: kube-proxy on ${node}`, i, proxyNodes.length);
      return proxyDriftFindings(model, node, ns === undefined ? undefined : { namespace: ns });
    }),
  );

  const policies = ns === undefined ? model.networkPolicies : model.policiesInNamespace(ns);
  run('network policies', policies.length === 1 ? '1 policy' : `${policies.length} policies`, () =>
    policyFindings(model, policies),
  );
  const ingresses = ns === undefined ? model.ingresses : model.ingresses.filter((i) => i.namespace === ns);
  run('ingress and gateway', n(ingresses.length, 'ingress'), () => [
    ...ingressDoctorFindings(model, ns),
    ...gatewayDoctorFindings(model, ns),
  ]);
  run('node health', `${n(proxyNodes.length, 'node')} with node files`, () =>
    proxyNodes.flatMap((node) => [...cniFindings(model, node), ...nodeHealthFindings(model, node)]),
  );

  let findings = dedupeFindings(all);
  if (options.only?.length) findings = findings.filter((f) => options.only!.includes(f.code));
  if (options.severity) findings = findings.filter((f) => RANK[f.severity] <= RANK[options.severity!]);
  findings = sortFindings(findings);
  // Ids, cause → consequence links and fixes, over the findings this report keeps.
  explainFindings(findings, model);
  return {
    summary: {
      errors: findings.filter((f) => f.severity === 'error').length,
      warnings: findings.filter((f) => f.severity === 'warning').length,
      infos: findings.filter((f) => f.severity === 'info').length,
    },
    checks,
    findings,
  };
}

/** The cluster DNS Service, even when doctor looks at one namespace: every pod depends on it. */
function dnsServiceFindings(model: ClusterModel, namespace: string | undefined): Finding[] {
  const dns = model.service('kube-system', 'kube-dns');
  if (!dns) return [];
  // With -A the services check already covered it.
  if (namespace === undefined || namespace === 'kube-system') return [];
  return diagnoseService(model, dns.namespace, dns.name).findings.filter((f) => f.severity !== 'info');
}

function peerSelectsNothing(model: ClusterModel, policy: NetworkPolicy, peer: NetworkPolicyPeer): boolean {
  if (peer.ipBlock) return false;
  const namespaces = peer.namespaceSelector
    ? model.namespacesMatching(peer.namespaceSelector).map((n) => n.name)
    : [policy.namespace];
  if (namespaces.length === 0) return true;
  // A namespace selector alone selects every pod of those namespaces (even none yet): fine.
  if (!peer.podSelector || isEmptySelector(peer.podSelector)) return false;
  return namespaces.every((n) => model.podsMatchingSelector(n, peer.podSelector!).length === 0);
}

function policyFindings(model: ClusterModel, policies: readonly NetworkPolicy[]): Finding[] {
  const out: Finding[] = [];
  for (const policy of policies) {
    const ref = `networkpolicy/${policy.namespace}/${policy.name}`;
    out.push(...validatePolicy(policy));
    if (model.podsMatchingSelector(policy.namespace, policy.podSelector).length === 0) {
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

// Findings about the cluster DNS itself (the kube-system/kube-dns Service and its CoreDNS
// pods): every pod depends on it, whatever namespace a question is about.
import { finding } from '../../findings/catalog.js';
import type { Finding } from '../../findings/types.js';
import type { ClusterModel } from '../../model/cluster.js';
import { diagnoseService } from '../endpoints/diagnose.js';
import { dnsEndpoints } from './expected.js';

/**
 * How much to say about the cluster DNS:
 * - 'summary' (under a DNS answer, knet dns): that kube-dns has no ready endpoint (knet
 *   endpoints tells why) and which CoreDNS pods are not ready;
 * - 'diagnosis' (knet doctor, which lists root causes): the endpoints analysis of kube-dns
 *   itself, which says why (selector, ports, readiness), without its info findings; nothing
 *   when there is no kube-dns Service.
 */
export type DnsServiceDetail = 'summary' | 'diagnosis';

/** Findings about the kube-dns Service and its CoreDNS pods, at the detail asked. */
export function dnsServiceFindings(model: ClusterModel, detail: DnsServiceDetail = 'summary'): Finding[] {
  const kubeDns = model.service('kube-system', 'kube-dns');
  if (detail === 'diagnosis') {
    if (!kubeDns) return [];
    return diagnoseService(model, kubeDns.namespace, kubeDns.name).findings.filter(
      (f) => f.severity !== 'info',
    );
  }
  const out: Finding[] = [];
  if (kubeDns && dnsEndpoints(model, kubeDns).length === 0) {
    out.push(
      finding('SVC_NO_READY_ENDPOINTS', {
        message:
          'The kube-dns Service has no ready endpoints: pods cannot resolve any name through the cluster DNS.',
        objects: ['svc/kube-system/kube-dns'],
        hint: 'Run knet endpoints svc/kube-system/kube-dns to see why; check the CoreDNS pods.',
      }),
    );
  }
  const selector = kubeDns?.selector ?? { 'k8s-app': 'kube-dns' };
  for (const pod of model.podsMatchingLabels('kube-system', selector)) {
    if (pod.ready || pod.terminating) continue;
    out.push(
      finding('POD_NOT_READY', {
        message: `CoreDNS pod kube-system/${pod.name} is not ready (phase ${pod.phase}): it gets no DNS queries from the kube-dns Service.`,
        objects: [`pod/kube-system/${pod.name}`],
        hint: 'Check its logs and readiness probe: kubectl -n kube-system logs POD; kubectl -n kube-system describe pod POD.',
      }),
    );
  }
  return out;
}

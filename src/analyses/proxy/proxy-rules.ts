// The ProxyRules document of knet proxy: each node's kube-proxy rules against the API's
// endpoints, per service port, and the findings of all nodes.
import { finding } from '../../findings/catalog.js';
import { collectFindings } from '../../findings/collector.js';
import type { Finding } from '../../findings/types.js';
import type { ClusterModel } from '../../model/cluster.js';
import { diagnoseProxyDrift, type ProxyRulesReport } from './drift.js';

export type NodeProxyReport = Omit<ProxyRulesReport, 'findings'>;

export interface ProxyRules {
  nodes: NodeProxyReport[];
  findings: Finding[];
}

/** The drift report of these nodes, for every service or one (a missing one is the answer). */
export function proxyRules(
  model: ClusterModel,
  nodes: readonly string[],
  service?: { namespace: string; name: string },
): ProxyRules {
  if (service && !model.service(service.namespace, service.name)) {
    const message = `Service ${service.namespace}/${service.name} does not exist.`;
    const objects = [`svc/${service.namespace}/${service.name}`];
    return { nodes: [], findings: collectFindings([finding('SVC_NOT_FOUND', { message, objects })], model) };
  }
  const reports = nodes.map((n) => diagnoseProxyDrift(model, n, { service }));
  return {
    nodes: reports.map(({ findings: _f, ...rest }) => rest),
    findings: collectFindings(
      reports.flatMap((r) => r.findings),
      model,
    ),
  };
}

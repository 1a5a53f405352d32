// `knet ingress` as the prompt asks it: an ing/, httproute/ or gateway/ target and an optional
// request (--host, --path), checked before the cluster is read, then the diagnosis of its kind.
import { UserError } from '../../core/errors.js';
import { parseTarget } from '../../core/target-grammar.js';
import type { ClusterModel } from '../../model/cluster.js';
import { diagnoseGateway, diagnoseHTTPRoute } from './gateway.js';
import { diagnoseIngress } from './ingress.js';
import type { IngressDiagnosis } from './types.js';

const KINDS = ['ing', 'httproute', 'gateway'] as const;

export interface IngressTargetRequest {
  target: string;
  host?: string;
  path?: string;
}

/** The request's words before any cluster is read (exit 2). */
export function checkIngressRequest(r: IngressTargetRequest): void {
  if (r.path !== undefined && !r.path.startsWith('/'))
    throw new UserError(`--path must start with "/": ${r.path}`);
  parseTarget(r.target, 'default', KINDS);
}

/** The diagnosis of the target's kind, and the target as its not-found finding names it. */
export function diagnoseIngressTarget(
  model: ClusterModel,
  r: IngressTargetRequest,
  at: { namespace: string },
): { diagnosis: IngressDiagnosis; ref: string } {
  const target = parseTarget(r.target, at.namespace, KINDS);
  const namespace = target.namespace!;
  const options = { host: r.host, path: r.path };
  const diagnose = { ing: diagnoseIngress, httproute: diagnoseHTTPRoute, gateway: diagnoseGateway }[
    target.kind
  ];
  return {
    diagnosis: diagnose(model, namespace, target.name, options),
    ref: `${target.kind}/${namespace}/${target.name}`,
  };
}

// `knet policy` as the prompt asks it: a connection's verdict (SOURCE DESTINATION), one pod's
// policies (SOURCE alone) or a namespace's matrix (--matrix). The words are checked before the
// cluster is read; a target the model does not hold, or a port the destination does not
// declare, is the one-line error of a command that cannot answer (exit 2).
import { UserError } from '../../core/errors.js';
import { parseTarget } from '../../core/target-grammar.js';
import type { ClusterModel } from '../../model/cluster.js';
import type { Protocol } from '../../model/types.js';
import { resolveEnd, resolveTargetText } from '../targets.js';
import { evaluatePolicy, type PolicyVerdict } from './evaluate.js';
import { type PolicyMatrix, policyMatrix } from './matrix.js';
import { resolvePolicyPort } from './named-port.js';
import { type PolicySelection, policiesSelecting } from './select.js';

export interface PolicyRequest {
  source?: string;
  destination?: string;
  port?: string;
  protocol?: string;
  matrix?: boolean;
}

export type PolicyAnswer =
  | { kind: 'PolicyMatrix'; matrix: PolicyMatrix }
  | { kind: 'PolicySelection'; selection: PolicySelection }
  | { kind: 'PolicyVerdict'; verdict: PolicyVerdict };

const endKinds = (r: PolicyRequest) => (r.destination ? (['pod', 'ip'] as const) : (['pod'] as const));

/** The request's words before the (possibly slow) cluster read (exit 2). */
export function checkPolicyRequest(r: PolicyRequest): void {
  if (r.matrix) {
    if (r.source)
      throw new UserError('--matrix takes no targets: use knet policy --matrix -n NAMESPACE [--port P]');
    if (r.port !== undefined && !/^\d+$/.test(r.port))
      throw new UserError('--matrix needs a numeric --port (named ports differ per pod)');
  } else if (!r.source) {
    throw new UserError(
      'name a pod (knet policy pod/NS/NAME), a connection (knet policy SOURCE DESTINATION --port P) or use --matrix -n NS',
    );
  } else {
    parseTarget(r.source, 'default', endKinds(r));
    if (r.destination) parseTarget(r.destination, 'default', ['pod', 'ip']);
  }
}

/** The answer to a checked request on a model; `note` hears which pod a workload became. */
export function answerPolicy(
  model: ClusterModel,
  r: PolicyRequest,
  at: { namespace: string; origin?: string },
  note?: (text: string) => void,
): PolicyAnswer {
  const protocol = r.protocol?.toUpperCase() as Protocol | undefined;
  if (r.matrix) {
    const port = r.port === undefined ? undefined : Number(r.port);
    return { kind: 'PolicyMatrix', matrix: policyMatrix(model, at.namespace, port, protocol ?? 'TCP') };
  }
  const end = (text: string, kinds: readonly ('pod' | 'ip')[]) => {
    const [target] = resolveTargetText(model, text, kinds, at, { note });
    const resolved = resolveEnd(model, target);
    if ('finding' in resolved) throw new UserError(resolved.finding.message.replace(/\.$/, ''));
    return { target, endpoint: resolved.endpoint };
  };
  const source = end(r.source!, endKinds(r));
  if (!r.destination) {
    if (source.endpoint.kind !== 'pod')
      throw new UserError('one target must be a pod: knet policy pod/NS/NAME');
    return { kind: 'PolicySelection', selection: policiesSelecting(model, source.endpoint.pod) };
  }
  const destination = end(r.destination, ['pod', 'ip']);
  const port = resolvePolicyPort(destination.endpoint, r.port ?? destination.target.port, protocol);
  if (typeof port === 'string') throw new UserError(port);
  const verdict = evaluatePolicy(model, {
    source: source.endpoint,
    destination: destination.endpoint,
    port: port.port,
    protocol: port.protocol,
  });
  return { kind: 'PolicyVerdict', verdict };
}

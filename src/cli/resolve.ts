// Targets resolved against the model before an analysis runs: a workload (deploy/sts/ds/rs) to
// one of its ready pods, a pod name that lives in another namespace to a suggestion, and a
// namespace or node that does not exist to a one-line error with the closest names (exit 2).
import { closeNames } from '../analyses/endpoints/similar.js';
import { UserError } from '../core/errors.js';
import type { ClusterModel } from '../model/cluster.js';
import type { Pod } from '../model/types.js';
import type { Target, WorkloadKind } from './targets.js';

/** The workload a pod belongs to, as kubectl names it (deploy/NAME for a ReplicaSet of a Deployment). */
function workloadsOf(pod: Pod): { kind: WorkloadKind; name: string }[] {
  const out: { kind: WorkloadKind; name: string }[] = [];
  for (const o of pod.ownerReferences) {
    if (o.kind === 'ReplicaSet') {
      out.push({ kind: 'rs', name: o.name });
      const hash = pod.labels['pod-template-hash'];
      if (hash && o.name.endsWith(`-${hash}`))
        out.push({ kind: 'deploy', name: o.name.slice(0, -hash.length - 1) });
      else {
        const m = /^(.+)-[a-z0-9]{5,10}$/.exec(o.name);
        if (m) out.push({ kind: 'deploy', name: m[1] });
      }
    } else if (o.kind === 'StatefulSet') out.push({ kind: 'sts', name: o.name });
    else if (o.kind === 'DaemonSet') out.push({ kind: 'ds', name: o.name });
    else if (o.kind === 'Deployment') out.push({ kind: 'deploy', name: o.name });
  }
  return out;
}

/** The pods of a workload, ready ones first, then by name. */
export function podsOfWorkload(
  model: ClusterModel,
  kind: WorkloadKind,
  namespace: string,
  name: string,
): Pod[] {
  const usable = (p: Pod) => (p.ready && !p.terminating && p.ips.length > 0 ? 0 : 1);
  return model.pods
    .filter(
      (p) => p.namespace === namespace && workloadsOf(p).some((w) => w.kind === kind && w.name === name),
    )
    .sort((a, b) => usable(a) - usable(b) || a.name.localeCompare(b.name));
}

const inOrigin = (origin: string) => (origin ? ` in ${origin}` : '');

/**
 * A pod target as the analyses take it (kind pod, a pod name), or every pod of a workload
 * with `all`. A note for stderr says which pod a workload became.
 */
export function resolvePodTargets(
  model: ClusterModel,
  target: Target,
  opts: { all?: boolean; origin?: string } = {},
): { targets: Target[]; note?: string } {
  if (target.kind !== 'pod') return { targets: [target] };
  const namespace = target.namespace ?? 'default';
  const canSearch = model.coverage === 'cluster';
  if (target.workload) {
    const pods = podsOfWorkload(model, target.workload, namespace, target.name);
    const label = `${target.workload}/${namespace}/${target.name}`;
    if (pods.length === 0) {
      const known = new Set<string>();
      for (const p of model.pods)
        for (const w of workloadsOf(p))
          if (w.kind === target.workload) known.add(`${w.kind}/${p.namespace}/${w.name}`);
      const close = closeNames(label, known, 3);
      throw new UserError(
        `${label} not found${inOrigin(opts.origin ?? '')}: no pods of it${close.length ? `; did you mean ${close.join(', ')}?` : ''}`,
      );
    }
    const ready = pods.filter((p) => p.ready && !p.terminating && p.ips.length > 0);
    const chosen = opts.all ? pods : [pods[0]];
    const targets = chosen.map((p) => ({ ...target, workload: undefined, name: p.name, namespace }));
    const note = opts.all
      ? `${label}: ${pods.length} pods`
      : `${label} → pod/${namespace}/${pods[0].name} (${ready.length ? `1 of ${ready.length} ready pod${ready.length === 1 ? '' : 's'}` : `none of its ${pods.length} pods is ready`}${pods.length > 1 ? '; --all-pods for each' : ''})`;
    return { targets, note };
  }
  if (!canSearch || model.pod(namespace, target.name)) return { targets: [target] };
  const elsewhere = model.pods
    .filter((p) => p.name === target.name)
    .map((p) => `pod/${p.namespace}/${p.name}`);
  if (elsewhere.length)
    throw new UserError(
      `pod/${target.name} not found in namespace ${namespace}: did you mean ${elsewhere.join(' or ')}? (or -n ${elsewhere[0].split('/')[1]})`,
    );
  // Not found anywhere: the analysis says so with the close names, live and offline alike.
  return { targets: [target] };
}

/** -n NAME must name a namespace the source listed (checked when namespaces were read). */
export function requireNamespace(model: ClusterModel, namespace: string, origin: string): void {
  if (model.coverage !== 'cluster' || model.namespaces.length === 0) return;
  if (model.namespace(namespace)) return;
  const close = closeNames(
    namespace,
    model.namespaces.map((n) => n.name),
    3,
  );
  throw new UserError(
    `namespace ${namespace} not found in ${origin}${close.length ? `: did you mean ${close.join(', ')}?` : ` (namespaces: ${model.namespaces.map((n) => n.name).join(', ')})`}`,
  );
}

/** --node NAME must name a node of the cluster. */
export function requireNode(model: ClusterModel, node: string | undefined, origin: string): void {
  if (node === undefined || model.nodes.length === 0 || model.node(node)) return;
  const close = closeNames(
    node,
    model.nodes.map((n) => n.name),
    3,
  );
  throw new UserError(
    `node ${node} not found in ${origin}${close.length ? `: did you mean ${close.join(', ')}?` : ` (nodes: ${model.nodes.map((n) => n.name).join(', ')})`}`,
  );
}

/** Finding codes that say a named object does not exist: the command could not answer (exit 2). */
export const NOT_FOUND_CODES = new Set([
  'POD_NOT_FOUND',
  'SVC_NOT_FOUND',
  'NODE_NOT_FOUND',
  'INGRESS_NOT_FOUND',
  'HTTPROUTE_NOT_FOUND',
  'GATEWAY_NOT_FOUND',
]);

// Targets against the model, for every command and analysis: a target to the object it names,
// a workload (deploy/sts/ds/rs) to its pods, and a name the model does not hold to one "not
// found" answer with the closest names, in its namespace and across namespaces. It lives
// with the analyses, not in model/, because its answer is a finding.
import { UserError } from '../core/errors.js';
import { closeNames } from '../core/similar-names.js';
import {
  parseTarget,
  type Target,
  type TargetKind,
  targetRef,
  type WorkloadKind,
} from '../core/target-grammar.js';
import { type FindingCode, finding } from '../findings/catalog.js';
import type { Finding } from '../findings/types.js';
import type { ClusterModel } from '../model/cluster.js';
import type { Gateway, HTTPRoute, Ingress, Node, Pod, Service } from '../model/types.js';

/** The kinds that name an object of the model (ip/ and dns/ name addresses). */
export type ObjectTargetKind = Exclude<TargetKind, 'ip' | 'dns'>;

/** A target with the model object it names. */
export type ResolvedTarget =
  | { kind: 'pod'; pod: Pod }
  | { kind: 'svc'; service: Service }
  | { kind: 'node'; node: Node }
  | { kind: 'ing'; ingress: Ingress }
  | { kind: 'httproute'; route: HTTPRoute }
  | { kind: 'gateway'; gateway: Gateway }
  | { kind: 'ip'; ip: string };

type Named = { namespace?: string; name: string };

/** Every object of a kind, in the model's order. */
function objectsOf(model: ClusterModel, kind: ObjectTargetKind): readonly Named[] {
  switch (kind) {
    case 'pod':
      return model.pods;
    case 'svc':
      return model.services;
    case 'node':
      return model.nodes;
    case 'ing':
      return model.ingresses;
    case 'httproute':
      return model.httpRoutes;
    case 'gateway':
      return model.gateways;
  }
}

/** The object a target names, or undefined (ip/ resolves to its address; dns/ is not the model's). */
export function findTarget(model: ClusterModel, t: Target): ResolvedTarget | undefined {
  const ns = t.namespace ?? 'default';
  const named = (o: Named) => o.name === t.name && o.namespace === ns;
  switch (t.kind) {
    case 'ip':
      return { kind: 'ip', ip: t.name };
    case 'dns':
      return undefined;
    case 'pod': {
      const pod = model.pod(ns, t.name);
      return pod && { kind: 'pod', pod };
    }
    case 'svc': {
      const service = model.service(ns, t.name);
      return service && { kind: 'svc', service };
    }
    case 'node': {
      const node = model.node(t.name);
      return node && { kind: 'node', node };
    }
    case 'ing': {
      const ingress = model.ingresses.find(named);
      return ingress && { kind: 'ing', ingress };
    }
    case 'httproute': {
      const route = model.httpRoutes.find(named);
      return route && { kind: 'httproute', route };
    }
    case 'gateway': {
      const gateway = model.gateways.find(named);
      return gateway && { kind: 'gateway', gateway };
    }
  }
}

/** What the model holds near a name it does not hold. */
export interface CloseTargets {
  /** Names of the kind in the target's namespace (every node for node/) close to it, closest first, at most 5. */
  close: string[];
  /** KIND/NS/NAME of objects with exactly this name in other namespaces, in the model's order. */
  elsewhere: string[];
  /** How many objects of the kind the namespace holds. */
  inNamespace: number;
}

export function closeTargets(
  model: ClusterModel,
  kind: ObjectTargetKind,
  namespace: string | undefined,
  name: string,
): CloseTargets {
  const all = objectsOf(model, kind);
  const same = kind === 'node' ? all : all.filter((o) => o.namespace === namespace);
  return {
    close: closeNames(
      name,
      same.map((o) => o.name),
    ),
    elsewhere:
      kind === 'node'
        ? []
        : all
            .filter((o) => o.name === name && o.namespace !== namespace)
            .map((o) => targetRef({ kind, namespace: o.namespace, name: o.name })),
    inNamespace: same.length,
  };
}

/** The finding that says a kind's object does not exist (the command then cannot answer: exit 2). */
const NOT_FOUND: Record<ObjectTargetKind, FindingCode> = {
  pod: 'POD_NOT_FOUND',
  svc: 'SVC_NOT_FOUND',
  node: 'NODE_NOT_FOUND',
  ing: 'INGRESS_NOT_FOUND',
  httproute: 'HTTPROUTE_NOT_FOUND',
  gateway: 'GATEWAY_NOT_FOUND',
};

export const NOT_FOUND_CODES: ReadonlySet<string> = new Set(Object.values(NOT_FOUND));

/** How a not-found message reads, given what is close to the name. */
interface Phrasing {
  lead: (where: string) => string;
  /** Suggest KIND/NS/NAME refs (else bare names), and the same name in other namespaces. */
  refs: boolean;
  elsewhere: boolean;
  /** The end of the message when there is nothing to suggest. */
  none: (ns: string, near: CloseTargets, model: ClusterModel) => string;
  /** The suggestions as evidence too. */
  evidence?: boolean;
}

const short = (noun: string): Phrasing => ({
  lead: (where) => `No ${noun} ${where}`,
  refs: false,
  elsewhere: false,
  none: () => '.',
});

const long = (noun: string, more: Partial<Phrasing> = {}): Phrasing => ({
  lead: (where) => `${noun} ${where} does not exist`,
  refs: true,
  elsewhere: false,
  none: () => '.',
  ...more,
});

/**
 * How each kind's object reads when it does not exist, as the commands have always printed it
 * (test/golden and the CLI tests hold these byte for byte): "No pod NS/NAME" for what can
 * only be a connection's end, "Service NS/NAME does not exist" for the subject of a diagnosis.
 */
const PHRASINGS: Record<ObjectTargetKind, Phrasing> = {
  pod: short('pod'),
  node: short('node'),
  svc: long('Service', {
    elsewhere: true,
    evidence: true,
    none: (ns, near, model) =>
      !model.namespace(ns)
        ? ` (there is no namespace ${ns})`
        : near.inNamespace === 0
          ? ` (namespace ${ns} has no services)`
          : '',
  }),
  ing: long('Ingress', {
    elsewhere: true,
    none: (ns, near) => (near.inNamespace === 0 ? ` (namespace ${ns} has no Ingresses)` : '.'),
  }),
  httproute: long('HTTPRoute'),
  gateway: long('Gateway', { refs: false }),
};

/** A Service as a trace's destination reads as a pod or node does. */
const AS_END: Partial<Record<ObjectTargetKind, Phrasing>> = { svc: short('service') };

/**
 * The *_NOT_FOUND finding for a target the model does not hold, with the closest names.
 * `as`: the target is an end of a connection (trace, policy) or the subject of a diagnosis.
 */
export function targetNotFound(
  model: ClusterModel,
  t: Target<ObjectTargetKind>,
  as: 'end' | 'subject',
): Finding {
  const ns = t.kind === 'node' ? undefined : (t.namespace ?? 'default');
  const phrasing = (as === 'end' && AS_END[t.kind]) || PHRASINGS[t.kind];
  const near = closeTargets(model, t.kind, ns, t.name);
  const suggestions = [
    ...near.close.map((n) => (phrasing.refs ? targetRef({ kind: t.kind, namespace: ns, name: n }) : n)),
    ...(phrasing.elsewhere ? near.elsewhere : []),
  ];
  const where = ns === undefined ? t.name : `${ns}/${t.name}`;
  return finding(NOT_FOUND[t.kind], {
    message: `${phrasing.lead(where)}${suggestions.length ? `; did you mean ${suggestions.slice(0, 5).join(', ')}?` : phrasing.none(ns ?? '', near, model)}`,
    objects: [targetRef({ kind: t.kind, namespace: ns, name: t.name })],
    evidence: phrasing.evidence ? suggestions.map((s) => `close name: ${s}`) : undefined,
  });
}

type End = Extract<ResolvedTarget, { kind: 'pod' | 'ip' }>;

/** A pod or ip/ target as a connection's end, or the POD_NOT_FOUND finding. */
export function resolveEnd(
  model: ClusterModel,
  t: Target<'pod' | 'ip'>,
): { endpoint: End } | { finding: Finding } {
  const found = findTarget(model, t) as End | undefined;
  return found ? { endpoint: found } : { finding: targetNotFound(model, t as Target<'pod'>, 'end') };
}

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
 * with `all`. A note for stderr says which pod a workload became. A workload without pods, or
 * a pod that lives only in other namespaces, is a one-line error (exit 2) naming the closest.
 */
export function resolvePodTargets<K extends TargetKind>(
  model: ClusterModel,
  target: Target<K>,
  opts: { all?: boolean; origin?: string } = {},
): { targets: Target<K>[]; note?: string } {
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
  const elsewhere = closeTargets(model, 'pod', namespace, target.name).elsewhere;
  if (elsewhere.length)
    throw new UserError(
      `pod/${target.name} not found in namespace ${namespace}: did you mean ${elsewhere.join(' or ')}? (or -n ${elsewhere[0].split('/')[1]})`,
    );
  // Not found anywhere: the analysis says so with the close names, live and offline alike.
  return { targets: [target] };
}

/**
 * A target as typed, on a model: parsed with `at.namespace` as its default, a workload to its
 * pods (one, unless `all`); `note` hears which pods a workload became.
 */
export function resolveTargetText<K extends TargetKind>(
  model: ClusterModel,
  text: string,
  kinds: readonly K[],
  at: { namespace: string; origin?: string },
  opts: { all?: boolean; note?: (text: string) => void } = {},
): Target<K>[] {
  const r = resolvePodTargets(model, parseTarget(text, at.namespace, kinds), {
    all: opts.all,
    origin: at.origin,
  });
  if (r.note) opts.note?.(r.note);
  return r.targets;
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
  const close = closeTargets(model, 'node', undefined, node).close.slice(0, 3);
  throw new UserError(
    `node ${node} not found in ${origin}${close.length ? `: did you mean ${close.join(', ')}?` : ` (nodes: ${model.nodes.map((n) => n.name).join(', ')})`}`,
  );
}

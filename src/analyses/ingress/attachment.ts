// Where an HTTPRoute attaches (gateway.networking.k8s.io/v1): each parentRef → its Gateway and
// the listeners that accept the route (allowedRoutes, hostnames), the Gateway's class, and the
// controller's own word in status.parents, as the spec defines attachment.

import { GATEWAY_GROUP } from '../../core/api-groups.js';
import { closeNames } from '../../core/similar-names.js';
import { finding } from '../../findings/catalog.js';
import type { Finding } from '../../findings/types.js';
import type { ClusterModel } from '../../model/cluster.js';
import { matchesSelector } from '../../model/labels.js';
import type {
  Gateway,
  GatewayListener,
  HTTPRoute,
  ParentReference,
  RouteParentStatus,
} from '../../model/types.js';
import { conditionText, gatewayClassCheck } from './classes.js';
import { hostsIntersect } from './match.js';
import type { ControllerSummary, GatewayParentSummary } from './types.js';

export interface ParentCheck {
  summary: GatewayParentSummary;
  findings: Finding[];
  className?: string;
  controller: ControllerSummary | null;
}

/** The port of the first listener a parent Gateway attaches the route to (where clients connect). */
export function parentListenerPort(model: ClusterModel, parent: GatewayParentSummary): number | undefined {
  const gw = model.gateway(parent.namespace, parent.name);
  if (!gw) return undefined;
  return parent.port ?? gw.listeners.find((l) => parent.listeners.includes(l.name))?.port;
}

/** Why a listener refuses an HTTPRoute from `routeNs` (allowedRoutes.namespaces / kinds); undefined: it admits it. */
function listenerRefusal(
  model: ClusterModel,
  gw: Gateway,
  l: GatewayListener,
  routeNs: string,
): string | undefined {
  if (!['HTTP', 'HTTPS'].includes(l.protocol))
    return `listener ${l.name} speaks ${l.protocol}, not HTTP/HTTPS`;
  const kinds = l.allowedKinds;
  if (kinds.length && !kinds.some((k) => k.kind === 'HTTPRoute' && k.group === GATEWAY_GROUP))
    return `listener ${l.name} allows only ${kinds.map((k) => k.kind).join(', ')}`;
  if (l.allowedFrom === 'All') return undefined;
  if (l.allowedFrom === 'Same')
    return routeNs === gw.namespace
      ? undefined
      : `listener ${l.name} allows routes from its own namespace (${gw.namespace}) only`;
  if (l.allowedFrom === 'Selector') {
    const ns = model.namespace(routeNs);
    return ns && matchesSelector(l.allowedSelector, ns.labels)
      ? undefined
      : `namespace ${routeNs} does not match listener ${l.name}'s namespace selector`;
  }
  return `listener ${l.name} allowedRoutes.namespaces.from ${l.allowedFrom} is unknown to knet`;
}

/** What the controller says about one parent: the entry for its sectionName, else any for the Gateway. */
function statusFor(route: HTTPRoute, ref: ParentReference): RouteParentStatus | undefined {
  const same = (p: RouteParentStatus) =>
    p.parentRef.name === ref.name && p.parentRef.namespace === ref.namespace;
  return (
    route.parents.find((p) => same(p) && (p.parentRef.sectionName ?? null) === (ref.sectionName ?? null)) ??
    route.parents.find(same)
  );
}

/** One parentRef: the Gateway exists, a listener accepts the route, and the controller agrees. */
export function checkParent(
  model: ClusterModel,
  route: HTTPRoute,
  ref: ParentReference,
  index: number,
): ParentCheck {
  const owner = `httproute/${route.namespace}/${route.name}`;
  const { namespace: ns, name } = ref;
  const sectionName = ref.sectionName ?? null;
  const port = ref.port ?? null;
  const findings: Finding[] = [];
  const status = statusFor(route, ref);
  const conditions = (status?.conditions ?? []).map(conditionText);
  const summary: GatewayParentSummary = {
    namespace: ns,
    name,
    sectionName,
    port,
    listeners: [],
    accepted: null,
    conditions,
    addresses: [],
  };
  const where = `spec.parentRefs[${index}]`;
  if (ref.kind !== 'Gateway') return { summary, findings, controller: null };
  const gw = model.gateway(ns, name);
  if (!gw) {
    const close = closeNames(
      name,
      model.gateways.filter((g) => g.namespace === ns).map((g) => g.name),
    );
    summary.accepted = false;
    findings.push(
      finding('GATEWAY_NOT_FOUND', {
        message: `${where} of HTTPRoute ${route.namespace}/${route.name} names Gateway ${ns}/${name}, which does not exist${close.length ? `; did you mean ${close.join(', ')}?` : '.'}`,
        objects: [owner, `gateway/${ns}/${name}`],
        evidence: [`${owner} ${where}: ${ref.written}`, ...conditions.map((c) => `status: ${c}`)],
      }),
    );
    return { summary, findings, controller: null };
  }
  summary.addresses = [...gw.addresses];
  const cls = gatewayClassCheck(model, gw, owner);
  findings.push(...cls.findings);

  const gwRef = `gateway/${ns}/${name}`;
  const reasons: string[] = [];
  for (const l of gw.listeners) {
    if (sectionName && l.name !== sectionName) continue;
    if (port !== null && l.port !== port) continue;
    const why = listenerRefusal(model, gw, l, route.namespace);
    if (why) {
      reasons.push(why);
      continue;
    }
    if (route.hostnames.length && l.hostname && !route.hostnames.some((h) => hostsIntersect(h, l.hostname))) {
      reasons.push(
        `listener ${l.name} hostname ${l.hostname} matches none of the route's hostnames (${route.hostnames.join(', ')})`,
      );
      continue;
    }
    summary.listeners.push(l.name);
  }
  const accepted = status?.conditions.find((c) => c.type === 'Accepted');
  const evidence = conditions.map((c) => `status.parents (${ns}/${name}): ${c}`);
  if (summary.listeners.length === 0) {
    if (sectionName && !gw.listeners.some((l) => l.name === sectionName))
      reasons.push(`Gateway ${ns}/${name} has no listener named ${sectionName}`);
    if (port !== null && !gw.listeners.some((l) => l.port === port))
      reasons.push(`Gateway ${ns}/${name} has no listener on port ${port}`);
    summary.accepted = false;
    findings.push(
      finding('GATEWAY_ROUTE_NOT_ACCEPTED', {
        message: `HTTPRoute ${route.namespace}/${route.name} cannot attach to Gateway ${ns}/${name}${sectionName ? ` listener ${sectionName}` : ''}: ${reasons[0] ?? 'no listener accepts it'}.`,
        objects: [owner, gwRef],
        evidence: [...reasons, ...evidence],
      }),
    );
  } else if (accepted?.status === 'False') {
    summary.accepted = false;
    findings.push(
      finding('GATEWAY_ROUTE_NOT_ACCEPTED', {
        message: `The controller did not accept HTTPRoute ${route.namespace}/${route.name} on Gateway ${ns}/${name}: ${conditionText(accepted)}.`,
        objects: [owner, gwRef],
        evidence,
      }),
    );
  } else {
    summary.accepted = accepted?.status === 'True' ? true : null;
  }
  return { summary, findings, className: cls.className, controller: cls.controller };
}

// The Gateway API walk (gateway.networking.k8s.io/v1): HTTPRoute → parentRefs (Gateway and
// listener: allowedRoutes, hostnames) → GatewayClass and its controller → rules and matches →
// backendRefs (Services; another namespace needs a ReferenceGrant), with the route's Accepted
// and ResolvedRefs conditions as evidence. Produces the same IngressDiagnosis as an Ingress.
import { dedupeFindings, finding } from '../../findings/catalog.js';
import { collectFindings } from '../../findings/collector.js';
import type { Finding } from '../../findings/types.js';
import type { ClusterModel } from '../../model/cluster.js';
import { matchesSelector } from '../../model/labels.js';
import { normalizeSelector, type Raw } from '../../model/normalize.js';
import type { GenericObject } from '../../model/types.js';
import { closeNames } from '../endpoints/similar.js';
import { BackendChecker, missingDiagnosis, requestBackends } from './backend.js';
import { controllerPods, controllerSummary, servicesFronting } from './controllers.js';
import {
  canonicalPrefix,
  gatewayHostMatches,
  hostsIntersect,
  normalizeHost,
  type PathMatch,
  pathMatches,
  pathSpecificity,
} from './match.js';
import type {
  ControllerSummary,
  GatewayParentSummary,
  IngressDiagnosis,
  IngressRequest,
  IngressRoute,
  RequestOptions,
  RouteBackend,
  RoutePathType,
  RouteRequest,
} from './types.js';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

const routeRef = (r: GenericObject) => `httproute/${r.namespace}/${r.name}`;
const gwRef = (g: GenericObject) => `gateway/${g.namespace}/${g.name}`;

const arr = (v: unknown): Raw[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function isGatewayKind(o: GenericObject, kind: string): boolean {
  return o.kind === kind && (o.apiVersion === '' || o.apiVersion.startsWith(`${GATEWAY_GROUP}/`));
}

export function findGatewayObject(
  model: ClusterModel,
  kind: string,
  namespace: string | undefined,
  name: string,
): GenericObject | undefined {
  return model.others.find(
    (o) =>
      isGatewayKind(o, kind) && o.name === name && (namespace === undefined || o.namespace === namespace),
  );
}

/** "Accepted=True (Accepted): message" */
function conditionText(c: Raw): string {
  return `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${c.message}` : ''}`;
}

function condition(conditions: unknown, type: string): Raw | undefined {
  return arr(conditions).find((c) => c?.type === type);
}

interface Listener {
  name: string;
  hostname?: string;
  port: number;
  protocol: string;
  raw: Raw;
}

function listenersOf(gw: GenericObject): Listener[] {
  const spec = (gw.raw as Raw).spec ?? {};
  return arr(spec.listeners).map((l) => ({
    name: String(l.name),
    hostname: str(l.hostname),
    port: Number(l.port),
    protocol: String(l.protocol ?? 'HTTP'),
    raw: l,
  }));
}

/** The port of the first listener a parent Gateway attaches the route to (where clients connect). */
export function parentListenerPort(model: ClusterModel, parent: GatewayParentSummary): number | undefined {
  const gw = findGatewayObject(model, 'Gateway', parent.namespace, parent.name);
  if (!gw) return undefined;
  return parent.port ?? listenersOf(gw).find((l) => parent.listeners.includes(l.name))?.port;
}

/** Whether a listener admits an HTTPRoute from `namespace` (allowedRoutes.namespaces / kinds). */
function listenerAdmits(
  model: ClusterModel,
  gw: GenericObject,
  l: Listener,
  routeNs: string,
): string | undefined {
  if (!['HTTP', 'HTTPS'].includes(l.protocol))
    return `listener ${l.name} speaks ${l.protocol}, not HTTP/HTTPS`;
  const allowed = l.raw.allowedRoutes ?? {};
  const kinds = arr(allowed.kinds);
  if (
    kinds.length &&
    !kinds.some((k) => k.kind === 'HTTPRoute' && (k.group ?? GATEWAY_GROUP) === GATEWAY_GROUP)
  ) {
    return `listener ${l.name} allows only ${kinds.map((k) => k.kind).join(', ')}`;
  }
  const from = allowed.namespaces?.from ?? 'Same';
  if (from === 'All') return undefined;
  if (from === 'Same')
    return routeNs === gw.namespace
      ? undefined
      : `listener ${l.name} allows routes from its own namespace (${gw.namespace}) only`;
  if (from === 'Selector') {
    const ns = model.namespace(routeNs);
    const selector = normalizeSelector(allowed.namespaces?.selector ?? {});
    return ns && matchesSelector(selector, ns.labels)
      ? undefined
      : `namespace ${routeNs} does not match listener ${l.name}'s namespace selector`;
  }
  return `listener ${l.name} allowedRoutes.namespaces.from ${from} is unknown to knet`;
}

/** A ReferenceGrant in `toNs` that lets HTTPRoutes of `fromNs` refer to Service `name`. */
export function referenceGrantFor(
  model: ClusterModel,
  fromNs: string,
  toNs: string,
  name: string,
): GenericObject | undefined {
  return model.others.find((o) => {
    if (o.kind !== 'ReferenceGrant' || o.namespace !== toNs) return false;
    const spec = (o.raw as Raw).spec ?? {};
    const from = arr(spec.from).some(
      (f) => f.group === GATEWAY_GROUP && f.kind === 'HTTPRoute' && f.namespace === fromNs,
    );
    const to = arr(spec.to).some(
      (t) => (t.group ?? '') === '' && t.kind === 'Service' && (!t.name || t.name === name),
    );
    return from && to;
  });
}

interface ParentCheck {
  summary: GatewayParentSummary;
  findings: Finding[];
  gateway?: GenericObject;
  className?: string;
  controller: ControllerSummary | null;
}

function statusFor(
  route: GenericObject,
  gw: { namespace: string; name: string },
  sectionName: string | null,
): Raw | undefined {
  const parents = arr((route.raw as Raw).status?.parents);
  return (
    parents.find(
      (p) =>
        p.parentRef?.name === gw.name &&
        (p.parentRef?.namespace ?? route.namespace) === gw.namespace &&
        (p.parentRef?.sectionName ?? null) === sectionName,
    ) ??
    parents.find(
      (p) => p.parentRef?.name === gw.name && (p.parentRef?.namespace ?? route.namespace) === gw.namespace,
    )
  );
}

function gatewayClassCheck(
  model: ClusterModel,
  gw: GenericObject,
  owner: string,
): { className?: string; controller: ControllerSummary | null; findings: Finding[] } {
  const className = str((gw.raw as Raw).spec?.gatewayClassName);
  const findings: Finding[] = [];
  if (!className) return { controller: null, findings };
  const gc = findGatewayObject(model, 'GatewayClass', undefined, className);
  if (!gc) {
    const known = model.others.filter((o) => isGatewayKind(o, 'GatewayClass')).map((o) => o.name);
    const close = closeNames(className, known);
    findings.push(
      finding('INGRESS_CLASS_MISSING', {
        message: `Gateway ${gw.namespace}/${gw.name} uses GatewayClass ${className}, which does not exist${close.length ? `; did you mean ${close.join(', ')}?` : ''}: no controller programs it.`,
        objects: [gwRef(gw), owner, `gatewayclass/${className}`],
        evidence: [
          `${gwRef(gw)} spec.gatewayClassName: ${className}`,
          `GatewayClasses: ${known.join(', ') || 'none'}`,
        ],
      }),
    );
    return { className, controller: null, findings };
  }
  const controllerName = String((gc.raw as Raw).spec?.controllerName ?? '');
  const accepted = condition((gc.raw as Raw).status?.conditions, 'Accepted');
  const pods = controllerPods(model, controllerName);
  const services = servicesFronting(model, dataPlanePods(model, gw, pods.running));
  const controller = controllerSummary(className, controllerName, pods, services, [
    `gatewayclass/${className}: controllerName ${controllerName}${accepted ? `, ${conditionText(accepted)}` : ', no Accepted condition'}`,
  ]);
  const noPods = pods.signature && !pods.signature.external && pods.running.length === 0;
  const notAccepted = accepted?.status !== 'True';
  if (noPods || (!pods.signature && notAccepted)) {
    findings.push(
      finding('INGRESS_NO_CONTROLLER', {
        message: noPods
          ? `No ${pods.signature?.name} controller pod is running and ready for GatewayClass ${className} (controller ${controllerName}): nothing programs Gateway ${gw.namespace}/${gw.name}.`
          : `GatewayClass ${className} (controller ${controllerName}) has not been accepted by any controller${accepted ? ` (${conditionText(accepted)})` : ''}: nothing programs Gateway ${gw.namespace}/${gw.name}.`,
        objects: [`gatewayclass/${className}`, gwRef(gw), owner],
        evidence: controller.evidence,
      }),
    );
  }
  return { className, controller, findings };
}

/** The Gateway's data-plane pods: labelled with the Gateway's name (GEP-1762), else the controller's. */
function dataPlanePods(
  model: ClusterModel,
  gw: GenericObject,
  controller: ReturnType<typeof controllerPods>['running'],
) {
  const labelled = model.pods.filter(
    (p) =>
      p.labels['gateway.networking.k8s.io/gateway-name'] === gw.name ||
      p.labels['gateway.envoyproxy.io/owning-gateway-name'] === gw.name ||
      p.labels['istio.io/gateway-name'] === gw.name,
  );
  return labelled.length ? labelled : controller;
}

function checkParent(model: ClusterModel, route: GenericObject, parentRef: Raw, index: number): ParentCheck {
  const owner = routeRef(route);
  const ns = str(parentRef.namespace) ?? (route.namespace as string);
  const name = String(parentRef.name);
  const sectionName = str(parentRef.sectionName) ?? null;
  const port = typeof parentRef.port === 'number' ? parentRef.port : null;
  const findings: Finding[] = [];
  const status = statusFor(route, { namespace: ns, name }, sectionName);
  const conditions = arr(status?.conditions).map(conditionText);
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
  if ((parentRef.kind ?? 'Gateway') !== 'Gateway') {
    summary.accepted = null;
    return { summary, findings, controller: null };
  }
  const gw = findGatewayObject(model, 'Gateway', ns, name);
  if (!gw) {
    const close = closeNames(
      name,
      model.others.filter((o) => isGatewayKind(o, 'Gateway') && o.namespace === ns).map((o) => o.name),
    );
    summary.accepted = false;
    findings.push(
      finding('GATEWAY_NOT_FOUND', {
        message: `${where} of HTTPRoute ${route.namespace}/${route.name} names Gateway ${ns}/${name}, which does not exist${close.length ? `; did you mean ${close.join(', ')}?` : '.'}`,
        objects: [owner, `gateway/${ns}/${name}`],
        evidence: [
          `${owner} ${where}: ${JSON.stringify(parentRef)}`,
          ...conditions.map((c) => `status: ${c}`),
        ],
      }),
    );
    return { summary, findings, controller: null };
  }
  summary.addresses = arr((gw.raw as Raw).status?.addresses)
    .map((a) => str(a.value))
    .filter((a): a is string => Boolean(a));
  const cls = gatewayClassCheck(model, gw, owner);
  findings.push(...cls.findings);

  // Listener attachment, as the spec defines it.
  const routeHostnames = arr((route.raw as Raw).spec?.hostnames).map(String);
  const reasons: string[] = [];
  for (const l of listenersOf(gw)) {
    if (sectionName && l.name !== sectionName) continue;
    if (port !== null && l.port !== port) continue;
    const why = listenerAdmits(model, gw, l, route.namespace as string);
    if (why) {
      reasons.push(why);
      continue;
    }
    if (routeHostnames.length && l.hostname && !routeHostnames.some((h) => hostsIntersect(h, l.hostname))) {
      reasons.push(
        `listener ${l.name} hostname ${l.hostname} matches none of the route's hostnames (${routeHostnames.join(', ')})`,
      );
      continue;
    }
    summary.listeners.push(l.name);
  }
  const acceptedCond = condition(status?.conditions, 'Accepted');
  if (summary.listeners.length === 0) {
    if (sectionName && !listenersOf(gw).some((l) => l.name === sectionName))
      reasons.push(`Gateway ${ns}/${name} has no listener named ${sectionName}`);
    if (port !== null && !listenersOf(gw).some((l) => l.port === port))
      reasons.push(`Gateway ${ns}/${name} has no listener on port ${port}`);
    summary.accepted = false;
    findings.push(
      finding('GATEWAY_ROUTE_NOT_ACCEPTED', {
        message: `HTTPRoute ${route.namespace}/${route.name} cannot attach to Gateway ${ns}/${name}${sectionName ? ` listener ${sectionName}` : ''}: ${reasons[0] ?? 'no listener accepts it'}.`,
        objects: [owner, gwRef(gw)],
        evidence: [...reasons, ...conditions.map((c) => `status.parents (${ns}/${name}): ${c}`)],
      }),
    );
  } else if (acceptedCond && acceptedCond.status === 'False') {
    summary.accepted = false;
    findings.push(
      finding('GATEWAY_ROUTE_NOT_ACCEPTED', {
        message: `The controller did not accept HTTPRoute ${route.namespace}/${route.name} on Gateway ${ns}/${name}: ${conditionText(acceptedCond)}.`,
        objects: [owner, gwRef(gw)],
        evidence: conditions.map((c) => `status.parents (${ns}/${name}): ${c}`),
      }),
    );
  } else {
    summary.accepted = acceptedCond?.status === 'True' ? true : null;
  }
  return { summary, findings, gateway: gw, className: cls.className, controller: cls.controller };
}

function matchText(m: Raw): { path: PathMatch; pathType: RoutePathType; conditions: string[] } {
  const type = m?.path?.type ?? 'PathPrefix';
  const value = m?.path?.value ?? '/';
  const conditions: string[] = [];
  for (const h of arr(m?.headers))
    conditions.push(`header ${h.name}${h.type === 'RegularExpression' ? ' ~ ' : ' = '}${h.value}`);
  for (const q of arr(m?.queryParams))
    conditions.push(`query ${q.name}${q.type === 'RegularExpression' ? ' ~ ' : ' = '}${q.value}`);
  if (m?.method) conditions.push(`method ${m.method}`);
  const pathType: RoutePathType =
    type === 'Exact' ? 'Exact' : type === 'RegularExpression' ? 'RegularExpression' : 'PathPrefix';
  const kind = type === 'Exact' ? 'Exact' : type === 'RegularExpression' ? 'Regex' : 'Prefix';
  return { path: { kind, value }, pathType, conditions };
}

function notFound(model: ClusterModel, namespace: string, name: string): IngressDiagnosis {
  const names = model.others
    .filter((o) => isGatewayKind(o, 'HTTPRoute') && o.namespace === namespace)
    .map((o) => o.name);
  const close = closeNames(name, names).map((n) => `httproute/${namespace}/${n}`);
  return missingDiagnosis(
    finding('HTTPROUTE_NOT_FOUND', {
      message: `HTTPRoute ${namespace}/${name} does not exist${close.length ? `; did you mean ${close.join(', ')}?` : '.'}`,
      objects: [`httproute/${namespace}/${name}`],
    }),
  );
}

interface RouteAnalysis {
  diagnosis: IngressDiagnosis;
  resolved: { service: RouteBackend['service']; port: RouteBackend['port'] }[];
  /** Findings that concern the whole route (parents, class, controller). */
  global: Finding[];
  /** Findings per routes[] entry. */
  perRoute: Finding[][];
}

function analyzeRoute(model: ClusterModel, route: GenericObject, options: RequestOptions): RouteAnalysis {
  const owner = routeRef(route);
  const ns = route.namespace as string;
  const spec = (route.raw as Raw).spec ?? {};
  const notes: string[] = [];
  const global: Finding[] = [];

  const parents = arr(spec.parentRefs).map((p, i) => checkParent(model, route, p, i));
  for (const p of parents) global.push(...p.findings);
  if (parents.length === 0) notes.push('The route has no parentRefs: it is attached to no Gateway.');
  const attached = parents.some((p) => p.summary.accepted !== false);

  const hostnames = arr(spec.hostnames).map(String);
  const routes: IngressRoute[] = [];
  const resolved: RouteAnalysis['resolved'] = [];
  const perRoute: Finding[][] = [];
  const checker = new BackendChecker(model);
  const statusConds = parents.flatMap((p) => p.summary.conditions);
  const resolvedRefs = statusConds.find((c) => c.startsWith('ResolvedRefs='));
  arr(spec.rules).forEach((rule, i) => {
    const matches = arr(rule.matches).length ? arr(rule.matches) : [{}];
    const refs = arr(rule.backendRefs);
    const totalWeight = refs.reduce((n, r) => n + (typeof r.weight === 'number' ? r.weight : 1), 0);
    if (refs.length === 0)
      notes.push(
        `spec.rules[${i}] has no backendRefs: the Gateway answers matching requests itself (500, or what its filters say).`,
      );
    // Each backendRef is checked once.
    const checks = refs.map((b, j) => {
      const source = `spec.rules[${i}].backendRefs[${j}]`;
      const kind = b.kind ?? 'Service';
      const group = b.group ?? '';
      const backendNs = str(b.namespace) ?? ns;
      const service = kind === 'Service' && group === '' ? String(b.name) : null;
      const out = {
        backend: {
          service,
          namespace: backendNs,
          port: typeof b.port === 'number' ? b.port : null,
          resource: service ? null : `${kind}/${b.name}`,
        },
        weight: (typeof b.weight === 'number' ? b.weight : 1) / Math.max(1, totalWeight),
        status: 'unknown' as IngressRoute['status'],
        servicePort: null as number | null,
        endpoints: null as number | null,
        service: null as RouteBackend['service'],
        port: null as RouteBackend['port'],
        findings: [] as Finding[],
      };
      if (!service) {
        notes.push(`${source} refers to ${kind}/${b.name}: not a Service, knet does not follow it.`);
      } else if (backendNs !== ns && !referenceGrantFor(model, ns, backendNs, service)) {
        out.status = 'broken';
        out.findings.push(
          finding('GATEWAY_REF_NOT_PERMITTED', {
            message: `${source} of HTTPRoute ${ns}/${route.name} sends requests to Service ${backendNs}/${service} in another namespace, and no ReferenceGrant in ${backendNs} allows it: those requests fail (HTTP 500).`,
            objects: [owner, `svc/${backendNs}/${service}`],
            evidence: [
              `${owner} ${source}: ${JSON.stringify(b)}`,
              `no ReferenceGrant in namespace ${backendNs} with from {group: ${GATEWAY_GROUP}, kind: HTTPRoute, namespace: ${ns}} and to {kind: Service}`,
              ...(resolvedRefs ? [`status: ${resolvedRefs}`] : []),
            ],
          }),
        );
      } else {
        const c = checker.check(backendNs, service, out.backend.port, owner, source);
        Object.assign(out, {
          service: c.service,
          port: c.port,
          servicePort: c.port?.port ?? null,
          endpoints: c.endpoints,
          status: c.status,
        });
        out.findings.push(...c.findings);
        for (const n of c.notes) if (!notes.includes(n)) notes.push(n);
      }
      return out;
    });
    matches.forEach((m, k) => {
      const mt = matchText(m);
      const targets: (typeof checks)[number][] | [null] = checks.length ? checks : [null];
      targets.forEach((c, j) => {
        const entry: IngressRoute = {
          host: hostnames.length ? hostnames.join(', ') : null,
          hosts: hostnames,
          path: mt.path.value,
          pathType: mt.pathType,
          conditions: mt.conditions,
          backend: c ? c.backend : { service: null, namespace: ns, port: null, resource: null },
          weight: c ? c.weight : null,
          servicePort: c?.servicePort ?? null,
          endpoints: c?.endpoints ?? null,
          tls: null,
          status: c?.status ?? 'unknown',
          problems: [],
          source: `spec.rules[${i}]${arr(rule.matches).length ? `.matches[${k}]` : ''}${c ? `.backendRefs[${j}]` : ''}`,
          selected: false,
        };
        if (!attached && entry.status === 'ok') entry.status = 'broken';
        routes.push(entry);
        resolved.push({ service: c?.service ?? null, port: c?.port ?? null });
        // The same findings under every match of the rule: one message each, deduplicated below.
        perRoute.push(c ? c.findings : []);
      });
    });
  });

  // The controller says references do not resolve, and knet found no reason of its own.
  const knetRefProblem = perRoute.some((f) =>
    f.some((x) =>
      ['GATEWAY_REF_NOT_PERMITTED', 'INGRESS_BACKEND_NOT_FOUND', 'INGRESS_BACKEND_PORT_NOT_FOUND'].includes(
        x.code,
      ),
    ),
  );
  for (const p of parents) {
    const rr = p.summary.conditions.find((c) => c.startsWith('ResolvedRefs=False'));
    if (rr && !knetRefProblem) {
      global.push(
        finding('GATEWAY_REFS_UNRESOLVED', {
          message: `The controller reports that HTTPRoute ${ns}/${route.name} has references it cannot resolve on Gateway ${p.summary.namespace}/${p.summary.name}: ${rr}.`,
          objects: [owner],
          evidence: [`status.parents (${p.summary.namespace}/${p.summary.name}): ${rr}`],
        }),
      );
    }
  }

  // Identical matches in two rules: the later one never receives a request.
  const seen = new Map<string, number>();
  routes.forEach((r, i) => {
    if (r.path === null) return;
    const key = `${r.hosts.join(',')}\u0000${r.pathType}\u0000${r.pathType === 'PathPrefix' ? canonicalPrefix(r.path) : r.path}\u0000${r.conditions.join(';')}`;
    const ruleOf = (s: string) => s.replace(/\.backendRefs\[\d+\]$/, '').replace(/\.matches\[\d+\]$/, '');
    const first = seen.get(key);
    if (first === undefined) {
      seen.set(key, i);
      return;
    }
    if (ruleOf(routes[first].source) === ruleOf(r.source)) return;
    perRoute[i].push(
      finding('INGRESS_PATH_SHADOWED', {
        message: `${ruleOf(r.source)} of HTTPRoute ${ns}/${route.name} matches exactly what ${ruleOf(routes[first].source)} matches (${r.pathType} ${r.path}${r.conditions.length ? `, ${r.conditions.join(', ')}` : ''}): the earlier rule takes every such request.`,
        objects: [owner],
        evidence: [
          `${owner} ${routes[first].source} -> ${routes[first].backend.service}`,
          `${owner} ${r.source} -> ${r.backend.service}`,
        ],
      }),
    );
  });

  let request: IngressRequest | null = null;
  if (options.host !== undefined || options.path !== undefined) {
    request = resolveRouteRequest(routes, options);
    for (const i of request.routes) routes[i].selected = true;
    if (request.routes.length === 0) {
      global.push(
        finding('INGRESS_NO_RULE_MATCH', {
          message: `No rule of HTTPRoute ${ns}/${route.name} matches ${request.host ?? '(any host)'}${request.path}: the Gateway answers 404.`,
          objects: [owner],
          evidence: [request.reason],
        }),
      );
    }
  }
  for (const [i, list] of perRoute.entries()) routes[i].problems = [...new Set(list.map((f) => f.code))];
  const routeFindings = routes.flatMap((r, i) => (request && !r.selected ? [] : perRoute[i]));
  const first = parents.find((p) => p.controller) ?? parents[0];
  return {
    diagnosis: {
      ingress: {
        kind: 'HTTPRoute',
        namespace: ns,
        name: route.name,
        class: first?.className ?? null,
        addresses: [...new Set(parents.flatMap((p) => p.summary.addresses))],
        gateways: parents.map((p) => p.summary),
      },
      controller: first?.controller ?? null,
      routes,
      request,
      notes,
      findings: collectFindings([...global, ...routeFindings], model),
    },
    resolved,
    global,
    perRoute,
  };
}

/**
 * Which rule a request goes to: the entries whose hostnames match the host, then the most
 * specific path match (Exact, then the longest prefix); matches with header, query or method
 * conditions rank below those without, since host and path cannot decide them.
 */
function resolveRouteRequest(routes: IngressRoute[], options: RequestOptions): IngressRequest {
  const host = options.host ? normalizeHost(options.host) : null;
  const path = options.path ?? '/';
  const ruleOf = (s: string) => s.replace(/\.backendRefs\[\d+\]$/, '');
  let best: { score: number; rule: string } | undefined;
  const picked: number[] = [];
  let hostMatched = false;
  routes.forEach((r, i) => {
    if (r.path === null) return;
    if (host && r.hosts.length && !r.hosts.some((h) => gatewayHostMatches(h, host))) return;
    hostMatched = true;
    const kind = r.pathType === 'Exact' ? 'Exact' : r.pathType === 'RegularExpression' ? 'Regex' : 'Prefix';
    if (!pathMatches({ kind, value: r.path }, path)) return;
    const score = pathSpecificity({ kind, value: r.path }) * 2 + (r.conditions.length ? 0 : 1);
    const rule = ruleOf(r.source);
    if (!best || score > best.score) {
      best = { score, rule };
      picked.length = 0;
    }
    if (best.score === score && best.rule === rule) picked.push(i);
  });
  if (!best) {
    const hosts = [...new Set(routes.flatMap((r) => r.hosts))];
    return {
      host,
      path,
      routes: [],
      reason: hostMatched
        ? `no match covers ${path}`
        : `host ${host} matches none of the hostnames (${hosts.join(', ')})`,
    };
  }
  const r = routes[picked[0]];
  const cond = r.conditions.length ? ` (only when ${r.conditions.join(', ')})` : '';
  return {
    host,
    path,
    routes: picked,
    reason: `${r.pathType} ${r.path} is the most specific match for ${path}${cond} (${best.rule})`,
  };
}

/** knet ingress httproute/NS/NAME [--host H] [--path P]. */
export function diagnoseHTTPRoute(
  model: ClusterModel,
  namespace: string,
  name: string,
  options: RequestOptions = {},
): IngressDiagnosis {
  const route = findGatewayObject(model, 'HTTPRoute', namespace, name);
  if (!route) return notFound(model, namespace, name);
  return analyzeRoute(model, route, options).diagnosis;
}

/** A request through an HTTPRoute (see ingressRequest); the data plane reaches the endpoints. */
export function httpRouteRequest(
  model: ClusterModel,
  route: GenericObject,
  options: RequestOptions = {},
): RouteRequest {
  const { diagnosis, resolved } = analyzeRoute(model, route, options);
  return requestBackends(diagnosis, resolved, 'endpoints');
}

/**
 * knet ingress gateway/NS/NAME: every HTTPRoute attached to the Gateway, as one list of routes
 * (each source prefixed with its HTTPRoute), and the request resolved across all of them.
 */
export function diagnoseGateway(
  model: ClusterModel,
  namespace: string,
  name: string,
  options: RequestOptions = {},
): IngressDiagnosis {
  const gw = findGatewayObject(model, 'Gateway', namespace, name);
  if (!gw) {
    const close = closeNames(
      name,
      model.others.filter((o) => isGatewayKind(o, 'Gateway') && o.namespace === namespace).map((o) => o.name),
    );
    return missingDiagnosis(
      finding('GATEWAY_NOT_FOUND', {
        message: `Gateway ${namespace}/${name} does not exist${close.length ? `; did you mean ${close.join(', ')}?` : '.'}`,
        objects: [`gateway/${namespace}/${name}`],
      }),
    );
  }
  const cls = gatewayClassCheck(model, gw, gwRef(gw));
  const global: Finding[] = [...cls.findings];
  const routes: IngressRoute[] = [];
  const perRoute: Finding[][] = [];
  const notes: string[] = [];
  const attached = routesOfGateway(model, namespace, name);
  if (attached.length === 0) notes.push(`No HTTPRoute names Gateway ${namespace}/${name} as its parent.`);
  for (const route of attached) {
    const a = analyzeRoute(model, route, {});
    global.push(...a.global);
    a.diagnosis.routes.forEach((r, i) => {
      routes.push({ ...r, source: `${routeRef(route)} ${r.source}` });
      perRoute.push(a.perRoute[i]);
    });
    for (const n of a.diagnosis.notes) notes.push(`${routeRef(route)}: ${n}`);
  }
  let request: IngressRequest | null = null;
  if (options.host !== undefined || options.path !== undefined) {
    request = resolveRouteRequest(routes, options);
    for (const i of request.routes) routes[i].selected = true;
    if (request.routes.length === 0) {
      global.push(
        finding('INGRESS_NO_RULE_MATCH', {
          message: `No HTTPRoute attached to Gateway ${namespace}/${name} matches ${request.host ?? '(any host)'}${request.path}: the Gateway answers 404.`,
          objects: [gwRef(gw)],
          evidence: [request.reason],
        }),
      );
    }
  }
  const routeFindings = routes.flatMap((r, i) => (request && !r.selected ? [] : perRoute[i]));
  return {
    ingress: {
      kind: 'Gateway',
      namespace,
      name,
      class: cls.className ?? null,
      addresses: arr((gw.raw as Raw).status?.addresses)
        .map((a) => str(a.value))
        .filter((a): a is string => Boolean(a)),
    },
    controller: cls.controller,
    routes,
    request,
    notes,
    findings: collectFindings([...global, ...routeFindings], model),
  };
}

/** The HTTPRoutes attached (by parentRef) to a Gateway. */
export function routesOfGateway(model: ClusterModel, namespace: string, name: string): GenericObject[] {
  return model.others.filter(
    (o) =>
      isGatewayKind(o, 'HTTPRoute') &&
      arr((o.raw as Raw).spec?.parentRefs).some(
        (p) =>
          p.name === name &&
          (str(p.namespace) ?? o.namespace) === namespace &&
          (p.kind ?? 'Gateway') === 'Gateway',
      ),
  );
}

/** Every Gateway API finding (doctor): each HTTPRoute's walk, and Gateways whose class is missing. */
export function gatewayDoctorFindings(model: ClusterModel, namespace?: string): Finding[] {
  const out: Finding[] = [];
  for (const route of model.others.filter((o) => isGatewayKind(o, 'HTTPRoute'))) {
    if (namespace !== undefined && route.namespace !== namespace) continue;
    const d = analyzeRoute(model, route, {}).diagnosis;
    out.push(...d.findings.filter((f) => /^(INGRESS_|GATEWAY_|HTTPROUTE_)/.test(f.code)));
  }
  for (const gw of model.others.filter((o) => isGatewayKind(o, 'Gateway'))) {
    if (namespace !== undefined && gw.namespace !== namespace) continue;
    out.push(...gatewayClassCheck(model, gw, gwRef(gw)).findings);
  }
  return dedupeFindings(out);
}

// The Gateway API as a route table (route-table.ts): an HTTPRoute's rules × matches ×
// backendRefs become its rows; its parentRefs (attachment.ts) and their classes the route's own
// checks; a backendRef into another namespace needs a ReferenceGrant. A Gateway's table is the
// tables of the HTTPRoutes attached to it, joined.

import { GATEWAY_GROUP } from '../../core/api-groups.js';
import { dedupeFindings, finding } from '../../findings/catalog.js';
import type { Finding } from '../../findings/types.js';
import type { ClusterModel } from '../../model/cluster.js';
import type { BackendReference, HTTPRoute, HTTPRouteMatch, ReferenceGrant } from '../../model/types.js';
import { checkParent } from './attachment.js';
import { BackendChecker, type BackendRow, backendRow, missingDiagnosis } from './backend.js';
import { gatewayClassCheck } from './classes.js';
import { canonicalPrefix, gatewayHostMatches } from './match.js';
import {
  diagnoseTable,
  type HostGroup,
  type HostRules,
  type RouteEntry,
  type RouteTable,
  routeAdapter,
  shadowedRows,
  tableFindings,
} from './route-table.js';
import type { IngressDiagnosis, IngressRoute, RequestOptions } from './types.js';

const routeRef = (r: HTTPRoute) => `httproute/${r.namespace}/${r.name}`;

/** Gateway API hostnames: a wildcard covers any number of labels; no host ranks above another. */
const GATEWAY_HOSTS: HostRules = { matches: gatewayHostMatches, rank: () => 0, perHost: false };

/** The codes by which knet itself explains a backendRef that does not resolve. */
const REF_PROBLEMS = new Set([
  'GATEWAY_REF_NOT_PERMITTED',
  'INGRESS_BACKEND_NOT_FOUND',
  'INGRESS_BACKEND_PORT_NOT_FOUND',
]);

/** A rule without matches matches every request. */
const EVERY: HTTPRouteMatch = { path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] };

/** A ReferenceGrant in `toNs` that lets HTTPRoutes of `fromNs` refer to Service `name`. */
export function referenceGrantFor(
  model: ClusterModel,
  fromNs: string,
  toNs: string,
  name: string,
): ReferenceGrant | undefined {
  return model
    .referenceGrantsIn(toNs)
    .find(
      (g) =>
        g.from.some((f) => f.group === GATEWAY_GROUP && f.kind === 'HTTPRoute' && f.namespace === fromNs) &&
        g.to.some((t) => t.group === '' && t.kind === 'Service' && (!t.name || t.name === name)),
    );
}

/** The match's other conditions (headers, query parameters, method), as text. */
function conditionsOf(m: HTTPRouteMatch): string[] {
  const op = (type: string) => (type === 'RegularExpression' ? ' ~ ' : ' = ');
  return [
    ...m.headers.map((h) => `header ${h.name}${op(h.type)}${h.value}`),
    ...m.queryParams.map((q) => `query ${q.name}${op(q.type)}${q.value}`),
    ...(m.method ? [`method ${m.method}`] : []),
  ];
}

/** One backendRef, checked once for every match of its rule. */
function checkRef(
  model: ClusterModel,
  checker: BackendChecker,
  route: HTTPRoute,
  b: BackendReference,
  source: string,
  /** The controller's ResolvedRefs condition, as text, for evidence. */
  resolvedRefs: string | undefined,
  notes: string[],
): BackendRow & { backend: IngressRoute['backend'] } {
  const owner = routeRef(route);
  const service = b.kind === 'Service' && b.group === '' ? b.name : null;
  const backend = {
    service,
    namespace: b.namespace,
    port: b.port ?? null,
    resource: service ? null : `${b.kind}/${b.name}`,
  };
  const unchecked = { backend, resolved: { service: null, port: null }, servicePort: null, endpoints: null };
  if (!service) {
    notes.push(`${source} refers to ${b.kind}/${b.name}: not a Service, knet does not follow it.`);
    return { ...unchecked, status: 'unknown', findings: [] };
  }
  if (b.namespace !== route.namespace && !referenceGrantFor(model, route.namespace, b.namespace, service)) {
    const f = finding('GATEWAY_REF_NOT_PERMITTED', {
      message: `${source} of HTTPRoute ${route.namespace}/${route.name} sends requests to Service ${b.namespace}/${service} in another namespace, and no ReferenceGrant in ${b.namespace} allows it: those requests fail (HTTP 500).`,
      objects: [owner, `svc/${b.namespace}/${service}`],
      evidence: [
        `${owner} ${source}: ${b.written}`,
        `no ReferenceGrant in namespace ${b.namespace} with from {group: ${GATEWAY_GROUP}, kind: HTTPRoute, namespace: ${route.namespace}} and to {kind: Service}`,
        ...(resolvedRefs ? [`status: ${resolvedRefs}`] : []),
      ],
    });
    return { ...unchecked, status: 'broken', findings: [f] };
  }
  return { backend, ...backendRow(checker, notes, b.namespace, service, backend.port, owner, source) };
}

/** HTTPRoute rows sent nowhere by host and path: the one most specific match of all. */
function explain(entries: RouteEntry[], g: HostGroup, host: string | null, path: string): string {
  if (!g.picked.length) {
    const hosts = [...new Set(entries.flatMap((e) => e.route.hosts))];
    return g.candidates.length
      ? `no match covers ${path}`
      : `host ${host} matches none of the hostnames (${hosts.join(', ')})`;
  }
  const { route: r, group } = entries[g.picked[0]];
  const cond = r.conditions.length ? ` (only when ${r.conditions.join(', ')})` : '';
  return `${r.pathType} ${r.path} is the most specific match for ${path}${cond} (${group})`;
}

/** Identical matches in two rules: the later one never receives a request. */
function shadowFindings(route: HTTPRoute, entries: RouteEntry[], rules: string[]): void {
  const owner = routeRef(route);
  const rows = entries.map(({ route: r }, i) => ({
    key: `${r.hosts.join(',')}\u0000${r.pathType}\u0000${r.pathType === 'PathPrefix' ? canonicalPrefix(r.path ?? '/') : r.path}\u0000${r.conditions.join(';')}`,
    rule: rules[i],
  }));
  for (const [i, first] of shadowedRows(rows)) {
    const [r, e] = [entries[i].route, entries[first].route];
    entries[i].findings.push(
      finding('INGRESS_PATH_SHADOWED', {
        message: `${rules[i]} of HTTPRoute ${route.namespace}/${route.name} matches exactly what ${rules[first]} matches (${r.pathType} ${r.path}${r.conditions.length ? `, ${r.conditions.join(', ')}` : ''}): the earlier rule takes every such request.`,
        objects: [owner],
        evidence: [
          `${owner} ${e.source} -> ${e.backend.service}`,
          `${owner} ${r.source} -> ${r.backend.service}`,
        ],
      }),
    );
  }
}

/** An HTTPRoute as a route table: its parents, then one row per match and backendRef. */
export function httpRouteTable(model: ClusterModel, route: HTTPRoute): RouteTable {
  const owner = routeRef(route);
  const notes: string[] = [];
  const global: Finding[] = [];
  const parents = route.parentRefs.map((p, i) => checkParent(model, route, p, i));
  for (const p of parents) global.push(...p.findings);
  if (parents.length === 0) notes.push('The route has no parentRefs: it is attached to no Gateway.');
  const attached = parents.some((p) => p.summary.accepted !== false);
  const resolvedRefs = parents
    .flatMap((p) => p.summary.conditions)
    .find((c) => c.startsWith('ResolvedRefs='));

  const hosts = route.hostnames;
  const checker = new BackendChecker(model);
  const entries: RouteEntry[] = [];
  const rules: string[] = [];
  route.rules.forEach((rule, i) => {
    const totalWeight = rule.backendRefs.reduce((n, b) => n + b.weight, 0);
    if (rule.backendRefs.length === 0)
      notes.push(
        `spec.rules[${i}] has no backendRefs: the Gateway answers matching requests itself (500, or what its filters say).`,
      );
    const checks = rule.backendRefs.map((b, j) =>
      checkRef(model, checker, route, b, `spec.rules[${i}].backendRefs[${j}]`, resolvedRefs, notes),
    );
    (rule.matches.length ? rule.matches : [EVERY]).forEach((m, k) => {
      const group = `spec.rules[${i}]${rule.matches.length ? `.matches[${k}]` : ''}`;
      const kind =
        m.path.type === 'Exact' ? 'Exact' : m.path.type === 'RegularExpression' ? 'Regex' : 'Prefix';
      (checks.length ? checks : [null]).forEach((c, j) => {
        const status = c?.status ?? 'unknown';
        const r: IngressRoute = {
          host: hosts.length ? hosts.join(', ') : null,
          hosts,
          path: m.path.value,
          pathType: m.path.type,
          conditions: conditionsOf(m),
          backend: c ? c.backend : { service: null, namespace: route.namespace, port: null, resource: null },
          weight: c ? rule.backendRefs[j].weight / Math.max(1, totalWeight) : null,
          servicePort: c?.servicePort ?? null,
          endpoints: c?.endpoints ?? null,
          tls: null,
          status: !attached && status === 'ok' ? 'broken' : status,
          problems: [],
          source: `${group}${c ? `.backendRefs[${j}]` : ''}`,
          selected: false,
        };
        const resolved = c ? c.resolved : { service: null, port: null };
        entries.push({
          route: r,
          match: { kind, value: m.path.value },
          group,
          resolved,
          findings: [...(c?.findings ?? [])],
        });
        rules.push(`spec.rules[${i}]`);
      });
    });
  });

  // The controller says references do not resolve, and knet found no reason of its own.
  const knetRefProblem = entries.some((e) => e.findings.some((f) => REF_PROBLEMS.has(f.code)));
  for (const p of parents) {
    const rr = p.summary.conditions.find((c) => c.startsWith('ResolvedRefs=False'));
    if (rr && !knetRefProblem) {
      global.push(
        finding('GATEWAY_REFS_UNRESOLVED', {
          message: `The controller reports that HTTPRoute ${route.namespace}/${route.name} has references it cannot resolve on Gateway ${p.summary.namespace}/${p.summary.name}: ${rr}.`,
          objects: [owner],
          evidence: [`status.parents (${p.summary.namespace}/${p.summary.name}): ${rr}`],
        }),
      );
    }
  }
  shadowFindings(route, entries, rules);

  const first = parents.find((p) => p.controller) ?? parents[0];
  const summary = {
    kind: 'HTTPRoute' as const,
    namespace: route.namespace,
    name: route.name,
    class: first?.className ?? null,
    addresses: [...new Set(parents.flatMap((p) => p.summary.addresses))],
    gateways: parents.map((p) => p.summary),
  };
  const table = { summary, controller: first?.controller ?? null, entries, global, notes };
  return gatewayApiTable(table, `No rule of HTTPRoute ${route.namespace}/${route.name}`, owner);
}

/** An HTTPRoute's or a Gateway's table: Gateway API hosts, the most specific match, a 404 when none. */
function gatewayApiTable(
  table: Pick<RouteTable, 'summary' | 'controller' | 'entries' | 'global' | 'notes'>,
  subject: string,
  owner: string,
): RouteTable {
  return {
    ...table,
    hosts: GATEWAY_HOSTS,
    explain: (groups, host, path) => explain(table.entries, groups[0], host, path),
    unmatched: { owner, subject, answer: ': the Gateway answers 404.' },
    upstream: 'endpoints',
  };
}

const httpRoutes = routeAdapter('httproute', (m, ns, name) => m.httpRoute(ns, name), httpRouteTable);

/** knet ingress httproute/NS/NAME [--host H] [--path P]. */
export const diagnoseHTTPRoute = httpRoutes.diagnose;

/** A request through an HTTPRoute; the data plane reaches the endpoints. */
export const httpRouteRequest = httpRoutes.request;

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
  const gw = model.gateway(namespace, name);
  if (!gw) return missingDiagnosis(model, 'gateway', namespace, name);
  const ref = `gateway/${namespace}/${name}`;
  const cls = gatewayClassCheck(model, gw, ref);
  const global = [...cls.findings];
  const entries: RouteEntry[] = [];
  const notes: string[] = [];
  const attached = model.routesOfGateway(namespace, name);
  if (attached.length === 0) notes.push(`No HTTPRoute names Gateway ${namespace}/${name} as its parent.`);
  for (const route of attached) {
    const t = httpRouteTable(model, route);
    const prefix = `${routeRef(route)} `;
    global.push(...t.global);
    for (const e of t.entries)
      entries.push({ ...e, route: { ...e.route, source: prefix + e.route.source }, group: prefix + e.group });
    for (const n of t.notes) notes.push(`${routeRef(route)}: ${n}`);
  }
  const summary = {
    kind: 'Gateway' as const,
    namespace,
    name,
    class: cls.className ?? null,
    addresses: [...gw.addresses],
  };
  const table = { summary, controller: cls.controller, entries, global, notes };
  const subject = `No HTTPRoute attached to Gateway ${namespace}/${name}`;
  return diagnoseTable(model, gatewayApiTable(table, subject, ref), options).diagnosis;
}

/** Every Gateway API finding (doctor): each HTTPRoute's table, and Gateways whose class is missing. */
export function gatewayDoctorFindings(model: ClusterModel, namespace?: string): Finding[] {
  return dedupeFindings([
    ...tableFindings(
      model,
      model.httpRoutes,
      namespace,
      (r) => httpRouteTable(model, r),
      /^(INGRESS_|GATEWAY_|HTTPROUTE_)/,
    ),
    ...model.gateways
      .filter((gw) => namespace === undefined || gw.namespace === namespace)
      .flatMap((gw) => gatewayClassCheck(model, gw, `gateway/${gw.namespace}/${gw.name}`).findings),
  ]);
}

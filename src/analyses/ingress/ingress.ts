// knet ingress ing/NS/NAME: an Ingress as a route table (route-table.ts). Its rules (exact,
// prefix and implementation-specific paths, wildcard hosts, the default backend) become rows
// resolved to Services and ports; the checks that are the Ingress's own: the class and its
// controller, TLS Secrets (by name only), and rules that repeat another's host and path.
import { dedupeFindings, finding } from '../../findings/catalog.js';
import type { Finding } from '../../findings/types.js';
import type { ClusterModel } from '../../model/cluster.js';
import type { Ingress, IngressBackend } from '../../model/types.js';
import { BackendChecker, backendRow } from './backend.js';
import { ingressClassCheck } from './classes.js';
import { canonicalPrefix, hostMatches, hostRank, normalizeHost, type PathMatch } from './match.js';
import {
  type HostGroup,
  type HostRules,
  type RouteEntry,
  type RouteTable,
  routeAdapter,
  shadowedRows,
  tableFindings,
} from './route-table.js';
import type { IngressRoute } from './types.js';

export type { IngressDiagnosis, RouteBackend, RouteRequest } from './types.js';

const ingRef = (i: { namespace: string; name: string }) => `ing/${i.namespace}/${i.name}`;

/** ingress-nginx reads ImplementationSpecific paths as regexes with these annotations. */
function usesRegex(ingress: Ingress): boolean {
  return (
    ingress.annotations['nginx.ingress.kubernetes.io/use-regex'] === 'true' ||
    Boolean(ingress.annotations['nginx.ingress.kubernetes.io/rewrite-target'])
  );
}

/** How the controller reaches the backends: endpoints directly, or the Service VIP. */
export function upstreamMode(ingress: Ingress): 'endpoints' | 'service' {
  return ingress.annotations['nginx.ingress.kubernetes.io/service-upstream'] === 'true'
    ? 'service'
    : 'endpoints';
}

/** Ingress hosts: a wildcard covers one label, and an exact host goes before a wildcard. */
const INGRESS_HOSTS: HostRules = { matches: hostMatches, rank: hostRank, perHost: true };

function pathMatchOf(regex: boolean, route: IngressRoute): PathMatch | null {
  if (route.path === null) return null;
  if (route.pathType === 'Exact') return { kind: 'Exact', value: route.path };
  // ingress-nginx turns every path of the Ingress into a regex location under use-regex (and
  // tries the longest first), not only the ImplementationSpecific ones.
  return { kind: regex ? 'Regex' : 'Prefix', value: route.path };
}

/** The requests a row takes, as one string: two rows with the same key take the same requests. */
function shadowKey(route: IngressRoute, regex: boolean): string | undefined {
  if (route.path === null) return undefined;
  const effective = route.pathType === 'ImplementationSpecific' && !regex ? 'Prefix' : route.pathType;
  const path = effective === 'Prefix' ? canonicalPrefix(route.path) : route.path;
  return `${route.host ? normalizeHost(route.host) : '*'}\u0000${effective}\u0000${path}`;
}

function backendSummary(namespace: string, b: IngressBackend): IngressRoute['backend'] {
  if (b.service) {
    return {
      service: b.service.name,
      namespace,
      port: b.service.port.number ?? b.service.port.name ?? null,
      resource: null,
    };
  }
  return {
    service: null,
    namespace,
    port: null,
    resource: b.resource ? `${b.resource.kind}/${b.resource.name}` : null,
  };
}

function tlsFor(ingress: Ingress, host: string | null): string | null {
  if (!host) return null;
  for (const t of ingress.tls) {
    if (t.hosts.some((h) => hostMatches(h, host) || normalizeHost(h) === normalizeHost(host)))
      return t.secretName ?? '(default certificate)';
  }
  return null;
}

/** The routes of an Ingress, in spec order, with the default backend last. */
function listRoutes(ingress: Ingress): IngressRoute[] {
  const routes: IngressRoute[] = [];
  const base = (host: string | null) => ({
    host,
    hosts: host ? [host] : [],
    conditions: [],
    weight: null,
    servicePort: null,
    endpoints: null,
    tls: tlsFor(ingress, host),
    status: 'unknown' as const,
    problems: [],
    selected: false,
  });
  ingress.rules.forEach((rule, i) => {
    rule.paths.forEach((p, j) => {
      routes.push({
        ...base(rule.host ?? null),
        path: p.path ?? '/',
        pathType: p.pathType,
        backend: backendSummary(ingress.namespace, p.backend),
        source: `spec.rules[${i}].http.paths[${j}]`,
      });
    });
  });
  if (ingress.defaultBackend) {
    routes.push({
      ...base(null),
      path: null,
      pathType: 'Default',
      backend: backendSummary(ingress.namespace, ingress.defaultBackend),
      source: 'spec.defaultBackend',
    });
  }
  return routes;
}

/**
 * Rules no request reaches: the same host, path type and path defined twice in the Ingress, or
 * in another Ingress of the same class (then one of the two never gets it). Row → finding.
 */
function shadowFindings(model: ClusterModel, ingress: Ingress, routes: IngressRoute[]): Map<number, Finding> {
  const out = new Map<number, Finding>();
  const ref = ingRef(ingress);
  const regex = usesRegex(ingress);
  const keys = routes.map((r) => shadowKey(r, regex));
  for (const [i, earlier] of shadowedRows(keys.map((key, i) => ({ key, rule: String(i) })))) {
    const [r, e] = [routes[i], routes[earlier]];
    out.set(
      i,
      finding('INGRESS_PATH_SHADOWED', {
        message: `${r.source} of Ingress ${ingress.namespace}/${ingress.name} (host ${r.host ?? '*'}, ${r.pathType} ${r.path}) repeats ${e.source}: every such request goes to ${e.backend.service ?? e.backend.resource}, never to ${r.backend.service ?? r.backend.resource}.`,
        objects: [ref],
        evidence: [
          `${ref} ${e.source}: ${e.pathType} ${e.path} -> ${e.backend.service}:${e.backend.port}`,
          `${ref} ${r.source}: ${r.pathType} ${r.path} -> ${r.backend.service}:${r.backend.port}`,
        ],
      }),
    );
  }
  for (const other of model.ingresses) {
    if (other === ingress || (other.className ?? '') !== (ingress.className ?? '')) continue;
    const otherKeys = new Map(listRoutes(other).map((r) => [shadowKey(r, usesRegex(other)), r] as const));
    routes.forEach((r, i) => {
      const o = keys[i] === undefined ? undefined : otherKeys.get(keys[i]);
      if (!o || out.has(i)) return;
      out.set(
        i,
        finding('INGRESS_PATH_SHADOWED', {
          message: `Host ${r.host ?? '*'} ${r.pathType} ${r.path} is defined by both Ingress ${ingress.namespace}/${ingress.name} and ${other.namespace}/${other.name} (class ${ingress.className ?? 'none'}): the controller sends every such request to only one of them (ingress-nginx: the older Ingress).`,
          objects: [ref, ingRef(other)],
          evidence: [
            `${ref} ${r.source} -> ${r.backend.service}:${r.backend.port}`,
            `${ingRef(other)} ${o.source} -> ${o.backend.service}:${o.backend.port}`,
          ],
        }),
      );
    });
  }
  return out;
}

/** Per host: the most specific path that matches, else the default backend. */
function explain(routes: IngressRoute[], groups: HostGroup[], path: string): string {
  return groups
    .map((g) => {
      if (g.fallback)
        return `host ${g.label}: no path matches ${path}${g.unknown ? ' (an invalid regex could not be evaluated)' : ''}: spec.defaultBackend`;
      const r = routes[g.picked[0]];
      if (r)
        return `host ${g.label}: ${r.pathType} ${r.path} is the most specific path that matches ${path} (${r.source})`;
      return g.candidates.length
        ? `host ${g.label}: no path matches ${path} and there is no default backend`
        : `no rule of the Ingress matches host ${g.label} and there is no default backend`;
    })
    .join('; ');
}

/** The secret names the source holds for a namespace, or undefined when it holds none. */
function secretNames(model: ClusterModel, namespace: string): Set<string> | undefined {
  const names = model.others
    .filter((o) => o.kind === 'Secret' && o.namespace === namespace)
    .map((o) => o.name);
  return names.length ? new Set(names) : undefined;
}

/** TLS Secrets, by name only (knet never reads Secret data): on the rows they serve, else global. */
function checkTLS(model: ClusterModel, ingress: Ingress, entries: RouteEntry[], table: RouteTable): void {
  const secrets = secretNames(model, ingress.namespace);
  const names = [...new Set(ingress.tls.map((t) => t.secretName).filter((s): s is string => Boolean(s)))];
  if (names.length && !secrets) {
    table.notes.push(
      `TLS Secret${names.length > 1 ? 's' : ''} ${names.join(', ')} not checked: the source lists no Secret names in namespace ${ingress.namespace} (knet never reads Secret data).`,
    );
  }
  for (const name of names) {
    if (!secrets || secrets.has(name)) continue;
    const hosts = ingress.tls.filter((t) => t.secretName === name).flatMap((t) => t.hosts);
    const f = finding('INGRESS_TLS_SECRET_MISSING', {
      message: `Ingress ${ingress.namespace}/${ingress.name} serves ${hosts.join(', ') || 'its hosts'} with TLS Secret ${name}, which does not exist in namespace ${ingress.namespace}: clients get the controller's default certificate.`,
      objects: [ingRef(ingress), `secret/${ingress.namespace}/${name}`],
      evidence: [
        `${ingRef(ingress)} spec.tls: secretName ${name} for ${hosts.join(', ') || '(no hosts)'}`,
        `Secrets in ${ingress.namespace}: ${[...secrets].sort().join(', ')}`,
      ],
    });
    const served = entries.filter((e) => e.route.tls === name);
    for (const e of served) e.findings.push(f);
    if (!served.length) table.global.push(f);
  }
}

/** An Ingress as a route table: its class check, its rows with their backends, TLS and shadowing. */
export function ingressTable(model: ClusterModel, ingress: Ingress): RouteTable {
  const ref = ingRef(ingress);
  const cls = ingressClassCheck(model, ingress);
  const notes = [...cls.notes];
  const routes = listRoutes(ingress);
  ingress.rules.forEach((rule, i) => {
    if (rule.paths.length === 0)
      notes.push(`spec.rules[${i}] (host ${rule.host ?? '*'}) has no http paths: controllers ignore it.`);
  });
  if (routes.length === 0) notes.push('The Ingress has no rules and no default backend: it routes nothing.');
  const regex = usesRegex(ingress);
  if (regex)
    notes.push(
      'Paths other than Exact are read as regular expressions, the longest first (nginx use-regex / rewrite-target annotation).',
    );

  const checker = new BackendChecker(model);
  const entries = routes.map((r): RouteEntry => {
    const row = { route: r, match: pathMatchOf(regex, r), group: r.source };
    if (!r.backend.service) {
      notes.push(
        `${r.source} sends to ${r.backend.resource ?? 'an empty backend'}: not a Service, knet does not follow it.`,
      );
      return { ...row, resolved: { service: null, port: null }, findings: [] };
    }
    const b = backendRow(checker, notes, ingress.namespace, r.backend.service, r.backend.port, ref, r.source);
    Object.assign(r, { servicePort: b.servicePort, endpoints: b.endpoints, status: b.status });
    return { ...row, resolved: b.resolved, findings: b.findings };
  });
  for (const [i, f] of shadowFindings(model, ingress, routes)) {
    entries[i].findings.push(f);
    if (routes[i].status === 'ok') routes[i].status = 'unknown';
  }
  const table: RouteTable = {
    summary: {
      kind: 'Ingress',
      namespace: ingress.namespace,
      name: ingress.name,
      class: ingress.className ?? cls.className ?? null,
      addresses: ingress.loadBalancerIPs,
    },
    controller: cls.controller,
    entries,
    global: [...cls.findings],
    notes,
    hosts: INGRESS_HOSTS,
    explain: (groups, _host, path) => explain(routes, groups, path),
    unmatched: {
      owner: ref,
      subject: `No rule of Ingress ${ingress.namespace}/${ingress.name}`,
      answer: ', and it has no default backend: the controller answers itself (usually 404).',
    },
    upstream: upstreamMode(ingress),
  };
  checkTLS(model, ingress, entries, table);
  return table;
}

const ingresses = routeAdapter('ing', (m, ns, name) => m.ingress(ns, name), ingressTable);

/** knet ingress ing/NS/NAME [--host H] [--path P]. */
export const diagnoseIngress = ingresses.diagnose;

/**
 * A request (host/path) through an Ingress: its diagnosis and the backends it is sent to, every
 * route's when neither is given — what `knet trace … ing/NS/NAME` walks after the controller
 * pod (docs/outside-in.md).
 */
export const ingressRequest = ingresses.request;

/** Every Ingress finding (doctor): the INGRESS_* codes only; the Services' own are doctor's. */
export function ingressDoctorFindings(model: ClusterModel, namespace?: string): Finding[] {
  return dedupeFindings(
    tableFindings(model, model.ingresses, namespace, (i) => ingressTable(model, i), /^INGRESS_/),
  );
}

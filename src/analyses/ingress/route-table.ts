// The route table that an Ingress and the Gateway API both adapt to (ingress.ts, gateway.ts):
// rows of host and path match → backend, each with the findings that bite it. Written once
// here: the request matcher (host/path → rows), the shadowed-row check, and how a table
// becomes an IngressDiagnosis, a request's backends or doctor's findings.
import { finding } from '../../findings/catalog.js';
import { collectFindings } from '../../findings/collector.js';
import type { Finding } from '../../findings/types.js';
import type { ClusterModel } from '../../model/cluster.js';
import type { Service, ServicePort } from '../../model/types.js';
import { missingDiagnosis, requestBackends } from './backend.js';
import { normalizeHost, type PathMatch, pathMatches, pathSpecificity } from './match.js';
import type {
  ControllerSummary,
  IngressDiagnosis,
  IngressRequest,
  IngressRoute,
  IngressSummary,
  RequestOptions,
  RouteBackend,
  RouteRequest,
} from './types.js';

export interface RouteEntry {
  /** The document's row. */
  route: IngressRoute;
  /** How the request path is compared; null for the default backend. */
  match: PathMatch | null;
  /** Rows of one match (an HTTPRoute rule's weighted backendRefs): a request takes them together. */
  group: string;
  /** The Service and port the backend resolves to. */
  resolved: { service: Service | null; port: ServicePort | null };
  /** Findings that bite this row. */
  findings: Finding[];
}

/** The rows one host of the request can go to, and the ones it goes to. */
export interface HostGroup {
  /** The request host or, when none is asked, a rule host ("*" for none). */
  label: string;
  /** Rows whose host covers the request's (the default backend is not one). */
  candidates: number[];
  /** The rows the request goes to: the most specific match, else the default backend. */
  picked: number[];
  /** picked is the default backend. */
  fallback: boolean;
  /** A path could not be evaluated (an invalid regex). */
  unknown: boolean;
}

/** How an API compares the request host with route hosts. */
export interface HostRules {
  matches: (pattern: string, host: string) => boolean;
  /** Precedence among the matching hosts, larger first (an Ingress: exact over wildcard). */
  rank: (pattern: string | undefined) => number;
  /** Without a host, each rule host is resolved on its own (an Ingress's server blocks). */
  perHost: boolean;
}

export interface RouteTable {
  summary: IngressSummary;
  controller: ControllerSummary | null;
  entries: RouteEntry[];
  /** Findings about the whole object (class, controller, parents). */
  global: Finding[];
  notes: string[];
  hosts: HostRules;
  /** The matcher's answer in the API's words. */
  explain: (groups: HostGroup[], host: string | null, path: string) => string;
  /**
   * INGRESS_NO_RULE_MATCH when no row takes a request: the object's ref, the subject ("No rule
   * of Ingress NS/NAME") and what the client gets instead.
   */
  unmatched: { owner: string; subject: string; answer: string };
  /** How the data plane reaches the backends. */
  upstream: RouteBackend['upstream'];
}

/** The most specific matching path among `members`; conditions rank a match below one without. */
function pickPath(entries: readonly RouteEntry[], members: number[], path: string) {
  let best: { score: number; group: string } | undefined;
  let unknown = false;
  const picked: number[] = [];
  for (const i of members) {
    const e = entries[i];
    if (!e.match) continue;
    const hit = pathMatches(e.match, path);
    if (hit === undefined) unknown = true;
    if (!hit) continue;
    const score = pathSpecificity(e.match) * 2 + (e.route.conditions.length ? 0 : 1);
    if (!best || score > best.score) {
      best = { score, group: e.group };
      picked.length = 0;
    }
    if (best.score === score && best.group === e.group) picked.push(i);
  }
  return { picked, unknown };
}

/** The rows a request (host, path) goes to, per host group. */
export function matchRequest(
  entries: readonly RouteEntry[],
  host: string | null,
  path: string,
  rules: HostRules,
): HostGroup[] {
  const fallback = entries.findIndex((e) => e.match === null);
  const ruled = entries.flatMap((e, i) => (e.match ? [i] : []));
  let groups: { label: string; candidates: number[] }[];
  if (host) {
    const hosts = (i: number) => entries[i].route.hosts;
    const matching = ruled.filter((i) => !hosts(i).length || hosts(i).some((h) => rules.matches(h, host)));
    const rank = (i: number) => rules.rank(hosts(i)[0]);
    const best = Math.max(-1, ...matching.map(rank));
    groups = [{ label: host, candidates: matching.filter((i) => rank(i) === best) }];
  } else if (rules.perHost) {
    const byHost = new Map<string, number[]>();
    for (const i of ruled) {
      const k = entries[i].route.host ?? '*';
      const list = byHost.get(k);
      if (list) list.push(i);
      else byHost.set(k, [i]);
    }
    groups = [...byHost.entries()].map(([label, candidates]) => ({ label, candidates }));
    if (groups.length === 0) groups = [{ label: '*', candidates: [] }];
  } else {
    groups = [{ label: '*', candidates: ruled }];
  }
  return groups.map((g) => {
    const { picked, unknown } = pickPath(entries, g.candidates, path);
    const useDefault = picked.length === 0 && fallback >= 0;
    return { ...g, picked: useDefault ? [fallback] : picked, fallback: useDefault, unknown };
  });
}

/**
 * Rows whose requests an earlier row of another rule takes (the same key: host, path and
 * conditions as the API compares them; undefined for a row that cannot be shadowed): row → the
 * first row with its key.
 */
export function shadowedRows(
  rows: readonly { key: string | undefined; rule: string }[],
): Map<number, number> {
  const first = new Map<string, number>();
  const out = new Map<number, number>();
  rows.forEach((r, i) => {
    if (r.key === undefined) return;
    const earlier = first.get(r.key);
    if (earlier === undefined) first.set(r.key, i);
    else if (rows[earlier].rule !== r.rule) out.set(i, earlier);
  });
  return out;
}

export interface TableAnalysis {
  diagnosis: IngressDiagnosis;
  resolved: RouteEntry['resolved'][];
}

/**
 * The diagnosis of a table: with a host or path, only the rows the request takes speak. It marks
 * the rows (selected, problems): a table is diagnosed once.
 */
export function diagnoseTable(
  model: ClusterModel,
  table: RouteTable,
  options: RequestOptions,
): TableAnalysis {
  const { entries } = table;
  const global = [...table.global];
  let request: IngressRequest | null = null;
  if (options.host !== undefined || options.path !== undefined) {
    const host = options.host ? normalizeHost(options.host) : null;
    const path = options.path ?? '/';
    const groups = matchRequest(entries, host, path, table.hosts);
    const routes = [...new Set(groups.flatMap((g) => g.picked))];
    request = { host, path, routes, reason: table.explain(groups, host, path) };
    for (const i of routes) entries[i].route.selected = true;
    if (routes.length === 0) {
      const { owner, subject, answer } = table.unmatched;
      global.push(
        finding('INGRESS_NO_RULE_MATCH', {
          message: `${subject} matches ${host ?? '(any host)'}${path}${answer}`,
          objects: [owner],
          evidence: [request.reason],
        }),
      );
    }
  }
  for (const e of entries) e.route.problems = [...new Set(e.findings.map((f) => f.code))];
  const routeFindings = entries.flatMap((e) => (request && !e.route.selected ? [] : e.findings));
  return {
    diagnosis: {
      ingress: table.summary,
      controller: table.controller,
      routes: entries.map((e) => e.route),
      request,
      notes: table.notes,
      findings: collectFindings([...global, ...routeFindings], model),
    },
    resolved: entries.map((e) => e.resolved),
  };
}

/** A request through a table: its diagnosis and the backends it is sent to (every row's without one). */
export function tableRequest(model: ClusterModel, table: RouteTable, options: RequestOptions): RouteRequest {
  const { diagnosis, resolved } = diagnoseTable(model, table, options);
  return requestBackends(diagnosis, resolved, table.upstream);
}

/**
 * An object that adapts to a route table (an Ingress, an HTTPRoute) as the two entry points of
 * its kind: its diagnosis by name (knet ingress KIND/NS/NAME [--host H] [--path P]; a name the
 * model does not hold is its *_NOT_FOUND finding), and a request through it — its diagnosis and
 * the backends it is sent to, what `knet trace … KIND/NS/NAME` walks after the controller pod.
 */
export function routeAdapter<T>(
  kind: 'ing' | 'httproute',
  find: (model: ClusterModel, namespace: string, name: string) => T | undefined,
  tableOf: (model: ClusterModel, object: T) => RouteTable,
) {
  return {
    diagnose(
      model: ClusterModel,
      namespace: string,
      name: string,
      options: RequestOptions = {},
    ): IngressDiagnosis {
      const object = find(model, namespace, name);
      if (object === undefined) return missingDiagnosis(model, kind, namespace, name);
      return diagnoseTable(model, tableOf(model, object), options).diagnosis;
    },
    request(model: ClusterModel, object: T, options: RequestOptions = {}): RouteRequest {
      return tableRequest(model, tableOf(model, object), options);
    },
  };
}

/** Doctor: the findings with these codes of every object's table (in `namespace` when given). */
export function tableFindings<T extends { namespace: string }>(
  model: ClusterModel,
  objects: readonly T[],
  namespace: string | undefined,
  tableOf: (o: T) => RouteTable,
  codes: RegExp,
): Finding[] {
  return objects
    .filter((o) => namespace === undefined || o.namespace === namespace)
    .flatMap((o) =>
      diagnoseTable(model, tableOf(o), {}).diagnosis.findings.filter((f) => codes.test(f.code)),
    );
}

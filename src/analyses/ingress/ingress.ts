// knet ingress: which backend an Ingress sends a host/path to, and why it fails. Resolves the
// rules (exact, prefix and implementation-specific paths, wildcard hosts, the default
// backend) to Services and ports, runs the endpoints analysis on each, and checks the class,
// its controller, TLS Secrets (by name only) and rules no request can reach.
import { dedupeFindings, finding } from '../../findings/catalog.js';
import { collectFindings } from '../../findings/collector.js';
import type { Finding } from '../../findings/types.js';
import type { ClusterModel } from '../../model/cluster.js';
import type { Ingress, IngressBackend, IngressClass } from '../../model/types.js';
import { closeNames } from '../endpoints/similar.js';
import { BackendChecker, missingDiagnosis, requestBackends } from './backend.js';
import { controllerPods, controllerSummary, servicesFronting } from './controllers.js';
import {
  canonicalPrefix,
  hostMatches,
  hostRank,
  normalizeHost,
  type PathMatch,
  pathMatches,
  pathSpecificity,
} from './match.js';
import type {
  ControllerSummary,
  IngressDiagnosis,
  IngressRequest,
  IngressRoute,
  RequestOptions,
  RouteBackend,
  RoutePathType,
  RouteRequest,
} from './types.js';

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

function pathMatchOf(ingress: Ingress, route: IngressRoute): PathMatch | undefined {
  if (route.path === null) return undefined;
  if (route.pathType === 'Exact') return { kind: 'Exact', value: route.path };
  // ingress-nginx turns every path of the Ingress into a regex location under use-regex (and
  // tries the longest first), not only the ImplementationSpecific ones.
  if (usesRegex(ingress)) return { kind: 'Regex', value: route.path };
  return { kind: 'Prefix', value: route.path };
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

interface ClassCheck {
  summary: ControllerSummary | null;
  findings: Finding[];
  notes: string[];
}

function classObjects(ingress: Ingress, cls: IngressClass | undefined): string[] {
  return [ingRef(ingress), ...(cls ? [`ingressclass/${cls.name}`] : [])];
}

/** The Ingress's class, its controller and the controller's pods. */
function checkClass(model: ClusterModel, ingress: Ingress): ClassCheck {
  const ref = ingRef(ingress);
  const findings: Finding[] = [];
  const notes: string[] = [];
  const fromAnnotation = !ingress.annotations['kubernetes.io/ingress.class']
    ? false
    : ingress.className === ingress.annotations['kubernetes.io/ingress.class'];
  let cls: IngressClass | undefined;
  if (ingress.className) {
    cls = model.ingressClasses.find((c) => c.name === ingress.className);
    if (!cls) {
      const close = closeNames(
        ingress.className,
        model.ingressClasses.map((c) => c.name),
      );
      const known = model.ingressClasses.map((c) => c.name).join(', ') || 'none';
      if (fromAnnotation) {
        notes.push(
          `The class comes from the deprecated kubernetes.io/ingress.class annotation and no IngressClass ${ingress.className} exists: only a controller started with --ingress-class=${ingress.className} serves it.`,
        );
      } else {
        findings.push(
          finding('INGRESS_CLASS_MISSING', {
            message: `Ingress ${ingress.namespace}/${ingress.name} asks for IngressClass ${ingress.className}, which does not exist${close.length ? `; did you mean ${close.join(', ')}?` : ''}: no controller serves it.`,
            objects: [ref, `ingressclass/${ingress.className}`],
            evidence: [`${ref} spec.ingressClassName: ${ingress.className}`, `IngressClasses: ${known}`],
          }),
        );
      }
      return {
        summary: {
          class: ingress.className,
          controller: null,
          implementation: null,
          pods: [],
          services: [],
          evidence: [],
        },
        findings,
        notes,
      };
    }
  } else {
    const defaults = model.ingressClasses.filter((c) => c.isDefault);
    if (defaults.length === 1) {
      cls = defaults[0];
      notes.push(
        `The Ingress names no class; IngressClass ${cls.name} is the default (ingressclass.kubernetes.io/is-default-class).`,
      );
    } else {
      findings.push(
        finding('INGRESS_NO_CONTROLLER', {
          message:
            defaults.length === 0
              ? `Ingress ${ingress.namespace}/${ingress.name} names no IngressClass and none is the default: no controller is bound to serve it.`
              : `Ingress ${ingress.namespace}/${ingress.name} names no IngressClass and ${defaults.length} classes claim to be the default: the API server rejects new Ingresses without a class, and which controller serves this one is undefined.`,
          objects: [ref],
          evidence: [
            `${ref}: no spec.ingressClassName and no kubernetes.io/ingress.class annotation`,
            `IngressClasses: ${model.ingressClasses.map((c) => `${c.name}${c.isDefault ? ' (default)' : ''}`).join(', ') || 'none'}`,
          ],
          hint: 'Set spec.ingressClassName (kubectl get ingressclass lists them), or mark one class as the default.',
        }),
      );
      return { summary: null, findings, notes };
    }
  }
  const pods = controllerPods(model, cls.controller);
  const services = servicesFronting(model, pods.running.length ? pods.running : pods.notRunning);
  const summary = controllerSummary(cls.name, cls.controller, pods, services, [
    `ingressclass/${cls.name}: controller ${cls.controller}`,
  ]);
  if (!pods.signature) {
    notes.push(`knet does not know the controller ${cls.controller}: whether it runs is unknown.`);
  } else if (pods.signature.external) {
    notes.push(
      `${pods.signature.name} runs outside the cluster (a managed load balancer): knet cannot see its data plane.`,
    );
  } else if (pods.running.length === 0) {
    findings.push(
      finding('INGRESS_NO_CONTROLLER', {
        message: `No ${pods.signature.name} controller pod is running and ready for IngressClass ${cls.name} (controller ${cls.controller}): nothing serves Ingress ${ingress.namespace}/${ingress.name}.`,
        objects: classObjects(ingress, cls),
        evidence:
          summary.evidence.length > 1
            ? summary.evidence
            : [
                ...summary.evidence,
                `no pod with an image like ${pods.signature.images.source} or its standard labels`,
              ],
      }),
    );
  }
  return { summary, findings, notes };
}

/** Rules that no request can reach: the same host, path type and path defined twice. */
function shadowFindings(model: ClusterModel, ingress: Ingress, routes: IngressRoute[]): Map<number, Finding> {
  const out = new Map<number, Finding>();
  const ref = ingRef(ingress);
  const keyOf = (
    r: { host: string | null; path: string | null; pathType: RoutePathType },
    regex: boolean,
  ) => {
    if (r.path === null) return undefined;
    const effective = r.pathType === 'ImplementationSpecific' && !regex ? 'Prefix' : r.pathType;
    const path = effective === 'Prefix' ? canonicalPrefix(r.path) : r.path;
    return `${r.host ? normalizeHost(r.host) : '*'}\u0000${effective}\u0000${path}`;
  };
  const regex = usesRegex(ingress);
  const first = new Map<string, number>();
  routes.forEach((r, i) => {
    const k = keyOf(r, regex);
    if (k === undefined) return;
    const earlier = first.get(k);
    if (earlier === undefined) {
      first.set(k, i);
      return;
    }
    const e = routes[earlier];
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
  });
  // The same host and path in another Ingress of the same class: one of the two never gets it.
  for (const other of model.ingresses) {
    if (other === ingress || (other.className ?? '') !== (ingress.className ?? '')) continue;
    const otherRoutes = listRoutes(other);
    const otherKeys = new Map(otherRoutes.map((r) => [keyOf(r, usesRegex(other)), r] as const));
    routes.forEach((r, i) => {
      const k = keyOf(r, regex);
      const o = k === undefined ? undefined : otherKeys.get(k);
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

/** The routes a request goes to: the best host group, then the most specific matching path. */
function resolveRequest(ingress: Ingress, routes: IngressRoute[], options: RequestOptions): IngressRequest {
  const host = options.host ? normalizeHost(options.host) : null;
  const path = options.path ?? '/';
  const defaultIndex = routes.findIndex((r) => r.pathType === 'Default');
  const ruled = routes.map((r, i) => ({ r, i })).filter(({ r }) => r.pathType !== 'Default');
  // Host groups: with --host, the most specific matching host; without, every host.
  let groups: { label: string; members: { r: IngressRoute; i: number }[] }[];
  if (host) {
    const matching = ruled.filter(({ r }) => hostMatches(r.host, host));
    const best = Math.max(-1, ...matching.map(({ r }) => hostRank(r.host)));
    const members = matching.filter(({ r }) => hostRank(r.host) === best);
    groups = [{ label: host, members }];
  } else {
    const byHost = new Map<string, { r: IngressRoute; i: number }[]>();
    for (const m of ruled) {
      const k = m.r.host ?? '*';
      byHost.set(k, [...(byHost.get(k) ?? []), m]);
    }
    groups = [...byHost.entries()].map(([label, members]) => ({ label, members }));
    if (groups.length === 0) groups = [{ label: '*', members: [] }];
  }
  const chosen: number[] = [];
  const reasons: string[] = [];
  for (const g of groups) {
    let best: { i: number; score: number } | undefined;
    let unknown = false;
    for (const { r, i } of g.members) {
      const m = pathMatchOf(ingress, r);
      if (!m) continue;
      const hit = pathMatches(m, path);
      if (hit === undefined) unknown = true;
      if (!hit) continue;
      const score = pathSpecificity(m);
      if (!best || score > best.score) best = { i, score };
    }
    if (best) {
      chosen.push(best.i);
      const r = routes[best.i];
      reasons.push(
        `host ${g.label}: ${r.pathType} ${r.path} is the most specific path that matches ${path} (${r.source})`,
      );
    } else if (defaultIndex >= 0) {
      chosen.push(defaultIndex);
      reasons.push(
        `host ${g.label}: no path matches ${path}${unknown ? ' (an invalid regex could not be evaluated)' : ''}: spec.defaultBackend`,
      );
    } else {
      reasons.push(
        g.members.length
          ? `host ${g.label}: no path matches ${path} and there is no default backend`
          : `no rule of the Ingress matches host ${g.label} and there is no default backend`,
      );
    }
  }
  return { host, path, routes: [...new Set(chosen)], reason: reasons.join('; ') };
}

function notFound(model: ClusterModel, namespace: string, name: string): IngressDiagnosis {
  const names = model.ingresses.filter((i) => i.namespace === namespace).map((i) => i.name);
  const close = closeNames(name, names).map((n) => `ing/${namespace}/${n}`);
  for (const i of model.ingresses) if (i.name === name && i.namespace !== namespace) close.push(ingRef(i));
  return missingDiagnosis(
    finding('INGRESS_NOT_FOUND', {
      message: `Ingress ${namespace}/${name} does not exist${close.length ? `; did you mean ${close.slice(0, 5).join(', ')}?` : names.length === 0 ? ` (namespace ${namespace} has no Ingresses)` : '.'}`,
      objects: [`ing/${namespace}/${name}`],
    }),
  );
}

/** The secret names the source holds for a namespace, or undefined when it holds none. */
function secretNames(model: ClusterModel, namespace: string): Set<string> | undefined {
  const names = model.others
    .filter((o) => o.kind === 'Secret' && o.namespace === namespace)
    .map((o) => o.name);
  return names.length ? new Set(names) : undefined;
}

export interface IngressAnalysis {
  diagnosis: IngressDiagnosis;
  /** Per routes[] index, the Service and port it resolves to. */
  resolved: { service: RouteBackend['service']; port: RouteBackend['port'] }[];
}

function analyzeIngress(model: ClusterModel, ingress: Ingress, options: RequestOptions): IngressAnalysis {
  const ref = ingRef(ingress);
  const notes: string[] = [];
  const global: Finding[] = [];
  const cls = checkClass(model, ingress);
  global.push(...cls.findings);
  notes.push(...cls.notes);

  const routes = listRoutes(ingress);
  ingress.rules.forEach((rule, i) => {
    if (rule.paths.length === 0)
      notes.push(`spec.rules[${i}] (host ${rule.host ?? '*'}) has no http paths: controllers ignore it.`);
  });
  if (routes.length === 0) notes.push('The Ingress has no rules and no default backend: it routes nothing.');
  if (usesRegex(ingress))
    notes.push(
      'Paths other than Exact are read as regular expressions, the longest first (nginx use-regex / rewrite-target annotation).',
    );

  // Per-route findings, kept apart so a --host/--path question shows only the routes it uses.
  const perRoute: Finding[][] = routes.map(() => []);
  const resolved: IngressAnalysis['resolved'] = [];
  const checker = new BackendChecker(model);
  routes.forEach((r, i) => {
    if (!r.backend.service) {
      resolved.push({ service: null, port: null });
      notes.push(
        `${r.source} sends to ${r.backend.resource ?? 'an empty backend'}: not a Service, knet does not follow it.`,
      );
      return;
    }
    const c = checker.check(ingress.namespace, r.backend.service, r.backend.port, ref, r.source);
    resolved.push({ service: c.service, port: c.port });
    r.servicePort = c.port?.port ?? null;
    r.endpoints = c.endpoints;
    r.status = c.status;
    perRoute[i].push(...c.findings);
    for (const n of c.notes) if (!notes.includes(n)) notes.push(n);
  });

  for (const [i, f] of shadowFindings(model, ingress, routes)) {
    perRoute[i].push(f);
    if (routes[i].status === 'ok') routes[i].status = 'unknown';
  }

  // TLS Secrets, by name only (knet never reads Secret data).
  const secrets = secretNames(model, ingress.namespace);
  const tlsSecrets = [
    ...new Set(ingress.tls.map((t) => t.secretName).filter((s): s is string => Boolean(s))),
  ];
  if (tlsSecrets.length && !secrets) {
    notes.push(
      `TLS Secret${tlsSecrets.length > 1 ? 's' : ''} ${tlsSecrets.join(', ')} not checked: the source lists no Secret names in namespace ${ingress.namespace} (knet never reads Secret data).`,
    );
  }
  for (const name of tlsSecrets) {
    if (!secrets || secrets.has(name)) continue;
    const hosts = ingress.tls.filter((t) => t.secretName === name).flatMap((t) => t.hosts);
    const f = finding('INGRESS_TLS_SECRET_MISSING', {
      message: `Ingress ${ingress.namespace}/${ingress.name} serves ${hosts.join(', ') || 'its hosts'} with TLS Secret ${name}, which does not exist in namespace ${ingress.namespace}: clients get the controller's default certificate.`,
      objects: [ref, `secret/${ingress.namespace}/${name}`],
      evidence: [
        `${ref} spec.tls: secretName ${name} for ${hosts.join(', ') || '(no hosts)'}`,
        `Secrets in ${ingress.namespace}: ${[...secrets].sort().join(', ')}`,
      ],
    });
    let attached = false;
    routes.forEach((r, i) => {
      if (r.tls === name) {
        perRoute[i].push(f);
        attached = true;
      }
    });
    if (!attached) global.push(f);
  }

  let request: IngressRequest | null = null;
  if (options.host !== undefined || options.path !== undefined) {
    request = resolveRequest(ingress, routes, options);
    for (const i of request.routes) routes[i].selected = true;
    if (request.routes.length === 0) {
      global.push(
        finding('INGRESS_NO_RULE_MATCH', {
          message: `No rule of Ingress ${ingress.namespace}/${ingress.name} matches ${request.host ?? '(any host)'}${request.path}, and it has no default backend: the controller answers itself (usually 404).`,
          objects: [ref],
          evidence: [request.reason],
        }),
      );
    }
  }
  const routeFindings = routes.flatMap((r, i) => (request && !r.selected ? [] : perRoute[i]));
  for (const [i, list] of perRoute.entries()) routes[i].problems = [...new Set(list.map((f) => f.code))];
  return {
    diagnosis: {
      ingress: {
        kind: 'Ingress',
        namespace: ingress.namespace,
        name: ingress.name,
        class: ingress.className ?? cls.summary?.class ?? null,
        addresses: ingress.loadBalancerIPs,
      },
      controller: cls.summary,
      routes,
      request,
      notes,
      findings: collectFindings([...global, ...routeFindings], model),
    },
    resolved,
  };
}

/** knet ingress ing/NS/NAME [--host H] [--path P]. */
export function diagnoseIngress(
  model: ClusterModel,
  namespace: string,
  name: string,
  options: RequestOptions = {},
): IngressDiagnosis {
  const ingress = model.ingresses.find((i) => i.namespace === namespace && i.name === name);
  if (!ingress) return notFound(model, namespace, name);
  return analyzeIngress(model, ingress, options).diagnosis;
}

/**
 * A request (host/path) through an Ingress: its diagnosis and the backends it is sent to, every
 * route's when neither is given — what `knet trace … ing/NS/NAME` walks after the controller
 * pod (docs/outside-in.md).
 */
export function ingressRequest(
  model: ClusterModel,
  ingress: Ingress,
  options: RequestOptions = {},
): RouteRequest {
  const { diagnosis, resolved } = analyzeIngress(model, ingress, options);
  return requestBackends(diagnosis, resolved, upstreamMode(ingress));
}

/** Every Ingress finding (doctor): the INGRESS_* codes only; the Services' own are doctor's. */
export function ingressDoctorFindings(model: ClusterModel, namespace?: string): Finding[] {
  const out: Finding[] = [];
  for (const ingress of model.ingresses) {
    if (namespace !== undefined && ingress.namespace !== namespace) continue;
    const d = analyzeIngress(model, ingress, {}).diagnosis;
    out.push(...d.findings.filter((f) => f.code.startsWith('INGRESS_')));
  }
  return dedupeFindings(out);
}

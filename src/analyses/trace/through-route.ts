// knet trace SOURCE ing/NS/NAME | httproute/NS/NAME (docs/outside-in.md). An ingress
// controller is an L7 proxy: it ends the client's connection and opens a new one to the
// backend, so the path is two traces joined at the controller pod:
//   leg 1  client → entry Service (LoadBalancer / NodePort) → kube-proxy → controller pod
//   leg 2  controller pod → backend endpoint pods (or the backend Service's VIP)
import { finding } from '../../findings/catalog.js';
import { FindingCollector } from '../../findings/collector.js';
import type { ClusterModel } from '../../model/cluster.js';
import type { Pod, Service } from '../../model/types.js';
import { readyEndpoints } from '../endpoints/backends.js';
import { parentListenerPort } from '../ingress/attachment.js';
import { diagnoseHTTPRoute, httpRouteRequest } from '../ingress/gateway.js';
import { diagnoseIngress, ingressRequest } from '../ingress/ingress.js';
import type { ControllerSummary, RouteBackend, RouteRequest } from '../ingress/types.js';
import type { Hop, TracePath, TraceQuery, TraceRef, TraceResult, TraceTarget } from './types.js';
import { overallVerdict, pathVerdict, TraceTargetNotFound } from './verdict.js';

type Trace = (query: TraceQuery) => TraceResult;

/** Without --via-node and with externalTrafficPolicy Cluster: at most this many entry nodes. */
const MAX_ENTRY_NODES = 4;

/** Route problems that leave the controller without an upstream: it answers the request itself. */
const NO_UPSTREAM = new Set([
  'INGRESS_BACKEND_NOT_FOUND',
  'INGRESS_BACKEND_PORT_NOT_FOUND',
  'GATEWAY_REF_NOT_PERMITTED',
  'GATEWAY_REFS_UNRESOLVED',
  'GATEWAY_ROUTE_NOT_ACCEPTED',
]);

interface RouteTarget {
  ref: TraceRef;
  request: RouteRequest;
  /** The port clients connect to: asked, or a Gateway listener's; else chosen on the entry Service. */
  port?: number;
  /** The request's host is served with TLS (an Ingress): prefer 443 on the entry Service. */
  tls: boolean;
}

function resolveRoute(model: ClusterModel, query: TraceQuery): RouteTarget {
  const t = query.destination;
  const ns = t.namespace ?? 'default';
  const options = { host: query.host, path: query.path };
  const asked = typeof t.port === 'number' ? t.port : typeof query.port === 'number' ? query.port : undefined;
  if (t.kind === 'ing') {
    const ingress = model.ingress(ns, t.name);
    if (!ingress) throw new TraceTargetNotFound(diagnoseIngress(model, ns, t.name).findings[0]);
    const request = ingressRequest(model, ingress, options);
    // A host served with TLS is reached on 443.
    const tls = request.backends.some((b) => b.rule.tls !== null && (options.host || options.path));
    return {
      ref: { kind: 'Ingress', namespace: ns, name: t.name, ip: null },
      request,
      port: asked,
      tls,
    };
  }
  const route = model.httpRoute(ns, t.name);
  if (!route) throw new TraceTargetNotFound(diagnoseHTTPRoute(model, ns, t.name).findings[0]);
  const request = httpRouteRequest(model, route, options);
  const parent = request.diagnosis.ingress?.gateways?.find((g) => g.accepted !== false);
  return {
    ref: { kind: 'HTTPRoute', namespace: ns, name: t.name, ip: null },
    request,
    port: asked ?? (parent ? parentListenerPort(model, parent) : undefined),
    tls: false,
  };
}

/**
 * The Service clients reach the controller through, and its port: the one asked (a Service
 * without it makes the trace say which ports it has), else HTTPS for a TLS host when the
 * Service offers it, else HTTP.
 */
function entryService(
  model: ClusterModel,
  controller: ControllerSummary,
  target: RouteTarget,
): { service: Service; port: number } | undefined {
  const services = controller.services
    .map((s) => model.service(s.namespace, s.name))
    .filter((s): s is Service => Boolean(s));
  const pick = (service: Service, port: number, name: string) =>
    service.ports.find((x) => x.port === port) ?? service.ports.find((x) => x.name === name);
  for (const service of services) {
    const p =
      target.port !== undefined
        ? service.ports.find((x) => x.port === target.port)
        : ((target.tls ? pick(service, 443, 'https') : undefined) ?? pick(service, 80, 'http'));
    if (p) return { service, port: p.port };
  }
  if (services.length && target.port !== undefined) return { service: services[0], port: target.port };
  return undefined;
}

/** Where an external client enters: --via-node, else the nodes the load balancer would use. */
function entryNodes(
  model: ClusterModel,
  query: TraceQuery,
  service: Service | undefined,
  pods: readonly Pod[],
  notes: string[],
): (string | undefined)[] {
  if (query.source.kind !== 'ip' || model.podsByIP(query.source.name).length || query.viaNode)
    return [query.viaNode];
  const podNodes = [...new Set(pods.map((p) => p.nodeName).filter((n): n is string => Boolean(n)))].sort();
  if (service?.externalTrafficPolicy === 'Local' || !service) {
    notes.push(
      `Entry nodes: ${podNodes.join(', ')} (with externalTrafficPolicy Local the load balancer's health check sends clients only to nodes with a ready controller pod; pick one with --via-node).`,
    );
    return podNodes;
  }
  const withFiles = model.nodeFiles.nodes().filter((n) => model.node(n));
  const nodes = (withFiles.length ? withFiles : podNodes).sort().slice(0, MAX_ENTRY_NODES);
  notes.push(
    `Entry nodes: ${nodes.join(', ')}${withFiles.length > MAX_ENTRY_NODES ? ` (${MAX_ENTRY_NODES} of ${withFiles.length} nodes with node files)` : ''}: with externalTrafficPolicy Cluster the load balancer may send a client to any node; pick one with --via-node.`,
  );
  return nodes;
}

const backendText = (b: RouteBackend) =>
  `svc/${b.rule.backend.namespace}/${b.rule.backend.service}:${b.rule.backend.port ?? '?'}`;

/** The requests' share of each backend: weighted when a request was named, else unknown. */
function backendShares(request: RouteRequest): (number | null)[] {
  const { backends, diagnosis } = request;
  if (!diagnosis.request && backends.length > 1) return backends.map(() => null);
  const weights = backends.map((b) => b.rule.weight ?? 1);
  const total = weights.reduce((a, w) => a + w, 0);
  return weights.map((w) => (total > 0 ? w / total : null));
}

/** A source named by the user, when no leg was traced to resolve it. */
function plainRef(t: TraceTarget): TraceRef {
  if (t.kind === 'ip') return { kind: 'IP', ip: t.name, node: null };
  return t.kind === 'node'
    ? { kind: 'Node', name: t.name, ip: null, node: t.name }
    : { kind: 'Pod', namespace: t.namespace, name: t.name, ip: null };
}

const times = (...ps: (number | null)[]) =>
  ps.some((p) => p === null)
    ? null
    : Math.round(ps.reduce((a: number, p) => a * (p as number), 1) * 1000) / 1000;

/** One way through a backend from the controller: its hops, and its share within the backend. */
interface BackendLeg {
  to: TraceRef | null;
  hops: Hop[];
  share: number;
  probability: number;
}

/**
 * Leg 2 for one backend: a new connection from the controller pod to each ready endpoint (or to
 * the Service VIP), after a hop that names the route; or the controller answering itself when it
 * has no upstream. Findings and notes of the traces go to `out`.
 */
function backendLegs(
  model: ClusterModel,
  ctrl: Pod,
  b: RouteBackend,
  what: string,
  trace: Trace,
  out: { findings: FindingCollector; notes: string[] },
): BackendLeg[] {
  const boundary: Hop = {
    kind: 'pod',
    node: ctrl.nodeName,
    detail: `controller ${ctrl.namespace}/${ctrl.name}: proxies ${b.rule.host ?? '*'}${b.rule.path ?? ''} to ${backendText(b)} (${b.upstream})`,
    status: 'ok',
    evidence: `${what} ${b.rule.source}`,
  };
  const blocking = b.rule.problems.filter((c) => NO_UPSTREAM.has(c));
  const endpoints =
    b.upstream === 'endpoints' && b.service && b.port ? readyEndpoints(model, b.service, b.port) : [];
  if (!b.service || !b.port || blocking.length || (b.upstream === 'endpoints' && !endpoints.length)) {
    const codes = blocking.length
      ? blocking
      : b.rule.problems.filter((c) => c.startsWith('SVC_') || c.startsWith('INGRESS_'));
    if (!codes.length) {
      const f = finding('SVC_NO_READY_ENDPOINTS', {
        message: `Service ${b.rule.backend.namespace}/${b.rule.backend.service} has no ready endpoint for ${what}'s ${b.rule.source}.`,
        objects: [`svc/${b.rule.backend.namespace}/${b.rule.backend.service}`],
      });
      out.findings.add(f);
      codes.push(f.code);
    }
    const drop: Hop = {
      kind: 'drop',
      node: ctrl.nodeName,
      detail: `the controller has no upstream for ${backendText(b)}: it answers the request itself (an HTTP 5xx)`,
      status: 'broken',
      findings: codes,
    };
    return [{ to: null, hops: [boundary, drop], share: 1, probability: 1 }];
  }
  const from: TraceTarget = { kind: 'pod', namespace: ctrl.namespace, name: ctrl.name };
  const port = b.port;
  const legs =
    b.upstream === 'service'
      ? [
          {
            leg: trace({
              source: from,
              destination: {
                kind: 'svc',
                namespace: b.service.namespace,
                name: b.service.name,
                port: port.port,
              },
            }),
            share: 1,
          },
        ]
      : endpoints.map((e) => ({
          leg: trace({
            source: from,
            destination: { kind: 'ip', name: e.ip, port: e.port },
            protocol: port.protocol,
          }),
          share: 1 / endpoints.length,
        }));
  const result: BackendLeg[] = [];
  for (const { leg, share } of legs) {
    out.findings.addAll(leg.findings);
    out.notes.push(...leg.notes);
    for (const p2 of leg.paths)
      result.push({ to: p2.to, hops: [boundary, ...p2.hops], share, probability: p2.probability ?? 1 });
  }
  return result;
}

export function traceThroughRoute(model: ClusterModel, query: TraceQuery, trace: Trace): TraceResult {
  const target = resolveRoute(model, query);
  const { diagnosis, backends } = target.request;
  const notes = [...diagnosis.notes];
  const findings = new FindingCollector();
  findings.addAll(diagnosis.findings);
  const controller = diagnosis.controller;
  const pods = (controller?.pods ?? [])
    .filter((p) => p.ready)
    .map((p) => model.pod(p.namespace, p.name))
    .filter((p): p is Pod => Boolean(p));
  const what = `${target.ref.kind === 'Ingress' ? 'ing' : 'httproute'}/${target.ref.namespace}/${target.ref.name}`;
  const destination: TraceRef = { ...target.ref, port: target.port ?? null, protocol: 'TCP' };

  if (!controller || pods.length === 0) {
    const codes = diagnosis.findings
      .filter(
        (f) =>
          ['INGRESS_NO_CONTROLLER', 'INGRESS_CLASS_MISSING'].includes(f.code) ||
          f.code.startsWith('GATEWAY_'),
      )
      .map((f) => f.code);
    const known = controller?.implementation ?? controller?.controller;
    const hop: Hop = {
      kind: codes.length ? 'drop' : 'external',
      detail: codes.length
        ? `no running controller serves ${what}: nothing answers its address`
        : `${known ?? 'the controller'} of ${what} runs no pods in the cluster (an external load balancer?): knet cannot follow it`,
      status: codes.length ? 'broken' : 'unknown',
      ...(codes.length ? { findings: [...new Set(codes)] } : {}),
    };
    const source = plainRef(query.source);
    const paths: TracePath[] = [{ to: null, probability: null, verdict: pathVerdict([hop]), hops: [hop] }];
    return {
      source,
      destination,
      verdict: overallVerdict(paths),
      paths,
      findings: findings.sorted(),
      notes,
    };
  }

  // Leg 1: to the controller, through the Service in front of it (or to a pod directly).
  const entry = entryService(model, controller, target);
  const podPort = target.port ?? (target.tls ? 443 : 80);
  if (!entry)
    notes.push(
      `No Service fronts the controller pods on port ${podPort}: clients must reach them on their node (hostNetwork or hostPort).`,
    );
  const leg1Target: TraceTarget = entry
    ? { kind: 'svc', namespace: entry.service.namespace, name: entry.service.name, port: entry.port }
    : { kind: 'pod', namespace: pods[0].namespace, name: pods[0].name, port: podPort };
  // The load balancer sends clients to the nodes of the pods behind the entry Service (for a
  // Gateway, its data plane), which need not be the controller's.
  const behind = entry?.service.selector
    ? model.podsMatchingLabels(entry.service.namespace, entry.service.selector).filter((p) => p.ready)
    : pods;
  const nodes = entryNodes(model, query, entry?.service, behind, notes);
  const shares = backendShares(target.request);
  const paths: TracePath[] = [];
  const leg2 = new Map<string, BackendLeg[]>();
  let source: TraceRef | undefined;
  for (const viaNode of nodes) {
    const leg1 = trace({ source: query.source, destination: leg1Target, protocol: 'TCP', viaNode });
    source ??= leg1.source;
    destination.ip ??= leg1.destination.ip;
    destination.port ??= leg1.destination.port;
    findings.addAll(leg1.findings);
    notes.push(...leg1.notes);
    const entryShare = query.viaNode || nodes.length === 1 ? 1 : 1 / nodes.length;
    for (const p1 of leg1.paths) {
      const ctrl = p1.to?.kind === 'Pod' ? model.pod(p1.to.namespace!, p1.to.name!) : undefined;
      if (p1.verdict === 'unreachable' || !ctrl) {
        paths.push({ ...p1, probability: times(entryShare, p1.probability) });
        continue;
      }
      backends.forEach((b, i) => {
        // The controller's own connections do not depend on where the client came in.
        const key = `${ctrl.namespace}/${ctrl.name}#${i}`;
        let legs = leg2.get(key);
        if (!legs) {
          legs = backendLegs(model, ctrl, b, what, trace, { findings, notes });
          leg2.set(key, legs);
        }
        const share = times(entryShare, p1.probability, shares[i]);
        for (const l of legs) {
          const hops = [...p1.hops, ...l.hops];
          paths.push({
            to: l.to,
            probability: times(share, l.share, l.probability),
            verdict: pathVerdict(hops),
            hops,
          });
        }
      });
    }
  }
  return {
    source: source!,
    destination,
    verdict: overallVerdict(paths),
    paths,
    findings: findings.sorted(),
    notes: [...new Set(notes)],
  };
}

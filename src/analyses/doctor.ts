// knet doctor: every check over the cluster (or one namespace), as one list of findings.
// Each check is an analysis that exists on its own; doctor only scopes, runs and merges them.
import { distinctFindings, FindingCollector } from '../findings/collector.js';
import type { Finding, Severity } from '../findings/types.js';
import type { ClusterModel } from '../model/cluster.js';
import { dnsServiceFindings } from './dns/service-health.js';
import { serviceFindings } from './endpoints/diagnose.js';
import { gatewayDoctorFindings } from './ingress/gateway.js';
import { ingressDoctorFindings } from './ingress/ingress.js';
import { nodeInventory, podInventoryFindings } from './inventory.js';
import { cniFindings } from './node-health/cni.js';
import { nodeHealthFindings } from './node-health/health.js';
import { policySanityFindings } from './policy/sanity.js';
import { proxyDriftFindings } from './proxy/drift.js';
import { releaseNodeProxy } from './proxy/simulate.js';

export interface DoctorOptions {
  /** undefined = all namespaces. */
  namespace?: string;
  /** Only these finding codes. */
  only?: string[];
  /** The lowest severity to report. */
  severity?: Severity;
  /** Told what is being checked, with counts (a progress line; render/progress.ts). */
  onProgress?: (label: string, done?: number, total?: number) => void;
  /**
   * Only some Services and nodes (knet diff: those whose inputs changed; a check of unchanged
   * inputs finds the same on both sides). services: the per-Service checks, and kube-proxy on
   * every node, for these only; nodes: node health on these only, and kube-proxy there for
   * these Services too (undefined: for every Service). Undefined = all.
   */
  scope?: {
    services?: ReadonlySet<string>;
    nodes?: ReadonlyMap<string, ReadonlySet<string> | undefined>;
    /** Checks whose inputs did not change (their findings are the same): not run. */
    skip?: ReadonlySet<'pods' | 'nodes' | 'network policies'>;
  };
}

export interface DoctorCheck {
  name: string;
  /** What it looked at, e.g. "42 services". */
  scope: string;
  findings: number;
}

export interface DoctorReport {
  summary: { errors: number; warnings: number; infos: number };
  checks: DoctorCheck[];
  findings: Finding[];
}

/** "1 pod", "2 pods", "1 ingress", "2 ingresses". */
const n = (count: number, noun: string) =>
  `${count} ${count === 1 ? noun : noun.endsWith('s') ? `${noun}es` : `${noun}s`}`;

const RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/**
 * One node's checks over its node files (kube-proxy drift, then node health on its still-loaded
 * rules), as doctor asks for them: run here, or by a worker over the same bundle (cli/).
 */
export interface NodeCheckRequest {
  node: string;
  /** Only these Services' rules (undefined: every Service). */
  services?: ReadonlySet<string>;
  /** Node health runs on this node too. */
  health: boolean;
}

/** What a node's checks found, or the error each stopped at (raised in its check's turn). */
export interface NodeCheckResult {
  proxy: Finding[] | Error;
  /** Undefined when node health was not asked for. */
  health?: Finding[] | Error;
}

/** The node checks doctor will ask for, in order (a worker can start on them at once). */
export function doctorNodeRequests(model: ClusterModel, options: DoctorOptions = {}): NodeCheckRequest[] {
  const scope = options.scope ?? {};
  const proxyNodes = model.nodeFiles.nodes().filter((n) => model.node(n));
  const proxyServices = (node: string): ReadonlySet<string> | undefined => {
    if (!scope.services || !scope.nodes) return undefined;
    if (!scope.nodes.has(node)) return scope.services;
    const more = scope.nodes.get(node);
    return more && new Set([...scope.services, ...more]);
  };
  return proxyNodes.map((node) => ({
    node,
    services: proxyServices(node),
    health: !scope.nodes || scope.nodes.has(node),
  }));
}

/**
 * Runs one node's checks. Node health reads the node's proxy rules too: it runs right after
 * kube-proxy on that node, whose rules are then released (a 10,000-Service dump is ~300 MB
 * parsed: one node's at a time).
 */
export function checkNodeFiles(
  model: ClusterModel,
  request: NodeCheckRequest,
  namespace: string | undefined,
): NodeCheckResult {
  const { node } = request;
  let proxy: Finding[];
  try {
    proxy = proxyDriftFindings(model, node, { namespace, services: request.services });
  } catch (err) {
    return { proxy: err as Error };
  }
  let health: Finding[] | Error | undefined;
  if (request.health) {
    try {
      health = [...cniFindings(model, node), ...nodeHealthFindings(model, node)];
    } catch (err) {
      health = err as Error;
    }
  }
  releaseNodeProxy(model, node);
  return { proxy, health };
}

/** Every check, with the node checks run in this thread. */
export function runDoctor(model: ClusterModel, options: DoctorOptions = {}): DoctorReport {
  const steps = doctorSteps(model, options);
  let step = steps.next();
  while (!step.done) step = steps.next(checkNodeFiles(model, step.value, options.namespace));
  return step.value;
}

/**
 * Every check, with each node's checks answered by `nodeChecks` (a worker that started on
 * doctorNodeRequests while this thread reads the objects): the same report as runDoctor.
 */
export async function runDoctorWith(
  model: ClusterModel,
  options: DoctorOptions,
  nodeChecks: (request: NodeCheckRequest) => Promise<NodeCheckResult>,
): Promise<DoctorReport> {
  const steps = doctorSteps(model, options);
  let step = steps.next();
  while (!step.done) step = steps.next(await nodeChecks(step.value));
  return step.value;
}

const found = (result: Finding[] | Error): Finding[] => {
  if (result instanceof Error) throw result;
  return result;
};

/** The checks in order; each node's checks are asked of the caller (yield), in doctorNodeRequests' order. */
function* doctorSteps(
  model: ClusterModel,
  options: DoctorOptions,
): Generator<NodeCheckRequest, DoctorReport, NodeCheckResult> {
  const ns = options.namespace;
  const checks: DoctorCheck[] = [];
  const all = new FindingCollector();
  const say = options.onProgress ?? (() => {});
  const run = (name: string, scope: string, fn: () => Finding[]) => {
    say(`doctor: ${name}`);
    const found = fn();
    checks.push({ name, scope, findings: found.length });
    all.addAll(found);
  };

  const scope = options.scope ?? {};
  const skip = (check: 'pods' | 'nodes' | 'network policies') => scope.skip?.has(check) === true;
  const pods = ns === undefined ? model.pods : model.podsInNamespace(ns);
  if (!skip('pods')) run('pods', n(pods.length, 'pod'), () => podInventoryFindings(model, { namespace: ns }));
  if (!skip('nodes')) run('nodes', n(model.nodes.length, 'node'), () => nodeInventory(model).findings);

  const inScope = (s: { namespace: string; name: string }) =>
    !scope.services || scope.services.has(`${s.namespace}/${s.name}`);
  const services = (ns === undefined ? model.services : model.servicesInNamespace(ns)).filter(inScope);
  // Each Service's findings as its own diagnosis lists them (each once), explained once below.
  run('services', n(services.length, 'service'), () =>
    services.flatMap((s, i) => {
      say('doctor: services', i, services.length);
      return distinctFindings(serviceFindings(model, s.namespace, s.name));
    }),
  );

  // The cluster DNS even when doctor looks at one namespace: every pod depends on it (with -A
  // or -n kube-system the services check already covered it).
  run('cluster DNS', 'kube-system/kube-dns', () =>
    ns === undefined || ns === 'kube-system' ? [] : dnsServiceFindings(model, 'diagnosis'),
  );

  // Node health's findings, or its error, are handed over in the node health check's turn, so
  // that the report is the same as when the checks run one after the other.
  const requests = doctorNodeRequests(model, options);
  const health = new Map<string, Finding[] | Error>();
  say('doctor: kube-proxy');
  const proxyFound: Finding[] = [];
  for (const [i, request] of requests.entries()) {
    say(`doctor: kube-proxy on ${request.node}`, i, requests.length);
    const result: NodeCheckResult = yield request;
    for (const f of found(result.proxy)) proxyFound.push(f);
    if (result.health) health.set(request.node, result.health);
  }
  checks.push({
    name: 'kube-proxy',
    scope: `${n(requests.length, 'node')} with node files`,
    findings: proxyFound.length,
  });
  all.addAll(proxyFound);

  const policies = ns === undefined ? model.networkPolicies : model.policiesInNamespace(ns);
  if (!skip('network policies'))
    run('network policies', policies.length === 1 ? '1 policy' : `${policies.length} policies`, () =>
      policySanityFindings(model, policies),
    );
  const ingresses = ns === undefined ? model.ingresses : model.ingresses.filter((i) => i.namespace === ns);
  run('ingress and gateway', n(ingresses.length, 'ingress'), () => [
    ...ingressDoctorFindings(model, ns),
    ...gatewayDoctorFindings(model, ns),
  ]);
  const healthNodes = requests.filter((r) => r.health).map((r) => r.node);
  run('node health', `${n(healthNodes.length, 'node')} with node files`, () =>
    healthNodes.flatMap((node) => found(health.get(node) ?? [])),
  );

  // Ids, cause → consequence links and fixes, over the findings this report keeps.
  const { only, severity } = options;
  const findings = all.finish(
    model,
    (f) => (!only?.length || only.includes(f.code)) && (!severity || RANK[f.severity] <= RANK[severity]),
  );
  return {
    summary: {
      errors: findings.filter((f) => f.severity === 'error').length,
      warnings: findings.filter((f) => f.severity === 'warning').length,
      infos: findings.filter((f) => f.severity === 'info').length,
    },
    checks,
    findings,
  };
}

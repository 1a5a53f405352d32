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

export function runDoctor(model: ClusterModel, options: DoctorOptions = {}): DoctorReport {
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

  const proxyNodes = model.nodeFiles.nodes().filter((n) => model.node(n));
  const proxyServices = (node: string): ReadonlySet<string> | undefined => {
    if (!scope.services || !scope.nodes) return undefined;
    if (!scope.nodes.has(node)) return scope.services;
    const more = scope.nodes.get(node);
    return more && new Set([...scope.services, ...more]);
  };
  // Node health reads a node's proxy rules too: it runs right after kube-proxy on that node,
  // whose rules are then released (a 10,000-Service dump is ~300 MB parsed: one node's at a
  // time). Its findings, or its error, are handed over in the node health check's turn, so
  // that the report is the same as when the checks run one after the other.
  const healthNodes = proxyNodes.filter((node) => !scope.nodes || scope.nodes.has(node));
  const health = new Map<string, () => Finding[]>();
  const nodeHealth = (node: string): (() => Finding[]) => {
    try {
      const found = [...cniFindings(model, node), ...nodeHealthFindings(model, node)];
      return () => found;
    } catch (err) {
      return () => {
        throw err;
      };
    }
  };
  const isHealthNode = new Set(healthNodes);
  run('kube-proxy', `${n(proxyNodes.length, 'node')} with node files`, () =>
    proxyNodes.flatMap((node, i) => {
      say(`doctor: kube-proxy on ${node}`, i, proxyNodes.length);
      const found = proxyDriftFindings(model, node, { namespace: ns, services: proxyServices(node) });
      if (isHealthNode.has(node)) health.set(node, nodeHealth(node));
      releaseNodeProxy(model, node);
      return found;
    }),
  );

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
  run('node health', `${n(healthNodes.length, 'node')} with node files`, () =>
    healthNodes.flatMap((node) => (health.get(node) ?? nodeHealth(node))()),
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

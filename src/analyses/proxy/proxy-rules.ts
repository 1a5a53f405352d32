// The ProxyRules document of knet proxy: each node's kube-proxy rules against the API's
// endpoints, per service port, and the findings of all nodes. The rows are made as they are
// read (proxyRuleRows): one node's table at 10,000 Services is 13,000 rows, and its parsed
// dump grows with every chain read, so neither is held whole while the output is written.
import { finding } from '../../findings/catalog.js';
import { collectFindings } from '../../findings/collector.js';
import type { Finding } from '../../findings/types.js';
import type { ClusterModel } from '../../model/cluster.js';
import { detectNodeDataplane } from '../dataplane/detect.js';
import {
  diagnoseProxyDrift,
  hasFamilyDump,
  type ProxyServiceRow,
  servicePortDrift,
  staleChains,
} from './drift.js';
import type { Dataplane } from './packet.js';
import { loadNodeProxy, type NodeProxyRules, releaseNodeProxy, reloadNodeProxy } from './simulate.js';

/** One node of ProxyRules, its rows made as `services` is iterated. */
export interface NodeProxyRows {
  node: string;
  dataplane: Dataplane | null;
  modeReason?: string;
  /** The service-port rows, each made when reached; iterated once. */
  services: Iterable<ProxyServiceRow>;
  /** The chains of no API service port (once `services` has been iterated). */
  staleChains: () => string[];
}

/** ProxyRules made while it is read: iterate `nodes` (and each node's services), then ask `findings`. */
export interface ProxyRulesRows {
  nodes: Iterable<NodeProxyRows>;
  /** Every node's findings, collected; complete once `nodes` has been iterated. */
  findings: () => Finding[];
}

/**
 * Service ports run between two readings of a node's dumps. A port's chains (its KUBE-SVC and
 * one KUBE-SEP per endpoint) parse to ~50 KB that no other port reads; reading the dump again
 * (~0.2 s CPU: its chain table, KUBE-SERVICES' index) bounds them to ~100 MB.
 */
const PORTS_PER_READING = 2000;

/** The drift report of these nodes, for every service or one (a missing one is the answer), row by row. */
export function proxyRuleRows(
  model: ClusterModel,
  nodes: readonly string[],
  service?: { namespace: string; name: string },
): ProxyRulesRows {
  const found: Finding[] = [];
  let collected: Finding[] | undefined;
  const findings = () => {
    collected ??= collectFindings(found, model);
    return collected;
  };
  if (service && !model.service(service.namespace, service.name)) {
    const message = `Service ${service.namespace}/${service.name} does not exist.`;
    found.push(finding('SVC_NOT_FOUND', { message, objects: [`svc/${service.namespace}/${service.name}`] }));
    return { nodes: [], findings };
  }
  return { nodes: nodeRows(model, nodes, service, found), findings };
}

function* nodeRows(
  model: ClusterModel,
  nodes: readonly string[],
  service: { namespace: string; name: string } | undefined,
  found: Finding[],
): Generator<NodeProxyRows> {
  for (const node of nodes) {
    const rows = nodeReport(model, node, service, found);
    yield rows;
    // Rows the reader left unread still give their findings.
    for (const _ of rows.services);
  }
}

/** One node's rows (made as they are read), or the report of a node without kube-proxy rules. */
function nodeReport(
  model: ClusterModel,
  node: string,
  service: { namespace: string; name: string } | undefined,
  found: Finding[],
): NodeProxyRows {
  const rules = loadNodeProxy(model, node);
  if (!rules || !detectNodeDataplane(model, node).services.startsWith('kube-proxy-')) {
    // No kube-proxy rules to check: diagnoseProxyDrift's one-finding report.
    const { findings, ...report } = diagnoseProxyDrift(model, node, { service });
    for (const f of findings) found.push(f);
    return { ...report, staleChains: () => report.staleChains };
  }
  const stale: { chains?: string[] } = {};
  return {
    node,
    dataplane: rules.mode,
    modeReason: rules.modeReason,
    services: serviceRows(model, node, service, found, stale),
    staleChains: () => stale.chains ?? [],
  };
}

/**
 * driftFromRules' rows one at a time, reading the dump again every PORTS_PER_READING ports;
 * after the last, the stale chains are found and the dump let go (before the rows are printed).
 * Only `rules` holds the node's rules (not the caller, nor a parameter): the rules a reading
 * replaced are then free, though the generator lives on.
 */
function* serviceRows(
  model: ClusterModel,
  node: string,
  service: { namespace: string; name: string } | undefined,
  found: Finding[],
  stale: { chains?: string[] },
): Generator<ProxyServiceRow> {
  let rules = loadNodeProxy(model, node) as NodeProxyRules;
  let run = 0;
  for (const sp of rules.index.ports) {
    if (service && (sp.service.namespace !== service.namespace || sp.service.name !== service.name)) continue;
    if (!hasFamilyDump(rules, sp)) continue;
    if (run === PORTS_PER_READING) {
      rules = reloadNodeProxy(model, rules);
      run = 0;
    }
    run++;
    const d = servicePortDrift(model, rules, sp);
    for (const f of d.findings) found.push(f);
    yield d.row;
  }
  stale.chains = service ? [] : staleChains(rules);
  releaseNodeProxy(model, node);
}

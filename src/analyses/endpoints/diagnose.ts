// knet endpoints: why a Service has — or lacks — working backends. A pure function of the model:
// the selector against the pods' labels (with the near misses when it matches nothing), each
// pod's readiness and per-pod targetPort, and the EndpointSlices against all of that.

import { finding } from '../../findings/catalog.js';
import { collectFindings } from '../../findings/collector.js';
import type { Finding } from '../../findings/types.js';
import type { ClusterModel } from '../../model/cluster.js';
import { formatSelector } from '../../model/labels.js';
import { isTerminal } from '../../model/pods.js';
import type { Pod, Service, ServicePort } from '../../model/types.js';
import { targetNotFound } from '../targets.js';
import {
  type BackendContext,
  type BackendRow,
  canonicalAddress,
  indexSlices,
  inFamilies,
  podRows,
  serviceFamilies,
  sliceOnlyRows,
  unresolvedReason,
} from './backends.js';
import { findNearMisses, formatDifference, isTypoLike, nearMissesNotSearched } from './near-miss.js';
import { declaresPortNumber, resolveTargetPort } from './target-port.js';
import type { NearMisses, ServiceDiagnosis, ServicePortSummary, ServiceSummary } from './types.js';

export type { Backend, NearMisses, ServiceDiagnosis, ServiceSummary } from './types.js';

export interface DiagnoseOptions {
  /** Only this service port (number or name); SVC_PORT_NOT_FOUND when the service has none such. */
  port?: number | string;
  /** The node traffic arrives at: checks SVC_NO_LOCAL_ENDPOINTS under a Local traffic policy. */
  node?: string;
}

const MAX_LISTED = 5;
const emptyNearMisses = (): NearMisses => ({ inNamespace: [], otherNamespaces: [], keysOnNoPod: [] });
const svcRef = (s: { namespace: string; name: string }) => `svc/${s.namespace}/${s.name}`;
const podRef = (p: { namespace: string; name: string }) => `pod/${p.namespace}/${p.name}`;
const byName = (a: Pod, b: Pod) => a.name.localeCompare(b.name);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "a, b, c and 4 more" */
function listNames(names: readonly string[], total = names.length): string {
  const shown = names.slice(0, MAX_LISTED);
  const more = total - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ');
}

function describePort(p: ServicePort): string {
  return `${p.port}/${p.protocol}${p.name ? ` (${p.name})` : ''}`;
}

/** A pod's state in one line, for evidence. */
function podState(pod: Pod): string {
  const parts = [pod.phase, `Ready=${pod.ready ? 'True' : 'False'}`];
  if (pod.terminating) parts.push('terminating');
  if (pod.ips.length === 0) parts.push('no IP');
  for (const cs of pod.containerStatuses) {
    if (!cs.ready) {
      const why = cs.reason ? ` (${cs.reason})` : '';
      parts.push(`container ${cs.name}: ${cs.state}${why}, restarts ${cs.restartCount}`);
    }
  }
  return `${podRef(pod)}: ${parts.join(', ')}`;
}

function podLabels(model: ClusterModel, service: Service, name: string): string {
  const labels = model.pod(service.namespace, name)?.labels ?? {};
  const text = Object.keys(labels).length ? formatSelector(labels) : '<none>';
  return `pod/${service.namespace}/${name} labels: ${text}`;
}

function declaredPorts(pod: Pod): string {
  const ports = pod.containers.flatMap((c) =>
    c.ports.map((p) => `${p.name ? `${p.name}=` : ''}${p.containerPort}/${p.protocol}`),
  );
  return `${podRef(pod)} declares ${ports.length ? ports.join(', ') : 'no container ports'}`;
}

function summarize(service: Service, ports: ServicePortSummary[]): ServiceSummary {
  return {
    namespace: service.namespace,
    name: service.name,
    type: service.type,
    clusterIPs: service.clusterIPs,
    headless: service.headless,
    externalName: service.externalName ?? null,
    ipFamilies: service.ipFamilies,
    ports,
    selector: service.selector ?? null,
    externalTrafficPolicy: service.externalTrafficPolicy,
    internalTrafficPolicy: service.internalTrafficPolicy,
    sessionAffinity: service.sessionAffinity,
    publishNotReadyAddresses: service.publishNotReadyAddresses,
  };
}

/** Each service port with what its targetPort resolves to on the live matching pods. */
function portSummaries(service: Service, livePods: readonly Pod[]): ServicePortSummary[] {
  return service.ports.map((p) => {
    const counts = new Map<number, number>();
    let unresolved = 0;
    for (const pod of livePods) {
      const r = resolveTargetPort(p, pod);
      if (r) counts.set(r.port, (counts.get(r.port) ?? 0) + 1);
      else unresolved++;
    }
    return {
      name: p.name,
      port: p.port,
      protocol: p.protocol,
      targetPort: p.targetPort,
      nodePort: p.nodePort ?? null,
      resolved: [...counts.entries()].sort((a, b) => a[0] - b[0]).map(([port, pods]) => ({ port, pods })),
      unresolvedPods: unresolved,
    };
  });
}

function notFound(model: ClusterModel, namespace: string, name: string): ServiceDiagnosis {
  return {
    service: null,
    backends: [],
    nearMisses: emptyNearMisses(),
    notes: [],
    findings: [targetNotFound(model, { kind: 'svc', namespace, name }, 'subject')],
  };
}

/** The service ports the question is about; SVC_PORT_NOT_FOUND when the asked one is none of them. */
function choosePorts(
  service: Service,
  asked: number | string | undefined,
  pods: readonly Pod[],
  findings: Finding[],
): ServicePort[] {
  if (asked === undefined) return service.ports;
  const chosen = service.ports.filter((p) =>
    typeof asked === 'number' ? p.port === asked : p.name === asked,
  );
  if (chosen.length > 0) return chosen;
  const known = service.ports.map(describePort).join(', ') || 'none';
  // A pod port number is a common confusion: the targetPort, or what a named one resolves to.
  const byTarget =
    typeof asked === 'number'
      ? service.ports.find(
          (p) => p.targetPort === asked || pods.some((pod) => resolveTargetPort(p, pod)?.port === asked),
        )
      : undefined;
  findings.push(
    finding('SVC_PORT_NOT_FOUND', {
      message:
        `${svcRef(service)} has no port ${typeof asked === 'number' ? asked : `named "${asked}"`}; ` +
        `its ports: ${known}`,
      objects: [svcRef(service)],
      hint: byTarget
        ? `${asked} is the targetPort of port ${byTarget.port}: address the service on port ${byTarget.port}.`
        : undefined,
    }),
  );
  return service.ports;
}

export function diagnoseService(
  model: ClusterModel,
  namespace: string,
  name: string,
  options: DiagnoseOptions = {},
): ServiceDiagnosis {
  const service = model.service(namespace, name);
  if (!service) {
    const missing = notFound(model, namespace, name);
    return { ...missing, findings: collectFindings(missing.findings, model) };
  }
  const d = diagnose(model, service, options);
  return {
    service: summarize(service, portSummaries(service, d.livePods)),
    backends: d.rows.map((r) => r.backend),
    nearMisses: d.nearMisses,
    notes: d.notes,
    findings: collectFindings(d.findings, model),
  };
}

/**
 * diagnoseService's findings alone, as they come (doctor's per-Service check): doctor's own
 * collector dedupes, sorts and explains them once for the whole report, and needs no summary.
 */
export function serviceFindings(model: ClusterModel, namespace: string, name: string): Finding[] {
  const service = model.service(namespace, name);
  return service ? diagnose(model, service, {}, true).findings : notFound(model, namespace, name).findings;
}

interface Diagnosis {
  rows: BackendRow[];
  nearMisses: NearMisses;
  notes: string[];
  /** Not yet collected (deduped, sorted, explained). */
  findings: Finding[];
  /** The matching pods that are not terminal. */
  livePods: Pod[];
}

/**
 * findingsOnly: rows only for what findings are made of (missing or stale backends), and notes
 * left to be dropped (those of a traffic policy read every row): serviceFindings, without a node.
 */
function diagnose(
  model: ClusterModel,
  service: Service,
  options: DiagnoseOptions,
  findingsOnly = false,
): Diagnosis {
  const namespace = service.namespace;
  const ref = svcRef(service);
  const findings: Finding[] = [];
  const notes: string[] = [];

  if (service.type === 'ExternalName') {
    findings.push(
      finding('SVC_EXTERNAL_NAME', {
        message:
          `${ref} is an ExternalName service: DNS answers with a CNAME to ` +
          `${service.externalName ?? '(empty)'}, and it has no endpoints`,
        objects: [ref],
      }),
    );
    return { rows: [], nearMisses: emptyNearMisses(), notes, findings, livePods: [] };
  }

  const matched = service.selector ? model.podsMatchingLabels(namespace, service.selector).sort(byName) : [];
  const ports = choosePorts(service, options.port, matched, findings);
  const slices = indexSlices(model, service);
  const ctx: BackendContext = {
    model,
    service,
    ports,
    slices,
    families: serviceFamilies(service),
    portAsked: options.port !== undefined && ports.length < service.ports.length,
    findingRowsOnly: findingsOnly,
  };
  if (service.headless) {
    findings.push(
      finding('SVC_HEADLESS', {
        message:
          `${ref} is headless (clusterIP None): DNS returns the ready endpoints' IPs ` +
          'and clients connect to them directly',
        objects: [ref],
      }),
    );
  }
  if (!slices.known) {
    notes.push(
      'The source holds no EndpointSlices or Endpoints: whether the pods are published is unknown ' +
        '(capture endpointslices with the other objects).',
    );
  } else if (slices.legacy) {
    notes.push('No EndpointSlice exists for this service: read from its legacy v1 Endpoints object.');
  }
  if (service.publishNotReadyAddresses) {
    notes.push(
      'publishNotReadyAddresses is set: pods are published as ready endpoints whether or not they are ready.',
    );
  }
  if (service.sessionAffinity === 'ClientIP') {
    notes.push(
      'sessionAffinity ClientIP: each client IP sticks to one backend for the affinity timeout ' +
        '(default 10800 s), so load is not spread evenly.',
    );
  }

  let rows: BackendRow[];
  let nearMisses = emptyNearMisses();
  let livePods: Pod[] = [];
  if (!service.selector) {
    rows = sliceOnlyRows(ctx, new Set());
    selectorlessFindings(service, rows, slices.known, findings);
    staleFindings(service, rows, findings);
  } else {
    livePods = matched.filter((p) => !isTerminal(p));
    rows = [];
    // The addresses of the matched pods (each pod's rows' ips) are theirs, not slice-only.
    const claimed = new Set<string>();
    for (const pod of matched) {
      podRows(ctx, pod, rows);
      for (const ip of pod.ips) if (inFamilies(ip, ctx.families)) claimed.add(canonicalAddress(ip));
    }
    for (const row of sliceOnlyRows(ctx, claimed)) rows.push(row);
    nearMisses = findNearMisses(model, namespace, service.selector, matched);
    if (model.coverage === 'path' && matched.length === 0) notes.push(nearMissesNotSearched(service));
    selectorFindings(model, service, matched, nearMisses, findings);
    readinessFindings(service, matched, livePods, ctx, findings, notes);
    for (const port of ports) targetPortFindings(service, port, livePods, findings, notes);
    sliceFindings(service, rows, slices.slices.length, findings);
  }
  trafficPolicyChecks(service, rows, options.node, findings, notes);
  return { rows, nearMisses, notes, findings, livePods };
}

function selectorlessFindings(
  service: Service,
  rows: BackendRow[],
  known: boolean,
  findings: Finding[],
): void {
  const ref = svcRef(service);
  const ready = rows.filter((r) => r.proxyReady);
  const addresses = new Set(rows.map((r) => r.backend.ip));
  findings.push(
    finding('SVC_NO_SELECTOR', {
      message: known
        ? `${ref} has no selector: its endpoints are managed by hand ` +
          `(${plural(addresses.size, 'address')} listed)`
        : `${ref} has no selector: its endpoints are managed by hand`,
      objects: [ref],
    }),
  );
  if (known && ready.length === 0) {
    findings.push(
      finding('SVC_NO_READY_ENDPOINTS', {
        message:
          addresses.size === 0
            ? `${ref} has no selector and no Endpoints/EndpointSlice lists an address for it: ` +
              'connections are refused'
            : `${ref} has no selector and none of the ${plural(addresses.size, 'address')} ` +
              'listed for it is ready',
        objects: [ref],
        hint:
          'Create an EndpointSlice (or Endpoints object) with the backend addresses, ' +
          'or give the Service a selector.',
      }),
    );
  }
}

function selectorFindings(
  model: ClusterModel,
  service: Service,
  matched: Pod[],
  nearMisses: NearMisses,
  findings: Finding[],
): void {
  const ref = svcRef(service);
  const selectorText = formatSelector(service.selector ?? {});
  if (matched.length === 0) {
    const evidence = [`selector: ${selectorText}`];
    for (const o of nearMisses.otherNamespaces) {
      evidence.push(
        `${plural(o.count, 'pod')} in namespace ${o.namespace} match it: ${listNames(o.pods, o.count)}`,
      );
    }
    for (const key of nearMisses.keysOnNoPod) {
      evidence.push(`no pod in namespace ${service.namespace} has a label with key "${key}"`);
    }
    const elsewhere = nearMisses.otherNamespaces.map((o) => o.namespace);
    findings.push(
      finding('SVC_NO_SELECTOR_MATCH', {
        message: `The selector ${selectorText} of ${ref} matches no pod in namespace ${service.namespace}`,
        objects: [ref],
        evidence,
        hint:
          elsewhere.length > 0 && nearMisses.inNamespace.length === 0
            ? 'A Service selects pods of its own namespace only; ' +
              `the matching pods run in ${elsewhere.join(', ')}: ` +
              'move the pods or the Service.'
            : undefined,
      }),
    );
  }
  // Typos and pods of the matching pods' owner are reported; plain one-label differences only
  // when there are few of them (else they are just other workloads sharing a label).
  const telling = nearMisses.inNamespace.filter((g) => g.reason === 'sibling' || isTypoLike(g));
  const reported =
    telling.length > 0 ? telling : nearMisses.inNamespace.length <= 3 ? nearMisses.inNamespace : [];
  for (const group of reported.slice(0, MAX_LISTED)) {
    const diffs = group.differences.map(formatDifference).join('; ');
    const who =
      group.count === 1
        ? `Pod ${group.pods[0]}`
        : `${group.count} pods (${listNames(group.pods, group.count)})`;
    const owner = group.owner ? ` of ${group.owner}` : '';
    const message =
      group.reason === 'sibling'
        ? `${who}${owner} ${group.count === 1 ? 'does' : 'do'} not match the selector of ${ref} although ` +
          `${plural(matched.length, 'pod')} of the same owner ` +
          `${matched.length === 1 ? 'does' : 'do'}: ${diffs}`
        : `${who}${owner} nearly ${group.count === 1 ? 'matches' : 'match'} the selector of ${ref}: ${diffs}`;
    findings.push(
      finding('SVC_LABEL_MISMATCH', {
        message,
        objects: [ref, ...group.pods.slice(0, MAX_LISTED).map((p) => `pod/${service.namespace}/${p}`)],
        evidence: [
          `selector: ${selectorText}`,
          ...group.pods.slice(0, 2).map((p) => podLabels(model, service, p)),
        ],
      }),
    );
  }
}

function readinessFindings(
  service: Service,
  matched: Pod[],
  live: readonly Pod[],
  ctx: BackendContext,
  findings: Finding[],
  notes: string[],
): void {
  if (matched.length === 0) return;
  const ref = svcRef(service);
  if (live.length === 0) {
    findings.push(
      finding('SVC_NO_READY_ENDPOINTS', {
        message:
          `All ${plural(matched.length, 'pod')} matching ${ref} have finished ` +
          `(${[...new Set(matched.map((p) => p.phase))].join(', ')})`,
        objects: [ref, ...matched.slice(0, MAX_LISTED).map(podRef)],
        evidence: matched.slice(0, MAX_LISTED).map(podState),
        hint:
          'Completed or failed pods are never endpoints: ' +
          'run a long-lived workload (a Deployment) behind the Service.',
      }),
    );
    return;
  }
  // One pass over the live pods: what is usable, terminating, not ready or without an address.
  const terminating: Pod[] = [];
  const unready: Pod[] = [];
  let usablePods = 0;
  let notReady = 0;
  let noIP = 0;
  for (const p of live) {
    const hasAddress = p.ips.some((ip) => inFamilies(ip, ctx.families));
    if (p.terminating) terminating.push(p);
    if (hasAddress && (service.publishNotReadyAddresses || (p.ready && !p.terminating))) usablePods++;
    else if (!p.terminating) unready.push(p);
    if (!hasAddress) noIP++;
    else if (!p.ready && !p.terminating) notReady++;
  }
  if (terminating.length > 0) {
    notes.push(
      `${plural(terminating.length, 'matching pod')} terminating ` +
        `(${listNames(terminating.map((p) => p.name))}): ` +
        'kept in the EndpointSlices as not ready until they exit.',
    );
  }
  if (usablePods === 0) {
    const counts: string[] = [];
    if (notReady) counts.push(`${notReady} not ready`);
    if (terminating.length) counts.push(`${terminating.length} terminating`);
    if (noIP) counts.push(`${noIP} without an IP`);
    const servingTerminating = terminating.filter((p) => p.ready).length;
    const fallback =
      servingTerminating > 0
        ? `; kube-proxy falls back to the ${servingTerminating} still serving while they terminate`
        : '';
    findings.push(
      finding('SVC_NO_READY_ENDPOINTS', {
        message:
          live.length === 1
            ? `The only pod matching ${ref} is not ready (${counts.join(', ')})${fallback}`
            : `None of the ${live.length} pods matching ${ref} is ready (${counts.join(', ')})${fallback}`,
        objects: [ref, ...live.slice(0, MAX_LISTED).map(podRef)],
        evidence: live.slice(0, MAX_LISTED).map(podState),
      }),
    );
    return;
  }
  if (unready.length > 0) {
    findings.push(
      finding('SVC_SOME_ENDPOINTS_NOT_READY', {
        message:
          `${unready.length} of the ${plural(live.length, 'pod')} matching ${ref} ` +
          `${unready.length === 1 ? 'is not ready and gets' : 'are not ready and get'} ` +
          `no traffic: ${listNames(unready.map((p) => p.name))}`,
        objects: [ref, ...unready.slice(0, MAX_LISTED).map(podRef)],
        evidence: unready.slice(0, MAX_LISTED).map(podState),
      }),
    );
  }
}

function targetPortFindings(
  service: Service,
  port: ServicePort,
  live: readonly Pod[],
  findings: Finding[],
  notes: string[],
): void {
  if (live.length === 0) return;
  const ref = svcRef(service);
  const portText = `port ${describePort(port)}`;
  if (typeof port.targetPort === 'string') {
    // Each pod's resolution once: the numbers it resolves to, and the pods it fails on.
    const numbers = new Map<number, number>();
    const wrongProtocol: Pod[] = [];
    const noName: Pod[] = [];
    for (const p of live) {
      const r = resolveTargetPort(port, p);
      if (r) numbers.set(r.port, (numbers.get(r.port) ?? 0) + 1);
      else if (unresolvedReason(port, p).startsWith('port ')) wrongProtocol.push(p);
      else noName.push(p);
    }
    if (noName.length > 0) {
      const all = noName.length === live.length;
      findings.push(
        finding('SVC_TARGET_PORT_MISMATCH', {
          message: all
            ? `No pod matching ${ref} declares a container port named ` +
              `"${port.targetPort}" (${port.protocol}): ` +
              `${portText} has no backend`
            : `${noName.length} of the ${plural(live.length, 'pod')} matching ${ref} ` +
              `declare no container port named "${port.targetPort}" and are no backend for ${portText}: ` +
              listNames(noName.map((p) => p.name)),
          objects: [ref, ...noName.slice(0, MAX_LISTED).map(podRef)],
          evidence: noName.slice(0, MAX_LISTED).map(declaredPorts),
        }),
      );
    }
    if (wrongProtocol.length > 0) {
      findings.push(
        finding('SVC_PROTOCOL_MISMATCH', {
          message:
            `${portText} of ${ref} targets "${port.targetPort}", which ` +
            `${listNames(wrongProtocol.map((p) => p.name))} ` +
            `declare${wrongProtocol.length === 1 ? 's' : ''} with another protocol: ` +
            `no backend there for ${port.protocol}`,
          objects: [ref, ...wrongProtocol.slice(0, MAX_LISTED).map(podRef)],
          evidence: wrongProtocol.slice(0, MAX_LISTED).map(declaredPorts),
        }),
      );
    }
    if (numbers.size > 1) {
      const parts = [...numbers.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([n, c]) => `${n} on ${plural(c, 'pod')}`);
      notes.push(`targetPort "${port.targetPort}" of ${portText} resolves per pod: ${parts.join(', ')}.`);
    }
    return;
  }
  // A numeric targetPort works whether or not a container declares it: only pods that declare
  // ports, none of them this one, are suspicious.
  const target = port.targetPort;
  const otherProtocol: Pod[] = [];
  const undeclared: Pod[] = [];
  for (const p of live) {
    if (!p.containers.some((c) => c.ports.length > 0)) continue;
    const declared = declaresPortNumber(p, target, port.protocol);
    if (declared === 'other') otherProtocol.push(p);
    else if (declared === 'none') undeclared.push(p);
  }
  if (undeclared.length > 0) {
    findings.push(
      finding('SVC_TARGET_PORT_UNDECLARED', {
        message:
          `targetPort ${target} of ${portText} is not among the container ports declared by ` +
          `${undeclared.length === live.length ? 'the' : `${undeclared.length} of the`} ` +
          `${plural(live.length, 'pod')} ` +
          `matching ${ref}: ${listNames(undeclared.map((p) => p.name))}`,
        objects: [ref, ...undeclared.slice(0, MAX_LISTED).map(podRef)],
        evidence: undeclared.slice(0, MAX_LISTED).map(declaredPorts),
      }),
    );
  }
  if (otherProtocol.length > 0) {
    findings.push(
      finding('SVC_PROTOCOL_MISMATCH', {
        message:
          `${portText} of ${ref} targets ${target}/${port.protocol}, but ` +
          `${listNames(otherProtocol.map((p) => p.name))} ` +
          `declare${otherProtocol.length === 1 ? 's' : ''} ${target} with another protocol only`,
        objects: [ref, ...otherProtocol.slice(0, MAX_LISTED).map(podRef)],
        evidence: otherProtocol.slice(0, MAX_LISTED).map(declaredPorts),
      }),
    );
  }
}

function sliceFindings(service: Service, rows: BackendRow[], sliceCount: number, findings: Finding[]): void {
  const ref = svcRef(service);
  const missing = rows.filter((r) => r.missing);
  if (missing.length > 0) {
    const pods = [...new Set(missing.map((r) => r.backend.pod ?? ''))];
    findings.push(
      finding('SVC_ENDPOINTS_MISSING', {
        message:
          sliceCount === 0
            ? `${ref} has no EndpointSlice although ${plural(pods.length, 'ready pod')} ` +
              `match its selector: ${listNames(pods)}`
            : `${plural(pods.length, 'ready pod')} matching ${ref} ` +
              `${pods.length === 1 ? 'is' : 'are'} missing from its ` +
              `EndpointSlices (or listed as not ready): ${listNames(pods)}`,
        objects: [ref, ...pods.slice(0, MAX_LISTED).map((p) => `pod/${service.namespace}/${p}`)],
        evidence: missing
          .slice(0, MAX_LISTED)
          .map((r) => `pod ${r.backend.pod} port ${r.backend.port ?? '-'}: ${r.backend.problems.join('; ')}`),
      }),
    );
  }
  staleFindings(service, rows, findings);
}

function staleFindings(service: Service, rows: BackendRow[], findings: Finding[]): void {
  const stale = rows.filter((r) => r.stale !== undefined);
  if (stale.length === 0) return;
  const ref = svcRef(service);
  const evidence = [
    ...new Set(stale.map((r) => `${r.backend.ip} (${r.backend.pod ?? 'no pod'}): ${r.stale}`)),
  ];
  const addresses = [...new Set(stale.map((r) => r.backend.ip ?? ''))];
  findings.push(
    finding('SVC_ENDPOINTS_STALE', {
      message:
        `The EndpointSlices of ${ref} disagree with the pods for ${plural(addresses.length, 'address')}: ` +
        `${listNames(addresses)}`,
      objects: [ref],
      evidence: evidence.slice(0, 2 * MAX_LISTED),
    }),
  );
}

function trafficPolicyChecks(
  service: Service,
  rows: BackendRow[],
  node: string | undefined,
  findings: Finding[],
  notes: string[],
): void {
  const external =
    service.externalTrafficPolicy === 'Local' &&
    (service.type === 'NodePort' || service.type === 'LoadBalancer' || service.externalIPs.length > 0);
  const internal = service.internalTrafficPolicy === 'Local';
  if (!external && !internal) return;
  const ready = rows.filter((r) => r.proxyReady);
  const nodes = [...new Set(ready.map((r) => r.backend.node).filter((n): n is string => n !== null))].sort();
  const policies = [external ? 'externalTrafficPolicy' : '', internal ? 'internalTrafficPolicy' : '']
    .filter(Boolean)
    .join(' and ');
  if (node === undefined) {
    notes.push(
      `${policies} Local: traffic is only sent to endpoints on the node it arrives at; ` +
        `nodes with a ready endpoint: ${nodes.length ? nodes.join(', ') : 'none'}.`,
    );
    return;
  }
  const local = rows.filter((r) => r.backend.node === node && (r.proxyReady || r.proxyServingTerminating));
  if (local.length > 0) return;
  const ref = svcRef(service);
  const evidence = [`nodes with a ready endpoint: ${nodes.length ? nodes.join(', ') : 'none'}`];
  if (internal) {
    findings.push(
      finding('SVC_NO_LOCAL_ENDPOINTS', {
        message:
          `internalTrafficPolicy of ${ref} is Local and node ${node} has no ready endpoint: ` +
          `traffic from pods on ${node} to the cluster IP is dropped`,
        objects: [ref, `node/${node}`],
        evidence,
      }),
    );
  }
  if (external) {
    const hc = service.healthCheckNodePort
      ? ` (its health check on node port ${service.healthCheckNodePort} fails)`
      : '';
    findings.push(
      finding('SVC_NO_LOCAL_ENDPOINTS', {
        message:
          `externalTrafficPolicy of ${ref} is Local and node ${node} has no ready endpoint: ` +
          `NodePort/LoadBalancer traffic arriving at ${node} is dropped${hc}`,
        objects: [ref, `node/${node}`],
        evidence,
      }),
    );
  }
}

// Backends of a Service, pod by pod and port by port, compared with what its EndpointSlices list.
// "Expected" follows the EndpointSlice controller (pkg/controller/endpointslice): a matching pod
// is published unless it is terminal, has no IP, or (without publishNotReadyAddresses) runs on a
// node that does not exist; terminating pods stay, with ready=false. Each service port gets the
// pod's port from resolveTargetPort (targetPortOn), and a pod without it is no backend for that port.

import { ipFamily, isCanonicalIPv4, isIP, normalizeIP } from '../../core/ip.js';
import type { ClusterModel } from '../../model/cluster.js';
import { matchesEquality } from '../../model/labels.js';
import { isTerminal } from '../../model/pods.js';
import type { Endpoint, EndpointSlice, Pod, Service, ServicePort } from '../../model/types.js';
import { containerPortsNamed, targetPortOn } from './target-port.js';
import type { Backend } from './types.js';

/** A backend with what the findings need to know about it. */
export interface BackendRow {
  backend: Backend;
  /** Expected as a ready endpoint but absent from the slices, or listed as not ready. */
  missing: boolean;
  /** What the slices say about it that the pods contradict (stale data), if anything. */
  stale?: string;
  /** kube-proxy would use it as a ready endpoint (from the slices when known, else from the pod). */
  proxyReady: boolean;
  /** Not ready, but serving while terminating: kube-proxy's fallback. */
  proxyServingTerminating: boolean;
}

interface SliceEntry {
  slice: EndpointSlice;
  endpoint: Endpoint;
  address: string;
}

export interface SliceIndex {
  /** The source holds EndpointSlices (or Endpoints) at all; otherwise listing is unknown. */
  known: boolean;
  slices: readonly EndpointSlice[];
  /** The service's endpoints come from legacy v1 Endpoints (no EndpointSlice in the source). */
  legacy: boolean;
  byAddress: Map<string, SliceEntry[]>;
}

/** An address as map keys hold it (a canonical dotted quad, most of them, is tested once). */
export const canonicalAddress = (address: string): string =>
  isCanonicalIPv4(address) ? address : isIP(address) ? normalizeIP(address) : address;

/** Whether a pod address is an IP of one of the service's address families. */
export function inFamilies(ip: string, families: readonly (4 | 6)[]): boolean {
  if (isCanonicalIPv4(ip)) return families.includes(4);
  return isIP(ip) && families.includes(ipFamily(ip));
}
export const portLabel = (p: ServicePort): string | number => p.name || p.port;

export function indexSlices(model: ClusterModel, service: Service): SliceIndex {
  const slices = model.endpointSlicesFor(service);
  const byAddress = new Map<string, SliceEntry[]>();
  for (const slice of slices) {
    for (const endpoint of slice.endpoints) {
      for (const address of endpoint.addresses) {
        const key = canonicalAddress(address);
        const list = byAddress.get(key);
        const entry = { slice, endpoint, address };
        if (list) list.push(entry);
        else byAddress.set(key, [entry]);
      }
    }
  }
  return {
    // A path read lists the Service's slices: finding none is a fact there.
    known: model.hasEndpointSlices() || model.coverage === 'path',
    slices,
    legacy: slices.length > 0 && slices.every((s) => s.source === 'Endpoints'),
    byAddress,
  };
}

/**
 * The ready endpoints EndpointSlices list for a Service port (of one address family, when
 * given): each endpoint's first address, as kube-proxy and the ingress controllers use it,
 * with the target port the slice names.
 */
export function readyEndpoints(
  model: ClusterModel,
  service: Service,
  port: ServicePort,
  family?: 4 | 6,
): { ip: string; port: number }[] {
  const out: { ip: string; port: number }[] = [];
  for (const slice of model.endpointSlicesFor(service)) {
    if (slice.addressType === 'FQDN') continue;
    if (family && slice.addressType !== (family === 4 ? 'IPv4' : 'IPv6')) continue;
    const sp = slice.ports.find((p) => p.name === port.name && p.protocol === port.protocol);
    if (!sp) continue;
    for (const e of slice.endpoints)
      if (e.conditions.ready && e.addresses[0]) out.push({ ip: e.addresses[0], port: sp.port });
  }
  return out;
}

/** The address families a Service's slices carry (the controller's getAddressTypesForService). */
export function serviceFamilies(service: Service): (4 | 6)[] {
  const out = new Set<4 | 6>();
  for (const f of service.ipFamilies) {
    if (f === 'IPv4') out.add(4);
    if (f === 'IPv6') out.add(6);
  }
  if (out.size === 0) for (const ip of service.clusterIPs) if (isIP(ip)) out.add(ipFamily(ip));
  // Headless without families (old objects, or no selector): both.
  if (out.size === 0) return [4, 6];
  return [...out].sort();
}

/** The slice's port for this service port (same name and protocol), or undefined. */
function slicePort(slice: EndpointSlice, port: ServicePort) {
  return slice.ports.find((p) => p.name === port.name && p.protocol === port.protocol);
}

/** Why a named targetPort resolves to nothing on this pod. */
export function unresolvedReason(port: ServicePort, pod: Pod): string {
  const named = containerPortsNamed(pod, String(port.targetPort));
  if (named.length > 0) {
    const protos = [...new Set(named.map((p) => p.protocol))].join('/');
    return `port "${port.targetPort}" is ${protos} on the pod, the service port is ${port.protocol}`;
  }
  return `no container port named "${port.targetPort}"`;
}

export interface BackendContext {
  model: ClusterModel;
  service: Service;
  /** The service ports asked about (all of them unless a port was given). */
  ports: readonly ServicePort[];
  slices: SliceIndex;
  families: (4 | 6)[];
  /** A port was asked for: slice-only rows are limited to it. */
  portAsked: boolean;
  /**
   * Only the rows findings are made of (missing or stale ones): doctor's per-Service check,
   * which shows no backends (~180,000 rows at 150,000 pods, nearly all of them fine).
   */
  findingRowsOnly?: boolean;
}

/** Where the slices list one of a pod's addresses for one service port. */
interface Listing {
  ip: string;
  entry: SliceEntry;
  /** The slice's port for the service port (undefined when the service has no ports). */
  port: number | undefined;
}

const NO_PORT: readonly undefined[] = [undefined];

/** The names of the slices that list the pod, each once, sorted. */
function sliceNamesOf(listed: readonly Listing[]): string[] {
  if (listed.length <= 1) return listed.map((l) => l.entry.slice.name);
  return [...new Set(listed.map((l) => l.entry.slice.name))].sort();
}

/**
 * Rows for one pod the selector matches, added to `rows`: one per service port (one row when
 * it has no ports). (Loops rather than filter/some: doctor makes ~180,000 rows at 150,000 pods.)
 */
export function podRows(ctx: BackendContext, pod: Pod, rows: BackendRow[] = []): BackendRow[] {
  const { model, service, slices } = ctx;
  const publish = service.publishNotReadyAddresses;
  const ips = pod.ips.filter((ip) => inFamilies(ip, ctx.families));
  const terminal = isTerminal(pod);
  const base: string[] = [];
  let eligible = true;
  if (terminal) {
    eligible = false;
    base.push(`phase ${pod.phase}: not a backend`);
  } else if (pod.ips.length === 0) {
    eligible = false;
    base.push(pod.phase === 'Pending' ? 'no IP yet (Pending)' : 'no IP');
  } else if (ips.length === 0) {
    eligible = false;
    base.push(`no ${ctx.families.map((f) => `IPv${f}`).join('/')} address`);
  }
  if (eligible && !pod.ready) base.push('not ready');
  if (pod.terminating) base.push('terminating');
  // Legacy Endpoints drop terminating pods; EndpointSlices keep them with ready=false.
  if (eligible && pod.terminating && slices.legacy && !publish) eligible = false;
  const nodeMissing = model.hasNodes() && pod.nodeName !== undefined && !model.node(pod.nodeName);
  if (eligible && nodeMissing && !publish) {
    eligible = false;
    base.push(`node ${pod.nodeName} not found: the controller skips the pod`);
  }
  const expectedReady = publish || (pod.ready && !pod.terminating);
  // The slice entries of each address, looked up once for every port.
  const entries = ips.map((ip) => slices.byAddress.get(canonicalAddress(ip)));

  for (const port of ctx.ports.length > 0 ? ctx.ports : NO_PORT) {
    const target = port ? targetPortOn(port, pod) : undefined;
    const problems = base.slice();
    if (port && target === undefined && !terminal) problems.push(unresolvedReason(port, pod));
    const expected = eligible && (!port || target !== undefined);

    // Where the slices list this pod's addresses for this port, and whether some address is
    // listed nowhere (absent).
    const listed: Listing[] = [];
    let absent = 0;
    for (let i = 0; i < ips.length; i++) {
      let found = false;
      for (const entry of entries[i] ?? []) {
        const sp = port ? slicePort(entry.slice, port) : undefined;
        if (port && !sp) continue;
        listed.push({ ip: ips[i], entry, port: sp?.port });
        found = true;
      }
      if (!found) absent++;
    }
    const sliceNames = sliceNamesOf(listed);
    let missing = false;
    let staleReasons: string[] | undefined;
    if (slices.known && expected) {
      if (absent === ips.length) {
        problems.push('missing from EndpointSlices');
        missing = expectedReady;
      } else if (absent > 0) {
        const unlisted = ips.filter((ip) => !listed.some((l) => l.ip === ip));
        problems.push(`${unlisted.join(', ')} missing from EndpointSlices`);
        missing = expectedReady;
      }
      for (const l of listed) {
        if (target !== undefined && l.port !== undefined && l.port !== target) {
          staleReasons ??= [];
          staleReasons.push(
            `${l.entry.slice.name} lists port ${l.port}, the pod's "${port?.targetPort}" is ${target}`,
          );
        }
        if (l.entry.endpoint.conditions.ready !== expectedReady) {
          if (expectedReady) {
            problems.push(`listed as not ready in ${l.entry.slice.name}`);
            missing = true;
          } else {
            staleReasons ??= [];
            staleReasons.push(`listed as ready in ${l.entry.slice.name}`);
          }
        }
      }
    } else if (slices.known && listed.length > 0) {
      staleReasons = [`listed in ${sliceNames.join(', ')} although it is no endpoint for this port`];
    }
    if (staleReasons) for (const r of staleReasons) problems.push(r);
    if (ctx.findingRowsOnly && !missing && !staleReasons) continue;

    let sliceReady = false;
    let sliceServingTerminating = false;
    for (const l of listed) {
      const c = l.entry.endpoint.conditions;
      if (c.ready) sliceReady = true;
      if (c.serving && c.terminating) sliceServingTerminating = true;
    }
    const backend: Backend = {
      origin: 'selector',
      pod: pod.name,
      namespace: pod.namespace,
      ip: ips[0] ?? pod.ips[0] ?? null,
      ips,
      node: pod.nodeName ?? null,
      phase: pod.phase,
      ready: pod.ready,
      serving: pod.ready,
      terminating: pod.terminating,
      port: port ? portLabel(port) : null,
      protocol: port ? port.protocol : null,
      targetPort: target ?? null,
      expectedInEndpointSlices: expected,
      inEndpointSlices: slices.known ? ips.length > 0 && absent === 0 : null,
      slices: sliceNames,
      problems,
    };
    rows.push({
      backend,
      missing,
      stale: staleReasons ? staleReasons.join('; ') : undefined,
      proxyReady: slices.known ? sliceReady : expected && expectedReady,
      proxyServingTerminating: slices.known
        ? !sliceReady && sliceServingTerminating
        : expected && pod.ready && pod.terminating && !expectedReady,
    });
  }
  return rows;
}

/**
 * Rows for slice addresses that belong to no pod the selector matches: every address of a
 * selectorless service (its manual endpoints), or stale addresses of a selector service.
 */
export function sliceOnlyRows(ctx: BackendContext, claimed: ReadonlySet<string>): BackendRow[] {
  const { model, service } = ctx;
  const rows: BackendRow[] = [];
  const selector = service.selector;
  for (const slice of ctx.slices.slices) {
    // Slice ports that belong to the asked service ports (all slice ports when no port was asked).
    const ports = ctx.portAsked
      ? slice.ports.filter((sp) => ctx.ports.some((p) => p.name === sp.name && p.protocol === sp.protocol))
      : slice.ports;
    if (slice.ports.length > 0 && ports.length === 0) continue;
    for (const endpoint of slice.endpoints) {
      for (const address of endpoint.addresses) {
        if (claimed.has(canonicalAddress(address))) continue;
        const ref = endpoint.targetRef?.kind === 'Pod' ? endpoint.targetRef : undefined;
        const refPod = ref ? model.pod(ref.namespace ?? service.namespace, ref.name) : undefined;
        const ipPod = isIP(address) ? model.podsByIP(address).find((p) => !isTerminal(p)) : undefined;
        const pod = refPod ?? ipPod;
        const problems: string[] = [];
        let stale: string | undefined;
        if (ref && !refPod) stale = `pod ${ref.name} no longer exists`;
        else if (refPod && !refPod.ips.some((ip) => canonicalAddress(ip) === canonicalAddress(address))) {
          stale = `pod ${refPod.name} now has IP ${refPod.ips.join(', ') || 'none'}`;
        } else if (selector) {
          if (!pod) stale = 'no pod has this IP';
          else if (isTerminal(pod)) stale = `pod ${pod.name} has phase ${pod.phase}`;
          else if (pod.namespace !== service.namespace || !matchesEquality(selector, pod.labels)) {
            const where = pod.namespace === service.namespace ? '' : `${pod.namespace}/`;
            stale = `pod ${where}${pod.name} does not match the selector`;
          }
        }
        if (stale) problems.push(stale);
        if (pod && !stale && !pod.ready) problems.push('pod not ready');
        const c = endpoint.conditions;
        for (const sp of ports.length > 0 ? ports : [undefined]) {
          const svcPort = sp && service.ports.find((p) => p.name === sp.name && p.protocol === sp.protocol);
          rows.push({
            backend: {
              origin: 'slice',
              pod: ref?.name ?? pod?.name ?? null,
              namespace: ref?.namespace ?? pod?.namespace ?? service.namespace,
              ip: address,
              ips: [address],
              node: endpoint.nodeName ?? pod?.nodeName ?? null,
              phase: pod?.phase ?? null,
              ready: c.ready,
              serving: c.serving,
              terminating: c.terminating,
              port: svcPort ? portLabel(svcPort) : sp ? sp.name || sp.port : null,
              protocol: sp?.protocol ?? null,
              targetPort: sp?.port ?? null,
              expectedInEndpointSlices: !selector,
              inEndpointSlices: true,
              slices: [slice.name],
              problems: [...problems],
            },
            missing: false,
            stale,
            proxyReady: c.ready,
            proxyServingTerminating: !c.ready && c.serving && c.terminating,
          });
        }
      }
    }
  }
  return rows;
}

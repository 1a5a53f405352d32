// kube-proxy's view of the API: Services → "service ports", EndpointSlices → endpoints, and
// CategorizeEndpoints (pkg/proxy/topology.go) for one node. The rule generators, the drift
// analysis and the IPVS/nft evaluators all start here so they agree on what "expected" means.

import {
  canonicalCIDR,
  cidrContains,
  ipFamily,
  isCIDR,
  isIP,
  normalizeIP,
  parseCIDR,
} from '../../core/ip.js';
import type { ClusterModel } from '../../model/cluster.js';
import type { EndpointSlice, Service, ServicePort } from '../../model/types.js';
import { endpointString, type LowerProtocol, servicePortName } from './chain-names.js';

export interface ProxyEndpoint {
  ip: string;
  port: number;
  /** "ip:port" / "[ip]:port". */
  endpoint: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  nodeName?: string;
  isLocal: boolean;
}

export interface ProxyServicePort {
  service: Service;
  port: ServicePort;
  /** ServicePortName string, e.g. "ns1/svc1:p80". */
  spn: string;
  protocol: LowerProtocol;
  family: 4 | 6;
  clusterIP: string;
  externalIPs: string[];
  loadBalancerIPs: string[];
  /** loadBalancerSourceRanges of this family; empty when a range is a zero-prefix CIDR. */
  sourceRanges: string[];
  nodePort?: number;
  healthCheckNodePort?: number;
  externalPolicyLocal: boolean;
  internalPolicyLocal: boolean;
  externallyAccessible: boolean;
  usesClusterEndpoints: boolean;
  usesLocalEndpoints: boolean;
  /** ClientIP affinity timeout in seconds, undefined without affinity. */
  affinityTimeout?: number;
  /** Every endpoint of the port in this family, sorted by endpoint string (kube-proxy order). */
  endpoints: ProxyEndpoint[];
  clusterEndpoints: ProxyEndpoint[];
  localEndpoints: ProxyEndpoint[];
  /** Union of the above: these get KUBE-SEP / endpoint- chains. */
  allReachable: ProxyEndpoint[];
  hasEndpoints: boolean;
  /** hasEndpoints and (iTP≠Local or some local endpoint). */
  hasInternalEndpoints: boolean;
  /** hasEndpoints and (eTP≠Local or some local endpoint). */
  hasExternalEndpoints: boolean;
}

export const DEFAULT_AFFINITY_TIMEOUT = 10800;

/** kube-proxy's --cluster-cidr for a family, from the kube-system/kube-proxy ConfigMap. */
export function clusterCIDRFromModel(model: ClusterModel, family: 4 | 6): string | undefined {
  const cm = model.configMap('kube-system', 'kube-proxy');
  if (!cm) return undefined;
  for (const text of Object.values(cm.data)) {
    const m = /^\s*clusterCIDR:\s*["']?([^"'\s#]+)/m.exec(text);
    if (!m) continue;
    for (const c of m[1].split(',')) {
      const cidr = c.trim();
      if (isCIDR(cidr) && ipFamily(cidr.split('/')[0]) === family) return cidr;
    }
  }
  return undefined;
}

/** kube-proxy's mode from the kube-proxy ConfigMap ("iptables", "ipvs", "nftables"), if set. */
export function proxyModeFromModel(model: ClusterModel): string | undefined {
  const cm = model.configMap('kube-system', 'kube-proxy');
  if (!cm) return undefined;
  for (const text of Object.values(cm.data)) {
    const m = /^\s*mode:\s*["']?([a-z]*)/m.exec(text);
    if (m) return m[1] || undefined;
  }
  return undefined;
}

/** Canonical dotted-quad IPv4 (no leading zeros): already in normalizeIP's form. */
const DOTTED_QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function sameFamily(ip: string, family: 4 | 6): boolean {
  return isIP(ip) && ipFamily(ip) === family;
}

/** Node addresses of a family (InternalIP then ExternalIP). */
export function nodeIPsOf(model: ClusterModel, nodeName: string, family: 4 | 6): string[] {
  const node = model.node(nodeName);
  if (!node) return [];
  return [...node.internalIPs, ...node.externalIPs].filter((ip) => sameFamily(ip, family)).map(normalizeIP);
}

function apiExternallyAccessible(svc: Service): boolean {
  return svc.type === 'LoadBalancer' || svc.type === 'NodePort' || svc.externalIPs.length > 0;
}

/** All service ports kube-proxy on `nodeName` programs for one IP family, in API order. */
export function kubeProxyServicePorts(
  model: ClusterModel,
  nodeName: string,
  family: 4 | 6,
): ProxyServicePort[] {
  const out: ProxyServicePort[] = [];
  for (const svc of model.services) {
    const ports = serviceProxyPorts(model, svc, nodeName, family);
    for (const p of ports) out.push(p);
  }
  return out;
}

/** The service ports of one Service (empty for headless / ExternalName / other family). */
export function serviceProxyPorts(
  model: ClusterModel,
  svc: Service,
  nodeName: string,
  family: 4 | 6,
): ProxyServicePort[] {
  if (svc.type === 'ExternalName' || svc.headless) return [];
  const clusterIP = svc.clusterIPs.find((ip) => sameFamily(ip, family));
  if (!clusterIP) return [];
  const externalIPs = svc.externalIPs.filter((ip) => sameFamily(ip, family)).map(normalizeIP);
  const loadBalancerIPs =
    svc.type === 'LoadBalancer'
      ? svc.loadBalancerIPs.filter((ip) => sameFamily(ip, family)).map(normalizeIP)
      : [];
  let sourceRanges = svc.loadBalancerSourceRanges
    .map((r) => r.trim())
    .filter((r) => isCIDR(r) && ipFamily(r.split('/')[0]) === family)
    .map(canonicalCIDR);
  if (sourceRanges.some((r) => parseCIDR(r)[1] === 0)) sourceRanges = [];
  // The endpoints are read when first used: a packet's trace looks up every service port by
  // its VIP, but needs the EndpointSlices of one Service (a bundle read by position reads no more).
  let slicesOfFamily: EndpointSlice[] | undefined;
  const slices = () => {
    slicesOfFamily ??= model
      .endpointSlicesFor(svc)
      .filter((s) => s.addressType === (family === 4 ? 'IPv4' : 'IPv6'));
    return slicesOfFamily;
  };
  const result: ProxyServicePort[] = [];
  for (const port of svc.ports) {
    const protocol = port.protocol.toLowerCase() as LowerProtocol;
    const spn = servicePortName(svc.namespace, svc.name, port.name);
    const nodePort = port.nodePort && svc.type !== 'ClusterIP' ? port.nodePort : undefined;
    const externallyAccessible = Boolean(nodePort) || loadBalancerIPs.length > 0 || externalIPs.length > 0;
    const externalPolicyLocal = svc.externalTrafficPolicy === 'Local' && apiExternallyAccessible(svc);
    const internalPolicyLocal = svc.internalTrafficPolicy === 'Local';
    const usesClusterEndpoints = !internalPolicyLocal || externallyAccessible;
    const usesLocalEndpoints = internalPolicyLocal || (externalPolicyLocal && externallyAccessible);
    let eps: ReturnType<typeof portEndpoints> | undefined;
    const e = () => {
      eps ??= portEndpoints(slices(), port, family, nodeName, usesClusterEndpoints, usesLocalEndpoints);
      return eps;
    };
    result.push({
      service: svc,
      port,
      spn,
      protocol,
      family,
      clusterIP: normalizeIP(clusterIP),
      externalIPs,
      loadBalancerIPs,
      sourceRanges,
      nodePort,
      healthCheckNodePort:
        svc.type === 'LoadBalancer' && externalPolicyLocal && svc.healthCheckNodePort
          ? svc.healthCheckNodePort
          : undefined,
      externalPolicyLocal,
      internalPolicyLocal,
      externallyAccessible,
      usesClusterEndpoints,
      usesLocalEndpoints,
      affinityTimeout: svc.sessionAffinity === 'ClientIP' ? DEFAULT_AFFINITY_TIMEOUT : undefined,
      get endpoints() {
        return e().endpoints;
      },
      get clusterEndpoints() {
        return e().clusterEndpoints;
      },
      get localEndpoints() {
        return e().localEndpoints;
      },
      get allReachable() {
        return e().allReachable;
      },
      get hasEndpoints() {
        return e().hasAnyEndpoints;
      },
      get hasInternalEndpoints() {
        return e().hasAnyEndpoints && (!internalPolicyLocal || e().localEndpoints.length > 0);
      },
      get hasExternalEndpoints() {
        return e().hasAnyEndpoints && (!externalPolicyLocal || e().localEndpoints.length > 0);
      },
    });
  }
  return result;
}

/** A service port's endpoints of one family, in kube-proxy's order, and their categories. */
function portEndpoints(
  slices: readonly EndpointSlice[],
  port: ServicePort,
  family: 4 | 6,
  nodeName: string,
  usesCluster: boolean,
  usesLocal: boolean,
): ReturnType<typeof categorizeEndpoints> & { endpoints: ProxyEndpoint[] } {
  const byEndpoint = new Map<string, ProxyEndpoint>();
  for (const slice of slices) {
    const sp = slice.ports.find((p) => p.name === port.name && p.protocol === port.protocol);
    if (!sp?.port) continue;
    for (const ep of slice.endpoints) {
      const addr = ep.addresses[0];
      if (!addr) continue;
      // Tested once: 200,000 endpoints a node at 10,000 Services.
      const quad = DOTTED_QUAD.test(addr);
      if (family === 4 ? !quad && !sameFamily(addr, family) : !sameFamily(addr, family)) continue;
      const ip = quad ? addr : normalizeIP(addr);
      const endpoint = family === 4 ? `${ip}:${sp.port}` : endpointString(ip, sp.port);
      if (byEndpoint.has(endpoint)) continue;
      byEndpoint.set(endpoint, {
        ip,
        port: sp.port,
        endpoint,
        ready: ep.conditions.ready,
        serving: ep.conditions.serving,
        terminating: ep.conditions.terminating,
        nodeName: ep.nodeName,
        isLocal: ep.nodeName !== undefined && ep.nodeName === nodeName,
      });
    }
  }
  const endpoints = [...byEndpoint.values()].sort((a, b) =>
    a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0,
  );
  return { endpoints, ...categorizeEndpoints(endpoints, usesCluster, usesLocal) };
}

/** pkg/proxy/topology.go CategorizeEndpoints, without topology hints (not in the model). */
export function categorizeEndpoints(
  endpoints: ProxyEndpoint[],
  usesCluster: boolean,
  usesLocal: boolean,
): {
  clusterEndpoints: ProxyEndpoint[];
  localEndpoints: ProxyEndpoint[];
  allReachable: ProxyEndpoint[];
  hasAnyEndpoints: boolean;
} {
  let clusterEndpoints: ProxyEndpoint[] = [];
  let localEndpoints: ProxyEndpoint[] = [];
  let hasAnyEndpoints = false;
  if (usesCluster) {
    clusterEndpoints = endpoints.filter((e) => e.ready);
    if (clusterEndpoints.length === 0) clusterEndpoints = endpoints.filter((e) => e.serving && e.terminating);
    hasAnyEndpoints = clusterEndpoints.length > 0;
  }
  if (usesLocal) {
    const readyLocal = endpoints.filter((e) => e.isLocal && e.ready);
    localEndpoints =
      readyLocal.length > 0 ? readyLocal : endpoints.filter((e) => e.isLocal && e.serving && e.terminating);
    if (!hasAnyEndpoints) hasAnyEndpoints = endpoints.some((e) => e.ready || (e.serving && e.terminating));
  }
  if (!usesLocal)
    return { clusterEndpoints, localEndpoints, allReachable: clusterEndpoints, hasAnyEndpoints };
  if (!usesCluster)
    return { clusterEndpoints, localEndpoints, allReachable: localEndpoints, hasAnyEndpoints };
  const seen = new Set(clusterEndpoints.map((e) => e.endpoint));
  const allReachable = [...clusterEndpoints, ...localEndpoints.filter((e) => !seen.has(e.endpoint))];
  allReachable.sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0));
  return { clusterEndpoints, localEndpoints, allReachable, hasAnyEndpoints };
}

/** True when `cidrs` has a range containing one of `ips`. */
export function anyRangeContains(cidrs: string[], ips: string[]): boolean {
  return cidrs.some((c) => ips.some((ip) => cidrContains(c, ip)));
}

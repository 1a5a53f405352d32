// Lookups from dataplane names and addresses back to API service ports: by VIP, by NodePort,
// by kube-proxy's recomputed chain hashes (iptables and nftables). Comments are never used.

import { normalizeIP } from '../../core/ip.js';
import type { ClusterModel } from '../../model/cluster.js';
import {
  endpointChainName,
  nftEndpointChainBase,
  nftServicePortChainBase,
  portProtoHash,
} from './chain-names.js';
import { kubeProxyServicePorts, type ProxyEndpoint, type ProxyServicePort } from './service-ports.js';

export interface ServiceIndex {
  ports: ProxyServicePort[];
  /** `${ip}|${proto}|${port}` → service port, for ClusterIPs, external IPs and LB IPs. */
  byVip: Map<string, { sp: ProxyServicePort; kind: 'clusterIP' | 'externalIP' | 'loadBalancerIP' }>;
  /** `${proto}|${nodePort}`. */
  byNodePort: Map<string, ProxyServicePort>;
  /** 16-char iptables hash → service port. */
  byHash: Map<string, ProxyServicePort>;
  /** KUBE-SEP-… name → endpoint (built on first use). */
  readonly bySepChain: Map<string, { sp: ProxyServicePort; ep: ProxyEndpoint }>;
  /** nftables chain base ("HASH-ns/svc/proto/port") → service port (built on first use). */
  readonly byNftBase: Map<string, ProxyServicePort>;
  /** nftables endpoint chain base → endpoint (built on first use). */
  readonly byNftEndpointBase: Map<string, { sp: ProxyServicePort; ep: ProxyEndpoint }>;
}

export function vipKey(ip: string, proto: string, port: number): string {
  return `${ip}|${proto}|${port}`;
}

/**
 * Builds the index for a node. Endpoint chains are indexed for every endpoint of the API
 * (not only the usable ones), so that rules for a not-ready endpoint are still recognised.
 */
export function buildServiceIndex(
  model: ClusterModel,
  nodeName: string,
  families: (4 | 6)[] = [4, 6],
): ServiceIndex {
  const ports: ProxyServicePort[] = [];
  const byVip: ServiceIndex['byVip'] = new Map();
  const byNodePort: ServiceIndex['byNodePort'] = new Map();
  const byHash: ServiceIndex['byHash'] = new Map();
  for (const family of families) {
    for (const sp of kubeProxyServicePorts(model, nodeName, family)) {
      ports.push(sp);
      const P = sp.protocol;
      const port = sp.port.port;
      byVip.set(vipKey(sp.clusterIP, P, port), { sp, kind: 'clusterIP' });
      for (const ip of sp.externalIPs) byVip.set(vipKey(ip, P, port), { sp, kind: 'externalIP' });
      for (const ip of sp.loadBalancerIPs) byVip.set(vipKey(ip, P, port), { sp, kind: 'loadBalancerIP' });
      if (sp.nodePort) byNodePort.set(`${P}|${sp.nodePort}`, sp);
      byHash.set(portProtoHash(sp.spn, P), sp);
    }
  }
  let sep: ServiceIndex['bySepChain'] | undefined;
  let nftBase: ServiceIndex['byNftBase'] | undefined;
  let nftEp: ServiceIndex['byNftEndpointBase'] | undefined;
  return {
    ports,
    byVip,
    byNodePort,
    byHash,
    get bySepChain() {
      if (!sep) {
        sep = new Map();
        for (const sp of ports)
          for (const ep of sp.endpoints)
            sep.set(endpointChainName(sp.spn, sp.protocol, ep.endpoint), { sp, ep });
      }
      return sep;
    },
    get byNftBase() {
      if (!nftBase) {
        nftBase = new Map();
        for (const sp of ports) {
          nftBase.set(
            nftServicePortChainBase(sp.service.namespace, sp.service.name, sp.protocol, sp.port.name),
            sp,
          );
        }
      }
      return nftBase;
    },
    get byNftEndpointBase() {
      if (!nftEp) {
        nftEp = new Map();
        for (const sp of ports) {
          const { namespace, name } = sp.service;
          for (const ep of sp.endpoints) {
            nftEp.set(nftEndpointChainBase(namespace, name, sp.protocol, sp.port.name, ep.ip, ep.port), {
              sp,
              ep,
            });
          }
        }
      }
      return nftEp;
    },
  };
}

/** The service port a packet is addressed to (API view), if any. */
export function serviceForDestination(
  index: ServiceIndex,
  destination: string,
  proto: string,
  port: number,
  isLocalAddress: (ip: string) => boolean,
): ProxyServicePort | undefined {
  const ip = normalizeIP(destination);
  const hit = index.byVip.get(vipKey(ip, proto, port));
  if (hit) return hit.sp;
  if (isLocalAddress(ip)) return index.byNodePort.get(`${proto}|${port}`);
  return undefined;
}

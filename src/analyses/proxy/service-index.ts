// Lookups from dataplane names and addresses back to API service ports: by VIP, by NodePort,
// by kube-proxy's recomputed chain hashes (iptables and nftables). Comments are never used.

import { isIP, normalizeIP } from '../../core/ip.js';
import type { ClusterModel } from '../../model/cluster.js';
import type { Service } from '../../model/types.js';
import {
  endpointChainName,
  nftEndpointChainBase,
  nftServicePortChainBase,
  portProtoHash,
  servicePortName,
} from './chain-names.js';
import {
  kubeProxyServicePorts,
  type ProxyEndpoint,
  type ProxyServicePort,
  serviceProxyPorts,
} from './service-ports.js';

export interface ServiceIndex {
  ports: ProxyServicePort[];
  /** `${ip}|${proto}|${port}` → service port, for ClusterIPs, external IPs and LB IPs. */
  byVip: Map<string, VipHit>;
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
  /**
   * One question each, answered as the maps above would answer it: from the maps once they
   * are built, else by a pass over the Services that builds the service ports of the Services
   * that can match only (one packet's trace asks one or two questions of a 10,000-Service cluster).
   */
  vip(ip: string, proto: string, port: number): VipHit | undefined;
  nodePort(proto: string, port: number): ProxyServicePort | undefined;
  /**
   * `named`, a Service the rule's comment names, is only where to look first: the port found
   * there must have the hash, and any port with that hash is of a Service of that name.
   */
  hash(hash: string, named?: { namespace: string; name: string }): ProxyServicePort | undefined;
}

export interface VipHit {
  sp: ProxyServicePort;
  kind: 'clusterIP' | 'externalIP' | 'loadBalancerIP';
}

export function vipKey(ip: string, proto: string, port: number): string {
  return `${ip}|${proto}|${port}`;
}

/**
 * Builds the index for a node (its maps on first use). Endpoint chains are indexed for every
 * endpoint of the API (not only the usable ones), so that rules for a not-ready endpoint are
 * still recognised.
 */
export function buildServiceIndex(
  model: ClusterModel,
  nodeName: string,
  families: (4 | 6)[] = [4, 6],
): ServiceIndex {
  interface Maps {
    ports: ProxyServicePort[];
    byVip: ServiceIndex['byVip'];
    byNodePort: ServiceIndex['byNodePort'];
    byHash: ServiceIndex['byHash'];
  }
  let maps: Maps | undefined;
  const all = (): Maps => {
    if (maps) return maps;
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
    maps = { ports, byVip, byNodePort, byHash };
    return maps;
  };
  /**
   * The last (as the maps are filled: by family, Service, port) service port for which `hit`
   * gives a value, trying only the Services `mayMatch` lets through: the maps keep the last
   * value set for a key.
   */
  const last = <T>(
    mayMatch: (svc: Service) => boolean,
    hit: (sp: ProxyServicePort) => T | undefined,
    services: readonly Service[] = model.services,
  ): T | undefined => {
    for (let f = families.length - 1; f >= 0; f--) {
      for (let i = services.length - 1; i >= 0; i--) {
        const svc = services[i];
        if (!mayMatch(svc)) continue;
        const sps = serviceProxyPorts(model, svc, nodeName, families[f]);
        for (let k = sps.length - 1; k >= 0; k--) {
          const found = hit(sps[k]);
          if (found !== undefined) return found;
        }
      }
    }
    return undefined;
  };
  let sep: ServiceIndex['bySepChain'] | undefined;
  let nftBase: ServiceIndex['byNftBase'] | undefined;
  let nftEp: ServiceIndex['byNftEndpointBase'] | undefined;
  return {
    get ports() {
      return all().ports;
    },
    get byVip() {
      return all().byVip;
    },
    get byNodePort() {
      return all().byNodePort;
    },
    get byHash() {
      return all().byHash;
    },
    vip(ip, proto, port) {
      if (maps) return maps.byVip.get(vipKey(ip, proto, port));
      const owns = (a: string) => isIP(a) && normalizeIP(a) === ip;
      return last(
        (svc) =>
          svc.ports.some((p) => p.port === port) &&
          (svc.clusterIPs.some(owns) || svc.externalIPs.some(owns) || svc.loadBalancerIPs.some(owns)),
        (sp): VipHit | undefined => {
          if (sp.protocol !== proto || sp.port.port !== port) return undefined;
          if (sp.loadBalancerIPs.includes(ip)) return { sp, kind: 'loadBalancerIP' };
          if (sp.externalIPs.includes(ip)) return { sp, kind: 'externalIP' };
          return sp.clusterIP === ip ? { sp, kind: 'clusterIP' } : undefined;
        },
      );
    },
    nodePort(proto, port) {
      if (maps) return maps.byNodePort.get(`${proto}|${port}`);
      return last(
        (svc) => svc.ports.some((p) => p.nodePort === port),
        (sp) => (sp.protocol === proto && sp.nodePort === port ? sp : undefined),
      );
    },
    hash(hash, named) {
      if (maps) return maps.byHash.get(hash);
      const mayMatch = (svc: Service) =>
        svc.ports.some(
          (p) => portProtoHash(servicePortName(svc.namespace, svc.name, p.name), p.protocol) === hash,
        );
      const hit = (sp: ProxyServicePort) => (portProtoHash(sp.spn, sp.protocol) === hash ? sp : undefined);
      // Every Service of that namespace and name, in model order: the maps' last one is among them.
      const found =
        named &&
        last(
          mayMatch,
          hit,
          model.servicesInNamespace(named.namespace).filter((s) => s.name === named.name),
        );
      return found || last(mayMatch, hit);
    },
    get bySepChain() {
      if (!sep) {
        sep = new Map();
        for (const sp of all().ports)
          for (const ep of sp.endpoints)
            sep.set(endpointChainName(sp.spn, sp.protocol, ep.endpoint), { sp, ep });
      }
      return sep;
    },
    get byNftBase() {
      if (!nftBase) {
        nftBase = new Map();
        for (const sp of all().ports) {
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
        for (const sp of all().ports) {
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
  const hit = index.vip(ip, proto, port);
  if (hit) return hit.sp;
  if (isLocalAddress(ip)) return index.nodePort(proto, port);
  return undefined;
}

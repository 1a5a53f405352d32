// What kube-proxy's iptables mode writes for one node, as `iptables-restore` input: the
// filter and nat tables of syncProxyRules (pkg/proxy/iptables/proxier.go), plus the jump
// rules from the built-in chains that kube-proxy (and kubelet) ensure separately, so the
// output is complete when loaded into an empty network namespace.

import { cidrContains } from '../../core/ip.js';
import type { ClusterModel } from '../../model/cluster.js';
import {
  endpointChainName,
  serviceExternalChainName,
  serviceFirewallChainName,
  servicePortChainName,
  servicePortLocalChainName,
} from './chain-names.js';
import {
  clusterCIDRFromModel,
  kubeProxyServicePorts,
  nodeIPsOf,
  type ProxyEndpoint,
  type ProxyServicePort,
} from './service-ports.js';

export interface IptablesRenderOptions {
  family?: 4 | 6;
  /** --masquerade-all. */
  masqueradeAll?: boolean;
  /** --cluster-cidr (the ClusterCIDR local-traffic detector); default: the kube-proxy ConfigMap. */
  clusterCIDR?: string;
  /** The node's addresses (first = kube-proxy's primary node IP); default: the Node object's. */
  nodeIPs?: string[];
  /** Localhost NodePorts (IPv4 only; kube-proxy's default true). */
  localhostNodePorts?: boolean;
  /** Emit the jump rules from the built-in chains (default true). */
  jumpRules?: boolean;
  /** Drop conntrack INVALID in KUBE-FORWARD (kube-proxy's default unless tcp_be_liberal). */
  dropInvalid?: boolean;
}

export const MASQ_MARK = '0x4000';
/** Above this many endpoints kube-proxy stops writing comments on SVC→SEP and SEP rules. */
export const LARGE_CLUSTER_ENDPOINTS_THRESHOLD = 1000;

const probabilities: string[] = [];

/** Go fmt.Sprintf("%0.10f", 1.0/n), as kube-proxy's computeProbability (remembered: a ladder of n asks for 2…n). */
export function computeProbability(n: number): string {
  if (!Number.isInteger(n) || n <= 0) return (1 / n).toFixed(10);
  probabilities[n] ??= (1 / n).toFixed(10);
  return probabilities[n];
}

/** An iptables-restore token: quoted when it has spaces (kube-proxy quotes multi-word comments). */
function q(text: string): string {
  return /[\s"]/.test(text) ? `"${text}"` : text;
}

export function renderKubeProxyIptables(
  model: ClusterModel,
  nodeName: string,
  options: IptablesRenderOptions = {},
): string {
  const family = options.family ?? 4;
  const ports = kubeProxyServicePorts(model, nodeName, family);
  const nodeIPs = options.nodeIPs ?? nodeIPsOf(model, nodeName, family);
  const clusterCIDR = options.clusterCIDR ?? clusterCIDRFromModel(model, family);
  return renderIptablesFromPorts(ports, {
    ...options,
    family,
    nodeIPs,
    clusterCIDR,
  });
}

/** What the per-service-port rules depend on besides the service port itself. */
export interface ServicePortRenderContext {
  masqueradeAll?: boolean;
  /** "-s CIDR" / "! -s CIDR" of the local-traffic detector, when there is one. */
  detectorLocal?: string;
  detectorNotLocal?: string;
  /** kube-proxy's primary node IP. */
  nodeIP?: string;
  /** Large-cluster mode: no comments on the endpoint rules. */
  largeCluster: boolean;
}

/** The rules of one service port, by where they go (each list in kube-proxy's order). */
export interface ServicePortRules {
  /** filter table rules (KUBE-SERVICES, KUBE-EXTERNAL-SERVICES, KUBE-PROXY-FIREWALL, KUBE-NODEPORTS). */
  filter: string[];
  /** nat chains the service port declares. */
  natChains: string[];
  /** nat KUBE-NODEPORTS rules. */
  nodePorts: string[];
  /** nat KUBE-SERVICES rules. */
  services: string[];
  /** Rules of the per-service chains (KUBE-SVC/SVL/EXT/FW/SEP). */
  chains: string[];
  /** The chain of each rule of `chains`. */
  chainOf: string[];
}

export function servicePortRenderContext(
  ports: ProxyServicePort[],
  options: Pick<IptablesRenderOptions, 'masqueradeAll' | 'clusterCIDR'> & { nodeIPs: string[] },
): ServicePortRenderContext {
  let totalEndpoints = 0;
  for (const sp of ports) totalEndpoints += sp.endpoints.length;
  return {
    masqueradeAll: options.masqueradeAll,
    detectorLocal: options.clusterCIDR ? `-s ${options.clusterCIDR}` : undefined,
    detectorNotLocal: options.clusterCIDR ? `! -s ${options.clusterCIDR}` : undefined,
    nodeIP: options.nodeIPs[0],
    largeCluster: totalEndpoints > LARGE_CLUSTER_ENDPOINTS_THRESHOLD,
  };
}

/** The generator proper, from already-computed service ports (the bench calls this). */
export function renderIptablesFromPorts(
  ports: ProxyServicePort[],
  options: IptablesRenderOptions & { family: 4 | 6; nodeIPs: string[] },
): string {
  const family = options.family;
  const localhostNodePorts = family === 4 && (options.localhostNodePorts ?? true);
  const jumpRules = options.jumpRules ?? true;
  const dropInvalid = options.dropInvalid ?? true;
  const ctx = servicePortRenderContext(ports, options);

  const filterChains = [
    'KUBE-NODEPORTS',
    'KUBE-SERVICES',
    'KUBE-EXTERNAL-SERVICES',
    'KUBE-FIREWALL',
    'KUBE-FORWARD',
    'KUBE-PROXY-FIREWALL',
  ];
  const natChains = ['KUBE-NODEPORTS', 'KUBE-SERVICES', 'KUBE-MARK-MASQ', 'KUBE-POSTROUTING'];
  const filter: string[] = [];
  const nat: string[] = [];

  if (jumpRules) {
    // kube-proxy prepends its jumps (iptables -I), so each built-in chain lists them in the
    // reverse of iptablesJumpChains' order; kubelet adds KUBE-FIREWALL.
    filter.push(
      '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
      '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
      '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
      '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
      '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
      '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
      '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
      '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    );
    if (localhostNodePorts) filter.push('-A INPUT -j KUBE-FIREWALL', '-A OUTPUT -j KUBE-FIREWALL');
    nat.push(
      '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    );
  }

  nat.push(
    `-A KUBE-POSTROUTING -m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`,
    `-A KUBE-POSTROUTING -j MARK --xor-mark ${MASQ_MARK}`,
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    `-A KUBE-MARK-MASQ -j MARK --or-mark ${MASQ_MARK}`,
  );

  const svcRules: string[] = [];
  const nodePortRules: string[] = [];
  const chainRules: string[] = [];
  for (const sp of ports) {
    const r = servicePortIptablesRules(sp, ctx);
    for (const l of r.filter) filter.push(l);
    for (const c of r.natChains) natChains.push(c);
    for (const l of r.nodePorts) nodePortRules.push(l);
    for (const l of r.services) svcRules.push(l);
    for (const l of r.chains) chainRules.push(l);
  }

  // The last rule of KUBE-SERVICES sends local destinations to KUBE-NODEPORTS.
  const loopbackExclusion = family === 6 ? '! -d ::1/128 ' : localhostNodePorts ? '' : '! -d 127.0.0.0/8 ';
  svcRules.push(
    `-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL ${loopbackExclusion}-j KUBE-NODEPORTS`,
  );

  if (localhostNodePorts) {
    filter.push(
      '-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
    );
  }
  if (dropInvalid) filter.push('-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP');
  filter.push(
    `-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark ${MASQ_MARK}/${MASQ_MARK} -j ACCEPT`,
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  );

  const builtins = (names: string[]) => (jumpRules ? names.map((n) => `:${n} ACCEPT [0:0]`) : []);
  const lines = [
    '*filter',
    ...builtins(['INPUT', 'FORWARD', 'OUTPUT']),
    ...filterChains.map((c) => `:${c} - [0:0]`),
    ...filter,
    'COMMIT',
    '*nat',
    ...builtins(['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING']),
    ...natChains.map((c) => `:${c} - [0:0]`),
    ...nat,
    ...nodePortRules,
    ...svcRules,
    ...chainRules,
    'COMMIT',
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * kube-proxy's rules for one service port (syncProxyRules' loop body). `endpointChains` names
 * endpoint chains instead of kube-proxy's hash (iptables-structure.ts passes the names a dump
 * uses, to compare the rest without hashing every endpoint).
 */
export function servicePortIptablesRules(
  sp: ProxyServicePort,
  ctx: ServicePortRenderContext,
  endpointChains?: ReadonlyMap<string, string>,
): ServicePortRules {
  const filter: string[] = [];
  const natChains: string[] = [];
  const nodePorts: string[] = [];
  const services: string[] = [];
  const chains: string[] = [];
  const chainOf: string[] = [];
  const rule = (chain: string, spec: string) => {
    chains.push(`-A ${chain} ${spec}`);
    chainOf.push(chain);
  };
  const comment = (text: string) => (ctx.largeCluster ? '' : `-m comment --comment ${q(text)} `);
  const P = sp.protocol;
  const spn = sp.spn;
  // Each endpoint's chain is named in its chain and in one or two ladders: hash it once.
  const sepNames = new Map<ProxyEndpoint, string>();
  const sepOf = (ep: ProxyEndpoint) => {
    let name = sepNames.get(ep);
    if (!name) {
      name = endpointChains?.get(ep.endpoint) ?? endpointChainName(spn, P, ep.endpoint);
      sepNames.set(ep, name);
    }
    return name;
  };
  const match = (ip: string, port: number) => `-m ${P} -p ${P} -d ${ip} --dport ${port}`;
  const svcChain = servicePortChainName(spn, P);
  const svlChain = servicePortLocalChainName(spn, P);
  const extChain = serviceExternalChainName(spn, P);
  const fwChain = serviceFirewallChainName(spn, P);
  const usesClusterPolicyChain = sp.clusterEndpoints.length > 0 && sp.usesClusterEndpoints;
  const usesLocalPolicyChain = sp.localEndpoints.length > 0 && sp.usesLocalEndpoints;
  const internalChain = sp.internalPolicyLocal ? svlChain : svcChain;
  const externalPolicyChain = sp.externalPolicyLocal ? svlChain : svcChain;
  const usesExt = sp.hasEndpoints && sp.externallyAccessible;
  const usesFW = sp.hasEndpoints && sp.loadBalancerIPs.length > 0 && sp.sourceRanges.length > 0;
  const lbChain = usesFW ? fwChain : extChain;
  let internalTarget = '';
  let internalComment = '';
  let externalTarget = '';
  let externalComment = '';
  if (!sp.hasEndpoints) {
    internalTarget = externalTarget = 'REJECT';
    internalComment = externalComment = `${spn} has no endpoints`;
  } else {
    if (!sp.hasInternalEndpoints) {
      internalTarget = 'DROP';
      internalComment = `${spn} has no local endpoints`;
    }
    if (!sp.hasExternalEndpoints) {
      externalTarget = 'DROP';
      externalComment = `${spn} has no local endpoints`;
    }
  }
  const port = sp.port.port;

  if (sp.hasInternalEndpoints) {
    services.push(
      `-A KUBE-SERVICES -m comment --comment "${spn} cluster IP" ${match(sp.clusterIP, port)} -j ${internalChain}`,
    );
  } else {
    filter.push(
      `-A KUBE-SERVICES -m comment --comment "${internalComment}" ${match(sp.clusterIP, port)} -j ${internalTarget}`,
    );
  }
  for (const eip of sp.externalIPs) {
    if (sp.hasEndpoints) {
      services.push(
        `-A KUBE-SERVICES -m comment --comment "${spn} external IP" ${match(eip, port)} -j ${extChain}`,
      );
    }
    if (!sp.hasExternalEndpoints) {
      filter.push(
        `-A KUBE-EXTERNAL-SERVICES -m comment --comment "${externalComment}" ${match(eip, port)} -j ${externalTarget}`,
      );
    }
  }
  for (const lbip of sp.loadBalancerIPs) {
    if (sp.hasEndpoints) {
      services.push(
        `-A KUBE-SERVICES -m comment --comment "${spn} loadbalancer IP" ${match(lbip, port)} -j ${lbChain}`,
      );
    }
    if (usesFW) {
      filter.push(
        `-A KUBE-PROXY-FIREWALL -m comment --comment "${spn} traffic not accepted by ${fwChain}" ${match(lbip, port)} -j DROP`,
      );
    }
  }
  if (!sp.hasExternalEndpoints) {
    for (const lbip of sp.loadBalancerIPs) {
      filter.push(
        `-A KUBE-EXTERNAL-SERVICES -m comment --comment "${externalComment}" ${match(lbip, port)} -j ${externalTarget}`,
      );
    }
  }
  if (sp.nodePort) {
    if (sp.hasEndpoints) {
      nodePorts.push(
        `-A KUBE-NODEPORTS -m comment --comment ${q(spn)} -m ${P} -p ${P} --dport ${sp.nodePort} -j ${extChain}`,
      );
    }
    if (!sp.hasExternalEndpoints) {
      filter.push(
        `-A KUBE-EXTERNAL-SERVICES -m comment --comment "${externalComment}" -m addrtype --dst-type LOCAL -m ${P} -p ${P} --dport ${sp.nodePort} -j ${externalTarget}`,
      );
    }
  }
  if (sp.healthCheckNodePort) {
    filter.push(
      `-A KUBE-NODEPORTS -m comment --comment "${spn} health check node port" -m tcp -p tcp --dport ${sp.healthCheckNodePort} -j ACCEPT`,
    );
  }

  if (usesExt) natChains.push(extChain);
  if (usesFW) natChains.push(fwChain);
  if (usesClusterPolicyChain) natChains.push(svcChain);
  if (usesLocalPolicyChain) natChains.push(svlChain);

  if (sp.hasInternalEndpoints) {
    const args = `-m comment --comment "${spn} cluster IP" ${match(sp.clusterIP, port)}`;
    if (ctx.masqueradeAll) rule(internalChain, `${args} -j KUBE-MARK-MASQ`);
    else if (ctx.detectorNotLocal) rule(internalChain, `${args} ${ctx.detectorNotLocal} -j KUBE-MARK-MASQ`);
  }
  if (usesExt) {
    if (!sp.externalPolicyLocal) {
      rule(
        extChain,
        `-m comment --comment "masquerade traffic for ${spn} external destinations" -j KUBE-MARK-MASQ`,
      );
    } else {
      if (ctx.detectorLocal) {
        rule(
          extChain,
          `-m comment --comment "pod traffic for ${spn} external destinations" ${ctx.detectorLocal} -j ${svcChain}`,
        );
      }
      rule(
        extChain,
        `-m comment --comment "masquerade LOCAL traffic for ${spn} external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
      );
      rule(
        extChain,
        `-m comment --comment "route LOCAL traffic for ${spn} external destinations" -m addrtype --src-type LOCAL -j ${svcChain}`,
      );
    }
    if (sp.hasExternalEndpoints) rule(extChain, `-j ${externalPolicyChain}`);
  }
  if (usesFW) {
    const head = `-m comment --comment "${spn} loadbalancer IP"`;
    let allowFromNode = false;
    for (const cidr of sp.sourceRanges) {
      rule(fwChain, `${head} -s ${cidr} -j ${extChain}`);
      if (ctx.nodeIP && cidrContains(cidr, ctx.nodeIP)) allowFromNode = true;
    }
    if (allowFromNode)
      for (const lbip of sp.loadBalancerIPs) rule(fwChain, `${head} -s ${lbip} -j ${extChain}`);
    rule(fwChain, `-m comment --comment "other traffic to ${spn} will be dropped by KUBE-PROXY-FIREWALL"`);
  }
  const writeEndpoints = (chain: string, eps: ProxyEndpoint[]) => {
    if (sp.affinityTimeout !== undefined) {
      for (const ep of eps) {
        const sep = sepOf(ep);
        rule(
          chain,
          `${comment(`${spn} -> ${ep.endpoint}`)}-m recent --name ${sep} --rcheck --seconds ${sp.affinityTimeout} --reap -j ${sep}`,
        );
      }
    }
    eps.forEach((ep, i) => {
      const sep = sepOf(ep);
      const stat =
        i < eps.length - 1
          ? `-m statistic --mode random --probability ${computeProbability(eps.length - i)} `
          : '';
      rule(chain, `${comment(`${spn} -> ${ep.endpoint}`)}${stat}-j ${sep}`);
    });
  };
  if (usesClusterPolicyChain) writeEndpoints(svcChain, sp.clusterEndpoints);
  if (usesLocalPolicyChain) writeEndpoints(svlChain, sp.localEndpoints);
  for (const ep of sp.allReachable) {
    const sep = sepOf(ep);
    natChains.push(sep);
    const c = comment(spn);
    rule(sep, `${c}-s ${ep.ip} -j KUBE-MARK-MASQ`);
    const recent = sp.affinityTimeout !== undefined ? `-m recent --name ${sep} --set ` : '';
    rule(sep, `${c}${recent}-m ${P} -p ${P} -j DNAT --to-destination ${ep.endpoint}`);
  }
  return { filter, natChains, nodePorts, services, chains, chainOf };
}

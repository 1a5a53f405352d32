// Test support: what kube-proxy's nftables mode writes for one node, as `nft -f` input (the
// `add …` commands of its transaction; pkg/proxy/nftables/proxier.go setupNFTables/
// syncProxyRules). The tests load it into a kernel or into a bundle; knet never writes it.

import { nftEndpointChainBase, nftServicePortChainBase } from '../../src/analyses/proxy/chain-names.js';
import {
  clusterCIDRFromModel,
  kubeProxyServicePorts,
  nodeIPsOf,
  type ProxyServicePort,
} from '../../src/analyses/proxy/service-ports.js';
import { cidrContains } from '../../src/core/ip.js';
import type { ClusterModel } from '../../src/model/cluster.js';

export interface NftScriptOptions {
  family?: 4 | 6;
  masqueradeAll?: boolean;
  /** --cluster-cidr (ClusterCIDR detector); default: the kube-proxy ConfigMap. */
  clusterCIDR?: string;
  /** Node addresses; default: the Node object's. The first is kube-proxy's primary node IP. */
  nodeIPs?: string[];
  /** 'primary' (nftables default: the node IPs, via @nodeport-ips) or 'all'. */
  nodePortAddresses?: 'primary' | 'all';
  /** Service CIDRs: adds kube-proxy's "Drop traffic to unallocated ClusterIPs" rule. */
  serviceCIDRs?: string[];
}

export function kubeProxyNftScript(
  model: ClusterModel,
  nodeName: string,
  options: NftScriptOptions = {},
): string {
  const family = options.family ?? 4;
  return nftScriptFromPorts(kubeProxyServicePorts(model, nodeName, family), {
    ...options,
    family,
    nodeIPs: options.nodeIPs ?? nodeIPsOf(model, nodeName, family),
    clusterCIDR: options.clusterCIDR ?? clusterCIDRFromModel(model, family),
  });
}

export function nftScriptFromPorts(
  ports: ProxyServicePort[],
  options: NftScriptOptions & { family: 4 | 6; nodeIPs: string[] },
): string {
  const fam = options.family === 4 ? 'ip' : 'ip6';
  const addrType = options.family === 4 ? 'ipv4_addr' : 'ipv6_addr';
  const loopback = options.family === 4 ? '127.0.0.0/8' : '::1';
  const T = `${fam} kube-proxy`;
  const allNodePorts = options.nodePortAddresses === 'all';
  const nodeIP = options.nodeIPs[0];
  const out: string[] = [];
  const decl: string[] = [];
  const rules: string[] = [];
  const elements: string[] = [];
  const chain = (name: string, spec = '') =>
    decl.push(`add chain ${T} ${name}${spec ? ` { ${spec} ; }` : ''}`);
  const rule = (c: string, r: string) => rules.push(`add rule ${T} ${c} ${r}`);
  const element = (set: string, e: string) => elements.push(`add element ${T} ${set} { ${e} }`);
  const notLocal = options.clusterCIDR ? `${fam} saddr != ${options.clusterCIDR}` : undefined;
  const isLocal = options.clusterCIDR ? `${fam} saddr ${options.clusterCIDR}` : undefined;

  out.push(`add table ${T} { comment "rules for kube-proxy" ; }`);
  decl.push(`add set ${T} cluster-ips { type ${addrType} ; comment "Active ClusterIPs" ; }`);
  if (!allNodePorts) {
    decl.push(
      `add set ${T} nodeport-ips { type ${addrType} ; comment "IPs that accept NodePort traffic" ; }`,
    );
  }
  const tuple3 = `${addrType} . inet_proto . inet_service : verdict`;
  decl.push(
    `add map ${T} firewall-ips { type ${tuple3} ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }`,
    `add map ${T} no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }`,
    `add map ${T} no-endpoint-services { type ${tuple3} ; comment "vmap to drop or reject packets to services with no endpoints" ; }`,
    `add map ${T} service-ips { type ${tuple3} ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`,
    `add map ${T} service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }`,
  );
  for (const [name, spec, jumps] of [
    [
      'filter-prerouting-pre-dnat',
      'type filter hook prerouting priority -110',
      ['ct state new jump firewall-check'],
    ],
    ['filter-output-pre-dnat', 'type filter hook output priority -110', ['ct state new jump firewall-check']],
    [
      'filter-input',
      'type filter hook input priority 0',
      ['ct state new jump nodeport-endpoints-check', 'ct state new jump service-endpoints-check'],
    ],
    [
      'filter-forward',
      'type filter hook forward priority 0',
      ['ct state new jump service-endpoints-check', 'ct state new jump cluster-ips-check'],
    ],
    [
      'filter-output',
      'type filter hook output priority 0',
      ['ct state new jump service-endpoints-check', 'ct state new jump cluster-ips-check'],
    ],
    ['nat-output', 'type nat hook output priority -100', ['jump services']],
    ['nat-postrouting', 'type nat hook postrouting priority 100', ['jump masquerading']],
    ['nat-prerouting', 'type nat hook prerouting priority -100', ['jump services']],
  ] as const) {
    chain(name, spec);
    for (const j of jumps) rule(name, j);
  }
  chain('cluster-ips-check');
  rule(
    'cluster-ips-check',
    `${fam} daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"`,
  );
  if (options.serviceCIDRs?.length) {
    rule(
      'cluster-ips-check',
      `${fam} daddr { ${options.serviceCIDRs.join(', ')} } drop comment "Drop traffic to unallocated ClusterIPs"`,
    );
  }
  chain('firewall-check');
  rule('firewall-check', `${fam} daddr . meta l4proto . th dport vmap @firewall-ips`);
  chain('mark-for-masquerade');
  rule('mark-for-masquerade', 'mark set mark or 0x4000');
  chain('masquerading');
  rule('masquerading', 'mark and 0x4000 == 0 return');
  rule('masquerading', 'mark set mark xor 0x4000');
  rule('masquerading', 'masquerade fully-random');
  chain('nodeport-endpoints-check');
  chain('reject-chain', 'comment "helper for @no-endpoint-services / @no-endpoint-nodeports"');
  rule('reject-chain', 'reject');
  chain('services');
  chain('service-endpoints-check');
  rule('services', `${fam} daddr . meta l4proto . th dport vmap @service-ips`);
  if (allNodePorts) {
    rule(
      'services',
      `fib daddr type local ${fam} daddr != ${loopback} meta l4proto . th dport vmap @service-nodeports`,
    );
    rule(
      'nodeport-endpoints-check',
      `${fam} daddr != ${loopback} meta l4proto . th dport vmap @no-endpoint-nodeports`,
    );
  } else {
    rule('services', `${fam} daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports`);
    rule(
      'nodeport-endpoints-check',
      `${fam} daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports`,
    );
    for (const ip of options.nodeIPs) element('nodeport-ips', ip);
  }
  rule('service-endpoints-check', `${fam} daddr . meta l4proto . th dport vmap @no-endpoint-services`);

  for (const sp of ports) {
    const { namespace, name } = sp.service;
    const P = sp.protocol;
    const base = nftServicePortChainBase(namespace, name, P, sp.port.name);
    const svcChain = `service-${base}`;
    const svlChain = `local-${base}`;
    const extChain = `external-${base}`;
    const fwChain = `firewall-${base}`;
    const port = sp.port.port;
    const usesCluster = sp.clusterEndpoints.length > 0 && sp.usesClusterEndpoints;
    const usesLocal = sp.localEndpoints.length > 0 && sp.usesLocalEndpoints;
    const internalChain = sp.internalPolicyLocal ? svlChain : svcChain;
    const externalPolicyChain = sp.externalPolicyLocal ? svlChain : svcChain;
    const usesExt = sp.hasEndpoints && sp.externallyAccessible;
    const usesFW = sp.loadBalancerIPs.length > 0 && sp.sourceRanges.length > 0;
    const noEpVerdict = (internal: boolean) =>
      !sp.hasEndpoints
        ? 'goto reject-chain'
        : (internal ? !sp.hasInternalEndpoints : !sp.hasExternalEndpoints)
          ? 'drop'
          : '';
    const epBase = (ep: ProxyServicePort['endpoints'][number]) =>
      nftEndpointChainBase(namespace, name, P, sp.port.name, ep.ip, ep.port);

    element('cluster-ips', sp.clusterIP);
    if (sp.hasInternalEndpoints)
      element('service-ips', `${sp.clusterIP} . ${P} . ${port} : goto ${internalChain}`);
    else
      element(
        'no-endpoint-services',
        `${sp.clusterIP} . ${P} . ${port} comment "${sp.spn}" : ${noEpVerdict(true)}`,
      );
    for (const ip of [...sp.externalIPs, ...sp.loadBalancerIPs]) {
      if (sp.hasEndpoints) element('service-ips', `${ip} . ${P} . ${port} : goto ${extChain}`);
      if (!sp.hasExternalEndpoints) {
        element('no-endpoint-services', `${ip} . ${P} . ${port} comment "${sp.spn}" : ${noEpVerdict(false)}`);
      }
    }
    if (usesFW)
      for (const ip of sp.loadBalancerIPs)
        element('firewall-ips', `${ip} . ${P} . ${port} : goto ${fwChain}`);
    if (sp.nodePort) {
      if (sp.hasEndpoints) element('service-nodeports', `${P} . ${sp.nodePort} : goto ${extChain}`);
      if (!sp.hasExternalEndpoints) {
        element('no-endpoint-nodeports', `${P} . ${sp.nodePort} comment "${sp.spn}" : ${noEpVerdict(false)}`);
      }
    }

    if (usesCluster) chain(svcChain);
    if (usesLocal) chain(svlChain);
    if (sp.hasInternalEndpoints) {
      if (options.masqueradeAll) rule(internalChain, `${fam} daddr ${sp.clusterIP} jump mark-for-masquerade`);
      else if (notLocal)
        rule(internalChain, `${fam} daddr ${sp.clusterIP} ${notLocal} jump mark-for-masquerade`);
    }
    if (usesExt) {
      chain(extChain);
      if (!sp.externalPolicyLocal) {
        rule(extChain, 'jump mark-for-masquerade');
      } else {
        if (isLocal) rule(extChain, `${isLocal} goto ${svcChain} comment "short-circuit pod traffic"`);
        rule(extChain, 'fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"');
        rule(extChain, `fib saddr type local goto ${svcChain} comment "short-circuit local traffic"`);
      }
      if (sp.hasExternalEndpoints) rule(extChain, `goto ${externalPolicyChain}`);
    }
    if (usesFW) {
      chain(fwChain);
      const sources = [...sp.sourceRanges];
      if (nodeIP && sp.sourceRanges.some((c) => cidrContains(c, nodeIP))) sources.push(...sp.loadBalancerIPs);
      rule(fwChain, `${fam} saddr != { ${sources.join(', ')} } drop`);
    }
    const writeEndpoints = (c: string, eps: ProxyServicePort['endpoints']) => {
      if (sp.affinityTimeout !== undefined) {
        for (const ep of eps) rule(c, `${fam} saddr @affinity-${epBase(ep)} goto endpoint-${epBase(ep)}`);
      }
      const vmap = eps.map((ep, i) => `${i} : goto endpoint-${epBase(ep)}`).join(' , ');
      rule(c, `numgen random mod ${eps.length} vmap { ${vmap} }`);
    };
    if (usesCluster) writeEndpoints(svcChain, sp.clusterEndpoints);
    if (usesLocal) writeEndpoints(svlChain, sp.localEndpoints);
    for (const ep of sp.allReachable) {
      const b = epBase(ep);
      chain(`endpoint-${b}`);
      rule(`endpoint-${b}`, `${fam} saddr ${ep.ip} jump mark-for-masquerade`);
      if (sp.affinityTimeout !== undefined) {
        decl.push(
          `add set ${T} affinity-${b} { type ${addrType} ; flags dynamic,timeout ; timeout ${sp.affinityTimeout}s ; }`,
        );
        rule(`endpoint-${b}`, `update @affinity-${b} { ${fam} saddr }`);
      }
      const dest = options.family === 6 ? `[${ep.ip}]:${ep.port}` : `${ep.ip}:${ep.port}`;
      rule(`endpoint-${b}`, `meta l4proto ${P} dnat to ${dest}`);
    }
  }
  return `${[...out, ...decl, ...rules, ...elements].join('\n')}\n`;
}

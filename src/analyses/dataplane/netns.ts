// A network namespace on the packet's path — a node's host namespace or a pod's own — with
// the typed state the kernel decides with: netfilter rules, routes and policy rules, links,
// addresses, sysctls, listening sockets. Built from the model's parsed node files; a missing
// file stays undefined so that the walk can say which file would have decided.

import { isIP, normalizeIP } from '../../core/ip.js';
import type { ClusterModel } from '../../model/cluster.js';
import { type ListeningSocket, nodeState } from '../../model/node-state.js';
import type { Pod } from '../../model/types.js';
import type { IpAddrInterface, IpLink, IpRoute, IpRule } from '../../parsers/iproute2.js';
import { buildIpvsIpsets, ipsetResolver } from '../proxy/ipsets.js';
import { isLocalAddress, loadNodeProxy, type NodeProxyRules, PROXY_FILES } from '../proxy/simulate.js';
import type { NetfilterRules } from './netfilter.js';

export interface Netns {
  kind: 'node' | 'pod';
  /** The node the namespace lives on. */
  node: string;
  /** For messages: "node demo-worker", "pod shop/api-1". */
  label: string;
  /** For a finding's objects: node/NAME or pod/NS/NAME. */
  object: string;
  /** undefined: no netfilter file of this namespace is in the bundle. */
  rules?: NetfilterRules;
  /** The bundle files that hold (or would hold) the namespace's rules. */
  ruleFiles: string[];
  /** kube-proxy's view of the node (node namespaces with rules only): service index, IPVS. */
  proxy?: NodeProxyRules;
  routes?: IpRoute[];
  ipRules?: IpRule[];
  links?: IpLink[];
  addrs?: IpAddrInterface[];
  sysctl?: ReadonlyMap<string, string>;
  listening?: ListeningSocket[];
  /** The bundle path of one of the namespace's files. */
  describe(file: string): string;
}

const ipvsSets = new WeakMap<NodeProxyRules, ReturnType<typeof buildIpvsIpsets>>();

/** The host namespace of a node. */
export function nodeNetns(model: ClusterModel, node: string): Netns {
  const state = nodeState(model, node);
  const proxy = loadNodeProxy(model, node);
  let rules: NetfilterRules | undefined;
  if (proxy) {
    let ipsets: NetfilterRules['ipsets'];
    if (proxy.mode === 'ipvs') {
      let sets = ipvsSets.get(proxy);
      if (!sets) {
        sets = buildIpvsIpsets(proxy.index, proxy.ipvs, proxy.nodeAddresses);
        ipvsSets.set(proxy, sets);
      }
      ipsets = ipsetResolver(sets, new Set());
    }
    rules = {
      iptables: proxy.iptables,
      ip6tables: proxy.ip6tables,
      nft: proxy.nft,
      isLocal: (ip) => isLocalAddress(proxy, ip),
      ipsets,
    };
  }
  return {
    kind: 'node',
    node,
    label: `node ${node}`,
    object: `node/${node}`,
    rules,
    ruleFiles: [PROXY_FILES.iptables, PROXY_FILES.nft].map((f) => state.describe(f)),
    proxy,
    routes: state.routes,
    ipRules: state.ipRules,
    links: state.links,
    addrs: state.addrs,
    sysctl: state.sysctl,
    listening: state.listening,
    describe: (f) => state.describe(f),
  };
}

/** A pod's own network namespace (hostNetwork pods share the node's: use nodeNetns). */
export function podNetns(model: ClusterModel, pod: Pod): Netns {
  const node = pod.nodeName ?? '';
  const state = nodeState(model, node);
  const net = state.pod(pod);
  const dir = `pods/${pod.namespace}_${pod.name}`;
  const own = new Set(
    [...pod.ips, ...(net.addrs ?? []).flatMap((i) => i.addresses.map((a) => a.local))]
      .filter(isIP)
      .map(normalizeIP),
  );
  const isLocal = (ip: string) => {
    if (!isIP(ip)) return false;
    const n = normalizeIP(ip);
    return own.has(n) || n.startsWith('127.') || n === '::1';
  };
  const hasRules = net.iptables || net.ip6tables || net.nft;
  return {
    kind: 'pod',
    node,
    label: `pod ${pod.namespace}/${pod.name}`,
    object: `pod/${pod.namespace}/${pod.name}`,
    rules: hasRules ? { iptables: net.iptables, ip6tables: net.ip6tables, nft: net.nft, isLocal } : undefined,
    ruleFiles: ['iptables-save.txt', 'nft.json'].map((f) => state.describe(`${dir}/${f}`)),
    routes: net.routes,
    addrs: net.addrs,
    listening: net.listening,
    describe: (f) => state.describe(`${dir}/${f}`),
  };
}

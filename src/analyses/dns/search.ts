// How a pod's resolver turns a name into queries: its resolv.conf (the pod's own file from
// the bundle, or the one kubelet writes for its dnsPolicy) and the search list in glibc's
// order. The walk through that list is core/dns.ts's walkSearch.
import type { SearchPlan } from '../../core/dns.js';
import type { ClusterModel } from '../../model/cluster.js';
import { nodeState } from '../../model/node-state.js';
import type { Pod } from '../../model/types.js';
import { clusterDomainOf } from './expected.js';
import { normalizeName } from './names.js';
import type { ResolvConf } from './types.js';

/** kubelet's limits (ExpandedDNSConfig, GA in 1.28): 3 nameservers, 32 search domains, 2048 chars. */
export const KUBELET_MAX_NAMESERVERS = 3;
export const KUBELET_MAX_SEARCH = 32;
export const KUBELET_MAX_SEARCH_CHARS = 2048;

export interface ResolverOptions {
  /** Default: clusterDomainOf(model), else cluster.local. */
  clusterDomain?: string;
}

/**
 * The resolver configuration of `pod`: its own /etc/resolv.conf when the bundle has it,
 * else the file kubelet would write for its dnsPolicy and dnsConfig.
 */
export function resolverConfigFor(model: ClusterModel, pod: Pod, options: ResolverOptions = {}): ResolvConf {
  const own = pod.nodeName ? nodeState(model, pod.nodeName).podResolvConf(pod) : undefined;
  return own ?? kubeletResolvConf(model, pod, options);
}

function dedup(list: string[]): string[] {
  return [...new Set(list)];
}

/** What kubelet writes for the pod (pkg/kubelet/network/dns/dns.go GetPodDNS). */
export function kubeletResolvConf(model: ClusterModel, pod: Pod, options: ResolverOptions = {}): ResolvConf {
  const zone = normalizeName(options.clusterDomain ?? clusterDomainOf(model) ?? 'cluster.local');
  const unknown: string[] = [];
  const warnings: string[] = [];
  const origin: string[] = [];

  // The node's resolver file (kubelet --resolv-conf): a bundle may carry it as nodes/NODE/resolv.conf.
  const node = pod.nodeName ? nodeState(model, pod.nodeName).resolvConf : undefined;

  const kubeDns = model.service('kube-system', 'kube-dns');
  const clusterDNS = kubeDns?.clusterIPs ?? [];

  let policy = pod.dnsPolicy || 'ClusterFirst';
  if (policy === 'ClusterFirst' && pod.hostNetwork) {
    policy = 'Default';
    origin.push('dnsPolicy ClusterFirst with hostNetwork falls back to Default');
  }
  if ((policy === 'ClusterFirst' || policy === 'ClusterFirstWithHostNet') && clusterDNS.length === 0) {
    unknown.push(`kubelet's clusterDNS (no kube-system/kube-dns Service to take it from)`);
  }

  let nameservers: string[] = [];
  let search: string[] = [];
  let opts: Record<string, string | true> = {};
  if (policy === 'ClusterFirst' || policy === 'ClusterFirstWithHostNet') {
    origin.push(`dnsPolicy ${pod.dnsPolicy || 'ClusterFirst'}: cluster DNS, cluster search list, ndots:5`);
    nameservers = [...clusterDNS];
    search = [`${pod.namespace}.svc.${zone}`, `svc.${zone}`, zone];
    if (node) search.push(...node.search);
    else
      unknown.push(
        `the node's search domains (kubelet appends them; add nodes/${pod.nodeName ?? 'NODE'}/resolv.conf)`,
      );
    opts = { ndots: '5' };
  } else if (policy === 'Default') {
    origin.push(`dnsPolicy Default: the node's resolv.conf`);
    if (node) {
      nameservers = [...node.nameservers];
      search = [...node.search];
      opts = { ...node.options };
    } else {
      unknown.push(
        `the node's resolv.conf (dnsPolicy Default copies it; add nodes/${pod.nodeName ?? 'NODE'}/resolv.conf)`,
      );
    }
  } else if (policy === 'None') {
    origin.push('dnsPolicy None: only dnsConfig');
  } else {
    warnings.push(`unknown dnsPolicy "${policy}"`);
  }

  if (pod.dnsConfig) {
    origin.push('merged with the pod spec dnsConfig');
    nameservers.push(...pod.dnsConfig.nameservers);
    search.push(...pod.dnsConfig.searches);
    for (const o of pod.dnsConfig.options) opts[o.name] = o.value ?? true;
  }
  if (policy === 'None' && nameservers.length === 0) {
    warnings.push(
      'dnsPolicy None needs at least one dnsConfig nameserver (the API rejects the pod otherwise)',
    );
  }
  nameservers = dedup(nameservers);
  if (nameservers.length > KUBELET_MAX_NAMESERVERS) {
    warnings.push(
      `kubelet keeps the first ${KUBELET_MAX_NAMESERVERS} nameservers: ${nameservers.slice(3).join(', ')} dropped`,
    );
    nameservers = nameservers.slice(0, KUBELET_MAX_NAMESERVERS);
  }
  search = dedup(search.map((s) => s.replace(/\.$/, '')).filter((s) => s !== '' && s.length <= 253));
  if (search.length > KUBELET_MAX_SEARCH) {
    warnings.push(`kubelet keeps the first ${KUBELET_MAX_SEARCH} search domains`);
    search = search.slice(0, KUBELET_MAX_SEARCH);
  }
  while (search.join(' ').length > KUBELET_MAX_SEARCH_CHARS) {
    warnings.push(`search list longer than ${KUBELET_MAX_SEARCH_CHARS} characters: ${search.pop()} dropped`);
  }
  const ndotsText = typeof opts.ndots === 'string' ? opts.ndots : undefined;
  return {
    nameservers,
    search,
    ndots: ndotsText !== undefined && /^\d+$/.test(ndotsText) ? Math.min(15, Number(ndotsText)) : 1,
    options: opts,
    source: 'kubelet',
    origin: origin.join('; '),
    unknown,
    warnings,
  };
}

/** searchPlan's queries: the names the pod's resolver sends, in order. */
export function expandQueries(name: string, conf: Pick<ResolvConf, 'search' | 'ndots'>): string[] {
  return searchPlan(name, conf).queries;
}

/**
 * The names the pod's resolver queries for `name`, in order (glibc res_search): a trailing
 * dot means exactly that name; with at least `ndots` dots the name as-is comes first, then
 * the search list; with fewer, the search list first and the name as-is last.
 */
export function searchPlan(name: string, conf: Pick<ResolvConf, 'search' | 'ndots'>): SearchPlan {
  const trimmed = name.trim();
  if (trimmed.endsWith('.')) return { queries: [normalizeName(trimmed)], asIsFirst: false, asIsLast: false };
  const base = normalizeName(trimmed);
  const dots = base.split('.').length - 1;
  const searched = dedup(conf.search.map((d) => normalizeName(`${base}.${d}`))).filter((n) => n !== base);
  if (searched.length === 0) return { queries: [base], asIsFirst: false, asIsLast: false };
  return dots >= conf.ndots
    ? { queries: [base, ...searched], asIsFirst: true, asIsLast: false }
    : { queries: [...searched, base], asIsFirst: false, asIsLast: true };
}

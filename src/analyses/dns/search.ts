// How a pod's resolver turns a name into queries: its resolv.conf (the pod's own file from
// the bundle, or the one kubelet writes for its dnsPolicy) and the glibc search-list walk.
import type { ClusterModel } from '../../model/cluster.js';
import type { NodeFiles } from '../../model/node-files.js';
import type { Pod } from '../../model/types.js';
import { parseResolvConf } from '../../parsers/resolv-conf.js';
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

/** The bundle path of a pod's resolv.conf, below nodes/NODE/. */
export function podResolvConfPath(pod: Pod): string {
  return `pods/${pod.namespace}_${pod.name}/resolv.conf`;
}

/**
 * The resolver configuration of `pod`: its own /etc/resolv.conf when the bundle has it,
 * else the file kubelet would write for its dnsPolicy and dnsConfig.
 */
export function resolverConfigFor(
  model: ClusterModel,
  pod: Pod,
  files: NodeFiles = model.nodeFiles,
  options: ResolverOptions = {},
): ResolvConf {
  if (pod.nodeName) {
    const path = podResolvConfPath(pod);
    const text = files.read(pod.nodeName, path);
    if (text !== undefined) return parseResolvConf(text, files.describe(pod.nodeName, path));
  }
  return kubeletResolvConf(model, pod, files, options);
}

function dedup(list: string[]): string[] {
  return [...new Set(list)];
}

/** What kubelet writes for the pod (pkg/kubelet/network/dns/dns.go GetPodDNS). */
export function kubeletResolvConf(
  model: ClusterModel,
  pod: Pod,
  files: NodeFiles = model.nodeFiles,
  options: ResolverOptions = {},
): ResolvConf {
  const zone = normalizeName(options.clusterDomain ?? clusterDomainOf(model) ?? 'cluster.local');
  const unknown: string[] = [];
  const warnings: string[] = [];
  const origin: string[] = [];

  // The node's resolver file (kubelet --resolv-conf): a bundle may carry it as nodes/NODE/resolv.conf.
  const nodePath = 'resolv.conf';
  const nodeText = pod.nodeName ? files.read(pod.nodeName, nodePath) : undefined;
  const node =
    nodeText !== undefined && pod.nodeName
      ? parseResolvConf(nodeText, files.describe(pod.nodeName, nodePath))
      : undefined;

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

/** The queries for a name, and where the name as-is sits among them. */
export interface SearchPlan {
  queries: string[];
  /** The name as-is is the first query (it has at least ndots dots). */
  asIsFirst: boolean;
  /** The name as-is is the last query (fewer than ndots dots). */
  asIsLast: boolean;
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

/**
 * How one query of the walk ended. `answer`: records of the asked type; the walk stops.
 * glibc goes on after `nxdomain`, `nodata` and `servfail`, and gives up on anything else.
 */
export type StepOutcome = 'answer' | 'nodata' | 'nxdomain' | 'servfail' | 'error' | 'no-response' | 'unknown';

export interface SearchStep {
  query: string;
  outcome: StepOutcome;
  /** false: the resolver never sends it (an earlier query ended the walk). */
  sent: boolean;
}

export interface SearchWalk {
  steps: SearchStep[];
  /** The query whose answer the application gets. */
  answeredBy?: string;
  /** An earlier step's outcome is unknown (outside the cluster, offline): the result is conditional. */
  conditional: boolean;
  /** The step that ended the walk without an answer (no response, REFUSED, …). */
  stoppedBy?: string;
}

/**
 * Walks the queries as glibc's __res_context_search does: the first answer ends the walk.
 * The name as-is tried first never ends it. In the search list, NXDOMAIN, NODATA and
 * SERVFAIL go on to the next domain; anything else (REFUSED, no response) leaves the list,
 * and then the name as-is is still tried when it comes last.
 */
export function walkSearch(
  candidates: string[],
  outcomeOf: (name: string) => StepOutcome,
  shape: { asIsFirst?: boolean; asIsLast?: boolean } = {},
): SearchWalk {
  const steps: SearchStep[] = [];
  let answered = false;
  let leftList = false;
  let answeredBy: string | undefined;
  let stoppedBy: string | undefined;
  let conditional = false;
  candidates.forEach((query, i) => {
    const isAsIsLast = shape.asIsLast === true && i === candidates.length - 1;
    if (answered || (leftList && !isAsIsLast)) {
      steps.push({ query, outcome: 'unknown', sent: false });
      return;
    }
    const outcome = outcomeOf(query);
    steps.push({ query, outcome, sent: true });
    if (outcome === 'answer') {
      answeredBy = query;
      answered = true;
    } else if (outcome === 'unknown') {
      conditional = true;
    } else if ((outcome === 'error' || outcome === 'no-response') && !(shape.asIsFirst && i === 0)) {
      stoppedBy ??= query;
      leftList = true;
    }
  });
  return { steps, answeredBy, conditional, stoppedBy };
}

// The kube-system ConfigMaps knet reads by name: kube-proxy (mode, cluster CIDR), coredns
// (Corefile) and cilium-config (whether Cilium replaces kube-proxy). Optional: without
// permission the proxy mode, the DNS settings and Cilium's kube-proxy replacement are unknown.
import type { Raw } from '../../model/normalize.js';
import { ApiError, type KubeClient } from './client.js';
import { getObject } from './list.js';
import { RESOURCES } from './resources.js';

/**
 * The kube-system ConfigMaps knet reads (proxy mode, cluster CIDR; Corefile; Cilium's
 * kube-proxy replacement). Never Secrets.
 */
export const SYSTEM_CONFIGMAPS = ['kube-proxy', 'coredns', 'cilium-config'] as const;

/** What stays unknown without a ConfigMap of SYSTEM_CONFIGMAPS (a 403). */
const UNKNOWN_WITHOUT: Record<(typeof SYSTEM_CONFIGMAPS)[number], string> = {
  'kube-proxy': 'the kube-proxy mode and DNS settings are unknown',
  coredns: 'the kube-proxy mode and DNS settings are unknown',
  'cilium-config': 'whether Cilium replaces kube-proxy is known from its DaemonSet only',
};

/** One of SYSTEM_CONFIGMAPS, or nothing (absent, or forbidden: then a warning). */
export async function readSystemConfigMap(
  client: KubeClient,
  name: (typeof SYSTEM_CONFIGMAPS)[number],
  warnings: string[],
): Promise<Raw[]> {
  try {
    const cm = await getObject(client, RESOURCES.configmaps, 'kube-system', name);
    return cm ? [cm] : [];
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) {
      warnings.push(`${err.message}: ${UNKNOWN_WITHOUT[name]}`);
      return [];
    }
    throw err;
  }
}

// The two kube-system ConfigMaps knet reads by name: kube-proxy (mode, cluster CIDR) and
// coredns (Corefile). Optional: without permission the proxy mode and DNS settings are unknown.
import type { Raw } from '../../model/normalize.js';
import { ApiError, type KubeClient } from './client.js';
import { getObject } from './list.js';
import { RESOURCES } from './resources.js';

/** The kube-system ConfigMaps knet reads (proxy mode, cluster CIDR; Corefile). Never Secrets. */
export const SYSTEM_CONFIGMAPS = ['kube-proxy', 'coredns'] as const;

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
      warnings.push(`${err.message}: the kube-proxy mode and DNS settings are unknown`);
      return [];
    }
    throw err;
  }
}

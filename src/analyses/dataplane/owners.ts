// Which node an address belongs to: by pod CIDR, or as one of the node's own addresses.

import { normalizeIP } from '../../core/ip.js';
import type { ClusterModel } from '../../model/cluster.js';
import { nodeState } from '../../model/node-state.js';

/** The node whose pod CIDR holds `ip`. */
export function nodeOwningPodIP(model: ClusterModel, ip: string): string | undefined {
  return model.nodeWithPodCIDR(ip)?.name;
}

/** The node that has `ip` as an InternalIP/ExternalIP, or on one of its interfaces. */
export function nodeWithAddress(model: ClusterModel, ip: string): string | undefined {
  const byApi = model.nodeByIP(ip)?.name;
  if (byApi) return byApi;
  const k = normalizeIP(ip);
  for (const name of model.nodeFiles.nodes()) {
    const addrs = nodeState(model, name).addrs;
    if (addrs?.some((i) => i.addresses.some((a) => normalizeIP(a.local) === k))) return name;
  }
  return undefined;
}

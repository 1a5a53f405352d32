// knet nodes -o wide: what the model knows about each node beyond the NodeList items.
import type { ClusterModel } from '../model/cluster.js';
import { detectNodeDataplane, type NodeDataplane } from './dataplane/detect.js';

/** -o wide: what the model knows beyond the NodeList items, per node. */
export interface NodeWideInfo {
  externalIPs: string[];
  /** The source has this node's files (iptables-save, ip -j …): traces through it are decided. */
  nodeData: boolean;
  /** Who translates Services and who connects the pods on this node (detectNodeDataplane). */
  dataplane?: NodeDataplane;
}

/** NodeWideInfo of every node; the dataplane only when asked (it reads kube-system's objects). */
export function nodeWideInfo(
  model: ClusterModel,
  options: { dataplane: boolean },
): Map<string, NodeWideInfo> {
  const withFiles = new Set(model.nodeFiles.nodes());
  return new Map(
    model.nodes.map((n) => [
      n.name,
      {
        externalIPs: n.externalIPs,
        nodeData: withFiles.has(n.name),
        dataplane: options.dataplane ? detectNodeDataplane(model, n.name) : undefined,
      },
    ]),
  );
}

// The dataplane of the node a trace starts on, said only when it is not kube-proxy and a bridge
// (the textbook case every trace assumes): Cilium's kube-proxy replacement, a routed CNI, a VPC CNI.
import type { ClusterModel } from '../../model/cluster.js';
import {
  describeDataplane,
  detectNodeDataplane,
  isTextbook,
  type NodeDataplane,
} from '../dataplane/detect.js';
import type { TraceResult } from './types.js';

export type SourceDataplane = NodeDataplane & { node: string; summary: string };

/** The source node's dataplane (an external source: the node it enters by), unless textbook. */
export function sourceDataplane(
  model: ClusterModel,
  result: TraceResult,
  viaNode: string | undefined,
): SourceDataplane | undefined {
  const node = result.source.kind === 'Node' ? result.source.name : (result.source.node ?? viaNode);
  if (!node || !model.node(node)) return undefined;
  const d = detectNodeDataplane(model, node);
  return isTextbook(d) ? undefined : { node, summary: describeDataplane(d), ...d };
}

// knet snapshot's steps, in order: read the objects of a live cluster, choose the nodes and the
// pods whose files to copy, collect those files into the bundle, describe it in meta.json.
import { UserError } from '../../core/errors.js';
import type { Raw } from '../../model/normalize.js';
import type { CollectOptions, PodOnPath } from '../kube/collect.js';
import {
  ALL_KINDS,
  DEFAULT_OPTIONAL,
  type LiveCluster,
  type LiveOptions,
  readLiveCluster,
} from '../kube/read.js';
import type { BundleWriter, SnapshotMeta } from './write.js';

/** Every kind a bundle holds (never Secrets), read through the Kubernetes API. */
export function readSnapshotObjects(
  opts: Pick<LiveOptions, 'kubeconfig' | 'context' | 'namespace' | 'allNamespaces' | 'progress'>,
): Promise<LiveCluster> {
  return readLiveCluster({
    ...opts,
    kinds: [...ALL_KINDS],
    // A bundle without the edges is still a bundle (meta.json says what was forbidden);
    // without NetworkPolicies a trace on it would lie, so they stay required.
    optional: [...DEFAULT_OPTIONAL, 'ingresses', 'ingressclasses'],
  });
}

/** The nodes whose files to collect: the named ones (each must exist), else every node. */
export function nodesToCollect(raws: readonly Raw[], names: readonly string[] | undefined): string[] {
  const known = raws.filter((o) => o.kind === 'Node').map((o) => String(o.metadata?.name));
  const nodes = names ? [...names] : known;
  const unknown = nodes.filter((n) => !known.includes(n));
  if (unknown.length) throw new UserError(`no such node: ${unknown.join(', ')} (nodes: ${known.join(', ')})`);
  return nodes;
}

/** The running pods on these nodes (not on the host network) whose own view is copied too. */
export function podsToCollect(raws: readonly Raw[], nodes: readonly string[]): PodOnPath[] {
  const wanted = new Set(nodes);
  return raws
    .filter(
      (o) =>
        o.kind === 'Pod' &&
        wanted.has(o.spec?.nodeName) &&
        o.spec?.hostNetwork !== true &&
        o.status?.phase === 'Running' &&
        o.metadata?.uid,
    )
    .map((o) => ({
      namespace: String(o.metadata.namespace),
      name: String(o.metadata.name),
      node: String(o.spec.nodeName),
      uid: String(o.metadata.uid),
    }));
}

export interface CollectedIntoBundle {
  /** The nodes whose files were written, sorted. */
  collected: string[];
  nodeErrors: { node: string; message: string }[];
  /** What to say on stderr after the progress line is cleared. */
  warnings: string[];
}

/** Collects the node (and pod) files through debug pods, writing each node's as it arrives. */
export async function collectIntoBundle(
  writer: BundleWriter,
  options: Omit<CollectOptions, 'sink'>,
  nodes: string[],
  pods: PodOnPath[],
): Promise<CollectedIntoBundle> {
  const { collectNodeFiles } = await import('../kube/collect.js');
  const collected: string[] = [];
  const result = await collectNodeFiles(
    {
      ...options,
      sink: (node, files) => {
        writer.writeNodeFiles(node, files);
        collected.push(node);
      },
    },
    nodes,
    pods,
  );
  const warnings = [
    ...result.errors.map((e) => `node ${e.node}: ${e.message}`),
    // A node file that could not be read (the Cilium agent's table, a tool that failed); a pod
    // that is gone or has no process left is the usual churn and is not reported.
    ...result.warnings
      .filter((w) => !w.message.startsWith('pods/'))
      .map((w) => `node ${w.node}: ${w.message}`),
    ...result.notes,
  ];
  return { collected: collected.sort(), nodeErrors: result.errors, warnings };
}

/** meta.json: where and when the bundle was read, its scope, and what could not be read. */
export function snapshotMeta(
  live: LiveCluster,
  namespace: string | undefined,
  nodes: Pick<CollectedIntoBundle, 'collected' | 'nodeErrors'>,
): Omit<SnapshotMeta, 'knetVersion' | 'objects'> {
  return {
    capturedAt: new Date().toISOString(),
    context: live.context,
    server: live.server,
    namespace,
    allNamespaces: namespace === undefined,
    nodes: nodes.collected,
    nodeErrors: nodes.nodeErrors,
    absentKinds: live.absent,
    forbiddenKinds: live.forbidden,
  };
}

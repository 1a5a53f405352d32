// Whom knet dns asks, and how: the server given with --server, or live each ready CoreDNS
// replica over an API port-forward (DNS over TCP; nothing is created in the cluster).
import { UserError } from '../../core/errors.js';
import type { ClusterModel } from '../../model/cluster.js';
import type { Pod } from '../../model/types.js';
import type { ConnectOptions } from '../kube/config.js';
import { parseServer, type QueryOptions } from './client.js';
import { askReplicas, askWalk } from './walk.js';

type Plan = Parameters<typeof askWalk>[1];
type QueryType = Parameters<typeof askWalk>[2];

/** The --server text (IP[:PORT]) as IP:PORT, and its answers to the walk's queries. */
export async function askServer(
  text: string,
  plan: Plan,
  type: QueryType,
  opts: QueryOptions,
): Promise<{ server: string; results: Awaited<ReturnType<typeof askWalk>> }> {
  let target: { host: string; port: number };
  try {
    target = parseServer(text);
  } catch (err) {
    throw new UserError((err as Error).message);
  }
  const server = target.host.includes(':')
    ? `[${target.host}]:${target.port}`
    : `${target.host}:${target.port}`;
  return { server, results: await askWalk(target, plan, type, opts) };
}

/** The CoreDNS pods that get queries (ready and running) and the container port they serve DNS on. */
export function coreDnsReplicas(model: ClusterModel): { pod: Pod; port: number }[] {
  return model
    .podsMatchingLabels('kube-system', { 'k8s-app': 'kube-dns' })
    .filter((p) => p.ready && p.phase === 'Running')
    .map((pod) => ({
      pod,
      port:
        pod.containers.flatMap((c) => c.ports).find((cp) => cp.containerPort === 53 || cp.name === 'dns-tcp')
          ?.containerPort ?? 53,
    }));
}

/** Each CoreDNS replica's answers to the walk's queries; undefined when none is ready. */
export async function askCoreDnsReplicas(
  model: ClusterModel,
  kube: ConnectOptions,
  plan: Plan,
  type: QueryType,
  opts: QueryOptions,
): Promise<Awaited<ReturnType<typeof askReplicas>> | undefined> {
  // The Kubernetes client loads only here, never for a bundle.
  const { connectKube } = await import('../kube/config.js');
  const { openPodTcp } = await import('../kube/portforward.js');
  const conn = await connectKube(kube);
  const replicas = coreDnsReplicas(model);
  if (replicas.length === 0) return undefined;
  return askReplicas(
    replicas.map(({ pod, port }) => ({
      replica: `kube-system/${pod.name}`,
      connect: () =>
        openPodTcp(conn, { namespace: pod.namespace, pod: pod.name, port }, { timeoutMs: opts.timeoutMs }),
    })),
    plan,
    type,
    opts,
  );
}

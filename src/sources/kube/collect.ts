// Node collection (opt-in: --collect-nodes): one short-lived privileged pod per node
// (hostNetwork, hostPID, tolerating every taint) runs the collection script through the exec
// API and prints the node's files; a bounded number of nodes at a time, a timeout per node.
// The pods are deleted on success, on failure and on Ctrl-C. Nothing else is ever written.
// On a node running a Cilium agent, the agent's own service table is read too, by exec into
// the agent pod (no debug pod needed): `cilium-dbg service list -o json`.
import { UserError } from '../../core/errors.js';
import { memoryNodeFiles, type NodeFiles } from '../../model/node-files.js';
import { CILIUM_FILES } from '../../model/node-state.js';
import type { Raw } from '../../model/normalize.js';
import { parseCiliumServiceList } from '../../parsers/cilium.js';
import { ApiError, type KubeClient } from './client.js';
import type { KubeConnection } from './config.js';
import {
  abortError,
  type DebugPodOptions,
  errorText,
  execInPod,
  type NodeCollectionError,
  onDebugPods,
  seconds,
} from './debug-pods.js';
import { listAll } from './list.js';
import { mapLimit } from './pool.js';
import { RESOURCES, resourcePath } from './resources.js';
import { type CollectPodRef, collectionCommand, parseCollectionOutput } from './script.js';

export {
  DEBUG_POD_PREFIX,
  DEFAULT_DEBUG_IMAGE,
  debugPodManifest,
  MANAGED_BY_LABEL,
  type NodeCollectionError,
  podFailure,
  RUN_LABEL,
} from './debug-pods.js';

/** The Cilium agents: the pods of the `cilium` DaemonSet, one per node. */
export const CILIUM_AGENT = {
  namespace: 'kube-system',
  labelSelector: 'k8s-app=cilium',
  container: 'cilium-agent',
} as const;

/** The agent's load-balancing table: `cilium-dbg` (Cilium ≥ 1.15), else the older `cilium`. */
export const CILIUM_SERVICE_COMMANDS = [
  ['cilium-dbg', 'service', 'list', '-o', 'json'],
  ['cilium', 'service', 'list', '-o', 'json'],
] as const;

export interface CollectOptions extends DebugPodOptions {
  /** Receives each node's files as soon as they arrive; they are then not kept in memory. */
  sink?: (node: string, files: Record<string, string>) => Promise<void> | void;
}

export interface PodOnPath {
  namespace: string;
  name: string;
  node: string;
  uid?: string;
}

export interface CollectedNodeFiles extends NodeFiles {
  /** Nodes that could not be collected, and why (their hops stay `unknown`). */
  errors: NodeCollectionError[];
  /**
   * Commands that failed on a node (a tool missing, a pod's processes not found, the Cilium
   * agent not answering): the node's other files are there.
   */
  warnings: NodeCollectionError[];
  /** About the whole collection, not one node (the Cilium agents could not be listed). */
  notes: string[];
  /** Milliseconds per collected node, start of pod creation to deletion. */
  timings: { node: string; ms: number }[];
}

/** A node's Cilium agent: its pod, and why it cannot be read (not running) if so. */
interface CiliumAgent {
  pod: string;
  notRunning?: string;
}

/**
 * The Cilium agent pod of each node (none where Cilium does not run). Listing them is
 * optional: a failure is a warning, and no agent is read.
 */
async function findCiliumAgents(client: KubeClient, notes: string[]): Promise<Map<string, CiliumAgent>> {
  const agents = new Map<string, CiliumAgent>();
  let pods: Raw[];
  try {
    pods = await listAll(client, RESOURCES.pods, CILIUM_AGENT.namespace, {
      labelSelector: CILIUM_AGENT.labelSelector,
    });
  } catch (err) {
    if (!(err instanceof ApiError) || err.status === 401) throw err;
    notes.push(
      `the Cilium agents could not be looked for (${err.message}): their service tables are not read`,
    );
    return agents;
  }
  for (const p of pods) {
    const node = p?.spec?.nodeName;
    if (typeof node !== 'string' || !node || p?.metadata?.deletionTimestamp) continue;
    const statuses: Raw[] = Array.isArray(p.status?.containerStatuses) ? p.status.containerStatuses : [];
    const container = statuses.find((c) => c?.name === CILIUM_AGENT.container);
    const running = p.status?.phase === 'Running' && (!container || Boolean(container.state?.running));
    const agent: CiliumAgent = { pod: String(p.metadata?.name) };
    if (!running)
      agent.notRunning = `the Cilium agent pod ${CILIUM_AGENT.namespace}/${agent.pod} is not running (phase ${p.status?.phase ?? 'unknown'})`;
    // During a rollout a node may have two agent pods: the running one wins.
    const known = agents.get(node);
    if (!known || (known.notRunning && !agent.notRunning)) agents.set(node, agent);
  }
  return agents;
}

/**
 * The agent's service table (`cilium-dbg service list -o json`, else `cilium service list -o
 * json` on agents older than 1.15), checked to be that command's JSON before it is kept.
 */
async function readCiliumServices(
  conn: KubeConnection,
  pod: string,
  opts: { deadline: number; nodeTimeoutMs: number; signal: AbortSignal },
): Promise<string> {
  const where = `the Cilium agent pod ${CILIUM_AGENT.namespace}/${pod}`;
  let first: unknown;
  for (const command of CILIUM_SERVICE_COMMANDS) {
    const left = opts.deadline - Date.now();
    if (first !== undefined && left < 1000) break;
    try {
      const { stdout } = await execInPod(
        conn,
        CILIUM_AGENT.namespace,
        pod,
        CILIUM_AGENT.container,
        [...command],
        {
          timeoutMs: Math.max(1000, left),
          signal: opts.signal,
          where,
          timeoutMessage: `${command[0]} service list in ${where} did not finish within the node's ${seconds(opts.nodeTimeoutMs)}`,
        },
      );
      parseCiliumServiceList(stdout, `${command[0]} service list -o json in ${where}`);
      return stdout;
    } catch (err) {
      // Ctrl-C, and a missing permission or credential: no second command would do better.
      if (opts.signal.aborted || err instanceof UserError) throw err;
      first ??= err;
    }
  }
  throw first;
}

/**
 * Collects the node files of `nodes` (and of the nodes of `pods`), plus each listed pod's own
 * network namespace view (ip -j addr/route, ss, resolv.conf). A node that fails is reported in
 * `errors` and simply has no files (its hops stay unknown); permission and authentication
 * errors, and Ctrl-C, fail the whole collection — always after the debug pods are deleted.
 */
export async function collectNodeFiles(
  opts: CollectOptions,
  nodes: string[],
  pods: PodOnPath[] = [],
): Promise<CollectedNodeFiles> {
  const files: Record<string, Record<string, string>> = {};
  const warnings: NodeCollectionError[] = [];
  const notes: string[] = [];
  const podsByNode = new Map<string, CollectPodRef[]>();
  let agents = new Map<string, CiliumAgent>();
  /** The first refusal to exec into the Cilium agents: the other nodes are not tried. */
  let ciliumRefused: string | undefined;

  const run = await onDebugPods(
    { ...opts, activity: 'collecting node files' },
    async ({ client }) => {
      // The pods whose own network namespace is wanted: their uid finds their processes.
      const refs = await mapLimit(pods, 8, async (p) => {
        if (p.uid) return { ...p, uid: p.uid, hostNetwork: false };
        const res = await client.get(resourcePath(RESOURCES.pods, p.namespace, p.name), {
          action: { verb: 'get', resource: 'pods', namespace: p.namespace, name: p.name },
          accept: [404],
        });
        if (res.status === 404) {
          warnings.push({ node: p.node, message: `pod ${p.namespace}/${p.name} not found` });
          return undefined;
        }
        return {
          ...p,
          node: res.body?.spec?.nodeName ?? p.node,
          uid: String(res.body?.metadata?.uid ?? ''),
          hostNetwork: res.body?.spec?.hostNetwork === true,
        };
      });
      for (const r of refs) {
        if (!r?.uid || r.hostNetwork || !r.node) continue;
        const list = podsByNode.get(r.node) ?? [];
        list.push({ namespace: r.namespace, name: r.name, uid: r.uid });
        podsByNode.set(r.node, list);
      }
      agents = await findCiliumAgents(client, notes);
      return [...nodes, ...podsByNode.keys()];
    },
    async (on) => {
      on.report(`${on.node}: reading`);
      const result = await on.exec(
        collectionCommand(podsByNode.get(on.node) ?? []),
        `the collection did not finish within ${seconds(on.nodeTimeoutMs)}`,
      );
      const parsed = parseCollectionOutput(result.stdout, `collection output of node ${on.node}`);
      if (!parsed.complete) throw new Error('the collection output is incomplete');
      for (const e of parsed.errors) warnings.push({ node: on.node, message: `${e.path}: ${e.message}` });
      // Cilium's kube-proxy replacement: its table is in the agent, not in the node's rules.
      const agent = agents.get(on.node);
      if (agent) {
        on.report(`${on.node}: reading the Cilium agent`);
        try {
          if (agent.notRunning) throw new Error(agent.notRunning);
          if (ciliumRefused) throw new Error(ciliumRefused);
          parsed.files[CILIUM_FILES.services] = await readCiliumServices(on.conn, agent.pod, {
            deadline: on.deadline,
            nodeTimeoutMs: on.nodeTimeoutMs,
            signal: on.signal,
          });
        } catch (err) {
          if (on.signal.aborted) throw abortError(on.signal);
          if (err instanceof UserError) ciliumRefused ??= err.message;
          warnings.push({ node: on.node, message: `${CILIUM_FILES.services}: ${errorText(err)}` });
        }
      }
      if (opts.sink) await opts.sink(on.node, parsed.files);
      else files[on.node] = parsed.files;
    },
  );
  const base = memoryNodeFiles(files);
  return { ...base, errors: run.errors, warnings, notes, timings: run.timings };
}

// Node collection (opt-in: --collect-nodes): one short-lived privileged pod per node
// (hostNetwork, hostPID, tolerating every taint) runs the collection script through the exec
// API and prints the node's files; a bounded number of nodes at a time, a timeout per node.
// The pods are deleted on success, on failure and on Ctrl-C. Nothing else is ever written.
// On a node running a Cilium agent, the agent's own service table is read too, by exec into
// the agent pod (no debug pod needed): `cilium-dbg service list -o json`.
import { Writable } from 'node:stream';
import { UserError } from '../../core/errors.js';
import { memoryNodeFiles, type NodeFiles } from '../../model/node-files.js';
import { CILIUM_FILES } from '../../model/node-state.js';
import type { Raw } from '../../model/normalize.js';
import { parseCiliumServiceList } from '../../parsers/cilium.js';
import { ApiError, KubeClient } from './client.js';
import { connectKube, type KubeConnection, loadClient } from './config.js';
import { listAll } from './list.js';
import { mapLimit } from './pool.js';
import { RESOURCES, resourcePath } from './resources.js';
import { type CollectPodRef, collectionCommand, parseCollectionOutput } from './script.js';

/** nicolaka/netshoot: iproute2, iptables (legacy and nft), ipvsadm, nft, nsenter, ss. Pinned. */
export const DEFAULT_DEBUG_IMAGE = 'nicolaka/netshoot:v0.13';
export const DEBUG_POD_PREFIX = 'knet-collect-';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const RUN_LABEL = 'knet.io/collect-run';
const CONTAINER = 'collect';

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

export interface CollectOptions {
  kubeconfig?: string;
  context?: string;
  /** The debug image (default DEFAULT_DEBUG_IMAGE). */
  image?: string;
  /** Where the debug pods are created (default "default", as `kubectl debug node/…`). */
  debugNamespace?: string;
  /** Nodes collected at the same time (default 10). */
  concurrency?: number;
  /** The whole time allowed for one node: start the pod, run the script (default 120 s). */
  nodeTimeoutMs?: number;
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** How often the pod's phase is read while it starts (default 500 ms). */
  pollIntervalMs?: number;
  progress?: (msg: string) => void;
  /** Aborts the collection (the pods are still deleted). */
  signal?: AbortSignal;
  /** Receives each node's files as soon as they arrive; they are then not kept in memory. */
  sink?: (node: string, files: Record<string, string>) => Promise<void> | void;
  /** Handle SIGINT/SIGTERM (delete the pods, then fail with exit 130). Default true. */
  handleSignals?: boolean;
}

export interface PodOnPath {
  namespace: string;
  name: string;
  node: string;
  uid?: string;
}

export interface NodeCollectionError {
  node: string;
  message: string;
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

export function debugPodManifest(
  node: string,
  image: string,
  namespace: string,
  runId: string,
  deadlineS: number,
): Raw {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: DEBUG_POD_PREFIX,
      namespace,
      labels: {
        'app.kubernetes.io/name': 'knet-collect',
        [MANAGED_BY_LABEL]: 'knet',
        [RUN_LABEL]: runId,
      },
      annotations: { 'knet.io/node': node },
    },
    spec: {
      nodeName: node,
      hostNetwork: true,
      hostPID: true,
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      // If knet dies without deleting it, the pod still stops by itself.
      activeDeadlineSeconds: deadlineS,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: CONTAINER,
          image,
          imagePullPolicy: 'IfNotPresent',
          command: ['sleep', String(deadlineS)],
          securityContext: { privileged: true },
          resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '512Mi' } },
        },
      ],
    },
  };
}

const STUCK_REASONS = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

/** Why a pod will not run, or undefined while it may still start. */
export function podFailure(pod: Raw): string | undefined {
  const phase = pod?.status?.phase;
  if (phase === 'Failed' || phase === 'Succeeded') {
    return `the debug pod ended (${phase}${pod.status.reason ? `: ${pod.status.reason}` : ''})`;
  }
  for (const cs of pod?.status?.containerStatuses ?? []) {
    const waiting = cs?.state?.waiting;
    if (waiting && STUCK_REASONS.has(waiting.reason)) {
      return `the debug pod cannot start: ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}`;
    }
  }
  return undefined;
}

function podRunning(pod: Raw): boolean {
  return (
    pod?.status?.phase === 'Running' &&
    (pod.status.containerStatuses ?? []).some((c: Raw) => c?.name === CONTAINER && c?.state?.running)
  );
}

/** 1.5 s, 120 s. */
const seconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;

const abortError = (signal: AbortSignal) =>
  signal.reason instanceof Error ? signal.reason : new UserError('interrupted', 130);

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError(signal));
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

interface WsLike {
  close(): void;
  terminate?(): void;
  on(event: 'close', fn: () => void): void;
}

/** Runs a command in a pod through the exec API (client-node's websocket, v5.channel.k8s.io). */
export async function execInPod(
  conn: KubeConnection,
  namespace: string,
  pod: string,
  container: string,
  command: string[],
  opts: {
    timeoutMs: number;
    signal: AbortSignal;
    timeoutMessage?: string;
    /** Names the pod in errors (default "the debug pod"). */
    where?: string;
  },
): Promise<{ stdout: string; stderr: string }> {
  const k8s = await loadClient();
  const exec = new k8s.Exec(conn.kc);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const sink = (into: Buffer[]) =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        into.push(Buffer.from(chunk));
        cb();
      },
    });
  return new Promise((resolve, reject) => {
    let ws: WsLike | undefined;
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      // On Ctrl-C, cut the stream: a closing handshake the server never answers keeps the
      // process alive for 30 s (the websocket library's close timeout).
      if (opts.signal.aborted && ws?.terminate) ws.terminate();
      else ws?.close();
      if (error) reject(error);
      else
        resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    };
    const onAbort = () => finish(abortError(opts.signal));
    const timer = setTimeout(
      () =>
        finish(
          new Error(opts.timeoutMessage ?? `the command did not finish within ${seconds(opts.timeoutMs)}`),
        ),
      opts.timeoutMs,
    );
    if (opts.signal.aborted) return onAbort();
    opts.signal.addEventListener('abort', onAbort, { once: true });
    exec
      .exec(namespace, pod, container, command, sink(out), sink(err), null, false, (status) => {
        if (status?.status === 'Success') finish();
        else
          finish(
            new Error(
              `the command failed in ${opts.where ?? 'the debug pod'}: ${status?.message ?? 'unknown error'}`,
            ),
          );
      })
      .then(
        (socket) => {
          ws = socket as unknown as WsLike;
          if (done) ws.close();
          else ws.on('close', () => finish(new Error('the exec stream closed before the command finished')));
        },
        (e: Error & { message?: string }) => finish(execConnectError(conn, namespace, e)),
      );
  });
}

function execConnectError(conn: KubeConnection, namespace: string, e: Error): Error {
  const m = /Unexpected server response: (\d+)/.exec(e?.message ?? '');
  const status = m ? Number(m[1]) : 0;
  if (status === 401)
    return new UserError(`authentication failed for context ${conn.context}: Unauthorized (exec)`);
  if (status === 403) {
    return new UserError(`forbidden: cannot create pods/exec in namespace ${namespace} (see docs/rbac.md)`);
  }
  return new Error(`exec failed: ${e?.message ?? String(e)}`);
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

function isFatal(err: unknown): boolean {
  if (err instanceof ApiError) return err.status === 401 || err.status === 403;
  return err instanceof UserError && /^(forbidden|authentication failed|cannot reach)/.test(err.message);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
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
  const conn = await connectKube(opts);
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(opts.signal?.reason);
  if (opts.signal?.aborted) onOuterAbort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const signal = controller.signal;
  const client = new KubeClient(conn, {
    requestTimeoutMs: opts.requestTimeoutMs,
    connectTimeoutMs: opts.connectTimeoutMs,
    signal,
  });
  // Deletion must work after an abort: its own client, without the signal.
  const cleanup = new KubeClient(conn, { requestTimeoutMs: 15_000, connectTimeoutMs: opts.connectTimeoutMs });
  // Creates are not aborted either: a create the server has received makes a pod whether or
  // not its answer arrives, so each create is awaited (bounded) and its pod deleted by name.
  const creator = new KubeClient(conn, {
    requestTimeoutMs: Math.min(opts.requestTimeoutMs ?? 15_000, 15_000),
    connectTimeoutMs: opts.connectTimeoutMs,
  });
  const deleted: string[] = [];
  const namespace = opts.debugNamespace ?? 'default';
  const image = opts.image ?? DEFAULT_DEBUG_IMAGE;
  const nodeTimeoutMs = opts.nodeTimeoutMs ?? 120_000;
  const pollMs = opts.pollIntervalMs ?? 500;
  const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const alive = new Set<string>();
  const files: Record<string, Record<string, string>> = {};
  const errors: NodeCollectionError[] = [];
  const warnings: NodeCollectionError[] = [];
  const timings: { node: string; ms: number }[] = [];
  const notes: string[] = [];
  /** The first refusal to exec into the Cilium agents: the other nodes are not tried. */
  let ciliumRefused: string | undefined;

  let interrupted = 0;
  const onSignal = () => {
    interrupted++;
    if (interrupted === 1) {
      opts.progress?.('interrupted: deleting the debug pods…');
      controller.abort(new UserError('interrupted', 130));
    } else {
      process.stderr.write(
        `knet: interrupted again; these debug pods may remain: ${[...alive].join(', ') || 'none'} ` +
          `(kubectl delete pod -n ${namespace} -l ${RUN_LABEL}=${runId})\n`,
      );
      process.exit(130);
    }
  };
  const handleSignals = opts.handleSignals ?? true;
  if (handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  try {
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
    const podsByNode = new Map<string, CollectPodRef[]>();
    for (const r of refs) {
      if (!r?.uid || r.hostNetwork || !r.node) continue;
      const list = podsByNode.get(r.node) ?? [];
      list.push({ namespace: r.namespace, name: r.name, uid: r.uid });
      podsByNode.set(r.node, list);
    }
    const targets = [...new Set([...nodes, ...podsByNode.keys()])];
    const agents = await findCiliumAgents(client, notes);
    let finished = 0;
    const report = (what: string) =>
      opts.progress?.(`collecting node files: ${finished}/${targets.length} nodes done (${what})`);

    await mapLimit(targets, opts.concurrency ?? 10, async (node) => {
      const started = Date.now();
      const deadline = started + nodeTimeoutMs;
      let podName: string | undefined;
      try {
        report(`${node}: starting a debug pod`);
        const manifest = debugPodManifest(
          node,
          image,
          namespace,
          runId,
          Math.ceil(nodeTimeoutMs / 1000) + 60,
        );
        if (signal.aborted) throw abortError(signal);
        const created = await creator.request('POST', resourcePath(RESOURCES.pods, namespace), {
          body: manifest,
          action: { verb: 'create', resource: 'pods', namespace },
        });
        podName = String(created.body?.metadata?.name);
        alive.add(podName);
        if (signal.aborted) throw abortError(signal);
        // Wait until the container runs.
        for (;;) {
          const res = await client.get(resourcePath(RESOURCES.pods, namespace, podName), {
            action: { verb: 'get', resource: 'pods', namespace, name: podName },
          });
          if (podRunning(res.body)) break;
          const why = podFailure(res.body);
          if (why) throw new Error(why);
          if (Date.now() + pollMs > deadline) {
            throw new Error(
              `the debug pod did not start within ${seconds(nodeTimeoutMs)} (phase ${res.body?.status?.phase ?? 'unknown'})`,
            );
          }
          await delay(pollMs, signal);
        }
        report(`${node}: reading`);
        const result = await execInPod(
          conn,
          namespace,
          podName,
          CONTAINER,
          collectionCommand(podsByNode.get(node) ?? []),
          {
            timeoutMs: Math.max(1000, deadline - Date.now()),
            signal,
            timeoutMessage: `the collection did not finish within ${seconds(nodeTimeoutMs)}`,
          },
        );
        const parsed = parseCollectionOutput(result.stdout, `collection output of node ${node}`);
        if (!parsed.complete) throw new Error('the collection output is incomplete');
        for (const e of parsed.errors) warnings.push({ node, message: `${e.path}: ${e.message}` });
        // Cilium's kube-proxy replacement: its table is in the agent, not in the node's rules.
        const agent = agents.get(node);
        if (agent) {
          report(`${node}: reading the Cilium agent`);
          try {
            if (agent.notRunning) throw new Error(agent.notRunning);
            if (ciliumRefused) throw new Error(ciliumRefused);
            parsed.files[CILIUM_FILES.services] = await readCiliumServices(conn, agent.pod, {
              deadline,
              nodeTimeoutMs,
              signal,
            });
          } catch (err) {
            if (signal.aborted) throw abortError(signal);
            if (err instanceof UserError) ciliumRefused ??= err.message;
            warnings.push({ node, message: `${CILIUM_FILES.services}: ${errorText(err)}` });
          }
        }
        if (opts.sink) await opts.sink(node, parsed.files);
        else files[node] = parsed.files;
      } catch (err) {
        // Interruptions, missing permissions, rejected credentials and a lost server stop
        // everything (the other nodes are aborted); any other failure costs this node only.
        if (signal.aborted) throw abortError(signal);
        if (isFatal(err)) {
          controller.abort(err);
          throw err;
        }
        errors.push({ node, message: errorText(err) });
      } finally {
        if (podName) {
          try {
            await cleanup.request('DELETE', resourcePath(RESOURCES.pods, namespace, podName), {
              query: { gracePeriodSeconds: 0 },
              action: { verb: 'delete', resource: 'pods', namespace, name: podName },
              accept: [404],
            });
            alive.delete(podName);
            deleted.push(podName);
          } catch (err) {
            errors.push({
              node,
              message: `the debug pod ${namespace}/${podName} could not be deleted (${errorText(err)}); delete it with kubectl delete pod -n ${namespace} ${podName}`,
            });
          }
        }
        finished++;
        timings.push({ node, ms: Date.now() - started });
        report(`${node}: done`);
      }
    });
  } catch (err) {
    // An abort is reported below, once every pod is accounted for.
    if (!signal.aborted) throw err;
  } finally {
    if (signal.aborted) {
      // A last sweep by this run's label: a pod whose create answer never arrived.
      try {
        const left = await cleanup.get(resourcePath(RESOURCES.pods, namespace), {
          query: { labelSelector: `${RUN_LABEL}=${runId}` },
          action: { verb: 'list', resource: 'pods', namespace },
        });
        for (const p of Array.isArray(left.body?.items) ? left.body.items : []) {
          const name = String(p?.metadata?.name);
          try {
            await cleanup.request('DELETE', resourcePath(RESOURCES.pods, namespace, name), {
              query: { gracePeriodSeconds: 0 },
              action: { verb: 'delete', resource: 'pods', namespace, name },
              accept: [404],
            });
            alive.delete(name);
            deleted.push(name);
          } catch {
            alive.add(name);
          }
        }
      } catch {
        // Listing is not allowed or the server is gone: what is left is named below.
      }
    }
    opts.signal?.removeEventListener('abort', onOuterAbort);
    if (handleSignals) {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
  }
  if (signal.aborted) {
    const err = abortError(signal);
    if (err instanceof UserError && err.exitCode === 130) {
      const what = deleted.length
        ? `deleted the debug pods ${[...new Set(deleted)].join(', ')}`
        : 'no debug pod was left';
      const left = alive.size
        ? `; could not delete ${[...alive].join(', ')} (kubectl delete pod -n ${namespace} -l ${RUN_LABEL}=${runId})`
        : '';
      throw new UserError(`interrupted: ${what}${left}`, 130);
    }
    throw err;
  }
  const base = memoryNodeFiles(files);
  return { ...base, errors, warnings, notes, timings };
}

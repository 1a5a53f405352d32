// Short-lived privileged debug pods, one per node (hostNetwork, hostPID, tolerating every
// taint), for work that must run on the nodes themselves: node collection (collect.ts) and
// probes (probe.ts). A bounded number of nodes at a time, a time limit per node; the pods are
// deleted on success, on failure, on timeout and on Ctrl-C, and a last sweep by the run's label
// removes a pod whose create answer never arrived. Nothing else is ever written.
import { Writable } from 'node:stream';
import { UserError } from '../../core/errors.js';
import type { Raw } from '../../model/normalize.js';
import { ApiError, KubeClient } from './client.js';
import { connectKube, type KubeConnection, loadClient } from './config.js';
import { mapLimit } from './pool.js';
import { RESOURCES, resourcePath } from './resources.js';

/** nicolaka/netshoot: iproute2, iptables (legacy and nft), ipvsadm, nft, nsenter, ss, python3. Pinned. */
export const DEFAULT_DEBUG_IMAGE = 'nicolaka/netshoot:v0.13';
export const DEBUG_POD_PREFIX = 'knet-collect-';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const RUN_LABEL = 'knet.io/collect-run';
export const DEBUG_CONTAINER = 'collect';
const CONTAINER = DEBUG_CONTAINER;

export interface DebugPodOptions {
  kubeconfig?: string;
  context?: string;
  /** The debug image (default DEFAULT_DEBUG_IMAGE). */
  image?: string;
  /** Where the debug pods are created (default "default", as `kubectl debug node/…`). */
  debugNamespace?: string;
  /** Nodes worked on at the same time (default 10). */
  concurrency?: number;
  /** The whole time allowed for one node: start the pod, do the work (default 120 s). */
  nodeTimeoutMs?: number;
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** How often the pod's phase is read while it starts (default 500 ms). */
  pollIntervalMs?: number;
  progress?: (msg: string) => void;
  /** Aborts the work (the pods are still deleted). */
  signal?: AbortSignal;
  /** Handle SIGINT/SIGTERM (delete the pods, then fail with exit 130). Default true. */
  handleSignals?: boolean;
}

export interface NodeCollectionError {
  node: string;
  message: string;
}

/** What the work on one node gets: its running debug pod, and the time left. */
export interface OnNode {
  node: string;
  conn: KubeConnection;
  client: KubeClient;
  signal: AbortSignal;
  namespace: string;
  pod: string;
  container: string;
  /** Date.now() value by which the node must be done. */
  deadline: number;
  nodeTimeoutMs: number;
  /** Runs a command in the debug pod, bounded by the node's deadline. */
  exec(command: string[], timeoutMessage?: string): Promise<{ stdout: string; stderr: string }>;
  report(what: string): void;
}

export interface DebugPodRun<T> {
  results: Map<string, T>;
  /** Nodes whose work failed, and why. */
  errors: NodeCollectionError[];
  /** Milliseconds per node, start of pod creation to deletion. */
  timings: { node: string; ms: number }[];
  /** Names of every debug pod created (and deleted, unless named in errors). */
  created: string[];
}

/** 1.5 s, 120 s. */
export const seconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;

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

export const abortError = (signal: AbortSignal) =>
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
        else {
          // The command's own last words (stderr) say why, when it left any.
          const said = Buffer.concat(err).toString('utf8').trim().split('\n').pop();
          finish(
            new Error(
              `the command failed in ${opts.where ?? 'the debug pod'}: ${status?.message ?? 'unknown error'}${said ? ` (${said.slice(0, 300)})` : ''}`,
            ),
          );
        }
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

function isFatal(err: unknown): boolean {
  if (err instanceof ApiError) return err.status === 401 || err.status === 403;
  return err instanceof UserError && /^(forbidden|authentication failed|cannot reach)/.test(err.message);
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Runs `work` on each node `plan` returns, in a debug pod of its own. `plan` runs first, under
 * the same Ctrl-C handling (it may read the API). A node whose work fails is reported in
 * `errors`; permission and authentication errors, and Ctrl-C, fail the whole run — always
 * after the debug pods are deleted. `activity` names the work in progress lines.
 */
export async function onDebugPods<T>(
  opts: DebugPodOptions & { activity: string },
  plan: (ctx: { client: KubeClient; conn: KubeConnection; signal: AbortSignal }) => Promise<string[]>,
  work: (on: OnNode) => Promise<T>,
): Promise<DebugPodRun<T>> {
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
  const created: string[] = [];
  const namespace = opts.debugNamespace ?? 'default';
  const image = opts.image ?? DEFAULT_DEBUG_IMAGE;
  const nodeTimeoutMs = opts.nodeTimeoutMs ?? 120_000;
  const pollMs = opts.pollIntervalMs ?? 500;
  const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const alive = new Set<string>();
  const results = new Map<string, T>();
  const errors: NodeCollectionError[] = [];
  const timings: { node: string; ms: number }[] = [];

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
    const targets = [...new Set(await plan({ client, conn, signal }))];
    let finished = 0;
    const report = (what: string) =>
      opts.progress?.(`${opts.activity}: ${finished}/${targets.length} nodes done (${what})`);

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
        const res = await creator.request('POST', resourcePath(RESOURCES.pods, namespace), {
          body: manifest,
          action: { verb: 'create', resource: 'pods', namespace },
        });
        podName = String(res.body?.metadata?.name);
        alive.add(podName);
        created.push(podName);
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
        const pod = podName;
        results.set(
          node,
          await work({
            node,
            conn,
            client,
            signal,
            namespace,
            pod,
            container: CONTAINER,
            deadline,
            nodeTimeoutMs,
            report,
            exec: (command, timeoutMessage) =>
              execInPod(conn, namespace, pod, CONTAINER, command, {
                timeoutMs: Math.max(1000, deadline - Date.now()),
                signal,
                timeoutMessage,
              }),
          }),
        );
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
  return { results, errors, timings, created };
}

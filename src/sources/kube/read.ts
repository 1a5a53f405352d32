// Reads a live cluster through the Kubernetes API: only the kinds a command needs, namespaced
// when the command is, page by page (limit/continue), a few lists at a time. The objects are
// the API's raw JSON with kind/apiVersion set, fed to the same buildModel a bundle uses.

import { GATEWAY_GROUP } from '../../core/api-groups.js';
import type { Coverage } from '../../model/cluster.js';
import type { Raw } from '../../model/normalize.js';
import { ALL_KINDS, type ObjectKind } from '../kinds.js';
import { ApiError, KubeClient } from './client.js';
import { connectKube, type KubeConnection } from './config.js';
import { DEFAULT_PAGE_SIZE, listAll } from './list.js';
import { mapLimit } from './pool.js';
import { GATEWAY_RESOURCES, qualifiedResource, RESOURCES, type ResourceInfo } from './resources.js';
import { listSecretNames } from './secrets.js';
import { readSystemConfigMap, SYSTEM_CONFIGMAPS } from './system-config.js';
import { readTracePath, type TracePath, tracePathReadable } from './trace-path.js';

export { ALL_KINDS, type ObjectKind } from '../kinds.js';
export { DEFAULT_PAGE_SIZE, getObject, listAll } from './list.js';
export { SYSTEM_CONFIGMAPS } from './system-config.js';

export interface LiveOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  allNamespaces: boolean;
  kinds: ObjectKind[];
  /** More namespaces to read besides `namespace` (e.g. the namespaces the targets name). */
  namespaces?: string[];
  /**
   * A trace's two ends: when the read can be bounded to the path (trace-path.ts), only the
   * objects on it are read, whatever the cluster's size; otherwise `kinds` in whole namespaces.
   */
  path?: TracePath;
  requestTimeoutMs?: number;
  progress?: (msg: string) => void;
  /** Objects per page (`limit`), default 500 as kubectl. */
  pageSize?: number;
  /** Lists read at the same time, default 4. */
  concurrency?: number;
  connectTimeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Kinds the command can do without: a 403 on them is a warning, recorded in `forbidden`,
   * and the rest goes on (default: Gateway API kinds and Secret names). A 403 on any other
   * kind fails the read (exit 2).
   */
  optional?: readonly ObjectKind[];
}

/** The kinds every command can do without (OPTIONAL_KINDS adds those some commands can). */
export const DEFAULT_OPTIONAL: readonly ObjectKind[] = ['gateway', 'secretnames'];

export interface LiveCluster {
  raws: Raw[];
  context: string;
  server: string;
  /** The context's namespace, else 'default'. */
  defaultNamespace: string;
  /** Optional data that could not be read (e.g. kube-system ConfigMaps without permission). */
  warnings: string[];
  /** 'path': only the objects on one trace path were read (see trace-path.ts). */
  coverage: Coverage;
  /**
   * Kinds the server does not serve (404 on the collection: an older API, no Gateway API CRDs):
   * none of them exists, which is said in a warning and recorded in a snapshot's meta.json.
   */
  absent?: string[];
  /**
   * Optional kinds (LiveOptions.optional) that RBAC does not let this user read: not known to
   * be empty, only unread. Said in a warning and recorded in a snapshot's meta.json.
   */
  forbidden?: string[];
}

export const DEFAULT_CONCURRENCY = 4;
/** Reads shorter than this show no progress line. */
const PROGRESS_AFTER_MS = 500;

interface ReadTask {
  label: string;
  run: () => Promise<Raw[]>;
}

function countLine(conn: KubeConnection, counts: Map<string, number>, done: number, total: number): string {
  const parts = [...counts].filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`);
  return `reading ${conn.context}: ${done}/${total} lists${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

/** The Gateway API kinds the server serves, with the version to read each in. */
async function discoverGateway(
  client: KubeClient,
): Promise<(ResourceInfo & { kind: string })[] | 'forbidden'> {
  const group = await client.get(`/apis/${GATEWAY_GROUP}`, {
    action: { verb: 'get', resource: `apigroups/${GATEWAY_GROUP}` },
    accept: [404, 403],
  });
  if (group.status === 403) return 'forbidden';
  if (group.status !== 200) return [];
  const versions: string[] = [];
  const preferred = group.body?.preferredVersion?.version;
  if (typeof preferred === 'string') versions.push(preferred);
  for (const v of group.body?.versions ?? [])
    if (!versions.includes(v.version)) versions.push(String(v.version));
  const found = new Map<string, ResourceInfo & { kind: string }>();
  for (const version of versions) {
    const list = await client.get(`/apis/${GATEWAY_GROUP}/${version}`, {
      action: { verb: 'get', resource: `apiresources/${GATEWAY_GROUP}/${version}` },
      accept: [404, 403],
    });
    if (list.status !== 200) continue;
    const served = new Set<string>((list.body?.resources ?? []).map((x: Raw) => String(x.name)));
    for (const g of GATEWAY_RESOURCES) {
      if (served.has(g.resource) && !found.has(g.resource)) {
        found.set(g.resource, { group: GATEWAY_GROUP, version, ...g });
      }
    }
  }
  return GATEWAY_RESOURCES.flatMap((g) => found.get(g.resource) ?? []);
}

/** Reads the kinds a command needs from the cluster the kubeconfig (or the pod) points at. */
export async function readLiveCluster(opts: LiveOptions): Promise<LiveCluster> {
  const conn = await connectKube(opts);
  const client = new KubeClient(conn, {
    requestTimeoutMs: opts.requestTimeoutMs,
    connectTimeoutMs: opts.connectTimeoutMs,
    signal: opts.signal,
  });
  const path = opts.path && tracePathReadable(opts.path) ? opts.path : undefined;
  const read = path
    ? await readTracePath(client, path, { ...opts, namespace: opts.namespace ?? conn.defaultNamespace })
    : await readObjects(client, opts);
  return {
    ...read,
    coverage: path ? 'path' : 'cluster',
    context: conn.context,
    server: conn.server,
    defaultNamespace: conn.defaultNamespace,
  };
}

/** Kinds another kind's analysis needs: the TLS check of Ingresses needs the Secret names. */
function withImpliedKinds(kinds: readonly ObjectKind[]): Set<ObjectKind> {
  const out = new Set(kinds);
  if (out.has('ingresses')) out.add('secretnames');
  return out;
}

/** The object-reading part of readLiveCluster, on an existing client. */
export async function readObjects(
  client: KubeClient,
  opts: Omit<LiveOptions, 'kubeconfig' | 'context'>,
): Promise<{ raws: Raw[]; warnings: string[]; absent: string[]; forbidden: string[] }> {
  const conn = client.conn;
  const absent: string[] = [];
  const forbidden: string[] = [];
  const optional = new Set(opts.optional ?? DEFAULT_OPTIONAL);
  /** A 403 on an optional kind: one warning naming the missing verb and resource, recorded. */
  const doWithout = (err: ApiError, name: string) => {
    if (!forbidden.includes(name)) forbidden.push(name);
    warnings.push(
      `${err.message.replace(/ \(see docs\/rbac\.md\)$/, '')}: going on without them (see docs/rbac.md)`,
    );
  };
  // The namespaces of namespaced kinds: [undefined] = all of them.
  const scopes: (string | undefined)[] = opts.allNamespaces
    ? [undefined]
    : [...new Set([opts.namespace ?? conn.defaultNamespace, ...(opts.namespaces ?? [])])];
  const pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
  const kinds = withImpliedKinds(opts.kinds);
  const warnings: string[] = [];
  const seen = new Map<string, { resource: string; n: number }>();
  let done = 0;
  const started = Date.now();
  let lastReport = 0;
  const tasks: ReadTask[] = [];
  // A progress line only for reads that take a while, at most ten times a second.
  const report = (force = false) => {
    const now = Date.now();
    if (!opts.progress || now - started < PROGRESS_AFTER_MS || (!force && now - lastReport < 100)) return;
    lastReport = now;
    const byResource = new Map<string, number>();
    for (const { resource, n } of seen.values())
      byResource.set(resource, (byResource.get(resource) ?? 0) + n);
    opts.progress(countLine(conn, byResource, done, tasks.length));
  };
  const list = (key: string, r: ResourceInfo, namespace: string | undefined, kind: ObjectKind) => {
    tasks.push({
      label: key,
      run: () =>
        listAll(client, r, namespace, {
          pageSize,
          onPage: (n) => {
            seen.set(key, { resource: r.resource, n });
            report();
          },
        }).catch((err) => {
          if (err instanceof ApiError && err.status === 403 && optional.has(kind)) {
            doWithout(err, qualifiedResource(r));
            return [];
          }
          // A kind the server does not serve has no objects: said, recorded, and the rest goes on.
          if (!(err instanceof ApiError && err.status === 404)) throw err;
          const name = qualifiedResource(r);
          if (!absent.includes(name)) {
            absent.push(name);
            warnings.push(`the API server at ${conn.server} does not serve ${name}: read as none`);
          }
          return [];
        }),
    });
  };

  for (const kind of ALL_KINDS) {
    if (!kinds.has(kind)) continue;
    if (kind === 'configmaps') {
      for (const name of SYSTEM_CONFIGMAPS)
        tasks.push({ label: `configmap ${name}`, run: () => readSystemConfigMap(client, name, warnings) });
    } else if (kind === 'secretnames') {
      for (const ns of scopes) {
        tasks.push({
          label: ns ? `secret names ${ns}` : 'secret names',
          run: async () => {
            const names = await listSecretNames(client, ns, pageSize, optional.has('secretnames'));
            if (names.warning) warnings.push(names.warning);
            if (names.forbidden && !forbidden.includes('secrets')) forbidden.push('secrets');
            return names.raws;
          },
        });
      }
    } else if (kind === 'gateway') {
      tasks.push({
        label: 'gateway',
        run: async () => {
          const out: Raw[] = [];
          const gateway = await discoverGateway(client);
          if (gateway === 'forbidden') {
            const err = new ApiError(
              `forbidden: cannot get apigroups/${GATEWAY_GROUP} at the cluster scope (see docs/rbac.md)`,
              403,
            );
            if (!optional.has('gateway')) throw err;
            doWithout(err, GATEWAY_GROUP);
            return out;
          }
          if (gateway.length === 0) absent.push(GATEWAY_GROUP);
          for (const r of gateway) {
            for (const ns of r.namespaced ? scopes : [undefined]) {
              try {
                out.push(...(await listAll(client, r, ns, { pageSize })));
              } catch (err) {
                if (err instanceof ApiError && err.status === 403 && optional.has('gateway'))
                  doWithout(err, qualifiedResource(r));
                else if (err instanceof ApiError && err.status === 404) warnings.push(err.message);
                else throw err;
              }
            }
          }
          return out;
        },
      });
    } else {
      const r: ResourceInfo = RESOURCES[kind];
      let namespaces = r.namespaced ? scopes : [undefined];
      // kube-proxy and the CNI run as DaemonSets in kube-system: the dataplane needs them.
      if (kind === 'daemonsets' && scopes[0] !== undefined)
        namespaces = [...new Set(['kube-system', ...scopes])];
      for (const ns of namespaces) list(ns ? `${kind} ${ns}` : kind, r, ns, kind);
    }
  }

  const results = await mapLimit(tasks, opts.concurrency ?? DEFAULT_CONCURRENCY, async (t) => {
    const objs = await t.run();
    done++;
    report(done === tasks.length);
    return objs;
  });
  return { raws: results.flat(), warnings, absent, forbidden };
}

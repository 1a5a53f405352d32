// A live trace reads only what its path needs, so that the number of API requests of
// `knet trace pod/a svc/b` does not grow with the cluster (pages of pods and nodes would).
// It reads in rounds, each from what the one before found:
//   1. both ends by name; for a Service its EndpointSlices (label kubernetes.io/service-name)
//      and legacy Endpoints; the ends' namespaces (labels, NetworkPolicies, DaemonSets);
//      kube-system's DaemonSets (kube-proxy, the CNI) and its three ConfigMaps;
//   2. the pods the Service's selector matches (a label selector);
//   3. the endpoints' pods not among them: by targetRef, else by status.podIP (a field selector);
//   4. the nodes of those pods and endpoints, and the pods' namespaces.
// Everything is bounded by the path: the ends, the Service's backends, their nodes and
// namespaces. The model is marked coverage 'path' so that analyses do not take an object
// missing from it for one missing from the cluster. An end that does not exist is answered
// with close names: only then is its kind listed in its namespace. Other ends (ip/, dns/,
// Ingresses and routes) need cluster-wide lookups: they keep the whole-namespace read.
import type { Raw } from '../../model/normalize.js';
import type { ObjectKind } from '../kinds.js';
import { ApiError, type KubeClient } from './client.js';
import { getObject, type ListOptions, listAll } from './list.js';
import { mapLimit } from './pool.js';
import { RESOURCES } from './resources.js';
import { readSystemConfigMap, SYSTEM_CONFIGMAPS } from './system-config.js';

/** One end of a trace as the user named it; no namespace = the default namespace. */
export interface PathEnd {
  kind: string;
  namespace?: string;
  name: string;
}

export interface TracePath {
  source: PathEnd;
  destination: PathEnd;
}

export interface TracePathOptions {
  /** The namespace of ends that name none. */
  namespace: string;
  kinds: Iterable<ObjectKind>;
  pageSize?: number;
  concurrency?: number;
}

/** The ends whose path this read can bound; ip/ and dns/ need cluster-wide lookups. */
const SOURCE_KINDS: ReadonlySet<string> = new Set(['pod', 'node']);
const DESTINATION_KINDS: ReadonlySet<string> = new Set(['pod', 'svc', 'node']);
/**
 * Whether this trace can be read along its path (else: the whole-namespace read). Only the
 * ends decide: kinds beyond PATH_KINDS (Ingresses, Gateway API routes) serve other ends, and a
 * path between pods, Services and nodes does not read them.
 */
export function tracePathReadable(path: TracePath): boolean {
  return SOURCE_KINDS.has(path.source.kind) && DESTINATION_KINDS.has(path.destination.kind);
}

type Resource = Exclude<ObjectKind, 'configmaps' | 'gateway' | 'secretnames'>;

const END_RESOURCE: Record<string, Resource> = { pod: 'pods', svc: 'services', node: 'nodes' };
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

const idOf = (o: Raw) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;

/** A targetRef or address of an EndpointSlice endpoint or a legacy Endpoints subset. */
interface EndpointRef {
  addresses: string[];
  nodeName?: string;
  pod?: { namespace?: string; name: string };
}

function endpointRefs(o: Raw): EndpointRef[] {
  const ref = (e: Raw, addresses: string[]): EndpointRef => ({
    addresses,
    nodeName: typeof e?.nodeName === 'string' ? e.nodeName : undefined,
    pod:
      e?.targetRef?.kind === 'Pod' && typeof e.targetRef.name === 'string'
        ? { namespace: e.targetRef.namespace, name: e.targetRef.name }
        : undefined,
  });
  if (o.kind === 'EndpointSlice')
    return (o.endpoints ?? []).map((e: Raw) => ref(e, Array.isArray(e?.addresses) ? e.addresses : []));
  return (o.subsets ?? []).flatMap((s: Raw) =>
    [...(s?.addresses ?? []), ...(s?.notReadyAddresses ?? [])].map((a: Raw) => ref(a, [String(a?.ip)])),
  );
}

/** The reads of one round, each asked once over the whole trace, and the objects found. */
class PathReader {
  private readonly objects = new Map<string, Raw>();
  private readonly asked = new Set<string>();
  private round: (() => Promise<Raw[]>)[] = [];
  readonly warnings: string[] = [];
  private readonly kinds: ReadonlySet<ObjectKind>;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: TracePathOptions,
  ) {
    this.kinds = new Set(opts.kinds);
  }

  private want(kind: ObjectKind, key: string, read: () => Promise<Raw[]>): void {
    if (!this.kinds.has(kind) || this.asked.has(key)) return;
    this.asked.add(key);
    this.round.push(read);
  }

  find(kind: string, namespace: string | undefined, name: string): Raw | undefined {
    return this.objects.get(`${kind}/${namespace ?? ''}/${name}`);
  }

  all(kind: string): Raw[] {
    return [...this.objects.values()].filter((o) => o.kind === kind);
  }

  /** One object by name, unless it is already known. */
  get(kind: Resource, namespace: string | undefined, name: string): void {
    const r = RESOURCES[kind];
    if (this.find(r.kind, namespace, name)) return;
    this.want(kind, `get ${kind} ${namespace ?? ''}/${name}`, async () => {
      const o = await getObject(this.client, r, namespace, name);
      return o ? [o] : [];
    });
  }

  list(kind: Resource, namespace: string | undefined, select: Omit<ListOptions, 'pageSize'> = {}): void {
    const key = `list ${kind} ${namespace ?? ''} ${select.labelSelector ?? ''} ${select.fieldSelector ?? ''}`;
    this.want(kind, key, () =>
      listAll(this.client, RESOURCES[kind], namespace, { ...select, pageSize: this.opts.pageSize }),
    );
  }

  /**
   * The pods that have `ip` (an endpoint without a targetRef), in any namespace; in `namespace`
   * alone when the user may not list pods cluster-wide.
   */
  podsWithIP(ip: string, namespace: string): void {
    const bySelector = (ns: string | undefined) =>
      listAll(this.client, RESOURCES.pods, ns, {
        fieldSelector: `status.podIP=${ip}`,
        pageSize: this.opts.pageSize,
      });
    this.want('pods', `pods with ip ${ip}`, async () => {
      try {
        return await bySelector(undefined);
      } catch (err) {
        if (err instanceof ApiError && err.status === 403) return bySelector(namespace);
        throw err;
      }
    });
  }

  /** A namespace on the path: its labels (namespaceSelector), policies and DaemonSets (the CNI). */
  namespace(name: string): void {
    this.get('namespaces', undefined, name);
    this.list('networkpolicies', name);
    this.list('daemonsets', name);
  }

  systemConfigMaps(): void {
    for (const name of SYSTEM_CONFIGMAPS)
      this.want('configmaps', `configmap ${name}`, () =>
        readSystemConfigMap(this.client, name, this.warnings),
      );
  }

  async flush(): Promise<void> {
    const reads = this.round;
    this.round = [];
    const found = await mapLimit(reads, this.opts.concurrency ?? 4, (read) => read());
    for (const o of found.flat()) this.objects.set(idOf(o), o);
  }

  /** In the order a list of each kind returns them (namespace/name), as a whole-cluster read. */
  raws(): Raw[] {
    const order = (o: Raw) => `${o.kind}\u0000${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
    return [...this.objects.values()].sort((a, b) =>
      order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0,
    );
  }
}

/** Rounds 2 and 3: the pods a Service selects, then its endpoints' pods not among them. */
async function readBackends(r: PathReader, namespace: string, name: string): Promise<EndpointRef[]> {
  const service = r.find('Service', namespace, name);
  const selector: Record<string, string> = service?.spec?.selector ?? {};
  if (Object.keys(selector).length > 0) {
    const labels = Object.entries(selector).map(([k, v]) => `${k}=${v}`);
    r.list('pods', namespace, { labelSelector: labels.join(',') });
    await r.flush();
  }
  // Legacy Endpoints count only when the Service has no slice (as buildObjects).
  const slices = r.all('EndpointSlice');
  const legacy = slices.length === 0 ? r.find('Endpoints', namespace, name) : undefined;
  const endpoints = [...slices, ...(legacy ? [legacy] : [])].flatMap(endpointRefs);
  for (const e of endpoints) {
    if (e.pod) r.get('pods', e.pod.namespace ?? namespace, e.pod.name);
    else for (const ip of e.addresses) r.podsWithIP(ip, namespace);
  }
  await r.flush();
  return endpoints;
}

/** Reads the objects on the path from `path.source` to `path.destination`. */
export async function readTracePath(
  client: KubeClient,
  path: TracePath,
  opts: TracePathOptions,
): Promise<{ raws: Raw[]; warnings: string[] }> {
  const r = new PathReader(client, opts);
  const ends = [path.source, path.destination].map((e) => ({
    ...e,
    resource: END_RESOURCE[e.kind],
    namespace: e.kind === 'node' ? undefined : (e.namespace ?? opts.namespace),
  }));
  const dst = ends[1];

  // 1. The ends, the Service's endpoints, the ends' namespaces, kube-system's configuration.
  for (const e of ends) {
    r.get(e.resource, e.namespace, e.name);
    if (e.namespace) r.namespace(e.namespace);
  }
  if (dst.kind === 'svc') {
    r.list('endpointslices', dst.namespace, { labelSelector: `${SERVICE_NAME_LABEL}=${dst.name}` });
    r.get('endpoints', dst.namespace, dst.name);
  }
  r.list('daemonsets', 'kube-system');
  r.systemConfigMaps();
  await r.flush();

  const missing = ends.filter((e) => !r.find(RESOURCES[e.resource].kind, e.namespace, e.name));
  if (missing.length > 0) {
    // The trace answers "not found" with the close names of the end's kind.
    for (const e of missing) r.list(e.resource, e.namespace);
    await r.flush();
    return { raws: r.raws(), warnings: r.warnings };
  }

  const endpoints =
    dst.kind === 'svc' ? await readBackends(r, dst.namespace ?? opts.namespace, dst.name) : [];

  // 4. Where the path's pods and endpoints run, and the pods' namespaces.
  for (const pod of r.all('Pod')) {
    if (typeof pod.spec?.nodeName === 'string') r.get('nodes', undefined, pod.spec.nodeName);
    r.namespace(String(pod.metadata?.namespace));
  }
  for (const e of endpoints) if (e.nodeName) r.get('nodes', undefined, e.nodeName);
  await r.flush();
  return { raws: r.raws(), warnings: r.warnings };
}

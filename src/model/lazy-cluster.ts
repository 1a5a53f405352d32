// A ClusterModel read piece by piece: the objects of a kind in one namespace, the pods of one
// node or IP, are read from the source when first asked for, and a whole collection only when
// an analysis asks for it (`model.pods`). A trace on a bundle thus reads its ends' namespaces
// and the nodes, not 150,000 pods. The answers are those of the model built from every object
// (build.ts): the same objects, in the same order, the same object for the same raw.
import { cidrContains, normalizeIP } from '../core/ip.js';
import { type NormalizedObject, normalizeObject } from './build.js';
import { ClusterModel, type ClusterObjects, emptyObjects } from './cluster.js';
import type { NodeFiles } from './node-files.js';
import { endpointsToSlices, legacyEndpointsKey, type Raw, withNormalizeWarnings } from './normalize.js';
import type { EndpointSlice, Namespace, NetworkPolicy, Node, Pod, Service } from './types.js';

/** Where the objects come from, addressed by their position in the source (an ordinal). */
export interface ObjectSource {
  /** Every kind the source holds (indexKind: a foreign NetworkPolicy is its own kind). */
  kinds(): string[];
  /** Every namespace objects name ('' for none). */
  namespaces(): string[];
  /** The ordinals of the objects of `kind`, ascending; only those in `namespace` when given. */
  ordinals(kind: string, namespace?: string): number[];
  /**
   * The objects of `kind` in `namespace` that may be named `name` (those whose name the source
   * does not know too): candidates, ascending.
   */
  named?(kind: string, namespace: string, name: string): number[];
  /** Pods whose spec.nodeName is `node` (ascending ordinals). */
  podsOnNode(node: string): number[];
  /** Pods that list `ip` (canonical text) among their status IPs: candidates, ascending. */
  podsWithIP(ip: string): number[];
  /** Nodes that have `ip` (canonical) among their addresses: candidates, ascending. */
  nodesWithIP?(ip: string): number[];
  /** Nodes with a pod CIDR that holds `ip`: candidates, ascending. */
  nodesWithPodCIDR?(ip: string): number[];
  /** The last Node named `name` (a name index), undefined when none or not indexed. */
  nodeNamed?(name: string): number | undefined;
  /**
   * The objects of a kind already normalised (a digest the source keeps: sources/bundle/digest.ts),
   * in `ordinals(kind)` order: the value, null when it is skipped, 0 when it must be read (for
   * Endpoints: its "namespace/name"); with the input warnings each raised, by its place.
   * Undefined when the source has none for the kind, or none that holds.
   */
  digest?(kind: string): { values: unknown[]; warnings: Map<number, string[]> } | undefined;
  /**
   * Hands over the objects at these ordinals, each with its place in `ordinals`, in an order
   * of the source's choosing (each raw can be dropped once handled: 150,000 pods never are
   * all in memory as raw JSON).
   */
  read(ordinals: readonly number[], each: (raw: Raw, i: number) => void): void;
}

/** The kinds each collection is made of (build.ts addObject); other kinds go to the rest. */
const FEEDS: Partial<Record<keyof ClusterObjects, string[]>> = {
  namespaces: ['Namespace'],
  nodes: ['Node'],
  pods: ['Pod'],
  services: ['Service'],
  networkPolicies: ['NetworkPolicy'],
  ingresses: ['Ingress'],
  ingressClasses: ['IngressClass'],
  daemonSets: ['DaemonSet'],
  configMaps: ['ConfigMap'],
};
const FED = new Set([...Object.values(FEEDS).flat(), 'EndpointSlice', 'Endpoints']);

/** Whole kinds a source's digest may hold, by the collection they feed. */
const DIGESTED: Partial<Record<keyof ClusterObjects, string>> = {
  pods: 'Pod',
  services: 'Service',
  nodes: 'Node',
};

/** Namespaces whose EndpointSlices are read by position before the digest's whole list is taken. */
const SLICE_READS = 8;

/** Lookups by address through the source before the whole list's index takes over. */
const LOOKUPS = 64;

/** The default namespace also holds the objects that name none (normalize.ts). */
const namespacesOf = (ns: string) => (ns === 'default' ? ['default', ''] : [ns]);

export class LazyClusterModel extends ClusterModel {
  private readonly normalized = new Map<number, NormalizedObject | undefined>();
  private readonly collections = new Map<string, unknown[]>();
  private readonly converted = new Map<number, EndpointSlice[]>();
  private readonly byNamespace = new Map<string, unknown[]>();
  /** Collections whose loaded list byNamespace holds split by namespace. */
  private readonly grouped = new Set<string>();
  private readonly byName = new Map<string, Map<string, unknown>>();
  /**
   * Lookups answered through the source so far, by address and (nodes) by name: past LOOKUPS
   * of one the question is a cluster-wide one (doctor asks it for every pod, and every pod's
   * node), and the whole list's index answers it.
   */
  private readonly lookups = { address: 0, name: 0 };
  /** Namespaces whose EndpointSlices were read so far (slices()). */
  private sliceReads = 0;
  /** Kinds taken from the source's digest (or found to have none). */
  private readonly digested = new Set<string>();
  /** Each legacy Endpoints ordinal's place in its kind's list (the digest's order). */
  private endpointsPlace?: Map<number, number>;

  constructor(
    private readonly source: ObjectSource,
    nodeFiles: NodeFiles,
    private readonly warn?: (message: string) => void,
  ) {
    super(emptyObjects(), nodeFiles, 'cluster');
    // The collections are the base class's fields: each becomes a getter that reads its kinds.
    for (const key of Object.keys(emptyObjects()) as (keyof ClusterObjects)[]) {
      Object.defineProperty(this, key, { get: () => this.collection(key), configurable: true });
    }
    Object.defineProperty(this, 'namespaces', { get: () => this.allNamespaces(), configurable: true });
  }

  /** The objects at these ordinals, normalised once each (skipped ones are left out). */
  private objectsAt(ordinals: readonly number[]): NormalizedObject[] {
    const missing = ordinals.filter((n) => !this.normalized.has(n));
    if (missing.length > 0) {
      // Normalised in the order of `missing`, as build.ts does (warnings come in that order).
      const raws: Raw[] = new Array(missing.length);
      let next = 0;
      this.source.read(missing, (raw, i) => {
        raws[i] = raw;
        for (; next < missing.length && raws[next] !== undefined; next++) {
          this.normalized.set(missing[next], normalizeObject(raws[next], this.warn));
          raws[next] = undefined;
        }
      });
    }
    const out: NormalizedObject[] = [];
    for (const n of ordinals) {
      const o = this.normalized.get(n);
      if (o) out.push(o);
    }
    return out;
  }

  private valuesAt<T>(key: keyof ClusterObjects, ordinals: readonly number[]): T[] {
    const out: T[] = [];
    for (const o of this.objectsAt(ordinals)) if ('key' in o && o.key === key) out.push(o.value as T);
    return out;
  }

  private ordinalsOf(kinds: readonly string[], namespace?: string): number[] {
    const lists = kinds.flatMap((k) =>
      namespace === undefined
        ? [this.source.ordinals(k)]
        : namespacesOf(namespace).map((ns) => this.source.ordinals(k, ns)),
    );
    return lists.length === 1 ? lists[0] : lists.flat().sort((a, b) => a - b);
  }

  private restKinds(): string[] {
    return this.source.kinds().filter((k) => !FED.has(k));
  }

  private collection(key: keyof ClusterObjects): unknown[] {
    let list = this.collections.get(key);
    if (!list) {
      if (key === 'endpointSlices') list = this.slices();
      else {
        // A whole kind: from the source's digest when it has one (a pod's is a fifth of its JSON).
        const kind = DIGESTED[key];
        if (kind) this.adoptDigest(kind, key);
        list = this.valuesAt(key, this.ordinalsOf(FEEDS[key] ?? this.restKinds()));
      }
      this.collections.set(key, list);
    }
    return list;
  }

  /** The objects of a kind from the source's digest, as if each had been read and normalised here. */
  private adoptDigest(kind: string, key: keyof ClusterObjects): void {
    if (this.digested.has(kind)) return;
    this.digested.add(kind);
    const digest = this.source.digest?.(kind);
    if (!digest) return;
    const ordinals = this.source.ordinals(kind);
    for (let i = 0; i < ordinals.length; i++) {
      const n = ordinals[i];
      const value = digest.values[i];
      // An object read before keeps its object; one the digest cannot hold is read as usual.
      if (value === 0 || this.normalized.has(n)) continue;
      for (const m of digest.warnings.get(i) ?? []) this.warn?.(m);
      this.normalized.set(n, value === null ? undefined : ({ key, value } as NormalizedObject));
    }
  }

  /** EndpointSlices, then the legacy Endpoints of services that have none (build.ts). */
  private slices(namespace?: string): EndpointSlice[] {
    // Every namespace's, once every Service is read (a cluster-wide question: doctor asks for
    // each Service's), or past a few namespaces: from the digest.
    const whole =
      namespace === undefined || this.collections.has('services') || ++this.sliceReads > SLICE_READS;
    if (whole) this.adoptDigest('EndpointSlice', 'endpointSlices');
    const slices = this.valuesAt<EndpointSlice>(
      'endpointSlices',
      this.ordinalsOf(['EndpointSlice'], namespace),
    );
    const sliced = new Set(slices.map((s) => `${s.namespace}/${s.serviceName}`));
    // A legacy Endpoints object counts only for a Service without EndpointSlices: one the digest
    // names for a Service with slices is not read.
    const legacy = this.ordinalsOf(['Endpoints'], namespace);
    const legacyOrdinals = whole ? this.withoutSliced(legacy, sliced) : legacy;
    const objects = this.objectsAt(legacyOrdinals);
    const out = [...slices];
    let i = 0;
    for (const n of legacyOrdinals) {
      if (!this.normalized.get(n)) continue;
      const o = objects[i++];
      if (!('legacy' in o)) continue;
      const raw = o.legacy;
      const k = legacyEndpointsKey(raw);
      if (sliced.has(k)) continue;
      let converted = this.converted.get(n);
      if (!converted) {
        try {
          converted = withNormalizeWarnings(this.warn, () => endpointsToSlices(raw));
        } catch (err) {
          this.warn?.(`Endpoints ${k} skipped: ${(err as Error).message}`);
          converted = [];
        }
        this.converted.set(n, converted);
      }
      out.push(...converted);
    }
    return out;
  }

  /** Legacy Endpoints ordinals less those the digest names for a sliced Service. */
  private withoutSliced(ordinals: number[], sliced: ReadonlySet<string>): number[] {
    if (ordinals.length === 0) return ordinals;
    const digest = this.source.digest?.('Endpoints');
    if (!digest) return ordinals;
    if (!this.endpointsPlace) {
      const all = this.source.ordinals('Endpoints');
      this.endpointsPlace = new Map(all.map((n, i) => [n, i]));
    }
    const place = this.endpointsPlace;
    return ordinals.filter((n) => {
      const key = digest.values[place.get(n) as number];
      return typeof key !== 'string' || !sliced.has(key) || this.normalized.has(n);
    });
  }

  /** The listed namespaces, then those objects live in without being listed (cluster.ts). */
  private allNamespaces(): Namespace[] {
    let list = this.collections.get('namespaces:all') as Namespace[] | undefined;
    if (!list) {
      list = [...(this.collection('namespaces') as Namespace[])];
      const names = new Set(list.map((n) => n.name));
      for (const kind of ['Pod', 'Service', 'NetworkPolicy']) {
        for (const ns of this.namespacesHolding(kind)) {
          if (names.has(ns)) continue;
          // Only a namespace that an object of the model is in (not one whose objects were skipped).
          const key = kind === 'Pod' ? 'pods' : kind === 'Service' ? 'services' : 'networkPolicies';
          const inIt = this.inNamespace<{ namespace: string }>(key, kind, ns);
          if (!inIt.some((o) => o.namespace === ns)) continue;
          names.add(ns);
          list.push({ name: ns, labels: { 'kubernetes.io/metadata.name': ns }, phase: 'Active' });
        }
      }
      this.collections.set('namespaces:all', list);
    }
    return list;
  }

  /** Namespaces of a kind's objects, in order of first appearance ('' counts as default). */
  private namespacesHolding(kind: string): string[] {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const ns of this.namespaceOrder(kind)) {
      const name = ns === '' ? 'default' : ns;
      if (!seen.has(name)) {
        seen.add(name);
        out.push(name);
      }
    }
    return out;
  }

  private namespaceOrder(kind: string): string[] {
    // Each namespace's first ordinal decides its place.
    const firsts: [number, string][] = [];
    for (const ns of this.source.namespaces()) {
      const o = this.source.ordinals(kind, ns);
      if (o.length > 0) firsts.push([o[0], ns]);
    }
    return firsts.sort((a, b) => a[0] - b[0]).map(([, ns]) => ns);
  }

  /** A collection's objects in one namespace, in source order. */
  private inNamespace<T extends { namespace: string }>(
    key: keyof ClusterObjects,
    kind: string,
    namespace: string,
  ): T[] {
    const k = `${key}\u0000${namespace}`;
    let list = this.byNamespace.get(k) as T[] | undefined;
    if (!list) {
      const loaded = this.collections.get(key) as T[] | undefined;
      if (loaded) {
        // The whole list is read: split it by namespace in one pass (doctor asks for every
        // namespace: filtering 150,000 pods once per namespace cost ~0.5 s).
        if (!this.grouped.has(key)) this.groupByNamespace(key, loaded);
        list = (this.byNamespace.get(k) as T[] | undefined) ?? [];
      } else {
        list = this.valuesAt<T>(key, this.ordinalsOf([kind], namespace)).filter(
          (o) => o.namespace === namespace,
        );
      }
      this.byNamespace.set(k, list);
    }
    return list;
  }

  /** A loaded collection's objects per namespace, in list order (lists already made are kept). */
  private groupByNamespace<T extends { namespace: string }>(
    key: keyof ClusterObjects,
    loaded: readonly T[],
  ): void {
    const groups = new Map<string, T[]>();
    for (const o of loaded) {
      const g = groups.get(o.namespace);
      if (g) g.push(o);
      else groups.set(o.namespace, [o]);
    }
    this.grouped.add(key);
    for (const [ns, g] of groups) {
      const k = `${key}\u0000${ns}`;
      if (!this.byNamespace.has(k)) this.byNamespace.set(k, g);
    }
  }

  /** Whether a lookup (by address, unless said) goes through the source (else: the whole list's index). */
  private bySource(key: keyof ClusterObjects, by: 'address' | 'name' = 'address'): boolean {
    return !this.collections.has(key) && ++this.lookups[by] <= LOOKUPS;
  }

  /** The last object of a name in a namespace's list, through a map built once per namespace. */
  private named<T extends { name: string }>(key: string, list: readonly T[], name: string): T | undefined {
    let map = this.byName.get(key) as Map<string, T> | undefined;
    if (!map) {
      map = new Map(list.map((o) => [o.name, o]));
      this.byName.set(key, map);
    }
    return map.get(name);
  }

  override node(name: string): Node | undefined {
    const n = this.bySource('nodes', 'name') ? this.source.nodeNamed?.(name) : undefined;
    const node = n === undefined ? undefined : this.valuesAt<Node>('nodes', [n])[0];
    return node?.name === name ? node : super.node(name);
  }

  /** The first candidate that the whole list would have found; the whole list without an index. */
  private firstNode(candidates: number[] | undefined, test: (n: Node) => boolean): Node | undefined {
    if (candidates === undefined || this.collections.has('nodes')) return undefined;
    return this.valuesAt<Node>('nodes', candidates).find(test);
  }

  override nodeByIP(ip: string): Node | undefined {
    if (!this.source.nodesWithIP || !this.bySource('nodes')) return super.nodeByIP(ip);
    const k = normalizeIP(ip);
    const test = (n: Node) => [...n.internalIPs, ...n.externalIPs].some((a) => normalizeIP(a) === k);
    return this.firstNode(this.source.nodesWithIP(k), test);
  }

  override nodeWithPodCIDR(ip: string): Node | undefined {
    if (!this.source.nodesWithPodCIDR || !this.bySource('nodes')) return super.nodeWithPodCIDR(ip);
    const test = (n: Node) => n.podCIDRs.some((c) => cidrContains(c, ip));
    return this.firstNode(this.source.nodesWithPodCIDR(ip), test);
  }

  /**
   * The last object of a name in a namespace: through the source's names while the namespace's
   * list is not read (a trace's ends: one pod, not the 1,300 of its namespace), else its map.
   */
  private byNameIn<T extends { namespace: string; name: string }>(
    key: keyof ClusterObjects,
    kind: string,
    namespace: string,
    name: string,
    list: () => readonly T[],
  ): T | undefined {
    if (
      this.source.named &&
      !this.collections.has(key) &&
      !this.byNamespace.has(`${key}\u0000${namespace}`)
    ) {
      const candidates = namespacesOf(namespace).flatMap((ns) => this.source.named!(kind, ns, name));
      const found = this.valuesAt<T>(
        key,
        candidates.sort((a, b) => a - b),
      ).filter((o) => o.namespace === namespace && o.name === name);
      return found[found.length - 1];
    }
    return this.named(`${key}\u0000${namespace}`, list(), name);
  }

  override pod(namespace: string, name: string): Pod | undefined {
    return this.byNameIn('pods', 'Pod', namespace, name, () => this.podsInNamespace(namespace));
  }

  override service(namespace: string, name: string): Service | undefined {
    return this.byNameIn('services', 'Service', namespace, name, () => this.servicesInNamespace(namespace));
  }

  override podsInNamespace(namespace: string): readonly Pod[] {
    return this.inNamespace<Pod>('pods', 'Pod', namespace);
  }

  override servicesInNamespace(namespace: string): readonly Service[] {
    return this.inNamespace<Service>('services', 'Service', namespace);
  }

  override policiesInNamespace(namespace: string): readonly NetworkPolicy[] {
    return this.inNamespace<NetworkPolicy>('networkPolicies', 'NetworkPolicy', namespace);
  }

  override podsOnNode(node: string): readonly Pod[] {
    if (!this.bySource('pods')) return super.podsOnNode(node);
    return this.valuesAt<Pod>('pods', this.source.podsOnNode(node)).filter((p) => p.nodeName === node);
  }

  override podsByIP(ip: string): readonly Pod[] {
    if (!this.bySource('pods')) return super.podsByIP(ip);
    const k = normalizeIP(ip);
    const out: Pod[] = [];
    for (const pod of this.valuesAt<Pod>('pods', this.source.podsWithIP(k))) {
      if (pod.hostNetwork) continue;
      for (const a of pod.ips) if (normalizeIP(a) === k) out.push(pod);
    }
    return out;
  }

  override hasNodes(): boolean {
    if (!this.collections.has('nodes'))
      for (const n of this.source.ordinals('Node')) if (this.valuesAt('nodes', [n]).length > 0) return true;
    return this.collection('nodes').length > 0;
  }

  override hasEndpointSlices(): boolean {
    if (!this.collections.has('endpointSlices')) {
      // The first EndpointSlice that reads settles it, without reading the others.
      for (const n of this.source.ordinals('EndpointSlice'))
        if (this.valuesAt('endpointSlices', [n]).length > 0) return true;
    }
    return this.collection('endpointSlices').length > 0;
  }

  override endpointSlicesFor(service: Service): readonly EndpointSlice[] {
    const k = `endpointSlices\u0000${service.namespace}`;
    let list = this.byNamespace.get(k) as EndpointSlice[] | undefined;
    if (!list) {
      const loaded = this.collections.get('endpointSlices') as EndpointSlice[] | undefined;
      list = (loaded ?? this.slices(service.namespace)).filter((s) => s.namespace === service.namespace);
      this.byNamespace.set(k, list);
    }
    return list.filter((s) => s.serviceName === service.name);
  }
}

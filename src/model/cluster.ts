// ClusterModel: every object of one cluster, indexed once. Indexes are built on first use
// (memoised) so that a command only pays for what its analysis reads: a trace at 150k pods
// must not build the label index of every namespace.
import { cidrContains, normalizeIP } from '../core/ip.js';
import { matchesEquality, matchesSelector } from './labels.js';
import type { NodeFiles } from './node-files.js';
import { EMPTY_NODE_FILES } from './node-files.js';
import type {
  ConfigMap,
  DaemonSet,
  EndpointSlice,
  Gateway,
  GatewayClass,
  GenericObject,
  HTTPRoute,
  Ingress,
  IngressClass,
  LabelSelector,
  Labels,
  Namespace,
  NetworkPolicy,
  Node,
  Pod,
  ReferenceGrant,
  Service,
} from './types.js';

export interface ClusterObjects {
  namespaces: Namespace[];
  nodes: Node[];
  pods: Pod[];
  services: Service[];
  endpointSlices: EndpointSlice[];
  networkPolicies: NetworkPolicy[];
  ingresses: Ingress[];
  ingressClasses: IngressClass[];
  daemonSets: DaemonSet[];
  configMaps: ConfigMap[];
  gateways: Gateway[];
  gatewayClasses: GatewayClass[];
  httpRoutes: HTTPRoute[];
  referenceGrants: ReferenceGrant[];
  /** Kinds knet keeps but does not model in detail (ReplicaSets, other policy kinds, …). */
  others: GenericObject[];
}

export function emptyObjects(): ClusterObjects {
  return {
    namespaces: [],
    nodes: [],
    pods: [],
    services: [],
    endpointSlices: [],
    networkPolicies: [],
    ingresses: [],
    ingressClasses: [],
    daemonSets: [],
    configMaps: [],
    gateways: [],
    gatewayClasses: [],
    httpRoutes: [],
    referenceGrants: [],
    others: [],
  };
}

/**
 * How much of the cluster the objects cover. 'cluster': every object of the kinds read, in the
 * namespaces read (a bundle, a live read of whole namespaces). 'path': only the objects on one
 * trace's path (a live `knet trace`): an object missing from the model may still exist, so
 * searches beyond the path (near misses, other namespaces) cannot be made.
 */
export type Coverage = 'cluster' | 'path';

const key = (namespace: string, name: string) => `${namespace}/${name}`;

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string | undefined): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = keyOf(item);
    if (k === undefined) continue;
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return map;
}

/** By key, the first object when a source holds two (as a search through the list finds it). */
function firstByKey<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T> {
  const map = new Map<string, T>();
  for (const item of items) {
    const k = keyOf(item);
    if (!map.has(k)) map.set(k, item);
  }
  return map;
}

function memo<T>(fn: () => T): () => T {
  let value: T | undefined;
  let done = false;
  return () => {
    if (!done) {
      value = fn();
      done = true;
    }
    return value as T;
  };
}

export class ClusterModel {
  readonly namespaces: readonly Namespace[];
  readonly nodes: readonly Node[];
  readonly pods: readonly Pod[];
  readonly services: readonly Service[];
  readonly endpointSlices: readonly EndpointSlice[];
  readonly networkPolicies: readonly NetworkPolicy[];
  readonly ingresses: readonly Ingress[];
  readonly ingressClasses: readonly IngressClass[];
  readonly daemonSets: readonly DaemonSet[];
  readonly configMaps: readonly ConfigMap[];
  readonly gateways: readonly Gateway[];
  readonly gatewayClasses: readonly GatewayClass[];
  readonly httpRoutes: readonly HTTPRoute[];
  readonly referenceGrants: readonly ReferenceGrant[];
  readonly others: readonly GenericObject[];
  /** Raw node-level files (iptables-save, ip -j …); empty when the source has none. */
  readonly nodeFiles: NodeFiles;

  constructor(
    objects: ClusterObjects,
    nodeFiles: NodeFiles = EMPTY_NODE_FILES,
    readonly coverage: Coverage = 'cluster',
  ) {
    this.namespaces = withImpliedNamespaces(objects);
    this.nodes = objects.nodes;
    this.pods = objects.pods;
    this.services = objects.services;
    this.endpointSlices = objects.endpointSlices;
    this.networkPolicies = objects.networkPolicies;
    this.ingresses = objects.ingresses;
    this.ingressClasses = objects.ingressClasses;
    this.daemonSets = objects.daemonSets;
    this.configMaps = objects.configMaps;
    this.gateways = objects.gateways;
    this.gatewayClasses = objects.gatewayClasses;
    this.httpRoutes = objects.httpRoutes;
    this.referenceGrants = objects.referenceGrants;
    this.others = objects.others;
    this.nodeFiles = nodeFiles;
  }

  private readonly nodeIndex = memo(() => new Map(this.nodes.map((n) => [n.name, n])));
  private readonly namespaceIndex = memo(() => new Map(this.namespaces.map((n) => [n.name, n])));
  private readonly podIndex = memo(() => new Map(this.pods.map((p) => [key(p.namespace, p.name), p])));
  private readonly podsByNamespaceIndex = memo(() => groupBy(this.pods, (p) => p.namespace));
  private readonly podsByNodeIndex = memo(() => groupBy(this.pods, (p) => p.nodeName));
  private readonly serviceIndex = memo(
    () => new Map(this.services.map((s) => [key(s.namespace, s.name), s])),
  );
  private readonly slicesByServiceIndex = memo(() =>
    groupBy(this.endpointSlices, (s) => (s.serviceName ? key(s.namespace, s.serviceName) : undefined)),
  );
  private readonly policiesByNamespaceIndex = memo(() => groupBy(this.networkPolicies, (p) => p.namespace));

  private readonly ingressIndex = memo(() => firstByKey(this.ingresses, (i) => key(i.namespace, i.name)));
  private readonly gatewayIndex = memo(() => firstByKey(this.gateways, (g) => key(g.namespace, g.name)));
  private readonly gatewayClassIndex = memo(() => firstByKey(this.gatewayClasses, (c) => c.name));
  private readonly httpRouteIndex = memo(() => firstByKey(this.httpRoutes, (r) => key(r.namespace, r.name)));
  private readonly grantsByNamespaceIndex = memo(() => groupBy(this.referenceGrants, (g) => g.namespace));
  /** Gateway → the HTTPRoutes whose parentRefs name it, each once, in source order. */
  private readonly routesByGatewayIndex = memo(() => {
    const map = new Map<string, HTTPRoute[]>();
    for (const route of this.httpRoutes) {
      const gateways = route.parentRefs
        .filter((p) => p.kind === 'Gateway')
        .map((p) => key(p.namespace, p.name));
      for (const k of new Set(gateways)) {
        const list = map.get(k);
        if (list) list.push(route);
        else map.set(k, [route]);
      }
    }
    return map;
  });

  /** Pods that are not hostNetwork, by each of their IPs (canonical text). */
  private readonly podsByIPIndex = memo(() => {
    const map = new Map<string, Pod[]>();
    for (const pod of this.pods) {
      if (pod.hostNetwork) continue;
      for (const ip of pod.ips) {
        const k = normalizeIP(ip);
        const list = map.get(k);
        if (list) list.push(pod);
        else map.set(k, [pod]);
      }
    }
    return map;
  });

  /**
   * Per namespace: label key → value → pods carrying that label. Selector matching starts here.
   * (Nested maps: no "key=value" string is built for each of 150,000 pods' labels.)
   */
  private readonly labelIndex = new Map<string, Map<string, Map<string, Pod[]>>>();

  node(name: string): Node | undefined {
    return this.nodeIndex().get(name);
  }

  namespace(name: string): Namespace | undefined {
    return this.namespaceIndex().get(name);
  }

  pod(namespace: string, name: string): Pod | undefined {
    return this.podIndex().get(key(namespace, name));
  }

  service(namespace: string, name: string): Service | undefined {
    return this.serviceIndex().get(key(namespace, name));
  }

  podsInNamespace(namespace: string): readonly Pod[] {
    return this.podsByNamespaceIndex().get(namespace) ?? [];
  }

  podsOnNode(node: string): readonly Pod[] {
    return this.podsByNodeIndex().get(node) ?? [];
  }

  servicesInNamespace(namespace: string): readonly Service[] {
    return this.services.filter((s) => s.namespace === namespace);
  }

  /** Non-hostNetwork pods that own this IP (more than one = a duplicate). */
  podsByIP(ip: string): readonly Pod[] {
    return this.podsByIPIndex().get(normalizeIP(ip)) ?? [];
  }

  /** Nodes whose InternalIP/ExternalIP is this address. */
  nodeByIP(ip: string): Node | undefined {
    const k = normalizeIP(ip);
    return this.nodes.find((n) => [...n.internalIPs, ...n.externalIPs].some((a) => normalizeIP(a) === k));
  }

  /** The source lists nodes at all. */
  hasNodes(): boolean {
    return this.nodes.length > 0;
  }

  /** The source holds EndpointSlices (or legacy Endpoints that make some) at all. */
  hasEndpointSlices(): boolean {
    return this.endpointSlices.length > 0;
  }

  /** The first node whose pod CIDR holds `ip`. */
  nodeWithPodCIDR(ip: string): Node | undefined {
    return this.nodes.find((n) => n.podCIDRs.some((c) => cidrContains(c, ip)));
  }

  endpointSlicesFor(service: Service): readonly EndpointSlice[] {
    return this.slicesByServiceIndex().get(key(service.namespace, service.name)) ?? [];
  }

  policiesInNamespace(namespace: string): readonly NetworkPolicy[] {
    return this.policiesByNamespaceIndex().get(namespace) ?? [];
  }

  ingress(namespace: string, name: string): Ingress | undefined {
    return this.ingressIndex().get(key(namespace, name));
  }

  gateway(namespace: string, name: string): Gateway | undefined {
    return this.gatewayIndex().get(key(namespace, name));
  }

  gatewayClass(name: string): GatewayClass | undefined {
    return this.gatewayClassIndex().get(name);
  }

  httpRoute(namespace: string, name: string): HTTPRoute | undefined {
    return this.httpRouteIndex().get(key(namespace, name));
  }

  /** The HTTPRoutes attached (by a parentRef) to a Gateway. */
  routesOfGateway(namespace: string, name: string): readonly HTTPRoute[] {
    return this.routesByGatewayIndex().get(key(namespace, name)) ?? [];
  }

  referenceGrantsIn(namespace: string): readonly ReferenceGrant[] {
    return this.grantsByNamespaceIndex().get(namespace) ?? [];
  }

  configMap(namespace: string, name: string): ConfigMap | undefined {
    return this.configMaps.find((c) => c.namespace === namespace && c.name === name);
  }

  private labelIndexFor(namespace: string): Map<string, Map<string, Pod[]>> {
    let index = this.labelIndex.get(namespace);
    if (!index) {
      index = new Map();
      for (const pod of this.podsInNamespace(namespace)) {
        const labels = pod.labels;
        for (const k in labels) {
          if (!Object.hasOwn(labels, k)) continue;
          const v = labels[k];
          let values = index.get(k);
          if (!values) {
            values = new Map();
            index.set(k, values);
          }
          const list = values.get(v);
          if (list) list.push(pod);
          else values.set(v, [pod]);
        }
      }
      this.labelIndex.set(namespace, index);
    }
    return index;
  }

  /** Pods in `namespace` matching an equality selector, through the label index. */
  podsMatchingLabels(namespace: string, selector: Labels): Pod[] {
    const keys = Object.keys(selector);
    if (keys.length === 0) return [...this.podsInNamespace(namespace)];
    const index = this.labelIndexFor(namespace);
    // Start from the rarest label, then filter: no scan of the namespace.
    let smallest: Pod[] | undefined;
    for (const k of keys) {
      const list = index.get(k)?.get(selector[k]);
      if (!list) return [];
      if (!smallest || list.length < smallest.length) smallest = list;
    }
    // One label: its list is the answer (a copy: callers sort it).
    if (keys.length === 1 || !smallest) return smallest ? smallest.slice() : [];
    return smallest.filter((p) => matchesEquality(selector, p.labels));
  }

  /** Pods in `namespace` matching a full LabelSelector. */
  podsMatchingSelector(namespace: string, selector: LabelSelector): Pod[] {
    const candidates =
      Object.keys(selector.matchLabels).length > 0
        ? this.podsMatchingLabels(namespace, selector.matchLabels)
        : this.podsInNamespace(namespace);
    return candidates.filter((p) => matchesSelector(selector, p.labels));
  }

  namespacesMatching(selector: LabelSelector): Namespace[] {
    return this.namespaces.filter((n) => matchesSelector(selector, n.labels));
  }
}

/** Namespaces that objects live in but that the source did not list (a namespaced dump). */
function withImpliedNamespaces(objects: ClusterObjects): Namespace[] {
  const names = new Set(objects.namespaces.map((n) => n.name));
  const out = [...objects.namespaces];
  for (const o of [...objects.pods, ...objects.services, ...objects.networkPolicies]) {
    if (!names.has(o.namespace)) {
      names.add(o.namespace);
      out.push({
        name: o.namespace,
        labels: { 'kubernetes.io/metadata.name': o.namespace },
        phase: 'Active',
      });
    }
  }
  return out;
}

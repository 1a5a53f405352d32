// Raw Kubernetes API objects (from `kubectl get -o json|yaml`, or the API) → knet's typed model.
// Defaults are applied here exactly as the API server would have applied them, so analyses
// see one shape whatever the source.

import { GATEWAY_GROUP } from '../core/api-groups.js';
import { isCIDR, isIP } from '../core/ip.js';
import type {
  BackendReference,
  Condition,
  ConfigMap,
  Container,
  ContainerStatus,
  DaemonSet,
  Endpoint,
  EndpointSlice,
  Gateway,
  GatewayClass,
  HTTPRoute,
  HTTPRouteMatch,
  HTTPValueMatch,
  Ingress,
  IngressBackend,
  IngressClass,
  LabelSelector,
  Labels,
  Namespace,
  NetworkPolicy,
  NetworkPolicyPeer,
  NetworkPolicyRule,
  Node,
  OwnerRef,
  Pod,
  Protocol,
  ReferenceGrant,
  Service,
  ServicePort,
} from './types.js';

// biome-ignore lint/suspicious/noExplicitAny: raw API JSON is untyped by nature
export type Raw = any;

// Input is not trusted (a hand-written bundle, a broken API server): a value of the wrong type
// is dropped here, never a TypeError later. `arr` keeps the objects of a list (a null item is
// skipped), `strs` its scalars as strings; `labelsOf` keeps string values (a number from YAML,
// `version: 2`, becomes "2"); addresses that are not IPs are dropped with a warning.
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const isScalar = (v: unknown): v is string | number | boolean =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
const arr = (v: unknown): Raw[] =>
  Array.isArray(v) ? v.filter((x) => x !== null && typeof x === 'object' && !Array.isArray(x)) : [];
const rulesOf = (v: unknown): Raw[] =>
  Array.isArray(v) ? v.map((x) => (x !== null && typeof x === 'object' && !Array.isArray(x) ? x : {})) : [];
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter(isScalar).map(String) : []);
const labelsOf = (v: unknown): Labels => {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) if (isScalar(x)) out[k] = String(x);
  return out;
};

/** Where normalisation warnings go while buildObjects runs (it is synchronous). */
let warnSink: ((message: string) => void) | undefined;

export function withNormalizeWarnings<T>(warn: ((message: string) => void) | undefined, fn: () => T): T {
  const before = warnSink;
  warnSink = warn;
  try {
    return fn();
  } finally {
    warnSink = before;
  }
}

function objectName(raw: Raw): string {
  const m = raw?.metadata;
  return `${String(raw?.kind)} ${m?.namespace ? `${String(m.namespace)}/` : ''}${String(m?.name)}`;
}

/** The addresses that are IPs; the others are dropped and said. */
function validIPs(raw: Raw, field: string, values: string[]): string[] {
  const out = values.filter((v) => isIP(v));
  if (out.length !== values.length)
    warnSink?.(
      `${objectName(raw)}: ${field} ${values
        .filter((v) => !isIP(v))
        .map((v) => JSON.stringify(v))
        .join(', ')} ignored (not an IP address)`,
    );
  return out;
}

function validCIDRs(raw: Raw, field: string, values: string[]): string[] {
  const out = values.filter((v) => isCIDR(v));
  if (out.length !== values.length)
    warnSink?.(
      `${objectName(raw)}: ${field} ${values
        .filter((v) => !isCIDR(v))
        .map((v) => JSON.stringify(v))
        .join(', ')} ignored (not a CIDR)`,
    );
  return out;
}
const protocolOf = (v: unknown): Protocol => (v === 'UDP' || v === 'SCTP' ? v : 'TCP');

export function normalizeSelector(raw: Raw): LabelSelector {
  return {
    matchLabels: labelsOf(raw?.matchLabels),
    matchExpressions: arr(raw?.matchExpressions).map((e) => ({
      key: String(e.key),
      operator: e.operator,
      values: strs(e.values),
    })),
  };
}

function conditionsOf(v: unknown): Condition[] {
  return arr(v).map((c) => ({
    type: String(c.type),
    status: String(c.status),
    reason: str(c.reason),
    message: str(c.message),
  }));
}

export function normalizeNamespace(raw: Raw): Namespace {
  const name = String(raw.metadata?.name);
  // The API server sets kubernetes.io/metadata.name on every namespace (1.21+); hand-written
  // bundles often lack it, and NetworkPolicy namespaceSelectors rely on it.
  return {
    name,
    labels: { 'kubernetes.io/metadata.name': name, ...labelsOf(raw.metadata?.labels) },
    phase: str(raw.status?.phase) ?? 'Active',
  };
}

export function normalizeNode(raw: Raw): Node {
  const addresses = arr(raw.status?.addresses);
  const podCIDRs = strs(raw.spec?.podCIDRs);
  if (podCIDRs.length === 0 && str(raw.spec?.podCIDR)) podCIDRs.push(raw.spec.podCIDR);
  const cidrs = validCIDRs(raw, 'podCIDR', podCIDRs);
  const conditions = conditionsOf(raw.status?.conditions);
  const readyCond = conditions.find((c) => c.type === 'Ready');
  return {
    name: String(raw.metadata?.name),
    labels: labelsOf(raw.metadata?.labels),
    internalIPs: validIPs(
      raw,
      'InternalIP',
      addresses.filter((a) => a.type === 'InternalIP').map((a) => String(a.address)),
    ),
    externalIPs: validIPs(
      raw,
      'ExternalIP',
      addresses.filter((a) => a.type === 'ExternalIP').map((a) => String(a.address)),
    ),
    hostname: str(addresses.find((a) => a.type === 'Hostname')?.address),
    podCIDRs: cidrs,
    ready: readyCond?.status === 'True' ? true : readyCond?.status === 'False' ? false : undefined,
    conditions,
    unschedulable: raw.spec?.unschedulable === true,
    taints: arr(raw.spec?.taints).map((t) => ({
      key: String(t.key),
      value: str(t.value),
      effect: String(t.effect),
    })),
  };
}

function normalizeContainer(raw: Raw): Container {
  return {
    name: String(raw.name),
    image: str(raw.image),
    ports: arr(raw.ports).map((p) => ({
      name: str(p.name),
      containerPort: Number(p.containerPort),
      protocol: protocolOf(p.protocol),
      hostPort: typeof p.hostPort === 'number' ? p.hostPort : undefined,
    })),
  };
}

function normalizeContainerStatus(raw: Raw): ContainerStatus {
  const stateKey = raw.state && typeof raw.state === 'object' ? Object.keys(raw.state)[0] : undefined;
  return {
    name: String(raw.name),
    ready: raw.ready === true,
    started: typeof raw.started === 'boolean' ? raw.started : undefined,
    restartCount: Number(raw.restartCount ?? 0),
    state: stateKey ?? 'unknown',
    reason: stateKey ? str(raw.state[stateKey]?.reason) : undefined,
  };
}

export function normalizePod(raw: Raw): Pod {
  const spec = raw.spec ?? {};
  const status = raw.status ?? {};
  let ips = arr(status.podIPs)
    .map((p) => String(p.ip))
    .filter(Boolean);
  if (ips.length === 0 && str(status.podIP)) ips.push(status.podIP);
  ips = validIPs(raw, 'pod IP', ips);
  const ready = arr(status.conditions).some((c) => c.type === 'Ready' && c.status === 'True');
  const owners: OwnerRef[] = arr(raw.metadata?.ownerReferences).map((o) => ({
    kind: String(o.kind),
    name: String(o.name),
    controller: o.controller === true,
  }));
  return {
    namespace: str(raw.metadata?.namespace) ?? 'default',
    name: String(raw.metadata?.name),
    uid: str(raw.metadata?.uid),
    labels: labelsOf(raw.metadata?.labels),
    ownerReferences: owners,
    nodeName: str(spec.nodeName),
    hostNetwork: spec.hostNetwork === true,
    ips,
    hostIP: validIPs(raw, 'hostIP', str(status.hostIP) ? [status.hostIP] : [])[0],
    phase: str(status.phase) ?? 'Unknown',
    ready,
    terminating: Boolean(raw.metadata?.deletionTimestamp),
    containers: arr(spec.containers).map(normalizeContainer),
    containerStatuses: arr(status.containerStatuses).map(normalizeContainerStatus),
    hostname: str(spec.hostname),
    subdomain: str(spec.subdomain),
    dnsPolicy: str(spec.dnsPolicy) ?? 'ClusterFirst',
    dnsConfig: spec.dnsConfig
      ? {
          nameservers: strs(spec.dnsConfig.nameservers),
          searches: strs(spec.dnsConfig.searches),
          options: arr(spec.dnsConfig.options).map((o) => ({ name: String(o.name), value: str(o.value) })),
        }
      : undefined,
  };
}

function normalizeServicePort(raw: Raw, index: number): ServicePort {
  const port = Number(raw.port);
  const tp = raw.targetPort;
  return {
    // A single unnamed port has name "" in the API; keep that so port names match slices.
    name: typeof raw.name === 'string' ? raw.name : index === 0 ? '' : String(index),
    protocol: protocolOf(raw.protocol),
    port,
    targetPort:
      tp === undefined || tp === null || tp === '' || tp === 0
        ? port
        : /^\d+$/.test(String(tp))
          ? Number(tp)
          : String(tp),
    nodePort: typeof raw.nodePort === 'number' ? raw.nodePort : undefined,
    appProtocol: str(raw.appProtocol),
  };
}

export function normalizeService(raw: Raw): Service {
  const spec = raw.spec ?? {};
  const type: Service['type'] = ['NodePort', 'LoadBalancer', 'ExternalName'].includes(spec.type)
    ? spec.type
    : 'ClusterIP';
  const rawIPs: string[] = strs(spec.clusterIPs);
  if (rawIPs.length === 0 && str(spec.clusterIP)) rawIPs.push(spec.clusterIP);
  const headless = type !== 'ExternalName' && rawIPs.includes('None');
  const selector =
    spec.selector && Object.keys(spec.selector).length > 0 ? labelsOf(spec.selector) : undefined;
  return {
    namespace: str(raw.metadata?.namespace) ?? 'default',
    name: String(raw.metadata?.name),
    type,
    clusterIPs: validIPs(
      raw,
      'clusterIP',
      rawIPs.filter((ip) => ip !== 'None' && ip !== ''),
    ),
    headless,
    ports: arr(spec.ports).map(normalizeServicePort),
    selector,
    externalName: str(spec.externalName),
    externalIPs: validIPs(raw, 'externalIP', strs(spec.externalIPs)),
    loadBalancerIPs: arr(raw.status?.loadBalancer?.ingress)
      .map((i) => str(i.ip))
      .filter((ip): ip is string => Boolean(ip) && isIP(ip as string)),
    loadBalancerSourceRanges: strs(spec.loadBalancerSourceRanges).map((s) => s.trim()),
    externalTrafficPolicy: spec.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
    internalTrafficPolicy: spec.internalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
    sessionAffinity: spec.sessionAffinity === 'ClientIP' ? 'ClientIP' : 'None',
    publishNotReadyAddresses: spec.publishNotReadyAddresses === true,
    ipFamilies: strs(spec.ipFamilies),
    healthCheckNodePort: typeof spec.healthCheckNodePort === 'number' ? spec.healthCheckNodePort : undefined,
    labels: labelsOf(raw.metadata?.labels),
  };
}

function normalizeEndpoint(raw: Raw): Endpoint {
  const c = raw.conditions ?? {};
  const terminating = c.terminating === true;
  // discovery/v1: nil ready means "ready" unless terminating; nil serving follows ready.
  const ready = c.ready === undefined || c.ready === null ? !terminating : c.ready === true;
  const serving = c.serving === undefined || c.serving === null ? ready : c.serving === true;
  const ref = raw.targetRef;
  return {
    addresses: strs(raw.addresses),
    conditions: { ready, serving, terminating },
    hostname: str(raw.hostname),
    nodeName: str(raw.nodeName),
    zone: str(raw.zone),
    targetRef: ref
      ? { kind: String(ref.kind), namespace: str(ref.namespace), name: String(ref.name) }
      : undefined,
  };
}

export function normalizeEndpointSlice(raw: Raw): EndpointSlice {
  return {
    namespace: str(raw.metadata?.namespace) ?? 'default',
    name: String(raw.metadata?.name),
    serviceName: str(raw.metadata?.labels?.['kubernetes.io/service-name']) ?? '',
    addressType: raw.addressType === 'IPv6' ? 'IPv6' : raw.addressType === 'FQDN' ? 'FQDN' : 'IPv4',
    ports: arr(raw.ports).map((p) => ({
      name: str(p.name) ?? '',
      port: Number(p.port),
      protocol: protocolOf(p.protocol),
    })),
    endpoints: arr(raw.endpoints)
      .map(normalizeEndpoint)
      .map((e) =>
        raw.addressType === 'FQDN' ? e : { ...e, addresses: validIPs(raw, 'endpoint address', e.addresses) },
      )
      .filter((e) => e.addresses.length > 0),
    source: 'EndpointSlice',
  };
}

/**
 * A legacy Endpoints object's "namespace/name": the Service it stands for, matched against the
 * Services that have EndpointSlices (build.ts, lazy-cluster.ts, the bundle digest).
 */
export function legacyEndpointsKey(raw: Raw): string {
  return `${raw.metadata?.namespace ?? 'default'}/${raw.metadata?.name}`;
}

/** A legacy v1 Endpoints object becomes one slice per subset and address family. */
export function endpointsToSlices(raw: Raw): EndpointSlice[] {
  const namespace = str(raw.metadata?.namespace) ?? 'default';
  const name = String(raw.metadata?.name);
  const slices: EndpointSlice[] = [];
  arr(raw.subsets).forEach((subset, i) => {
    const ports = arr(subset.ports).map((p) => ({
      name: str(p.name) ?? '',
      port: Number(p.port),
      protocol: protocolOf(p.protocol),
    }));
    const toEndpoint = (a: Raw, ready: boolean): Endpoint => ({
      addresses: [String(a.ip)],
      conditions: { ready, serving: ready, terminating: false },
      hostname: str(a.hostname),
      nodeName: str(a.nodeName),
      targetRef: a.targetRef
        ? {
            kind: String(a.targetRef.kind),
            namespace: str(a.targetRef.namespace),
            name: String(a.targetRef.name),
          }
        : undefined,
    });
    const endpoints = [
      ...arr(subset.addresses).map((a) => toEndpoint(a, true)),
      ...arr(subset.notReadyAddresses).map((a) => toEndpoint(a, false)),
    ].filter((e) => validIPs(raw, 'endpoint address', e.addresses).length > 0);
    for (const family of ['IPv4', 'IPv6'] as const) {
      const fam = endpoints.filter((e) => e.addresses[0].includes(':') === (family === 'IPv6'));
      if (fam.length)
        slices.push({
          namespace,
          name: `${name}-${i}-${family.toLowerCase()}`,
          serviceName: name,
          addressType: family,
          ports,
          endpoints: fam,
          source: 'Endpoints',
        });
    }
  });
  return slices;
}

function normalizePeer(raw: Raw): NetworkPolicyPeer {
  const peer: NetworkPolicyPeer = {};
  if (raw.podSelector) peer.podSelector = normalizeSelector(raw.podSelector);
  if (raw.namespaceSelector) peer.namespaceSelector = normalizeSelector(raw.namespaceSelector);
  if (raw.ipBlock) {
    const cidr = String(raw.ipBlock.cidr);
    // The API server refuses such a policy; read, it could only be guessed: the policy is skipped.
    if (!isCIDR(cidr)) throw new Error(`ipBlock.cidr ${JSON.stringify(cidr)} is not a CIDR`);
    const except = strs(raw.ipBlock.except);
    if (except.some((e) => !isCIDR(e))) throw new Error('ipBlock.except holds a value that is not a CIDR');
    peer.ipBlock = { cidr, except };
  }
  return peer;
}

function normalizeRule(raw: Raw, peersKey: 'from' | 'to'): NetworkPolicyRule {
  return {
    ports: arr(raw?.ports).map((p) => ({
      protocol: protocolOf(p.protocol),
      port:
        p.port === undefined || p.port === null
          ? undefined
          : /^\d+$/.test(String(p.port))
            ? Number(p.port)
            : String(p.port),
      endPort: typeof p.endPort === 'number' ? p.endPort : undefined,
    })),
    peers: arr(raw?.[peersKey]).map(normalizePeer),
  };
}

export function normalizeNetworkPolicy(raw: Raw): NetworkPolicy {
  const spec = raw.spec ?? {};
  let policyTypes = strs(spec.policyTypes).filter(
    (t): t is 'Ingress' | 'Egress' => t === 'Ingress' || t === 'Egress',
  );
  if (policyTypes.length === 0) {
    // API server default: Ingress always, plus Egress when the spec has egress rules.
    policyTypes = Array.isArray(spec.egress) && spec.egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  }
  return {
    namespace: str(raw.metadata?.namespace) ?? 'default',
    name: String(raw.metadata?.name),
    podSelector: normalizeSelector(spec.podSelector ?? {}),
    policyTypes,
    // A null rule decodes as the empty rule (allow all), as the API server reads it.
    ingress: rulesOf(spec.ingress).map((r) => normalizeRule(r, 'from')),
    egress: rulesOf(spec.egress).map((r) => normalizeRule(r, 'to')),
  };
}

function normalizeBackend(raw: Raw): IngressBackend | undefined {
  if (!raw) return undefined;
  if (raw.service) {
    return {
      service: {
        name: String(raw.service.name),
        port: { number: raw.service.port?.number, name: str(raw.service.port?.name) },
      },
    };
  }
  if (raw.resource)
    return {
      resource: {
        kind: String(raw.resource.kind),
        name: String(raw.resource.name),
        apiGroup: str(raw.resource.apiGroup),
      },
    };
  return undefined;
}

export function normalizeIngress(raw: Raw): Ingress {
  const spec = raw.spec ?? {};
  return {
    namespace: str(raw.metadata?.namespace) ?? 'default',
    name: String(raw.metadata?.name),
    className: str(spec.ingressClassName) ?? str(raw.metadata?.annotations?.['kubernetes.io/ingress.class']),
    defaultBackend: normalizeBackend(spec.defaultBackend),
    rules: arr(spec.rules).map((r) => ({
      host: str(r.host),
      paths: arr(r.http?.paths).map((p) => ({
        path: str(p.path),
        pathType: p.pathType === 'Exact' || p.pathType === 'Prefix' ? p.pathType : 'ImplementationSpecific',
        backend: normalizeBackend(p.backend) ?? {},
      })),
    })),
    tls: arr(spec.tls).map((t) => ({ hosts: strs(t.hosts), secretName: str(t.secretName) })),
    annotations: labelsOf(raw.metadata?.annotations),
    loadBalancerIPs: arr(raw.status?.loadBalancer?.ingress)
      .map((i) => str(i.ip))
      .filter((ip): ip is string => Boolean(ip) && isIP(ip as string)),
  };
}

export function normalizeIngressClass(raw: Raw): IngressClass {
  return {
    name: String(raw.metadata?.name),
    controller: String(raw.spec?.controller ?? ''),
    isDefault: raw.metadata?.annotations?.['ingressclass.kubernetes.io/is-default-class'] === 'true',
  };
}

/** The Gateway API group. */

/** A Gateway API object: the kind alone is not enough (Istio has a Gateway of its own). */
export function isGatewayApi(raw: Raw): boolean {
  return !raw.apiVersion || String(raw.apiVersion).startsWith(`${GATEWAY_GROUP}/`);
}

export function normalizeGateway(raw: Raw): Gateway {
  const spec = raw.spec ?? {};
  return {
    namespace: str(raw.metadata?.namespace) ?? 'default',
    name: String(raw.metadata?.name),
    className: str(spec.gatewayClassName),
    listeners: arr(spec.listeners).map((l) => ({
      name: String(l.name),
      hostname: str(l.hostname),
      port: Number(l.port),
      protocol: String(l.protocol ?? 'HTTP'),
      allowedKinds: arr(l.allowedRoutes?.kinds).map((k) => ({
        group: String(k.group ?? GATEWAY_GROUP),
        kind: String(k.kind),
      })),
      allowedFrom: String(l.allowedRoutes?.namespaces?.from ?? 'Same'),
      allowedSelector: normalizeSelector(l.allowedRoutes?.namespaces?.selector ?? {}),
    })),
    addresses: arr(raw.status?.addresses)
      .map((a) => str(a.value))
      .filter((a): a is string => a !== undefined),
  };
}

export function normalizeGatewayClass(raw: Raw): GatewayClass {
  return {
    name: String(raw.metadata?.name),
    controller: String(raw.spec?.controllerName ?? ''),
    conditions: conditionsOf(raw.status?.conditions),
  };
}

const valueMatches = (v: unknown): HTTPValueMatch[] =>
  arr(v).map((m) => ({
    name: String(m.name),
    type: m.type === 'RegularExpression' ? 'RegularExpression' : 'Exact',
    value: String(m.value),
  }));

function normalizeRouteMatch(raw: Raw): HTTPRouteMatch {
  const type = raw.path?.type;
  const value = raw.path?.value;
  return {
    path: {
      type: type === 'Exact' || type === 'RegularExpression' ? type : 'PathPrefix',
      value: value === undefined || value === null ? '/' : String(value),
    },
    headers: valueMatches(raw.headers),
    queryParams: valueMatches(raw.queryParams),
    method: str(raw.method),
  };
}

function normalizeBackendRef(raw: Raw, namespace: string): BackendReference {
  return {
    group: String(raw.group ?? ''),
    kind: String(raw.kind ?? 'Service'),
    namespace: str(raw.namespace) ?? namespace,
    name: String(raw.name),
    port: typeof raw.port === 'number' ? raw.port : undefined,
    weight: typeof raw.weight === 'number' ? raw.weight : 1,
    written: JSON.stringify(raw),
  };
}

export function normalizeHTTPRoute(raw: Raw): HTTPRoute {
  const spec = raw.spec ?? {};
  const namespace = str(raw.metadata?.namespace) ?? 'default';
  return {
    namespace,
    name: String(raw.metadata?.name),
    parentRefs: arr(spec.parentRefs).map((p) => ({
      kind: String(p.kind ?? 'Gateway'),
      namespace: str(p.namespace) ?? namespace,
      name: String(p.name),
      sectionName: str(p.sectionName),
      port: typeof p.port === 'number' ? p.port : undefined,
      written: JSON.stringify(p),
    })),
    hostnames: strs(spec.hostnames),
    rules: arr(spec.rules).map((r) => ({
      matches: arr(r.matches).map(normalizeRouteMatch),
      backendRefs: arr(r.backendRefs).map((b) => normalizeBackendRef(b, namespace)),
    })),
    parents: arr(raw.status?.parents).map((p) => ({
      parentRef: {
        namespace: str(p.parentRef?.namespace) ?? namespace,
        name: String(p.parentRef?.name),
        sectionName: str(p.parentRef?.sectionName),
      },
      conditions: conditionsOf(p.conditions),
    })),
  };
}

export function normalizeReferenceGrant(raw: Raw): ReferenceGrant {
  const spec = raw.spec ?? {};
  return {
    namespace: str(raw.metadata?.namespace) ?? 'default',
    name: String(raw.metadata?.name),
    from: arr(spec.from).map((f) => ({
      group: String(f.group ?? ''),
      kind: String(f.kind),
      namespace: String(f.namespace),
    })),
    to: arr(spec.to).map((t) => ({ group: String(t.group ?? ''), kind: String(t.kind), name: str(t.name) })),
  };
}

export function normalizeDaemonSet(raw: Raw): DaemonSet {
  return {
    namespace: str(raw.metadata?.namespace) ?? 'default',
    name: String(raw.metadata?.name),
    labels: labelsOf(raw.metadata?.labels),
    selector: normalizeSelector(raw.spec?.selector ?? {}),
    images: arr(raw.spec?.template?.spec?.containers).map((c) => String(c.image ?? '')),
    desired: Number(raw.status?.desiredNumberScheduled ?? 0),
    ready: Number(raw.status?.numberReady ?? 0),
  };
}

export function normalizeConfigMap(raw: Raw): ConfigMap {
  return {
    namespace: str(raw.metadata?.namespace) ?? 'default',
    name: String(raw.metadata?.name),
    data: labelsOf(raw.data),
  };
}

export function objectKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

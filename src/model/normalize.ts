// Raw Kubernetes API objects (from `kubectl get -o json|yaml`, or the API) → knet's typed model.
// Defaults are applied here exactly as the API server would have applied them, so analyses
// see one shape whatever the source.
import type {
  ConfigMap,
  Container,
  ContainerStatus,
  DaemonSet,
  Endpoint,
  EndpointSlice,
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
  Service,
  ServicePort,
} from './types.js';

// biome-ignore lint/suspicious/noExplicitAny: raw API JSON is untyped by nature
export type Raw = any;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const arr = (v: unknown): Raw[] => (Array.isArray(v) ? v : []);
const labelsOf = (v: unknown): Labels => (v && typeof v === 'object' ? (v as Labels) : {});
const protocolOf = (v: unknown): Protocol => (v === 'UDP' || v === 'SCTP' ? v : 'TCP');

export function normalizeSelector(raw: Raw): LabelSelector {
  return {
    matchLabels: labelsOf(raw?.matchLabels),
    matchExpressions: arr(raw?.matchExpressions).map((e) => ({
      key: String(e.key),
      operator: e.operator,
      values: arr(e.values).map(String),
    })),
  };
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
  const podCIDRs = arr(raw.spec?.podCIDRs).map(String);
  if (podCIDRs.length === 0 && str(raw.spec?.podCIDR)) podCIDRs.push(raw.spec.podCIDR);
  const conditions = arr(raw.status?.conditions).map((c) => ({
    type: String(c.type),
    status: String(c.status),
    reason: str(c.reason),
    message: str(c.message),
  }));
  const readyCond = conditions.find((c) => c.type === 'Ready');
  return {
    name: String(raw.metadata?.name),
    labels: labelsOf(raw.metadata?.labels),
    internalIPs: addresses.filter((a) => a.type === 'InternalIP').map((a) => String(a.address)),
    externalIPs: addresses.filter((a) => a.type === 'ExternalIP').map((a) => String(a.address)),
    hostname: str(addresses.find((a) => a.type === 'Hostname')?.address),
    podCIDRs,
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
  const stateKey = raw.state ? Object.keys(raw.state)[0] : undefined;
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
  const ips = arr(status.podIPs)
    .map((p) => String(p.ip))
    .filter(Boolean);
  if (ips.length === 0 && str(status.podIP)) ips.push(status.podIP);
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
    hostIP: str(status.hostIP),
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
          nameservers: arr(spec.dnsConfig.nameservers).map(String),
          searches: arr(spec.dnsConfig.searches).map(String),
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
  const rawIPs: string[] = arr(spec.clusterIPs).map(String);
  if (rawIPs.length === 0 && str(spec.clusterIP)) rawIPs.push(spec.clusterIP);
  const headless = type !== 'ExternalName' && rawIPs.includes('None');
  const selector =
    spec.selector && Object.keys(spec.selector).length > 0 ? labelsOf(spec.selector) : undefined;
  return {
    namespace: str(raw.metadata?.namespace) ?? 'default',
    name: String(raw.metadata?.name),
    type,
    clusterIPs: rawIPs.filter((ip) => ip !== 'None' && ip !== ''),
    headless,
    ports: arr(spec.ports).map(normalizeServicePort),
    selector,
    externalName: str(spec.externalName),
    externalIPs: arr(spec.externalIPs).map(String),
    loadBalancerIPs: arr(raw.status?.loadBalancer?.ingress)
      .map((i) => str(i.ip))
      .filter((ip): ip is string => Boolean(ip)),
    loadBalancerSourceRanges: arr(spec.loadBalancerSourceRanges).map((s) => String(s).trim()),
    externalTrafficPolicy: spec.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
    internalTrafficPolicy: spec.internalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
    sessionAffinity: spec.sessionAffinity === 'ClientIP' ? 'ClientIP' : 'None',
    publishNotReadyAddresses: spec.publishNotReadyAddresses === true,
    ipFamilies: arr(spec.ipFamilies).map(String),
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
    addresses: arr(raw.addresses).map(String),
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
    endpoints: arr(raw.endpoints).map(normalizeEndpoint),
    source: 'EndpointSlice',
  };
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
    ];
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
  if (raw.ipBlock)
    peer.ipBlock = { cidr: String(raw.ipBlock.cidr), except: arr(raw.ipBlock.except).map(String) };
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
  let policyTypes: ('Ingress' | 'Egress')[] = arr(spec.policyTypes).filter(
    (t) => t === 'Ingress' || t === 'Egress',
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
    ingress: arr(spec.ingress).map((r) => normalizeRule(r, 'from')),
    egress: arr(spec.egress).map((r) => normalizeRule(r, 'to')),
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
    tls: arr(spec.tls).map((t) => ({ hosts: arr(t.hosts).map(String), secretName: str(t.secretName) })),
    annotations: labelsOf(raw.metadata?.annotations),
    loadBalancerIPs: arr(raw.status?.loadBalancer?.ingress)
      .map((i) => str(i.ip))
      .filter((ip): ip is string => Boolean(ip)),
  };
}

export function normalizeIngressClass(raw: Raw): IngressClass {
  return {
    name: String(raw.metadata?.name),
    controller: String(raw.spec?.controller ?? ''),
    isDefault: raw.metadata?.annotations?.['ingressclass.kubernetes.io/is-default-class'] === 'true',
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

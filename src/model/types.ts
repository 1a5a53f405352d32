// The typed picture of one cluster. Objects here are normalised from the Kubernetes API
// shapes (a live list or a bundle) so that analyses never touch raw JSON.

export type Labels = Readonly<Record<string, string>>;
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values: string[];
}

/** metav1.LabelSelector. An empty selector ({}) matches everything. */
export interface LabelSelector {
  matchLabels: Labels;
  matchExpressions: LabelSelectorRequirement[];
}

export interface OwnerRef {
  kind: string;
  name: string;
  controller: boolean;
}

export interface Namespace {
  name: string;
  labels: Labels;
  phase: string;
}

/** A status condition (metav1.Condition, a Node's conditions). */
export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface Node {
  name: string;
  labels: Labels;
  internalIPs: string[];
  externalIPs: string[];
  hostname?: string;
  /** spec.podCIDRs (or the single spec.podCIDR), in the order the API lists them. */
  podCIDRs: string[];
  /** Ready condition: true, false, or undefined when the status is Unknown / absent. */
  ready: boolean | undefined;
  conditions: Condition[];
  unschedulable: boolean;
  taints: { key: string; value?: string; effect: string }[];
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol: Protocol;
  hostPort?: number;
}

export interface Container {
  name: string;
  image?: string;
  ports: ContainerPort[];
}

export interface ContainerStatus {
  name: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  /** 'running' | 'waiting' | 'terminated' with the reason when not running. */
  state: string;
  reason?: string;
}

export interface PodDnsConfig {
  nameservers: string[];
  searches: string[];
  options: { name: string; value?: string }[];
}

export interface Pod {
  namespace: string;
  name: string;
  uid?: string;
  labels: Labels;
  ownerReferences: OwnerRef[];
  nodeName?: string;
  hostNetwork: boolean;
  /** status.podIPs (or status.podIP), primary first. Empty when not assigned yet. */
  ips: string[];
  hostIP?: string;
  phase: string;
  /** The Ready condition is True. */
  ready: boolean;
  /** metadata.deletionTimestamp is set. */
  terminating: boolean;
  containers: Container[];
  containerStatuses: ContainerStatus[];
  hostname?: string;
  subdomain?: string;
  dnsPolicy: string;
  dnsConfig?: PodDnsConfig;
}

export interface ServicePort {
  name: string;
  protocol: Protocol;
  port: number;
  /** A number, or the name of a container port. Defaults to `port` as the API does. */
  targetPort: number | string;
  nodePort?: number;
  appProtocol?: string;
}

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';

export interface Service {
  namespace: string;
  name: string;
  type: ServiceType;
  /** Cluster IPs without the "None" marker; empty for headless and ExternalName services. */
  clusterIPs: string[];
  headless: boolean;
  ports: ServicePort[];
  /** undefined = no selector (endpoints are managed by hand); {} is never produced by the API. */
  selector?: Labels;
  externalName?: string;
  externalIPs: string[];
  loadBalancerIPs: string[];
  loadBalancerSourceRanges: string[];
  externalTrafficPolicy: 'Cluster' | 'Local';
  internalTrafficPolicy: 'Cluster' | 'Local';
  sessionAffinity: 'None' | 'ClientIP';
  publishNotReadyAddresses: boolean;
  ipFamilies: string[];
  healthCheckNodePort?: number;
  labels: Labels;
}

export interface EndpointConditions {
  /** Per the API, a nil `ready` means ready (unless terminating). */
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

export interface Endpoint {
  addresses: string[];
  conditions: EndpointConditions;
  hostname?: string;
  nodeName?: string;
  zone?: string;
  targetRef?: { kind: string; namespace?: string; name: string };
}

export interface EndpointPort {
  name: string;
  port: number;
  protocol: Protocol;
}

export interface EndpointSlice {
  namespace: string;
  name: string;
  /** The kubernetes.io/service-name label. */
  serviceName: string;
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  ports: EndpointPort[];
  endpoints: Endpoint[];
  /** 'EndpointSlice', or 'Endpoints' when converted from a legacy v1 Endpoints object. */
  source: 'EndpointSlice' | 'Endpoints';
}

export interface NetworkPolicyPort {
  protocol: Protocol;
  /** undefined = all ports. A string is a named port. */
  port?: number | string;
  endPort?: number;
}

export interface IPBlock {
  cidr: string;
  except: string[];
}

export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: IPBlock;
}

export interface NetworkPolicyRule {
  /** undefined or empty = all ports. */
  ports: NetworkPolicyPort[];
  /** `from` (ingress) or `to` (egress); empty = all peers. */
  peers: NetworkPolicyPeer[];
}

export interface NetworkPolicy {
  namespace: string;
  name: string;
  podSelector: LabelSelector;
  /** Defaulted exactly as the API server does when omitted. */
  policyTypes: ('Ingress' | 'Egress')[];
  ingress: NetworkPolicyRule[];
  egress: NetworkPolicyRule[];
}

export interface IngressBackend {
  service?: { name: string; port: { number?: number; name?: string } };
  resource?: { kind: string; name: string; apiGroup?: string };
}

export interface IngressPath {
  path?: string;
  pathType: 'Exact' | 'Prefix' | 'ImplementationSpecific';
  backend: IngressBackend;
}

export interface Ingress {
  namespace: string;
  name: string;
  className?: string;
  defaultBackend?: IngressBackend;
  rules: { host?: string; paths: IngressPath[] }[];
  tls: { hosts: string[]; secretName?: string }[];
  annotations: Labels;
  loadBalancerIPs: string[];
}

export interface IngressClass {
  name: string;
  controller: string;
  isDefault: boolean;
}

export interface DaemonSet {
  namespace: string;
  name: string;
  labels: Labels;
  selector: LabelSelector;
  images: string[];
  desired: number;
  ready: number;
}

export interface ConfigMap {
  namespace: string;
  name: string;
  data: Readonly<Record<string, string>>;
}

// The Gateway API (gateway.networking.k8s.io): what knet reads of a Gateway, its class, an
// HTTPRoute and a ReferenceGrant. References keep their text as written, for evidence.

export interface GatewayListener {
  name: string;
  hostname?: string;
  port: number;
  /** HTTP when absent. */
  protocol: string;
  /** allowedRoutes.kinds; empty: the kinds the protocol implies. The group defaults to the Gateway API's. */
  allowedKinds: { group: string; kind: string }[];
  /** allowedRoutes.namespaces.from: Same (the default), All, Selector, or a value knet does not know. */
  allowedFrom: string;
  /** allowedRoutes.namespaces.selector (for from: Selector). */
  allowedSelector: LabelSelector;
}

export interface Gateway {
  namespace: string;
  name: string;
  className?: string;
  listeners: GatewayListener[];
  /** status.addresses values. */
  addresses: string[];
}

export interface GatewayClass {
  name: string;
  /** spec.controllerName. */
  controller: string;
  conditions: Condition[];
}

export interface ParentReference {
  /** Gateway when absent. */
  kind: string;
  /** The route's namespace when absent. */
  namespace: string;
  name: string;
  sectionName?: string;
  port?: number;
  /** The reference as written (JSON). */
  written: string;
}

export interface BackendReference {
  /** "" (the core group) when absent. */
  group: string;
  /** Service when absent. */
  kind: string;
  /** The route's namespace when absent. */
  namespace: string;
  name: string;
  port?: number;
  /** 1 when absent. */
  weight: number;
  /** The reference as written (JSON). */
  written: string;
}

export interface HTTPValueMatch {
  name: string;
  type: 'Exact' | 'RegularExpression';
  value: string;
}

export interface HTTPRouteMatch {
  /** PathPrefix / when absent. */
  path: { type: 'Exact' | 'PathPrefix' | 'RegularExpression'; value: string };
  headers: HTTPValueMatch[];
  queryParams: HTTPValueMatch[];
  method?: string;
}

export interface HTTPRouteRule {
  /** As written: none means every request. */
  matches: HTTPRouteMatch[];
  backendRefs: BackendReference[];
}

/** status.parents[]: what the controller says about one parent. */
export interface RouteParentStatus {
  parentRef: { namespace: string; name: string; sectionName?: string };
  conditions: Condition[];
}

export interface HTTPRoute {
  namespace: string;
  name: string;
  parentRefs: ParentReference[];
  hostnames: string[];
  rules: HTTPRouteRule[];
  parents: RouteParentStatus[];
}

export interface ReferenceGrant {
  namespace: string;
  name: string;
  from: { group: string; kind: string; namespace: string }[];
  /** A target without a name covers every object of its kind. */
  to: { group: string; kind: string; name?: string }[];
}

/** Any object kind knet reads but does not model in detail (ReplicaSets, other policy kinds, …). */
export interface GenericObject {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  raw: Record<string, unknown>;
}

// The API resources knet reads: where each lives in the API and what its objects are called.
// A table, so that the reader, the error messages, the RBAC doc and the test server agree.
export interface ResourceInfo {
  /** API group ('' = core). */
  group: string;
  version: string;
  /** Plural resource name as in the URL and in RBAC rules. */
  resource: string;
  kind: string;
  namespaced: boolean;
}

export const RESOURCES = {
  namespaces: { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false },
  nodes: { group: '', version: 'v1', resource: 'nodes', kind: 'Node', namespaced: false },
  pods: { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true },
  services: { group: '', version: 'v1', resource: 'services', kind: 'Service', namespaced: true },
  endpoints: { group: '', version: 'v1', resource: 'endpoints', kind: 'Endpoints', namespaced: true },
  configmaps: { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true },
  /** Listed metadata-only, for their names (read.ts's namesOnly): never their data. */
  secrets: { group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespaced: true },
  endpointslices: {
    group: 'discovery.k8s.io',
    version: 'v1',
    resource: 'endpointslices',
    kind: 'EndpointSlice',
    namespaced: true,
  },
  networkpolicies: {
    group: 'networking.k8s.io',
    version: 'v1',
    resource: 'networkpolicies',
    kind: 'NetworkPolicy',
    namespaced: true,
  },
  ingresses: {
    group: 'networking.k8s.io',
    version: 'v1',
    resource: 'ingresses',
    kind: 'Ingress',
    namespaced: true,
  },
  ingressclasses: {
    group: 'networking.k8s.io',
    version: 'v1',
    resource: 'ingressclasses',
    kind: 'IngressClass',
    namespaced: false,
  },
  daemonsets: { group: 'apps', version: 'v1', resource: 'daemonsets', kind: 'DaemonSet', namespaced: true },
} as const satisfies Record<string, ResourceInfo>;

/** Gateway API kinds knet reads when the CRDs are installed (version found by discovery). */
export const GATEWAY_RESOURCES: readonly { resource: string; kind: string; namespaced: boolean }[] = [
  { resource: 'gatewayclasses', kind: 'GatewayClass', namespaced: false },
  { resource: 'gateways', kind: 'Gateway', namespaced: true },
  { resource: 'httproutes', kind: 'HTTPRoute', namespaced: true },
  { resource: 'grpcroutes', kind: 'GRPCRoute', namespaced: true },
  { resource: 'referencegrants', kind: 'ReferenceGrant', namespaced: true },
];

/** `pods`, `endpointslices.discovery.k8s.io`: how kubectl and RBAC name a resource. */
export function qualifiedResource(r: { group: string; resource: string }, subresource?: string): string {
  const base = r.group ? `${r.resource}.${r.group}` : r.resource;
  return subresource ? `${base}/${subresource}` : base;
}

export function apiVersionOf(r: { group: string; version: string }): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** The URL path of a collection or of one object. */
export function resourcePath(
  r: { group: string; version: string; resource: string },
  namespace?: string,
  name?: string,
  subresource?: string,
): string {
  const root = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  let p = root;
  if (namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${r.resource}`;
  if (name) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}

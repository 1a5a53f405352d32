// The groups of object kinds the commands read. A command names the groups its analyses use;
// the live reader lists just those, and a bundle holds whatever was captured.

export type ObjectKind =
  | 'namespaces'
  | 'nodes'
  | 'pods'
  | 'services'
  | 'endpointslices'
  | 'endpoints'
  | 'networkpolicies'
  | 'ingresses'
  | 'ingressclasses'
  | 'daemonsets'
  | 'configmaps'
  | 'gateway'
  /** Secret names only, never their data (Ingress TLS); read whenever Ingresses are. */
  | 'secretnames';

/** A Service and its backends: pods, their nodes and namespaces, the endpoint objects. */
export const SERVICE_KINDS = [
  'namespaces',
  'nodes',
  'pods',
  'services',
  'endpointslices',
  'endpoints',
] as const;

/**
 * A packet's path: the Services' backends, NetworkPolicies, and what names the proxy mode and
 * the CNI (kube-system's DaemonSets and the kube-proxy, coredns and cilium-config ConfigMaps).
 */
export const PATH_KINDS = [...SERVICE_KINDS, 'networkpolicies', 'daemonsets', 'configmaps'] as const;

/** The cluster's edges: Ingresses and their classes, the Gateway API kinds. */
export const EDGE_KINDS = ['ingresses', 'ingressclasses', 'gateway'] as const;

export const ALL_KINDS: readonly ObjectKind[] = [...PATH_KINDS, ...EDGE_KINDS, 'secretnames'];

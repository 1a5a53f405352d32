// The ServiceDiagnosis document (cli.md; fields documented in docs/endpoints.md).
import type { Finding } from '../../findings/types.js';
import type { Labels, Protocol, ServiceType } from '../../model/types.js';

export interface ServicePortSummary {
  /** The port's name ("" for a single unnamed port). */
  name: string;
  port: number;
  protocol: Protocol;
  /** As written in the Service: a number, or the name of a container port. */
  targetPort: number | string;
  nodePort: number | null;
  /** What the targetPort resolves to on the matching pods: each number with its pod count. */
  resolved: { port: number; pods: number }[];
  /** Matching pods on which a named targetPort resolves to nothing (they are no backend for it). */
  unresolvedPods: number;
}

export interface ServiceSummary {
  namespace: string;
  name: string;
  type: ServiceType;
  clusterIPs: string[];
  headless: boolean;
  externalName: string | null;
  ipFamilies: string[];
  ports: ServicePortSummary[];
  /** Equality selector; null when the Service has none (endpoints managed by hand). */
  selector: Labels | null;
  externalTrafficPolicy: 'Cluster' | 'Local';
  internalTrafficPolicy: 'Cluster' | 'Local';
  sessionAffinity: 'None' | 'ClientIP';
  publishNotReadyAddresses: boolean;
}

/**
 * One backend for one service port: a pod the selector matches (`origin: selector`), or an
 * address that only the EndpointSlices list (`origin: slice`: a selectorless service's manual
 * endpoints, or a stale address).
 */
export interface Backend {
  origin: 'selector' | 'slice';
  /** Pod name (same namespace as the service); for a slice address, the pod its targetRef or IP names. */
  pod: string | null;
  namespace: string;
  /** The first of `ips`. */
  ip: string | null;
  /** The pod's IPs in the service's address families. */
  ips: string[];
  node: string | null;
  phase: string | null;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** The service port's name, or its number when unnamed; null when the service has no ports. */
  port: string | number | null;
  protocol: Protocol | null;
  /** The targetPort resolved on this pod; null when it resolves to nothing. */
  targetPort: number | null;
  /** The EndpointSlice controller would publish this pod for this port. */
  expectedInEndpointSlices: boolean;
  /** Every address of it is listed for this port; null when the source holds no EndpointSlices. */
  inEndpointSlices: boolean | null;
  /** EndpointSlices (or converted Endpoints) that list it. */
  slices: string[];
  problems: string[];
}

export interface LabelDifference {
  selectorKey: string;
  selectorValue: string;
  /** The pod's key for it: the same key, a similar (mistyped) key, or null when absent. */
  podKey: string | null;
  podValue: string | null;
}

export interface NearMissGroup {
  /** 'one-off': misses the selector by one label; 'sibling': shares an owner with matching pods. */
  reason: 'one-off' | 'sibling';
  /** The pods' controller family (e.g. Deployment/web), when they have one. */
  owner: string | null;
  differences: LabelDifference[];
  /** Pod names (at most 20 listed); `count` is the full number. */
  pods: string[];
  count: number;
}

export interface NearMisses {
  inNamespace: NearMissGroup[];
  /** Pods in other namespaces that match the selector fully. */
  otherNamespaces: { namespace: string; pods: string[]; count: number }[];
  /** Selector keys that no pod of the namespace carries. */
  keysOnNoPod: string[];
}

export interface ServiceDiagnosis {
  service: ServiceSummary | null;
  backends: Backend[];
  nearMisses: NearMisses;
  /** Explanations that are not problems (publishNotReadyAddresses, sessionAffinity, …). */
  notes: string[];
  findings: Finding[];
}

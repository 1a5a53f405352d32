// The IngressDiagnosis document (cli.md; fields documented in docs/ingress.md). One shape for an
// Ingress, a Gateway API HTTPRoute and a Gateway (its routes): `ingress.kind` tells which.
import type { Finding } from '../../findings/types.js';
import type { Service, ServicePort } from '../../model/types.js';

export type RoutePathType =
  | 'Exact'
  | 'Prefix'
  | 'ImplementationSpecific'
  | 'PathPrefix'
  | 'RegularExpression'
  | 'Default';

export interface RouteBackendSummary {
  /** The Service name (null for an Ingress resource backend). */
  service: string | null;
  namespace: string;
  /** As written: a number or a port name (null when absent). */
  port: number | string | null;
  /** A non-Service backend: "Kind/name" (Ingress resource backends, other backendRef kinds). */
  resource: string | null;
}

export interface IngressRoute {
  /** The rule host (Ingress), or the route's hostnames joined by ", " (HTTPRoute); null = any. */
  host: string | null;
  hosts: string[];
  /** null for the default backend. */
  path: string | null;
  pathType: RoutePathType;
  /** Other conditions of an HTTPRoute match (headers, query parameters, method), as text. */
  conditions: string[];
  backend: RouteBackendSummary;
  /** HTTPRoute backendRef weight (share of the rule's requests); null for an Ingress. */
  weight: number | null;
  /** The Service port the backend resolves to (its number), null when it does not resolve. */
  servicePort: number | null;
  /** Ready endpoints behind that port; null when unknown (the backend does not resolve). */
  endpoints: number | null;
  /** The TLS Secret that covers this host (by name only), null when served without TLS. */
  tls: string | null;
  /** ok: traffic can reach a ready endpoint; broken: it cannot; unknown: knet cannot tell. */
  status: 'ok' | 'broken' | 'unknown';
  /** Finding codes that bite this route. */
  problems: string[];
  /** Where in the object: "spec.rules[0].http.paths[1]", "spec.defaultBackend". */
  source: string;
  /** The request (--host/--path) is sent here. */
  selected: boolean;
}

export interface ControllerSummary {
  /** IngressClass (or GatewayClass) name. */
  class: string | null;
  controller: string | null;
  /** The implementation knet recognised, e.g. "ingress-nginx". */
  implementation: string | null;
  pods: { namespace: string; name: string; node: string | null; ip: string | null; ready: boolean }[];
  /** Services that front the controller's pods (the way in from outside). */
  services: {
    namespace: string;
    name: string;
    type: string;
    clusterIPs: string[];
    loadBalancerIPs: string[];
    nodePorts: number[];
    externalTrafficPolicy: 'Cluster' | 'Local';
  }[];
  evidence: string[];
}

export interface GatewayParentSummary {
  namespace: string;
  name: string;
  sectionName: string | null;
  port: number | null;
  /** Listeners that accept the route (by name). */
  listeners: string[];
  /** knet's verdict on the attachment: true accepted, false not, null unknown. */
  accepted: boolean | null;
  /** status.parents conditions as "Type=Status (Reason): message". */
  conditions: string[];
  addresses: string[];
}

export interface IngressSummary {
  kind: 'Ingress' | 'HTTPRoute' | 'Gateway';
  namespace: string;
  name: string;
  /** IngressClass name (Ingress) or GatewayClass of the first parent Gateway (HTTPRoute). */
  class: string | null;
  /** Addresses from status (Ingress) or the parent Gateways' status. */
  addresses: string[];
  gateways?: GatewayParentSummary[];
}

export interface IngressRequest {
  host: string | null;
  path: string | null;
  /** Indexes into routes[] of the routes the request is sent to. */
  routes: number[];
  /** How the choice was made, in words. */
  reason: string;
}

export interface IngressDiagnosis {
  /** null when the Ingress / HTTPRoute does not exist. */
  ingress: IngressSummary | null;
  controller: ControllerSummary | null;
  routes: IngressRoute[];
  request: IngressRequest | null;
  notes: string[];
  findings: Finding[];
}

export interface RequestOptions {
  /** The request's Host header (a port is ignored). */
  host?: string;
  /** The request's path (default "/" when only a host is given). */
  path?: string;
}

/** A backend a request is sent to, for `knet trace … ing/NS/NAME` (docs/outside-in.md). */
export interface RouteBackend {
  /** null when the Service does not exist. */
  service: Service | null;
  /** null when the Service has no such port. */
  port: ServicePort | null;
  /** The routes[] entry it came from. */
  rule: IngressRoute;
  /** How the controller reaches it: the endpoints directly (most controllers) or the Service VIP. */
  upstream: 'endpoints' | 'service';
}

/** A request through an Ingress or HTTPRoute: the diagnosis and the backends it is sent to. */
export interface RouteRequest {
  diagnosis: IngressDiagnosis;
  backends: RouteBackend[];
}

// Raw objects for the endpoints tests, shaped like `kubectl get -o json` output: a Service, its
// EndpointSlices (discovery.k8s.io/v1) and legacy Endpoints, and pods with owners and ports.
import type { Raw } from '../../src/model/normalize.js';
import { type PodSpec, rawPod } from '../support/objects.js';

export interface EPod extends PodSpec {
  /** Controller owner: ReplicaSet name (kind defaults to ReplicaSet). */
  owner?: string;
  ownerKind?: string;
  /** Extra containers with their ports (the first container gets `ports`). */
  sidecars?: { name: string; ports: { name?: string; containerPort: number; protocol?: string }[] }[];
}

export function pod(p: EPod): Raw {
  const raw = rawPod({ namespace: 'shop', node: 'node-1', ...p });
  raw.metadata.uid = `uid-${p.name}`;
  if (p.owner) {
    raw.metadata.ownerReferences = [
      {
        apiVersion: 'apps/v1',
        kind: p.ownerKind ?? 'ReplicaSet',
        name: p.owner,
        uid: `uid-${p.owner}`,
        controller: true,
        blockOwnerDeletion: true,
      },
    ];
  }
  for (const s of p.sidecars ?? []) {
    raw.spec.containers.push({ name: s.name, image: 'registry.k8s.io/pause:3.10', ports: s.ports });
  }
  return raw;
}

export interface ESvc {
  name: string;
  namespace?: string;
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  ipFamilies?: string[];
  selector?: Record<string, string>;
  ports?: {
    name?: string;
    port: number;
    targetPort?: number | string;
    protocol?: string;
    nodePort?: number;
  }[];
  externalName?: string;
  externalTrafficPolicy?: string;
  internalTrafficPolicy?: string;
  publishNotReadyAddresses?: boolean;
  sessionAffinity?: string;
  healthCheckNodePort?: number;
}

export function service(s: ESvc): Raw {
  const clusterIPs =
    s.clusterIPs ?? (s.clusterIP ? [s.clusterIP] : s.type === 'ExternalName' ? [] : ['10.96.0.20']);
  const spec: Raw = {
    type: s.type ?? 'ClusterIP',
    ports: (s.ports ?? [{ name: 'http', port: 80, targetPort: 8080 }]).map((p) => ({
      protocol: 'TCP',
      ...p,
    })),
    sessionAffinity: s.sessionAffinity ?? 'None',
    internalTrafficPolicy: s.internalTrafficPolicy ?? 'Cluster',
  };
  if (s.selector) spec.selector = s.selector;
  if (clusterIPs.length) {
    spec.clusterIP = clusterIPs[0];
    spec.clusterIPs = clusterIPs;
    spec.ipFamilies =
      s.ipFamilies ??
      (clusterIPs[0] === 'None' ? ['IPv4'] : clusterIPs.map((ip) => (ip.includes(':') ? 'IPv6' : 'IPv4')));
    spec.ipFamilyPolicy = spec.ipFamilies.length > 1 ? 'PreferDualStack' : 'SingleStack';
  }
  if (s.externalName) spec.externalName = s.externalName;
  if (s.externalTrafficPolicy) spec.externalTrafficPolicy = s.externalTrafficPolicy;
  if (s.publishNotReadyAddresses) spec.publishNotReadyAddresses = true;
  if (s.healthCheckNodePort) spec.healthCheckNodePort = s.healthCheckNodePort;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: s.name, namespace: s.namespace ?? 'shop', uid: `uid-svc-${s.name}` },
    spec,
    status: { loadBalancer: {} },
  };
}

export interface EEndpoint {
  ip: string;
  pod?: string;
  node?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

export interface ESlice {
  service: string;
  name?: string;
  namespace?: string;
  addressType?: 'IPv4' | 'IPv6';
  ports?: { name?: string; port: number; protocol?: string }[];
  endpoints: EEndpoint[];
}

let sliceCounter = 0;

export function slice(s: ESlice): Raw {
  const ns = s.namespace ?? 'shop';
  sliceCounter++;
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: s.name ?? `${s.service}-${sliceCounter.toString(36).padStart(5, 'x')}`,
      namespace: ns,
      labels: {
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
        'kubernetes.io/service-name': s.service,
      },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: s.service, controller: true }],
    },
    addressType: s.addressType ?? 'IPv4',
    endpoints: s.endpoints.map((e) => {
      const terminating = e.terminating ?? false;
      const ready = e.ready ?? !terminating;
      return {
        addresses: [e.ip],
        conditions: { ready, serving: e.serving ?? ready, terminating },
        ...(e.node ? { nodeName: e.node } : {}),
        ...(e.pod ? { targetRef: { kind: 'Pod', namespace: ns, name: e.pod, uid: `uid-${e.pod}` } } : {}),
      };
    }),
    ports: (s.ports ?? [{ name: 'http', port: 8080 }]).map((p) => ({
      name: p.name ?? '',
      port: p.port,
      protocol: p.protocol ?? 'TCP',
    })),
  };
}

/** A legacy v1 Endpoints object (one subset). */
export function endpoints(e: {
  name: string;
  namespace?: string;
  ready: { ip: string; pod?: string; node?: string }[];
  notReady?: { ip: string; pod?: string; node?: string }[];
  ports: { name?: string; port: number; protocol?: string }[];
}): Raw {
  const ns = e.namespace ?? 'shop';
  const addr = (a: { ip: string; pod?: string; node?: string }) => ({
    ip: a.ip,
    ...(a.node ? { nodeName: a.node } : {}),
    ...(a.pod ? { targetRef: { kind: 'Pod', namespace: ns, name: a.pod } } : {}),
  });
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: e.name, namespace: ns },
    subsets: [
      {
        addresses: e.ready.map(addr),
        ...(e.notReady?.length ? { notReadyAddresses: e.notReady.map(addr) } : {}),
        ports: e.ports.map((p) => ({
          ...(p.name ? { name: p.name } : {}),
          port: p.port,
          protocol: p.protocol ?? 'TCP',
        })),
      },
    ],
  };
}

export function replicaSet(name: string, deployment: string, namespace = 'shop'): Raw {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      namespace,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment, controller: true }],
    },
    spec: { replicas: 2 },
  };
}

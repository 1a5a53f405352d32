// Raw objects for the ingress and Gateway API tests, shaped as `kubectl get -o json` prints them.
import type { Raw } from '../../src/model/normalize.js';
import { rawNamespace, rawNode, rawPod } from '../support/objects.js';

export function rawService(
  namespace: string,
  name: string,
  ports: { name?: string; port: number; targetPort?: number | string; nodePort?: number }[],
  selector: Record<string, string> | undefined,
  extra: { type?: string; clusterIP?: string; lb?: string; etp?: string } = {},
): Raw {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: {
      type: extra.type ?? 'ClusterIP',
      clusterIP: extra.clusterIP ?? '10.96.0.100',
      clusterIPs: [extra.clusterIP ?? '10.96.0.100'],
      ports: ports.map((p) => ({ protocol: 'TCP', ...p })),
      ...(selector ? { selector } : {}),
      ...(extra.etp ? { externalTrafficPolicy: extra.etp } : {}),
    },
    status: extra.lb ? { loadBalancer: { ingress: [{ ip: extra.lb }] } } : {},
  };
}

export function rawSlice(
  namespace: string,
  service: string,
  port: { name: string; port: number },
  endpoints: { ip: string; ready: boolean; pod?: string }[],
): Raw {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${service}-abcde`, namespace, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ name: port.name, port: port.port, protocol: 'TCP' }],
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready },
      ...(e.pod ? { targetRef: { kind: 'Pod', namespace, name: e.pod } } : {}),
    })),
  };
}

export interface PathSpec {
  path?: string;
  pathType?: string;
  service: string;
  port: number | string;
}

export function rawIngress(
  namespace: string,
  name: string,
  spec: {
    className?: string;
    annotationClass?: string;
    rules?: { host?: string; paths: PathSpec[] }[];
    defaultBackend?: { service: string; port: number | string };
    tls?: { hosts: string[]; secretName?: string }[];
    annotations?: Record<string, string>;
  },
): Raw {
  const backend = (b: { service: string; port: number | string }) => ({
    service: { name: b.service, port: typeof b.port === 'number' ? { number: b.port } : { name: b.port } },
  });
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name,
      namespace,
      annotations: {
        ...(spec.annotationClass ? { 'kubernetes.io/ingress.class': spec.annotationClass } : {}),
        ...spec.annotations,
      },
    },
    spec: {
      ...(spec.className ? { ingressClassName: spec.className } : {}),
      ...(spec.defaultBackend ? { defaultBackend: backend(spec.defaultBackend) } : {}),
      ...(spec.tls ? { tls: spec.tls } : {}),
      rules: (spec.rules ?? []).map((r) => ({
        ...(r.host ? { host: r.host } : {}),
        http: {
          paths: r.paths.map((p) => ({
            path: p.path ?? '/',
            pathType: p.pathType ?? 'Prefix',
            backend: backend(p),
          })),
        },
      })),
    },
  };
}

export function rawIngressClass(name: string, controller: string, isDefault = false): Raw {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: {
      name,
      annotations: isDefault ? { 'ingressclass.kubernetes.io/is-default-class': 'true' } : {},
    },
    spec: { controller },
  };
}

/** ingress-nginx: controller pod, its LoadBalancer Service and slice. */
export function ingressNginx(opts: { ready?: boolean; etp?: string } = {}): Raw[] {
  const labels = { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' };
  const pod = rawPod({
    namespace: 'ingress-nginx',
    name: 'ingress-nginx-controller-7b9f6-x2kq9',
    node: 'node-2',
    ip: '10.244.2.20',
    labels,
    ready: opts.ready ?? true,
    ports: [{ name: 'http', containerPort: 80 }],
  });
  pod.spec.containers[0].image = 'registry.k8s.io/ingress-nginx/controller:v1.11.2';
  return [
    rawNamespace('ingress-nginx'),
    pod,
    rawService(
      'ingress-nginx',
      'ingress-nginx-controller',
      [{ name: 'http', port: 80, targetPort: 'http', nodePort: 30080 }],
      labels,
      {
        type: 'LoadBalancer',
        clusterIP: '10.96.150.12',
        lb: '172.18.255.201',
        etp: opts.etp ?? 'Local',
      },
    ),
    rawSlice('ingress-nginx', 'ingress-nginx-controller', { name: 'http', port: 80 }, [
      { ip: '10.244.2.20', ready: opts.ready ?? true },
    ]),
  ];
}

/** A shop namespace: web (2 ready pods, port 80 → 8080 "http"), api (no ready pod), nodes. */
export function shop(): Raw[] {
  return [
    rawNode({ name: 'node-1', ip: '172.18.0.2', podCIDRs: ['10.244.1.0/24'] }),
    rawNode({ name: 'node-2', ip: '172.18.0.3', podCIDRs: ['10.244.2.0/24'] }),
    rawNamespace('shop'),
    rawNamespace('payments', { team: 'payments' }),
    rawPod({
      namespace: 'shop',
      name: 'web-1',
      node: 'node-1',
      ip: '10.244.1.5',
      labels: { app: 'web' },
      ports: [{ name: 'http', containerPort: 8080 }],
    }),
    rawPod({
      namespace: 'shop',
      name: 'web-2',
      node: 'node-2',
      ip: '10.244.2.5',
      labels: { app: 'web' },
      ports: [{ name: 'http', containerPort: 8080 }],
    }),
    rawService(
      'shop',
      'web',
      [{ name: 'http', port: 80, targetPort: 'http' }],
      { app: 'web' },
      { clusterIP: '10.96.0.20' },
    ),
    rawSlice('shop', 'web', { name: 'http', port: 8080 }, [
      { ip: '10.244.1.5', ready: true, pod: 'web-1' },
      { ip: '10.244.2.5', ready: true, pod: 'web-2' },
    ]),
    rawPod({
      namespace: 'shop',
      name: 'api-1',
      node: 'node-1',
      ip: '10.244.1.6',
      labels: { app: 'api' },
      ready: false,
      ports: [{ name: 'http', containerPort: 9000 }],
    }),
    rawService(
      'shop',
      'api',
      [{ name: 'http', port: 80, targetPort: 9000 }],
      { app: 'api' },
      { clusterIP: '10.96.0.21' },
    ),
    rawSlice('shop', 'api', { name: 'http', port: 9000 }, [{ ip: '10.244.1.6', ready: false, pod: 'api-1' }]),
    rawPod({
      namespace: 'payments',
      name: 'pay-1',
      node: 'node-2',
      ip: '10.244.2.9',
      labels: { app: 'pay' },
      ports: [{ name: 'https', containerPort: 8443 }],
    }),
    rawService(
      'payments',
      'pay',
      [{ name: 'https', port: 443, targetPort: 'https' }],
      { app: 'pay' },
      { clusterIP: '10.96.0.30' },
    ),
    rawSlice('payments', 'pay', { name: 'https', port: 8443 }, [
      { ip: '10.244.2.9', ready: true, pod: 'pay-1' },
    ]),
  ];
}

export function rawSecret(namespace: string, name: string): Raw {
  // Names only: knet never reads Secret data, and bundles never carry it.
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'kubernetes.io/tls' };
}

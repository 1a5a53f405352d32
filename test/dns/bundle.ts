// The test cluster for the DNS tests: small raw API objects, as kubectl prints them.
import type { Raw } from '../../src/model/normalize.js';

const ns = (name: string): Raw => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

function svc(namespace: string, name: string, spec: Raw): Raw {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace, name }, spec };
}

function pod(
  namespace: string,
  name: string,
  ip: string,
  extra: { ready?: boolean; labels?: Raw; spec?: Raw } = {},
): Raw {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace, name, labels: extra.labels ?? {} },
    spec: { nodeName: 'node-1', containers: [{ name: 'c' }], ...(extra.spec ?? {}) },
    status: {
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      conditions: [{ type: 'Ready', status: extra.ready === false ? 'False' : 'True' }],
    },
  };
}

interface Ep {
  ip: string;
  hostname?: string;
  ready?: boolean;
  pod?: string;
}

function slice(
  namespace: string,
  service: string,
  name: string,
  ports: Raw[],
  eps: Ep[],
  addressType = 'IPv4',
): Raw {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace, name, labels: { 'kubernetes.io/service-name': service } },
    addressType,
    ports,
    endpoints: eps.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready !== false },
      ...(e.hostname ? { hostname: e.hostname } : {}),
      ...(e.pod ? { targetRef: { kind: 'Pod', namespace, name: e.pod } } : {}),
    })),
  };
}

/** Number of endpoints of app/big: enough that its A answer exceeds 1232 bytes over UDP. */
export const BIG_ENDPOINTS = 100;

export function bigIPs(): string[] {
  return Array.from({ length: BIG_ENDPOINTS }, (_, i) => `10.244.9.${i + 1}`);
}

export function testBundle(): Raw[] {
  const http8080 = [{ name: 'http', port: 8080, protocol: 'TCP' }];
  return [
    ns('default'),
    ns('kube-system'),
    ns('app'),
    ns('other-ns'),
    svc('default', 'kubernetes', {
      clusterIP: '10.96.0.1',
      clusterIPs: ['10.96.0.1'],
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }],
    }),
    svc('kube-system', 'kube-dns', {
      clusterIP: '10.96.0.10',
      selector: { 'k8s-app': 'kube-dns' },
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        { name: 'metrics', port: 9153, protocol: 'TCP' },
      ],
    }),
    pod('kube-system', 'coredns-a', '10.244.0.2', { labels: { 'k8s-app': 'kube-dns' } }),
    slice(
      'kube-system',
      'kube-dns',
      'kube-dns-x1',
      [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        { name: 'metrics', port: 9153, protocol: 'TCP' },
      ],
      [{ ip: '10.244.0.2', pod: 'coredns-a' }],
    ),
    svc('app', 'svc-b', {
      clusterIP: '10.96.12.34',
      selector: { app: 'b' },
      ports: [
        { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 },
        { name: 'dns', port: 53, protocol: 'UDP' },
      ],
    }),
    svc('app', 'single', { clusterIP: '10.96.12.40', ports: [{ port: 8080, protocol: 'TCP' }] }),
    svc('app', 'dual', {
      clusterIP: '10.96.7.7',
      clusterIPs: ['10.96.7.7', 'fd00:10:96::7'],
      ipFamilies: ['IPv4', 'IPv6'],
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    }),
    svc('app', 'v6only', {
      clusterIP: 'fd00:10:96::99',
      clusterIPs: ['fd00:10:96::99'],
      ipFamilies: ['IPv6'],
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    }),
    svc('app', 'headless', {
      clusterIP: 'None',
      selector: { app: 'web' },
      ports: [{ name: 'http', port: 80, targetPort: 8080 }],
    }),
    pod('app', 'web-0', '10.244.1.10', { labels: { app: 'web' } }),
    pod('app', 'web-1', '10.244.1.11', { labels: { app: 'web' } }),
    pod('app', 'web-2', '10.244.2.12', { labels: { app: 'web' } }),
    pod('app', 'web-3', '10.244.2.13', { labels: { app: 'web' }, ready: false }),
    slice('app', 'headless', 'headless-abc', http8080, [
      { ip: '10.244.1.10', hostname: 'web-0', pod: 'web-0' },
      { ip: '10.244.1.11', hostname: 'web-1', pod: 'web-1' },
      { ip: '10.244.2.12', hostname: 'web-2', pod: 'web-2' },
      { ip: '10.244.2.13', hostname: 'web-3', pod: 'web-3', ready: false },
    ]),
    // Pods with hostname/subdomain; the slice lacks the hostname (knet takes it from the pod).
    svc('app', 'sub', { clusterIP: 'None', selector: { app: 'sub' }, ports: [{ name: 'grpc', port: 9000 }] }),
    pod('app', 'sub-a', '10.244.1.20', {
      labels: { app: 'sub' },
      spec: { hostname: 'alpha', subdomain: 'sub' },
    }),
    pod('app', 'sub-b', '10.244.1.21', { labels: { app: 'sub' } }),
    slice(
      'app',
      'sub',
      'sub-xyz',
      [{ name: 'grpc', port: 9000, protocol: 'TCP' }],
      [
        { ip: '10.244.1.20', pod: 'sub-a' },
        { ip: '10.244.1.21', pod: 'sub-b' },
      ],
    ),
    // publishNotReadyAddresses: the unready endpoint is published.
    svc('app', 'pnr', {
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: { app: 'pnr' },
      ports: [{ name: 'peer', port: 7000 }],
    }),
    pod('app', 'pnr-0', '10.244.3.30', { labels: { app: 'pnr' }, ready: false }),
    slice(
      'app',
      'pnr',
      'pnr-1',
      [{ name: 'peer', port: 7000, protocol: 'TCP' }],
      [{ ip: '10.244.3.30', hostname: 'pnr-0', pod: 'pnr-0', ready: false }],
    ),
    // Headless with only unready endpoints: NXDOMAIN (spec 2.4.1).
    svc('app', 'empty-headless', {
      clusterIP: 'None',
      selector: { app: 'none' },
      ports: [{ name: 'http', port: 80 }],
    }),
    slice('app', 'empty-headless', 'empty-1', http8080, [{ ip: '10.244.2.13', ready: false }]),
    svc('app', 'ext', {
      type: 'ExternalName',
      externalName: 'www.example.com',
      ports: [{ name: 'http', port: 80 }],
    }),
    svc('app', 'ext-internal', { type: 'ExternalName', externalName: 'svc-b.app.svc.cluster.local' }),
    svc('app', 'big', { clusterIP: 'None', selector: { app: 'big' }, ports: [{ name: 'http', port: 80 }] }),
    slice(
      'app',
      'big',
      'big-1',
      http8080,
      bigIPs().map((ip) => ({ ip })),
    ),
    svc('other-ns', 'svc-b', { clusterIP: '10.96.50.1', ports: [{ name: 'http', port: 80 }] }),
    pod('app', 'client', '10.244.1.50'),
    pod('other-ns', 'client', '10.244.2.50'),
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { namespace: 'kube-system', name: 'coredns' },
      data: {
        Corefile: [
          '.:53 {',
          '    errors',
          '    health {',
          '       lameduck 5s',
          '    }',
          '    ready',
          '    kubernetes cluster.local in-addr.arpa ip6.arpa {',
          '       pods insecure',
          '       fallthrough in-addr.arpa ip6.arpa',
          '       ttl 30',
          '    }',
          '    prometheus :9153',
          '    forward . /etc/resolv.conf {',
          '       max_concurrent 1000',
          '    }',
          '    cache 30',
          '    loop',
          '    reload',
          '    loadbalance',
          '}',
          '',
        ].join('\n'),
      },
    },
  ];
}

// A cluster for the live trace tests: a fixed path (shop/web-1 → svc/shop/cart, three cart
// backends on two nodes, NetworkPolicies with namespace selectors, payments/pay-1) inside as
// many other nodes, pods, Services and policies as asked, some of them in the path's own
// namespace. The path is the same at every size: a trace of it must cost the same requests.
import type { Raw } from '../../src/model/normalize.js';
import { rawService, rawSlice, shop } from '../edges/builders.js';
import { slice } from '../endpoints/builders.js';
import { rawNamespace, rawNode, rawPod } from '../support/objects.js';

const NAMESPACE_NAME = 'kubernetes.io/metadata.name';

function daemonSet(name: string, image: string): Raw {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: 'kube-system' },
    spec: { template: { spec: { containers: [{ name, image }] } } },
    status: { desiredNumberScheduled: 2, numberReady: 2 },
  };
}

function configMap(name: string, data: Record<string, string>): Raw {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'kube-system' }, data };
}

function policy(namespace: string, name: string, spec: Raw): Raw {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec };
}

function cartPod(i: number, node: string, ready = true): Raw {
  const pod = rawPod({
    namespace: 'shop',
    name: `cart-7d9f8-${i}`,
    node,
    ip: `10.244.${node === 'node-1' ? 1 : 2}.${10 + i}`,
    labels: { app: 'cart', 'pod-template-hash': '7d9f8' },
    ready,
    ports: [{ name: 'http', containerPort: 8080 }],
  });
  pod.metadata.ownerReferences = [
    { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'cart-7d9f8', controller: true },
  ];
  return pod;
}

/** The objects on the path, and those the extra cases use. */
function pathObjects(): Raw[] {
  const carts = [cartPod(0, 'node-1'), cartPod(1, 'node-2'), cartPod(2, 'node-2', false)];
  return [
    // node-1, node-2, shop/web-1 (the source), payments/pay-1 (a pod destination), and more.
    ...shop(),
    rawNamespace('default'),
    rawNamespace('kube-system'),
    daemonSet('kube-proxy', 'registry.k8s.io/kube-proxy:v1.31.0'),
    daemonSet('calico-node', 'docker.io/calico/node:v3.28.0'),
    configMap('kube-proxy', {
      'config.conf':
        'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: iptables\nclusterCIDR: 10.244.0.0/16\n',
    }),
    configMap('coredns', {
      Corefile:
        '.:53 {\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n    }\n    forward . /etc/resolv.conf\n}\n',
    }),
    ...carts,
    rawService(
      'shop',
      'cart',
      [{ name: 'http', port: 80, targetPort: 'http' }],
      { app: 'cart' },
      { clusterIP: '10.96.0.50' },
    ),
    slice({
      service: 'cart',
      name: 'cart-x1',
      ports: [{ name: 'http', port: 8080 }],
      endpoints: carts.map((p) => ({
        ip: p.status.podIP,
        pod: p.metadata.name,
        node: p.spec.nodeName,
        ready: p.status.conditions[0].status === 'True',
      })),
    }),
    policy('shop', 'default-deny', { podSelector: {}, policyTypes: ['Ingress'] }),
    policy('shop', 'cart-from-web', {
      podSelector: { matchLabels: { app: 'cart' } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { [NAMESPACE_NAME]: 'shop' } },
              podSelector: { matchLabels: { app: 'web' } },
            },
          ],
          ports: [{ port: 'http' }],
        },
      ],
    }),
    // payments/pay-1 is isolated by its own policy.
    policy('payments', 'pay-from-shop', {
      podSelector: { matchLabels: { app: 'pay' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME]: 'shop' } } }] }],
    }),
    // A selector that matches nothing, one pod that nearly matches it.
    rawService(
      'shop',
      'ghost',
      [{ name: 'http', port: 80, targetPort: 8080 }],
      { app: 'ghost' },
      { clusterIP: '10.96.0.51' },
    ),
    rawPod({
      namespace: 'shop',
      name: 'ghosty-1',
      node: 'node-1',
      ip: '10.244.1.40',
      labels: { app: 'ghsot' },
    }),
    // A Service with a ready pod and no EndpointSlice.
    rawService(
      'shop',
      'bare',
      [{ name: 'http', port: 80, targetPort: 8080 }],
      { app: 'bare' },
      { clusterIP: '10.96.0.52' },
    ),
    rawPod({ namespace: 'shop', name: 'bare-1', node: 'node-2', ip: '10.244.2.41', labels: { app: 'bare' } }),
    // A selectorless Service whose hand-made slice points at pay-1 by address only.
    rawService('shop', 'manual', [{ name: 'https', port: 443, targetPort: 8443 }], undefined, {
      clusterIP: '10.96.0.53',
    }),
    rawSlice('shop', 'manual', { name: 'https', port: 8443 }, [{ ip: '10.244.2.9', ready: true }]),
  ];
}

/** `size` more nodes and pods (a fifth of the pods in shop), with Services and policies. */
function filler(size: number): Raw[] {
  const out: Raw[] = [];
  const namespaces = Math.max(1, Math.floor(size / 100));
  for (let n = 0; n < namespaces; n++) out.push(rawNamespace(`team-${n}`));
  for (let i = 0; i < size; i++) {
    const node = `worker-${String(i).padStart(4, '0')}`;
    out.push(
      rawNode({
        name: node,
        ip: `172.19.${i >> 8}.${i & 255}`,
        podCIDRs: [`10.${100 + (i >> 8)}.${i & 255}.0/24`],
      }),
    );
    const namespace = i % 5 === 0 ? 'shop' : `team-${i % namespaces}`;
    const app = `app-${i % 50}`;
    out.push(
      rawPod({
        namespace,
        name: `${app}-${i}`,
        node,
        ip: `10.${100 + (i >> 8)}.${i & 255}.2`,
        labels: { app },
      }),
    );
    if (i % 50 === i % 100 && namespace !== 'shop') {
      out.push(
        rawService(
          namespace,
          app,
          [{ name: 'http', port: 80 }],
          { app },
          { clusterIP: `10.97.${i >> 8}.${i & 255}` },
        ),
      );
      out.push(
        policy(namespace, `${app}-policy`, {
          podSelector: { matchLabels: { app } },
          policyTypes: ['Ingress'],
        }),
      );
    }
  }
  return out;
}

export function pathCluster(size: number): Raw[] {
  return [...pathObjects(), ...filler(size)];
}

// The demo cluster (examples/demo/): a three-node cluster with a shop, a payments service and
// monitoring, as `kubectl get -o json` would return it, with four planted breakages:
//   (a) svc/shop/frontend selects app=fronted; its pods are app=frontend (one-letter typo);
//   (b) svc/shop/catalog targets the named port "http-api"; the catalog pods name theirs "http";
//   (c) one cart pod runs but fails its readiness probe (its slice entry is ready=false);
//   (d) payments/payments-api admits only app=checkout from shop: shop's frontend is denied.
// Names, uids and timestamps are derived deterministically, so a rebuild changes only what the
// kernel reports (MAC addresses, ifindexes, iptables-save's date line).
import { createHash } from 'node:crypto';
import type { Raw } from '../../src/model/normalize.js';
import {
  at,
  COREFILE,
  configMapObject,
  daemonSetObject,
  defaultTolerations,
  EPOCH,
  kubeProxyConfig,
  NAME_SUFFIX_ALPHABET,
  namespaceObject,
  networkPolicyObject,
} from '../support/cluster-parts.js';
import type { Scenario } from './scenario.js';

const digest = (seed: string) => createHash('sha256').update(seed).digest();

/** A UUID as the API server generates them (version 4 layout), derived from `seed`. */
export function demoUid(seed: string): string {
  const h = digest(`uid:${seed}`).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[Number.parseInt(h[16], 16) % 4]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function demoSuffix(seed: string, n: number): string {
  const d = digest(`suffix:${seed}`);
  let out = '';
  for (let i = 0; i < n; i++) out += NAME_SUFFIX_ALPHABET[d[i] % NAME_SUFFIX_ALPHABET.length];
  return out;
}

let resourceVersion = 1000;
function rv(): string {
  resourceVersion += 37;
  return String(resourceVersion);
}

export const DEMO_NODES = [
  { name: 'demo-control-plane', ip: '172.18.0.2', cidr: '10.244.0.0/24', controlPlane: true, zone: 'zone-a' },
  { name: 'demo-worker', ip: '172.18.0.3', cidr: '10.244.1.0/24', controlPlane: false, zone: 'zone-a' },
  { name: 'demo-worker2', ip: '172.18.0.4', cidr: '10.244.2.0/24', controlPlane: false, zone: 'zone-b' },
] as const;
type NodeName = (typeof DEMO_NODES)[number]['name'];

const K8S_VERSION = 'v1.31.2';

function namespace(name: string, minutes: number, labels: Record<string, string> = {}): Raw {
  return namespaceObject({
    name,
    uid: demoUid(`ns/${name}`),
    resourceVersion: rv(),
    creationTimestamp: at(minutes),
    labels,
  });
}

function node(n: (typeof DEMO_NODES)[number]): Raw {
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': n.name,
    'kubernetes.io/os': 'linux',
    'topology.kubernetes.io/zone': n.zone,
  };
  if (n.controlPlane) {
    labels['node-role.kubernetes.io/control-plane'] = '';
    labels['node.kubernetes.io/exclude-from-external-load-balancers'] = '';
  }
  const cond = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: at(600),
    lastTransitionTime: at(n.controlPlane ? 1 : 2),
  });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      uid: demoUid(`node/${n.name}`),
      resourceVersion: rv(),
      creationTimestamp: at(n.controlPlane ? 0 : 1),
      labels,
      annotations: {
        'kubeadm.alpha.kubernetes.io/cri-socket': 'unix:///run/containerd/containerd.sock',
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
    },
    spec: {
      podCIDR: n.cidr,
      podCIDRs: [n.cidr],
      providerID: `kind://docker/demo/${n.name}`,
      ...(n.controlPlane
        ? { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }
        : {}),
    },
    status: {
      addresses: [
        { type: 'InternalIP', address: n.ip },
        { type: 'Hostname', address: n.name },
      ],
      allocatable: { cpu: '4', 'ephemeral-storage': '102626232Ki', memory: '16283704Ki', pods: '110' },
      capacity: { cpu: '4', 'ephemeral-storage': '102626232Ki', memory: '16283704Ki', pods: '110' },
      conditions: [
        cond(
          'MemoryPressure',
          'False',
          'KubeletHasSufficientMemory',
          'kubelet has sufficient memory available',
        ),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        architecture: 'amd64',
        bootID: demoUid(`boot/${n.name}`),
        containerRuntimeVersion: 'containerd://1.7.18',
        kernelVersion: '6.8.0-45-generic',
        kubeProxyVersion: K8S_VERSION,
        kubeletVersion: K8S_VERSION,
        machineID: digest(`machine/${n.name}`).toString('hex').slice(0, 32),
        operatingSystem: 'linux',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        systemUUID: demoUid(`system/${n.name}`),
      },
    },
  };
}

interface ContainerSpec {
  name: string;
  image: string;
  ports?: { name: string; containerPort: number; protocol?: 'TCP' | 'UDP' }[];
  /** An HTTP readiness probe on this port name. */
  readiness?: string;
  args?: string[];
}

interface PodSpec {
  namespace: string;
  name: string;
  node: NodeName;
  /** Pod IP; for hostNetwork pods the node's IP. */
  ip: string;
  labels: Record<string, string>;
  owner: { kind: 'ReplicaSet' | 'StatefulSet' | 'DaemonSet'; name: string };
  containers: ContainerSpec[];
  hostNetwork?: boolean;
  ready?: boolean;
  dnsPolicy?: 'ClusterFirst' | 'Default' | 'ClusterFirstWithHostNet';
  priorityClassName?: string;
  hostname?: string;
  subdomain?: string;
  serviceAccountName?: string;
  startedAt: number;
  tolerations?: Raw[];
}

const nodeIP = (name: NodeName) => DEMO_NODES.find((n) => n.name === name)!.ip;

function pod(p: PodSpec): Raw {
  const ready = p.ready ?? true;
  const uid = demoUid(`pod/${p.namespace}/${p.name}`);
  const containerId = (c: string) =>
    `containerd://${digest(`cid/${p.namespace}/${p.name}/${c}`).toString('hex')}`;
  const imageId = (image: string) => {
    const repo = image.includes('/') ? image.split(':')[0] : `docker.io/library/${image.split(':')[0]}`;
    return `${repo.includes('.') ? repo : `docker.io/${repo}`}@sha256:${digest(`img/${image}`).toString('hex')}`;
  };
  const cond = (type: string, status: boolean, minutes: number, reason?: string, message?: string) => ({
    type,
    status: status ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: at(minutes),
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  });
  const notReady = `containers with unready status: [${p.containers.map((c) => c.name).join(' ')}]`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: p.name,
      ...(p.owner.kind !== 'StatefulSet'
        ? { generateName: p.name.slice(0, p.name.lastIndexOf('-') + 1) }
        : {}),
      namespace: p.namespace,
      uid,
      resourceVersion: rv(),
      creationTimestamp: at(p.startedAt - 1),
      labels: p.labels,
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: p.owner.kind,
          name: p.owner.name,
          uid: demoUid(`${p.owner.kind}/${p.namespace}/${p.owner.name}`),
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      containers: p.containers.map((c) => ({
        name: c.name,
        image: c.image,
        imagePullPolicy: 'IfNotPresent',
        ...(c.args ? { args: c.args } : {}),
        ...(c.ports
          ? {
              ports: c.ports.map((port) => ({
                name: port.name,
                containerPort: port.containerPort,
                protocol: port.protocol ?? 'TCP',
              })),
            }
          : {}),
        ...(c.readiness
          ? {
              readinessProbe: {
                httpGet: { path: '/healthz', port: c.readiness, scheme: 'HTTP' },
                periodSeconds: 10,
                timeoutSeconds: 1,
                successThreshold: 1,
                failureThreshold: 3,
              },
            }
          : {}),
        resources: { requests: { cpu: '50m', memory: '64Mi' } },
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
      })),
      dnsPolicy: p.dnsPolicy ?? 'ClusterFirst',
      enableServiceLinks: true,
      ...(p.hostNetwork ? { hostNetwork: true } : {}),
      ...(p.hostname ? { hostname: p.hostname, subdomain: p.subdomain } : {}),
      nodeName: p.node,
      preemptionPolicy: 'PreemptLowerPriority',
      priority:
        p.priorityClassName === 'system-node-critical' ? 2000001000 : p.priorityClassName ? 2000000000 : 0,
      ...(p.priorityClassName ? { priorityClassName: p.priorityClassName } : {}),
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler',
      securityContext: {},
      serviceAccount: p.serviceAccountName ?? 'default',
      serviceAccountName: p.serviceAccountName ?? 'default',
      terminationGracePeriodSeconds: 30,
      tolerations: p.tolerations ?? defaultTolerations(),
    },
    status: {
      phase: 'Running',
      conditions: [
        cond('PodReadyToStartContainers', true, p.startedAt),
        cond('Initialized', true, p.startedAt - 1),
        ready
          ? cond('Ready', true, p.startedAt + 1)
          : cond('Ready', false, p.startedAt + 1, 'ContainersNotReady', notReady),
        ready
          ? cond('ContainersReady', true, p.startedAt + 1)
          : cond('ContainersReady', false, p.startedAt + 1, 'ContainersNotReady', notReady),
        cond('PodScheduled', true, p.startedAt - 1),
      ],
      hostIP: nodeIP(p.node),
      hostIPs: [{ ip: nodeIP(p.node) }],
      podIP: p.ip,
      podIPs: [{ ip: p.ip }],
      qosClass: 'Burstable',
      startTime: at(p.startedAt - 1),
      containerStatuses: p.containers.map((c) => ({
        containerID: containerId(c.name),
        image: c.image.includes('/') ? c.image : `docker.io/library/${c.image}`,
        imageID: imageId(c.image),
        lastState: {},
        name: c.name,
        ready,
        restartCount: 0,
        started: true,
        state: { running: { startedAt: at(p.startedAt) } },
      })),
    },
  };
}

interface ServicePortSpec {
  name: string;
  port: number;
  targetPort: number | string;
  protocol?: 'TCP' | 'UDP';
  nodePort?: number;
}

interface ServiceSpec {
  namespace: string;
  name: string;
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  clusterIP?: string;
  selector?: Record<string, string>;
  ports?: ServicePortSpec[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  loadBalancerIP?: string;
  externalName?: string;
  minutes: number;
}

function service(s: ServiceSpec): Raw {
  const type = s.type ?? 'ClusterIP';
  const spec: Raw = { type };
  if (type === 'ExternalName') {
    spec.externalName = s.externalName;
    spec.sessionAffinity = 'None';
  } else {
    Object.assign(spec, {
      clusterIP: s.clusterIP,
      clusterIPs: [s.clusterIP],
      internalTrafficPolicy: 'Cluster',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      ports: (s.ports ?? []).map((p) => ({
        name: p.name,
        ...(p.nodePort ? { nodePort: p.nodePort } : {}),
        port: p.port,
        protocol: p.protocol ?? 'TCP',
        targetPort: p.targetPort,
      })),
      ...(s.selector ? { selector: s.selector } : {}),
      sessionAffinity: 'None',
    });
    if (type === 'NodePort' || type === 'LoadBalancer') spec.externalTrafficPolicy = 'Cluster';
    if (type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts = true;
  }
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: s.name,
      namespace: s.namespace,
      uid: demoUid(`svc/${s.namespace}/${s.name}`),
      resourceVersion: rv(),
      creationTimestamp: at(s.minutes),
      ...(s.labels ? { labels: s.labels } : {}),
      ...(s.annotations ? { annotations: s.annotations } : {}),
    },
    spec,
    status: { loadBalancer: s.loadBalancerIP ? { ingress: [{ ip: s.loadBalancerIP, ipMode: 'VIP' }] } : {} },
  };
}

const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** The container port a service port's targetPort names (or the number itself), as FindPort. */
function findPort(p: Raw, sp: Raw): number | undefined {
  if (typeof sp.targetPort === 'number') return sp.targetPort;
  for (const c of p.spec.containers) {
    for (const cp of c.ports ?? [])
      if (cp.name === sp.targetPort && cp.protocol === sp.protocol) return cp.containerPort;
  }
  return undefined;
}

/**
 * The EndpointSlice(s) and legacy Endpoints the controllers write for a service: pods matching
 * the selector, grouped by their resolved port set; a placeholder slice when nothing matches.
 */
function endpointsFor(svc: Raw, pods: Raw[], minutes: number): Raw[] {
  const ns = svc.metadata.namespace;
  const name = svc.metadata.name;
  const selector: Record<string, string> = svc.spec.selector;
  const headless = svc.spec.clusterIP === 'None';
  const matching = pods.filter(
    (p) => p.metadata.namespace === ns && selects(selector, p.metadata.labels ?? {}),
  );
  const groups = new Map<string, { ports: Raw[]; pods: Raw[] }>();
  for (const p of matching) {
    const ports = svc.spec.ports
      .map((sp: Raw) => ({ sp, port: findPort(p, sp) }))
      .filter((x: Raw) => x.port !== undefined)
      .map((x: Raw) => ({ name: x.sp.name, port: x.port, protocol: x.sp.protocol }));
    const key = JSON.stringify(ports);
    const g: { ports: Raw[]; pods: Raw[] } = groups.get(key) ?? { ports, pods: [] };
    g.pods.push(p);
    groups.set(key, g);
  }
  if (groups.size === 0) groups.set('[]', { ports: [], pods: [] });
  const labels: Record<string, string> = {
    ...(svc.metadata.labels ?? {}),
    'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
    'kubernetes.io/service-name': name,
    ...(headless ? { 'service.kubernetes.io/headless': '' } : {}),
  };
  const ownerReferences = [
    {
      apiVersion: 'v1',
      kind: 'Service',
      name,
      uid: svc.metadata.uid,
      controller: true,
      blockOwnerDeletion: true,
    },
  ];
  const ready = (p: Raw) => p.status.conditions.find((c: Raw) => c.type === 'Ready')?.status === 'True';
  const endpoint = (p: Raw) => ({
    addresses: [p.status.podIP],
    conditions: { ready: ready(p), serving: ready(p), terminating: false },
    ...(headless && p.spec.hostname ? { hostname: p.spec.hostname } : {}),
    nodeName: p.spec.nodeName,
    targetRef: { kind: 'Pod', name: p.metadata.name, namespace: ns, uid: p.metadata.uid },
    zone: DEMO_NODES.find((n) => n.name === p.spec.nodeName)?.zone,
  });
  const out: Raw[] = [];
  [...groups.values()].forEach((g, i) => {
    const sliceName = `${name}-${demoSuffix(`slice/${ns}/${name}/${i}`, 5)}`;
    out.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: sliceName,
        generateName: `${name}-`,
        namespace: ns,
        uid: demoUid(`slice/${ns}/${sliceName}`),
        resourceVersion: rv(),
        creationTimestamp: at(minutes),
        labels,
        annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': at(minutes + 2) },
        ownerReferences,
        generation: 1 + g.pods.length,
      },
      addressType: 'IPv4',
      // A placeholder slice (no matching pod) and a port set nothing resolves have null lists.
      endpoints: g.pods.length ? g.pods.map(endpoint) : null,
      ports: g.ports.length ? g.ports : null,
    });
  });
  // Legacy Endpoints (kubectl get endpoints), from the same data.
  const subsets = [...groups.values()]
    .filter((g) => g.pods.length && g.ports.length)
    .map((g) => {
      const addr = (p: Raw) => ({
        ip: p.status.podIP,
        ...(headless && p.spec.hostname ? { hostname: p.spec.hostname } : {}),
        nodeName: p.spec.nodeName,
        targetRef: { kind: 'Pod', name: p.metadata.name, namespace: ns, uid: p.metadata.uid },
      });
      const readyPods = g.pods.filter(ready);
      const notReady = g.pods.filter((p) => !ready(p));
      return {
        ...(readyPods.length ? { addresses: readyPods.map(addr) } : {}),
        ...(notReady.length ? { notReadyAddresses: notReady.map(addr) } : {}),
        ports: g.ports,
      };
    });
  out.push({
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name,
      namespace: ns,
      uid: demoUid(`ep/${ns}/${name}`),
      resourceVersion: rv(),
      creationTimestamp: at(minutes),
      labels: {
        ...(svc.metadata.labels ?? {}),
        ...(headless ? { 'service.kubernetes.io/headless': '' } : {}),
      },
      annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': at(minutes + 2) },
    },
    ...(subsets.length ? { subsets } : {}),
  });
  return out;
}

/** Pods of a Deployment: names <deploy>-<template hash>-<5 chars>, owned by the ReplicaSet. */
function deployment(
  namespace: string,
  name: string,
  labels: Record<string, string>,
  containers: ContainerSpec[],
  replicas: { node: NodeName; ip: string; ready?: boolean }[],
  startedAt: number,
  extra: Partial<PodSpec> = {},
): Raw[] {
  const hash = demoSuffix(`rs/${namespace}/${name}`, 10).slice(0, 9 + (name.length % 2));
  const rs = `${name}-${hash}`;
  return replicas.map((r, i) =>
    pod({
      namespace,
      name: `${rs}-${demoSuffix(`pod/${namespace}/${name}/${i}`, 5)}`,
      node: r.node,
      ip: r.ip,
      ready: r.ready,
      labels: { ...labels, 'pod-template-hash': hash },
      owner: { kind: 'ReplicaSet', name: rs },
      containers,
      startedAt: startedAt + i,
      ...extra,
    }),
  );
}

/** hostNetwork pods of a DaemonSet, one per node. */
function daemonSetPods(
  namespace: string,
  name: string,
  labels: Record<string, string>,
  containers: ContainerSpec[],
  startedAt: number,
): Raw[] {
  return DEMO_NODES.map((n, i) =>
    pod({
      namespace,
      name: `${name}-${demoSuffix(`ds/${namespace}/${name}/${n.name}`, 5)}`,
      node: n.name,
      ip: n.ip,
      hostNetwork: true,
      labels: {
        ...labels,
        'controller-revision-hash': demoSuffix(`rev/${name}`, 10),
        'pod-template-generation': '1',
      },
      owner: { kind: 'DaemonSet', name },
      containers,
      priorityClassName: 'system-node-critical',
      serviceAccountName: name === 'kube-proxy' ? 'kube-proxy' : 'canal',
      startedAt: startedAt + i,
      tolerations: [{ operator: 'Exists' }],
    }),
  );
}

function daemonSet(
  namespace: string,
  name: string,
  labels: Record<string, string>,
  containers: ContainerSpec[],
): Raw {
  return daemonSetObject({
    namespace,
    name,
    uid: demoUid(`DaemonSet/${namespace}/${name}`),
    resourceVersion: rv(),
    creationTimestamp: at(1),
    labels,
    annotations: { 'deprecated.daemonset.template.generation': '1' },
    containers,
    serviceAccountName: name === 'kube-proxy' ? 'kube-proxy' : 'canal',
    nodes: DEMO_NODES.length,
  });
}

function configMap(
  namespace: string,
  name: string,
  data: Record<string, string>,
  labels?: Record<string, string>,
): Raw {
  return configMapObject({
    namespace,
    name,
    uid: demoUid(`cm/${namespace}/${name}`),
    resourceVersion: rv(),
    creationTimestamp: at(1),
    labels,
    data,
  });
}

function networkPolicy(namespace: string, name: string, spec: Raw, minutes: number): Raw {
  return networkPolicyObject({
    namespace,
    name,
    uid: demoUid(`netpol/${namespace}/${name}`),
    resourceVersion: rv(),
    creationTimestamp: at(minutes),
    spec,
  });
}

/** Every object of the demo cluster. */
export function demoObjects(): Raw[] {
  resourceVersion = 1000;
  const http = (port = 8080) => [{ name: 'http', containerPort: port }];
  const CP = 'demo-control-plane';
  const W1 = 'demo-worker';
  const W2 = 'demo-worker2';

  const pods: Raw[] = [
    ...deployment(
      'kube-system',
      'coredns',
      { 'k8s-app': 'kube-dns' },
      [
        {
          name: 'coredns',
          image: 'registry.k8s.io/coredns/coredns:v1.11.3',
          args: ['-conf', '/etc/coredns/Corefile'],
          ports: [
            { name: 'dns', containerPort: 53, protocol: 'UDP' },
            { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
            { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
          ],
          readiness: 'ready',
        },
      ],
      [
        { node: CP, ip: '10.244.0.2' },
        { node: W1, ip: '10.244.1.2' },
      ],
      3,
      {
        dnsPolicy: 'Default',
        priorityClassName: 'system-cluster-critical',
        serviceAccountName: 'coredns',
        tolerations: [
          { key: 'CriticalAddonsOnly', operator: 'Exists' },
          { effect: 'NoSchedule', key: 'node-role.kubernetes.io/control-plane' },
        ],
      },
    ),
    ...daemonSetPods(
      'kube-system',
      'kube-proxy',
      { 'k8s-app': 'kube-proxy' },
      [{ name: 'kube-proxy', image: `registry.k8s.io/kube-proxy:${K8S_VERSION}` }],
      2,
    ),
    ...daemonSetPods(
      'kube-system',
      'canal',
      { 'k8s-app': 'canal' },
      [
        { name: 'calico-node', image: 'docker.io/calico/node:v3.28.2' },
        { name: 'kube-flannel', image: 'docker.io/flannel/flannel:v0.25.6' },
      ],
      2,
    ),
    // (a) the frontend pods are app=frontend; their Service selects app=fronted.
    ...deployment(
      'shop',
      'frontend',
      { app: 'frontend', tier: 'web' },
      [{ name: 'frontend', image: 'ghcr.io/example-shop/frontend:2.4.1', ports: http(), readiness: 'http' }],
      [
        { node: W1, ip: '10.244.1.5' },
        { node: W2, ip: '10.244.2.4' },
      ],
      20,
    ),
    // (c) the third cart replica runs but fails its readiness probe.
    ...deployment(
      'shop',
      'cart',
      { app: 'cart', tier: 'backend' },
      [{ name: 'cart', image: 'ghcr.io/example-shop/cart:1.9.0', ports: http(), readiness: 'http' }],
      [
        { node: W1, ip: '10.244.1.6' },
        { node: W2, ip: '10.244.2.5' },
        { node: W1, ip: '10.244.1.9', ready: false },
      ],
      22,
    ),
    ...deployment(
      'shop',
      'checkout',
      { app: 'checkout', tier: 'backend' },
      [{ name: 'checkout', image: 'ghcr.io/example-shop/checkout:3.0.2', ports: http(), readiness: 'http' }],
      [{ node: W1, ip: '10.244.1.7' }],
      24,
    ),
    // (b) the catalog pods call their port "http"; the Service targets "http-api".
    ...deployment(
      'shop',
      'catalog',
      { app: 'catalog', tier: 'backend' },
      [
        {
          name: 'catalog',
          image: 'ghcr.io/example-shop/catalog:1.2.7',
          ports: [...http(), { name: 'metrics', containerPort: 9102 }],
          readiness: 'http',
        },
      ],
      [
        { node: W1, ip: '10.244.1.8' },
        { node: W2, ip: '10.244.2.6' },
      ],
      25,
    ),
    pod({
      namespace: 'shop',
      name: 'cart-redis-0',
      node: W2,
      ip: '10.244.2.7',
      labels: {
        app: 'cart-redis',
        'apps.kubernetes.io/pod-index': '0',
        'controller-revision-hash': `cart-redis-${demoSuffix('sts/cart-redis', 10)}`,
        'statefulset.kubernetes.io/pod-name': 'cart-redis-0',
      },
      owner: { kind: 'StatefulSet', name: 'cart-redis' },
      containers: [
        {
          name: 'redis',
          image: 'docker.io/library/redis:7.4',
          ports: [{ name: 'redis', containerPort: 6379 }],
        },
      ],
      hostname: 'cart-redis-0',
      subdomain: 'cart-redis',
      startedAt: 21,
    }),
    ...deployment(
      'payments',
      'payments-api',
      { app: 'payments-api' },
      [
        {
          name: 'api',
          image: 'ghcr.io/example-shop/payments-api:5.1.0',
          ports: [{ name: 'https', containerPort: 8443 }],
          readiness: 'https',
        },
      ],
      [
        { node: W1, ip: '10.244.1.10' },
        { node: W2, ip: '10.244.2.8' },
      ],
      30,
    ),
    ...deployment(
      'monitoring',
      'prometheus',
      { app: 'prometheus' },
      [
        {
          name: 'prometheus',
          image: 'quay.io/prometheus/prometheus:v2.54.1',
          ports: [{ name: 'web', containerPort: 9090 }],
        },
      ],
      [{ node: W2, ip: '10.244.2.9' }],
      35,
    ),
  ];

  const services: Raw[] = [
    service({
      namespace: 'default',
      name: 'kubernetes',
      clusterIP: '10.96.0.1',
      ports: [{ name: 'https', port: 443, targetPort: 6443 }],
      labels: { component: 'apiserver', provider: 'kubernetes' },
      minutes: 1,
    }),
    service({
      namespace: 'kube-system',
      name: 'kube-dns',
      clusterIP: '10.96.0.10',
      selector: { 'k8s-app': 'kube-dns' },
      ports: [
        { name: 'dns', port: 53, targetPort: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, targetPort: 53 },
        { name: 'metrics', port: 9153, targetPort: 9153 },
      ],
      labels: {
        'k8s-app': 'kube-dns',
        'kubernetes.io/cluster-service': 'true',
        'kubernetes.io/name': 'CoreDNS',
      },
      annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
      minutes: 2,
    }),
    service({
      namespace: 'shop',
      name: 'frontend',
      type: 'LoadBalancer',
      clusterIP: '10.96.87.150',
      selector: { app: 'fronted' },
      ports: [{ name: 'http', port: 80, targetPort: 'http', nodePort: 31080 }],
      labels: { app: 'frontend' },
      loadBalancerIP: '172.18.255.200',
      minutes: 19,
    }),
    service({
      namespace: 'shop',
      name: 'cart',
      clusterIP: '10.96.112.40',
      selector: { app: 'cart' },
      ports: [{ name: 'http', port: 80, targetPort: 'http' }],
      labels: { app: 'cart' },
      minutes: 19,
    }),
    service({
      namespace: 'shop',
      name: 'checkout',
      clusterIP: '10.96.48.17',
      selector: { app: 'checkout' },
      ports: [{ name: 'http', port: 80, targetPort: 8080 }],
      labels: { app: 'checkout' },
      minutes: 19,
    }),
    service({
      namespace: 'shop',
      name: 'catalog',
      clusterIP: '10.96.201.9',
      selector: { app: 'catalog' },
      ports: [{ name: 'http', port: 80, targetPort: 'http-api' }],
      labels: { app: 'catalog' },
      minutes: 19,
    }),
    service({
      namespace: 'shop',
      name: 'cart-redis',
      clusterIP: 'None',
      selector: { app: 'cart-redis' },
      ports: [{ name: 'redis', port: 6379, targetPort: 6379 }],
      labels: { app: 'cart-redis' },
      minutes: 19,
    }),
    service({
      namespace: 'payments',
      name: 'payments-api',
      clusterIP: '10.102.14.61',
      selector: { app: 'payments-api' },
      ports: [{ name: 'https', port: 443, targetPort: 'https' }],
      labels: { app: 'payments-api' },
      minutes: 29,
    }),
    service({
      namespace: 'payments',
      name: 'stripe',
      type: 'ExternalName',
      externalName: 'api.stripe.com',
      minutes: 29,
    }),
    service({
      namespace: 'monitoring',
      name: 'prometheus',
      type: 'NodePort',
      clusterIP: '10.108.3.220',
      selector: { app: 'prometheus' },
      ports: [{ name: 'web', port: 9090, targetPort: 'web', nodePort: 30090 }],
      labels: { app: 'prometheus' },
      minutes: 34,
    }),
  ];

  // default/kubernetes: the API server maintains its endpoints itself (no selector).
  const apiserverSlice: Raw = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'kubernetes',
      namespace: 'default',
      uid: demoUid('slice/default/kubernetes'),
      resourceVersion: rv(),
      creationTimestamp: at(1),
      labels: { 'kubernetes.io/service-name': 'kubernetes' },
      generation: 1,
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['172.18.0.2'], conditions: { ready: true } }],
    ports: [{ name: 'https', port: 6443, protocol: 'TCP' }],
  };
  const apiserverEndpoints: Raw = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name: 'kubernetes',
      namespace: 'default',
      uid: demoUid('ep/default/kubernetes'),
      resourceVersion: rv(),
      creationTimestamp: at(1),
      labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' },
    },
    subsets: [{ addresses: [{ ip: '172.18.0.2' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }],
  };
  const endpoints = services
    .filter((s) => s.spec.selector)
    .flatMap((s) =>
      endpointsFor(s, pods, Date.parse(s.metadata.creationTimestamp) / 60_000 - EPOCH / 60_000),
    );

  const policies = [
    networkPolicy('payments', 'default-deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] }, 31),
    // (d) only checkout (in shop) may call payments-api.
    networkPolicy(
      'payments',
      'payments-api-allow-checkout',
      {
        podSelector: { matchLabels: { app: 'payments-api' } },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } },
                podSelector: { matchLabels: { app: 'checkout' } },
              },
            ],
            ports: [{ protocol: 'TCP', port: 8443 }],
          },
        ],
      },
      31,
    ),
    networkPolicy(
      'shop',
      'cart-redis-allow-cart',
      {
        podSelector: { matchLabels: { app: 'cart-redis' } },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [{ podSelector: { matchLabels: { app: 'cart' } } }],
            ports: [{ protocol: 'TCP', port: 6379 }],
          },
        ],
      },
      21,
    ),
  ];

  return [
    namespace('default', 0),
    namespace('kube-node-lease', 0),
    namespace('kube-public', 0),
    namespace('kube-system', 0),
    namespace('shop', 18, { team: 'shop' }),
    namespace('payments', 28, { team: 'payments', 'pci-scope': 'true' }),
    namespace('monitoring', 33, { team: 'platform' }),
    ...DEMO_NODES.map(node),
    ...pods,
    ...services,
    apiserverEndpoints,
    apiserverSlice,
    ...endpoints,
    ...policies,
    daemonSet('kube-system', 'kube-proxy', { 'k8s-app': 'kube-proxy' }, [
      { name: 'kube-proxy', image: `registry.k8s.io/kube-proxy:${K8S_VERSION}` },
    ]),
    daemonSet('kube-system', 'canal', { 'k8s-app': 'canal' }, [
      { name: 'calico-node', image: 'docker.io/calico/node:v3.28.2' },
      { name: 'kube-flannel', image: 'docker.io/flannel/flannel:v0.25.6' },
    ]),
    configMap(
      'kube-system',
      'kube-proxy',
      { 'config.conf': kubeProxyConfig('10.244.0.0/16') },
      { app: 'kube-proxy' },
    ),
    configMap('kube-system', 'coredns', { Corefile: COREFILE }),
  ];
}

export function demoScenario(): Scenario {
  return {
    lab: { name: 'demo', overlay: 'hostgw', underlayCIDR: '172.18.0.0/24', clusterDomain: 'cluster.local' },
    objects: demoObjects(),
  };
}

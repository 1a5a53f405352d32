#!/usr/bin/env node
// Synthetic snapshot bundles at any size (shared/design/snapshot.md), for the scale bench.
//
//   npm run build && node bench/generate.js --nodes 5000 --pods 150000 --services 10000 \
//     [--policies N] [--seed 1] [--chunk-mb 32] [--out DIR] [--force]
//
// The cluster is deterministic for a seed: nodes with podCIDRs (host-gw routes), Deployments'
// pods with owners, labels, named ports and IPs in their node's CIDR, DaemonSet pods on every
// node (hostNetwork), Services of every type selecting those pods, EndpointSlices as the
// controller writes them (≤ 100 endpoints per slice) and the legacy Endpoints, NetworkPolicies,
// namespaces, the kube-proxy and coredns ConfigMaps. Objects are written one per line as v1
// Lists, cut into chunks (cluster.json, cluster/objects-NNNN.json) like `knet snapshot` does.
// One node (the first worker) gets kube-proxy's iptables rules for every service, rendered by
// knet's own generator (dist/analyses/proxy/expected-iptables.js), plus ip-addr/ip-link/ip-route/
// sysctl; a peer node gets the same interface files, and the pods a trace crosses get their
// network-namespace files. The node files keep the shapes of real iproute2 and sysctl output
// (bench/templates, captured in knet's lab for the demo bundle). bench.json at the root says which trace
// and which packet the scale bench runs, and lists the planted breakages.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ipaddr from 'ipaddr.js';
import {
  COREFILE,
  configMapObject,
  daemonSetObject,
  defaultTolerations,
  kubeProxyConfig,
  namespaceObject,
  networkPolicyObject,
  NAME_SUFFIX_ALPHABET as SUFFIX_CHARS,
  at as ts,
} from '../test/support/cluster-parts.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const load = (rel) => import(pathToFileURL(path.join(root, 'dist', rel)).href);
// Real `ip -j` / `sysctl -a` output (lo, eth0, cni0 and one pod veth) captured for the demo
// bundle's demo-worker in knet's lab: the generator re-addresses these shapes.
const TEMPLATES = path.join(root, 'bench', 'templates');

// ---------------------------------------------------------------------------------------------
// Arguments

export function parseArgs(argv) {
  const o = { nodes: 500, pods: 15000, services: 1000, policies: undefined, seed: 1, chunkMb: 32 };
  const num = (flag, v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} needs a whole number, not "${v}"`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--nodes') o.nodes = num(a, v);
    else if (a === '--pods') o.pods = num(a, v);
    else if (a === '--services') o.services = num(a, v);
    else if (a === '--policies') o.policies = num(a, v);
    else if (a === '--seed') o.seed = num(a, v);
    else if (a === '--chunk-mb') o.chunkMb = Number(v);
    else if (a === '--out') o.out = v;
    else if (a === '--force') {
      o.force = true;
      continue;
    } else if (a === '--quiet') {
      o.quiet = true;
      continue;
    } else throw new Error(`unknown argument ${a}`);
    i++;
  }
  o.policies ??= Math.max(2, Math.floor(o.services / 10));
  o.out ??= path.join(root, 'bench', 'out', `n${o.nodes}-p${o.pods}-s${o.services}`);
  return o;
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Hex digest of a key: uids, container ids and name suffixes do not depend on generation order. */
function hex(key, n) {
  return createHash('sha1').update(key).digest('hex').slice(0, n);
}
function suffix(key, n) {
  const bytes = createHash('sha1').update(key).digest();
  let s = '';
  for (let i = 0; i < n; i++) s += SUFFIX_CHARS[bytes[i] % SUFFIX_CHARS.length];
  return s;
}
function uid(key) {
  const h = hex(key, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

// ---------------------------------------------------------------------------------------------
// Addresses (through ipaddr.js)

const ipv4 = (n) =>
  ipaddr.fromByteArray([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]).toString();
const ipv4Int = (text) =>
  ipaddr.IPv4.parse(text)
    .toByteArray()
    .reduce((n, b) => n * 256 + b, 0);

const NODE_NET = ipv4Int('172.16.0.0'); // nodes: 172.16.0.0/16, gateway .1
const POD_NET = ipv4Int('10.128.0.0'); // cluster CIDR 10.128.0.0/9, one /24 per node
const SVC_NET = ipv4Int('10.96.0.0'); // service CIDR 10.96.0.0/12
const LB_NET = ipv4Int('198.18.0.0');
const CLUSTER_CIDR = '10.128.0.0/9';
const NODE_PREFIX = 16;
const MAX_PODS_PER_NODE = 110;

const nodeIP = (i) => ipv4(NODE_NET + 2 + i);
const podCIDRBase = (i) => POD_NET + i * 256;
const podCIDR = (i) => `${ipv4(podCIDRBase(i))}/24`;

// ---------------------------------------------------------------------------------------------
// The plan: a compact picture of the cluster that every object is rendered from.

const NS_WORDS = [
  'shop',
  'payments',
  'search',
  'ads',
  'auth',
  'billing',
  'catalog',
  'media',
  'ml',
  'data',
  'mail',
  'maps',
  'chat',
  'feed',
  'games',
  'iot',
  'logistics',
  'crm',
  'hr',
  'video',
];
const APP_WORDS = [
  'frontend',
  'api',
  'cart',
  'checkout',
  'worker',
  'gateway',
  'auth',
  'profile',
  'orders',
  'stock',
  'pricing',
  'notify',
  'render',
  'indexer',
  'ranker',
  'session',
  'upload',
  'thumbs',
  'ledger',
  'quota',
];
const ZONES = ['zone-a', 'zone-b', 'zone-c'];

/** Service profiles: the ports a Service exposes and the container ports behind them. */
const PROFILES = {
  web: {
    tier: 'web',
    ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
    containerPorts: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
  },
  api: {
    tier: 'backend',
    ports: [
      { name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' },
      { name: 'metrics', port: 9090, targetPort: 'metrics', protocol: 'TCP' },
    ],
    containerPorts: [
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
    ],
  },
  grpc: {
    tier: 'backend',
    ports: [{ name: 'grpc', port: 50051, targetPort: 'grpc', protocol: 'TCP' }],
    containerPorts: [{ name: 'grpc', containerPort: 50051, protocol: 'TCP' }],
  },
  cache: {
    tier: 'data',
    ports: [{ name: '', port: 6379, targetPort: 6379, protocol: 'TCP' }],
    containerPorts: [{ name: 'redis', containerPort: 6379, protocol: 'TCP' }],
  },
  syslog: {
    tier: 'backend',
    ports: [{ name: 'syslog', port: 514, targetPort: 5514, protocol: 'UDP' }],
    containerPorts: [{ name: 'syslog', containerPort: 5514, protocol: 'UDP' }],
  },
};

function pickProfile(r) {
  if (r < 0.4) return 'web';
  if (r < 0.7) return 'api';
  if (r < 0.85) return 'grpc';
  if (r < 0.99) return 'cache';
  return 'syslog';
}

/** The container port a service port's targetPort names (or the number itself). */
function resolveTarget(profile, sp) {
  if (typeof sp.targetPort === 'number') return sp.targetPort;
  return PROFILES[profile].containerPorts.find((c) => c.name === sp.targetPort)?.containerPort;
}

export function planCluster(opts) {
  const rnd = mulberry32(opts.seed * 7919 + 17);
  const N = Math.max(1, opts.nodes);
  if (opts.services < 4)
    throw new Error('--services must be at least 4 (kubernetes, kube-dns and the two services of the trace)');
  if (N > 32768) throw new Error('at most 32768 nodes (one /24 each in 10.128.0.0/9)');
  const width = Math.max(4, String(N).length);
  const nodes = [];
  for (let i = 0; i < N; i++) {
    nodes.push({
      index: i,
      name: i === 0 ? 'control-plane' : `node-${String(i).padStart(width, '0')}`,
      ip: nodeIP(i),
      cidr: podCIDR(i),
      controlPlane: i === 0,
      zone: ZONES[i % ZONES.length],
      ready: true,
      nextOffset: 2, // .1 is cni0
      pods: [],
    });
  }
  const workers = N > 1 ? nodes.slice(1) : nodes;
  const nodeA = workers[0];
  const nodeB = workers[1] ?? workers[0];
  if (workers.length > 3) workers[workers.length - 1].ready = false; // planted: NODE_NOT_READY

  // Namespaces: system ones, then ~100 services per application namespace.
  const appServices = Math.max(0, opts.services - 2); // kubernetes + kube-dns
  const nsCount = Math.max(1, Math.ceil(appServices / 100));
  const namespaces = [
    { name: 'default', labels: {} },
    { name: 'kube-system', labels: {} },
    { name: 'kube-public', labels: {} },
    { name: 'kube-node-lease', labels: {} },
  ];
  const appNamespaces = [];
  for (let i = 0; i < nsCount; i++) {
    const word = NS_WORDS[i % NS_WORDS.length];
    const ns = {
      name: i < NS_WORDS.length ? word : `${word}-${Math.floor(i / NS_WORDS.length)}`,
      labels: { team: word, env: i % 5 === 4 ? 'staging' : 'prod' },
    };
    namespaces.push(ns);
    appNamespaces.push(ns);
  }

  // Services.
  const services = [];
  const usedVIPs = new Set();
  const vip = () => {
    for (;;) {
      const n = SVC_NET + 11 + Math.floor(rnd() * ((1 << 20) - 13));
      if (!usedVIPs.has(n)) {
        usedVIPs.add(n);
        return ipv4(n);
      }
    }
  };
  services.push({
    ns: 'default',
    name: 'kubernetes',
    system: 'apiserver',
    clusterIP: ipv4(SVC_NET + 1),
    type: 'ClusterIP',
    pods: [],
  });
  services.push({
    ns: 'kube-system',
    name: 'kube-dns',
    system: 'dns',
    clusterIP: ipv4(SVC_NET + 10),
    type: 'ClusterIP',
    pods: [],
  });
  let nodePortNext = 30000;
  let lbNext = 1;
  for (let s = 0; s < appServices; s++) {
    const ns = appNamespaces[Math.floor(s / 100) % nsCount];
    const app = `${APP_WORDS[s % APP_WORDS.length]}-${s}`;
    let profile = pickProfile(rnd());
    const r = rnd();
    let type = 'ClusterIP';
    let headless = false;
    if (r < 0.08) type = 'NodePort';
    else if (r < 0.1) type = 'LoadBalancer';
    else if (r < 0.12) headless = true;
    else if (r < 0.13) type = 'ExternalName';
    if (s < 2) {
      // The trace's destination (s = 0) and source (s = 1): plain, healthy ClusterIP services.
      profile = 'web';
      type = 'ClusterIP';
      headless = false;
    }
    if (headless) profile = 'cache';
    const svc = {
      ns: ns.name,
      name: app,
      app,
      profile,
      type,
      headless,
      selectorTier: rnd() < 0.3,
      clusterIP: type === 'ExternalName' ? undefined : headless ? 'None' : vip(),
      etpLocal: (type === 'LoadBalancer' || type === 'NodePort') && rnd() < 0.3,
      lbIP: type === 'LoadBalancer' ? ipv4(LB_NET + lbNext++) : undefined,
      nodePorts:
        type === 'NodePort' || type === 'LoadBalancer'
          ? PROFILES[profile].ports.map(() => nodePortNext++)
          : [],
      rsHash: suffix(`${opts.seed}/rs/${ns.name}/${app}`, 10),
      pods: [],
    };
    if (nodePortNext > 32767) {
      svc.type = 'ClusterIP';
      svc.nodePorts = [];
      svc.lbIP = undefined;
      svc.etpLocal = false;
    }
    services.push(svc);
  }
  const selectable = services.filter((s) => s.app && s.type !== 'ExternalName');

  // Pods: DaemonSet pods on every node (kube-proxy, canal), CoreDNS, then application pods.
  const pods = [];
  const addPod = (pod, node) => {
    pod.index = pods.length;
    pod.node = node;
    node.pods.push(pod);
    pods.push(pod);
    return pod;
  };
  for (const node of nodes) {
    for (const ds of ['kube-proxy', 'canal']) {
      addPod(
        {
          ns: 'kube-system',
          name: `${ds}-${suffix(`${opts.seed}/${ds}/${node.name}`, 5)}`,
          ds,
          hostNetwork: true,
          ready: true,
          phase: 'Running',
        },
        node,
      );
    }
  }
  for (let i = 0; i < Math.min(2, N); i++) {
    const node = N > 1 ? nodes[i] : nodes[0];
    const p = addPod(
      {
        ns: 'kube-system',
        name: `coredns-7db6d8ff4d-${suffix(`${opts.seed}/coredns/${i}`, 5)}`,
        coredns: true,
        ready: true,
        phase: 'Running',
      },
      node,
    );
    services[1].pods.push(p);
  }
  const budget = opts.pods - pods.length;
  if (budget < 0)
    throw new Error(`--pods ${opts.pods} is fewer than the system pods (${pods.length}) of ${N} nodes`);
  if (budget > workers.length * MAX_PODS_PER_NODE - 2)
    throw new Error(`--pods ${opts.pods}: more than ${MAX_PODS_PER_NODE} per node`);

  // Replicas: every selectable service gets one, the trace destination three; the rest go
  // mostly uniformly, a tenth of them to a few big Deployments (some services > 100 endpoints).
  const counts = new Map(selectable.map((s) => [s, 0]));
  let left = budget;
  const give = (svc, n) => {
    const k = Math.min(n, left);
    counts.set(svc, counts.get(svc) + k);
    left -= k;
  };
  const traceDest = selectable[0];
  const traceSrc = selectable[1];
  if (traceDest) give(traceDest, 3);
  for (const svc of selectable) if (svc !== traceDest) give(svc, 1);
  // The trace's two services keep their size (their pods must fit on two nodes).
  const growable = selectable.filter((s) => s !== traceDest && s !== traceSrc);
  const bigOnes = [...growable].sort((a, b) =>
    hex(`${opts.seed}/big/${a.ns}/${a.name}`, 8).localeCompare(hex(`${opts.seed}/big/${b.ns}/${b.name}`, 8)),
  );
  while (left > 0 && growable.length) {
    const svc =
      rnd() < 0.9
        ? growable[Math.floor(rnd() * growable.length)]
        : bigOnes[Math.floor(rnd() ** 4 * bigOnes.length)];
    give(svc, 1);
  }
  if (left > 0 && traceSrc) give(traceSrc, left);
  const pickWorker = () => {
    for (let tries = 0; tries < 1000; tries++) {
      const node = workers[Math.floor(rnd() * workers.length)];
      if (node.pods.length < MAX_PODS_PER_NODE) return node;
    }
    const node = workers.find((n) => n.pods.length < MAX_PODS_PER_NODE);
    if (!node) throw new Error('no node has room for another pod');
    return node;
  };
  for (const svc of selectable) {
    const n = counts.get(svc);
    for (let k = 0; k < n; k++) {
      let node;
      if (svc === traceDest) node = k % 2 === 0 ? nodeA : nodeB;
      else if (svc === traceSrc && k === 0) node = nodeA;
      else node = pickWorker();
      const name = svc.headless
        ? `${svc.name}-${k}`
        : `${svc.name}-${svc.rsHash}-${suffix(`${opts.seed}/pod/${svc.ns}/${svc.name}/${k}`, 5)}`;
      const r = rnd();
      const trace = svc === traceDest || svc === traceSrc;
      const phase = !trace && r < 0.003 ? 'Pending' : 'Running';
      const ready = phase === 'Running' && (trace || r >= 0.013);
      const p = addPod({ ns: svc.ns, name, svc, ready, phase, ordinal: k }, node);
      svc.pods.push(p);
    }
  }
  // IPs in the node's CIDR (Pending pods have none yet; hostNetwork pods have the node's).
  for (const node of nodes) {
    for (const p of node.pods) {
      if (p.hostNetwork) p.ip = node.ip;
      else if (p.phase === 'Running') p.ip = ipv4(podCIDRBase(node.index) + node.nextOffset++);
    }
  }

  // Planted breakages, each on its own healthy ClusterIP service with ≥ 2 running pods.
  const planted = [];
  const candidates = selectable.filter(
    (s) =>
      s !== traceDest &&
      s !== traceSrc &&
      s.type === 'ClusterIP' &&
      !s.headless &&
      s.pods.length >= 2 &&
      s.pods.every((p) => p.ip),
  );
  const take = () => candidates.splice(Math.floor(rnd() * candidates.length), 1)[0];
  const svcRef = (s) => `svc/${s.ns}/${s.name}`;
  const podRef = (p) => `pod/${p.ns}/${p.name}`;
  const plant = (code, what, objects) => planted.push({ code, what, objects });
  let svc = take();
  if (svc) {
    svc.selectorTypo = svc.app.replace(/^(\w)(\w)/, '$2$1'); // "cart-12" → "acrt-12"
    plant('SVC_LABEL_MISMATCH', `selector app=${svc.selectorTypo}, pods are labelled app=${svc.app}`, [
      svcRef(svc),
    ]);
  }
  svc = take();
  if (svc) {
    svc.targetPortTypo = true;
    plant('SVC_TARGET_PORT_MISMATCH', 'targetPort http-api: the containers name their port http', [
      svcRef(svc),
    ]);
  }
  svc = take();
  if (svc) {
    for (const p of svc.pods) p.ready = false;
    plant('SVC_NO_READY_ENDPOINTS', 'every backing pod fails its readiness probe', [svcRef(svc)]);
  }
  svc = take();
  if (svc) {
    const node = svc.pods[0].node;
    svc.staleIP = ipv4(podCIDRBase(node.index) + 251);
    plant('SVC_ENDPOINTS_STALE', `the EndpointSlice still lists ${svc.staleIP}, which no pod has`, [
      svcRef(svc),
    ]);
  }
  svc = take();
  if (svc) {
    svc.missingFromProxy = true;
    plant('PROXY_RULES_MISSING', `node ${nodeA.name}'s iptables lack the service`, [
      svcRef(svc),
      `node/${nodeA.name}`,
    ]);
  }
  svc = take();
  if (svc) {
    const p = svc.pods[0];
    svc.proxyStale = { ip: p.ip, oldIP: ipv4(podCIDRBase(p.node.index) + 252) };
    plant(
      'PROXY_ENDPOINT_STALE',
      `node ${nodeA.name}'s rules DNAT to ${svc.proxyStale.oldIP} instead of ${p.ip}`,
      [svcRef(svc), `node/${nodeA.name}`],
    );
  }
  svc = take();
  if (svc) {
    // Two pods on one node with one IP (a CNI IPAM bug).
    const b = svc.pods[1];
    const other = b.node.pods.find(
      (p) =>
        p !== b &&
        !p.hostNetwork &&
        p.ip &&
        p.svc &&
        p.svc !== svc &&
        p.svc !== traceDest &&
        p.svc !== traceSrc,
    );
    if (other) {
      other.ip = b.ip;
      plant('POD_IP_DUPLICATE', `${b.name} and ${other.name} share ${b.ip}`, [podRef(b), podRef(other)]);
    }
  }
  svc = take();
  if (svc && N > 2) {
    const p = svc.pods[0];
    const elsewhere = nodes[(p.node.index + 1) % N];
    p.ip = ipv4(podCIDRBase(elsewhere.index) + 250);
    plant('POD_IP_OUTSIDE_NODE_CIDR', `${p.name} on ${p.node.name} has an IP of ${elsewhere.name}'s CIDR`, [
      podRef(p),
    ]);
  }
  const notReady = nodes.find((n) => !n.ready);
  if (notReady) plant('NODE_NOT_READY', 'kubelet stopped posting status', [`node/${notReady.name}`]);

  const sourcePod = traceSrc?.pods.find((p) => p.node === nodeA);
  return {
    opts,
    nodes,
    namespaces,
    appNamespaces,
    services,
    pods,
    planted,
    nodeA,
    nodeB,
    traceDest,
    sourcePod,
    rnd,
  };
}

// ---------------------------------------------------------------------------------------------
// Raw API objects

function nodeRaw(plan, n) {
  const seed = plan.opts.seed;
  const cond = (type, status, reason, message) => ({
    type,
    status,
    lastHeartbeatTime: ts(600),
    lastTransitionTime: ts(1),
    reason,
    message,
  });
  const ready = n.ready
    ? cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status')
    : cond('Ready', 'Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.');
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      uid: uid(`${seed}/node/${n.name}`),
      resourceVersion: String(1000 + n.index),
      creationTimestamp: ts(0),
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': n.name,
        'kubernetes.io/os': 'linux',
        'topology.kubernetes.io/zone': n.zone,
        'node.kubernetes.io/instance-type': 'm6i.2xlarge',
        ...(n.controlPlane ? { 'node-role.kubernetes.io/control-plane': '' } : {}),
      },
      annotations: {
        'kubeadm.alpha.kubernetes.io/cri-socket': 'unix:///run/containerd/containerd.sock',
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
        'flannel.alpha.coreos.com/backend-type': 'host-gw',
        'flannel.alpha.coreos.com/backend-data': 'null',
        'flannel.alpha.coreos.com/kube-subnet-manager': 'true',
        'flannel.alpha.coreos.com/public-ip': n.ip,
      },
    },
    spec: {
      podCIDR: n.cidr,
      podCIDRs: [n.cidr],
      providerID: `aws:///${n.zone}/i-${hex(`${seed}/i/${n.name}`, 17)}`,
      ...(n.controlPlane
        ? { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }
        : {}),
      ...(n.ready
        ? {}
        : { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: ts(590) }] }),
    },
    status: {
      addresses: [
        { type: 'InternalIP', address: n.ip },
        { type: 'Hostname', address: n.name },
      ],
      allocatable: { cpu: '7910m', 'ephemeral-storage': '95551679124', memory: '31792148Ki', pods: '110' },
      capacity: { cpu: '8', 'ephemeral-storage': '102626232Ki', memory: '32394548Ki', pods: '110' },
      conditions: [
        cond(
          'MemoryPressure',
          n.ready ? 'False' : 'Unknown',
          'KubeletHasSufficientMemory',
          'kubelet has sufficient memory available',
        ),
        cond(
          'DiskPressure',
          n.ready ? 'False' : 'Unknown',
          'KubeletHasNoDiskPressure',
          'kubelet has no disk pressure',
        ),
        cond(
          'PIDPressure',
          n.ready ? 'False' : 'Unknown',
          'KubeletHasSufficientPID',
          'kubelet has sufficient PID available',
        ),
        ready,
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      images: [
        {
          names: ['docker.io/calico/node@sha256:' + hex('img/calico', 64), 'docker.io/calico/node:v3.28.2'],
          sizeBytes: 118000000,
        },
        {
          names: [
            'docker.io/flannel/flannel@sha256:' + hex('img/flannel', 64),
            'docker.io/flannel/flannel:v0.25.6',
          ],
          sizeBytes: 31000000,
        },
        {
          names: [
            'registry.k8s.io/kube-proxy@sha256:' + hex('img/kp', 64),
            'registry.k8s.io/kube-proxy:v1.31.2',
          ],
          sizeBytes: 30000000,
        },
        {
          names: ['registry.k8s.io/pause@sha256:' + hex('img/pause', 64), 'registry.k8s.io/pause:3.10'],
          sizeBytes: 320000,
        },
      ],
      nodeInfo: {
        architecture: 'amd64',
        bootID: uid(`${seed}/boot/${n.name}`),
        containerRuntimeVersion: 'containerd://1.7.18',
        kernelVersion: '6.8.0-45-generic',
        kubeProxyVersion: 'v1.31.2',
        kubeletVersion: 'v1.31.2',
        machineID: hex(`${seed}/machine/${n.name}`, 32),
        operatingSystem: 'linux',
        osImage: 'Ubuntu 24.04.1 LTS',
        systemUUID: uid(`${seed}/sys/${n.name}`),
      },
    },
  };
}

function podLabels(svc) {
  return {
    app: svc.app,
    'app.kubernetes.io/name': svc.app,
    'app.kubernetes.io/part-of': svc.ns,
    tier: PROFILES[svc.profile].tier,
  };
}

function podRaw(plan, p) {
  const seed = plan.opts.seed;
  const node = p.node;
  const running = p.phase === 'Running';
  const cond = (type, status, minute) => ({
    type,
    status,
    lastProbeTime: null,
    lastTransitionTime: ts(minute),
  });
  let metadata;
  let containers;
  let extraSpec = {};
  if (p.ds) {
    metadata = {
      name: p.name,
      generateName: `${p.ds}-`,
      namespace: 'kube-system',
      labels: { 'k8s-app': p.ds, 'controller-revision-hash': '6b9f4c8d7c', 'pod-template-generation': '1' },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'DaemonSet',
          name: p.ds,
          uid: uid(`${seed}/ds/${p.ds}`),
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    };
    containers =
      p.ds === 'canal'
        ? [
            { name: 'calico-node', image: 'docker.io/calico/node:v3.28.2' },
            { name: 'kube-flannel', image: 'docker.io/flannel/flannel:v0.25.6' },
          ]
        : [
            {
              name: 'kube-proxy',
              image: 'registry.k8s.io/kube-proxy:v1.31.2',
              command: [
                '/usr/local/bin/kube-proxy',
                '--config=/var/lib/kube-proxy/config.conf',
                '--hostname-override=$(NODE_NAME)',
              ],
            },
          ];
    extraSpec = {
      hostNetwork: true,
      priorityClassName: 'system-node-critical',
      priority: 2000001000,
      serviceAccountName: p.ds,
      tolerations: [{ operator: 'Exists' }],
    };
  } else if (p.coredns) {
    metadata = {
      name: p.name,
      generateName: 'coredns-7db6d8ff4d-',
      namespace: 'kube-system',
      labels: { 'k8s-app': 'kube-dns', 'pod-template-hash': '7db6d8ff4d' },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'coredns-7db6d8ff4d',
          uid: uid(`${seed}/rs/coredns`),
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    };
    containers = [
      {
        name: 'coredns',
        image: 'registry.k8s.io/coredns/coredns:v1.11.3',
        args: ['-conf', '/etc/coredns/Corefile'],
        ports: [
          { name: 'dns', containerPort: 53, protocol: 'UDP' },
          { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
          { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
        ],
        readinessProbe: {
          httpGet: { path: '/ready', port: 8181, scheme: 'HTTP' },
          periodSeconds: 10,
          timeoutSeconds: 1,
          successThreshold: 1,
          failureThreshold: 3,
        },
      },
    ];
    extraSpec = {
      dnsPolicy: 'Default',
      priorityClassName: 'system-cluster-critical',
      priority: 2000000000,
      serviceAccountName: 'coredns',
    };
  } else {
    const svc = p.svc;
    const owner = svc.headless
      ? { kind: 'StatefulSet', name: svc.name }
      : { kind: 'ReplicaSet', name: `${svc.name}-${svc.rsHash}` };
    const labels = podLabels(svc);
    if (svc.headless) {
      labels['controller-revision-hash'] = `${svc.name}-${svc.rsHash}`;
      labels['statefulset.kubernetes.io/pod-name'] = p.name;
    } else {
      labels['pod-template-hash'] = svc.rsHash;
    }
    metadata = {
      name: p.name,
      ...(svc.headless ? {} : { generateName: `${svc.name}-${svc.rsHash}-` }),
      namespace: p.ns,
      labels,
      annotations: { 'kubectl.kubernetes.io/restartedAt': ts(30) },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          ...owner,
          uid: uid(`${seed}/owner/${p.ns}/${owner.name}`),
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    };
    const firstPort = PROFILES[svc.profile].containerPorts[0];
    containers = [
      {
        name: svc.app.replace(/-\d+$/, ''),
        image: `registry.example.com/${svc.ns}/${svc.app.replace(/-\d+$/, '')}:1.${svc.app.length % 9}.${svc.rsHash.length}`,
        ports: PROFILES[svc.profile].containerPorts,
        env: [
          { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
          { name: 'LOG_LEVEL', value: 'info' },
        ],
        readinessProbe:
          firstPort.protocol === 'TCP'
            ? {
                tcpSocket: { port: firstPort.name },
                periodSeconds: 10,
                timeoutSeconds: 1,
                successThreshold: 1,
                failureThreshold: 3,
              }
            : undefined,
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
      },
    ];
    if (svc.headless) extraSpec = { hostname: p.name, subdomain: svc.name };
  }
  const containerSpecs = containers.map((c) => ({
    ...c,
    imagePullPolicy: 'IfNotPresent',
    resources: c.resources ?? { requests: { cpu: '50m', memory: '64Mi' } },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    volumeMounts: [
      { name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
    ],
  }));
  const statuses = running
    ? containers.map((c) => ({
        containerID: `containerd://${hex(`${seed}/cid/${p.ns}/${p.name}/${c.name}`, 64)}`,
        image: c.image,
        imageID: `${c.image.split(':')[0]}@sha256:${hex(`img/${c.image}`, 64)}`,
        lastState: {},
        name: c.name,
        ready: p.ready,
        restartCount: p.ready ? 0 : 3,
        started: true,
        state: { running: { startedAt: ts(40) } },
      }))
    : containers.map((c) => ({
        image: c.image,
        imageID: '',
        lastState: {},
        name: c.name,
        ready: false,
        restartCount: 0,
        started: false,
        state: { waiting: { reason: 'ContainerCreating' } },
      }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...metadata,
      uid: uid(`${seed}/pod/${p.ns}/${p.name}`),
      resourceVersion: String(5000 + p.index),
      creationTimestamp: ts(30),
    },
    spec: {
      containers: containerSpecs,
      dnsPolicy: 'ClusterFirst',
      enableServiceLinks: true,
      nodeName: node.name,
      preemptionPolicy: 'PreemptLowerPriority',
      priority: 0,
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler',
      securityContext: {},
      serviceAccount: 'default',
      serviceAccountName: 'default',
      terminationGracePeriodSeconds: 30,
      tolerations: defaultTolerations(),
      volumes: [
        {
          name: 'kube-api-access',
          projected: {
            defaultMode: 420,
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              {
                downwardAPI: {
                  items: [
                    { path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } },
                  ],
                },
              },
            ],
          },
        },
      ],
      ...extraSpec,
    },
    status: {
      phase: p.phase,
      conditions: [
        cond('PodReadyToStartContainers', running ? 'True' : 'False', 31),
        cond('Initialized', 'True', 30),
        cond('Ready', p.ready ? 'True' : 'False', 32),
        cond('ContainersReady', p.ready ? 'True' : 'False', 32),
        cond('PodScheduled', 'True', 30),
      ],
      hostIP: node.ip,
      hostIPs: [{ ip: node.ip }],
      ...(p.ip ? { podIP: p.ip, podIPs: [{ ip: p.ip }] } : {}),
      qosClass: 'Burstable',
      startTime: ts(30),
      containerStatuses: statuses,
    },
  };
}

function servicePorts(svc) {
  if (svc.system === 'apiserver') return [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }];
  if (svc.system === 'dns') {
    return [
      { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
      { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
      { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
    ];
  }
  return PROFILES[svc.profile].ports.map((p, i) => {
    const out = {};
    if (p.name) out.name = p.name;
    out.port = p.port;
    out.protocol = p.protocol;
    out.targetPort = svc.targetPortTypo && i === 0 ? 'http-api' : p.targetPort;
    if (svc.nodePorts[i]) out.nodePort = svc.nodePorts[i];
    return out;
  });
}

function serviceSelector(svc) {
  if (svc.system === 'apiserver') return undefined;
  if (svc.system === 'dns') return { 'k8s-app': 'kube-dns' };
  const sel = { app: svc.selectorTypo ?? svc.app };
  if (svc.selectorTier) sel.tier = PROFILES[svc.profile].tier;
  return sel;
}

function serviceRaw(plan, svc) {
  const seed = plan.opts.seed;
  const metadata = {
    name: svc.name,
    namespace: svc.ns,
    uid: uid(`${seed}/svc/${svc.ns}/${svc.name}`),
    resourceVersion: String(200000 + plan.services.indexOf(svc)),
    creationTimestamp: ts(20),
    labels:
      svc.system === 'apiserver'
        ? { component: 'apiserver', provider: 'kubernetes' }
        : svc.system === 'dns'
          ? { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS' }
          : { app: svc.app, 'app.kubernetes.io/part-of': svc.ns },
  };
  if (svc.type === 'ExternalName') {
    return {
      apiVersion: 'v1',
      kind: 'Service',
      metadata,
      spec: { type: 'ExternalName', externalName: `${svc.app}.partner.example.com`, sessionAffinity: 'None' },
      status: { loadBalancer: {} },
    };
  }
  const spec = {
    type: svc.type,
    clusterIP: svc.clusterIP,
    clusterIPs: [svc.clusterIP],
    internalTrafficPolicy: 'Cluster',
    ipFamilies: ['IPv4'],
    ipFamilyPolicy: 'SingleStack',
    ports: servicePorts(svc),
    sessionAffinity: 'None',
  };
  const selector = serviceSelector(svc);
  if (selector) spec.selector = selector;
  if (svc.type === 'NodePort' || svc.type === 'LoadBalancer')
    spec.externalTrafficPolicy = svc.etpLocal ? 'Local' : 'Cluster';
  if (svc.type === 'LoadBalancer') {
    spec.allocateLoadBalancerNodePorts = true;
    if (svc.etpLocal) spec.healthCheckNodePort = 32000 + (plan.services.indexOf(svc) % 700);
  }
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata,
    spec,
    status: { loadBalancer: svc.lbIP ? { ingress: [{ ip: svc.lbIP, ipMode: 'VIP' }] } : {} },
  };
}

/** The endpoints the EndpointSlice controller lists for a service, with slice ports. */
function serviceEndpoints(plan, svc) {
  if (svc.system === 'apiserver') {
    const cp = plan.nodes[0];
    return {
      ports: [{ name: 'https', port: 6443, protocol: 'TCP' }],
      endpoints: [{ ip: cp.ip, ready: true, node: undefined }],
    };
  }
  const ports =
    svc.system === 'dns'
      ? [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
          { name: 'metrics', port: 9153, protocol: 'TCP' },
        ]
      : svc.targetPortTypo
        ? null // no container port named like the targetPort: the controller writes ports: null
        : PROFILES[svc.profile].ports.map((p) => ({
            name: p.name,
            port: resolveTarget(svc.profile, p),
            protocol: p.protocol,
          }));
  const endpoints = svc.selectorTypo
    ? []
    : svc.pods.filter((p) => p.ip).map((p) => ({ ip: p.ip, ready: p.ready, node: p.node, pod: p }));
  if (svc.staleIP)
    endpoints.push({
      ip: svc.staleIP,
      ready: true,
      node: svc.pods[0].node,
      stalePodName: `${svc.name}-${svc.rsHash}-${suffix(`${svc.name}/gone`, 5)}`,
    });
  return { ports, endpoints };
}

function sliceRaws(plan, svc, { proxyView = false } = {}) {
  const seed = plan.opts.seed;
  const { ports, endpoints } = serviceEndpoints(plan, svc);
  const chunks = [];
  for (let i = 0; i < endpoints.length; i += 100) chunks.push(endpoints.slice(i, i + 100));
  if (chunks.length === 0) chunks.push([]);
  return chunks.map((chunk, c) => {
    const name =
      svc.system === 'apiserver'
        ? 'kubernetes'
        : `${svc.name}-${suffix(`${seed}/slice/${svc.ns}/${svc.name}/${c}`, 5)}`;
    return {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name,
        ...(svc.system === 'apiserver' ? {} : { generateName: `${svc.name}-` }),
        namespace: svc.ns,
        uid: uid(`${seed}/eps/${svc.ns}/${name}`),
        resourceVersion: String(400000 + plan.services.indexOf(svc) * 10 + c),
        generation: 1,
        creationTimestamp: ts(21),
        labels: {
          'endpointslice.kubernetes.io/managed-by':
            svc.system === 'apiserver'
              ? 'endpointslicemirroring-controller.k8s.io'
              : 'endpointslice-controller.k8s.io',
          'kubernetes.io/service-name': svc.name,
        },
        ownerReferences: [
          {
            apiVersion: 'v1',
            kind: 'Service',
            name: svc.name,
            uid: uid(`${seed}/svc/${svc.ns}/${svc.name}`),
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      addressType: 'IPv4',
      endpoints: chunk.map((e) => {
        let ip = e.ip;
        if (proxyView && svc.proxyStale && ip === svc.proxyStale.ip) ip = svc.proxyStale.oldIP;
        const out = { addresses: [ip], conditions: { ready: e.ready, serving: e.ready, terminating: false } };
        if (e.pod) {
          out.nodeName = e.node.name;
          out.targetRef = {
            kind: 'Pod',
            name: e.pod.name,
            namespace: e.pod.ns,
            uid: uid(`${seed}/pod/${e.pod.ns}/${e.pod.name}`),
          };
          out.zone = e.node.zone;
        } else if (e.stalePodName) {
          out.nodeName = e.node.name;
          out.targetRef = {
            kind: 'Pod',
            name: e.stalePodName,
            namespace: svc.ns,
            uid: uid(`${seed}/gone/${e.stalePodName}`),
          };
          out.zone = e.node.zone;
        }
        return out;
      }),
      ports,
    };
  });
}

function endpointsRaw(plan, svc) {
  const seed = plan.opts.seed;
  const { ports, endpoints } = serviceEndpoints(plan, svc);
  const addr = (e) => ({
    ip: e.ip,
    ...(e.node ? { nodeName: e.node.name } : {}),
    ...(e.pod
      ? {
          targetRef: {
            kind: 'Pod',
            name: e.pod.name,
            namespace: e.pod.ns,
            uid: uid(`${seed}/pod/${e.pod.ns}/${e.pod.name}`),
          },
        }
      : {}),
  });
  // The legacy controller keeps at most 1000 addresses.
  const listed = endpoints.slice(0, 1000);
  const ready = listed.filter((e) => e.ready).map(addr);
  const notReady = listed.filter((e) => !e.ready).map(addr);
  const raw = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name: svc.name,
      namespace: svc.ns,
      uid: uid(`${seed}/ep/${svc.ns}/${svc.name}`),
      resourceVersion: String(300000 + plan.services.indexOf(svc)),
      creationTimestamp: ts(21),
      labels: svc.system ? {} : { app: svc.app },
      ...(endpoints.length > 1000
        ? { annotations: { 'endpoints.kubernetes.io/over-capacity': 'truncated' } }
        : {}),
    },
  };
  if (listed.length && ports) {
    raw.subsets = [
      {
        ...(ready.length ? { addresses: ready } : {}),
        ...(notReady.length ? { notReadyAddresses: notReady } : {}),
        ports: ports.map((p) => ({
          ...(p.name ? { name: p.name } : {}),
          port: p.port,
          protocol: p.protocol,
        })),
      },
    ];
  }
  return raw;
}

function policyRaws(plan) {
  const { opts, rnd } = plan;
  const seed = opts.seed;
  const out = [];
  const np = (ns, name, spec) =>
    networkPolicyObject({
      namespace: ns,
      name,
      uid: uid(`${seed}/netpol/${ns}/${name}`),
      resourceVersion: String(600000 + out.length),
      creationTimestamp: ts(45),
      spec,
    });
  const total = opts.policies;
  // The trace's namespace (the first application namespace) gets no default deny and no policy
  // that selects the trace's pods: its trace stays reachable.
  const traceNs = plan.traceDest?.ns;
  const traceApps = new Set([plan.traceDest, plan.sourcePod?.svc]);
  const policyNamespaces = plan.appNamespaces.length > 1 ? plan.appNamespaces.slice(1) : plan.appNamespaces;
  const appsIn = new Map();
  for (const s of plan.services) {
    if (!s.app || !s.pods.length || s.type === 'ExternalName' || traceApps.has(s)) continue;
    appsIn.set(s.ns, [...(appsIn.get(s.ns) ?? []), s]);
  }
  const ns0 = policyNamespaces[0]?.name ?? 'default';
  if (total >= 1) {
    out.push(
      np(ns0, 'allow-ghost-ingress', {
        podSelector: { matchLabels: { app: 'ghost' } },
        policyTypes: ['Ingress'],
        ingress: [{}],
      }),
    );
    plan.planted.push({
      code: 'POLICY_SELECTS_NO_POD',
      what: 'selects app=ghost',
      objects: [`networkpolicy/${ns0}/allow-ghost-ingress`],
    });
  }
  if (total >= 2) {
    const target = appsIn.get(ns0)?.find((s) => s !== plan.traceDest && s !== plan.sourcePod?.svc);
    out.push(
      np(ns0, 'allow-retired-client', {
        podSelector: { matchLabels: { app: target?.app ?? 'ghost' } },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [{ podSelector: { matchLabels: { app: 'retired-client' } } }],
            ports: [{ protocol: 'TCP', port: 8080 }],
          },
        ],
      }),
    );
    plan.planted.push({
      code: 'POLICY_PEER_SELECTS_NOTHING',
      what: 'ingress from app=retired-client',
      objects: [`networkpolicy/${ns0}/allow-retired-client`],
    });
  }
  // A quarter: default-deny per namespace (ingress, some also egress).
  const denyNamespaces = policyNamespaces.filter((n) => n.name !== traceNs);
  const denies = Math.min(denyNamespaces.length, Math.floor((total - out.length) / 4));
  for (let i = 0; i < denies; i++) {
    const ns = denyNamespaces[i].name;
    const egress = i % 3 === 0;
    out.push(
      np(ns, egress ? 'default-deny-all' : 'default-deny-ingress', {
        podSelector: {},
        policyTypes: egress ? ['Ingress', 'Egress'] : ['Ingress'],
      }),
    );
    if (egress && out.length < total) {
      out.push(
        np(ns, 'allow-dns-egress', {
          podSelector: {},
          policyTypes: ['Egress'],
          egress: [
            {
              to: [
                {
                  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
                  podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
                },
              ],
              ports: [
                { protocol: 'UDP', port: 53 },
                { protocol: 'TCP', port: 53 },
              ],
            },
          ],
        }),
      );
    }
  }
  // The rest: per-application allow rules of every shape.
  let k = 0;
  while (out.length < total) {
    const ns = policyNamespaces[k % policyNamespaces.length]?.name ?? 'default';
    const apps = appsIn.get(ns) ?? [];
    k++;
    if (apps.length === 0) {
      if (k > total * 4) break;
      continue;
    }
    const svc = apps[Math.floor(rnd() * apps.length)];
    const peer = apps[Math.floor(rnd() * apps.length)];
    const port = PROFILES[svc.profile].containerPorts[0];
    // (a policy selecting by tier could select the trace's pods: not in the trace's namespace)
    const shape = ns === traceNs ? out.length % 3 : out.length % 4;
    let spec;
    if (shape === 0) {
      spec = {
        podSelector: { matchLabels: { app: svc.app } },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [{ podSelector: { matchLabels: { app: peer.app } } }],
            ports: [{ protocol: port.protocol, port: port.name }],
          },
        ],
      };
    } else if (shape === 1) {
      spec = {
        podSelector: { matchLabels: { app: svc.app } },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              {
                namespaceSelector: {
                  matchLabels: {
                    team: plan.appNamespaces[Math.floor(rnd() * plan.appNamespaces.length)].labels.team,
                  },
                },
              },
              {
                podSelector: {
                  matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'backend'] }],
                },
              },
            ],
            ports: [{ protocol: port.protocol, port: port.containerPort }],
          },
        ],
      };
    } else if (shape === 2) {
      spec = {
        podSelector: {
          matchLabels: { app: svc.app },
          matchExpressions: [{ key: 'tier', operator: 'Exists' }],
        },
        policyTypes: ['Egress'],
        egress: [
          {
            to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.169.254/32', CLUSTER_CIDR] } }],
            ports: [{ protocol: 'TCP', port: 443 }],
          },
          { to: [{ podSelector: { matchLabels: { app: peer.app } } }] },
        ],
      };
    } else {
      spec = {
        podSelector: { matchLabels: { 'app.kubernetes.io/part-of': ns, tier: PROFILES[svc.profile].tier } },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { env: 'prod' } },
                podSelector: { matchLabels: { tier: 'web' } },
              },
            ],
            ports: [{ protocol: 'TCP', port: 8000, endPort: 8100 }],
          },
        ],
      };
    }
    out.push(np(ns, `allow-${svc.app}-${out.length}`, spec));
  }
  return out;
}

function systemRaws(plan) {
  const seed = plan.opts.seed;
  const cm = (name, data, labels) =>
    configMapObject({
      namespace: 'kube-system',
      name,
      uid: uid(`${seed}/cm/${name}`),
      resourceVersion: '900',
      creationTimestamp: ts(1),
      labels,
      data,
    });
  const ds = (name, containers) =>
    daemonSetObject({
      namespace: 'kube-system',
      name,
      uid: uid(`${seed}/ds/${name}`),
      resourceVersion: '901',
      creationTimestamp: ts(1),
      labels: { 'k8s-app': name },
      containers: containers.map(([cname, image]) => ({ name: cname, image })),
      serviceAccountName: name,
      nodes: plan.nodes.length,
    });
  return {
    daemonSets: [
      ds('kube-proxy', [['kube-proxy', 'registry.k8s.io/kube-proxy:v1.31.2']]),
      ds('canal', [
        ['calico-node', 'docker.io/calico/node:v3.28.2'],
        ['kube-flannel', 'docker.io/flannel/flannel:v0.25.6'],
      ]),
    ],
    configMaps: [
      cm('coredns', { Corefile: COREFILE }),
      cm('kube-proxy', { 'config.conf': kubeProxyConfig(CLUSTER_CIDR) }, { app: 'kube-proxy' }),
    ],
  };
}

function namespaceRaw(plan, ns) {
  return namespaceObject({
    name: ns.name,
    uid: uid(`${plan.opts.seed}/ns/${ns.name}`),
    resourceVersion: '100',
    creationTimestamp: ts(0),
    labels: ns.labels,
  });
}

/** Every object, in `kubectl get namespaces,nodes,pods,services,endpoints,…` order. */
function* allObjects(plan) {
  for (const ns of plan.namespaces) yield namespaceRaw(plan, ns);
  for (const n of plan.nodes) yield nodeRaw(plan, n);
  for (const p of plan.pods) yield podRaw(plan, p);
  for (const s of plan.services) yield serviceRaw(plan, s);
  for (const s of plan.services)
    if (s.type !== 'ExternalName' && (s.system || s.app)) yield endpointsRaw(plan, s);
  for (const s of plan.services) if (s.type !== 'ExternalName') yield* sliceRaws(plan, s);
  yield* policyRaws(plan);
  const sys = systemRaws(plan);
  yield* sys.daemonSets;
  yield* sys.configMaps;
}

// ---------------------------------------------------------------------------------------------
// Node files: the shapes of real iproute2 / sysctl output (bench/templates), re-addressed.

function macOf(key) {
  const h = hex(key, 12);
  // Locally administered, unicast.
  const first = ((Number.parseInt(h.slice(0, 2), 16) & 0xfc) | 0x02).toString(16).padStart(2, '0');
  return [first, h.slice(2, 4), h.slice(4, 6), h.slice(6, 8), h.slice(8, 10), h.slice(10, 12)].join(':');
}
function linkLocal(mac) {
  const b = mac.split(':').map((x) => Number.parseInt(x, 16));
  b[0] ^= 2;
  const bytes = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, b[0], b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]];
  return ipaddr.fromByteArray(bytes).toString();
}

function demoTemplates() {
  const links = JSON.parse(readFileSync(path.join(TEMPLATES, 'ip-link.json'), 'utf8'));
  const addrs = JSON.parse(readFileSync(path.join(TEMPLATES, 'ip-addr.json'), 'utf8'));
  const sysctl = readFileSync(path.join(TEMPLATES, 'sysctl.txt'), 'utf8');
  const cni = readFileSync(path.join(TEMPLATES, '10-flannel.conflist'), 'utf8');
  const byName = (list, pred) => structuredClone(list.find(pred));
  const vethName = links.find((l) => l.ifname.startsWith('veth')).ifname;
  return {
    link: {
      lo: byName(links, (l) => l.ifname === 'lo'),
      eth0: byName(links, (l) => l.ifname === 'eth0'),
      cni0: byName(links, (l) => l.ifname === 'cni0'),
      veth: byName(links, (l) => l.ifname === vethName),
    },
    addr: {
      lo: byName(addrs, (l) => l.ifname === 'lo'),
      eth0: byName(addrs, (l) => l.ifname === 'eth0'),
      cni0: byName(addrs, (l) => l.ifname === 'cni0'),
      veth: byName(addrs, (l) => l.ifname === vethName),
    },
    sysctlBase: sysctl.split('\n').filter((l) => l && !l.includes('veth')),
    sysctlVeth: sysctl
      .split('\n')
      .filter((l) => l.includes(`.${vethName}.`))
      .map((l) => l.replace(vethName, '@VETH@')),
    cni,
  };
}

/** The host-side files of one node, and the in-pod files of the pods listed in `podFiles`. */
function nodeFiles(plan, node, tpl, podFiles) {
  const seed = plan.opts.seed;
  const cniIP = ipv4(podCIDRBase(node.index) + 1);
  const eth0Mac = macOf(`${seed}/eth0/${node.name}`);
  const cni0Mac = macOf(`${seed}/cni0/${node.name}`);
  const podsWithNetns = node.pods.filter((p) => !p.hostNetwork && p.ip);
  const veths = podsWithNetns.map((p, i) => ({
    pod: p,
    ifindex: 4 + i,
    name: `veth${hex(`${seed}/veth/${p.ns}/${p.name}`, 8)}`,
    mac: macOf(`${seed}/vethmac/${p.ns}/${p.name}`),
    podMac: macOf(`${seed}/podmac/${p.ns}/${p.name}`),
    netnsid: i,
  }));

  const lo = (t) => structuredClone(t);
  const eth0 = (t, withAddr) => {
    const x = structuredClone(t);
    x.ifindex = 2;
    delete x.link_index;
    delete x.link_netnsid;
    x.address = eth0Mac;
    if (x.linkinfo) x.linkinfo = { info_kind: 'ena' };
    if (withAddr) {
      x.addr_info = [
        { ...t.addr_info[0], local: node.ip, prefixlen: NODE_PREFIX },
        { ...t.addr_info[1], local: linkLocal(eth0Mac) },
      ];
    }
    return x;
  };
  const cni0 = (t, withAddr) => {
    const x = structuredClone(t);
    x.ifindex = 3;
    x.address = cni0Mac;
    if (withAddr) {
      x.addr_info = [
        { ...t.addr_info[0], local: cniIP, prefixlen: 24 },
        { ...t.addr_info[1], local: linkLocal(cni0Mac) },
      ];
    }
    return x;
  };
  const veth = (t, v, withAddr) => {
    const x = structuredClone(t);
    x.ifindex = v.ifindex;
    x.link_index = 2;
    x.ifname = v.name;
    x.address = v.mac;
    x.link_netnsid = v.netnsid;
    if (x.linkinfo?.info_slave_data) {
      x.linkinfo.info_slave_data.bridge_id = `8000.${cni0Mac}`;
      x.linkinfo.info_slave_data.root_id = `8000.${cni0Mac}`;
      x.linkinfo.info_slave_data.no = `0x${(v.ifindex - 3).toString(16)}`;
      x.linkinfo.info_slave_data.id = `0x${(0x8000 + v.ifindex - 3).toString(16)}`;
    }
    if (withAddr) x.addr_info = [{ ...t.addr_info[0], local: linkLocal(v.mac) }];
    return x;
  };
  const ipLink = [
    lo(tpl.link.lo),
    eth0(tpl.link.eth0, false),
    cni0(tpl.link.cni0, false),
    ...veths.map((v) => veth(tpl.link.veth, v, false)),
  ];
  const ipAddr = [
    lo(tpl.addr.lo),
    eth0(tpl.addr.eth0, true),
    cni0(tpl.addr.cni0, true),
    ...veths.map((v) => veth(tpl.addr.veth, v, true)),
  ];

  const routes = [{ dst: 'default', gateway: ipv4(NODE_NET + 1), dev: 'eth0', flags: [] }];
  for (const other of plan.nodes) {
    if (other === node)
      routes.push({
        dst: other.cidr,
        dev: 'cni0',
        protocol: 'kernel',
        scope: 'link',
        prefsrc: cniIP,
        flags: [],
      });
    else routes.push({ dst: other.cidr, gateway: other.ip, dev: 'eth0', flags: [] });
  }
  routes.push({
    dst: `${ipv4(NODE_NET)}/${NODE_PREFIX}`,
    dev: 'eth0',
    protocol: 'kernel',
    scope: 'link',
    prefsrc: node.ip,
    flags: [],
  });
  const local = (type, dst, dev, prefsrc, scope) => ({
    type,
    dst,
    dev,
    table: 'local',
    protocol: 'kernel',
    scope,
    prefsrc,
    flags: [],
  });
  routes.push(
    local('local', cniIP, 'cni0', cniIP, 'host'),
    local('broadcast', ipv4(podCIDRBase(node.index) + 255), 'cni0', cniIP, 'link'),
    local('local', '127.0.0.0/8', 'lo', '127.0.0.1', 'host'),
    local('local', '127.0.0.1', 'lo', '127.0.0.1', 'host'),
    local('broadcast', '127.255.255.255', 'lo', '127.0.0.1', 'link'),
    local('local', node.ip, 'eth0', node.ip, 'host'),
    local('broadcast', ipv4(NODE_NET + 2 ** (32 - NODE_PREFIX) - 1), 'eth0', node.ip, 'link'),
  );
  for (const dev of ['eth0', 'cni0', ...veths.map((v) => v.name)])
    routes.push({ dst: 'fe80::/64', dev, protocol: 'kernel', metric: 256, flags: [], pref: 'medium' });
  routes.push({
    type: 'local',
    dst: '::1',
    dev: 'lo',
    table: 'local',
    protocol: 'kernel',
    metric: 0,
    flags: [],
    pref: 'medium',
  });

  const sysctl = [...tpl.sysctlBase];
  for (const v of veths) for (const l of tpl.sysctlVeth) sysctl.push(l.replace('@VETH@', v.name));

  const files = {
    'ip-addr.json': JSON.stringify(ipAddr),
    'ip-link.json': JSON.stringify(ipLink),
    'ip-route.json': JSON.stringify(routes),
    'ip-rule.json': JSON.stringify([
      { priority: 0, src: 'all', table: 'local' },
      { priority: 32766, src: 'all', table: 'main' },
      { priority: 32767, src: 'all', table: 'default' },
    ]),
    'sysctl.txt': `${sysctl.join('\n')}\n`,
    'cni/10-flannel.conflist': tpl.cni,
  };
  for (const v of veths) {
    if (!podFiles.has(v.pod)) continue;
    const p = v.pod;
    const dir = `pods/${p.ns}_${p.name}`;
    const podEth0 = structuredClone(tpl.addr.eth0);
    podEth0.ifindex = 2;
    podEth0.link_index = v.ifindex;
    podEth0.address = v.podMac;
    podEth0.link_netnsid = 0;
    podEth0.addr_info = [
      { ...tpl.addr.eth0.addr_info[0], local: p.ip, prefixlen: 24, label: 'eth0' },
      { ...tpl.addr.eth0.addr_info[1], local: linkLocal(v.podMac) },
    ];
    files[`${dir}/ip-addr.json`] = JSON.stringify([structuredClone(tpl.addr.lo), podEth0]);
    files[`${dir}/ip-route.json`] = JSON.stringify([
      { dst: 'default', gateway: cniIP, dev: 'eth0', flags: [] },
      { dst: node.cidr, dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: p.ip, flags: [] },
    ]);
    files[`${dir}/resolv.conf`] =
      `search ${p.ns}.svc.cluster.local svc.cluster.local cluster.local\nnameserver ${ipv4(SVC_NET + 10)}\noptions ndots:5\n`;
    const ports = p.svc ? PROFILES[p.svc.profile].containerPorts : [];
    files[`${dir}/ss.txt`] = ports
      .map((c) =>
        c.protocol === 'UDP'
          ? `udp UNCONN 0      0      0.0.0.0:${c.containerPort} 0.0.0.0:*`
          : `tcp LISTEN 0      4096   *:${c.containerPort} *:*`,
      )
      .join('\n')
      .concat('\n');
  }
  return files;
}

// ---------------------------------------------------------------------------------------------
// Writing

function writeFile(file, text) {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** v1 Lists of one object per line, cut at chunkBytes (like `knet snapshot`). */
function writeObjects(dir, objects, chunkBytes) {
  const head = '{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[\n';
  const tail = '\n]}\n';
  const files = [];
  let lines = [];
  let size = 0;
  let count = 0;
  const flush = () => {
    const rel =
      files.length === 0 ? 'cluster.json' : `cluster/objects-${String(files.length).padStart(4, '0')}.json`;
    writeFile(path.join(dir, rel), head + lines.join(',\n') + tail);
    files.push({ rel, bytes: size + head.length + tail.length });
    lines = [];
    size = 0;
  };
  for (const o of objects) {
    const line = JSON.stringify(o);
    if (lines.length && size + line.length + 2 > chunkBytes) flush();
    lines.push(line);
    size += Buffer.byteLength(line) + 2;
    count++;
  }
  flush();
  return { files, count };
}

export async function generateBundle(opts) {
  const t0 = Date.now();
  const log = opts.quiet ? () => {} : (msg) => process.stderr.write(`${msg}\n`);
  const out = path.resolve(opts.out);
  if (existsSync(out) && readdirSync(out).length) {
    if (!opts.force) throw new Error(`${out} exists and is not empty (use --force to replace it)`);
    rmSync(out, { recursive: true, force: true });
  }
  mkdirSync(out, { recursive: true });
  const plan = planCluster(opts);
  log(
    `plan: ${plan.nodes.length} nodes, ${plan.pods.length} pods, ${plan.services.length} services (${Date.now() - t0} ms)`,
  );

  const written = writeObjects(out, allObjects(plan), Math.round(opts.chunkMb * 1024 * 1024));
  // knet-index.json and knet-objects.jsonl, as knet snapshot writes them: commands read only the
  // objects they need.
  const { writeBundleIndex } = await load('sources/bundle/derived.js');
  writeBundleIndex(
    out,
    written.files.map((f) => f.rel),
  );
  log(`objects: ${written.count} in ${written.files.length} files (${Date.now() - t0} ms)`);

  // Node files: node A (with kube-proxy rules) and node B; pod files for the trace's pods.
  const tpl = demoTemplates();
  const podFiles = new Set([plan.sourcePod, ...(plan.traceDest?.pods ?? [])].filter(Boolean));
  const nodeFileCounts = {};
  for (const node of new Set([plan.nodeA, plan.nodeB])) {
    const files = nodeFiles(plan, node, tpl, podFiles);
    for (const [rel, text] of Object.entries(files)) writeFile(path.join(out, 'nodes', node.name, rel), text);
    nodeFileCounts[node.name] = Object.keys(files).length;
  }

  // kube-proxy's rules on node A, from what kube-proxy saw: one service missing, one endpoint old.
  const { buildModel } = await load('model/build.js');
  const { renderKubeProxyIptables } = await load('analyses/proxy/expected-iptables.js');
  const proxyRaws = [...plan.nodes.map((n) => nodeRaw(plan, n)), ...systemRaws(plan).configMaps];
  for (const s of plan.services) {
    if (s.missingFromProxy || s.type === 'ExternalName') continue;
    proxyRaws.push(serviceRaw(plan, s), ...sliceRaws(plan, s, { proxyView: true }));
  }
  const iptables = renderKubeProxyIptables(buildModel(proxyRaws), plan.nodeA.name);
  // Each dump with its chain table, as knet snapshot writes them: a trace reads only its chains.
  const { writeChainTable } = await load('sources/bundle/dump-index.js');
  writeFile(path.join(out, 'nodes', plan.nodeA.name, 'iptables-save.txt'), iptables);
  writeChainTable(path.join(out, 'nodes', plan.nodeA.name, 'iptables-save.txt'), iptables);
  log(
    `iptables-save.txt for ${plan.nodeA.name}: ${(iptables.length / 1e6).toFixed(1)} MB (${Date.now() - t0} ms)`,
  );
  // Node B runs kube-proxy too, in sync: a trace that crosses it evaluates its rules.
  if (plan.nodeB !== plan.nodeA) {
    const synced = renderKubeProxyIptables(buildModel(allObjects(plan)), plan.nodeB.name);
    writeFile(path.join(out, 'nodes', plan.nodeB.name, 'iptables-save.txt'), synced);
    writeChainTable(path.join(out, 'nodes', plan.nodeB.name, 'iptables-save.txt'), synced);
    log(
      `iptables-save.txt for ${plan.nodeB.name}: ${(synced.length / 1e6).toFixed(1)} MB (${Date.now() - t0} ms)`,
    );
  }

  const dest = plan.traceDest;
  const destPort = dest ? PROFILES[dest.profile].ports[0] : undefined;
  const info = {
    generator: 'bench/generate.js',
    seed: opts.seed,
    size: {
      nodes: plan.nodes.length,
      pods: plan.pods.length,
      services: plan.services.length,
      policies: opts.policies,
    },
    objects: written.count,
    objectFiles: written.files,
    nodeFiles: nodeFileCounts,
    iptablesBytes: Buffer.byteLength(iptables),
    trace:
      plan.sourcePod && dest
        ? {
            source: `pod/${plan.sourcePod.ns}/${plan.sourcePod.name}`,
            destination: `svc/${dest.ns}/${dest.name}`,
          }
        : null,
    proxy:
      plan.sourcePod && dest
        ? {
            node: plan.nodeA.name,
            from: plan.sourcePod.ip,
            to: `${dest.clusterIP}:${destPort.port}`,
            protocol: destPort.protocol.toLowerCase(),
          }
        : null,
    planted: plan.planted,
  };
  writeFile(path.join(out, 'bench.json'), `${JSON.stringify(info, null, 2)}\n`);
  log(`done: ${out} (${Date.now() - t0} ms)`);
  return { dir: out, info };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const opts = parseArgs(process.argv.slice(2));
    const { dir } = await generateBundle(opts);
    process.stdout.write(`${dir}\n`);
  } catch (err) {
    process.stderr.write(`generate: ${err.message}\n`);
    process.exitCode = 2;
  }
}

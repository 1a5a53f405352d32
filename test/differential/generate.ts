// The differential test's generator: from a seed, a small cluster (Kubernetes objects the lab
// builds) and a few cases, each a list of kernel mutations and the (source, destination) pairs
// to probe. Everything here is data: the steps are argv run inside a lab namespace
// (`ip netns exec NS …`), so a disagreement's message can show exactly what was done.
//
// Placeholders in argv, resolved against the live lab: {veth:NS/NAME} (a pod's host-side veth,
// named from the run's prefix), {mac:NODE} (a node's VTEP MAC, known once flannel.1 exists).
import type { Raw } from '../../src/model/normalize.js';
import type { Overlay, Scenario } from '../lab/scenario.js';
import { Rng } from './prng.js';

export const NS = 'diff';
export const TCP_PORT = 8080;
export const UDP_PORT = 5353;
const UNDERLAY = '172.18.0.0/24';
const UNDERLAY_ROUTER = '172.18.0.1';
const VXLAN_PORT = 8472;

export interface GenNode {
  name: string;
  index: number;
  ip: string;
  podCIDR: string;
  gateway: string;
  vtepIP: string;
}

export interface GenPod {
  /** namespace/name */
  key: string;
  name: string;
  node: string;
  ip: string;
}

export interface GenService {
  name: string;
  clusterIP: string;
  protocol: 'tcp' | 'udp';
  port: number;
  targetPort: number;
  /** Pod keys. */
  endpoints: string[];
}

export interface Topology {
  seed: number;
  overlay: Overlay;
  nodes: GenNode[];
  pods: GenPod[];
  services: GenService[];
  scenario: Scenario;
}

export type Destination =
  | { kind: 'pod'; pod: string; protocol: 'tcp' | 'udp'; port: number }
  | { kind: 'svc'; svc: string };

export interface Pair {
  from: string;
  to: Destination;
}

/** Where a step runs: a node's or a pod's network namespace. */
export type Where = { node: string } | { pod: string };

export type Step =
  | { where: Where; cmd: string[] }
  /** What flanneld writes for the node's peers (route, neighbour, FDB entry per remote node). */
  | { where: { node: string }; restore: 'vxlan-peers' }
  /** The node's default route and its routes to the other nodes' pod CIDRs. */
  | { where: { node: string }; restore: 'node-routes' };

export type MutationKind =
  | 'filter'
  | 'mark'
  | 'dnat'
  | 'route'
  | 'link-down'
  | 'policy-route'
  | 'hairpin'
  | 'fdb'
  | 'neigh'
  | 'rp-filter'
  | 'ip-forward';

export interface Mutation {
  kind: MutationKind;
  /** One line: what and where (the decoys say so). */
  text: string;
  /** Meant to miss the probed traffic (a rule that does not match, a device off the path). */
  decoy: boolean;
  apply: Step[];
  revert: Step[];
}

export interface Case {
  seed: number;
  index: number;
  mutations: Mutation[];
  pairs: Pair[];
}

// ---------------------------------------------------------------------------------------------
// Topology

export function generateTopology(seed: number): Topology {
  const rng = new Rng(seed).fork(0);
  const overlay: Overlay = rng.chance(0.5) ? 'hostgw' : 'vxlan';
  const nodes: GenNode[] = [];
  const nNodes = rng.int(2, 3);
  for (let i = 1; i <= nNodes; i++) {
    nodes.push({
      name: `node-${i}`,
      index: i,
      ip: `172.18.0.${10 + i}`,
      podCIDR: `10.244.${i}.0/24`,
      gateway: `10.244.${i}.1`,
      vtepIP: `10.244.${i}.0`,
    });
  }
  const pods: GenPod[] = [];
  for (const n of nodes) {
    const count = rng.int(1, 3);
    for (let j = 0; j < count; j++) {
      const name = `p${n.index}${'abc'[j]}`;
      pods.push({ key: `${NS}/${name}`, name, node: n.name, ip: `10.244.${n.index}.${10 + j}` });
    }
  }
  const services: GenService[] = [];
  const nSvc = rng.int(1, 2);
  for (let k = 1; k <= nSvc; k++) {
    const udp = rng.chance(0.25);
    services.push({
      name: `s${k}`,
      clusterIP: `10.96.0.${10 + k}`,
      protocol: udp ? 'udp' : 'tcp',
      port: udp ? 53 : 80,
      targetPort: udp ? UDP_PORT : TCP_PORT,
      endpoints: rng.sample(pods, rng.int(1, Math.min(2, pods.length))).map((p) => p.key),
    });
  }
  return { seed, overlay, nodes, pods, services, scenario: scenarioOf(seed, overlay, nodes, pods, services) };
}

function scenarioOf(
  seed: number,
  overlay: Overlay,
  nodes: GenNode[],
  pods: GenPod[],
  services: GenService[],
): Scenario {
  const objects: Raw[] = [
    ns(NS),
    ns('kube-system'),
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kube-proxy', namespace: 'kube-system' },
      data: {
        'config.conf':
          'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: 10.244.0.0/16\nmode: iptables\n',
      },
    },
  ];
  for (const n of nodes) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux' } },
      spec: { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR] },
      status: {
        addresses: [
          { type: 'InternalIP', address: n.ip },
          { type: 'Hostname', address: n.name },
        ],
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
      },
    });
  }
  pods.forEach((p, i) => {
    const labels: Record<string, string> = { app: p.name };
    for (const s of services) if (s.endpoints.includes(p.key)) labels[`svc-${s.name}`] = 'yes';
    const node = nodes.find((n) => n.name === p.node)!;
    objects.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: p.name, namespace: NS, uid: podUid(i), labels },
      spec: {
        nodeName: p.node,
        containers: [
          {
            name: 'app',
            image: 'example/app:1.0',
            ports: [
              { name: 'http', containerPort: TCP_PORT, protocol: 'TCP' },
              { name: 'dns', containerPort: UDP_PORT, protocol: 'UDP' },
            ],
          },
        ],
      },
      status: {
        phase: 'Running',
        hostIP: node.ip,
        podIP: p.ip,
        podIPs: [{ ip: p.ip }],
        conditions: [{ type: 'Ready', status: 'True' }],
      },
    });
  });
  for (const s of services) {
    const proto = s.protocol === 'udp' ? 'UDP' : 'TCP';
    const portName = s.protocol === 'udp' ? 'dns' : 'http';
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: s.name, namespace: NS },
      spec: {
        type: 'ClusterIP',
        clusterIP: s.clusterIP,
        clusterIPs: [s.clusterIP],
        selector: { [`svc-${s.name}`]: 'yes' },
        ports: [{ name: portName, port: s.port, targetPort: s.targetPort, protocol: proto }],
      },
    });
    objects.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: `${s.name}-abcde`,
        namespace: NS,
        labels: {
          'kubernetes.io/service-name': s.name,
          'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
        },
      },
      addressType: 'IPv4',
      ports: [{ name: portName, port: s.targetPort, protocol: proto }],
      endpoints: s.endpoints.map((key) => {
        const p = pods.find((x) => x.key === key)!;
        return {
          addresses: [p.ip],
          conditions: { ready: true, serving: true, terminating: false },
          nodeName: p.node,
          targetRef: { kind: 'Pod', namespace: NS, name: p.name, uid: podUid(pods.indexOf(p)) },
        };
      }),
    });
  }
  return {
    lab: { name: `diff-${seed}`, overlay, underlayCIDR: UNDERLAY, clusterDomain: 'cluster.local' },
    objects,
  };
}

const ns = (name: string): Raw => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
  status: { phase: 'Active' },
});

const podUid = (i: number) => `6f1c0a52-0002-4c1e-9a51-${String(i + 1).padStart(12, '0')}`;

// ---------------------------------------------------------------------------------------------
// Pairs

/** What a pair sends and where it can end up. */
export interface PairInfo {
  src: GenPod;
  srcNode: GenNode;
  protocol: 'tcp' | 'udp';
  /** The destination as the source sends it (service VIP or pod IP). */
  sentIP: string;
  sentPort: number;
  backends: { pod: GenPod; node: GenNode; port: number }[];
  /** knet trace's targets. */
  source: string;
  destination: string;
}

export function pairInfo(topo: Topology, pair: Pair): PairInfo {
  const src = podOf(topo, pair.from);
  const srcNode = nodeOf(topo, src.node);
  const source = `pod/${pair.from}`;
  if (pair.to.kind === 'pod') {
    const dst = podOf(topo, pair.to.pod);
    return {
      src,
      srcNode,
      protocol: pair.to.protocol,
      sentIP: dst.ip,
      sentPort: pair.to.port,
      backends: [{ pod: dst, node: nodeOf(topo, dst.node), port: pair.to.port }],
      source,
      destination: `pod/${pair.to.pod}:${pair.to.port}`,
    };
  }
  const svc = svcOf(topo, pair.to.svc);
  return {
    src,
    srcNode,
    protocol: svc.protocol,
    sentIP: svc.clusterIP,
    sentPort: svc.port,
    backends: svc.endpoints.map((k) => {
      const pod = podOf(topo, k);
      return { pod, node: nodeOf(topo, pod.node), port: svc.targetPort };
    }),
    source,
    destination: `svc/${NS}/${svc.name}:${svc.port}`,
  };
}

export function pairText(topo: Topology, pair: Pair): string {
  const i = pairInfo(topo, pair);
  return `${i.source} → ${i.destination}${i.protocol === 'udp' ? '/udp' : ''}`;
}

const podOf = (topo: Topology, key: string) => topo.pods.find((p) => p.key === key)!;
const nodeOf = (topo: Topology, name: string) => topo.nodes.find((n) => n.name === name)!;
const svcOf = (topo: Topology, name: string) => topo.services.find((s) => s.name === name)!;

function randomPair(rng: Rng, topo: Topology): Pair {
  // A pod reaching its own Service (the hairpin path) now and then.
  if (rng.chance(0.2)) {
    const svc = rng.pick(topo.services);
    return { from: rng.pick(svc.endpoints), to: { kind: 'svc', svc: svc.name } };
  }
  const from = rng.pick(topo.pods).key;
  if (rng.chance(0.5)) return { from, to: { kind: 'svc', svc: rng.pick(topo.services).name } };
  const others = topo.pods.filter((p) => p.key !== from);
  const dst = rng.pick(others.length > 0 ? others : topo.pods);
  const udp = rng.chance(0.2);
  return {
    from,
    to: { kind: 'pod', pod: dst.key, protocol: udp ? 'udp' : 'tcp', port: udp ? UDP_PORT : TCP_PORT },
  };
}

const pairKey = (p: Pair) => JSON.stringify(p);

// ---------------------------------------------------------------------------------------------
// Cases and mutations

const MAX_PAIRS = 4;

export function generateCases(topo: Topology, count: number): Case[] {
  const cases: Case[] = [];
  for (let index = 0; index < count; index++) {
    const rng = new Rng(topo.seed).fork(index + 1);
    const nMut = rng.pick([0, 1, 1, 2, 2, 3]);
    const pairs: Pair[] = [];
    const mutations: Mutation[] = [];
    for (let m = 0; m < nMut; m++) {
      const aim = pairs.length > 0 && rng.chance(0.4) ? rng.pick(pairs) : randomPair(rng, topo);
      const mutation = generateMutation(rng, topo, aim, m);
      // A decoy is meant to miss the pair it was aimed at; the case's other pairs may still cross it.
      const m1 = mutation.mutation;
      const aimed = pairText(topo, mutation.pair ?? aim);
      m1.text = m1.text.replace(
        /^(\S+?)( \(decoy\))?: /,
        (_, kind: string, decoy?: string) => `${kind}${decoy ? ' (decoy)' : ''} aimed at ${aimed}: `,
      );
      mutations.push(m1);
      for (const p of [mutation.pair ?? aim])
        if (!pairs.some((x) => pairKey(x) === pairKey(p))) pairs.push(p);
    }
    while (pairs.length < Math.min(MAX_PAIRS, nMut + 1)) {
      const p = randomPair(rng, topo);
      if (!pairs.some((x) => pairKey(x) === pairKey(p))) pairs.push(p);
    }
    cases.push({ seed: topo.seed, index, mutations, pairs: pairs.slice(0, MAX_PAIRS) });
  }
  return cases;
}

interface Generated {
  mutation: Mutation;
  /** The pair the mutation is about, when it is not the aim it was given (hairpin). */
  pair?: Pair;
}

type Generator = (rng: Rng, topo: Topology, info: PairInfo, slot: number, aim: Pair) => Generated;

const ipt = (...args: string[]) => ['iptables', '-w', '5', ...args];
const onNode = (node: string, cmd: string[]): Step => ({ where: { node }, cmd });
const onPod = (pod: string, cmd: string[]): Step => ({ where: { pod }, cmd });
const stepText = (s: Step) =>
  `${'node' in s.where ? s.where.node : `pod ${s.where.pod}`}$ ${'cmd' in s ? s.cmd.join(' ') : `(${s.restore})`}`;

function mutation(kind: MutationKind, decoy: boolean, what: string, apply: Step[], revert: Step[]): Mutation {
  const text = `${kind}${decoy ? ' (decoy)' : ''}: ${what} [${apply.map(stepText).join('; ')}]`;
  return { kind, decoy, text, apply, revert };
}

/** Another node than `node`, if there is one. */
function otherNode(rng: Rng, topo: Topology, node: string): GenNode | undefined {
  const others = topo.nodes.filter((n) => n.name !== node);
  return others.length > 0 ? rng.pick(others) : undefined;
}

const portMatch = (protocol: string, port: number) => [
  '-p',
  protocol,
  '-m',
  protocol,
  '--dport',
  String(port),
];

const filter: Generator = (rng, topo, info) => {
  const b = rng.pick(info.backends);
  const places = ['src-forward', 'dst-forward', 'node-input', 'node-output', 'pod-input', 'pod-output'];
  if (topo.overlay === 'vxlan') places.push('vxlan-input', 'vxlan-output');
  const place = rng.pick(places);
  const target = rng.chance(0.3) ? 'REJECT' : 'DROP';
  const decoy = rng.chance(0.25);
  const port = decoy ? b.port + 1 : b.port;
  const toBackend = ['-d', `${b.pod.ip}/32`, ...portMatch(info.protocol, port)];
  let where: Where;
  let chain: string;
  let match: string[];
  let onPath = true;
  switch (place) {
    case 'src-forward':
      where = { node: info.srcNode.name };
      chain = 'FORWARD';
      match = rng.chance(0.3) ? ['-s', `${info.src.ip}/32`, ...portMatch(info.protocol, port)] : toBackend;
      break;
    case 'dst-forward':
      where = { node: b.node.name };
      chain = 'FORWARD';
      match = toBackend;
      break;
    case 'node-input':
    case 'node-output':
      // Pod traffic is forwarded, not sent or received by the node: off the path.
      where = { node: rng.pick([info.srcNode.name, b.node.name]) };
      chain = place === 'node-input' ? 'INPUT' : 'OUTPUT';
      match = toBackend;
      onPath = false;
      break;
    case 'pod-input':
      where = { pod: b.pod.key };
      chain = 'INPUT';
      match = toBackend;
      break;
    case 'pod-output':
      where = { pod: info.src.key };
      chain = 'OUTPUT';
      match = [
        '-d',
        `${info.sentIP}/32`,
        ...portMatch(info.protocol, decoy ? info.sentPort + 1 : info.sentPort),
      ];
      break;
    default: {
      // The VXLAN underlay traffic: sent by the node (OUTPUT), received by it (INPUT).
      const input = place === 'vxlan-input';
      where = { node: input ? b.node.name : info.srcNode.name };
      chain = input ? 'INPUT' : 'OUTPUT';
      match = portMatch('udp', decoy ? 4789 : VXLAN_PORT);
      onPath = b.node.name !== info.srcNode.name;
    }
  }
  const rule = [...match, '-j', target];
  const apply: Step = { where, cmd: ipt('-I', chain, '1', ...rule) };
  const revert: Step[] = [{ where, cmd: ipt('-D', chain, ...rule) }];
  // A pod namespace had no rules before: leave it as empty as it was.
  if ('pod' in where) revert.push({ where, cmd: ['nft', 'flush', 'ruleset'] });
  return {
    mutation: mutation('filter', decoy || !onPath, `${target} in ${chain} (${place})`, [apply], revert),
  };
};

const mark: Generator = (rng, _topo, info, slot) => {
  const b = rng.pick(info.backends);
  const bit = `0x${(0x100 << slot).toString(16)}`;
  const atSource = rng.chance(0.5);
  const node = atSource ? info.srcNode.name : b.node.name;
  // mangle PREROUTING runs before kube-proxy's DNAT: the source node still sees the VIP.
  const match = atSource
    ? ['-d', `${info.sentIP}/32`, ...portMatch(info.protocol, info.sentPort)]
    : ['-d', `${b.pod.ip}/32`, ...portMatch(info.protocol, b.port)];
  const decoy = rng.chance(0.25);
  const dropBit = decoy ? `0x${(0x1000 << slot).toString(16)}` : bit;
  const markRule = [...match, '-j', 'MARK', '--set-xmark', `${bit}/${bit}`];
  const dropRule = ['-m', 'mark', '--mark', `${dropBit}/${dropBit}`, '-j', 'DROP'];
  return {
    mutation: mutation(
      'mark',
      decoy,
      `mark ${bit} in mangle PREROUTING, DROP on mark ${dropBit} in FORWARD (${atSource ? 'source' : 'destination'} node)`,
      [
        onNode(node, ipt('-t', 'mangle', '-I', 'PREROUTING', '1', ...markRule)),
        onNode(node, ipt('-I', 'FORWARD', '1', ...dropRule)),
      ],
      [
        onNode(node, ipt('-D', 'FORWARD', ...dropRule)),
        onNode(node, ipt('-t', 'mangle', '-D', 'PREROUTING', ...markRule)),
      ],
    ),
  };
};

const dnat: Generator = (rng, topo, info) => {
  const b = rng.pick(info.backends);
  const atSource = info.backends.length > 1 || rng.chance(0.6);
  const node = atSource ? info.srcNode.name : b.node.name;
  const match = atSource
    ? ['-d', `${info.sentIP}/32`, ...portMatch(info.protocol, info.sentPort)]
    : ['-d', `${b.pod.ip}/32`, ...portMatch(info.protocol, b.port)];
  const port = info.protocol === 'udp' ? UDP_PORT : TCP_PORT;
  const variant = rng.pick(['other-pod', 'other-pod', 'dead-ip', 'closed-port']);
  const other = rng.pick(topo.pods.filter((p) => p.key !== b.pod.key));
  const to =
    variant === 'other-pod'
      ? `${other.ip}:${port}`
      : variant === 'dead-ip'
        ? `10.244.${rng.pick(topo.nodes).index}.250:${port}`
        : `${other.ip}:${port + 1}`;
  const rule = [...match, '-j', 'DNAT', '--to-destination', to];
  return {
    mutation: mutation(
      'dnat',
      false,
      `DNAT to ${to} (${variant}) in nat PREROUTING of the ${atSource ? 'source' : 'destination'} node`,
      [onNode(node, ipt('-t', 'nat', '-I', 'PREROUTING', '1', ...rule))],
      [onNode(node, ipt('-t', 'nat', '-D', 'PREROUTING', ...rule))],
    ),
  };
};

function overlayRoute(topo: Topology, to: GenNode): string[] {
  return topo.overlay === 'vxlan'
    ? ['ip', 'route', 'replace', to.podCIDR, 'via', to.vtepIP, 'dev', 'flannel.1', 'onlink']
    : ['ip', 'route', 'replace', to.podCIDR, 'via', to.ip, 'dev', 'eth0'];
}

const route: Generator = (rng, topo, info) => {
  const b = rng.pick(info.backends);
  const cross = b.node.name !== info.srcNode.name;
  const variants = ['blackhole', 'blackhole', 'pod-default'];
  if (cross) variants.push('remote-cidr', 'reply-cidr');
  const variant = rng.pick(variants);
  if (variant === 'remote-cidr' || variant === 'reply-cidr') {
    // The route to the other side's pod CIDR (the request's, or the reply's way back).
    const [node, remote] = variant === 'remote-cidr' ? [info.srcNode, b.node] : [b.node, info.srcNode];
    return {
      mutation: mutation(
        'route',
        false,
        `${node.name} loses its route to ${remote.name}'s pod CIDR (${variant})`,
        [onNode(node.name, ['ip', 'route', 'del', remote.podCIDR])],
        [onNode(node.name, overlayRoute(topo, remote))],
      ),
    };
  }
  if (variant === 'pod-default') {
    return {
      mutation: mutation(
        'route',
        false,
        `the source pod has no default route`,
        [onPod(info.src.key, ['ip', 'route', 'del', 'default'])],
        [
          onPod(info.src.key, [
            'ip',
            'route',
            'replace',
            'default',
            'via',
            info.srcNode.gateway,
            'dev',
            'eth0',
          ]),
        ],
      ),
    };
  }
  const type = rng.pick(['blackhole', 'unreachable', 'prohibit']);
  const decoy = rng.chance(0.25);
  const dst = decoy ? `${b.pod.ip.split('.').slice(0, 3).join('.')}.250/32` : `${b.pod.ip}/32`;
  const node = rng.chance(0.5) ? info.srcNode : b.node;
  return {
    mutation: mutation(
      'route',
      decoy,
      `${type} route for ${dst} on ${node.name}`,
      [onNode(node.name, ['ip', 'route', 'add', type, dst])],
      [onNode(node.name, ['ip', 'route', 'del', type, dst])],
    ),
  };
};

const linkDown: Generator = (rng, topo, info) => {
  const b = rng.pick(info.backends);
  const choices: { dev: string; where: Where; restore: Step[]; what: string; decoy?: boolean }[] = [
    {
      dev: `{veth:${b.pod.key}}`,
      where: { node: b.node.name },
      restore: [],
      what: "the backend's host veth",
    },
    { dev: 'cni0', where: { node: b.node.name }, restore: [], what: "the backend node's bridge" },
    { dev: 'cni0', where: { node: info.srcNode.name }, restore: [], what: "the source node's bridge" },
    {
      dev: 'eth0',
      where: { pod: b.pod.key },
      restore: [
        onPod(b.pod.key, ['ip', 'route', 'replace', 'default', 'via', b.node.gateway, 'dev', 'eth0']),
      ],
      what: "the backend pod's eth0",
    },
    {
      dev: 'eth0',
      where: { node: rng.pick([info.srcNode.name, b.node.name]) },
      restore: [],
      what: "a node's underlay link",
    },
  ];
  const bystanders = topo.pods.filter(
    (p) => p.key !== info.src.key && !info.backends.some((x) => x.pod === p),
  );
  if (bystanders.length > 0) {
    const p = rng.pick(bystanders);
    choices.push({
      dev: `{veth:${p.key}}`,
      where: { node: p.node },
      restore: [],
      what: 'a bystander pod',
      decoy: true,
    });
  }
  if (topo.overlay === 'vxlan') {
    const node = rng.pick([info.srcNode.name, b.node.name]);
    choices.push({
      dev: 'flannel.1',
      where: { node },
      restore: [{ where: { node }, restore: 'vxlan-peers' }],
      what: `${node}'s VXLAN device`,
    });
  }
  const c = rng.pick(choices);
  const nodeEth0 = 'node' in c.where && c.dev === 'eth0';
  const restore: Step[] = nodeEth0
    ? [{ where: c.where as { node: string }, restore: 'node-routes' }]
    : c.restore;
  return {
    mutation: mutation(
      'link-down',
      c.decoy ?? false,
      `${c.what} (${c.dev}) is down`,
      [{ where: c.where, cmd: ['ip', 'link', 'set', c.dev, 'down'] }],
      [{ where: c.where, cmd: ['ip', 'link', 'set', c.dev, 'up'] }, ...restore],
    ),
  };
};

const policyRoute: Generator = (rng, _topo, info, slot) => {
  const b = rng.pick(info.backends);
  const table = String(100 + slot);
  const pref = String(100 + slot);
  const atSource = rng.chance(0.5);
  const node = atSource ? info.srcNode : b.node;
  const selectors: { sel: string[]; decoy?: boolean }[] = [
    { sel: ['to', b.node.podCIDR] },
    { sel: ['to', `${b.pod.ip}/32`] },
    { sel: ['from', `${info.src.ip}/32`] },
    { sel: ['fwmark', `0x${(0x10000 << slot).toString(16)}`], decoy: true },
    { sel: ['to', '10.250.0.0/16'], decoy: true },
  ];
  if (atSource) selectors.push({ sel: ['iif', 'cni0'] });
  const s = rng.pick(selectors);
  const routes = [
    ['blackhole', 'default'],
    ['unreachable', 'default'],
    ['default', 'via', UNDERLAY_ROUTER, 'dev', 'eth0'],
  ];
  const r = rng.pick(routes);
  return {
    mutation: mutation(
      'policy-route',
      s.decoy ?? false,
      `ip rule ${s.sel.join(' ')} → table ${table} (${r.join(' ')}) on ${node.name}`,
      [
        onNode(node.name, ['ip', 'route', 'add', ...r, 'table', table]),
        onNode(node.name, ['ip', 'rule', 'add', 'pref', pref, ...s.sel, 'lookup', table]),
      ],
      [
        onNode(node.name, ['ip', 'rule', 'del', 'pref', pref]),
        onNode(node.name, ['ip', 'route', 'flush', 'table', table]),
      ],
    ),
  };
};

const hairpin: Generator = (rng, topo, _info, _slot, aim) => {
  // A pod that reaches its own Service needs hairpin on its bridge port.
  const svc = aim.to.kind === 'svc' ? svcOf(topo, aim.to.svc) : rng.pick(topo.services);
  const self = svc.endpoints.includes(aim.from) ? aim.from : rng.pick(svc.endpoints);
  const pair: Pair = { from: self, to: { kind: 'svc', svc: svc.name } };
  const decoy = rng.chance(0.25) && topo.pods.length > 1;
  const victim = decoy ? rng.pick(topo.pods.filter((p) => p.key !== self)) : podOf(topo, self);
  return {
    pair,
    mutation: mutation(
      'hairpin',
      decoy,
      `hairpin off on ${victim.key}'s bridge port (probe: ${self} → its own svc ${svc.name})`,
      [
        onNode(victim.node, [
          'ip',
          'link',
          'set',
          'dev',
          `{veth:${victim.key}}`,
          'type',
          'bridge_slave',
          'hairpin',
          'off',
        ]),
      ],
      [
        onNode(victim.node, [
          'ip',
          'link',
          'set',
          'dev',
          `{veth:${victim.key}}`,
          'type',
          'bridge_slave',
          'hairpin',
          'on',
        ]),
      ],
    ),
  };
};

/** A VXLAN peer entry (FDB or neighbour) deleted on one node. */
function vxlanEntry(kind: 'fdb' | 'neigh'): Generator {
  return (rng, topo, info) => {
    const b = rng.pick(info.backends);
    let node: GenNode;
    let peer: GenNode;
    let decoy = false;
    if (b.node.name === info.srcNode.name) {
      // Pod traffic within a node never touches the overlay.
      node = info.srcNode;
      peer = otherNode(rng, topo, node.name)!;
      decoy = true;
    } else if (topo.nodes.length > 2 && rng.chance(0.2)) {
      node = info.srcNode;
      peer = topo.nodes.find((n) => n.name !== info.srcNode.name && n.name !== b.node.name)!;
      decoy = true;
    } else {
      [node, peer] = rng.chance(0.5) ? [info.srcNode, b.node] : [b.node, info.srcNode];
    }
    const cmd =
      kind === 'fdb'
        ? ['bridge', 'fdb', 'del', `{mac:${peer.name}}`, 'dev', 'flannel.1', 'dst', peer.ip, 'self']
        : ['ip', 'neigh', 'del', peer.vtepIP, 'dev', 'flannel.1'];
    return {
      mutation: mutation(
        kind,
        decoy,
        `${node.name} loses its VXLAN ${kind === 'fdb' ? 'FDB' : 'neighbour'} entry for ${peer.name}`,
        [onNode(node.name, cmd)],
        [{ where: { node: node.name }, restore: 'vxlan-peers' }],
      ),
    };
  };
}

const rpFilter: Generator = (rng, topo, info) => {
  const b = rng.pick(info.backends);
  const cross = b.node.name !== info.srcNode.name;
  const value = rng.chance(0.2) ? '2' : '1';
  if (topo.overlay === 'vxlan' && cross) {
    // Requests to the backend's pod CIDR leave the source node on the underlay (a host-gw route
    // in a VXLAN cluster), replies come back through flannel.1: asymmetric on both nodes.
    const [node, iface] = rng.pick([
      [info.srcNode, 'all'],
      [info.srcNode, 'flannel/1'],
      [b.node, 'all'],
      [b.node, 'eth0'],
    ] as [GenNode, string][]);
    const key = `net.ipv4.conf.${iface}.rp_filter`;
    return {
      mutation: mutation(
        'rp-filter',
        value === '2',
        `asymmetric route (${info.srcNode.name} → ${b.node.podCIDR} via the underlay) and ${key}=${value} on ${node.name}`,
        [
          onNode(info.srcNode.name, [
            'ip',
            'route',
            'replace',
            b.node.podCIDR,
            'via',
            b.node.ip,
            'dev',
            'eth0',
          ]),
          onNode(node.name, ['sysctl', '-qw', `${key}=${value}`]),
        ],
        [
          onNode(node.name, ['sysctl', '-qw', `${key}=0`]),
          { where: { node: info.srcNode.name }, restore: 'vxlan-peers' },
        ],
      ),
    };
  }
  const node = rng.pick([info.srcNode, b.node]);
  const iface = rng.pick(['all', 'eth0', 'cni0']);
  const key = `net.ipv4.conf.${iface}.rp_filter`;
  return {
    mutation: mutation(
      'rp-filter',
      true,
      `${key}=${value} on ${node.name} (routes symmetric)`,
      [onNode(node.name, ['sysctl', '-qw', `${key}=${value}`])],
      [onNode(node.name, ['sysctl', '-qw', `${key}=0`])],
    ),
  };
};

const ipForward: Generator = (rng, topo, info) => {
  const b = rng.pick(info.backends);
  const node = rng.pick([info.srcNode, b.node]);
  const keys = [
    'net.ipv4.ip_forward',
    'net.ipv4.ip_forward',
    'net.ipv4.conf.cni0.forwarding',
    'net.ipv4.conf.eth0.forwarding',
  ];
  if (topo.overlay === 'vxlan') keys.push('net.ipv4.conf.flannel/1.forwarding');
  const key = rng.pick(keys);
  return {
    mutation: mutation(
      'ip-forward',
      false,
      `${key}=0 on ${node.name}`,
      [onNode(node.name, ['sysctl', '-qw', `${key}=0`])],
      [onNode(node.name, ['sysctl', '-qw', `${key}=1`])],
    ),
  };
};

const CATALOGUE: { kind: MutationKind; weight: number; gen: Generator; vxlanOnly?: boolean }[] = [
  { kind: 'filter', weight: 4, gen: filter },
  { kind: 'mark', weight: 1, gen: mark },
  { kind: 'dnat', weight: 2, gen: dnat },
  { kind: 'route', weight: 2, gen: route },
  { kind: 'link-down', weight: 2, gen: linkDown },
  { kind: 'policy-route', weight: 2, gen: policyRoute },
  { kind: 'hairpin', weight: 1, gen: hairpin },
  { kind: 'fdb', weight: 1, gen: vxlanEntry('fdb'), vxlanOnly: true },
  { kind: 'neigh', weight: 1, gen: vxlanEntry('neigh'), vxlanOnly: true },
  { kind: 'rp-filter', weight: 1, gen: rpFilter },
  { kind: 'ip-forward', weight: 1, gen: ipForward },
];

function generateMutation(rng: Rng, topo: Topology, aim: Pair, slot: number): Generated {
  const entries = CATALOGUE.filter((c) => !c.vxlanOnly || topo.overlay === 'vxlan');
  const total = entries.reduce((s, c) => s + c.weight, 0);
  let r = rng.next() * total;
  let entry = entries[entries.length - 1];
  for (const c of entries) {
    r -= c.weight;
    if (r < 0) {
      entry = c;
      break;
    }
  }
  return entry.gen(rng, topo, pairInfo(topo, aim), slot, aim);
}

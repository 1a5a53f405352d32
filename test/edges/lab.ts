// Small dataplane labs in network namespaces (root only) for the edge checks: a node with a pod
// and an "internet" peer (egress masquerade), and two VXLAN-connected nodes with a pod each
// (MTU). Every namespace is named kne-PID-N-…; nothing outside them is touched (all commands
// are `ip -n NS …` or `ip netns exec NS …`), and destroy() removes them all. Captures are the
// real tools' output, in the bundle layout (snapshot.md), so the unit tests can keep them.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PREFIX = 'kne-';
const PROBE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'probe.mjs');

let labCounter = 0;

export function run(argv: string[], input?: string): string {
  const r = spawnSync(argv[0], argv.slice(1), { input, encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) {
    throw new Error(`${argv.join(' ')} failed (${r.status ?? r.error}): ${(r.stderr ?? '').trim()}`);
  }
  return r.stdout;
}

export class Lab {
  readonly prefix: string;
  private readonly namespaces: string[] = [];

  constructor(name: string) {
    this.prefix = `${PREFIX}${process.pid}-${labCounter++}-${name}-`;
  }

  ns(name: string): string {
    const full = `${this.prefix}${name}`;
    run(['ip', 'netns', 'add', full]);
    this.namespaces.push(full);
    run(['ip', '-n', full, 'link', 'set', 'lo', 'up']);
    return full;
  }

  ip(ns: string, ...args: string[]): string {
    return run(['ip', '-n', ns, ...args]);
  }

  exec(ns: string, argv: string[], input?: string): string {
    return run(['ip', 'netns', 'exec', ns, ...argv], input);
  }

  sysctl(ns: string, key: string, value: string): void {
    this.exec(ns, ['sysctl', '-qw', `${key}=${value}`]);
  }

  /** Runs probe.mjs in a namespace and waits for its JSON line (bounded by the probe itself). */
  probe(ns: string, args: string[]): unknown {
    const out = this.exec(ns, [process.execPath, PROBE, ...args]);
    return JSON.parse(out.trim().split('\n').at(-1) ?? 'null');
  }

  /** Starts a probe in the background; resolves with its JSON line when it ends (≤ 3 s). */
  background(ns: string, args: string[]): { ready: Promise<void>; result: Promise<unknown> } {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, PROBE, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const ready = new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        if (String(d).includes('ready')) resolve();
      });
      child.on('exit', () => reject(new Error(`probe in ${ns} ended before it was ready`)));
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    const result = new Promise<unknown>((resolve) => {
      child.on('exit', () => {
        clearTimeout(killer);
        resolve(out.trim() ? JSON.parse(out.trim().split('\n').at(-1) as string) : null);
      });
    });
    ready.catch(() => {});
    return { ready, result };
  }

  /** nodes/NODE/* files of a node namespace, as `knet snapshot` writes them. */
  captureNode(ns: string): Record<string, string> {
    const files: Record<string, string> = {
      'ip-addr.json': this.ip(ns, '-j', 'addr', 'show'),
      'ip-link.json': this.ip(ns, '-j', '-d', 'link', 'show'),
      'ip-route.json': this.ip(ns, '-j', 'route', 'show', 'table', 'all'),
      'ip-rule.json': this.ip(ns, '-j', 'rule', 'show'),
      'sysctl.txt': `${this.exec(ns, ['sysctl', '-a'])
        .split('\n')
        .filter((l) => l.startsWith('net.'))
        .join('\n')}\n`,
    };
    const rules = this.exec(ns, ['iptables-save']);
    if (rules.includes('*')) files['iptables-save.txt'] = rules;
    return files;
  }

  /** nodes/NODE/pods/NS_NAME/* files of a pod namespace. */
  capturePod(ns: string): Record<string, string> {
    return {
      'ip-addr.json': this.ip(ns, '-j', 'addr', 'show'),
      'ip-route.json': this.ip(ns, '-j', 'route', 'show'),
    };
  }

  destroy(): void {
    for (const ns of this.namespaces.splice(0).reverse()) {
      spawnSync('ip', ['netns', 'del', ns], { timeout: 10_000 });
    }
  }
}

/** Writes captured files below `dir` (used to refresh the fixtures: KNET_WRITE_FIXTURES=1). */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
}

/** Adds a pod namespace with eth0 on the node's bridge. */
export function addPod(
  lab: Lab,
  node: string,
  name: string,
  bridge: string,
  ip: string,
  gateway: string,
  mtu = 1500,
): string {
  const pod = lab.ns(name);
  const veth = `veth${name.replace(/[^a-z0-9]/g, '').slice(-8)}`;
  lab.ip(node, 'link', 'add', veth, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod);
  lab.ip(node, 'link', 'set', veth, 'master', bridge, 'up');
  lab.ip(pod, 'addr', 'add', ip, 'dev', 'eth0');
  lab.ip(pod, 'link', 'set', 'eth0', 'mtu', String(mtu), 'up');
  lab.ip(pod, 'route', 'add', 'default', 'via', gateway);
  return pod;
}

// ---------------------------------------------------------------------------------------------
// Egress: pod 10.244.1.5 on node (cni0 10.244.1.1/24, eth0 172.18.0.2/24, default via
// 172.18.0.1) → "internet" peer 203.0.113.10, which has no route back to the pod CIDR.

export type EgressVariant = 'masquerade' | 'no-masquerade' | 'forward-drop';

const KUBE_NAT = [
  ':KUBE-MARK-MASQ - [0:0]',
  ':KUBE-POSTROUTING - [0:0]',
  ':KUBE-SERVICES - [0:0]',
  '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
  '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
  '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
  '-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0',
  '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
];

// flanneld's masquerade rules (flannel ≥ 0.20, network 10.244.0.0/16, node subnet 10.244.1.0/24).
const FLANNEL_NAT = [
  ':FLANNEL-POSTRTG - [0:0]',
  '-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG',
  '-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN',
  '-A FLANNEL-POSTRTG -s 10.244.1.0/24 -d 10.244.0.0/16 -m comment --comment "flanneld masq" -j RETURN',
  '-A FLANNEL-POSTRTG -s 10.244.0.0/16 -d 10.244.1.0/24 -m comment --comment "flanneld masq" -j RETURN',
  '-A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.1.0/24 -m comment --comment "flanneld masq" -j RETURN',
  '-A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully',
  '-A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.0.0/16 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully',
];

export function egressRules(variant: EgressVariant): string {
  const nat = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ...KUBE_NAT,
  ];
  if (variant !== 'no-masquerade') nat.push(...FLANNEL_NAT);
  nat.push('COMMIT');
  const filter = [
    '*filter',
    ':INPUT ACCEPT [0:0]',
    `:FORWARD ${variant === 'forward-drop' ? 'DROP' : 'ACCEPT'} [0:0]`,
    ':OUTPUT ACCEPT [0:0]',
  ];
  if (variant === 'forward-drop') {
    filter.push(
      '-A FORWARD -s 10.244.0.0/16 -d 10.0.0.0/8 -m comment --comment "pods may reach the private network only" -j ACCEPT',
    );
  }
  filter.push('COMMIT');
  return `${[...nat, ...filter].join('\n')}\n`;
}

export interface EgressLab {
  lab: Lab;
  node: string;
  pod: string;
  ext: string;
}

export function buildEgressLab(variant: EgressVariant): EgressLab {
  const lab = new Lab(`eg${variant.slice(0, 3)}`);
  try {
    const node = lab.ns('node');
    const ext = lab.ns('ext');
    lab.ip(node, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ext);
    lab.ip(node, 'addr', 'add', '172.18.0.2/24', 'dev', 'eth0');
    lab.ip(node, 'link', 'set', 'eth0', 'up');
    lab.ip(ext, 'addr', 'add', '172.18.0.1/24', 'dev', 'eth0');
    lab.ip(ext, 'link', 'set', 'eth0', 'up');
    lab.ip(ext, 'addr', 'add', '203.0.113.10/32', 'dev', 'lo');
    lab.ip(node, 'route', 'add', 'default', 'via', '172.18.0.1', 'dev', 'eth0');
    lab.sysctl(node, 'net.ipv4.ip_forward', '1');
    lab.ip(node, 'link', 'add', 'cni0', 'type', 'bridge');
    lab.ip(node, 'addr', 'add', '10.244.1.1/24', 'dev', 'cni0');
    lab.ip(node, 'link', 'set', 'cni0', 'up');
    const pod = addPod(lab, node, 'pod', 'cni0', '10.244.1.5/24', '10.244.1.1');
    lab.exec(node, ['iptables-restore'], egressRules(variant));
    return { lab, node, pod, ext };
  } catch (err) {
    lab.destroy();
    throw err;
  }
}

/** Connects from the pod to 203.0.113.10:8080: the outcome, and the source the peer saw. */
export async function probeEgress(e: EgressLab): Promise<{ outcome: string; seenFrom: string[] }> {
  const server = e.lab.background(e.ext, ['serve-tcp', '203.0.113.10', '8080', '1500']);
  await server.ready;
  const client = e.lab.probe(e.pod, ['connect-tcp', '203.0.113.10', '8080', '800']) as { outcome: string };
  const seenFrom = (await server.result) as string[];
  return { outcome: client.outcome, seenFrom };
}

// ---------------------------------------------------------------------------------------------
// MTU: node-a (pod 10.244.1.5) and node-b (pod 10.244.2.5), joined by eth0 (172.18.0.2/.3) and
// a flannel-style VXLAN device flannel.1 (VNI 1, port 8472) with static neighbours.

export interface MtuVariant {
  name: string;
  podMtu: number;
  vxlanMtu: number;
  /** The underlay MTU set after the VXLAN device exists (the kernel refuses a larger VXLAN MTU at creation). */
  underlayMtu: number;
  /** VXLAN "df set": oversized encapsulated packets are not fragmented. */
  df: boolean;
}

export const MTU_VARIANTS: MtuVariant[] = [
  { name: 'consistent', podMtu: 1450, vxlanMtu: 1450, underlayMtu: 1500, df: false },
  { name: 'pod-too-big', podMtu: 1500, vxlanMtu: 1450, underlayMtu: 1500, df: false },
  { name: 'underlay-too-small', podMtu: 1450, vxlanMtu: 1450, underlayMtu: 1450, df: true },
];

export interface MtuLab {
  lab: Lab;
  nodes: { a: string; b: string };
  pods: { a: string; b: string };
}

export function buildMtuLab(v: MtuVariant): MtuLab {
  const lab = new Lab(`mtu${MTU_VARIANTS.indexOf(v)}`);
  try {
    const a = lab.ns('node-a');
    const b = lab.ns('node-b');
    lab.ip(a, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b);
    const sides = [
      { ns: a, i: 1, ip: '172.18.0.2', peer: '172.18.0.3', mac: '0a:58:0a:f4:01:00' },
      { ns: b, i: 2, ip: '172.18.0.3', peer: '172.18.0.2', mac: '0a:58:0a:f4:02:00' },
    ];
    for (const s of sides) {
      lab.ip(s.ns, 'addr', 'add', `${s.ip}/24`, 'dev', 'eth0');
      lab.ip(s.ns, 'link', 'set', 'eth0', 'up');
      lab.sysctl(s.ns, 'net.ipv4.ip_forward', '1');
      lab.ip(
        s.ns,
        ...[
          'link',
          'add',
          'flannel.1',
          'address',
          s.mac,
          'type',
          'vxlan',
          'id',
          '1',
          'local',
          s.ip,
          'remote',
          s.peer,
        ],
        ...['dev', 'eth0', 'dstport', '8472', 'nolearning', 'df', v.df ? 'set' : 'unset'],
      );
      lab.ip(s.ns, 'addr', 'add', `10.244.${s.i}.0/32`, 'dev', 'flannel.1');
      lab.ip(s.ns, 'link', 'set', 'flannel.1', 'mtu', String(v.vxlanMtu), 'up');
      lab.ip(s.ns, 'link', 'add', 'cni0', 'mtu', String(v.podMtu), 'type', 'bridge');
      lab.ip(s.ns, 'addr', 'add', `10.244.${s.i}.1/24`, 'dev', 'cni0');
      lab.ip(s.ns, 'link', 'set', 'cni0', 'up');
    }
    for (const [s, o] of [
      [sides[0], sides[1]],
      [sides[1], sides[0]],
    ]) {
      lab.ip(
        s.ns,
        'route',
        'add',
        `10.244.${o.i}.0/24`,
        'via',
        `10.244.${o.i}.0`,
        'dev',
        'flannel.1',
        'onlink',
      );
      lab.ip(
        s.ns,
        'neigh',
        'add',
        `10.244.${o.i}.0`,
        'lladdr',
        o.mac,
        'dev',
        'flannel.1',
        'nud',
        'permanent',
      );
    }
    const podA = addPod(lab, a, 'pod-a', 'cni0', '10.244.1.5/24', '10.244.1.1', v.podMtu);
    const podB = addPod(lab, b, 'pod-b', 'cni0', '10.244.2.5/24', '10.244.2.1', v.podMtu);
    if (v.underlayMtu !== 1500)
      for (const s of sides) lab.ip(s.ns, 'link', 'set', 'eth0', 'mtu', String(v.underlayMtu));
    return { lab, nodes: { a, b }, pods: { a: podA, b: podB } };
  } catch (err) {
    lab.destroy();
    throw err;
  }
}

/**
 * Sends one datagram of the pod's full MTU, a small one, then a full one again, pod-a → pod-b.
 * Returns the sizes pod-b received. The first full-size datagram is the one that tells: the
 * kernel learns the path MTU from it, and fragments the later ones.
 */
export async function probeMtu(m: MtuLab, podMtu: number): Promise<number[]> {
  const full = podMtu - 28;
  const recv = m.lab.background(m.pods.b, ['recv-udp', '10.244.2.5', '9000', '1200']);
  await recv.ready;
  m.lab.probe(m.pods.a, ['send-udp', '10.244.2.5', '9000', `${full},100,${full}`]);
  return (await recv.result) as number[];
}

// ---------------------------------------------------------------------------------------------
// rp_filter: a node with two uplinks to one router — eth0 172.18.0.2/24 (default route) and
// eth1 192.168.50.2/24. A client 198.51.100.7 behind the router connects to 192.168.50.2:8080:
// the SYN arrives on eth1, the reply leaves by the default route (eth0).

export type RpVariant = 'strict' | 'loose' | 'strict-policy-routed';
export const RP_VARIANTS: RpVariant[] = ['strict', 'loose', 'strict-policy-routed'];

export interface RpLab {
  lab: Lab;
  node: string;
  router: string;
}

export function buildRpFilterLab(variant: RpVariant): RpLab {
  const lab = new Lab(`rp${RP_VARIANTS.indexOf(variant)}`);
  try {
    const node = lab.ns('node');
    const router = lab.ns('router');
    for (const [dev, nodeIp, routerIp] of [
      ['eth0', '172.18.0.2/24', '172.18.0.1/24'],
      ['eth1', '192.168.50.2/24', '192.168.50.1/24'],
    ]) {
      lab.ip(node, 'link', 'add', dev, 'type', 'veth', 'peer', 'name', dev, 'netns', router);
      lab.ip(node, 'addr', 'add', nodeIp, 'dev', dev);
      lab.ip(node, 'link', 'set', dev, 'up');
      lab.ip(router, 'addr', 'add', routerIp, 'dev', dev);
      lab.ip(router, 'link', 'set', dev, 'up');
    }
    lab.ip(router, 'addr', 'add', '198.51.100.7/32', 'dev', 'lo');
    lab.ip(node, 'route', 'add', 'default', 'via', '172.18.0.1', 'dev', 'eth0');
    lab.sysctl(node, 'net.ipv4.conf.all.rp_filter', '0');
    lab.sysctl(node, 'net.ipv4.conf.eth0.rp_filter', '1');
    lab.sysctl(node, 'net.ipv4.conf.eth1.rp_filter', variant === 'loose' ? '2' : '1');
    if (variant === 'strict-policy-routed') {
      lab.ip(node, 'route', 'add', 'default', 'via', '192.168.50.1', 'dev', 'eth1', 'table', '100');
      lab.ip(node, 'rule', 'add', 'from', '192.168.50.2', 'lookup', '100', 'pref', '100');
    }
    return { lab, node, router };
  } catch (err) {
    lab.destroy();
    throw err;
  }
}

/** The client behind the router connects to the node's eth1 address. */
export async function probeRpFilter(r: RpLab): Promise<string> {
  const server = r.lab.background(r.node, ['serve-tcp', '192.168.50.2', '8080', '1500']);
  await server.ready;
  const client = r.lab.probe(r.router, ['connect-tcp', '192.168.50.2', '8080', '800', '198.51.100.7']) as {
    outcome: string;
  };
  await server.result;
  return client.outcome;
}

// The lab topology: an emulated Kubernetes dataplane out of network namespaces.
//
//   knl-…-underlay      br0 172.18.0.1/24 (the nodes' L2 segment and their default router, which
//                       drops everything that is not for a node: a VPC router without pod routes)
//     u1 ── eth0 knl-…-node-1   ip_forward=1, kube-proxy's rules (iptables or nftables mode),
//                               host-gw routes or flannel.1 (VXLAN id 1, port 8472)
//                 cni0 10.244.1.1/24 and per pod vethXXXXXXXX ── eth0 knl-…-pod-NS-NAME
//                 (10.244.1.10/24, default via 10.244.1.1): made by the real CNI plugins
//                 (/usr/lib/cni/bridge + host-local + portmap), invoked as a container runtime does
//     u2 ── eth0 knl-…-node-2   …
//
// With `lab.cni: ptp` (the routed lab) the pods are made by /usr/lib/cni/ptp instead: no cni0;
// per pod a veth whose host side holds the gateway address (10.244.1.1/32) and a /32 host route
// to the pod (`10.244.1.10 dev vethXXXXXXXX scope host`); the pod has 10.244.1.10/24 and its
// routes via 10.244.1.1 (the default one from host-local's `routes`).
//
// Every interface is created inside a lab namespace; nothing is attached to the root namespace
// and no root-namespace setting is changed. destroy() removes every namespace of the run's
// prefix; a SIGINT/SIGTERM handler does the same, and reapStaleLabs() removes what a killed run
// left behind.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderKubeProxyIptables } from '../../src/analyses/proxy/expected-iptables.js';
import { canonicalCIDR, cidrContains, firstHost, parseCIDR } from '../../src/core/ip.js';
import { buildModel } from '../../src/model/build.js';
import type { ClusterModel } from '../../src/model/cluster.js';
import type { Raw } from '../../src/model/normalize.js';
import { kubeProxyNftScript } from '../support/kube-proxy-nft.js';
import {
  addNamespace,
  DEMO_PREFIX,
  deleteNamespaces,
  deleteNamespacesDetached,
  ipBatch,
  ipn,
  isLabNamespace,
  LAB_PREFIX,
  listNamespaces,
  nsExec,
  run,
  startNamespaceGuard,
} from './exec.js';
import { cloneObjects, type LabCni, type ProxyMode, type Scenario } from './scenario.js';

export interface LabNode {
  name: string;
  index: number;
  /** Network namespace. */
  ns: string;
  /** InternalIP: the node's address on the underlay (its eth0). */
  ip: string;
  underlayPrefix: number;
  podCIDR: string;
  /** The pods' default gateway: the first host of the pod CIDR (the bridge's address; with
   * ptp, the address of every host veth of the node). */
  gateway: string;
  podPrefix: number;
  /** flannel's VTEP address: the pod CIDR's network address. */
  vtepIP: string;
  vtepMAC?: string;
  /** The node's port on the underlay bridge (in the underlay namespace). */
  underlayPort: string;
}

export interface LabPort {
  port: number;
  protocol: 'tcp' | 'udp';
  /** The container port's hostPort (set up by the portmap CNI plugin). */
  hostPort?: number;
}

export interface LabPod {
  /** namespace/name */
  key: string;
  namespace: string;
  name: string;
  ns: string;
  node: LabNode;
  ip: string;
  /** The host side of the pod's veth pair, in the node namespace (as the bridge or ptp plugin
   * named it; '' for a hostNetwork pod). */
  hostVeth: string;
  ports: LabPort[];
  mtu: number;
  /** A hostNetwork pod: no namespace of its own, `ns` is the node's and `ip` the node's IP. */
  hostNetwork?: boolean;
}

/** The options of a node's CNI configuration the lab varies. */
export interface CniOptions {
  /** The bridge plugin's hairpinMode (the bridge port's hairpin flag of every pod set up after). */
  hairpinMode: boolean;
}

/** Where Debian's containernetworking-plugins installs the reference plugins. */
export const CNI_BIN = '/usr/lib/cni';
/** The conflist's file name in /etc/cni/net.d (and in the bundle's nodes/NODE/cni/). */
export const CNI_CONFLIST = '10-lab.conflist';

interface CniPlugin {
  type: string;
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

interface CniResult {
  cniVersion?: string;
  interfaces?: { name: string; mac?: string; sandbox?: string }[];
  ips?: { address: string; gateway?: string; interface?: number }[];
  [key: string]: unknown;
}

export type ProbeOutcome = 'ok' | 'refused' | 'unreachable' | 'reset' | 'no-reply' | 'timeout' | 'error';

export interface ProbeResult {
  outcome: ProbeOutcome;
  answeredBy?: string;
  tries: { outcome: ProbeOutcome; ms: number; code?: string; answeredBy?: string; bytes?: number }[];
}

export interface ProbeOptions {
  protocol?: 'tcp' | 'udp';
  tries?: number;
  /** Per try, ms (the probe caps it at 1000). */
  timeout?: number;
  /** Ask for a 256 KiB answer (MTU tests). */
  big?: boolean;
}

const AGENTS = fileURLToPath(new URL('./agents/', import.meta.url));
export const VXLAN_DEV = 'flannel.1';
const VXLAN_PORT = 8472;
const VXLAN_OVERHEAD = 50;

const live = new Set<Lab>();
let handlersInstalled = false;

function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      // The test runner may kill this process right after the signal: the namespaces go to
      // a detached deleter, which finishes whatever happens to this process.
      for (const lab of live) lab.abandon();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
  process.once('exit', () => {
    for (const lab of live) lab.destroy();
  });
}

/** Removes namespaces of lab runs whose process is gone (a run killed with SIGKILL). */
export function reapStaleLabs(): string[] {
  const reaped: string[] = [];
  const runs = new Set<string>();
  for (const ns of [...listNamespaces(LAB_PREFIX), ...listNamespaces(DEMO_PREFIX)]) {
    const m = /^(kn[ld]-)(\d+)-/.exec(ns);
    if (m) runs.add(`${m[1]}${m[2]}`);
  }
  for (const owner of runs) {
    const pid = Number(owner.slice(4));
    if (pid === process.pid || processAlive(pid)) continue;
    const prefix = `${owner}-`;
    reaped.push(...listNamespaces(prefix));
    deleteNamespaces(prefix);
  }
  return reaped;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const shortHash = (text: string, n = 8) => createHash('sha256').update(text).digest('hex').slice(0, n);

export class Lab {
  readonly nodes = new Map<string, LabNode>();
  readonly pods = new Map<string, LabPod>();
  readonly underlayNs: string;
  readonly underlayGateway: string;
  /** The API state: the scenario's objects, as faults change them. */
  objects: Raw[];
  /** The API state right after build() (faults go back to it). */
  baseline: Raw[] = [];
  /** The kube-proxy rules last loaded per node (iptables-restore input, or nft -f input in
   * nftables mode). */
  readonly loadedRules = new Map<string, string>();
  /** kube-proxy's mode (scenario lab.proxyMode, default iptables). */
  readonly proxyMode: ProxyMode;
  /** The pods' CNI plugin (scenario lab.cni, default bridge). */
  readonly cni: LabCni;
  /** The conflist per node: exactly the text the CNI plugins were given (the last one written). */
  readonly cniConfigs = new Map<string, string>();
  /** Per-run temporary directory: host-local's data directories (never /var/lib/cni). */
  cniDir = '';
  private readonly cniOptions = new Map<string, CniOptions>();
  /** Per pod: the conflist it was added with and the chain's final result (for DEL). */
  private readonly cniState = new Map<string, { conflist: string; result: CniResult }>();
  private readonly servers = new Map<string, ChildProcess>();
  private guard?: { release(): void };
  private destroyed = false;

  constructor(
    readonly scenario: Scenario,
    readonly prefix: string,
  ) {
    if (!isLabNamespace(prefix))
      throw new Error(`lab prefix must start with ${LAB_PREFIX} or ${DEMO_PREFIX}`);
    this.objects = cloneObjects(scenario.objects);
    this.proxyMode = scenario.lab.proxyMode ?? 'iptables';
    this.cni = scenario.lab.cni ?? 'bridge';
    setKubeProxyMode(this.objects, this.proxyMode);
    this.underlayNs = `${prefix}underlay`;
    const [underAddr, underBits] = parseCIDR(scenario.lab.underlayCIDR);
    this.underlayGateway = firstHost(`${underAddr.toString()}/${underBits}`);
    const model = this.model();
    model.nodes.forEach((n, i) => {
      const ip = n.internalIPs[0];
      const podCIDR = n.podCIDRs[0];
      if (!ip || !podCIDR) throw new Error(`node ${n.name}: needs an InternalIP and a podCIDR`);
      if (!cidrContains(scenario.lab.underlayCIDR, ip)) {
        throw new Error(
          `node ${n.name}: InternalIP ${ip} is outside the underlay ${scenario.lab.underlayCIDR}`,
        );
      }
      const podPrefix = parseCIDR(podCIDR)[1];
      this.nodes.set(n.name, {
        name: n.name,
        index: i + 1,
        ns: `${prefix}${n.name}`,
        ip,
        underlayPrefix: underBits,
        podCIDR: canonicalCIDR(podCIDR),
        gateway: firstHost(podCIDR),
        podPrefix,
        vtepIP: canonicalCIDR(podCIDR).split('/')[0],
        underlayPort: `u${i + 1}`,
      });
    });
    const mtu = scenario.lab.overlay === 'vxlan' ? 1500 - VXLAN_OVERHEAD : 1500;
    for (const p of model.pods) {
      if (p.ips.length === 0 || !p.nodeName || p.phase !== 'Running') continue;
      const node = this.nodes.get(p.nodeName);
      if (!node) throw new Error(`pod ${p.namespace}/${p.name}: unknown node ${p.nodeName}`);
      if (!p.hostNetwork && !cidrContains(node.podCIDR, p.ips[0])) {
        throw new Error(
          `pod ${p.namespace}/${p.name}: ${p.ips[0]} is outside ${node.name}'s ${node.podCIDR}`,
        );
      }
      const key = `${p.namespace}/${p.name}`;
      const ports: LabPort[] = [];
      for (const c of p.containers) {
        for (const cp of c.ports) {
          if (cp.protocol === 'SCTP') continue;
          ports.push({
            port: cp.containerPort,
            protocol: cp.protocol === 'UDP' ? 'udp' : 'tcp',
            ...(cp.hostPort && !p.hostNetwork ? { hostPort: cp.hostPort } : {}),
          });
        }
      }
      if (p.hostNetwork) {
        // Shares the node's namespace: its servers listen there, on the node's addresses.
        if (p.ips[0] !== node.ip)
          throw new Error(`pod ${key}: a hostNetwork pod's IP must be its node's (${node.ip})`);
        this.pods.set(key, {
          key,
          namespace: p.namespace,
          name: p.name,
          ns: node.ns,
          node,
          ip: node.ip,
          hostVeth: '',
          ports,
          mtu: 1500,
          hostNetwork: true,
        });
        continue;
      }
      this.pods.set(key, {
        key,
        namespace: p.namespace,
        name: p.name,
        ns: `${prefix}pod-${p.namespace}-${p.name}`,
        node,
        ip: p.ips[0],
        // Set by the bridge plugin's ADD (veth + 8 random hex digits).
        hostVeth: '',
        ports,
        mtu,
      });
    }
  }

  model(objects: Raw[] = this.objects): ClusterModel {
    return buildModel(objects);
  }

  node(name: string): LabNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no lab node ${name}`);
    return n;
  }

  pod(key: string): LabPod {
    const p = this.pods.get(key);
    if (!p) throw new Error(`no lab pod ${key}`);
    return p;
  }

  /** Creates every namespace, interface, route and rule; then starts the servers. */
  async build(): Promise<void> {
    live.add(this);
    installSignalHandlers();
    // Deletes the namespaces if this process dies before destroy() (even by SIGKILL).
    this.guard = startNamespaceGuard(this.prefix);
    try {
      this.cniDir = mkdtempSync(join(tmpdir(), `knet-lab-cni-${this.prefix}`));
      this.buildUnderlay();
      for (const node of this.nodes.values()) this.buildNode(node);
      for (const pod of this.pods.values()) if (!pod.hostNetwork) this.buildPod(pod);
      if (this.scenario.lab.overlay === 'vxlan') this.buildVxlan();
      else this.buildHostGw();
      this.annotateNodes();
      this.baseline = cloneObjects(this.objects);
      for (const node of this.nodes.values()) this.syncProxyRules(node.name);
      for (const pod of this.pods.values()) if (pod.ports.length > 0) await this.startServer(pod.key);
    } catch (err) {
      this.destroy();
      throw err;
    }
  }

  private buildUnderlay(): void {
    addNamespace(this.underlayNs);
    ipBatch(this.underlayNs, [
      'link set lo up',
      'link add br0 type bridge',
      `addr add ${this.underlayGateway}/${parseCIDR(this.scenario.lab.underlayCIDR)[1]} dev br0`,
      'link set br0 up',
      // A router that knows the node subnet only: everything else is silently dropped.
      'route add blackhole default',
    ]);
    sysctl(this.underlayNs, 'net.ipv4.ip_forward', '1');
    // A switch, not a firewall: with br_netfilter the bridge would re-fragment oversize
    // frames instead of dropping them as a real L2 segment does.
    sysctl(this.underlayNs, 'net.bridge.bridge-nf-call-iptables', '0');
  }

  private buildNode(node: LabNode): void {
    addNamespace(node.ns);
    ipn(this.underlayNs, [
      'link',
      'add',
      node.underlayPort,
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      node.ns,
    ]);
    ipBatch(this.underlayNs, [
      `link set ${node.underlayPort} master br0`,
      `link set ${node.underlayPort} up`,
    ]);
    ipBatch(node.ns, [
      'link set lo up',
      `addr add ${node.ip}/${node.underlayPrefix} dev eth0`,
      'link set eth0 up',
      `route add default via ${this.underlayGateway} dev eth0`,
    ]);
    sysctl(node.ns, 'net.ipv4.ip_forward', '1');
    // kube-proxy needs bridged pod-to-pod traffic to pass through iptables (br_netfilter).
    sysctl(node.ns, 'net.bridge.bridge-nf-call-iptables', '1');
    // /etc/cni/net.d/10-lab.conflist of this node (cni0 itself is made by the bridge plugin
    // when the node's first pod is added, as on a real node; ptp makes no bridge).
    this.writeConflist(node.name);
  }

  /** The pod sandbox: its namespace, then the CNI plugins' ADD as a container runtime calls them. */
  private buildPod(pod: LabPod): void {
    addNamespace(pod.ns);
    this.cniAdd(pod);
  }

  /** The node's conflist for its current CNI options (and remembers it as the node's file). */
  private writeConflist(nodeName: string): string {
    const node = this.node(nodeName);
    const options = this.cniOptions.get(nodeName) ?? { hairpinMode: this.scenario.lab.hairpinMode ?? true };
    this.cniOptions.set(nodeName, options);
    const vxlan = this.scenario.lab.overlay === 'vxlan';
    const ipam = {
      type: 'host-local',
      ranges: [[{ subnet: node.podCIDR, gateway: node.gateway }]],
      dataDir: join(this.cniDir, node.name),
    };
    const main =
      this.cni === 'ptp'
        ? {
            // A veth per pod, the gateway address on its host side and a /32 host route to the
            // pod; no bridge. ipMasq off (ptp's default): pod traffic keeps its source, as
            // the other nodes route the pod CIDRs (host-gw).
            type: 'ptp',
            ipMasq: false,
            ...(vxlan ? { mtu: 1500 - VXLAN_OVERHEAD } : {}),
            // ptp adds no default route of its own: host-local's `routes` give the pod one (via
            // the gateway, which ptp routes to directly).
            ipam: { ...ipam, routes: [{ dst: '0.0.0.0/0' }] },
          }
        : {
            type: 'bridge',
            bridge: 'cni0',
            isGateway: true,
            isDefaultGateway: true,
            ipMasq: false,
            hairpinMode: options.hairpinMode,
            ...(vxlan ? { mtu: 1500 - VXLAN_OVERHEAD } : {}),
            ipam,
          };
    const conflist = {
      cniVersion: '1.0.0',
      name: 'lab',
      plugins: [main, { type: 'portmap', capabilities: { portMappings: true } }],
    };
    const text = `${JSON.stringify(conflist, null, 2)}\n`;
    this.cniConfigs.set(nodeName, text);
    return text;
  }

  /** Changes a node's CNI options (its conflist); pods added after it get them (recreatePodNetwork). */
  setCniOptions(nodeName: string, options: Partial<CniOptions>): void {
    const current = this.cniOptions.get(nodeName) ?? { hairpinMode: this.scenario.lab.hairpinMode ?? true };
    this.cniOptions.set(nodeName, { ...current, ...options });
    this.writeConflist(nodeName);
  }

  /**
   * The pod's network torn down and set up again by the plugins (CNI DEL with the config it was
   * added with, then ADD with the node's current conflist), as when its sandbox is recreated.
   * The pod's namespace (and its servers) stay.
   */
  recreatePodNetwork(key: string): void {
    const pod = this.pod(key);
    if (pod.hostNetwork) throw new Error(`pod ${key} is hostNetwork: it has no CNI network`);
    this.cniDel(pod);
    this.cniAdd(pod);
    // The new eth0 has a new MAC: drop the node's neighbour entry for the old one (with ptp it
    // went with the old host veth).
    if (this.cni === 'bridge')
      run(['ip', '-n', pod.node.ns, 'neigh', 'del', pod.ip, 'dev', 'cni0'], { allowFail: true });
  }

  private cniEnv(pod: LabPod, command: 'ADD' | 'DEL', ifname = 'eth0'): Record<string, string> {
    const containerId = shortHash(`${this.prefix}${pod.key}`, 32);
    return {
      CNI_COMMAND: command,
      CNI_CONTAINERID: containerId,
      CNI_NETNS: `/var/run/netns/${pod.ns}`,
      CNI_IFNAME: ifname,
      CNI_PATH: CNI_BIN,
      CNI_ARGS: [
        'IgnoreUnknown=1',
        `K8S_POD_NAMESPACE=${pod.namespace}`,
        `K8S_POD_NAME=${pod.name}`,
        `K8S_POD_INFRA_CONTAINER_ID=${containerId}`,
        // host-local hands out exactly this address (the scenario's pod IP).
        `IP=${pod.ip}`,
      ].join(';'),
    };
  }

  /** Runs one plugin inside the node's namespace, as the runtime (kubelet's CRI) does. */
  private cniExec(
    pod: LabPod,
    command: 'ADD' | 'DEL',
    netconf: Record<string, unknown>,
    ifname = 'eth0',
  ): CniResult | undefined {
    const type = String(netconf.type);
    const res = run(['ip', 'netns', 'exec', pod.node.ns, `${CNI_BIN}/${type}`], {
      input: JSON.stringify(netconf),
      env: this.cniEnv(pod, command, ifname),
      allowFail: true,
    });
    if (res.status !== 0) {
      throw new Error(
        `CNI ${command} ${type} for ${pod.key} failed (exit ${res.status}): ${res.stdout.trim()} ${res.stderr.trim()}`,
      );
    }
    return res.stdout.trim() ? (JSON.parse(res.stdout) as CniResult) : undefined;
  }

  private cniAdd(pod: LabPod): void {
    const conflistText = this.cniConfigs.get(pod.node.name) ?? this.writeConflist(pod.node.name);
    const conflist = JSON.parse(conflistText) as { cniVersion: string; name: string; plugins: CniPlugin[] };
    // The loopback plugin first, on lo, as containerd does for every sandbox.
    this.cniExec(
      pod,
      'ADD',
      { cniVersion: conflist.cniVersion, name: 'cni-loopback', type: 'loopback' },
      'lo',
    );
    let prevResult: CniResult | undefined;
    for (const plugin of conflist.plugins) {
      prevResult = this.cniExec(pod, 'ADD', this.pluginConf(pod, conflist, plugin, prevResult)) ?? prevResult;
    }
    const result = prevResult ?? {};
    const hostVeth = result.interfaces?.find((i) => !i.sandbox && i.name !== 'cni0')?.name;
    const address = result.ips?.[0]?.address;
    if (!hostVeth || address?.split('/')[0] !== pod.ip) {
      throw new Error(`CNI ADD for ${pod.key}: unexpected result ${JSON.stringify(result)}`);
    }
    pod.hostVeth = hostVeth;
    this.cniState.set(pod.key, { conflist: conflistText, result });
  }

  /** CNI DEL in reverse plugin order, with the config and result of the pod's ADD. */
  private cniDel(pod: LabPod): void {
    const state = this.cniState.get(pod.key);
    if (!state) return;
    this.cniState.delete(pod.key);
    const conflist = JSON.parse(state.conflist) as { cniVersion: string; name: string; plugins: CniPlugin[] };
    for (const plugin of [...conflist.plugins].reverse())
      this.cniExec(pod, 'DEL', this.pluginConf(pod, conflist, plugin, state.result));
    this.cniExec(
      pod,
      'DEL',
      { cniVersion: conflist.cniVersion, name: 'cni-loopback', type: 'loopback' },
      'lo',
    );
  }

  /** One plugin's network configuration: name and cniVersion of the list, prevResult, runtimeConfig. */
  private pluginConf(
    pod: LabPod,
    conflist: { cniVersion: string; name: string },
    plugin: CniPlugin,
    prevResult: CniResult | undefined,
  ): Record<string, unknown> {
    const conf: Record<string, unknown> = { cniVersion: conflist.cniVersion, name: conflist.name, ...plugin };
    if (prevResult) conf.prevResult = prevResult;
    const mappings = pod.ports
      .filter((p) => p.hostPort)
      .map((p) => ({ hostPort: p.hostPort, containerPort: p.port, protocol: p.protocol }));
    if (plugin.capabilities?.portMappings && mappings.length > 0)
      conf.runtimeConfig = { portMappings: mappings };
    return conf;
  }

  private buildHostGw(): void {
    for (const node of this.nodes.values()) {
      ipBatch(
        node.ns,
        [...this.nodes.values()]
          .filter((other) => other !== node)
          .map((other) => `route add ${other.podCIDR} via ${other.ip} dev eth0`),
      );
    }
  }

  /** flannel's vxlan backend: one VTEP per node, and per remote node a route, a neighbour, an FDB entry. */
  private buildVxlan(): void {
    for (const node of this.nodes.values()) {
      ipBatch(node.ns, [
        `link add ${VXLAN_DEV} type vxlan id 1 local ${node.ip} dev eth0 dstport ${VXLAN_PORT} nolearning`,
        `addr add ${node.vtepIP}/32 dev ${VXLAN_DEV}`,
        `link set ${VXLAN_DEV} up`,
      ]);
      const [link] = JSON.parse(ipn(node.ns, ['-j', 'link', 'show', VXLAN_DEV]));
      node.vtepMAC = String(link.address);
    }
    for (const node of this.nodes.values()) this.programVxlanPeers(node);
  }

  /**
   * What flanneld writes for every remote node (and rewrites after the device flapped: taking
   * the device down flushes its routes and neighbours).
   */
  programVxlanPeers(node: LabNode): void {
    for (const other of this.nodes.values()) {
      if (other === node) continue;
      ipBatch(node.ns, [
        `neigh replace ${other.vtepIP} lladdr ${other.vtepMAC} dev ${VXLAN_DEV} nud permanent`,
        `route replace ${other.podCIDR} via ${other.vtepIP} dev ${VXLAN_DEV} onlink`,
      ]);
      run([
        'bridge',
        '-n',
        node.ns,
        'fdb',
        'replace',
        other.vtepMAC!,
        'dev',
        VXLAN_DEV,
        'dst',
        other.ip,
        'self',
        'permanent',
      ]);
    }
  }

  /** The annotations flannel writes on each Node (its backend and VTEP). */
  private annotateNodes(): void {
    for (const raw of this.objects) {
      if (raw.kind !== 'Node') continue;
      const node = this.nodes.get(raw.metadata.name);
      if (!node) continue;
      const vxlan = this.scenario.lab.overlay === 'vxlan';
      raw.metadata.annotations = {
        ...(raw.metadata.annotations ?? {}),
        'flannel.alpha.coreos.com/backend-type': vxlan ? 'vxlan' : 'host-gw',
        'flannel.alpha.coreos.com/backend-data': vxlan
          ? JSON.stringify({ VNI: 1, VtepMAC: node.vtepMAC })
          : 'null',
        'flannel.alpha.coreos.com/kube-subnet-manager': 'true',
        'flannel.alpha.coreos.com/public-ip': node.ip,
      };
    }
  }

  /**
   * Loads kube-proxy's rules for a node, rendered from `objects` (default: the current API
   * state), as kube-proxy would after a sync. Returns the rules loaded.
   */
  syncProxyRules(nodeName: string, objects: Raw[] = this.objects): string {
    const node = this.node(nodeName);
    const model = this.model(objects);
    if (this.proxyMode === 'nftables') {
      const rules = kubeProxyNftScript(model, nodeName);
      // One transaction: the table replaced as a whole, as kube-proxy's full sync does.
      nsExec(node.ns, ['nft', '-f', '-'], {
        input: `add table ip kube-proxy\ndelete table ip kube-proxy\n${rules}`,
      });
      this.loadedRules.set(nodeName, rules);
      return rules;
    }
    const rules = renderKubeProxyIptables(model, nodeName);
    // kube-proxy owns its KUBE-* chains and its jumps to them; everything else in the tables
    // (the portmap plugin's CNI-* chains, a fault's hand-made rule) stays.
    const current = nsExec(node.ns, ['iptables-save']);
    this.loadIptables(node, mergeKubeProxyRules(current, rules));
    this.loadedRules.set(nodeName, rules);
    return rules;
  }

  /** Back to the API state of build(), and every node's rules synced to it. */
  resetObjects(): void {
    this.objects = cloneObjects(this.baseline);
    for (const node of this.nodes.values()) this.syncProxyRules(node.name);
  }

  /** Replaces the tables named in `rules` (iptables-restore input) in the node's namespace. */
  loadIptables(node: LabNode, rules: string): void {
    // -w: the xtables lock is shared by every namespace on the machine.
    nsExec(node.ns, ['iptables-restore', '-w', '5'], { input: rules });
  }

  async startServer(key: string, ports?: LabPort[]): Promise<void> {
    const pod = this.pod(key);
    this.stopServer(key);
    const listen = ports ?? pod.ports;
    if (listen.length === 0) return;
    const argv = [
      'netns',
      'exec',
      pod.ns,
      process.execPath,
      `${AGENTS}server.mjs`,
      '--name',
      key,
      '--ttl',
      '1800',
      ...listen.flatMap((p) => [`--${p.protocol}`, String(p.port)]),
    ];
    const child = spawn('ip', argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.servers.set(key, child);
    let stderr = '';
    child.stderr?.on('data', (d) => {
      stderr += String(d);
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`server in ${key} did not start in 5 s: ${stderr}`)),
        5000,
      );
      child.stdout?.on('data', (d) => {
        if (String(d).includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server in ${key} exited (${code}): ${stderr}`));
      });
    });
  }

  stopServer(key: string): void {
    const child = this.servers.get(key);
    if (!child) return;
    this.servers.delete(key);
    child.removeAllListeners('exit');
    child.stdin?.end();
    if (child.exitCode === null && child.pid) {
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }

  /** Whether a server process of this lab is still running in the pod. */
  serverRunning(key: string): boolean {
    const child = this.servers.get(key);
    return !!child && child.exitCode === null;
  }

  /** A bounded probe (≤ 3 tries of ≤ 1 s) from a pod to host:port. */
  probe(fromKey: string, host: string, port: number, options: ProbeOptions = {}): ProbeResult {
    const from = this.pod(fromKey);
    const out = nsExec(from.ns, this.probeArgv(host, port, options), { timeout: 10_000 });
    return parseProbeOutput(out);
  }

  /** probe() without blocking: several probes can run at once (each bounded the same way). */
  probeAsync(fromKey: string, host: string, port: number, options: ProbeOptions = {}): Promise<ProbeResult> {
    const from = this.pod(fromKey);
    const argv = ['netns', 'exec', from.ns, ...this.probeArgv(host, port, options)];
    return new Promise((resolve, reject) => {
      execFile('ip', argv, { timeout: 10_000, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (err)
          reject(new Error(`probe from ${fromKey} to ${host}:${port} failed: ${err.message} ${stderr}`));
        else resolve(parseProbeOutput(stdout));
      });
    });
  }

  private probeArgv(host: string, port: number, options: ProbeOptions): string[] {
    return [
      process.execPath,
      `${AGENTS}probe.mjs`,
      '--proto',
      options.protocol ?? 'tcp',
      '--host',
      host,
      '--port',
      String(port),
      '--tries',
      String(options.tries ?? 3),
      '--timeout',
      String(options.timeout ?? 1000),
      ...(options.big ? ['--big'] : []),
    ];
  }

  /** Namespaces of this run that still exist. */
  namespaces(): string[] {
    return listNamespaces(this.prefix);
  }

  /** Stops every server and deletes every namespace of this run. Idempotent. */
  destroy(): string[] {
    for (const key of [...this.servers.keys()]) this.stopServer(key);
    // CNI DEL for every pod, as the runtime does when it removes the sandbox.
    for (const pod of [...this.pods.values()].reverse()) {
      try {
        this.cniDel(pod);
      } catch {
        // the namespaces go below in any case
      }
    }
    const failed = deleteNamespaces(this.prefix);
    this.removeCniDir();
    this.guard?.release();
    live.delete(this);
    this.destroyed = true;
    return failed;
  }

  /** destroy() for signal handlers: servers killed, namespaces deleted by a detached process. */
  abandon(): void {
    for (const key of [...this.servers.keys()]) this.stopServer(key);
    deleteNamespacesDetached(this.prefix);
    this.removeCniDir();
    this.guard?.release();
    live.delete(this);
    this.destroyed = true;
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  private removeCniDir(): void {
    if (this.cniDir) rmSync(this.cniDir, { recursive: true, force: true });
  }
}

/** Sets `mode:` in the kube-proxy ConfigMap's config.conf (if the objects have one). */
function setKubeProxyMode(objects: Raw[], mode: ProxyMode): void {
  const cm = objects.find(
    (o) =>
      o.kind === 'ConfigMap' && o.metadata?.namespace === 'kube-system' && o.metadata?.name === 'kube-proxy',
  );
  const conf = cm?.data?.['config.conf'];
  if (typeof conf !== 'string') return;
  cm.data['config.conf'] = /^mode:.*$/m.test(conf)
    ? conf.replace(/^mode:.*$/m, `mode: ${mode}`)
    : `${conf.replace(/\n?$/, '\n')}mode: ${mode}\n`;
}

interface SaveTable {
  chains: string[];
  rules: string[];
}

function parseSave(text: string): Map<string, SaveTable> {
  const tables = new Map<string, SaveTable>();
  let cur: SaveTable | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) {
      cur = { chains: [], rules: [] };
      tables.set(line.slice(1).trim(), cur);
    } else if (cur && line.startsWith(':')) cur.chains.push(line);
    else if (cur && line.startsWith('-A ')) cur.rules.push(line);
  }
  return tables;
}

const isKubeChain = (name: string) => name.startsWith('KUBE-');
const chainOf = (line: string) => line.split(/\s+/)[line.startsWith(':') ? 0 : 1].replace(/^:/, '');
const jumpsToKube = (rule: string) => /\s-[jg]\s+KUBE-/.test(rule);

/**
 * What kube-proxy's sync leaves in a node's tables: the rendered KUBE-* chains and jumps to
 * them, plus every rule and chain that is not kube-proxy's (kept from `current`, an
 * iptables-save). kube-proxy's jumps go first in the built-in chains (it prepends them).
 */
export function mergeKubeProxyRules(current: string, rendered: string): string {
  const now = parseSave(current);
  const out: string[] = [];
  for (const [table, want] of parseSave(rendered)) {
    const have = now.get(table) ?? { chains: [], rules: [] };
    const builtin = new Map<string, string>();
    for (const c of [...want.chains, ...have.chains]) {
      const name = chainOf(c);
      if (!/^:\S+ -/.test(c) && !builtin.has(name)) builtin.set(name, c);
    }
    const foreignChains = have.chains.filter((c) => /^:\S+ -/.test(c) && !isKubeChain(chainOf(c)));
    const kubeChains = want.chains.filter((c) => /^:\S+ -/.test(c));
    const foreignRules = have.rules.filter((r) => !isKubeChain(chainOf(r)) && !jumpsToKube(r));
    const wantBuiltinRules = want.rules.filter((r) => builtin.has(chainOf(r)));
    const wantChainRules = want.rules.filter((r) => !builtin.has(chainOf(r)));
    out.push(
      `*${table}`,
      ...builtin.values(),
      ...foreignChains,
      ...kubeChains,
      ...wantBuiltinRules,
      ...foreignRules,
      ...wantChainRules,
      'COMMIT',
    );
  }
  return `${out.join('\n')}\n`;
}

function parseProbeOutput(out: string): ProbeResult {
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as ProbeResult;
}

export function sysctl(ns: string, key: string, value: string): void {
  nsExec(ns, ['sysctl', '-qw', `${key}=${value}`]);
}

export async function buildLab(scenario: Scenario, prefix: string): Promise<Lab> {
  const lab = new Lab(scenario, prefix);
  await lab.build();
  return lab;
}

// CNI awareness: what a node's /etc/cni/net.d (bundle: nodes/NODE/cni/) says about the pod
// network — the plugin chain, the bridge, the IPAM ranges — and the overlay the node's links
// and routes show. Findings: CNI_CONFIG_MISSING, CNI_CONFIG_INVALID, CNI_CONFIG_CIDR_MISMATCH.
// Pure: reads the model and its node files only.

import { canonicalCIDR, cidrContains, ipFamily, isCIDR, parseCIDR } from '../../core/ip.js';
import { finding } from '../../findings/catalog.js';
import type { Finding } from '../../findings/types.js';
import type { ClusterModel } from '../../model/cluster.js';
import { perModel } from '../../model/memo.js';
import { type CniConfigs, nodeState } from '../../model/node-state.js';
import type { CniConfig, CniIpam } from '../../parsers/cni.js';
import type { IpLink, IpRoute } from '../../parsers/iproute2.js';
import { formatRoute, routeDevice, routeGateway } from '../dataplane/routing.js';

export type OverlayType = 'vxlan' | 'geneve' | 'ipip' | 'wireguard' | 'gre' | 'host-gw' | 'none';

export interface OverlayInfo {
  type: OverlayType;
  /** The device that carries pod traffic between nodes (flannel.1, vxlan.calico, tunl0, …). */
  device: string | null;
  /** Who set it up, when the device name tells (flannel, calico, cilium, …). */
  implementation: string | null;
  /** Where the answer came from: a link line, a route, or a ConfigMap. */
  evidence: string[];
}

export interface CniIpamSummary {
  type: string | null;
  /** Concrete ranges from the config (CIDRs). */
  ranges: string[];
  /**
   * config: the ranges above; podCIDR: host-local "usePodCidr" (the node's spec.podCIDR);
   * runtime: written at run time by the CNI daemon (flannel's subnet.env, calico-ipam blocks,
   * cilium) and not in /etc/cni/net.d; none: the config has no IPAM section.
   */
  source: 'config' | 'podCIDR' | 'runtime' | 'none';
}

export interface CniSummary {
  node: string;
  /** Every file of nodes/NODE/cni/, as bundle paths. */
  files: string[];
  /** The config the runtime loads: the first .conf/.conflist/.json in lexical order that parses. */
  config: string | null;
  name: string | null;
  cniVersion: string | null;
  /** Plugin types in chain order; a delegate is shown as "flannel>bridge". */
  plugins: string[];
  bridge: string | null;
  ipam: CniIpamSummary;
  mtu: number | null;
  ipMasq: boolean | null;
  overlay: OverlayInfo | null;
  /** Files that would be loaded but do not parse: "file:line: problem". */
  invalid: string[];
  notes: string[];
}

const RUNTIME_IPAM = new Set(['calico-ipam', 'cilium', 'azure-vnet-ipam', 'aws-cni', 'dhcp']);

/** Plugins whose pod addresses come from their daemon, not from the conflist. */
const RUNTIME_PLUGINS = new Set([
  'flannel',
  'cilium-cni',
  'weave-net',
  'aws-cni',
  'antrea',
  'ovn-k8s-cni-overlay',
]);

/** The bridge the chain attaches pods to: the bridge plugin's (default cni0), also behind flannel. */
export function cniBridge(config: CniConfig): string | undefined {
  for (const p of config.plugins) {
    const target = p.type === 'bridge' ? p : p.delegate?.type === 'bridge' ? p.delegate : undefined;
    if (target) return target.bridge ?? 'cni0';
  }
  return undefined;
}

/** The IPAM section that assigns pod addresses (the first plugin, or its delegate, that has one). */
export function cniIpam(config: CniConfig): CniIpam | undefined {
  for (const p of config.plugins) {
    if (p.ipam) return p.ipam;
    if (p.delegate?.ipam) return p.delegate.ipam;
  }
  return undefined;
}

/** Known overlay devices: name pattern → implementation. */
const OVERLAY_NAMES: [RegExp, string][] = [
  [/^flannel[.-]/, 'flannel'],
  [/^flannel-wg/, 'flannel'],
  [/^vxlan\.calico$|^wireguard\.cali$|^tunl0$|^vxlan-v6\.calico$/, 'calico'],
  [/^cilium_(vxlan|geneve|wg0)$/, 'cilium'],
  [/^genev_sys_/, 'ovn-kubernetes/antrea'],
  [/^antrea-tun0$/, 'antrea'],
  [/^weave$|^vxlan-6784$/, 'weave'],
];

const KIND_TO_OVERLAY: Record<string, OverlayType> = {
  vxlan: 'vxlan',
  geneve: 'geneve',
  ipip: 'ipip',
  sit: 'ipip',
  ip6tnl: 'ipip',
  wireguard: 'wireguard',
  gre: 'gre',
  gretap: 'gre',
};

function implementationOf(name: string): string | null {
  return OVERLAY_NAMES.find(([re]) => re.test(name))?.[1] ?? null;
}

/** Other nodes' pod CIDRs: where pod traffic between nodes goes. */
function remotePodCIDRs(model: ClusterModel, node: string): string[] {
  return model.nodes.filter((n) => n.name !== node).flatMap((n) => n.podCIDRs);
}

function routeFor(routes: readonly IpRoute[], cidr: string): IpRoute | undefined {
  const canon = canonicalCIDR(cidr);
  return routes.find(
    (r) =>
      r.dst !== 'default' &&
      isCIDR(r.dst) &&
      canonicalCIDR(r.dst) === canon &&
      ['main', '254'].includes(r.table),
  );
}

/**
 * The overlay the node uses between nodes: the device the routes to other nodes' pod CIDRs
 * leave by (a tunnel kind → that overlay; an ordinary link with a gateway → host-gw), else
 * any tunnel device a known CNI created.
 */
export function detectOverlay(model: ClusterModel, node: string): OverlayInfo | null {
  const state = nodeState(model, node);
  const links = state.links;
  const routes = state.routes;
  if (!links) return configMapOverlay(model);
  const byName = new Map(links.map((l) => [l.ifname, l]));
  if (routes) {
    for (const cidr of remotePodCIDRs(model, node)) {
      const r = routeFor(routes, cidr);
      const dev = r ? routeDevice(r) : undefined;
      const link = dev ? byName.get(dev) : undefined;
      if (!r || !link) continue;
      const type = link.kind ? KIND_TO_OVERLAY[link.kind] : undefined;
      if (type) {
        return {
          type,
          device: link.ifname,
          implementation: implementationOf(link.ifname),
          evidence: [
            `${state.describe('ip-route.json')}: ${formatRoute(r)}`,
            linkLine(state.describe('ip-link.json'), link),
          ],
        };
      }
      if (routeGateway(r)) {
        return {
          type: 'host-gw',
          device: link.ifname,
          implementation: null,
          evidence: [
            `${state.describe('ip-route.json')}: ${formatRoute(r)} (another node's pod CIDR via its node address)`,
          ],
        };
      }
    }
  }
  const tunnel = links.find((l) => l.kind && KIND_TO_OVERLAY[l.kind] && implementationOf(l.ifname));
  if (tunnel) {
    return {
      type: KIND_TO_OVERLAY[tunnel.kind as string],
      device: tunnel.ifname,
      implementation: implementationOf(tunnel.ifname),
      evidence: [linkLine(state.describe('ip-link.json'), tunnel)],
    };
  }
  return configMapOverlay(model);
}

function linkLine(file: string, link: IpLink): string {
  const vx = link.vxlan
    ? ` id ${link.vxlan.id}${link.vxlan.dev ? ` dev ${link.vxlan.dev}` : ''}${link.vxlan.port ? ` dstport ${link.vxlan.port}` : ''}`
    : '';
  return `${file}: ${link.ifname}${link.kind ? ` ${link.kind}` : ''}${vx} mtu ${link.mtu}`;
}

/** flannel's net-conf.json (kube-flannel-cfg, or canal-config), when the bundle has the ConfigMap. */
function configMapOverlay(model: ClusterModel): OverlayInfo | null {
  for (const [ns, name] of [
    ['kube-flannel', 'kube-flannel-cfg'],
    ['kube-system', 'kube-flannel-cfg'],
    ['kube-system', 'canal-config'],
  ]) {
    const text = model.configMap(ns, name)?.data['net-conf.json'];
    if (!text) continue;
    try {
      const conf = JSON.parse(text) as { Backend?: { Type?: string } };
      const backend = String(conf.Backend?.Type ?? 'udp').toLowerCase();
      const type: OverlayType =
        backend === 'host-gw'
          ? 'host-gw'
          : backend === 'wireguard'
            ? 'wireguard'
            : backend === 'ipip'
              ? 'ipip'
              : 'vxlan';
      return {
        type,
        device: type === 'vxlan' ? 'flannel.1' : null,
        implementation: 'flannel',
        evidence: [`ConfigMap ${ns}/${name} net-conf.json: Backend.Type ${conf.Backend?.Type ?? '(unset)'}`],
      };
    } catch {
      // An unreadable ConfigMap says nothing; the overlay stays unknown.
    }
  }
  return null;
}

function ipamSummary(config: CniConfig, ipam: CniIpam | undefined): CniIpamSummary {
  const main = config.plugins[0];
  if (!ipam) {
    return { type: null, ranges: [], source: RUNTIME_PLUGINS.has(main.type) ? 'runtime' : 'none' };
  }
  if (RUNTIME_IPAM.has(ipam.type)) return { type: ipam.type, ranges: [], source: 'runtime' };
  const ranges = ipam.ranges.map((r) => r.subnet);
  if (ranges.some((r) => r === 'usePodCidr' || r === 'usePodCidrIPv6')) {
    return { type: ipam.type, ranges: ranges.filter((r) => isCIDR(r)), source: 'podCIDR' };
  }
  return { type: ipam.type, ranges: ranges.filter((r) => isCIDR(r)), source: 'config' };
}

const diagnoses = perModel<{ summary: CniSummary; loaded: CniConfigs }>();

function diagnose(model: ClusterModel, node: string): { summary: CniSummary; loaded: CniConfigs } {
  return diagnoses(model, node, () => diagnoseConfigs(model, node));
}

function diagnoseConfigs(model: ClusterModel, node: string): { summary: CniSummary; loaded: CniConfigs } {
  const loaded = nodeState(model, node).cniConfigs;
  const chosen = loaded.configs[0];
  const notes: string[] = [];
  if (loaded.configs.length > 1) {
    const ignored = loaded.configs
      .slice(1)
      .map((c) => c.file)
      .join(', ');
    notes.push(
      `${loaded.configs.length} network configs; the runtime loads ${chosen.file} (first in name order) and ignores ${ignored}`,
    );
  }
  const ipam = chosen
    ? ipamSummary(chosen, cniIpam(chosen))
    : { type: null, ranges: [], source: 'none' as const };
  if (chosen && ipam.source === 'runtime') {
    notes.push(
      chosen.plugins[0].type === 'flannel'
        ? "flannel hands the bridge plugin a host-local range from /run/flannel/subnet.env (the node's podCIDR with kube-subnet-mgr); that file is not in the bundle"
        : `pod addresses come from ${ipam.type ?? chosen.plugins[0].type} at run time, not from ${chosen.file}`,
    );
  }
  const mtus =
    chosen?.plugins.flatMap((p) => [p.mtu, p.delegate?.mtu]).filter((m): m is number => m !== undefined) ??
    [];
  const masq =
    chosen?.plugins
      .flatMap((p) => [p.ipMasq, p.delegate?.ipMasq])
      .filter((m): m is boolean => m !== undefined) ?? [];
  const summary: CniSummary = {
    node,
    files: loaded.files,
    config: chosen?.file ?? null,
    name: chosen?.name ?? null,
    cniVersion: chosen?.cniVersion ?? null,
    plugins: chosen?.plugins.map((p) => (p.delegate ? `${p.type}>${p.delegate.type}` : p.type)) ?? [],
    bridge: chosen ? (cniBridge(chosen) ?? null) : null,
    ipam,
    mtu: mtus[0] ?? null,
    ipMasq: masq.length ? masq.some(Boolean) : null,
    overlay: detectOverlay(model, node),
    invalid: loaded.invalid.map((i) => i.error.message),
    notes,
  };
  return { summary, loaded };
}

/** The node's CNI picture, or undefined when the bundle has no node files for it. */
export function cniSummary(model: ClusterModel, node: string): CniSummary | undefined {
  if (!model.nodeFiles.nodes().includes(node)) return undefined;
  return diagnose(model, node).summary;
}

/** Node folders that look like a full collection (knet's collector always copies /etc/cni/net.d). */
const COLLECTED_FILES = ['ip-link.json', 'ip-addr.json', 'sysctl.txt'];

function rangeInside(range: string, outer: string): boolean {
  const [addr, bits] = parseCIDR(range);
  const [, outerBits] = parseCIDR(outer);
  return bits >= outerBits && cidrContains(outer, addr);
}

/** CNI_CONFIG_MISSING, CNI_CONFIG_INVALID and CNI_CONFIG_CIDR_MISMATCH for one node. */
export function cniFindings(model: ClusterModel, node: string): Finding[] {
  if (!model.nodeFiles.nodes().includes(node)) return [];
  const { summary, loaded } = diagnose(model, node);
  const ref = `node/${node}`;
  const out: Finding[] = [];
  const cniDir = model.nodeFiles.describe(node, 'cni/');
  for (const bad of loaded.invalid) {
    const loadedFirst = !summary.config || bad.file.localeCompare(summary.config) < 0;
    out.push(
      finding('CNI_CONFIG_INVALID', {
        message: `The CNI config ${bad.file} on node ${node} does not parse${loadedFirst ? '; it sorts first, so the runtime fails on it before any other config' : ''}.`,
        objects: [ref],
        evidence: [bad.error.message],
      }),
    );
  }
  if (!summary.config && loaded.invalid.length === 0) {
    const collected = COLLECTED_FILES.every((f) => model.nodeFiles.read(node, f) !== undefined);
    const notReady = model.node(node)?.conditions.find((c) => c.type === 'Ready' && c.status !== 'True');
    const evidence = [
      summary.files.length
        ? `${cniDir}: ${summary.files.length} file(s), none of them a .conf, .conflist or .json: ${summary.files.join(', ')}`
        : `${cniDir}: no files`,
    ];
    if (notReady?.message) evidence.push(`node ${node} Ready=${notReady.status}: ${notReady.message}`);
    if (collected || summary.files.length > 0 || notReady?.message?.match(/cni|network plugin/i)) {
      out.push(
        finding('CNI_CONFIG_MISSING', {
          message: `Node ${node} has no CNI network config: new pods on it cannot get a network.`,
          objects: [ref],
          evidence,
          hint:
            'kubelet reports NetworkPluginNotReady until a config appears in /etc/cni/net.d: check the CNI DaemonSet pod on this node. ' +
            '(k3s/RKE2 keep it in /var/lib/rancher/…/cni/net.d, which the bundle does not copy.)',
        }),
      );
    } else {
      out.push(
        finding('NO_NODE_DATA', {
          message: `The bundle has no CNI config for node ${node}: its plugin chain and IPAM ranges are unknown.`,
          objects: [ref],
          evidence: [`${cniDir} (the files of /etc/cni/net.d)`],
        }),
      );
    }
  }
  const k8sNode = model.node(node);
  if (summary.config && k8sNode && k8sNode.podCIDRs.length > 0) {
    for (const range of summary.ipam.ranges) {
      const family = ipFamily(parseCIDR(range)[0].toString());
      const podCIDRs = k8sNode.podCIDRs.filter((c) => ipFamily(parseCIDR(c)[0].toString()) === family);
      if (podCIDRs.length === 0 || podCIDRs.some((c) => rangeInside(range, c))) continue;
      const strays = model
        .podsOnNode(node)
        .filter(
          (p) =>
            !p.hostNetwork &&
            p.ips.some((ip) => cidrContains(range, ip) && !podCIDRs.some((c) => cidrContains(c, ip))),
        );
      const evidence = [
        `${summary.config}: ipam ${summary.ipam.type} range ${range}`,
        `node ${node} spec.podCIDRs: ${k8sNode.podCIDRs.join(', ')}`,
      ];
      if (strays.length) {
        evidence.push(
          `${strays.length} pod(s) on the node already have addresses from ${range}: ${strays
            .slice(0, 5)
            .map((p) => `${p.namespace}/${p.name} ${p.ips[0]}`)
            .join(', ')}`,
        );
      }
      out.push(
        finding('CNI_CONFIG_CIDR_MISMATCH', {
          message: `Node ${node}'s CNI config hands out pod addresses from ${range}, outside the node's podCIDR ${podCIDRs.join(', ')}: other nodes route only the podCIDR to it.`,
          objects: [ref],
          evidence,
        }),
      );
    }
  }
  return out;
}

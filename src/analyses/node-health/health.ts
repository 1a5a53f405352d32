// Node facts that break traffic without any object being wrong: a full conntrack table, bridged
// traffic that skips netfilter, strict reverse-path filtering on a multi-homed node, and MTUs
// that do not fit the overlay. Read from nodes/NODE/sysctl.txt, ip-link.json, ip-addr.json,
// ip-route.json, ip-rule.json and the pods' ip-addr.json. Missing files mean no verdict (no
// finding), never "OK".

import { cidrContains, ipFamily, isIP } from '../../core/ip.js';
import { finding } from '../../findings/catalog.js';
import type { Finding } from '../../findings/types.js';
import type { ClusterModel } from '../../model/cluster.js';
import { type NodeState, nodeState } from '../../model/node-state.js';
import type { Pod } from '../../model/types.js';
import type { IpAddrInterface, IpLink, IpRoute, IpRule } from '../../parsers/iproute2.js';
import { encapOverhead, TUNNEL_KINDS } from '../dataplane/encap.js';
import { formatRoute, lookupRoute, routeDevice } from '../dataplane/routing.js';
import { rpFilter } from '../dataplane/sysctls.js';
import { proxyModeFromModel } from '../proxy/service-ports.js';
import { loadNodeProxy } from '../proxy/simulate.js';
import { cniSummary, detectOverlay } from './cni.js';

/** nf_conntrack_count at or above this share of nf_conntrack_max is reported. */
export const CONNTRACK_THRESHOLD = 0.9;

function sysctlLine(state: NodeState, key: string, value: string): string {
  return `${state.describe('sysctl.txt')}: ${key} = ${value}`;
}

/** CONNTRACK_TABLE_FULL: nf_conntrack_count ≥ 90 % of nf_conntrack_max. */
export function conntrackFindings(model: ClusterModel, node: string): Finding[] {
  const state = nodeState(model, node);
  const sysctl = state.sysctl;
  if (!sysctl) return [];
  const countKey = 'net.netfilter.nf_conntrack_count';
  const maxKey = sysctl.has('net.netfilter.nf_conntrack_max')
    ? 'net.netfilter.nf_conntrack_max'
    : 'net.nf_conntrack_max';
  const count = Number(sysctl.get(countKey));
  const max = Number(sysctl.get(maxKey));
  if (
    !sysctl.has(countKey) ||
    !sysctl.has(maxKey) ||
    !Number.isFinite(count) ||
    !Number.isFinite(max) ||
    max <= 0
  )
    return [];
  const share = count / max;
  if (share < CONNTRACK_THRESHOLD) return [];
  return [
    finding('CONNTRACK_TABLE_FULL', {
      message:
        share >= 1
          ? `Node ${node}'s conntrack table is full (${count} of ${max} entries): the kernel drops packets of new connections.`
          : `Node ${node}'s conntrack table is ${Math.floor(share * 100)} % full (${count} of ${max} entries): new connections will be dropped once it fills.`,
      objects: [`node/${node}`],
      evidence: [sysctlLine(state, countKey, String(count)), sysctlLine(state, maxKey, String(max))],
    }),
  ];
}

/** The node's kube-proxy mode when a kube-proxy is visible (its rules, DaemonSet or ConfigMap). */
function kubeProxyMode(model: ClusterModel, node: string): string | undefined {
  const rules = loadNodeProxy(model, node);
  const hasKubeChains =
    rules?.iptables?.tables.get('nat')?.chains.has('KUBE-SERVICES') ||
    Boolean(rules?.nft && rules.mode === 'nftables') ||
    Boolean(rules?.ipvs && rules.ipvs.services.length > 0);
  const visible =
    hasKubeChains ||
    model.daemonSets.some((d) => d.namespace === 'kube-system' && d.name === 'kube-proxy') ||
    model.configMap('kube-system', 'kube-proxy') !== undefined;
  if (!visible) return undefined;
  return (hasKubeChains ? rules?.mode : undefined) ?? proxyModeFromModel(model) ?? 'iptables';
}

/** A bridge with pods' veths on it (from the links), else the bridge the CNI config names. */
function podBridge(
  model: ClusterModel,
  node: string,
  links: IpLink[] | undefined,
): { name: string; evidence: string } | undefined {
  const state = nodeState(model, node);
  if (links) {
    for (const br of links.filter((l) => l.kind === 'bridge')) {
      const ports = links.filter((l) => l.master === br.ifname && l.kind === 'veth');
      if (ports.length > 0) {
        return {
          name: br.ifname,
          evidence: `${state.describe('ip-link.json')}: bridge ${br.ifname} with ${ports.length} veth port(s)`,
        };
      }
    }
    return undefined;
  }
  const cni = cniSummary(model, node);
  if (cni?.bridge) return { name: cni.bridge, evidence: `${cni.config}: bridge ${cni.bridge}` };
  return undefined;
}

/** BRIDGE_NF_DISABLED: bridged pod traffic skips iptables/nftables on a kube-proxy node. */
export function bridgeNfFindings(model: ClusterModel, node: string): Finding[] {
  const state = nodeState(model, node);
  const sysctl = state.sysctl;
  if (!sysctl) return [];
  const key = 'net.bridge.bridge-nf-call-iptables';
  const value = sysctl.get(key);
  const hasBridgeKeys = [...sysctl.keys()].some((k) => k.startsWith('net.bridge.'));
  // A full `sysctl -a` dump without any net.bridge.* key: br_netfilter is not loaded. A short,
  // hand-made file without the key says nothing.
  const moduleMissing = value === undefined && !hasBridgeKeys && sysctl.size >= 100;
  if (value?.trim() !== '0' && !moduleMissing) return [];
  const bridge = podBridge(model, node, state.links);
  if (!bridge) return [];
  const mode = kubeProxyMode(model, node);
  if (!mode) return [];
  const evidence = [
    moduleMissing
      ? `${state.describe('sysctl.txt')}: no net.bridge.* keys (br_netfilter is not loaded)`
      : sysctlLine(state, key, '0'),
    bridge.evidence,
    `kube-proxy mode: ${mode}`,
  ];
  return [
    finding('BRIDGE_NF_DISABLED', {
      message: `On node ${node}, traffic between pods on bridge ${bridge.name} does not pass through netfilter (${
        moduleMissing ? 'br_netfilter not loaded' : `${key} = 0`
      }): a pod reaching a Service whose chosen backend sits on the same bridge gets replies from the pod IP, not the Service IP, and the connection fails.`,
      objects: [`node/${node}`],
      evidence,
    }),
  ];
}

const globalV4 = (i: IpAddrInterface) =>
  i.addresses.filter((a) => a.family === 'inet' && a.scope === 'global');

/** Interfaces that face the network: not lo, bridges, bridge ports, tunnels or dummies (kube-ipvs0). */
function uplinks(addrs: IpAddrInterface[], links: IpLink[] | undefined): IpAddrInterface[] {
  const byName = new Map((links ?? []).map((l) => [l.ifname, l]));
  return addrs.filter((i) => {
    if (i.ifname === 'lo' || i.master) return false;
    const kind = byName.get(i.ifname)?.kind;
    if (kind && (kind === 'bridge' || kind === 'dummy' || TUNNEL_KINDS.has(kind))) return false;
    return globalV4(i).length > 0;
  });
}

/** A source-based policy rule sends replies from this address out of `iface` (fixes the asymmetry). */
function policyRoutesBack(
  rules: IpRule[],
  routes: IpRoute[],
  address: string,
  iface: string,
): IpRule | undefined {
  return rules.find((r) => {
    if (
      r.action !== 'lookup' ||
      !r.table ||
      r.from === 'all' ||
      ['main', 'local', 'default'].includes(r.table)
    )
      return false;
    if (!isIP(r.from.split('/')[0]) || ipFamily(r.from.split('/')[0]) !== 4 || !cidrContains(r.from, address))
      return false;
    return routes.some((rt) => rt.table === r.table && rt.dst === 'default' && routeDevice(rt) === iface);
  });
}

/**
 * RP_FILTER_STRICT, conservatively: strict mode (1) on an uplink that is not the one the
 * default route leaves by, on a node with several uplinks. Packets from outside that
 * interface's own subnets arriving on it fail the reverse-path check (the route back to their
 * source is the default route, through another interface) and are dropped silently — unless a
 * source-based policy rule routes replies back out of it.
 */
export function rpFilterFindings(model: ClusterModel, node: string): Finding[] {
  const state = nodeState(model, node);
  const sysctl = state.sysctl;
  const addrs = state.addrs;
  const routes = state.routes;
  if (!sysctl || !addrs || !routes) return [];
  const ups = uplinks(addrs, state.links);
  if (ups.length < 2) return [];
  const def = lookupRoute(routes, '0.0.0.0');
  const defDev = def && def.dst === 'default' ? routeDevice(def) : undefined;
  if (!def || !defDev) return [];
  if (def.nexthops.length > 1 && def.nexthops.some((h) => ups.some((u) => u.ifname === h.dev))) return [];
  const rules = state.ipRules ?? [];
  const out: Finding[] = [];
  for (const up of ups) {
    if (up.ifname === defDev) continue;
    const rp = rpFilter(sysctl, up.ifname);
    if (rp?.value !== 1) continue;
    const address = globalV4(up)[0];
    const back = policyRoutesBack(rules, routes, address.local, up.ifname);
    if (back) continue;
    out.push(
      finding('RP_FILTER_STRICT', {
        message: `Node ${node} filters reverse paths strictly on ${up.ifname} (${address.cidr}), but its default route leaves by ${defDev}: packets from outside ${address.cidr} that arrive on ${up.ifname} are dropped.`,
        objects: [`node/${node}`],
        evidence: [
          ...rp.keys.map((k) => `${state.describe('sysctl.txt')}: ${k}`),
          `${state.describe('ip-route.json')}: ${formatRoute(def)}`,
          `${state.describe('ip-addr.json')}: ${up.ifname} ${address.cidr}`,
          ...(state.ipRules
            ? [
                `${state.describe('ip-rule.json')}: no rule sends traffic from ${address.local} to a table whose default route uses ${up.ifname}`,
              ]
            : []),
        ],
        hint: `Set net.ipv4.conf.${up.ifname}.rp_filter=2 (loose) on node ${node}, or route replies from ${address.local} back out of ${up.ifname} (ip rule from ${address.local} lookup TABLE).`,
      }),
    );
  }
  return out;
}

interface PathLimit {
  /** The largest packet pod traffic can carry between nodes. */
  mtu: number;
  detail: string;
  evidence: string[];
}

function underlayOf(state: NodeState, links: IpLink[], tunnel: IpLink): IpLink | undefined {
  const byName = new Map(links.map((l) => [l.ifname, l]));
  if (tunnel.vxlan?.dev) return byName.get(tunnel.vxlan.dev);
  const local =
    tunnel.vxlan?.local ?? (typeof tunnel.infoData?.local === 'string' ? tunnel.infoData.local : undefined);
  if (local && state.addrs) {
    const owner = state.addrs.find((i) => i.addresses.some((a) => a.local === local));
    if (owner) return byName.get(owner.ifname);
  }
  const def = state.routes ? lookupRoute(state.routes, '0.0.0.0') : undefined;
  const dev = def ? routeDevice(def) : undefined;
  return dev ? byName.get(dev) : undefined;
}

function underlayFamily(tunnel: IpLink): 4 | 6 {
  const local = tunnel.vxlan?.local ?? tunnel.vxlan?.remote ?? tunnel.vxlan?.group;
  return local && isIP(local) ? ipFamily(local) : 4;
}

/** MTU_MISMATCH findings for one node, and the limit pods' packets must fit. */
function tunnelChecks(model: ClusterModel, node: string): { findings: Finding[]; limit?: PathLimit } {
  const state = nodeState(model, node);
  const links = state.links;
  if (!links) return { findings: [] };
  const file = state.describe('ip-link.json');
  const findings: Finding[] = [];
  let limit: PathLimit | undefined;
  const overlay = detectOverlay(model, node);
  for (const tunnel of links.filter((l) => l.kind && TUNNEL_KINDS.has(l.kind))) {
    const under = underlayOf(state, links, tunnel);
    const overhead = encapOverhead(tunnel.kind as string, underlayFamily(tunnel));
    const carried = under ? under.mtu - overhead : undefined;
    const evidence = [`${file}: ${tunnel.ifname} ${tunnel.kind} mtu ${tunnel.mtu}`];
    if (under)
      evidence.push(
        `${file}: ${under.ifname} mtu ${under.mtu} (the underlay; ${tunnel.kind} adds ${overhead} bytes)`,
      );
    if (under && carried !== undefined && tunnel.mtu > carried) {
      findings.push(
        finding('MTU_MISMATCH', {
          message: `On node ${node}, ${tunnel.ifname} (${tunnel.kind}, MTU ${tunnel.mtu}) needs ${tunnel.mtu + overhead}-byte packets on ${under.ifname}, whose MTU is ${under.mtu}: full-size packets between nodes do not fit.`,
          objects: [`node/${node}`],
          evidence,
          hint: `Set ${tunnel.ifname}'s MTU (and the pods' MTU) to ${carried} or less — the CNI's MTU setting — or raise ${under.ifname}'s MTU to ${tunnel.mtu + overhead}.`,
        }),
      );
    }
    if (overlay?.device === tunnel.ifname) {
      const mtu = Math.min(tunnel.mtu, carried ?? tunnel.mtu);
      limit = {
        mtu,
        detail:
          carried !== undefined && carried < tunnel.mtu
            ? `${tunnel.ifname} over ${under?.ifname} carries ${carried}`
            : `${tunnel.ifname} carries ${tunnel.mtu}`,
        evidence: [...evidence, ...overlay.evidence.filter((e) => e.includes('ip-route.json'))],
      };
    }
  }
  if (!limit && overlay && overlay.type === 'host-gw' && overlay.device) {
    const dev = links.find((l) => l.ifname === overlay.device);
    if (dev)
      limit = {
        mtu: dev.mtu,
        detail: `${dev.ifname} carries ${dev.mtu}`,
        evidence: [`${file}: ${dev.ifname} mtu ${dev.mtu}`, ...overlay.evidence],
      };
  }
  return { findings, limit };
}

function podEth0(pod: Pod, addrs: IpAddrInterface[]): IpAddrInterface | undefined {
  return (
    addrs.find((i) => i.addresses.some((a) => pod.ips.includes(a.local))) ??
    addrs.find((i) => i.ifname === 'eth0')
  );
}

/**
 * MTU_MISMATCH: a tunnel whose MTU plus its overhead exceeds its underlay's MTU, and pods (or
 * the CNI config's MTU) larger than what the path between nodes carries.
 */
export function mtuFindings(model: ClusterModel, node: string): Finding[] {
  const { findings, limit } = tunnelChecks(model, node);
  if (!limit) return findings;
  const state = nodeState(model, node);
  const tooBig: { pod: Pod; mtu: number; iface: string; file: string }[] = [];
  for (const pod of model.podsOnNode(node)) {
    if (pod.hostNetwork) continue;
    const net = state.pod(pod);
    const eth0 = net.addrs ? podEth0(pod, net.addrs) : undefined;
    if (eth0 && eth0.mtu > limit.mtu)
      tooBig.push({ pod, mtu: eth0.mtu, iface: eth0.ifname, file: net.files['ip-addr.json'] });
  }
  if (tooBig.length > 0) {
    const shown = tooBig.slice(0, 5);
    findings.push(
      finding('MTU_MISMATCH', {
        message: `${tooBig.length} pod(s) on node ${node} use an MTU larger than the ${limit.mtu} bytes the path between nodes carries (${limit.detail}): their full-size packets to other nodes are dropped.`,
        objects: [`node/${node}`, ...shown.map((t) => `pod/${t.pod.namespace}/${t.pod.name}`)],
        evidence: [...shown.map((t) => `${t.file}: ${t.iface} mtu ${t.mtu}`), ...limit.evidence],
        hint: `Set the CNI's MTU to ${limit.mtu} (or less) and recreate the pods; PMTU discovery only rescues TCP where ICMP "fragmentation needed" gets through.`,
      }),
    );
  } else {
    const cni = cniSummary(model, node);
    if (cni?.mtu && cni.mtu > limit.mtu) {
      findings.push(
        finding('MTU_MISMATCH', {
          message: `Node ${node}'s CNI config gives pods an MTU of ${cni.mtu}, larger than the ${limit.mtu} bytes the path between nodes carries (${limit.detail}).`,
          objects: [`node/${node}`],
          evidence: [`${cni.config}: mtu ${cni.mtu}`, ...limit.evidence],
          hint: `Set the CNI's MTU to ${limit.mtu} (or less) and recreate the pods.`,
        }),
      );
    }
  }
  return findings;
}

/** Every node-health check of one node (doctor calls this per node with node files). */
export function nodeHealthFindings(model: ClusterModel, node: string): Finding[] {
  if (!model.nodeFiles.nodes().includes(node)) return [];
  return [
    ...conntrackFindings(model, node),
    ...bridgeNfFindings(model, node),
    ...rpFilterFindings(model, node),
    ...mtuFindings(model, node),
  ];
}

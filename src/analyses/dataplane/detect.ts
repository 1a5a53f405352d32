// Who translates Services and who connects pods, per node — decided before anything is judged,
// so that a healthy cluster whose dataplane is not kube-proxy plus a bridge is never called
// broken for being unusual.
//
// Services: kube-proxy (iptables, IPVS, nftables: from the node's dumps), Cilium's eBPF kube-proxy
// replacement (cilium-config `kube-proxy-replacement`, the agent DaemonSet, no kube-proxy), Calico's
// eBPF dataplane (its bpf* devices), or none known.
// Pods: a bridge (cni0/cbr0 with the pods' veths), a routed CNI (one host route per pod to its
// veth: Calico's cali*, Cilium's lxc*, the reference ptp plugin), or a cloud VPC CNI (pods on
// VPC addresses, per-ENI policy-routing tables: the AWS VPC CNI).

import { cidrContains } from '../../core/ip.js';
import type { ClusterModel } from '../../model/cluster.js';
import { perModel } from '../../model/memo.js';
import { CILIUM_FILES, nodeState } from '../../model/node-state.js';
import { detectCni } from '../policy/cni.js';
import { loadNodeProxy } from '../proxy/simulate.js';

export type ServiceDataplane =
  | 'kube-proxy-iptables'
  | 'kube-proxy-ipvs'
  | 'kube-proxy-nftables'
  | 'cilium-ebpf'
  | 'calico-ebpf'
  | 'unknown';

export type PodDataplane = 'bridge' | 'routed' | 'vpc' | 'unknown';

export interface NodeDataplane {
  services: ServiceDataplane;
  servicesReason: string;
  pods: PodDataplane;
  /** The CNI that wires the pods, where known (calico, cilium, flannel, ptp, aws-vpc-cni …). */
  cni?: string;
  podsReason: string;
}

export { CILIUM_FILES };

/** kube-proxy is replaced cluster-wide: cilium-config says so, or Cilium runs and kube-proxy does not. */
function ciliumReplacesKubeProxy(model: ClusterModel): string | undefined {
  const cm = model.configMap('kube-system', 'cilium-config');
  const kpr = cm?.data['kube-proxy-replacement'];
  if (kpr && ['true', 'strict'].includes(kpr.trim().toLowerCase()))
    return `configmap/kube-system/cilium-config kube-proxy-replacement: ${kpr.trim()}`;
  const cilium = model.daemonSets.find((d) => /(^|-)cilium(-agent)?$/.test(d.name));
  const kubeProxy = model.daemonSets.some((d) => d.name === 'kube-proxy');
  if (cilium && !kubeProxy && kpr?.trim().toLowerCase() !== 'false')
    return `DaemonSet ${cilium.namespace}/${cilium.name} runs and there is no kube-proxy DaemonSet`;
  return undefined;
}

const dataplanes = perModel<NodeDataplane>();

export function detectNodeDataplane(model: ClusterModel, node: string): NodeDataplane {
  return dataplanes(model, node, () => ({ ...detectServices(model, node), ...detectPods(model, node) }));
}

function detectServices(
  model: ClusterModel,
  node: string,
): Pick<NodeDataplane, 'services' | 'servicesReason'> {
  const state = nodeState(model, node);
  const links = state.links ?? [];
  // kube-proxy's own rules on the node decide first: they are what the kernel runs.
  const rules = loadNodeProxy(model, node);
  const kubeRules =
    rules &&
    (rules.mode === 'ipvs' ||
      (rules.mode === 'iptables' && rules.iptables?.tables.get('nat')?.chains.has('KUBE-SERVICES')) ||
      (rules.mode === 'nftables' && rules.nft?.tables.some((t) => t.name === 'kube-proxy')));
  if (kubeRules) return { services: `kube-proxy-${rules.mode}`, servicesReason: rules.modeReason };
  if (links.some((l) => /^bpf(in|out|nat)\.cali$/.test(l.ifname)))
    return {
      services: 'calico-ebpf',
      servicesReason: `${state.describe('ip-link.json')}: Calico's eBPF devices (bpfin.cali …)`,
    };
  const cilium = ciliumReplacesKubeProxy(model);
  if (cilium) return { services: 'cilium-ebpf', servicesReason: cilium };
  if (model.nodeFiles.read(node, CILIUM_FILES.services) !== undefined)
    return { services: 'cilium-ebpf', servicesReason: `${state.describe(CILIUM_FILES.services)} is present` };
  if (rules) return { services: `kube-proxy-${rules.mode}`, servicesReason: rules.modeReason };
  return { services: 'unknown', servicesReason: 'no kube-proxy rules, no kube-proxy replacement seen' };
}

function detectPods(model: ClusterModel, node: string): Pick<NodeDataplane, 'pods' | 'podsReason' | 'cni'> {
  const state = nodeState(model, node);
  const cluster = detectCni(model).name;
  const links = state.links;
  const file = state.describe('ip-link.json');
  if (model.daemonSets.some((d) => d.name === 'aws-node') || /aws-vpc-cni/.test(cluster ?? ''))
    return {
      pods: 'vpc',
      cni: 'aws-vpc-cni',
      podsReason: 'DaemonSet aws-node (pods on VPC addresses, per-ENI tables)',
    };
  if (!links) return { pods: 'unknown', cni: cluster, podsReason: `no ${file}` };
  const cidrs = model.node(node)?.podCIDRs ?? [];
  const bridge = links.find(
    (l) =>
      l.kind === 'bridge' &&
      (state.addrs ?? []).some(
        (i) => i.ifname === l.ifname && i.addresses.some((a) => cidrs.some((c) => cidrContains(c, a.local))),
      ),
  );
  if (bridge && links.some((l) => l.master === bridge.ifname))
    return { pods: 'bridge', cni: cluster, podsReason: `${file}: pod veths on bridge ${bridge.ifname}` };
  const routedVeths = links.filter((l) => l.kind === 'veth' && !l.master);
  if (routedVeths.length > 0) {
    const cni = routedVeths.some((l) => l.ifname.startsWith('cali'))
      ? 'calico'
      : routedVeths.some((l) => l.ifname.startsWith('lxc'))
        ? 'cilium'
        : (cluster ?? 'ptp');
    return {
      pods: 'routed',
      cni,
      podsReason: `${file}: pod veths without a bridge (${routedVeths
        .slice(0, 3)
        .map((l) => l.ifname)
        .join(', ')}${routedVeths.length > 3 ? ', …' : ''}), one host route per pod`,
    };
  }
  return { pods: 'unknown', cni: cluster, podsReason: `${file}: no pod bridge and no pod veths` };
}

/** A short text for headers and tables: "kube-proxy iptables · bridge (flannel)". */
export function describeDataplane(d: NodeDataplane): string {
  const svc =
    d.services === 'unknown'
      ? 'services: unknown'
      : d.services.replace(/-/g, ' ').replace('kube proxy', 'kube-proxy');
  const pods = d.pods === 'unknown' ? 'pods: unknown' : `${d.pods}${d.cni ? ` (${d.cni})` : ''}`;
  return `${svc} · ${pods}`;
}

/** The textbook dataplane knet always modelled; traces say nothing more about it. */
export function isTextbook(d: NodeDataplane): boolean {
  return d.services.startsWith('kube-proxy-') && (d.pods === 'bridge' || d.pods === 'unknown');
}

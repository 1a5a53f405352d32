// Which CNI runs the cluster, from what is visible in the API (DaemonSets, and pods when the
// DaemonSets were not captured), and whether it enforces NetworkPolicy. A policy verdict is what
// the policies say; on a CNI that does not enforce them (flannel alone) nothing is filtered.
import type { ClusterModel } from '../../model/cluster.js';

export interface CniDetection {
  /** e.g. "calico", "cilium", "flannel", "flannel+kube-router"; undefined when nothing is recognised. */
  name: string | undefined;
  /** true: enforces NetworkPolicy; false: known not to; undefined: unknown. */
  enforcesPolicy: boolean | undefined;
  /** The objects that told: "DaemonSet kube-system/calico-node (image …)". */
  evidence: string[];
}

interface Signature {
  name: string;
  /** Matched against DaemonSet names, pod names (without the generated suffix) and image names. */
  pattern: RegExp;
  enforces: boolean | undefined;
}

// Order matters only for naming: every signature found is reported.
const SIGNATURES: Signature[] = [
  { name: 'canal', pattern: /(^|[/-])canal([-:/]|$)/, enforces: true },
  { name: 'calico', pattern: /(^|[/-])calico-node([-:]|$)|calico\/node/, enforces: true },
  { name: 'cilium', pattern: /(^|[/-])cilium(-agent)?([-:@]|$)/, enforces: true },
  { name: 'weave', pattern: /(^|[/-])weave(-net|-npc|works\/weave-kube)?([-:]|$)/, enforces: true },
  { name: 'antrea', pattern: /(^|[/-])antrea-agent([-:]|$)|antrea\/antrea/, enforces: true },
  { name: 'kube-router', pattern: /(^|[/-])kube-router([-:]|$)/, enforces: true },
  { name: 'ovn-kubernetes', pattern: /(^|[/-])ovnkube-node([-:]|$)/, enforces: true },
  { name: 'kube-ovn', pattern: /(^|[/-])kube-ovn-cni([-:]|$)/, enforces: true },
  { name: 'azure-npm', pattern: /(^|[/-])azure-npm([-:]|$)/, enforces: true },
  { name: 'aws-network-policy-agent', pattern: /aws-network-policy-agent/, enforces: true },
  { name: 'kube-network-policies', pattern: /(^|[/-])kube-network-policies([-:]|$)/, enforces: true },
  { name: 'gke-dataplane-v2', pattern: /(^|[/-])anetd([-:]|$)/, enforces: true },
  { name: 'openshift-sdn', pattern: /openshift-sdn|^sdn$/, enforces: true },
  { name: 'flannel', pattern: /(^|[/-])(kube-)?flannel(-ds)?([-:/]|$)/, enforces: false },
  // kindnet enforces NetworkPolicy only in recent releases; aws-node only with its policy agent.
  { name: 'kindnet', pattern: /(^|[/-])kindnet(d)?([-:]|$)/, enforces: undefined },
  { name: 'aws-vpc-cni', pattern: /(^|[/-])aws-node([-:]|$)|amazon-k8s-cni/, enforces: undefined },
];

/** Pod names carry generated suffixes (calico-node-x7k2p); strip them for matching. */
const baseName = (name: string) => name.replace(/-[a-z0-9]{5}$/, '').replace(/-[a-f0-9]{8,10}$/, '');

const cache = new WeakMap<ClusterModel, CniDetection>();

export function detectCni(model: ClusterModel): CniDetection {
  const hit = cache.get(model);
  if (hit) return hit;
  const found = new Map<string, { sig: Signature; evidence: string[] }>();
  const note = (sig: Signature, line: string) => {
    const entry = found.get(sig.name) ?? { sig, evidence: [] };
    if (entry.evidence.length < 3 && !entry.evidence.includes(line)) entry.evidence.push(line);
    found.set(sig.name, entry);
  };
  const check = (texts: string[], line: string) => {
    for (const sig of SIGNATURES) if (texts.some((t) => sig.pattern.test(t))) note(sig, line);
  };
  for (const ds of model.daemonSets) {
    const images = ds.images.filter(Boolean);
    check(
      [ds.name, ...images],
      `DaemonSet ${ds.namespace}/${ds.name}${images.length ? ` (image ${images.join(', ')})` : ''}`,
    );
  }
  if (found.size === 0) {
    for (const pod of model.pods) {
      if (
        pod.namespace !== 'kube-system' &&
        !/calico|cilium|flannel|tigera|antrea|weave|kube-router|ovn/.test(pod.namespace)
      ) {
        continue;
      }
      const images = pod.containers.map((c) => c.image ?? '').filter(Boolean);
      check(
        [baseName(pod.name), ...images],
        `Pod ${pod.namespace}/${pod.name}${images.length ? ` (image ${images.join(', ')})` : ''}`,
      );
    }
  }
  const entries = [...found.values()];
  // canal is flannel + calico in one DaemonSet: report it once.
  if (found.has('canal')) {
    found.delete('flannel');
    found.delete('calico');
  }
  // Named in a stable order, whatever the order of the objects.
  const list = [...found.values()].sort((a, b) => a.sig.name.localeCompare(b.sig.name));
  let result: CniDetection;
  if (list.length === 0) {
    result = {
      name: undefined,
      enforcesPolicy: undefined,
      evidence: [
        'no known CNI DaemonSet or pod is visible (kube-flannel, calico-node, cilium, weave-net, antrea, …)',
      ],
    };
  } else {
    const enforcing = list.filter((e) => e.sig.enforces === true);
    const name = list.map((e) => e.sig.name).join('+');
    const enforcesPolicy =
      enforcing.length > 0 ? true : list.every((e) => e.sig.enforces === false) ? false : undefined;
    result = { name, enforcesPolicy, evidence: entries.flatMap((e) => e.evidence) };
  }
  cache.set(model, result);
  return result;
}

// Pod and node IP inventory (knet pods / knet nodes) and the findings that need no node files.

import { cidrContains, cidrSize, parseCIDR, parseIP } from '../core/ip.js';
import { finding } from '../findings/catalog.js';
import { collectFindings } from '../findings/collector.js';
import type { Finding } from '../findings/types.js';
import type { ClusterModel } from '../model/cluster.js';
import { isTerminal } from '../model/pods.js';
import type { Node, Pod } from '../model/types.js';

export interface PodItem {
  namespace: string;
  name: string;
  ip: string | null;
  ips: string[];
  node: string | null;
  nodePodCIDRs: string[];
  hostNetwork: boolean;
  phase: string;
  ready: boolean;
  terminating: boolean;
  problems: string[];
}

export interface NodeItem {
  name: string;
  internalIPs: string[];
  podCIDRs: string[];
  podCount: number;
  podCapacity: number | null;
  ready: boolean | null;
  problems: string[];
}

export interface PodFilter {
  /** undefined = all namespaces. */
  namespace?: string;
  node?: string;
}

const podRef = (p: Pod) => `pod/${p.namespace}/${p.name}`;

/** The findings about one pod that need nothing but the API objects. */
export function podFindings(model: ClusterModel, pod: Pod): Finding[] {
  const out: Finding[] = [];
  addPodFindings(model, pod, out);
  return out;
}

/** podFindings into `out` (doctor: one list for 150,000 pods, and no pod/NS/NAME for a pod without any). */
function addPodFindings(model: ClusterModel, pod: Pod, out: Finding[]): void {
  if (pod.phase === 'Succeeded') return;
  const waiting = pod.containerStatuses.find((s) => s.state === 'waiting' || s.state === 'terminated');
  if (pod.phase !== 'Running') {
    out.push(
      finding('POD_NOT_RUNNING', {
        message: `Pod ${pod.namespace}/${pod.name} is ${pod.phase}${pod.nodeName ? '' : ' and not scheduled to a node'}.`,
        objects: [podRef(pod)],
        evidence: [`status.phase: ${pod.phase}`],
      }),
    );
  } else if (waiting) {
    out.push(
      finding('POD_NOT_RUNNING', {
        message: `Container ${waiting.name} of pod ${pod.namespace}/${pod.name} is not running (${waiting.reason ?? waiting.state}).`,
        objects: [podRef(pod)],
        evidence: [
          `status.containerStatuses[${waiting.name}].state: ${waiting.state}${waiting.reason ? ` (${waiting.reason})` : ''}`,
        ],
      }),
    );
  } else if (!pod.ready) {
    out.push(
      finding('POD_NOT_READY', {
        message: `Pod ${pod.namespace}/${pod.name} is running but not Ready, so Services send it no traffic.`,
        objects: [podRef(pod)],
        evidence: ['status.conditions[Ready]: not True'],
      }),
    );
  }
  if (pod.ips.length === 0) {
    if (pod.nodeName && !isTerminal(pod)) {
      out.push(
        finding('POD_NO_IP', {
          message: `Pod ${pod.namespace}/${pod.name} has no IP address yet.`,
          objects: [podRef(pod)],
        }),
      );
    }
    return;
  }
  if (isTerminal(pod) || pod.hostNetwork) return;
  const node = pod.nodeName ? model.node(pod.nodeName) : undefined;
  if (node && node.podCIDRs.length > 0) {
    for (const ip of pod.ips) {
      // Parsed once for every CIDR it is tested against.
      const addr = parseIP(ip);
      const kind = addr.kind();
      const sameFamily = node.podCIDRs.filter((c) => parseCIDR(c)[0].kind() === kind);
      if (sameFamily.length > 0 && !sameFamily.some((c) => cidrContains(c, addr))) {
        out.push(
          finding('POD_IP_OUTSIDE_NODE_CIDR', {
            message: `Pod ${pod.namespace}/${pod.name} has IP ${ip}, outside node ${node.name}'s pod CIDR ${sameFamily.join(', ')}.`,
            objects: [podRef(pod), `node/${node.name}`],
            evidence: [
              `status.podIPs: ${pod.ips.join(', ')}`,
              `node ${node.name} spec.podCIDRs: ${node.podCIDRs.join(', ')}`,
            ],
          }),
        );
      }
    }
  }
  for (const ip of pod.ips) {
    const byIP = model.podsByIP(ip);
    // Most IPs are the pod's own alone: nothing to filter.
    if (byIP.length === 0 || (byIP.length === 1 && byIP[0] === pod)) continue;
    const owners = byIP.filter((p) => p !== pod && !isTerminal(p));
    if (owners.length > 0) {
      out.push(
        finding('POD_IP_DUPLICATE', {
          message: `Pod ${pod.namespace}/${pod.name} shares IP ${ip} with ${owners.map((p) => `${p.namespace}/${p.name}`).join(', ')}.`,
          objects: [podRef(pod), ...owners.map(podRef)],
          evidence: [ip],
        }),
      );
    }
  }
}

function filteredPods(model: ClusterModel, filter: PodFilter): readonly Pod[] {
  const pods = filter.namespace === undefined ? model.pods : model.podsInNamespace(filter.namespace);
  return filter.node === undefined ? pods : pods.filter((p) => p.nodeName === filter.node);
}

/** podInventory's findings alone (doctor): no 150,000 rows built and sorted for nothing. */
export function podInventoryFindings(model: ClusterModel, filter: PodFilter): Finding[] {
  const findings: Finding[] = [];
  for (const pod of filteredPods(model, filter)) addPodFindings(model, pod, findings);
  return findings;
}

export function podInventory(
  model: ClusterModel,
  filter: PodFilter,
): { items: PodItem[]; findings: Finding[] } {
  const pods = filteredPods(model, filter);
  const items: PodItem[] = [];
  const findings: Finding[] = [];
  for (const pod of pods) {
    const found = podFindings(model, pod);
    findings.push(...found);
    items.push({
      namespace: pod.namespace,
      name: pod.name,
      ip: pod.ips[0] ?? null,
      ips: pod.ips,
      node: pod.nodeName ?? null,
      nodePodCIDRs: pod.nodeName ? (model.node(pod.nodeName)?.podCIDRs ?? []) : [],
      hostNetwork: pod.hostNetwork,
      phase: pod.phase,
      ready: pod.ready,
      terminating: pod.terminating,
      problems: [...new Set(found.map((f) => f.code))],
    });
  }
  items.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  return { items, findings: collectFindings(findings, model) };
}

/** Pods that hold an address from the node's pod CIDR (not hostNetwork, not finished). */
function podsUsingCIDR(model: ClusterModel, node: Node): number {
  let used = 0;
  for (const p of model.podsOnNode(node.name))
    if (!p.hostNetwork && !isTerminal(p) && p.ips.length > 0) used++;
  return used;
}

/** Addresses available to pods: the smallest family's CIDR bounds a dual-stack node. */
export function podCapacity(node: Node): number | null {
  if (node.podCIDRs.length === 0) return null;
  return Math.min(...node.podCIDRs.map(cidrSize));
}

const EXHAUSTED_RATIO = 0.9;

/** [start, end] of a CIDR as bigints, for a sort-and-sweep overlap check (no O(n²) pairs). */
function cidrRange(cidr: string): { family: number; start: bigint; end: bigint } {
  const [addr, bits] = parseCIDR(cidr);
  const bytes = addr.toByteArray();
  const width = bytes.length * 8;
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  const hostBits = BigInt(width - bits);
  const start = (value >> hostBits) << hostBits;
  return { family: bytes.length, start, end: start + (1n << hostBits) - 1n };
}

export function nodeCIDROverlaps(nodes: readonly Node[]): Finding[] {
  const ranges = nodes
    .flatMap((n) => n.podCIDRs.map((cidr) => ({ node: n.name, cidr, ...cidrRange(cidr) })))
    .sort((a, b) => a.family - b.family || (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: Finding[] = [];
  let open: (typeof ranges)[number] | undefined;
  for (const r of ranges) {
    if (open && open.family === r.family && r.start <= open.end) {
      if (open.node !== r.node) {
        out.push(
          finding('NODE_POD_CIDR_OVERLAP', {
            message: `Nodes ${open.node} and ${r.node} have overlapping pod CIDRs ${open.cidr} and ${r.cidr}.`,
            objects: [`node/${open.node}`, `node/${r.node}`],
            evidence: [`node ${open.node}: ${open.cidr}`, `node ${r.node}: ${r.cidr}`],
          }),
        );
      }
      if (r.end > open.end) open = r;
    } else {
      open = r;
    }
  }
  return out;
}

/** A node's own findings; `used`: podsUsingCIDR, counted once by the caller. */
function nodeFindings(node: Node, used: number): Finding[] {
  const out: Finding[] = [];
  const ref = `node/${node.name}`;
  if (node.ready !== true) {
    const cond = node.conditions.find((c) => c.type === 'Ready');
    out.push(
      finding('NODE_NOT_READY', {
        message: `Node ${node.name} is not Ready (${cond ? `Ready=${cond.status}${cond.reason ? `, ${cond.reason}` : ''}` : 'no Ready condition'}).`,
        objects: [ref],
        evidence: cond?.message ? [cond.message] : undefined,
      }),
    );
  }
  if (node.podCIDRs.length === 0) {
    out.push(finding('NODE_NO_POD_CIDR', { message: `Node ${node.name} has no pod CIDR.`, objects: [ref] }));
  } else {
    const capacity = podCapacity(node) ?? 0;
    if (used >= EXHAUSTED_RATIO * capacity) {
      out.push(
        finding('NODE_POD_CIDR_EXHAUSTED', {
          message: `Node ${node.name} uses ${used} of the ${capacity} addresses of its pod CIDR ${node.podCIDRs.join(', ')}.`,
          objects: [ref],
          evidence: [`${used} pods with IPs from ${node.podCIDRs.join(', ')}`],
        }),
      );
    }
  }
  return out;
}

export function nodeInventory(model: ClusterModel): { items: NodeItem[]; findings: Finding[] } {
  const overlaps = nodeCIDROverlaps(model.nodes);
  const findings: Finding[] = [];
  const items: NodeItem[] = model.nodes.map((node) => {
    const used = podsUsingCIDR(model, node);
    const found = [
      ...nodeFindings(node, used),
      ...overlaps.filter((f) => f.objects.includes(`node/${node.name}`)),
    ];
    findings.push(...found.filter((f) => f.code !== 'NODE_POD_CIDR_OVERLAP'));
    return {
      name: node.name,
      internalIPs: node.internalIPs,
      podCIDRs: node.podCIDRs,
      podCount: used,
      podCapacity: podCapacity(node),
      ready: node.ready ?? null,
      problems: [...new Set(found.map((f) => f.code))],
    };
  });
  findings.push(...overlaps);
  items.sort((a, b) => a.name.localeCompare(b.name));
  return { items, findings: collectFindings(findings, model) };
}

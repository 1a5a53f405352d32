import type { NodeDataplane, ServiceDataplane } from '../analyses/dataplane/detect.js';
import type { NodeItem, PodItem } from '../analyses/inventory.js';
import type { NodeWideInfo } from '../analyses/node-wide-info.js';
import type { Finding } from '../findings/types.js';
import { renderFindings } from './findings.js';
import { c } from './style.js';
import { renderTable } from './table.js';

const problems = (codes: string[]) => (codes.length ? c().red(codes.join(',')) : c().green('-'));
const yesNo = (v: boolean | null) => (v === null ? c().yellow('Unknown') : v ? 'True' : c().red('False'));

export function renderPodList(
  items: PodItem[],
  findings: Finding[],
  opts: { wide: boolean; allNamespaces: boolean },
): string {
  if (items.length === 0) return 'No pods found.\n';
  const head = [
    ...(opts.allNamespaces ? ['namespace'] : []),
    'name',
    opts.wide ? 'ips' : 'ip',
    'node',
    'pod cidr',
    'host net',
    'phase',
    'ready',
    'problems',
  ];
  const rows = items.map((p) => [
    ...(opts.allNamespaces ? [p.namespace] : []),
    p.name,
    (opts.wide ? p.ips.join(',') : p.ip) || '<none>',
    p.node ?? '<none>',
    p.nodePodCIDRs.join(',') || '<none>',
    p.hostNetwork ? 'yes' : 'no',
    p.terminating ? `${p.phase} (terminating)` : p.phase,
    yesNo(p.ready),
    problems(p.problems),
  ]);
  return `${renderTable(head, rows)}\n\n${opts.wide || findings.length <= 20 ? renderFindings(findings) : summarize(findings)}`;
}

const SERVICE_DATAPLANES: Record<ServiceDataplane, string> = {
  'kube-proxy-iptables': 'kube-proxy iptables',
  'kube-proxy-ipvs': 'kube-proxy ipvs',
  'kube-proxy-nftables': 'kube-proxy nftables',
  'cilium-ebpf': 'cilium eBPF',
  'calico-ebpf': 'calico eBPF',
  unknown: 'unknown',
};

/** The SERVICES and POD NETWORK cells: "cilium eBPF", "routed (calico)"; unknown in yellow. */
function dataplaneCells(d: NodeDataplane | undefined): [string, string] {
  const unknown = c().yellow('unknown');
  if (!d) return [unknown, unknown];
  const services = d.services === 'unknown' ? unknown : SERVICE_DATAPLANES[d.services];
  const pods = d.pods === 'unknown' ? unknown : `${d.pods}${d.cni ? ` (${d.cni})` : ''}`;
  return [services, pods];
}

export function renderNodeList(
  items: NodeItem[],
  findings: Finding[],
  opts: { wide: boolean; info?: Map<string, NodeWideInfo> },
): string {
  if (items.length === 0) return 'No nodes found.\n';
  const wide = opts.wide;
  const head = [
    'name',
    'internal ip',
    ...(wide ? ['external ip'] : []),
    'pod cidr',
    'pods',
    ...(wide ? ['cidr used', 'node data', 'services', 'pod network'] : []),
    'ready',
    'problems',
  ];
  const rows = items.map((n) => {
    const info = opts.info?.get(n.name);
    return [
      n.name,
      n.internalIPs.join(',') || '<none>',
      ...(wide ? [info?.externalIPs.join(',') || '<none>'] : []),
      n.podCIDRs.join(',') || '<none>',
      n.podCapacity === null ? String(n.podCount) : `${n.podCount}/${n.podCapacity}`,
      ...(wide
        ? [
            n.podCapacity ? `${((100 * n.podCount) / n.podCapacity).toFixed(1)}%` : '-',
            info?.nodeData ? 'yes' : c().yellow('no'),
            ...dataplaneCells(info?.dataplane),
          ]
        : []),
      yesNo(n.ready),
      problems(n.problems),
    ];
  });
  return `${renderTable(head, rows)}\n\n${opts.wide || findings.length <= 20 ? renderFindings(findings) : summarize(findings)}`;
}

/** Long lists: counts per code, and how to see them all. */
function summarize(findings: Finding[]): string {
  const counts = new Map<string, number>();
  for (const f of findings) counts.set(f.code, (counts.get(f.code) ?? 0) + 1);
  const lines = [...counts].map(([code, n]) => `  ${code}: ${n}`);
  return `${c().bold(`${findings.length} findings:`)}\n${lines.join('\n')}\n(-o wide or --json lists each one)\n`;
}

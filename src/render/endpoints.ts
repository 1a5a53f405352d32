// Human output of a ServiceDiagnosis: a header (type, cluster IPs, ports with their resolved
// target ports, selector), the backend table with problems highlighted, near misses, notes and
// findings. Pure text: the command prints it.

import { formatDifference } from '../analyses/endpoints/near-miss.js';
import type {
  Backend,
  ServiceDiagnosis,
  ServicePortSummary,
  ServiceSummary,
} from '../analyses/endpoints/types.js';
import { escapeTerminal } from './escape.js';
import { renderFindings } from './findings.js';
import { c } from './style.js';
import { renderTable } from './table.js';

function portLine(p: ServicePortSummary): string {
  const head = escapeTerminal(`${p.name ? `${p.name} ` : ''}${p.port}/${p.protocol}`);
  const node = p.nodePort ? ` (node port ${p.nodePort})` : '';
  let target = escapeTerminal(String(p.targetPort));
  if (typeof p.targetPort === 'string') {
    const parts = p.resolved.map((r) => `${r.port} on ${r.pods} pod${r.pods === 1 ? '' : 's'}`);
    if (p.unresolvedPods > 0)
      parts.push(c().red(`unresolved on ${p.unresolvedPods} pod${p.unresolvedPods === 1 ? '' : 's'}`));
    target += parts.length ? ` (${parts.join(', ')})` : '';
  }
  return `${head}${node} -> ${target}`;
}

function header(s: ServiceSummary): string {
  const k = c();
  const lines: [string, string][] = [];
  const ips = s.headless ? 'None (headless)' : s.clusterIPs.join(', ') || '<none>';
  // Names and selectors come from the cluster: a newline in one must not break its line.
  lines.push(['Service', `${k.bold(escapeTerminal(`${s.namespace}/${s.name}`))}  ${escapeTerminal(s.type)}`]);
  if (s.type === 'ExternalName') lines.push(['External', escapeTerminal(s.externalName ?? '<none>')]);
  else lines.push(['Cluster IPs', ips]);
  const ports = s.ports.map(portLine);
  lines.push(['Ports', ports[0] ?? '<none>']);
  for (const p of ports.slice(1)) lines.push(['', p]);
  if (s.type !== 'ExternalName') {
    const sel = s.selector ? Object.entries(s.selector).map(([key, v]) => escapeTerminal(`${key}=${v}`)) : [];
    lines.push(['Selector', sel.length ? sel.join(',') : '<none> (endpoints managed by hand)']);
  }
  const policies: string[] = [];
  if (s.externalTrafficPolicy === 'Local') policies.push('externalTrafficPolicy=Local');
  if (s.internalTrafficPolicy === 'Local') policies.push('internalTrafficPolicy=Local');
  if (policies.length) lines.push(['Policies', policies.join(', ')]);
  const width = Math.max(...lines.map(([label]) => label.length)) + 2;
  return lines.map(([label, value]) => `${label.padEnd(width)}${value}`).join('\n');
}

const yes = (v: boolean) => (v ? 'yes' : c().red('no'));

function inSlices(b: Backend): string {
  if (b.inEndpointSlices === null) return c().yellow('unknown');
  if (b.inEndpointSlices) return b.origin === 'slice' && b.problems.length ? c().red('yes') : 'yes';
  return b.expectedInEndpointSlices ? c().red('no') : 'no';
}

function backendTable(backends: Backend[], wide: boolean): string {
  const head = wide
    ? [
        'pod',
        'ips',
        'node',
        'ready',
        'serving',
        'terminating',
        'port',
        'target',
        'in slices',
        'slices',
        'problems',
      ]
    : ['pod', 'ip', 'node', 'ready', 'port', 'target', 'in slices', 'problems'];
  const rows = backends.map((b) => {
    const name = b.pod ?? '<none>';
    const pod = b.origin === 'slice' ? `${name} ${c().dim('(slice)')}` : name;
    const problems = b.problems.length ? c().red(b.problems.join('; ')) : c().green('-');
    const port = b.port ?? '-';
    const target = b.targetPort ?? (b.port === null ? '-' : c().red('none'));
    if (wide) {
      return [
        pod,
        b.ips.join(',') || '<none>',
        b.node ?? '<none>',
        yes(b.ready),
        b.serving ? 'yes' : 'no',
        b.terminating ? c().yellow('yes') : 'no',
        port,
        target,
        inSlices(b),
        b.slices.join(',') || '-',
        problems,
      ];
    }
    return [pod, b.ip ?? '<none>', b.node ?? '<none>', yes(b.ready), port, target, inSlices(b), problems];
  });
  return renderTable(head, rows);
}

function nearMisses(d: ServiceDiagnosis): string[] {
  const k = c();
  const out: string[] = [];
  for (const g of d.nearMisses.inNamespace) {
    const who =
      g.count > g.pods.length
        ? `${g.pods.join(', ')} and ${g.count - g.pods.length} more`
        : g.pods.join(', ');
    const owner = g.owner ? ` [${g.owner}]` : '';
    const diffs = g.differences.map((x) => k.yellow(formatDifference(x))).join('; ');
    const label = g.reason === 'sibling' ? 'same owner' : 'near miss';
    out.push(`  ${label}: ${diffs}  (${who}${owner})`);
  }
  for (const o of d.nearMisses.otherNamespaces) {
    const more = o.count > o.pods.length ? ` and ${o.count - o.pods.length} more` : '';
    out.push(`  other namespace: ${o.pods.join(', ')}${more} in ${o.namespace} match the selector`);
  }
  for (const key of d.nearMisses.keysOnNoPod) {
    out.push(`  missing key: no pod in the namespace has a "${key}" label`);
  }
  return out;
}

export function renderServiceDiagnosis(d: ServiceDiagnosis, opts: { wide: boolean }): string {
  const parts: string[] = [];
  if (d.service) {
    parts.push(header(d.service));
    if (d.service.type !== 'ExternalName') {
      parts.push(d.backends.length ? backendTable(d.backends, opts.wide) : c().red('No backends.'));
    }
    const misses = nearMisses(d);
    if (misses.length) parts.push([c().bold('Near misses:'), ...misses].join('\n'));
    if (d.notes.length) parts.push([c().bold('Notes:'), ...d.notes.map((n) => `  ${n}`)].join('\n'));
  }
  parts.push(renderFindings(d.findings).trimEnd());
  return `${parts.join('\n\n')}\n`;
}

// Human output of an IngressDiagnosis: the object and its controller (with the way in from
// outside), the routes as a table, the request's answer, notes and findings.
import type { IngressDiagnosis, IngressRoute } from '../analyses/ingress/types.js';
import { renderFindings } from './findings.js';
import { c } from './style.js';
import { renderTable } from './table.js';

function header(d: IngressDiagnosis): string[] {
  const k = c();
  const i = d.ingress;
  if (!i) return [];
  const lines: [string, string][] = [
    [i.kind, `${k.bold(`${i.namespace}/${i.name}`)}${i.class ? `  class ${i.class}` : '  (no class)'}`],
  ];
  const ctl = d.controller;
  if (ctl?.controller) {
    const ready = ctl.pods.filter((p) => p.ready).length;
    const pods = ctl.implementation
      ? `, ${ready}/${ctl.pods.length} pod${ctl.pods.length === 1 ? '' : 's'} ready`
      : '';
    lines.push([
      'Controller',
      `${ctl.controller}${ctl.implementation ? ` (${ctl.implementation}${pods})` : ''}`,
    ]);
  }
  if (i.addresses.length) lines.push(['Address', i.addresses.join(', ')]);
  for (const s of ctl?.services ?? []) {
    const ips = s.loadBalancerIPs.length ? s.loadBalancerIPs.join(', ') : s.clusterIPs.join(', ');
    const ports = s.nodePorts.length ? `, node ports ${s.nodePorts.join(', ')}` : '';
    const policy =
      s.type === 'ClusterIP'
        ? ''
        : `, externalTrafficPolicy ${s.externalTrafficPolicy} (${s.externalTrafficPolicy === 'Local' ? 'client IP kept' : 'client IP replaced by a node IP'})`;
    lines.push(['Entry', `svc/${s.namespace}/${s.name} ${s.type} ${ips}${ports}${policy}`]);
  }
  for (const g of i.gateways ?? []) {
    const state =
      g.accepted === true
        ? 'accepted'
        : g.accepted === false
          ? c().red('not accepted')
          : 'acceptance unknown';
    const listeners = g.listeners.length ? ` listeners ${g.listeners.join(', ')}` : '';
    lines.push([
      'Gateway',
      `gateway/${g.namespace}/${g.name}${g.sectionName ? `:${g.sectionName}` : ''} ${state}${listeners}`,
    ]);
    for (const cond of g.conditions) lines.push(['', c().dim(cond)]);
  }
  const width = Math.max(...lines.map(([l]) => l.length)) + 2;
  return lines.map(([l, v]) => `${l.padEnd(width)}${v}`);
}

function statusText(r: IngressRoute): string {
  const k = c();
  const base =
    r.status === 'ok' ? k.green('ok') : r.status === 'broken' ? k.red('broken') : k.yellow('unknown');
  return r.problems.length ? `${base} (${r.problems.join(', ')})` : base;
}

function backendText(r: IngressRoute): string {
  if (r.backend.resource) return r.backend.resource;
  if (!r.backend.service) return '<none>';
  const ns = r.backend.namespace;
  return `${r.source.includes('backendRefs') && ns ? `${ns}/` : ''}${r.backend.service}:${r.backend.port ?? '?'}`;
}

function routeTable(d: IngressDiagnosis, wide: boolean): string {
  const marker = d.request !== null;
  const head = [...(marker ? [''] : []), 'host', 'path', 'type', 'backend', 'endpoints', 'status'];
  if (wide) head.push('weight', 'tls', 'source');
  const rows = d.routes.map((r) => {
    const row: (string | number)[] = [
      ...(marker ? [r.selected ? '→' : ''] : []),
      r.host ?? '*',
      `${r.path ?? '(default)'}${r.conditions.length ? ` [${r.conditions.join(', ')}]` : ''}`,
      r.pathType,
      backendText(r),
      r.endpoints === null ? '-' : r.endpoints,
      statusText(r),
    ];
    if (wide) row.push(r.weight === null ? '-' : `${Math.round(r.weight * 100)}%`, r.tls ?? '-', r.source);
    return row;
  });
  return renderTable(head, rows);
}

export function renderIngressDiagnosis(d: IngressDiagnosis, options: { wide?: boolean } = {}): string {
  const out: string[] = [];
  const head = header(d);
  if (head.length) out.push(head.join('\n'), '');
  if (d.routes.length) out.push(routeTable(d, Boolean(options.wide)), '');
  if (d.request) {
    const target = d.request.routes.map((i) => {
      const r = d.routes[i];
      return `${backendText(r)}${r.weight !== null && r.weight < 1 ? ` (${Math.round(r.weight * 100)}%)` : ''}`;
    });
    out.push(
      `${c().bold('Request')}  ${d.request.host ?? '(any host)'}${d.request.path ?? ''} → ${target.length ? target.join(', ') : c().red('no backend')}`,
      `         ${c().dim(d.request.reason)}`,
      '',
    );
  }
  if (d.notes.length) {
    out.push(c().bold('Notes:'), ...d.notes.map((n) => `  - ${n}`), '');
  }
  out.push(renderFindings(d.findings).trimEnd());
  return `${out.join('\n')}\n`;
}

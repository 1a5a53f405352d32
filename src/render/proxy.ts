// kube-proxy's rules for people: per node, each service port's rules against the API's
// endpoints (ProxyRules), or one packet's way through a node's rules (PacketFlow).
import type { PacketFlow } from '../analyses/proxy/packet.js';
import type { ProxyRulesRows } from '../analyses/proxy/proxy-rules.js';
import { Deferred, document, Streamed } from './document.js';
import { renderFindings } from './findings.js';
import { c } from './style.js';
import { tableLines } from './table.js';

const pct = (p: number) => `${Math.round(p * 1000) / 10}%`;

/** One packet through a node: the outcome, the endpoints it may reach, the rules on its way. */
export function renderPacketFlow(flow: PacketFlow, entry: string): string {
  const lines: string[] = [];
  const p = flow.packet;
  lines.push(
    `${c().bold('Packet')} ${p.source} → ${p.destination}:${p.port}/${p.protocol} entering ${flow.node} (${entry}), ${flow.dataplane}`,
  );
  const color =
    flow.outcome === 'drop' || flow.outcome === 'reject'
      ? c().red
      : flow.outcome === 'dnat'
        ? c().green
        : c().yellow;
  lines.push(
    `${c().bold('Outcome')} ${color(flow.outcome.toUpperCase())}${flow.service ? ` — service ${flow.service}` : ''}`,
  );
  for (const e of flow.endpoints) {
    lines.push(`  → ${e.ip}:${e.port}  ${pct(e.probability)}${e.masquerade ? '  (masqueraded)' : ''}`);
  }
  lines.push(`${c().bold('Masquerade')} ${flow.masquerade ? 'yes' : 'no'}`);
  if (flow.sessionAffinity)
    lines.push(
      `${c().bold('Session affinity')} ClientIP, ${flow.sessionAffinity.timeoutSeconds}s (one endpoint per client)`,
    );
  if (flow.decidingRule)
    lines.push(
      `${c().bold('Decided by')} ${flow.decidedBy === 'kube-proxy' ? "kube-proxy's rule" : "a rule that is not kube-proxy's"}: ${flow.decidingRule}`,
    );
  if (flow.unknown) lines.push(`${c().yellow('Unknown:')} ${flow.unknown}`);
  for (const n of flow.notes ?? []) lines.push(`${c().dim('note:')} ${n}`);
  if (flow.evidence.length) {
    lines.push(c().bold('Rules on the path:'));
    for (const e of flow.evidence) lines.push(`  ${e}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The ProxyRules document, its rows written as they are made (jsonPieces). */
export function proxyRulesDocument(report: ProxyRulesRows): object {
  const nodes = function* () {
    for (const n of report.nodes)
      yield {
        node: n.node,
        dataplane: n.dataplane,
        modeReason: n.modeReason,
        services: new Streamed(n.services),
        staleChains: new Deferred(n.staleChains),
      };
  };
  return document('ProxyRules', { nodes: new Streamed(nodes()), findings: new Deferred(report.findings) });
}

/**
 * Per node, a table of service ports (rules → endpoints against the API's), then the findings:
 * the text in pieces of whole lines, each node's table written as it is laid out.
 */
export function* renderProxyRules(report: ProxyRulesRows, wide: boolean): Generator<string> {
  for (const r of report.nodes) {
    yield `${c().bold(`Node ${r.node}`)}  dataplane ${r.dataplane ?? 'unknown'}${r.modeReason ? c().dim(` (${r.modeReason})`) : ''}\n`;
    const head = [
      'service port',
      'proto',
      'cluster ip',
      'nodeport',
      'external',
      'rules → endpoints',
      'api endpoints',
      'status',
    ];
    if (wide) head.push('chain', 'policy');
    // Each row becomes its cells as it is made: the rows (and their evidence) are not kept.
    const rows = Array.from(r.services, (s) => {
      const row: string[] = [
        s.servicePort,
        `${s.port}/${s.protocol}`,
        s.clusterIP,
        s.nodePort ? String(s.nodePort) : '-',
        [...s.externalIPs, ...s.loadBalancerIPs].join(',') || '-',
        s.rulesOutcome === 'dnat'
          ? s.rulesEndpoints.map((e) => `${e.ip}:${e.port} ${pct(e.probability)}`).join('\n')
          : s.rulesOutcome.toUpperCase(),
        s.apiEndpoints
          .map((e) => `${e.ip}:${e.port}${e.ready ? '' : e.serving ? ' (terminating)' : ' (not ready)'}`)
          .join('\n') || '-',
        s.status === 'ok'
          ? c().green('ok')
          : s.status === 'unknown'
            ? c().yellow(s.status)
            : c().red(s.status),
      ];
      if (wide) row.push(s.chain ?? '-', `eTP=${s.externalTrafficPolicy} iTP=${s.internalTrafficPolicy}`);
      return row;
    });
    if (rows.length) for (const line of tableLines(head, rows, { multiLine: true })) yield `${line}\n`;
    else yield `${c().dim('  (no service ports)')}\n`;
    const stale = r.staleChains();
    if (stale.length) yield `${c().yellow('Chains of no API service:')} ${stale.join(', ')}\n`;
    yield '\n';
  }
  yield renderFindings(report.findings());
}

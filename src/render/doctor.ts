import type { DoctorReport } from '../analyses/doctor.js';
import { escapeTerminal } from './escape.js';
import { c, severityColor } from './style.js';
import { renderTable } from './table.js';

/** Findings grouped by code (most severe first), then the checks and a one-line summary. */
export function renderDoctor(report: DoctorReport, opts: { wide: boolean }): string {
  const k = c();
  const out: string[] = [];
  const groups = new Map<string, DoctorReport['findings']>();
  for (const f of report.findings) {
    const list = groups.get(f.code);
    if (list) list.push(f);
    else groups.set(f.code, [f]);
  }
  const limit = opts.wide ? Number.POSITIVE_INFINITY : 10;
  for (const [code, list] of groups) {
    out.push(
      `${severityColor(list[0].severity, list[0].severity.toUpperCase())} ${k.bold(code)} (${list.length})  ${k.dim(escapeTerminal(list[0].hint))}`,
    );
    for (const f of list.slice(0, limit)) {
      out.push(`  - ${escapeTerminal(f.message)}`);
      // -o wide: the objects involved and the evidence of each finding.
      if (opts.wide && f.objects.length)
        out.push(k.dim(`      objects: ${escapeTerminal(f.objects.join(', '))}`));
      if (opts.wide)
        for (const e of f.evidence ?? []) out.push(k.dim(`      evidence: ${escapeTerminal(e)}`));
    }
    if (list.length > limit) out.push(k.dim(`  … and ${list.length - limit} more (-o wide lists all)`));
    out.push('');
  }
  out.push(
    renderTable(
      ['check', 'scope', 'findings'],
      report.checks.map((ch) => [ch.name, ch.scope, ch.findings]),
    ),
  );
  out.push('');
  const s = report.summary;
  const line = `${s.errors} errors, ${s.warnings} warnings, ${s.infos} infos`;
  out.push(s.errors ? k.red(line) : s.warnings ? k.yellow(line) : k.green(line));
  return `${out.join('\n')}\n`;
}

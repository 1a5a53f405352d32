import type { DoctorReport } from '../analyses/doctor.js';
import { escapeTerminal } from './escape.js';
import { consequencesOf, fixLines, foldConsequences, plural, rootFindings, wrapLine } from './findings.js';
import { c, severityColor } from './style.js';
import { renderTable } from './table.js';

/**
 * The root causes grouped by code (most severe first), each with its fix and its consequences
 * folded under it; then the checks and a one-line summary.
 */
export function renderDoctor(report: DoctorReport, opts: { wide: boolean }): string {
  const k = c();
  const out: string[] = [];
  const groups = new Map<string, DoctorReport['findings']>();
  const roots = rootFindings(report.findings);
  for (const f of roots) {
    const list = groups.get(f.code);
    if (list) list.push(f);
    else groups.set(f.code, [f]);
  }
  const limit = opts.wide ? Number.POSITIVE_INFINITY : 10;
  for (const [code, list] of groups) {
    out.push(
      wrapLine(
        `${severityColor(list[0].severity, list[0].severity.toUpperCase())} ${k.bold(code)} (${list.length})  ${k.dim(escapeTerminal(list[0].hint))}`,
        2,
      ),
    );
    for (const f of list.slice(0, limit)) {
      out.push(wrapLine(`  - ${escapeTerminal(f.message)}`, 4));
      // -o wide: the objects involved and the evidence of each finding.
      if (opts.wide && f.objects.length)
        out.push(k.dim(`      objects: ${escapeTerminal(f.objects.join(', '))}`));
      if (opts.wide)
        for (const e of f.evidence ?? []) out.push(k.dim(`      evidence: ${escapeTerminal(e)}`));
      if (f.fix) out.push(...fixLines(f, '    '));
      for (const cons of foldConsequences(consequencesOf(f, report.findings)))
        out.push(wrapLine(`    → ${k.bold(cons.code)}  ${escapeTerminal(cons.message)}`, 6));
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
  const rootErrors = roots.filter((f) => f.severity === 'error').length;
  const causes =
    rootErrors && rootErrors !== s.errors ? ` (${plural(rootErrors, 'root cause')} shown first)` : '';
  const line = `${plural(s.errors, 'error')}${causes}, ${plural(s.warnings, 'warning')}, ${plural(s.infos, 'info')}`;
  out.push(s.errors ? k.red(line) : s.warnings ? k.yellow(line) : k.green(line));
  return `${out.join('\n')}\n`;
}

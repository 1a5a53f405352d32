// knet diff, for people: the trace verdicts side by side with the first differing hop, then
// what broke, what was fixed and the rest, each with the changes that explain it.

import { pathLabel } from '../analyses/diff/trace.js';
import type { ChangeClass, ConnectivityChange, Diff } from '../analyses/diff/types.js';
import type { Hop, TracePath } from '../analyses/trace/types.js';
import { escapeTerminal } from './escape.js';
import { c } from './style.js';

const TITLES: Record<ChangeClass, string> = { broke: 'Broke', fixed: 'Fixed', changed: 'Changed' };

function hopText(h: Hop | undefined, width: number): string {
  if (!h) return ''.padEnd(width);
  const mark = h.status === 'ok' ? '✓' : h.status === 'broken' ? '✗' : '?';
  const text = `${mark} ${h.kind.padEnd(9)} ${h.node ? `${h.node} ` : ''}${h.detail}`;
  return (text.length > width ? `${text.slice(0, width - 1)}…` : text).padEnd(width);
}

function sideBySide(diff: Diff, wide: boolean): string[] {
  const t = diff.trace!;
  const hop = t.firstDifferingHop;
  const o = t.old.trace;
  const n = t.new.trace;
  if (!o || !n || !hop) return [];
  const find = (paths: TracePath[], label: string | null) =>
    paths.find((p) => pathLabel(p) === label) ?? paths[0];
  const op = hop.old || hop.oldPath !== null ? find(o.paths, hop.oldPath) : undefined;
  const np = hop.new || hop.newPath !== null ? find(n.paths, hop.newPath) : undefined;
  const width = wide ? 80 : 56;
  const out = [`  ${'OLD'.padEnd(width)}   NEW`];
  out.push(`  ${`→ ${hop.oldPath ?? '(no backend)'}`.padEnd(width)}   → ${hop.newPath ?? '(no backend)'}`);
  const rows = Math.max(op?.hops.length ?? 0, np?.hops.length ?? 0);
  for (let i = 0; i < rows; i++) {
    const marker = i === hop.index ? c().red('▶') : ' ';
    const line = `${marker} ${hopText(op?.hops[i], width)} ${i === hop.index ? '≠' : '│'} ${hopText(np?.hops[i], width).trimEnd()}`;
    out.push(i === hop.index ? c().bold(line) : line);
  }
  const full = (h: Hop | null) =>
    h
      ? `${h.kind}${h.node ? ` ${h.node}` : ''}: ${h.detail}${h.findings?.length ? `  ${h.findings.join(', ')}` : ''}`
      : '(no such hop)';
  out.push(
    '',
    `  hop #${hop.index + 1} was: ${full(hop.old)}`,
    `  hop #${hop.index + 1} now: ${full(hop.new)}`,
  );
  return out;
}

function changeLines(ch: ConnectivityChange): string[] {
  const k = c();
  const mark = ch.class === 'broke' ? k.red('✗') : ch.class === 'fixed' ? k.green('✓') : k.yellow('~');
  const out = [
    `  ${mark} ${k.dim(ch.kind.padEnd(16))} ${escapeTerminal(ch.subject)}  ${escapeTerminal(ch.text)}`,
  ];
  if (ch.old !== undefined) out.push(`      was: ${escapeTerminal(ch.old)}`);
  if (ch.new !== undefined) out.push(`      now: ${escapeTerminal(ch.new)}`);
  for (const cause of ch.causes.slice(0, 8)) out.push(`      ${k.cyan('because')} ${escapeTerminal(cause)}`);
  if (ch.causes.length > 8) out.push(`      … and ${ch.causes.length - 8} more changes`);
  return out;
}

export function renderDiff(diff: Diff, opts: { wide?: boolean } = {}): string {
  const k = c();
  const out: string[] = [];
  out.push(
    `${k.bold('Diff')} ${escapeTerminal(diff.old.origin)} → ${escapeTerminal(diff.new.origin)}${diff.namespace ? ` (namespace ${diff.namespace})` : ''}`,
  );
  const t = diff.trace;
  if (t) {
    const v = (s: typeof t.old) => (s.trace ? s.trace.verdict.toUpperCase() : `NOT FOUND (${s.error ?? ''})`);
    out.push(
      `${k.bold('Verdict:')} ${v(t.old)} → ${v(t.new)}${t.change === 'same' ? '  (no change)' : `  ${t.change === 'broke' ? k.red('BROKE') : t.change === 'fixed' ? k.green('FIXED') : k.yellow('CHANGED')}`}`,
    );
    const hop = t.firstDifferingHop;
    if (hop)
      out.push(
        `${k.bold('First differing hop:')} #${hop.index + 1} ${hop.kind}${hop.node ? ` on ${hop.node}` : ''}`,
      );
    if (hop) {
      out.push('');
      out.push(...sideBySide(diff, Boolean(opts.wide)));
    }
    if (t.change !== 'same') {
      out.push('');
      out.push(k.bold('Because'));
      if (t.causes.length === 0) out.push('  (no object or node-file change on the path explains it)');
      for (const cause of t.causes) out.push(`  • ${escapeTerminal(cause)}`);
    }
  } else {
    const { broke, fixed, changed } = diff.summary;
    out.push(`${k.bold('Summary:')} ${broke} broke, ${fixed} fixed, ${changed} other changes`);
    if (diff.changes.length === 0) out.push('', 'No connectivity change.');
    for (const cls of ['broke', 'fixed', 'changed'] as const) {
      const list = diff.changes.filter((ch) => ch.class === cls);
      if (!list.length) continue;
      out.push('', k.bold(`${TITLES[cls]} (${list.length})`));
      const shown = opts.wide ? list : list.slice(0, 40);
      for (const ch of shown) out.push(...changeLines(ch));
      if (shown.length < list.length)
        out.push(`  … and ${list.length - shown.length} more (-o wide or -o json lists them all)`);
    }
  }
  if (diff.objects) {
    out.push('', k.bold(`Objects (${diff.objects.length})`));
    for (const o of diff.objects) out.push(`  ${escapeTerminal(o.summary)}`);
    out.push('', k.bold(`Node files (${diff.nodeFiles?.length ?? 0})`));
    for (const f of diff.nodeFiles ?? []) out.push(`  ${escapeTerminal(f.summary)}`);
  }
  for (const n of diff.notes) out.push('', `${k.dim('note:')} ${escapeTerminal(n)}`);
  return `${out.join('\n')}\n`;
}

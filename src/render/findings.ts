import type { Finding } from '../findings/types.js';
import { escapeTerminal } from './escape.js';
import { c, severityColor } from './style.js';

/** Findings as a readable list: severity, code, message, then the hint and evidence indented. */
export function renderFindings(findings: readonly Finding[], title = 'Findings'): string {
  if (findings.length === 0) return `${c().green('No problems found.')}\n`;
  const lines = [c().bold(`${title}:`)];
  for (const f of findings) {
    lines.push(
      `  ${severityColor(f.severity, f.severity.toUpperCase().padEnd(7))} ${c().bold(f.code)}  ${escapeTerminal(f.message)}`,
    );
    for (const e of f.evidence ?? []) lines.push(`           ${c().dim('evidence:')} ${escapeTerminal(e)}`);
    lines.push(`           ${c().dim('hint:')} ${escapeTerminal(f.hint)}`);
  }
  return `${lines.join('\n')}\n`;
}

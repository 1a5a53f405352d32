import type { Finding } from '../findings/types.js';
import { escapeTerminal } from './escape.js';
import { c, severityColor, terminalColumns } from './style.js';

/** n and the noun, singular or plural ("1 error", "2 errors", "1 ingress", "3 ingresses"). */
export function plural(n: number, noun: string): string {
  if (n === 1) return `${n} ${noun}`;
  return `${n} ${/(s|x|sh|ch)$/.test(noun) ? `${noun}es` : `${noun}s`}`;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the escape that starts a colour
const ANSI = /\u001b\[[0-9;]*m/g;
/** The columns a line takes on a terminal: its colour codes take none. */
const columns = (s: string) => s.replace(ANSI, '').length;

/**
 * A line wrapped at the terminal's width (none when stdout is not a terminal: one line per
 * finding), continuation lines indented by `indent` spaces; its own indentation is kept.
 */
export function wrapLine(text: string, indent: number, width = terminalColumns()): string {
  if (!width || columns(text) <= width) return text;
  const lead = /^ */.exec(text)![0];
  const room = Math.max(20, width - indent);
  const out: string[] = [];
  let line = lead;
  let fresh = true;
  for (const word of text.slice(lead.length).split(' ')) {
    const limit = out.length === 0 ? width : room;
    if (!fresh && columns(line) + 1 + columns(word) > limit) {
      out.push(line);
      line = word;
      fresh = word === '';
      continue;
    }
    line = fresh ? line + word : `${line} ${word}`;
    fresh = false;
  }
  out.push(line);
  return out.join(`\n${' '.repeat(indent)}`);
}

/** Root findings first: those without causedBy, or whose causes are not in this list. */
export function rootFindings(findings: readonly Finding[]): Finding[] {
  const ids = new Set(findings.map((f) => f.id).filter(Boolean));
  return findings.filter((f) => !f.causedBy?.some((id) => ids.has(id)));
}

/** Every finding that follows from `root`, transitively, in list order. */
export function consequencesOf(root: Finding, findings: readonly Finding[]): Finding[] {
  if (!root.id) return [];
  let children = CHILDREN.get(findings);
  if (!children) {
    children = new Map<string, Finding[]>();
    for (const f of findings)
      for (const id of f.causedBy ?? []) {
        const l = children.get(id);
        if (l) l.push(f);
        else children.set(id, [f]);
      }
    CHILDREN.set(findings, children);
  }
  // Breadth first: the nearest consequence first, then what follows from it.
  const reached = new Set<string>([root.id]);
  const out: Finding[] = [];
  let frontier = [root.id];
  while (frontier.length) {
    const next: string[] = [];
    for (const id of frontier)
      for (const f of children.get(id) ?? []) {
        if (!f.id || reached.has(f.id)) continue;
        reached.add(f.id);
        next.push(f.id);
        out.push(f);
      }
    frontier = next;
  }
  return out;
}
const CHILDREN = new WeakMap<readonly Finding[], Map<string, Finding[]>>();

const nodeOf = (f: Finding) => f.objects.find((o) => o.startsWith('node/'))?.slice(5);

/**
 * Consequences folded into lines: the same code and message on several nodes is one line
 * ("kube-proxy on 3 nodes rejects …").
 */
export function foldConsequences(list: readonly Finding[]): { code: string; message: string }[] {
  const groups = new Map<string, { code: string; template: string; nodes: string[]; message: string }>();
  for (const f of list) {
    const node = nodeOf(f);
    const template = node
      ? f.message.replaceAll(`node ${node}`, '\u0000').replaceAll(node, '\u0000')
      : f.message;
    const key = `${f.code}\u0001${template}`;
    const g = groups.get(key);
    if (g) g.nodes.push(node!);
    else groups.set(key, { code: f.code, template, nodes: node ? [node] : [], message: f.message });
  }
  return [...groups.values()].map((g) => ({
    code: g.code,
    message: g.nodes.length > 1 ? g.template.replaceAll('\u0000', plural(g.nodes.length, 'node')) : g.message,
  }));
}

export interface FindingsRenderOptions {
  /** Evidence lines already printed above (a trace's hops): not repeated. */
  shown?: Set<string>;
}

/**
 * Findings as a readable list, root causes first: severity, code, message, then evidence, the
 * fix (or the hint) and the consequences folded under their cause.
 */
export function renderFindings(
  findings: readonly Finding[],
  title = 'Findings',
  opts: FindingsRenderOptions = {},
): string {
  if (findings.length === 0) return `${c().green('No problems found.')}\n`;
  const k = c();
  const shown = opts.shown ?? new Set<string>();
  const lines = [k.bold(`${title}:`)];
  const pad = ' '.repeat(11);
  const roots = rootFindings(findings);
  const also = repeatsOf(roots, shown);
  const printedFixes = new Set<string>();
  for (const f of roots) {
    if (also.repeated.has(f)) continue;
    lines.push(
      wrapLine(
        `  ${severityColor(f.severity, f.severity.toUpperCase().padEnd(7))} ${k.bold(f.code)}  ${escapeTerminal(f.message)}`,
        pad.length,
      ),
    );
    for (const e of f.evidence ?? []) {
      if (shown.has(e)) continue;
      shown.add(e);
      lines.push(`${pad}${k.dim('evidence:')} ${escapeTerminal(e)}`);
    }
    const key = fixKey(f);
    if (key && printedFixes.has(key)) lines.push(`${pad}${k.dim('fix:')} the same as above`);
    else lines.push(...fixLines(f, pad));
    if (key) printedFixes.add(key);
    const same = also.of.get(f) ?? [];
    const others = [...new Set(same.flatMap((r) => r.objects.filter((o) => !f.objects.includes(o))))];
    if (others.length)
      lines.push(
        wrapLine(
          `${pad}also for ${escapeTerminal(others.join(', '))}: the same finding and fix`,
          pad.length + 9,
        ),
      );
    const consequences = [f, ...same].flatMap((x) => consequencesOf(x, findings));
    for (const cons of foldConsequences(consequences))
      lines.push(wrapLine(`${pad}→ ${k.bold(cons.code)}  ${escapeTerminal(cons.message)}`, pad.length + 2));
  }
  return `${lines.join('\n')}\n`;
}

const fixKey = (f: Finding) =>
  f.fix ? `${f.fix.patch ?? ''}${(f.fix.commands ?? []).join('\n')}` || f.fix.summary : '';

/**
 * Say it once: a root with the code and fix of an earlier one, about other objects, and whose
 * evidence the earlier one (or the text above) already shows, is named under the earlier one.
 */
function repeatsOf(
  roots: readonly Finding[],
  shown: ReadonlySet<string>,
): { of: Map<Finding, Finding[]>; repeated: Set<Finding> } {
  const first = new Map<string, Finding>();
  const of = new Map<Finding, Finding[]>();
  const repeated = new Set<Finding>();
  for (const f of roots) {
    const key = fixKey(f);
    if (!key) continue;
    const group = `${f.code}\u0000${key}`;
    const earlier = first.get(group);
    if (!earlier) {
      first.set(group, f);
      continue;
    }
    const told = (f.evidence ?? []).every((e) => shown.has(e) || earlier.evidence?.includes(e));
    if (!told || f.objects.every((o) => earlier.objects.includes(o))) continue;
    repeated.add(f);
    const list = of.get(earlier);
    if (list) list.push(f);
    else of.set(earlier, [f]);
  }
  return { of, repeated };
}

/** The fix of a finding (summary, then the patch or commands), or its hint. */
export function fixLines(f: Finding, pad: string): string[] {
  const k = c();
  if (!f.fix) return [wrapLine(`${pad}${k.dim('hint:')} ${escapeTerminal(f.hint)}`, pad.length + 6)];
  const out = [wrapLine(`${pad}${k.dim('fix:')} ${escapeTerminal(f.fix.summary)}`, pad.length + 5)];
  for (const cmd of [...(f.fix.patch ? [f.fix.patch] : []), ...(f.fix.commands ?? [])])
    for (const line of cmd.split('\n')) out.push(`${pad}     ${escapeTerminal(line)}`);
  return out;
}

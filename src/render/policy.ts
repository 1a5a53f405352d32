// Human output of knet policy: the verdict with both halves, the one-pod view, and the matrix
// with its legend. Every allowed half names its rule, every denied half its policies, in the
// table itself. (Pure string builders; they belong with src/render/ and can move there as is.)

import { ruleLabel } from '../analyses/policy/describe.js';
import type {
  DirectionVerdict,
  EndpointSummary,
  PolicyVerdict,
  Verdict,
} from '../analyses/policy/evaluate.js';
import type { MatrixCell, MatrixExplanation, PolicyMatrix } from '../analyses/policy/matrix.js';
import type { PolicyAnswer } from '../analyses/policy/request.js';
import type { PolicySelection } from '../analyses/policy/select.js';
import { document } from './document.js';
import { escapeTerminal } from './escape.js';
import { renderFindings } from './findings.js';
import { c } from './style.js';
import { renderTable } from './table.js';

const word = (v: Verdict): string =>
  v === 'allowed' ? c().green('allowed') : v === 'denied' ? c().red('denied') : c().yellow('unknown');

const endpointText = (e: EndpointSummary): string => {
  const ip = e.ip ? ` (${e.ip})` : '';
  if (e.kind === 'Pod')
    return escapeTerminal(`${e.hostNetwork ? 'hostNetwork pod' : 'pod'} ${e.namespace}/${e.name}${ip}`);
  if (e.kind === 'Node') return escapeTerminal(`node ${e.name}${ip}`);
  return `${e.ip}`;
};

/** What decided one half, short enough for a table cell. */
export function decidedBy(half: DirectionVerdict): string {
  if (!half.applies) return 'not a pod: not policed';
  if (!half.isolated) return 'not isolated';
  if (half.verdict === 'allowed') {
    if (half.allowedBy.length === 0) return 'always allowed (see below)';
    const [first, ...rest] = half.allowedBy;
    return `${ruleLabel(first.policy, first.direction, first.rule)}${rest.length ? ` (+${rest.length})` : ''}`;
  }
  if (half.verdict === 'denied') return `no rule of ${half.policies.join(', ')}`;
  return 'undecided (see below)';
}

export function renderVerdict(v: PolicyVerdict, opts: { wide?: boolean } = {}): string {
  const k = c();
  const head =
    v.verdict === 'allowed'
      ? k.green('✓ ALLOWED')
      : v.verdict === 'denied'
        ? k.red('✗ DENIED')
        : k.yellow('? UNKNOWN');
  const lines = [
    `${k.bold('Connection')}  ${endpointText(v.source)} → ${endpointText(v.destination)} on ${v.protocol}/${v.port}`,
    `${k.bold('Verdict')}     ${head}`,
    '',
  ];
  const halves: [string, DirectionVerdict][] = [
    ['egress', v.egress],
    ['ingress', v.ingress],
  ];
  lines.push(
    renderTable(
      ['half', 'pod', 'isolated by', 'verdict', 'decided by'],
      halves.map(([name, h]) => [
        name,
        h.pod ?? '-',
        h.policies.length ? h.policies.join(', ') : '-',
        word(h.verdict),
        decidedBy(h),
      ]),
    ),
    '',
  );
  for (const [name, h] of halves) {
    lines.push(`${k.bold(`${name}:`)} ${h.reason}`);
    if (opts.wide) {
      for (const r of h.allowedBy) {
        lines.push(
          `  ${k.dim('rule')} ${ruleLabel(r.policy, r.direction, r.rule)}: ${r.description}`,
          `    ${k.dim('matched:')} ${r.match}`,
        );
      }
    }
    // A denied half's evidence is printed with its finding below.
    if (h.verdict !== 'denied') for (const e of h.evidence) lines.push(`  ${k.dim('evidence:')} ${e}`);
  }
  if (v.notes.length) {
    lines.push('', k.bold('Notes:'));
    for (const n of v.notes) lines.push(`  - ${n}`);
  }
  if (v.findings.length) lines.push('', renderFindings(v.findings).trimEnd());
  return `${lines.join('\n')}\n`;
}

export function renderSelection(s: PolicySelection): string {
  const k = c();
  const labels =
    Object.entries(s.pod.labels)
      .map(([a, b]) => `${a}=${b}`)
      .join(',') || '<none>';
  const lines = [
    `${k.bold('Pod')} ${s.pod.namespace}/${s.pod.name}${s.pod.ip ? ` (${s.pod.ip})` : ''}${s.pod.hostNetwork ? ' hostNetwork' : ''}  ${k.dim('labels:')} ${labels}`,
  ];
  for (const [name, d] of [
    ['INGRESS', s.ingress],
    ['EGRESS', s.egress],
  ] as const) {
    lines.push('', `${k.bold(name)}  ${d.isolated ? k.yellow('isolated') : k.green('not isolated')}`);
    if (d.policies.length) {
      const rows: string[][] = [];
      for (const p of d.policies) {
        if (p.rules.length === 0)
          rows.push([p.policy, p.podSelector, '-', 'allows nothing (isolation only)']);
        for (const r of p.rules)
          rows.push([p.policy, p.podSelector, String(r.rule), `allows ${r.description}`]);
      }
      lines.push(renderTable(['policy', 'pod selector', 'rule', 'what it allows'], rows));
    }
    lines.push(d.summary);
  }
  if (s.notes.length) {
    lines.push('', k.bold('Notes:'));
    for (const n of s.notes) lines.push(`  - ${n}`);
  }
  if (s.findings.length) lines.push('', renderFindings(s.findings).trimEnd());
  return `${lines.join('\n')}\n`;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour sequences
const visible = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '').length;

/** The matrix grid: pod names as they are (the shared table helper upper-cases headers). */
function grid(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i]))));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat(widths[i] - visible(cell))))
      .join('  ');
  return [line(head.map((h) => c().bold(h))), ...rows.map(line)].join('\n');
}

/** A short name of an explanation, for the wide (one line per cell) form. */
export function explanationLabel(e: MatrixExplanation | undefined): string {
  if (!e) return 'not isolated';
  if (e.verdict === 'allowed' && e.policy !== undefined && e.rule !== undefined)
    return ruleLabel(e.policy, e.direction, e.rule);
  if (e.verdict === 'denied') return `denied (${e.policies.join(', ')})`;
  if (e.verdict === 'allowed') return 'always allowed';
  return 'unknown';
}

function aggregate(cells: MatrixCell[]): { symbol: string; keys: number[] } {
  const k = c();
  const keys = [
    ...new Set(cells.flatMap((x) => [x.egress, x.ingress]).filter((x): x is number => x !== null)),
  ].sort((a, b) => a - b);
  const allowed = cells.filter((x) => x.verdict === 'allowed').length;
  const denied = cells.filter((x) => x.verdict === 'denied').length;
  let symbol: string;
  if (allowed === cells.length) symbol = k.green('✓');
  else if (denied === cells.length) symbol = k.red('✗');
  else if (allowed > 0) symbol = k.yellow('◐');
  else symbol = k.yellow('?');
  return { symbol, keys };
}

export function renderMatrix(m: PolicyMatrix, opts: { wide?: boolean } = {}): string {
  const k = c();
  const what = m.port === null ? 'every declared container port' : `${m.protocol}/${m.port}`;
  const lines = [
    `${k.bold('Namespace')} ${m.namespace}: ${m.pods.length} pods, ${what} (rows: from, columns: to)`,
    '',
  ];
  if (m.pods.length === 0) return `${lines[0]}\nNo pods.\n`;
  const byId = new Map(m.explanations.map((e) => [e.id, e]));
  if (opts.wide) {
    lines.push(
      renderTable(
        ['from', 'to', 'port', 'verdict', 'egress decided by', 'ingress decided by'],
        m.cells.map((x) => [
          x.from,
          x.to,
          x.port === null ? '-' : `${x.protocol}/${x.port}`,
          word(x.verdict),
          x.egress === null ? 'not isolated' : explanationLabel(byId.get(x.egress)),
          x.ingress === null ? 'not isolated' : explanationLabel(byId.get(x.ingress)),
        ]),
      ),
    );
  } else {
    const short = (name: string) => name.slice(m.namespace.length + 1);
    const pairs = new Map<string, MatrixCell[]>();
    for (const x of m.cells) {
      const key = `${x.from}>${x.to}`;
      const list = pairs.get(key) ?? [];
      list.push(x);
      pairs.set(key, list);
    }
    const rows = m.pods.map((from) => [
      short(from),
      ...m.pods.map((to) => {
        const { symbol, keys } = aggregate(pairs.get(`${from}>${to}`) ?? []);
        return keys.length ? `${symbol}${keys.join(',')}` : symbol;
      }),
    ]);
    lines.push(grid(['from \\ to', ...m.pods.map(short)], rows));
  }
  lines.push(
    '',
    k.bold('Legend:'),
    `  ✓ allowed  ✗ denied  ◐ some ports allowed  ? unknown; a number names what decided a half:`,
  );
  for (const e of m.explanations)
    lines.push(`  ${String(e.id).padStart(3)}  ${e.direction.padEnd(7)} ${e.text}`);
  if (m.explanations.length === 0)
    lines.push('  (no policy isolates any of these pods: everything is allowed)');
  if (m.notes.length) {
    lines.push('', k.bold('Notes:'));
    for (const n of m.notes) lines.push(`  - ${n}`);
  }
  if (m.findings.length) lines.push('', renderFindings(m.findings).trimEnd());
  return `${lines.join('\n')}\n`;
}

/** The document of a `knet policy` answer and its human form. */
export function policyOutput(
  a: PolicyAnswer,
  opts: { wide?: boolean } = {},
): { doc: object; human: () => string } {
  switch (a.kind) {
    case 'PolicyMatrix':
      return { doc: document(a.kind, a.matrix), human: () => renderMatrix(a.matrix, opts) };
    case 'PolicySelection':
      return { doc: document(a.kind, a.selection), human: () => renderSelection(a.selection) };
    case 'PolicyVerdict':
      return { doc: document(a.kind, a.verdict), human: () => renderVerdict(a.verdict, opts) };
  }
}

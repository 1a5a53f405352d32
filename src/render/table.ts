import { escapeCell, escapeTerminalText } from './escape.js';
import { c, terminalColumns } from './style.js';

// A borderless kubectl-like table. It lays cells out exactly as cli-table3 did with these
// options (no borders, no padding, two spaces between columns, widths by display width,
// multi-line cells, colours carried across a cell's lines), in linear time: cli-table3's
// layout is quadratic in the number of rows (15,000 pods took 50 s, 150,000 would take hours).

/** SGR colour codes, as cli-table3 recognises them. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences are what it matches
const SGR = /\u001b\[(?:\d*;){0,5}\d*m/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences are what it matches
const SGR_CAPTURE = /\u001b\[((?:\d*;){0,5}\d*)m/g;
/** Any ANSI escape (ansi-regex 5), stripped before measuring. */
const ANSI =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences are what it matches
  /[\u001B\u009B][[\]()#;?]*(?:(?:(?:(?:;[-a-zA-Z\d/#&.:=?%@~_]+)*|[a-zA-Z\d]+(?:;[-a-zA-Z\d/#&.:=?%@~_]*)*)?\u0007)|(?:(?:\d{1,4}(?:;\d{0,4})*)?[\dA-PR-TZcf-ntqry=><~]))/g;
/** Emoji shown two columns wide (emoji presentation, or a pictograph with VS16), and flags. */
const EMOJI =
  /(?:\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F)[\u{1F3FB}-\u{1F3FF}]?(?:\u200D(?:\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F?)[\u{1F3FB}-\u{1F3FF}]?)*|\p{Regional_Indicator}{2}/gu;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** East Asian Wide and Fullwidth code points (is-fullwidth-code-point 3). */
function isFullwidth(cp: number): boolean {
  return (
    cp >= 0x1100 &&
    (cp <= 0x115f ||
      cp === 0x2329 ||
      cp === 0x232a ||
      (cp >= 0x2e80 && cp <= 0x3247 && cp !== 0x303f) ||
      (cp >= 0x3250 && cp <= 0x4dbf) ||
      (cp >= 0x4e00 && cp <= 0xa4c6) ||
      (cp >= 0xa960 && cp <= 0xa97c) ||
      (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe10 && cp <= 0xfe19) ||
      (cp >= 0xfe30 && cp <= 0xfe6b) ||
      (cp >= 0xff01 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6) ||
      (cp >= 0x1b000 && cp <= 0x1b001) ||
      (cp >= 0x1f200 && cp <= 0x1f251) ||
      (cp >= 0x20000 && cp <= 0x3fffd))
  );
}

/**
 * The line without its trailing spaces and tabs, in linear time: `/[ \t]+$/` backtracks over
 * every run of padding, quadratic on a row that a 300,000-character cell pads.
 */
function trimSpacesEnd(text: string): string {
  let end = text.length;
  while (end > 0 && (text.charCodeAt(end - 1) === 32 || text.charCodeAt(end - 1) === 9)) end--;
  return end === text.length ? text : text.slice(0, end);
}

/** Terminal columns of one line of text (string-width 4, without colour codes). */
export function displayWidth(line: string): number {
  if (PRINTABLE_ASCII.test(line)) return line.length;
  const text = line.replace(SGR, '').replace(ANSI, '').replace(EMOJI, '  ');
  let width = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f)) continue;
    if (cp >= 0x300 && cp <= 0x36f) continue;
    width += isFullwidth(cp) ? 2 : 1;
  }
  return width;
}

// Colour state across the lines of a multi-line cell (cli-table3's colorizeLines): each line
// closes what is open at its end and the next line re-opens it.
type ColourState = Record<string, boolean | string | undefined>;
const STYLE_CODES: Record<string, { set: string; to: boolean }> = {};
const STYLE_ON: Record<string, string> = {};
const STYLE_OFF: Record<string, string> = {};
for (const [name, on, off] of [
  ['bold', 1, 22],
  ['italics', 3, 23],
  ['underline', 4, 24],
  ['inverse', 7, 27],
  ['strikethrough', 9, 29],
] as const) {
  STYLE_CODES[`\u001b[${on}m`] = { set: name, to: true };
  STYLE_CODES[`\u001b[${off}m`] = { set: name, to: false };
  STYLE_ON[name] = `\u001b[${on}m`;
  STYLE_OFF[name] = `\u001b[${off}m`;
}

function readState(line: string): ColourState {
  const state: ColourState = {};
  for (const m of line.matchAll(SGR_CAPTURE)) {
    const code = m[1] ? Number.parseInt(m[1].split(';')[0], 10) : 0;
    if ((code >= 30 && code <= 39) || (code >= 90 && code <= 97)) state.lastForegroundAdded = m[0];
    else if ((code >= 40 && code <= 49) || (code >= 100 && code <= 107)) state.lastBackgroundAdded = m[0];
    else if (code === 0) for (const k of Object.keys(state)) delete state[k];
    else {
      const info = STYLE_CODES[m[0]];
      if (info) state[info.set] = info.to;
    }
  }
  return state;
}

function unwindState(state: ColourState, line: string): string {
  const { lastBackgroundAdded: bg, lastForegroundAdded: fg, ...styles } = state;
  let out = line;
  for (const [k, on] of Object.entries(styles)) if (on) out += STYLE_OFF[k];
  if (bg && bg !== '\u001b[49m') out += '\u001b[49m';
  if (fg && fg !== '\u001b[39m') out += '\u001b[39m';
  return out;
}

function rewindState(state: ColourState, line: string): string {
  const { lastBackgroundAdded: bg, lastForegroundAdded: fg, ...styles } = state;
  let out = line;
  for (const [k, on] of Object.entries(styles)) if (on) out = STYLE_ON[k] + out;
  if (bg && bg !== '\u001b[49m') out = bg + out;
  if (fg && fg !== '\u001b[39m') out = fg + out;
  return out;
}

/** A cell's lines, with colours closed and re-opened at line ends. */
function cellLines(text: string): string[] {
  const lines = text.split('\n');
  if (!text.includes('\u001b')) return lines;
  let state: ColourState = {};
  return lines.map((raw) => {
    const line = rewindState(state, raw);
    state = readState(line);
    return unwindState({ ...state }, line);
  });
}

/** The first `width` columns of a line, colour codes kept, ending in "…" when cut. */
export function truncateLine(line: string, width: number): string {
  if (displayWidth(line) <= width) return line;
  let out = '';
  let used = 0;
  let i = 0;
  const ansiAt = new RegExp(ANSI.source, 'y');
  while (i < line.length) {
    ansiAt.lastIndex = i;
    const m = ansiAt.exec(line);
    if (m) {
      out += m[0];
      i += m[0].length;
      continue;
    }
    const ch = String.fromCodePoint(line.codePointAt(i) ?? 0);
    const w = displayWidth(ch);
    if (used + w > width - 1) break;
    out += ch;
    used += w;
    i += ch.length;
  }
  return `${out}…${line.includes('\u001b') ? '\u001b[0m' : ''}`;
}

/** Column widths that fit `max` columns: the widest columns give way first, down to 6. */
function fitWidths(widths: number[], max: number): number[] {
  const out = [...widths];
  const total = () => out.reduce((a, b) => a + b, 0) + 2 * (out.length - 1);
  while (total() > max) {
    let widest = -1;
    for (let x = 0; x < out.length; x++) if (out[x] > 6 && (widest < 0 || out[x] > out[widest])) widest = x;
    if (widest < 0) break;
    out[widest]--;
  }
  return out;
}

/**
 * A borderless kubectl-like table: upper-case headers, two spaces between columns. On a
 * terminal (or with `maxWidth`) cells are cut with "…" so that every line fits its width.
 * Cells come from the cluster: their control characters are shown (escape.ts), a newline as
 * `\n`; with `multiLine`, newlines are knet's own line breaks (cells built from line-based
 * input only); `trusted` cells are laid out as they are.
 */
export function renderTable(
  head: string[],
  rows: (string | number)[][],
  opts: { trusted?: boolean; multiLine?: boolean; maxWidth?: number } = {},
): string {
  return [...tableLines(head, rows, opts)].join('\n');
}

/** renderTable's lines, one at a time: a table of 170,000 lines is written without joining them. */
export function* tableLines(
  head: string[],
  rows: (string | number)[][],
  opts: { trusted?: boolean; multiLine?: boolean; maxWidth?: number } = {},
): Generator<string> {
  const maxWidth = opts.maxWidth ?? terminalColumns();
  const colour = c().level > 0;
  const shown = opts.trusted
    ? String
    : opts.multiLine
      ? (cell: string | number) => escapeTerminalText(String(cell), colour)
      : (cell: string | number) => escapeCell(String(cell), colour);
  const table = rows.map((row) => row.map(shown));
  // cli-table3 drew no header row for an empty head.
  if (head.length > 0) table.unshift(head.map((h) => c().bold(h.toUpperCase())));
  const cells = table.map((row) => row.map(cellLines));
  const widths: number[] = [];
  for (const row of cells) {
    row.forEach((lines, x) => {
      let w = widths[x] ?? 1;
      for (const line of lines) {
        const lw = displayWidth(line);
        if (lw > w) w = lw;
      }
      widths[x] = w;
    });
  }
  if (maxWidth !== undefined) {
    const fitted = fitWidths(widths, maxWidth);
    if (fitted.some((w, x) => w < widths[x])) {
      for (const row of cells)
        row.forEach((lines, x) => {
          for (let i = 0; i < lines.length; i++) lines[i] = truncateLine(lines[i], fitted[x]);
        });
      for (let x = 0; x < widths.length; x++) widths[x] = fitted[x];
    }
  }
  // Rows shorter than the widest one: cli-table3 filled the gap with an empty cell that spans
  // down over the following rows as long as they are as short, and such a spanning cell drew
  // one blank line above each row it reaches. Replayed with a stack of open spans.
  const columns = widths.length;
  const openSpans: number[] = [];
  for (const row of cells) {
    while (openSpans.length > 0 && openSpans[openSpans.length - 1] < row.length) openSpans.pop();
    if (openSpans.length > 0) yield '';
    if (row.length < columns) openSpans.push(row.length);
    let height = 1;
    for (const lines of row) if (lines.length > height) height = lines.length;
    for (let i = 0; i < height; i++) {
      let text = '';
      row.forEach((lines, x) => {
        const line = lines[i] ?? '';
        const pad = widths[x] - displayWidth(line);
        text += `${x === 0 ? '' : '  '}${line}${pad > 0 ? ' '.repeat(pad) : ''}`;
      });
      yield trimSpacesEnd(text);
    }
  }
}

// Strings from a cluster or a bundle are not trusted: a pod, node or namespace name, a label,
// a condition message or a line of a node file may carry escape sequences (cursor movement,
// erase line, window title, clear screen) or a newline that forges a table row. Every human
// output passes them through here, so that they are shown, not obeyed: `\x1b`, `\n`, `\u202e`.
// JSON and YAML keep them exact (both escape control characters themselves).

/**
 * C0 and C1 control characters, DEL, and the Unicode characters that reorder or break lines
 * on a terminal (bidi overrides and isolates, line and paragraph separators).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it matches
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it matches
const UNSAFE_TEST = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
/** The same without the newline: a rendered text's own lines. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it matches
const UNSAFE_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** A colour (SGR) sequence as chalk writes it. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences are what it matches
const SGR = /\u001b\[[0-9;]{0,20}m/y;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function visible(ch: string): string {
  const named = NAMED[ch];
  if (named) return named;
  const cp = ch.charCodeAt(0);
  return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
}

/** One string from the cluster or a bundle, safe to print: every control character shown. */
export function escapeTerminal(text: string): string {
  if (typeof text !== 'string') return escapeTerminal(String(text));
  return UNSAFE_TEST.test(text) ? text.replace(UNSAFE, visible) : text;
}

/**
 * A rendered text (several lines, perhaps coloured): its newlines stay, and so do colour
 * sequences when `keepColour` (knet's own, from chalk); every other control character is shown.
 */
export function escapeTerminalText(text: string, keepColour: boolean): string {
  if (!UNSAFE_TEST.test(text.replace(/\n/g, ''))) return text;
  let out = '';
  let last = 0;
  UNSAFE_BUT_NEWLINE.lastIndex = 0;
  for (let m = UNSAFE_BUT_NEWLINE.exec(text); m; m = UNSAFE_BUT_NEWLINE.exec(text)) {
    const at = m.index;
    if (keepColour && m[0] === '\u001b') {
      SGR.lastIndex = at;
      const sgr = SGR.exec(text);
      if (sgr) {
        UNSAFE_BUT_NEWLINE.lastIndex = at + sgr[0].length;
        continue;
      }
    }
    out += text.slice(last, at) + visible(m[0]);
    last = at + 1;
  }
  return out + text.slice(last);
}

/** A table cell: one line (a newline in it would forge a row), colours kept when `keepColour`. */
export function escapeCell(text: string, keepColour: boolean): string {
  if (!UNSAFE_TEST.test(text)) return text;
  return escapeTerminalText(text.replace(/\n/g, '\\n'), keepColour);
}

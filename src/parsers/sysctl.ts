// Parser for `sysctl -a` output (snapshot.md: nodes/NODE/sysctl.txt): one `key = value` per
// line. Multi-value keys keep their tab separators (net.ipv4.tcp_rmem = 4096\t131072\t6291456).
// Blank lines and sysctl.conf-style comments (# or ;) are skipped, so a hand-made file works too.
import { guardParse, ParseError } from '../core/errors.js';

const KEY = /^[^\s=]+$/;

function parseSysctlUnguarded(text: string, file: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
    // A line that starts with a visible character other than # and ; holds an entry (most of
    // sysctl -a's 4,000): it needs no trimmed copy to tell.
    const c0 = line.charCodeAt(0);
    if (!(c0 > 32 && c0 < 127 && c0 !== 35 && c0 !== 59)) {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    }
    // `sysctl -a` separates with " = "; `sysctl -N`/-e variants and sysctl.conf use "=".
    const eq = line.indexOf('=');
    if (eq < 0)
      throw new ParseError(
        file,
        i + 1,
        `expected "key = value" (the output of \`sysctl -a\`), got: ${clip(line.trim())}`,
      );
    const key = line.slice(0, eq).trim();
    if (!KEY.test(key)) throw new ParseError(file, i + 1, `invalid sysctl key: ${clip(key || line.trim())}`);
    // Drop exactly the separator's spaces; keep inner tabs of multi-value keys.
    // (loops, not /^ +/ and /[ \t]+$/: the second is quadratic on a long run of inner spaces)
    let start = eq + 1;
    while (line.charCodeAt(start) === 32) start++;
    let end = line.length;
    while (end > start && (line.charCodeAt(end - 1) === 32 || line.charCodeAt(end - 1) === 9)) end--;
    out.set(key, line.slice(start, end));
  }
  return out;
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** parseSysctl, whose only failure is a ParseError naming the file (parsers/errors.ts guardParse). */
export const parseSysctl: typeof parseSysctlUnguarded = (...args) =>
  guardParse(args[1] ?? '<input>', () => parseSysctlUnguarded(...args));

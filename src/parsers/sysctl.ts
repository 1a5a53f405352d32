// Parser for `sysctl -a` output (snapshot.md: nodes/NODE/sysctl.txt): one `key = value` per
// line. Multi-value keys keep their tab separators (net.ipv4.tcp_rmem = 4096\t131072\t6291456).
// Blank lines and sysctl.conf-style comments (# or ;) are skipped, so a hand-made file works too.
import { guardParse, ParseError } from '../core/errors.js';

const KEY = /^[^\s=]+$/;

function parseSysctlUnguarded(text: string, file: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    // `sysctl -a` separates with " = "; `sysctl -N`/-e variants and sysctl.conf use "=".
    const eq = line.indexOf('=');
    if (eq < 0)
      throw new ParseError(
        file,
        i + 1,
        `expected "key = value" (the output of \`sysctl -a\`), got: ${clip(trimmed)}`,
      );
    const key = line.slice(0, eq).trim();
    if (!KEY.test(key)) throw new ParseError(file, i + 1, `invalid sysctl key: ${clip(key || trimmed)}`);
    // Drop exactly the separator's spaces; keep inner tabs of multi-value keys.
    // (a loop, not /[ \t]+$/, which is quadratic on a long run of inner spaces)
    let value = line.slice(eq + 1).replace(/^ +/, '');
    let end = value.length;
    while (end > 0 && (value.charCodeAt(end - 1) === 32 || value.charCodeAt(end - 1) === 9)) end--;
    value = value.slice(0, end);
    out.set(key, value);
  }
  return out;
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** parseSysctl, whose only failure is a ParseError naming the file (parsers/errors.ts guardParse). */
export const parseSysctl: typeof parseSysctlUnguarded = (...args) =>
  guardParse(args[1] ?? '<input>', () => parseSysctlUnguarded(...args));

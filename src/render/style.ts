// Colour, symbols and width for people; none of them for pipes. Colour follows --color
// (auto|always|never, --no-color = never), then NO_COLOR (off), then FORCE_COLOR (on), then
// whether stdout is a terminal. Under a locale that is not UTF-8 the human output is ASCII.
// Every human renderer takes its colours from here.
import chalk, { Chalk, type ChalkInstance } from 'chalk';
import type { Severity } from '../findings/types.js';

export type ColorMode = 'auto' | 'always' | 'never';

let instance: ChalkInstance | undefined;

/** Whether colour is on for this mode, environment and stream. */
export function colorEnabled(
  mode: ColorMode = 'auto',
  env: NodeJS.ProcessEnv = process.env,
  isTTY = Boolean(process.stdout.isTTY),
): boolean {
  if (mode !== 'auto') return mode === 'always';
  if (env.NO_COLOR) return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return !['0', 'false'].includes(force);
  return isTTY;
}

export function configureColor(options: {
  color?: ColorMode;
  /** Same as color: 'never'. */
  noColor?: boolean;
  stream?: NodeJS.WriteStream;
}): void {
  const stream = options.stream ?? process.stdout;
  const on = colorEnabled(options.noColor ? 'never' : options.color, process.env, Boolean(stream.isTTY));
  instance = new Chalk({ level: on ? chalk.level || 1 : 0 });
}

export function c(): ChalkInstance {
  if (!instance) configureColor({});
  return instance as ChalkInstance;
}

/** The locale's character set is UTF-8 (LC_ALL, else LC_CTYPE, else LANG; unset counts as UTF-8). */
export function unicodeLocale(env: NodeJS.ProcessEnv = process.env): boolean {
  if (process.platform === 'win32') return true;
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG;
  if (!locale) return true;
  return /utf-?8/i.test(locale);
}

const ASCII: Record<string, string> = {
  '✓': '+',
  '✗': 'x',
  '→': '->',
  '←': '<-',
  '↔': '<->',
  '—': '--',
  '–': '-',
  '…': '...',
  '×': 'x',
  '≥': '>=',
  '≤': '<=',
  '≠': '!=',
  '·': '-',
  '•': '*',
  '‘': "'",
  '’': "'",
  '“': '"',
  '”': '"',
  'ⓘ': 'i',
};

/** Human output as the terminal can show it: ASCII when the locale is not UTF-8. */
export function toTerminalText(text: string, env: NodeJS.ProcessEnv = process.env): string {
  if (unicodeLocale(env)) return text;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: keeps ESC (colour) and controls
  return text.replace(/[^\x00-\x7f]/g, (ch) => ASCII[ch] ?? '?');
}

/** The width tables must fit: the terminal's columns, or none when stdout is not a terminal. */
export function terminalColumns(): number | undefined {
  return process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : undefined;
}

export function severityColor(severity: Severity, text: string): string {
  const k = c();
  return severity === 'error' ? k.red(text) : severity === 'warning' ? k.yellow(text) : k.cyan(text);
}

export const OK = () => c().green('✓');
export const FAIL = () => c().red('✗');
export const UNKNOWN = () => c().yellow('?');

// Colour for people, none for pipes: chalk is enabled only on a TTY, never with NO_COLOR or
// --no-color. Every human renderer takes its colours from here.
import chalk, { Chalk, type ChalkInstance } from 'chalk';
import type { Severity } from '../findings/types.js';

let instance: ChalkInstance | undefined;

export function configureColor(options: { noColor?: boolean; stream?: NodeJS.WriteStream }): void {
  const stream = options.stream ?? process.stdout;
  const off = options.noColor || 'NO_COLOR' in process.env || !stream.isTTY;
  instance = new Chalk({ level: off ? 0 : chalk.level || 1 });
}

export function c(): ChalkInstance {
  if (!instance) configureColor({});
  return instance as ChalkInstance;
}

export function severityColor(severity: Severity, text: string): string {
  const k = c();
  return severity === 'error' ? k.red(text) : severity === 'warning' ? k.yellow(text) : k.cyan(text);
}

export const OK = () => c().green('✓');
export const FAIL = () => c().red('✗');
export const UNKNOWN = () => c().yellow('?');

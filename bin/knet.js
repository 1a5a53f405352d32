#!/usr/bin/env node
// knet entry point (also kubectl-knet). Errors that escape a command (unknown command, bad
// configuration) become one line on stderr and exit code 2.
import { flush, run } from '@oclif/core';

// oclif switches to development behaviour (TypeScript source paths, developer warnings) when
// NODE_ENV is development/test; knet is always the built program.
process.env.NODE_ENV = 'production';

const debug = process.argv.includes('--debug') || Boolean(process.env.DEBUG);

try {
  await run(process.argv.slice(2), import.meta.url);
  await flush();
} catch (err) {
  const e = /** @type {Error & {oclif?: {exit?: number}}} */ (err);
  if (e.oclif?.exit === 0) process.exit(0);
  let message = (e.message ?? String(err)).split('\n')[0].replace(/^Error: /, '');
  const notFound = /^command (\S+) not found/.exec(message);
  if (notFound) message = `unknown command "${notFound[1]}": run knet --help for the list of commands`;
  process.stderr.write(debug ? `${e.stack}\n` : `knet: ${message}\n`);
  process.exitCode = 2;
}

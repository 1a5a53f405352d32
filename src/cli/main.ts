// The program behind bin/knet and bin/kubectl-knet (after the Node version check). Errors that
// escape a command (unknown command, bad configuration) become one line on stderr, exit 2.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Config, flush, run } from '@oclif/core';
import { closeNames } from '../core/similar-names.js';
import { manifestIsFresh } from './manifest.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Runs knet with these arguments; `bin` is the name the user typed (`knet` or `kubectl knet`). */
export async function main(argv: string[], bin = 'knet'): Promise<void> {
  // oclif switches to development behaviour (TypeScript source paths, developer warnings) when
  // NODE_ENV is development/test; knet is always the built program.
  process.env.NODE_ENV = 'production';
  const debug = argv.includes('--debug') || Boolean(process.env.DEBUG);
  // oclif reads the name it shows in usage lines from package.json's oclif.bin: kubectl knet
  // passes its own.
  const pjson = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const options = {
    root: ROOT,
    pjson: { ...pjson, oclif: { ...pjson.oclif, bin } },
    ignoreManifest: !manifestIsFresh(ROOT),
  };
  try {
    // `knet help` and `knet help CMD` are `knet --help` and `knet CMD --help`.
    if (argv[0] === 'help') argv = [...argv.slice(1).filter((a) => !a.startsWith('-')), '--help'];
    await run(argv, options);
    await flush();
  } catch (err) {
    const e = err as Error & { oclif?: { exit?: number } };
    if (e.oclif?.exit === 0) process.exit(0);
    let message = (e.message ?? String(err)).split('\n')[0].replace(/^Error: /, '');
    const notFound = /^command (\S+) not found/i.exec(message);
    if (notFound)
      message = unknownCommand(
        notFound[1].replace(/:/g, ' '),
        await Config.load(options).catch(() => undefined),
        bin,
      );
    process.stderr.write(debug ? `${e.stack}\n` : `knet: ${message}\n`);
    process.exitCode = 2;
  }
}

function unknownCommand(typed: string, config: Config | undefined, bin: string): string {
  const word = typed.split(' ')[0];
  const ids = config ? [...config.commandIDs].filter((id) => !config?.findCommand(id)?.hidden) : [];
  const close = closeNames(word, ids, 3);
  const guess = close.length ? `: did you mean ${close.map((c) => `"${c}"`).join(' or ')}?` : '';
  return `unknown command "${word}"${guess} (${bin} --help lists the commands)`;
}

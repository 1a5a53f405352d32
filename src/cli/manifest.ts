// oclif.manifest.json: every command's id, flags and help texts, written after the build
// (scripts/oclif-manifest.mjs). Without it oclif loads every command module and describes it
// at each start-up (about 20 ms of every run); with a manifest older than the code it would
// show old help, so a manifest older than any built command or CLI module is not used.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const MANIFEST = 'oclif.manifest.json';

/** The folders of built code the manifest describes (commands, and the flags they share). */
const DESCRIBED = ['dist/commands', 'dist/cli'];

/** Whether `root`'s manifest exists and is no older than the built code it describes. */
export function manifestIsFresh(root: string): boolean {
  let written: number;
  try {
    written = statSync(path.join(root, MANIFEST)).mtimeMs;
  } catch {
    return false;
  }
  for (const dir of DESCRIBED) {
    let names: string[];
    try {
      names = readdirSync(path.join(root, dir));
    } catch {
      return false;
    }
    for (const name of names)
      if (name.endsWith('.js') && statSync(path.join(root, dir, name)).mtimeMs > written) return false;
  }
  return true;
}

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * vitest globalSetup: compile src/ to dist/ (and write the oclif manifest, as npm run build
 * does) so the CLI tests run the current code. Type errors do not stop the emit (tsc emits
 * anyway); `npm run typecheck` is the gate for them.
 */
export default function setup(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const tsc = path.join(root, 'node_modules', '.bin', 'tsc');
  const r = spawnSync(tsc, ['-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
  if (!existsSync(path.join(root, 'dist', 'commands', 'index.js'))) {
    throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
  }
  // As npm run build: the CLI tests run knet as it starts up, from its oclif manifest.
  const m = spawnSync(process.execPath, ['scripts/oclif-manifest.mjs'], { cwd: root, encoding: 'utf8' });
  if (m.status !== 0) throw new Error(`oclif manifest not written:\n${m.stderr}`);
}

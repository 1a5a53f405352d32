// oclif.manifest.json (scripts/oclif-manifest.mjs): what oclif would describe in memory, and not
// used once the built code is newer than it (src/cli/manifest.ts).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MANIFEST, manifestIsFresh } from '../../src/cli/manifest.js';
import { ROOT, tempDir } from '../support/cli.js';

describe('the oclif manifest', () => {
  it('is the one oclif builds from the commands, written down (the build wrote it)', () => {
    const script = `
      process.env.NODE_ENV = 'production';
      const { Config } = await import('@oclif/core');
      const config = await Config.load({ root: process.cwd(), ignoreManifest: true });
      process.stdout.write(JSON.stringify(config.plugins.get('knet').manifest));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    const inMemory = JSON.parse(r.stdout);
    const written = JSON.parse(readFileSync(path.join(ROOT, MANIFEST), 'utf8'));
    expect(Object.keys(written.commands)).toContain('trace');
    expect(written).toEqual(inMemory);
    expect(manifestIsFresh(ROOT)).toBe(true);
  });

  it('is not used when missing or older than a built command or CLI module', () => {
    const root = tempDir('knet-manifest-');
    for (const dir of ['dist/commands', 'dist/cli']) mkdirSync(path.join(root, dir), { recursive: true });
    const file = (rel: string, seconds: number) => {
      writeFileSync(path.join(root, rel), '{}');
      utimesSync(path.join(root, rel), seconds, seconds);
    };
    file('dist/commands/trace.js', 1000);
    file('dist/cli/base.js', 1000);
    expect(manifestIsFresh(root)).toBe(false);
    file(MANIFEST, 2000);
    expect(manifestIsFresh(root)).toBe(true);
    // Only built modules count (a source map or a .d.ts is no command).
    file('dist/cli/base.d.ts', 3000);
    expect(manifestIsFresh(root)).toBe(true);
    file('dist/cli/live-flags.js', 3000);
    expect(manifestIsFresh(root)).toBe(false);
    file(MANIFEST, 3000);
    file('dist/commands/proxy.js', 3001);
    expect(manifestIsFresh(root)).toBe(false);
  });
});

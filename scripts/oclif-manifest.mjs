#!/usr/bin/env node
// Writes oclif.manifest.json from the built commands (run after tsc: npm run build does). oclif
// reads it instead of loading and describing every command at each start-up; src/cli/manifest.ts
// says when it is used. The manifest is the one oclif would build in memory, written down.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Config } from '@oclif/core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// As main.ts runs oclif: the built program, not oclif's development mode.
process.env.NODE_ENV = 'production';
const config = await Config.load({ root, ignoreManifest: true });
const plugin = config.plugins.get(config.pjson.name);
if (!plugin?.manifest || Object.keys(plugin.manifest.commands).length === 0) {
  process.stderr.write('oclif-manifest: no commands found (is dist/ built?)\n');
  process.exit(1);
}
const { MANIFEST } = await import('../dist/cli/manifest.js');
writeFileSync(path.join(root, MANIFEST), `${JSON.stringify(plugin.manifest, null, 2)}\n`);

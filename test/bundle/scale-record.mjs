#!/usr/bin/env node
// Records the hashes of CASES on the generated 500-node bundle (see scale-cases.mjs).
// Usage: npm run build && node test/bundle/scale-record.mjs [BUNDLE_DIR]
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleFingerprint, CASES, ensureBundle, HASHES, runCase, SIZE } from './scale-cases.mjs';

const dir = path.resolve(process.argv[2] ?? path.join(os.tmpdir(), 'knet-scale-outputs-n500'));
ensureBundle(dir);
const outputs = {};
for (const line of CASES) {
  outputs[line] = runCase(line, dir);
  process.stderr.write(`${outputs[line].slice(0, 12)}  ${line}\n`);
}
writeFileSync(
  HASHES,
  `${JSON.stringify({ size: SIZE, bundle: bundleFingerprint(dir), outputs }, null, 2)}\n`,
);

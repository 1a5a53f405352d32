#!/usr/bin/env node
// The floor of the scale bench: a plain Node process that reads every file of a bundle and
// JSON.parses the .json ones (and each line of the .jsonl ones) — nothing else (no model, no
// analysis). Any knet command on the same bundle pays at least this. Each parsed document is
// dropped after parsing, as a streaming reader would. Usage: node bench/floor.js BUNDLE_DIR
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: node bench/floor.js BUNDLE_DIR\n');
  process.exit(2);
}

function* walk(d) {
  for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.isFile()) yield p;
  }
}

let files = 0;
let bytes = 0;
let items = 0;
for (const file of walk(dir)) {
  const text = readFileSync(file, 'utf8');
  files++;
  bytes += text.length;
  if (file.endsWith('.json')) {
    const doc = JSON.parse(text);
    if (Array.isArray(doc?.items)) items += doc.items.length;
  } else if (file.endsWith('.jsonl')) {
    for (const line of text.split('\n')) if (line !== '') JSON.parse(line);
  }
}
process.stdout.write(`${JSON.stringify({ files, bytes, items })}\n`);

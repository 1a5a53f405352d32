#!/usr/bin/env node
// Summarises a V8 CPU profile (`node --cpu-prof`): the functions with the most self time, and
// the most inclusive time, as file:line. Usage: node bench/cpuprofile-top.js FILE.cpuprofile [N] [UNDER]
// With UNDER (a function name), only the samples taken inside that function count.
import { readFileSync } from 'node:fs';
import path from 'node:path';

// `… | head` closes the pipe early: that is not an error.
process.stdout.on('error', () => process.exit(0));
const file = process.argv[2];
const top = Number(process.argv[3] ?? 25);
const under = process.argv[4];
if (!file) {
  process.stderr.write('usage: node bench/cpuprofile-top.js FILE.cpuprofile [N]\n');
  process.exit(2);
}
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Sample counts → time per node (timeDeltas are µs between samples).
const selfUs = new Map();
for (let i = 0; i < prof.samples.length; i++) {
  const id = prof.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
}
const label = (n) => {
  const cf = n.callFrame;
  const where = cf.url ? `${path.basename(cf.url.replace(/^file:\/\//, ''))}:${cf.lineNumber + 1}` : '';
  return `${cf.functionName || '(anonymous)'} ${where}`.trim();
};
const self = new Map();
const total = new Map();
let all = 0;
const inside = (id) => {
  for (let cur = id; cur !== undefined; cur = parent.get(cur))
    if (byId.get(cur).callFrame.functionName === under) return true;
  return false;
};
for (const [id, us] of selfUs) {
  if (under && !inside(id)) continue;
  all += us;
  const key = label(byId.get(id));
  self.set(key, (self.get(key) ?? 0) + us);
  // Inclusive: count each function once per sample stack.
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const k = label(byId.get(cur));
    if (seen.has(k)) continue;
    seen.add(k);
    total.set(k, (total.get(k) ?? 0) + us);
  }
}
const show = (title, map) => {
  process.stdout.write(`${title}\n`);
  for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(
      `${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / all).toFixed(1).padStart(5)}%  ${k}\n`,
    );
  }
};
process.stdout.write(`total sampled: ${(all / 1000).toFixed(0)} ms\n`);
show('\nself time', self);
show('\ninclusive time', total);

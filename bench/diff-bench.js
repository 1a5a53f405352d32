#!/usr/bin/env node
// knet diff at scale (issue #23): a diff of two N-node bundles must finish within 3 × the
// time of reading both (bench/floor.js on each: read + JSON.parse of every file).
//
//   npm run build && node bench/diff-bench.js [--size small|large] [--runs 3]
//
// The OLD bundle is bench/generate.js's (bench/out/diff-SIZE/old); NEW is a derived bundle next
// to it (meta.json "base": "old") whose cluster.json changes one Service's selector (a typo):
// every other file, node files included, is the same, as between two snapshots a day apart.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SIZES = {
  small: { nodes: 500, pods: 15000, services: 1000 },
  large: { nodes: 5000, pods: 150000, services: 10000 },
};
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const size = opt('size', 'small');
const runs = Number(opt('runs', '3'));
const spec = SIZES[size];
if (!spec) throw new Error(`--size small|large, not ${size}`);
const dir = path.join(root, 'bench', 'out', `diff-${size}`);
const oldDir = path.join(dir, 'old');
const newDir = path.join(dir, 'new');

if (!existsSync(path.join(oldDir, 'cluster.json'))) {
  const g = spawnSync(
    process.execPath,
    [
      path.join(root, 'bench', 'generate.js'),
      '--nodes',
      spec.nodes,
      '--pods',
      spec.pods,
      '--services',
      spec.services,
      '--out',
      oldDir,
    ].map(String),
    { stdio: 'inherit' },
  );
  if (g.status !== 0) process.exit(g.status ?? 1);
}
// The derived bundle: one Service selector typo.
mkdirSync(newDir, { recursive: true });
writeFileSync(path.join(newDir, 'meta.json'), JSON.stringify({ base: 'old' }));
const files = ['cluster.json', ...readdirSync(path.join(oldDir, 'cluster')).map((f) => `cluster/${f}`)];
let svc;
for (const rel of files) {
  if (!rel.endsWith('.json')) continue;
  const list = JSON.parse(readFileSync(path.join(oldDir, rel), 'utf8'));
  svc = list.items?.find((o) => o.kind === 'Service' && o.spec?.selector && o.spec.clusterIP !== 'None');
  if (!svc) continue;
  const key = Object.keys(svc.spec.selector)[0];
  svc.spec.selector[key] = `${svc.spec.selector[key]}x`;
  mkdirSync(path.dirname(path.join(newDir, rel)), { recursive: true });
  writeFileSync(path.join(newDir, rel), JSON.stringify(list));
  break;
}
if (!svc) throw new Error('no Service with a selector in the bundle');
const key = Object.keys(svc.spec.selector)[0];

function wall(cmd, argv) {
  const times = [];
  let last;
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    last = spawnSync(process.execPath, [cmd, ...argv], {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
      env: { ...process.env, NO_COLOR: '1' },
    });
    times.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  times.sort((a, b) => a - b);
  return {
    median: times[Math.floor(times.length / 2)],
    times,
    status: last.status,
    stdout: last.stdout,
    stderr: last.stderr,
  };
}

const floor = wall(path.join(root, 'bench', 'floor.js'), [oldDir]);
const knet = path.join(root, 'bin', 'knet');
const d = wall(knet, ['diff', oldDir, newDir]);
const both = 2 * floor.median;
const line = (name, r) =>
  `| ${name} | ${r.median.toFixed(2)} s | ${r.times.map((t) => t.toFixed(2)).join(' / ')} | ${(r.median / both).toFixed(2)} × | ${r.status} |`;
process.stdout.write(
  [
    `knet diff bench, ${size}: ${spec.nodes} nodes / ${spec.pods} pods / ${spec.services} services; svc ${svc.metadata.namespace}/${svc.metadata.name} selector ${key} changed`,
    '',
    '| command | wall (median) | runs | × reading both | exit |',
    '|---|---:|---|---:|---|',
    `| floor: read + JSON.parse of one bundle (× 2 = reading both: ${both.toFixed(2)} s) | ${floor.median.toFixed(2)} s | ${floor.times.map((t) => t.toFixed(2)).join(' / ')} | | ${floor.status} |`,
    line('knet diff OLD NEW', d),
    '',
    `target: ≤ 3 × reading both = ${(3 * both).toFixed(2)} s: ${d.median <= 3 * both ? 'met' : 'NOT met'}`,
    `answer: ${d.stdout.split('\n').find((l) => l.startsWith('Summary')) ?? d.stderr.trim()}`,
    '',
  ].join('\n'),
);

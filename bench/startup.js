#!/usr/bin/env node
// Start-up benchmark: median wall time of whole processes, as a user runs them, against
// `node -e 0` measured in the same run (the floor no Node program can beat). The goals
// (issue #20): `knet --version` ≤ 2× node -e 0; the demo trace ≤ 300 ms.
// Usage: node bench/startup.js [runs]   (build first: npm run build)
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const knet = path.join(root, 'bin', 'knet');
const runs = Number(process.argv[2] ?? 21);

/** Median wall time of `node ARGS` (the first run only warms the file cache). */
export function medianNodeMs(nodeArgs, n = runs) {
  const times = [];
  for (let i = 0; i < n + 1; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, nodeArgs, {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0 && r.status !== 1) throw new Error(`node ${nodeArgs.join(' ')} failed: ${r.stderr}`);
    if (i > 0) times.push(ms);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Median wall time of a whole `knet ARGS` process. */
export function medianWallMs(args, n = runs) {
  return medianNodeMs([knet, ...args], n);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const floor = medianNodeMs(['-e', '0']);
  const cases = [
    ['knet --version', ['--version'], { ratio: 2 }],
    ['knet --help', ['--help'], {}],
    ['knet trace --help', ['trace', '--help'], {}],
    ['knet pods -A --snapshot demo', ['pods', '-A', '--snapshot', 'demo'], { ms: 400 }],
    [
      'knet trace (demo, 2 paths)',
      ['trace', 'pod/shop/frontend-9zd29xl7v-27thn', 'svc/payments/payments-api', '--snapshot', 'demo'],
      { ms: 300 },
    ],
  ];
  console.log(`node ${process.version}, ${runs} runs each, median wall time`);
  console.log(`${'node -e 0'.padEnd(36)} ${floor.toFixed(0).padStart(5)} ms   1.0×`);
  for (const [name, args, goal] of cases) {
    const ms = medianWallMs(args);
    const target = goal.ratio ? `goal ≤ ${goal.ratio}× node -e 0` : goal.ms ? `goal ≤ ${goal.ms} ms` : '';
    console.log(
      `${name.padEnd(36)} ${ms.toFixed(0).padStart(5)} ms   ${(ms / floor).toFixed(1)}×   ${target}`,
    );
  }
}

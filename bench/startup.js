#!/usr/bin/env node
// Start-up benchmark: median wall time of whole `knet` processes, as a user runs them.
// Usage: node bench/startup.js [runs]   (build first: npm run build)
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const knet = path.join(root, 'bin', 'knet');
const runs = Number(process.argv[2] ?? 21);

export function medianWallMs(args, n = runs) {
  const times = [];
  for (let i = 0; i < n + 1; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [knet, ...args], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0 && r.status !== 1) throw new Error(`knet ${args.join(' ')} failed: ${r.stderr}`);
    if (i > 0) times.push(ms); // the first run warms the file cache
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cases = [
    ['knet --version', ['--version'], 200],
    ['knet pods -A --snapshot demo', ['pods', '-A', '--snapshot', 'demo'], 400],
    [
      'knet trace (demo, 2 paths)',
      ['trace', 'pod/shop/frontend-9zd29xl7v-27thn', 'svc/payments/payments-api', '--snapshot', 'demo'],
      300,
    ],
  ];
  console.log(`node ${process.version}, ${runs} runs each, median wall time`);
  for (const [name, args, target] of cases) {
    const ms = medianWallMs(args);
    console.log(`${name.padEnd(36)} ${ms.toFixed(0).padStart(5)} ms   (target < ${target} ms)`);
  }
}

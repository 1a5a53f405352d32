// Outputs on a generated 500-node bundle (bench/generate.js, seed 1), kept as hashes: the
// partial reads of issue 25 (an index, a lazy model) must answer byte for byte as the full
// read did. `node test/bundle/scale-record.mjs` records them (on purpose, after review).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '../..');
export const HASHES = path.join(HERE, 'scale-outputs.json');
export const SIZE = { nodes: 500, pods: 15000, services: 1000, seed: 1 };

/** One knet invocation per entry; `--snapshot BUNDLE` is added. */
export const CASES = [
  'trace pod/shop/api-1-89z5tw9fc9-4zdz2 svc/shop/frontend-0',
  'trace pod/shop/api-1-89z5tw9fc9-4zdz2 svc/shop/frontend-0 -o json',
  'trace pod/shop/api-1-89z5tw9fc9-4zdz2 pod/payments/frontend-100-mf4h6tt86v-j72f5 -o json',
  'trace pod/shop/api-1-89z5tw9fc9-4zdz2 svc/auth/gateway-425 -o json',
  'trace pod/shop/api-1-89z5tw9fc9-4zdz2 svc/data/stock-949 -o json',
  'trace pod/shop/api-1-89z5tw9fc9-4zdz2 pod/shop/nosuchpod -o json',
  'trace pod/shop/api-1-89z5tw9fc9-4zdz2 svc/kube-system/kube-dns:dns -o json',
  'trace node/node-0002 svc/shop/frontend-0 -o json',
  'trace pod/shop/api-1-89z5tw9fc9-4zdz2 ip/10.129.90.3 -o json',
  'proxy --node node-0001 --from 10.128.1.5 --to 10.97.10.57:80 --protocol tcp',
  'proxy --node node-0001 svc/shop/frontend-0 -o json',
  'endpoints svc/shop/frontend-0 -o json',
  'endpoints svc/auth/gateway-425 -o json',
  'endpoints svc/data/stock-949',
  'policy pod/shop/api-1-89z5tw9fc9-4zdz2 pod/payments/frontend-100-mf4h6tt86v-j72f5 --port 80 -o json',
  'dns frontend-0.shop -o json',
  'svc svc/shop/frontend-0 -o json',
  'pods -n shop -o json',
  'nodes -o json',
  'doctor -n payments',
  'doctor -A -o json',
];

/** Every file of the bundle, hashed in name order: the outputs are of this bundle only. */
export function bundleFingerprint(dir) {
  const h = createHash('sha256');
  const walk = (rel) => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      const r = path.join(rel, name);
      // Indexes are derived from the files (and used when present: the outputs say they change nothing).
      if (
        name === 'bench.json' ||
        name === 'knet-index.json' ||
        name === 'knet-objects.jsonl' ||
        name.endsWith('.knet-index.bin') ||
        name.startsWith('.knet')
      )
        continue;
      if (statSync(path.join(dir, r)).isDirectory()) walk(r);
      else
        h.update(r)
          .update('\0')
          .update(readFileSync(path.join(dir, r)))
          .update('\0');
    }
  };
  walk('');
  return h.digest('hex');
}

/** Generates the bundle into dir unless it is there. */
export function ensureBundle(dir) {
  if (existsSync(path.join(dir, 'bench.json'))) return;
  const r = spawnSync(
    process.execPath,
    [
      path.join(ROOT, 'bench', 'generate.js'),
      ...['--nodes', String(SIZE.nodes), '--pods', String(SIZE.pods)],
      ...['--services', String(SIZE.services), '--seed', String(SIZE.seed), '--out', dir, '--force'],
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`bench/generate.js failed: ${r.stderr}`);
}

export function runCase(line, dir, env = {}) {
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'bin', 'knet'), ...line.split(/\s+/), '--snapshot', dir],
    {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 512 * 1024 * 1024,
      env: { ...process.env, NO_COLOR: '1', COLUMNS: '120', DEBUG: '', KNET_NO_PROGRESS: '1', ...env },
      timeout: 120_000,
    },
  );
  // The bundle's path appears in some messages: the same text wherever it was generated.
  const text = `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`.split(dir).join('BUNDLE');
  return createHash('sha256').update(text).digest('hex');
}

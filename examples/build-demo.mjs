#!/usr/bin/env node
// Builds the demo cluster (test/lab/demo-cluster.ts) as a live lab in network namespaces
// (prefix knd-), checks a few paths with real traffic, and captures it as the bundle in
// examples/demo/ (cluster.json, nodes/*, meta.json; README.md is left alone).
//
//   sudo node examples/build-demo.mjs [OUTPUT_DIR]
//
// Needs root (network namespaces) and Node 22. Everything it creates lives in knd-PID-*
// namespaces and is removed before it exits, also on failure or Ctrl-C. It runs the lab's
// TypeScript directly with Node's type stripping; relative `.js` imports are resolved to the
// `.ts` sources by the small loader hook below.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { register } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const TS_FLAG = '--experimental-transform-types';
if (!process.execArgv.includes(TS_FLAG)) {
  const res = spawnSync(process.execPath, [TS_FLAG, '--no-warnings', ...process.argv.slice(1)], {
    stdio: 'inherit',
  });
  process.exit(res.status ?? 1);
}
if (typeof process.getuid === 'function' && process.getuid() !== 0) {
  console.error('build-demo: needs root (it creates network namespaces); run it with sudo');
  process.exit(2);
}

const HOOK = `
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
export async function resolve(specifier, context, next) {
  if (specifier.endsWith('.js') && /^\\.{1,2}\\//.test(specifier) && context.parentURL?.startsWith('file:')) {
    const url = new URL(specifier, context.parentURL);
    const ts = url.href.slice(0, -3) + '.ts';
    if (!existsSync(fileURLToPath(url)) && existsSync(fileURLToPath(ts))) return next(ts, context);
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(HOOK)}`, import.meta.url);

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = resolve(process.argv[2] ?? join(ROOT, 'examples', 'demo'));
const lab$ = (f) => import(pathToFileURL(join(ROOT, 'test', 'lab', f)).href);
const { DEMO_PREFIX, listNamespaces, runPrefix } = await lab$('exec.ts');
const { Lab, reapStaleLabs } = await lab$('topology.ts');
const { captureBundle } = await lab$('capture.ts');
const { demoScenario } = await lab$('demo-cluster.ts');
const { flattenObjects } = await import(pathToFileURL(join(ROOT, 'src', 'model', 'build.ts')).href);
const { parseAllDocuments } = await import('yaml');

/**
 * Objects others add to the demo in OUTPUT_DIR/cluster/*.json|yaml (the bundle merges them with
 * cluster.json): they are part of the cluster the lab builds — their pods get namespaces and
 * servers, their services kube-proxy rules — but stay in their own files.
 */
function extraObjects(dir) {
  const folder = join(dir, 'cluster');
  if (!existsSync(folder)) return [];
  const out = [];
  for (const f of readdirSync(folder).sort()) {
    const text = readFileSync(join(folder, f), 'utf8');
    if (f.endsWith('.json')) flattenObjects(JSON.parse(text), out);
    else if (/\.ya?ml$/.test(f)) for (const doc of parseAllDocuments(text)) flattenObjects(doc.toJSON(), out);
  }
  return out;
}

/** Paths checked with real traffic before the capture: [from, host, port, protocol, expected, what]. */
const CHECKS = [
  ['shop/frontend', 'svc/shop/cart', '10.96.112.40', 80, 'tcp', 'ok', 'two ready cart pods answer'],
  ['shop/frontend', 'svc/kube-system/kube-dns', '10.96.0.10', 53, 'udp', 'ok', 'CoreDNS answers (UDP)'],
  ['shop/checkout', 'svc/payments/payments-api', '10.102.14.61', 443, 'tcp', 'ok', 'allowed by policy'],
  [
    'shop/frontend',
    'svc/payments/payments-api',
    '10.102.14.61',
    443,
    'tcp',
    'ok',
    'denied by policy, not enforced by the lab',
  ],
  [
    'shop/cart',
    'svc/shop/frontend',
    '10.96.87.150',
    80,
    'tcp',
    'refused',
    '(a) no endpoints: kube-proxy REJECTs',
  ],
  [
    'shop/frontend',
    'svc/shop/catalog',
    '10.96.201.9',
    80,
    'tcp',
    'refused',
    '(b) no port resolves: kube-proxy REJECTs',
  ],
  [
    'shop/frontend',
    'pod/shop/catalog:8080',
    '10.244.1.8',
    8080,
    'tcp',
    'ok',
    'the catalog pods do serve on "http"',
  ],
];

reapStaleLabs();
const scenario = demoScenario();
const own = scenario.objects.length;
const extra = extraObjects(OUT);
scenario.objects.push(...extra);
if (extra.length) console.log(`+ ${extra.length} objects from ${join(OUT, 'cluster')}/`);
const lab = new Lab(scenario, runPrefix('demo', DEMO_PREFIX));
let failed = false;
try {
  const started = Date.now();
  await lab.build();
  console.log(`built ${lab.nodes.size} nodes, ${lab.pods.size} pod namespaces in ${Date.now() - started} ms`);
  const podKey = (prefix) => [...lab.pods.keys()].find((k) => k.startsWith(`${prefix}-`));
  for (const [from, target, host, port, protocol, expected, what] of CHECKS) {
    const source = podKey(from);
    const r = lab.probe(source, host, port, { protocol });
    const ok = r.outcome === expected;
    failed ||= !ok;
    console.log(
      `${ok ? 'ok  ' : 'FAIL'} ${source} -> ${target}: ${r.outcome}${r.answeredBy ? ` (${r.answeredBy})` : ''}  [${what}]`,
    );
  }
  if (failed) throw new Error('a check failed: the bundle was not written');
  // cluster.json gets the generator's objects (with what the lab added, e.g. flannel's node
  // annotations); the extra objects stay in cluster/.
  captureBundle(lab, OUT, {
    objects: lab.objects.slice(0, own),
    context: 'kind-demo',
    capturedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  });
  console.log(`bundle written to ${OUT} (${(dirSize(OUT) / 1024).toFixed(0)} KiB)`);
} catch (err) {
  failed = true;
  console.error(`build-demo: ${err.message}`);
} finally {
  const leftovers = lab.destroy();
  const remaining = listNamespaces(lab.prefix);
  if (leftovers.length || remaining.length) {
    console.error(`build-demo: could not remove ${[...leftovers, ...remaining].join(', ')}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);

function dirSize(dir) {
  let total = 0;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    const s = statSync(p);
    total += s.isDirectory() ? dirSize(p) : s.size;
  }
  return existsSync(dir) ? total : 0;
}

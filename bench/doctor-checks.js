#!/usr/bin/env node
// Time of each of doctor's checks, in process (issue 25): wall and main-thread CPU per check of
// `knet doctor -A` on a bundle, told apart by doctor's progress labels. The objects the checks
// read (pods, nodes, Services, EndpointSlices, policies, …) are read first, so that the first
// read of a kind is not counted in whichever check asks for it (--no-preload counts it).
// Usage: npm run build && node bench/doctor-checks.js BUNDLE_DIR [--no-preload]
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const load = (rel) => import(pathToFileURL(path.join(root, 'dist', rel)).href);
const { readBundle } = await load('sources/bundle/read.js');
const { bundleModel } = await load('sources/bundle/model.js');
const { runDoctor } = await load('analyses/doctor.js');

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: node bench/doctor-checks.js BUNDLE_DIR [--no-preload]\n');
  process.exit(2);
}
const cpuMs = () => {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
};
const rows = [];
let current = { label: 'read', wall: performance.now(), cpu: cpuMs() };
const maxRSS = () => process.resourceUsage().maxRSS / 1024;
const mark = (label) => {
  const now = { label, wall: performance.now(), cpu: cpuMs() };
  rows.push({
    label: current.label,
    wall: now.wall - current.wall,
    cpu: now.cpu - current.cpu,
    rss: maxRSS(),
  });
  current = now;
};

const model = bundleModel(await readBundle(dir));
mark('preload');
if (!process.argv.includes('--no-preload')) {
  for (const kind of [
    'pods',
    'nodes',
    'services',
    'endpointSlices',
    'networkPolicies',
    'ingresses',
    'others',
  ])
    void model[kind].length;
  for (const ns of model.namespaces) model.podsInNamespace(ns.name);
}
const report = runDoctor(model, {
  onProgress: (label) => {
    // One row per check: the per-node and per-Service progress lines belong to their check.
    const check = label.replace(/^doctor: kube-proxy on .*/, 'doctor: kube-proxy');
    if (check !== current.label) mark(check);
  },
});
mark('end');
rows.push({
  label: 'total (checks)',
  ...rows.slice(2).reduce((a, r) => ({ wall: a.wall + r.wall, cpu: a.cpu + r.cpu }), { wall: 0, cpu: 0 }),
});
// The last check's row runs to the end of runDoctor: it holds the findings' ids, links and fixes too.
for (const r of rows)
  console.log(
    `${r.label.replace(/^doctor: /, '').padEnd(20)} ${r.wall.toFixed(0).padStart(7)} ms wall ${r.cpu.toFixed(0).padStart(7)} ms cpu` +
      (r.rss === undefined ? '' : ` ${r.rss.toFixed(0).padStart(6)} MB peak RSS so far`),
  );
console.log(
  `${report.findings.length} findings; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`,
);

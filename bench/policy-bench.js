#!/usr/bin/env node
// knet policy benchmark: one namespace with 500 pods and 300 NetworkPolicies of every kind
// (default deny, pod/namespace selectors with matchExpressions, named ports, ipBlock with
// except, endPort ranges, DNS egress). Targets (issue 5): the full matrix in < 5 s, a single
// verdict in < 50 ms after load. Also cross-checks a sample of matrix cells against single
// verdicts. Usage: npm run build && node bench/policy-bench.js [pods] [policies]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const load = (rel) => import(pathToFileURL(path.join(root, 'dist', rel)).href);
const { buildModel } = await load('model/build.js');
const { evaluatePolicy } = await load('analyses/policy/evaluate.js');
const { policyMatrix } = await load('analyses/policy/matrix.js');

const POD_COUNT = Number(process.argv[2] ?? 500);
const POLICY_COUNT = Number(process.argv[3] ?? 300);
/** Also time the CLI end to end on the same cluster written as a bundle. */
const CLI = !process.argv.includes('--no-cli');
const NS = 'shop';

// Deterministic pseudo-random numbers: the same cluster on every run.
let seed = 42;
const rnd = () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32;
};
const pick = (xs) => xs[Math.floor(rnd() * xs.length)];

function cluster() {
  const raws = [];
  for (const [name, labels] of [
    [NS, { env: 'prod', team: 'shop' }],
    ['monitoring', { env: 'prod', team: 'sre' }],
    ['kube-system', {}],
    ['batch', { env: 'dev', team: 'data' }],
  ]) {
    raws.push({ kind: 'Namespace', metadata: { name, labels } });
  }
  for (let n = 0; n < 10; n++) {
    raws.push({
      kind: 'Node',
      metadata: { name: `node-${n}` },
      spec: { podCIDR: `10.244.${n}.0/24` },
      status: { addresses: [{ type: 'InternalIP', address: `172.18.0.${n + 2}` }] },
    });
  }
  const apps = Array.from({ length: 50 }, (_, i) => `app-${i}`);
  for (let i = 0; i < POD_COUNT; i++) {
    const app = apps[i % apps.length];
    raws.push({
      kind: 'Pod',
      metadata: {
        namespace: NS,
        name: `${app}-${Math.floor(i / apps.length)}`,
        labels: {
          app,
          tier: pick(['fe', 'be', 'db']),
          version: pick(['v1', 'v2', 'v3']),
          ...(rnd() < 0.2 ? { canary: 'true' } : {}),
        },
      },
      spec: {
        nodeName: `node-${i % 10}`,
        containers: [
          {
            name: 'main',
            ports: [
              { name: 'http', containerPort: pick([8080, 8081]), protocol: 'TCP' },
              { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
              { name: 'grpc', containerPort: 50051, protocol: 'TCP' },
            ],
          },
        ],
      },
      status: { phase: 'Running', podIP: `10.244.${i % 10}.${10 + Math.floor(i / 10)}` },
    });
  }
  raws.push({
    kind: 'Pod',
    metadata: { namespace: 'kube-system', name: 'coredns-1', labels: { 'k8s-app': 'kube-dns' } },
    spec: {
      nodeName: 'node-0',
      containers: [{ name: 'coredns', ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }] }],
    },
    status: { phase: 'Running', podIP: '10.244.0.2' },
  });
  raws.push({
    kind: 'DaemonSet',
    metadata: { namespace: 'kube-system', name: 'calico-node' },
    spec: {
      selector: { matchLabels: { 'k8s-app': 'calico-node' } },
      template: { spec: { containers: [{ image: 'calico/node:v3.28.0' }] } },
    },
  });

  const policies = [];
  const np = (name, spec) =>
    policies.push({ kind: 'NetworkPolicy', metadata: { namespace: NS, name }, spec });
  np('default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  np('allow-dns', {
    podSelector: {},
    policyTypes: ['Egress'],
    egress: [
      {
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          },
        ],
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      },
    ],
  });
  let i = 0;
  while (policies.length < POLICY_COUNT) {
    const app = apps[i % apps.length];
    const peers = [pick(apps), pick(apps), pick(apps)];
    switch (i % 6) {
      case 0:
        np(`${app}-ingress-${i}`, {
          podSelector: { matchLabels: { app } },
          ingress: [
            {
              from: [{ podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: peers }] } }],
              ports: [{ port: 'http' }],
            },
          ],
        });
        break;
      case 1:
        np(`${app}-egress-${i}`, {
          podSelector: { matchLabels: { app } },
          policyTypes: ['Egress'],
          egress: [
            {
              to: [
                { podSelector: { matchLabels: { app: peers[0] } } },
                { podSelector: { matchLabels: { app: peers[1] } } },
              ],
              ports: [{ port: 'http' }, { port: 'grpc' }],
            },
          ],
        });
        break;
      case 2:
        np(`${app}-metrics-${i}`, {
          podSelector: { matchLabels: { app } },
          ingress: [
            { from: [{ namespaceSelector: { matchLabels: { team: 'sre' } } }], ports: [{ port: 'metrics' }] },
          ],
        });
        break;
      case 3:
        np(`${app}-cidr-${i}`, {
          podSelector: { matchLabels: { app, tier: pick(['fe', 'be']) } },
          policyTypes: ['Egress'],
          egress: [
            {
              to: [{ ipBlock: { cidr: '10.244.0.0/16', except: [`10.244.${Math.floor(rnd() * 10)}.0/24`] } }],
              ports: [{ port: 8000, endPort: 8100 }],
            },
          ],
        });
        break;
      case 4:
        np(`${app}-tiers-${i}`, {
          podSelector: {
            matchExpressions: [
              { key: 'tier', operator: 'In', values: ['db'] },
              { key: 'app', operator: 'In', values: [app] },
            ],
          },
          ingress: [
            {
              from: [
                {
                  podSelector: {
                    matchExpressions: [
                      { key: 'tier', operator: 'In', values: ['be'] },
                      { key: 'version', operator: 'NotIn', values: ['v1'] },
                    ],
                  },
                },
              ],
              ports: [{ port: 5432 }, { port: 8080, endPort: 8081 }],
            },
          ],
        });
        break;
      default:
        np(`${app}-canary-${i}`, {
          podSelector: { matchLabels: { app } },
          policyTypes: ['Ingress', 'Egress'],
          ingress: [
            {
              from: [
                {
                  podSelector: { matchExpressions: [{ key: 'canary', operator: 'Exists' }] },
                  namespaceSelector: {},
                },
              ],
            },
          ],
          egress: [
            {
              to: [{ podSelector: { matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }] } }],
              ports: [{ port: 8080 }],
            },
          ],
        });
    }
    i++;
  }
  return [...raws, ...policies];
}

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const raws = cluster();
let t0 = process.hrtime.bigint();
const model = buildModel(raws);
const loadMs = ms(t0);
const pods = model.podsInNamespace(NS);

// Single verdicts: the first pays for the model's lazy indexes; then 300 random pairs.
const ask = (a, b, port = 8080) =>
  evaluatePolicy(model, {
    source: { kind: 'pod', pod: a },
    destination: { kind: 'pod', pod: b },
    port,
    protocol: 'TCP',
  });
t0 = process.hrtime.bigint();
ask(pods[0], pods[1]);
const firstMs = ms(t0);
const times = [];
let allowed = 0;
for (let k = 0; k < 300; k++) {
  const a = pick(pods);
  const b = pick(pods);
  t0 = process.hrtime.bigint();
  const v = ask(a, b, pick([8080, 8081, 9090, 50051, 8050]));
  times.push(ms(t0));
  if (v.allowed) allowed++;
}
times.sort((x, y) => x - y);

t0 = process.hrtime.bigint();
const matrix = policyMatrix(model, NS, 8080, 'TCP');
const matrixMs = ms(t0);
t0 = process.hrtime.bigint();
const matrixAll = policyMatrix(model, NS);
const matrixAllMs = ms(t0);

// Cross-check 2000 cells of the matrix against single verdicts.
const byName = new Map(pods.map((p) => [`${p.namespace}/${p.name}`, p]));
let wrong = 0;
for (let k = 0; k < 2000; k++) {
  const cell = pick(matrix.cells);
  const v = ask(byName.get(cell.from), byName.get(cell.to), 8080);
  if (v.allowed !== cell.allowed) wrong++;
}

const allowedCells = matrix.cells.filter((c) => c.allowed).length;
const rows = [
  [`load (buildModel, ${raws.length} objects)`, loadMs, null],
  ['first verdict (builds lazy indexes)', firstMs, 50],
  ['single verdict, median of 300', times[Math.floor(times.length / 2)], 50],
  ['single verdict, p99 of 300', times[Math.floor(times.length * 0.99)], 50],
  ['single verdict, max of 300 (shared machine: noisy)', times[times.length - 1], null],
  [`matrix ${pods.length}x${pods.length} on TCP/8080`, matrixMs, 5000],
  [`matrix on every declared port (${matrixAll.cells.length} cells)`, matrixAllMs, null],
];
console.log(
  `node ${process.version}: ${pods.length} pods and ${model.policiesInNamespace(NS).length} policies in namespace ${NS}`,
);
for (const [name, value, target] of rows) {
  console.log(
    `${name.padEnd(52)} ${value.toFixed(1).padStart(9)} ms${target ? `   (target < ${target} ms)` : ''}`,
  );
}
console.log(
  `matrix: ${allowedCells} of ${matrix.cells.length} cells allowed, ${matrix.explanations.length} legend entries; ` +
    `single verdicts allowed: ${allowed}/300; cross-check of 2000 cells: ${wrong} wrong`,
);
if (CLI) {
  const dir = mkdtempSync(path.join(tmpdir(), 'knet-policy-bench-'));
  try {
    writeFileSync(
      path.join(dir, 'cluster.json'),
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: raws }),
    );
    const a = `pod/${NS}/${pods[3].name}`;
    const b = `pod/${NS}/${pods[7].name}`;
    for (const [name, args] of [
      ['knet policy A B --port 8080 (whole process)', ['policy', a, b, '--port', '8080']],
      ['knet policy --matrix --port 8080 (table)', ['policy', '--matrix', '-n', NS, '--port', '8080']],
      [
        'knet policy --matrix --port 8080 -o json',
        ['policy', '--matrix', '-n', NS, '--port', '8080', '-o', 'json'],
      ],
    ]) {
      const t = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [path.join(root, 'bin', 'knet'), ...args, '--snapshot', dir], {
        encoding: 'utf8',
        maxBuffer: 1 << 30,
        env: { ...process.env, NO_COLOR: '1' },
      });
      if (r.status !== 0 && r.status !== 1) throw new Error(`${name}: exit ${r.status}: ${r.stderr}`);
      rows.push([`${name}, ${(r.stdout.length / 1e6).toFixed(1)} MB out`, ms(t), null]);
      console.log(`${rows.at(-1)[0].padEnd(52)} ${rows.at(-1)[1].toFixed(1).padStart(9)} ms`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const failed = rows.filter(([, v, target]) => target !== null && v > target).map(([n]) => n);
if (wrong > 0) failed.push('matrix/verdict cross-check');
if (failed.length) {
  console.error(`over target: ${failed.join(', ')}`);
  process.exitCode = 1;
}

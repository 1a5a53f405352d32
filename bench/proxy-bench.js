#!/usr/bin/env node
// knet proxy benchmark (issue 4): a kube-proxy iptables dump for 10,000 services with 40,000
// endpoints (written by knet's expected-rules generator), then parse + index time and the time
// per simulated packet. Targets: parse + index < 1 s, < 5 ms per packet.
// Usage: npm run build && node bench/proxy-bench.js [services] [endpointsPerService] [packets]
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const load = (rel) => import(pathToFileURL(path.join(root, 'dist', rel)).href);
const { buildModel } = await load('model/build.js');
const { renderKubeProxyIptables } = await load('analyses/proxy/expected-iptables.js');
const { buildServiceIndex } = await load('analyses/proxy/service-index.js');
const { buildNodeProxy, simulatePacket } = await load('analyses/proxy/simulate.js');
const { parseIptablesSave } = await load('parsers/iptables-save.js');

const SERVICES = Number(process.argv[2] ?? 10000);
const EPS = Number(process.argv[3] ?? 4);
const PACKETS = Number(process.argv[4] ?? 2000);
const NODE = 'bench-node';
const ip = (a, b, n) => `${a}.${b}.${(n >> 8) & 255}.${n & 255}`;

function benchRaws() {
  const raws = [
    {
      kind: 'Node',
      metadata: { name: NODE },
      spec: { podCIDR: '10.244.0.0/24' },
      status: { addresses: [{ type: 'InternalIP', address: '192.168.0.10' }] },
    },
    {
      kind: 'ConfigMap',
      metadata: { namespace: 'kube-system', name: 'kube-proxy' },
      data: { 'config.conf': 'clusterCIDR: 10.244.0.0/16\nmode: iptables\n' },
    },
  ];
  for (let i = 0; i < SERVICES; i++) {
    const ns = `ns${i % 50}`;
    const name = `svc-${i}`;
    const nodePort = i % 10 === 0 ? 30000 + i / 10 : undefined;
    raws.push({
      kind: 'Service',
      metadata: { namespace: ns, name },
      spec: {
        type: nodePort ? 'NodePort' : 'ClusterIP',
        clusterIP: ip(10, 96, i + 10),
        ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort }],
        selector: { app: name },
      },
    });
    raws.push({
      kind: 'EndpointSlice',
      metadata: { namespace: ns, name: `${name}-x`, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: Array.from({ length: EPS }, (_, e) => ({
        addresses: [ip(10, 244, i * EPS + e + 256)],
        nodeName: e === 0 ? NODE : 'other',
        conditions: { ready: true },
      })),
    });
  }
  return raws;
}

const model = buildModel(benchRaws());
const dump = renderKubeProxyIptables(model, NODE);

const t0 = performance.now();
const parsed = parseIptablesSave(dump, 'bench/iptables-save.txt', { lazy: true });
const t1 = performance.now();
const rules = buildNodeProxy({
  node: NODE,
  index: buildServiceIndex(model, NODE, [4]),
  iptables: parsed,
  nodeAddresses: ['192.168.0.10'],
});
// The first packet builds the per-chain lookup index (KUBE-SERVICES by destination).
simulatePacket(rules, {
  from: 'pod',
  source: '10.244.0.5',
  destination: ip(10, 96, 10),
  port: 80,
  protocol: 'TCP',
});
const t2 = performance.now();

let max = 0;
const start = performance.now();
for (let p = 0; p < PACKETS; p++) {
  const i = (p * 7919) % SERVICES;
  const nodePort = p % 4 === 0 && i % 10 === 0;
  const s = performance.now();
  const flow = simulatePacket(rules, {
    from: nodePort ? 'external' : 'pod',
    source: nodePort ? '203.0.113.7' : '10.244.0.5',
    destination: nodePort ? '192.168.0.10' : ip(10, 96, i + 10),
    port: nodePort ? 30000 + i / 10 : 80,
    protocol: 'TCP',
  });
  if (flow.outcome !== 'dnat' || flow.endpoints.length !== EPS) {
    throw new Error(`unexpected flow for service ${i}: ${flow.outcome}, ${flow.endpoints.length} endpoints`);
  }
  max = Math.max(max, performance.now() - s);
}
const elapsed = performance.now() - start;

// For comparison: tokenizing every rule up front (parseIptablesSave without lazy).
const e0 = performance.now();
parseIptablesSave(dump, 'bench/iptables-save.txt');
const eagerParseMs = Math.round(performance.now() - e0);

const result = {
  services: SERVICES,
  endpoints: SERVICES * EPS,
  dumpLines: dump.split('\n').length,
  dumpMB: Math.round(dump.length / 1e5) / 10,
  parseMs: Math.round(t1 - t0),
  indexMs: Math.round(t2 - t1),
  parseAndIndexMs: Math.round(t2 - t0),
  eagerParseMs,
  packets: PACKETS,
  perPacketMs: Math.round((elapsed / PACKETS) * 1000) / 1000,
  maxPacketMs: Math.round(max * 1000) / 1000,
};
console.log(JSON.stringify(result, null, 2));
const ok = result.parseAndIndexMs < 1000 && result.perPacketMs < 5;
console.log(
  ok ? 'proxy bench: within targets (parse+index < 1 s, < 5 ms per packet)' : 'proxy bench: OVER TARGET',
);
if (!ok) process.exitCode = 1;

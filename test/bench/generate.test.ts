// bench/generate.js writes bundles knet reads: checked at a tiny size (CI stays fast) on the
// real entry point (`node bench/generate.js`), the real reader and parsers, and the CLI.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cidrContains } from '../../src/core/ip.js';
import { buildModel } from '../../src/model/build.js';
import type { ClusterModel } from '../../src/model/cluster.js';
import { parseIpAddr, parseIpLink, parseIpRoute } from '../../src/parsers/iproute2.js';
import { parseIptablesSave } from '../../src/parsers/iptables-save.js';
import { parseSysctl } from '../../src/parsers/sysctl.js';
import { readBundle } from '../../src/sources/bundle/read.js';
import { knet, ROOT } from '../support/cli.js';

const GENERATE = path.join(ROOT, 'bench', 'generate.js');
const tmp = mkdtempSync(path.join(tmpdir(), 'knet-bench-gen-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface BenchInfo {
  size: { nodes: number; pods: number; services: number; policies: number };
  objects: number;
  objectFiles: { rel: string; bytes: number }[];
  trace: { source: string; destination: string };
  proxy: { node: string; from: string; to: string; protocol: string };
  planted: { code: string; what: string; objects: string[] }[];
}

function generate(out: string, ...args: string[]): BenchInfo {
  const r = spawnSync(process.execPath, [GENERATE, '--out', out, '--quiet', ...args], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout.trim()).toBe(out);
  return JSON.parse(readFileSync(path.join(out, 'bench.json'), 'utf8'));
}

/** Every file below a folder, with its contents. */
/**
 * Every file's text. The digest's header records its object files' modification times (docs/
 * snapshot.md): those depend on when the bundle was written, not on the seed, and are left out.
 */
function files(dir: string, rel = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(path.join(dir, rel)).sort()) {
    const r = path.join(rel, name);
    if (statSync(path.join(dir, r)).isDirectory()) for (const [k, v] of files(dir, r)) out.set(k, v);
    else {
      const text = readFileSync(path.join(dir, r), 'utf8');
      out.set(r, r === 'knet-objects.jsonl' ? text.replace(/"mtime":\d+/g, '"mtime":0') : text);
    }
  }
  return out;
}

const SIZE = ['--nodes', '8', '--pods', '260', '--services', '24', '--policies', '8', '--seed', '5'];
const dir = path.join(tmp, 'a');
let info: BenchInfo;
let model: ClusterModel;

beforeAll(async () => {
  info = generate(dir, ...SIZE, '--chunk-mb', '0.1');
  const b = await readBundle(dir);
  model = buildModel(b.raws, b.nodeFiles);
});

describe('bench/generate.js', () => {
  it('writes the asked sizes, in chunks of at most the chunk size', () => {
    expect(model.nodes).toHaveLength(8);
    expect(model.pods).toHaveLength(260);
    expect(model.services).toHaveLength(24);
    expect(model.networkPolicies).toHaveLength(8);
    expect(info.objectFiles.length).toBeGreaterThan(2);
    expect(info.objectFiles[0].rel).toBe('cluster.json');
    for (const f of info.objectFiles) {
      const text = readFileSync(path.join(dir, f.rel), 'utf8');
      // One object per line, cut before a line would pass 0.1 MB (a single object may not fit).
      const longest = Math.max(...text.split('\n').map((l) => l.length));
      expect(text.length).toBeLessThanOrEqual(Math.max(0.1 * 1024 * 1024, longest) + 200);
    }
  });

  it('is deterministic for a seed, and another seed gives another cluster', () => {
    const again = path.join(tmp, 'b');
    generate(again, ...SIZE, '--chunk-mb', '0.1');
    expect(files(again)).toEqual(files(dir));
    const other = path.join(tmp, 'c');
    generate(other, ...SIZE.slice(0, -1), '6', '--chunk-mb', '0.1');
    expect(files(other).get('cluster.json')).not.toBe(files(dir).get('cluster.json'));
  });

  it('pods hold IPs of their node CIDR (except the planted one) and are owned', () => {
    const outside = info.planted
      .filter((p) => p.code === 'POD_IP_OUTSIDE_NODE_CIDR')
      .flatMap((p) => p.objects);
    for (const pod of model.pods) {
      expect(pod.ownerReferences.length, pod.name).toBe(1);
      if (pod.hostNetwork || pod.ips.length === 0 || outside.includes(`pod/${pod.namespace}/${pod.name}`))
        continue;
      const node = model.node(pod.nodeName ?? '');
      expect(node, pod.name).toBeDefined();
      expect(
        cidrContains(node!.podCIDRs[0], pod.ips[0]),
        `${pod.name} ${pod.ips[0]} in ${node!.podCIDRs[0]}`,
      ).toBe(true);
    }
    expect(outside).toHaveLength(1);
  });

  it('EndpointSlices list the selected pods, at most 100 per slice', () => {
    const mismatch = new Set(
      info.planted.filter((p) => p.code === 'SVC_LABEL_MISMATCH').flatMap((p) => p.objects),
    );
    const stale = new Set(
      info.planted.filter((p) => p.code === 'SVC_ENDPOINTS_STALE').flatMap((p) => p.objects),
    );
    let checked = 0;
    for (const svc of model.services) {
      if (!svc.selector || svc.type === 'ExternalName') continue;
      const slices = model.endpointSlicesFor(svc);
      expect(slices.length, svc.name).toBeGreaterThan(0);
      for (const s of slices) expect(s.endpoints.length).toBeLessThanOrEqual(100);
      const listed = slices.flatMap((s) => s.endpoints.map((e) => e.addresses[0])).sort();
      const selected = model
        .podsMatchingLabels(svc.namespace, svc.selector)
        .filter((p) => p.ips.length > 0)
        .map((p) => p.ips[0])
        .sort();
      const ref = `svc/${svc.namespace}/${svc.name}`;
      if (mismatch.has(ref)) expect(listed).toEqual([]);
      else if (stale.has(ref)) expect(listed.filter((ip) => !selected.includes(ip))).toHaveLength(1);
      else expect(listed, ref).toEqual(selected);
      checked++;
    }
    expect(checked).toBeGreaterThan(15);
  });

  it('a service with more than 100 endpoints gets several slices', () => {
    const big = path.join(tmp, 'big');
    generate(big, '--nodes', '5', '--pods', '400', '--services', '4', '--policies', '2');
    const doc = JSON.parse(readFileSync(path.join(big, 'cluster.json'), 'utf8'));
    const sizes = doc.items
      .filter((i: { kind: string }) => i.kind === 'EndpointSlice')
      .filter(
        (i: { metadata: { labels: Record<string, string> } }) =>
          i.metadata.labels['kubernetes.io/service-name'] === 'api-1',
      )
      .map((i: { endpoints: unknown[] }) => i.endpoints.length);
    expect(sizes.length).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBe(100);
  });

  it('node files parse; the iptables dump covers every ClusterIP service but the planted one', () => {
    const nodes = model.nodeFiles.nodes();
    expect(nodes).toEqual([info.proxy.node, 'node-0002'].sort());
    for (const node of nodes) {
      const read = (f: string) => model.nodeFiles.read(node, f) ?? '';
      expect(parseIpAddr(read('ip-addr.json'), 'ip-addr.json').some((i) => i.ifname === 'cni0')).toBe(true);
      expect(
        parseIpLink(read('ip-link.json'), 'ip-link.json').filter((l) => l.master === 'cni0').length,
      ).toBeGreaterThan(0);
      expect(parseIpRoute(read('ip-route.json'), 'ip-route.json').filter((r) => r.gateway).length).toBe(
        8 - 1 + 1,
      );
      expect(parseSysctl(read('sysctl.txt'), 'sysctl.txt').size).toBeGreaterThan(100);
    }
    const text = model.nodeFiles.read(info.proxy.node, 'iptables-save.txt') ?? '';
    const dump = parseIptablesSave(text, 'iptables-save.txt');
    // Services with endpoints are in nat KUBE-SERVICES; without, a REJECT in filter KUBE-SERVICES.
    const services = ['nat', 'filter'].flatMap(
      (t) => dump.tables.get(t)?.chains.get('KUBE-SERVICES')?.rules ?? [],
    );
    const missing = info.planted.find((p) => p.code === 'PROXY_RULES_MISSING')?.objects[0];
    for (const svc of model.services) {
      if (svc.clusterIPs.length === 0) continue;
      const has = services.some(
        (r) => r.text.includes(`-d ${svc.clusterIPs[0]}/32`) || r.text.includes(`-d ${svc.clusterIPs[0]} `),
      );
      expect(has, `svc/${svc.namespace}/${svc.name}`).toBe(`svc/${svc.namespace}/${svc.name}` !== missing);
    }
  });

  it('knet doctor finds every planted breakage', () => {
    const r = knet(['doctor', '-A', '--snapshot', dir, '-o', 'json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { findings: { code: string; objects: string[] }[] };
    expect(info.planted.length).toBeGreaterThanOrEqual(8);
    for (const p of info.planted) {
      const hit = report.findings.find(
        (f) => f.code === p.code && p.objects.every((o) => f.objects.includes(o)),
      );
      expect(hit, `${p.code} ${p.objects.join(' ')}`).toBeDefined();
    }
  });

  it('the trace named in bench.json is reachable, and the proxy packet is DNATed', () => {
    const t = knet(['trace', info.trace.source, info.trace.destination, '--snapshot', dir, '-o', 'json']);
    expect(t.stderr).toBe('');
    const trace = JSON.parse(t.stdout) as { verdict: string; paths: unknown[] };
    expect(trace.verdict).toBe('reachable');
    expect(trace.paths.length).toBe(3);
    const p = knet([
      'proxy',
      '--node',
      info.proxy.node,
      '--from',
      info.proxy.from,
      '--to',
      info.proxy.to,
      '--snapshot',
      dir,
      '-o',
      'json',
    ]);
    expect(JSON.parse(p.stdout)).toMatchObject({ kind: 'PacketFlow', outcome: 'dnat' });
  });
});

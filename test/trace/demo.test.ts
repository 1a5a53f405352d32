// knet trace on the demo bundle: node files captured from real network namespaces
// (examples/build-demo.mjs), host-gw routes, kube-proxy in iptables mode.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traceConnection } from '../../src/analyses/trace/trace.js';
import type { TraceQuery, TraceResult } from '../../src/analyses/trace/types.js';
import { buildModel } from '../../src/model/build.js';
import type { ClusterModel } from '../../src/model/cluster.js';
import { DEMO_BUNDLE, readBundle } from '../../src/sources/bundle/read.js';
import { knet } from '../support/cli.js';

let demo: ClusterModel;
let bare: ClusterModel;
let bareDir: string;

beforeAll(async () => {
  const b = await readBundle('demo');
  demo = buildModel(b.raws, b.nodeFiles);
  // The same cluster without any node files.
  bareDir = mkdtempSync(path.join(tmpdir(), 'knet-bare-'));
  cpSync(path.join(DEMO_BUNDLE, 'cluster.json'), path.join(bareDir, 'cluster.json'));
  const bb = await readBundle(bareDir);
  bare = buildModel(bb.raws, bb.nodeFiles);
});
afterAll(() => rmSync(bareDir, { recursive: true, force: true }));

const podNamed = (model: ClusterModel, ns: string, prefix: string) => {
  const pods = model.podsInNamespace(ns).filter((p) => p.name.startsWith(prefix));
  if (!pods.length) throw new Error(`no pod ${ns}/${prefix}*`);
  return pods;
};
const pod = (model: ClusterModel, ns: string, prefix: string, node?: string) => {
  const p = podNamed(model, ns, prefix).find((x) => !node || x.nodeName === node)!;
  return { kind: 'pod' as const, namespace: ns, name: p.name };
};
const trace = (model: ClusterModel, q: TraceQuery) => traceConnection(model, q);
const kinds = (r: TraceResult, i = 0) => r.paths[i].hops.map((h) => h.kind);
const codes = (r: TraceResult) => r.findings.map((f) => f.code).sort();

describe('knet trace on the demo cluster', () => {
  it('pod → ClusterIP with two backends on two nodes: two paths, p=0.5 each, both reachable', () => {
    const r = trace(demo, {
      source: pod(demo, 'shop', 'frontend', 'demo-worker'),
      destination: { kind: 'svc', namespace: 'shop', name: 'cart' },
    });
    expect(r.verdict).toBe('reachable');
    expect(r.paths).toHaveLength(2);
    expect(r.paths.map((p) => p.probability)).toEqual([0.5, 0.5]);
    const nodes = r.paths.map((p) => p.to?.node).sort();
    expect(nodes).toEqual(['demo-worker', 'demo-worker2']);
    // The cross-node path leaves through a host-gw route to the other node.
    const cross = r.paths.find((p) => p.to?.node === 'demo-worker2')!;
    expect(cross.hops.map((h) => h.kind)).toEqual([
      'container',
      'veth',
      'bridge',
      'dnat',
      'route',
      'node',
      'route',
      'bridge',
      'veth',
      'policy',
      'pod',
    ]);
    expect(cross.hops[4].detail).toMatch(/^10\.244\.2\.0\/24 via 172\.18\.0\.4 dev eth0/);
    expect(cross.hops.every((h) => h.status === 'ok' && !h.inferred)).toBe(true);
    // The not-ready replica is no candidate, and the trace says so.
    expect(codes(r)).toEqual(['SVC_SOME_ENDPOINTS_NOT_READY']);
  });

  it('same-node pod → pod is switched on the bridge: no route hop, no DNAT', () => {
    const src = pod(demo, 'shop', 'frontend', 'demo-worker');
    const dst = pod(demo, 'shop', 'checkout', 'demo-worker');
    const r = trace(demo, { source: src, destination: { ...dst, port: 8080 } });
    expect(r.verdict).toBe('reachable');
    expect(kinds(r)).toEqual(['container', 'veth', 'bridge', 'filter', 'veth', 'policy', 'pod']);
  });

  it('cross-node pod → pod over host-gw', () => {
    const r = trace(demo, {
      source: pod(demo, 'shop', 'checkout'),
      destination: { ...pod(demo, 'monitoring', 'prometheus'), port: 9090 },
    });
    expect(r.verdict).toBe('reachable');
    expect(kinds(r)).toContain('node');
    expect(r.paths[0].to).toMatchObject({ kind: 'Pod', namespace: 'monitoring', node: 'demo-worker2' });
  });

  it('a service without endpoints meets kube-proxy REJECT, with the cause from the endpoints analysis', () => {
    const r = trace(demo, {
      source: pod(demo, 'shop', 'checkout'),
      destination: { kind: 'svc', namespace: 'shop', name: 'catalog' },
    });
    expect(r.verdict).toBe('unreachable');
    expect(r.paths[0].hops.at(-1)).toMatchObject({ kind: 'reject', status: 'broken' });
    expect(r.paths[0].hops.at(-1)?.detail).toContain('has no endpoints');
    expect(codes(r)).toEqual(['PROXY_REJECT', 'SVC_TARGET_PORT_MISMATCH']);
  });

  it('the selector typo shows up on the frontend service', () => {
    const r = trace(demo, {
      source: pod(demo, 'shop', 'checkout'),
      destination: { kind: 'svc', namespace: 'shop', name: 'frontend' },
    });
    expect(r.verdict).toBe('unreachable');
    expect(codes(r)).toEqual(expect.arrayContaining(['PROXY_REJECT', 'SVC_LABEL_MISMATCH']));
  });

  it('the planted policy blocks frontend → payments-api on every path, and lets checkout through', () => {
    const denied = trace(demo, {
      source: pod(demo, 'shop', 'frontend'),
      destination: { kind: 'svc', namespace: 'payments', name: 'payments-api' },
    });
    expect(denied.verdict).toBe('unreachable');
    expect(denied.paths.every((p) => p.hops.find((h) => h.kind === 'policy')?.status === 'broken')).toBe(
      true,
    );
    expect(codes(denied)).toEqual(['POLICY_DENIED_INGRESS', 'POLICY_DENIED_INGRESS']);
    const allowed = trace(demo, {
      source: pod(demo, 'shop', 'checkout'),
      destination: { kind: 'svc', namespace: 'payments', name: 'payments-api' },
    });
    expect(allowed.verdict).toBe('reachable');
    expect(allowed.paths[0].hops.find((h) => h.kind === 'policy')?.detail).toContain(
      'payments/payments-api-allow-checkout#0',
    );
  });

  it('NodePort from an external client enters through the node, is DNATed and masqueraded', () => {
    const r = trace(demo, {
      source: { kind: 'ip', name: '203.0.113.7' },
      destination: { kind: 'svc', namespace: 'monitoring', name: 'prometheus' },
      viaNode: 'demo-worker',
    });
    expect(r.verdict).toBe('reachable');
    expect(r.destination).toMatchObject({ ip: '172.18.0.3', port: 30090 });
    expect(kinds(r)).toEqual([
      'external',
      'node',
      'dnat',
      'masquerade',
      'route',
      'node',
      'route',
      'bridge',
      'veth',
      'policy',
      'pod',
    ]);
  });

  it("dns/NAME resolves through the source pod's search path, then traces to the service", () => {
    const r = trace(demo, {
      source: pod(demo, 'shop', 'checkout'),
      destination: { kind: 'dns', name: 'cart', port: 80 },
    });
    expect(r.destination).toMatchObject({ kind: 'Service', namespace: 'shop', name: 'cart' });
    expect(r.paths[0].hops[0]).toMatchObject({ kind: 'dns', status: 'ok' });
    expect(r.paths[0].hops[0].detail).toContain('cart.shop.svc.cluster.local A 10.96.112.40');
    expect(() =>
      trace(demo, {
        source: pod(demo, 'shop', 'checkout'),
        destination: { kind: 'dns', name: 'kart', port: 80 },
      }),
    ).toThrow(/kart does not resolve/);
  });

  it('without node files every dataplane hop is inferred and the verdict is unknown, never reachable', () => {
    const r = trace(bare, {
      source: pod(bare, 'shop', 'frontend', 'demo-worker'),
      destination: { kind: 'svc', namespace: 'shop', name: 'cart' },
    });
    expect(r.verdict).toBe('unknown');
    expect(r.paths).toHaveLength(2);
    expect(r.paths.every((p) => p.verdict === 'unknown')).toBe(true);
    const inferred = r.paths[0].hops.filter((h) => h.inferred).map((h) => h.kind);
    expect(inferred).toEqual(expect.arrayContaining(['container', 'veth', 'bridge', 'dnat', 'route']));
    expect(r.findings.filter((f) => f.code === 'NO_NODE_DATA').length).toBeGreaterThan(0);
    const evidence = r.findings.filter((f) => f.code === 'NO_NODE_DATA').flatMap((f) => f.evidence ?? []);
    expect(evidence.join(' ')).toMatch(/nodes\/demo-worker\/iptables-save\.txt/);
    expect(evidence.join(' ')).toMatch(/ip-route\.json/);
  });
});

describe('knet trace command', () => {
  it('prints the Trace document and exits 1 on a planted breakage', () => {
    const src = demo.podsInNamespace('shop').find((p) => p.name.startsWith('frontend'))!;
    const r = knet([
      'trace',
      `pod/shop/${src.name}`,
      'svc/payments/payments-api',
      '--snapshot',
      'demo',
      '--json',
    ]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ apiVersion: 'knet/v1', kind: 'Trace', verdict: 'unreachable' });
    expect(doc.paths[0].hops[0]).toMatchObject({ kind: 'container', node: src.nodeName });
  });

  it('exits 0 when reachable, and renders dot and mermaid', () => {
    const src = demo.podsInNamespace('shop').find((p) => p.name.startsWith('checkout'))!;
    const args = ['trace', `pod/shop/${src.name}`, 'svc/shop/cart', '--snapshot', 'demo'];
    expect(knet(args).code).toBe(0);
    expect(knet([...args, '-o', 'dot']).stdout).toMatch(/^digraph knet_trace \{/);
    expect(knet([...args, '-o', 'mermaid']).stdout).toMatch(/^flowchart LR/);
    expect(knet([...args, '--explain']).stdout).toContain('a veth pair is a virtual cable');
  });

  it('exits 2 with the missing data named when the verdict is unknown', () => {
    const src = bare.podsInNamespace('shop').find((p) => p.name.startsWith('checkout'))!;
    const r = knet(['trace', `pod/shop/${src.name}`, 'svc/shop/cart', '--snapshot', bareDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/verdict unknown: no node data for node\/demo-worker/);
    expect(r.stdout).toContain('UNKNOWN');
  });

  it('names close matches for a missing target and exits 2 (issue #20: not found is not broken)', () => {
    const pod = knet(['trace', 'pod/shop/nope', 'svc/shop/kart', '--snapshot', 'demo']);
    expect(pod.code).toBe(2);
    expect(pod.stdout).toBe('');
    expect(pod.stderr).toBe('knet: No pod shop/nope\n');
    const checkout = demo.podsInNamespace('shop').find((p) => p.name.startsWith('checkout'))!;
    const svc = knet(['trace', `pod/shop/${checkout.name}`, 'svc/shop/kart', '--snapshot', 'demo']);
    expect(svc.code).toBe(2);
    expect(svc.stderr).toBe('knet: No service shop/kart; did you mean cart?\n');
  });

  it('rejects an unknown target form with exit 2', () => {
    const r = knet(['trace', 'cm/web', 'svc/shop/cart', '--snapshot', 'demo']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^knet: unknown target kind in "cm\/web"/);
  });

  it('asks for a port when the service has several', () => {
    const src = demo.podsInNamespace('shop').find((p) => p.name.startsWith('checkout'))!;
    const r = knet(['trace', `pod/shop/${src.name}`, 'svc/kube-system/kube-dns', '--snapshot', 'demo']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/has several ports .*dns 53\/UDP/);
  });
});

// Dataplanes beyond kube-proxy and a bridge, on bundles derived from the demo: the same cluster
// with Cilium's kube-proxy replacement (no KUBE-* rules, a cilium DaemonSet, cilium-config),
// with and without the agent's table; a Calico-style routed node with a cali-* policy drop;
// a VPC-CNI-style node whose pod traffic leaves through a policy-routing table.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectNodeDataplane } from '../../src/analyses/dataplane/detect.js';
import { proxyDriftFindings } from '../../src/analyses/proxy/drift.js';
import { traceConnection } from '../../src/analyses/trace/trace.js';
import type { TraceResult, TraceTarget } from '../../src/analyses/trace/types.js';
import { buildModel } from '../../src/model/build.js';
import { DEMO_BUNDLE, readBundle } from '../../src/sources/bundle/read.js';

const FIXTURES = path.join(import.meta.dirname, '../fixtures/cilium');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Model = ReturnType<typeof buildModel>;
type Edit = (file: (rel: string) => string) => void;

async function demoWith(...edits: Edit[]): Promise<Model> {
  const dir = mkdtempSync(path.join(tmpdir(), 'knet-planes-'));
  dirs.push(dir);
  cpSync(DEMO_BUNDLE, dir, { recursive: true });
  for (const edit of edits) edit((rel) => path.join(dir, rel));
  const b = await readBundle(dir);
  return buildModel(b.raws, b.nodeFiles);
}

const NODES = ['demo-control-plane', 'demo-worker', 'demo-worker2'];
const FRONTEND: TraceTarget = { kind: 'pod', namespace: 'shop', name: 'frontend-9zd29xl7v-27thn' }; // demo-worker
const CART: TraceTarget = { kind: 'svc', namespace: 'shop', name: 'cart' };
const codes = (r: TraceResult) => r.findings.map((f) => f.code);

/** Cilium's kube-proxy replacement: kube-proxy's rules and DaemonSet gone, Cilium configured to replace it. */
const ciliumKpr: Edit = (f) => {
  for (const node of NODES) {
    const file = f(`nodes/${node}/iptables-save.txt`);
    const kept = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => !/^:KUBE-|KUBE-/.test(l));
    writeFileSync(file, kept.join('\n'));
  }
  const list = JSON.parse(readFileSync(f('cluster.json'), 'utf8')) as {
    items: { kind: string; metadata: { name: string } }[];
  };
  list.items = list.items.filter((o) => !(o.kind === 'DaemonSet' && o.metadata.name === 'kube-proxy'));
  (list.items as unknown[]).push(
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'cilium', namespace: 'kube-system', labels: { 'k8s-app': 'cilium' } },
      spec: {
        selector: { matchLabels: { 'k8s-app': 'cilium' } },
        template: {
          metadata: { labels: { 'k8s-app': 'cilium' } },
          spec: { containers: [{ name: 'cilium-agent', image: 'quay.io/cilium/cilium:v1.16.4' }] },
        },
      },
      status: { desiredNumberScheduled: 3, numberReady: 3 },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cilium-config', namespace: 'kube-system' },
      data: { 'kube-proxy-replacement': 'true', tunnel: 'disabled', 'routing-mode': 'native' },
    },
  );
  writeFileSync(f('cluster.json'), JSON.stringify(list));
};

/** The part of an entry of `cilium-dbg service list -o json` the tests change. */
interface CiliumEntry {
  status: { realized: { 'backend-addresses': { ip: string }[] } };
}

const ciliumTable =
  (node: string, edit: (entries: CiliumEntry[]) => void = () => undefined): Edit =>
  (f) => {
    const entries = JSON.parse(readFileSync(path.join(FIXTURES, 'service-list.json'), 'utf8'));
    edit(entries);
    writeFileSync(f(`nodes/${node}/cilium-service-list.json`), JSON.stringify(entries, null, 2));
  };

describe("Cilium's kube-proxy replacement", () => {
  it('is detected per node, and doctor expects no kube-proxy rules there', async () => {
    const model = await demoWith(ciliumKpr);
    const plane = detectNodeDataplane(model, 'demo-worker');
    expect(plane.services).toBe('cilium-ebpf');
    expect(plane.servicesReason).toMatch(/cilium-config kube-proxy-replacement: true/);
    expect(proxyDriftFindings(model, 'demo-worker')).toEqual([]);
    // The textbook demo is still kube-proxy.
    const demo = await demoWith();
    expect(detectNodeDataplane(demo, 'demo-worker').services).toBe('kube-proxy-iptables');
  });

  it("without the agent's table: unknown with the command that settles it, no PROXY_* finding", async () => {
    const r = traceConnection(await demoWith(ciliumKpr), { source: FRONTEND, destination: CART });
    expect(r.verdict).toBe('unknown');
    expect(codes(r).filter((c) => c.startsWith('PROXY_'))).toEqual([]);
    const noData = r.findings.find((f) => f.code === 'NO_NODE_DATA' && /cilium-ebpf/.test(f.message))!;
    expect(noData.evidence?.join(' ')).toMatch(/cilium-dbg service list -o json/);
    expect(r.paths.map((p) => p.to?.ip).sort()).toEqual(['10.244.1.6', '10.244.2.5']);
  });

  it("with the agent's table: reachable, the backends from Cilium's table", async () => {
    const r = traceConnection(await demoWith(ciliumKpr, ciliumTable('demo-worker')), {
      source: FRONTEND,
      destination: CART,
    });
    expect(r.verdict).toBe('reachable');
    expect(r.paths.map((p) => [p.to?.ip, p.probability]).sort()).toEqual([
      ['10.244.1.6', 0.5],
      ['10.244.2.5', 0.5],
    ]);
    const dnat = r.paths[0].hops.find((h) => h.kind === 'dnat')!;
    expect(dnat.evidence).toMatch(/cilium-service-list\.json: 14 10\.96\.112\.40:80\/TCP ClusterIP/);
  });

  it('drift: a backend Cilium lacks, and one it keeps that is not a ready endpoint', async () => {
    const r = traceConnection(
      await demoWith(
        ciliumKpr,
        ciliumTable('demo-worker', (entries) => {
          // The agent lost 10.244.2.5 and still sends to a pod that is no endpoint of cart.
          entries[0].status.realized['backend-addresses'][1].ip = '10.244.1.5';
        }),
      ),
      { source: FRONTEND, destination: CART },
    );
    expect(codes(r)).toEqual(expect.arrayContaining(['PROXY_ENDPOINT_MISSING', 'PROXY_ENDPOINT_STALE']));
    expect(r.paths.map((p) => p.to?.ip).sort()).toEqual(['10.244.1.5', '10.244.1.6']);
  });

  it("a Service missing from the agent's table is PROXY_RULES_MISSING with Cilium's evidence", async () => {
    const r = traceConnection(
      await demoWith(
        ciliumKpr,
        ciliumTable('demo-worker', (entries) => entries.splice(0, 1)),
      ),
      { source: FRONTEND, destination: CART },
    );
    expect(r.verdict).toBe('unreachable');
    expect(r.findings.find((f) => f.code === 'PROXY_RULES_MISSING')?.message).toMatch(
      /Cilium's service table/,
    );
  });
});

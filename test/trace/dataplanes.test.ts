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
import { knet } from '../support/cli.js';

const FIXTURES = path.join(import.meta.dirname, '../fixtures/cilium');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Model = ReturnType<typeof buildModel>;
type Edit = (file: (rel: string) => string) => void;

/** A copy of the demo bundle with the edits applied: its folder. */
function demoDir(...edits: Edit[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'knet-planes-'));
  dirs.push(dir);
  cpSync(DEMO_BUNDLE, dir, { recursive: true });
  for (const edit of edits) edit((rel) => path.join(dir, rel));
  return dir;
}

async function demoWith(...edits: Edit[]): Promise<Model> {
  const b = await readBundle(demoDir(...edits));
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

const CART_REMOTE: TraceTarget = { kind: 'pod', namespace: 'shop', name: 'cart-b5lsxj67p-kb2pr' }; // demo-worker2
const W2 = 'nodes/demo-worker2';
const CALI = 'cali1a2b3c4d5e6';

/** demo-worker2 wired the way Calico wires a pod: no bridge, a /32 route to a cali* veth. */
const calicoPod: Edit = (f) => {
  const links = JSON.parse(readFileSync(f(`${W2}/ip-link.json`), 'utf8')) as Record<string, unknown>[];
  // Every pod veth of the node is routed (no bridge port); the cart pod's becomes a cali* one.
  for (const l of links.filter((x) => x.master === 'cni0')) {
    delete l.master;
    l.linkinfo = { info_kind: 'veth' };
  }
  links.find((l) => l.ifname === 'vethafcd4e66')!.ifname = CALI;
  writeFileSync(f(`${W2}/ip-link.json`), JSON.stringify(links));
  const routes = JSON.parse(readFileSync(f(`${W2}/ip-route.json`), 'utf8')) as Record<string, unknown>[];
  routes.unshift({ dst: '10.244.2.5', dev: CALI, scope: 'link', flags: [] });
  writeFileSync(f(`${W2}/ip-route.json`), JSON.stringify(routes));
  writeFileSync(
    f(`${W2}/pods/shop_cart-b5lsxj67p-kb2pr/ip-route.json`),
    JSON.stringify([
      { dst: 'default', gateway: '169.254.1.1', dev: 'eth0', flags: [] },
      { dst: '169.254.1.1', dev: 'eth0', scope: 'link', flags: [] },
    ]),
  );
};

/** Calico's policy chains for the pod: the only policy allows another subnet, so the rest is dropped. */
const calicoPolicy: Edit = (f) => {
  const file = f(`${W2}/iptables-save.txt`);
  const lines = readFileSync(file, 'utf8').split('\n');
  const start = lines.indexOf('*filter');
  const firstRule = lines.findIndex((l, i) => i > start && l.startsWith('-A '));
  lines.splice(
    firstRule,
    0,
    ':cali-FORWARD - [0:0]',
    `:cali-tw-${CALI} - [0:0]`,
    ':cali-pi-_ZqYx3MIqNBTB4nVpfE - [0:0]',
    '-A FORWARD -m comment --comment "cali:wUHhoiAYhphO9Mso" -j cali-FORWARD',
    `-A cali-FORWARD -d 10.244.2.5/32 -m comment --comment "cali:8ZoYfO5HKXWbB3pk" -j cali-tw-${CALI}`,
    `-A cali-tw-${CALI} -m comment --comment "cali:aBn4a5Xc2wM-lI7b" -m comment --comment "Start of policies" -j MARK --set-xmark 0x0/0x20000`,
    `-A cali-tw-${CALI} -m comment --comment "cali:Yxp2i9tpp9Pm1XBu" -m mark --mark 0x0/0x20000 -j cali-pi-_ZqYx3MIqNBTB4nVpfE`,
    `-A cali-tw-${CALI} -m comment --comment "cali:a9gD0nU0yhvZJjHz" -m comment --comment "Return if policy accepted" -m mark --mark 0x10000/0x10000 -j RETURN`,
    `-A cali-tw-${CALI} -m comment --comment "cali:SiRl0Crbm4y5Rhhi" -m comment --comment "Drop if no policies passed packet" -m mark --mark 0x0/0x20000 -j DROP`,
    '-A cali-pi-_ZqYx3MIqNBTB4nVpfE -s 10.244.9.0/24 -m comment --comment "cali:Q4EVwwkcOA7ULz1i" -m comment --comment "Policy shop/knp.default.cart-allow-batch ingress" -j MARK --set-xmark 0x10000/0x10000',
  );
  writeFileSync(file, lines.join('\n'));
};

describe('a routed CNI (Calico style)', () => {
  it('is detected, and a healthy path has no bridge hop on the routed node', async () => {
    const model = await demoWith(calicoPod);
    expect(detectNodeDataplane(model, 'demo-worker2')).toMatchObject({ pods: 'routed', cni: 'calico' });
    const r = traceConnection(model, { source: FRONTEND, destination: CART_REMOTE, port: 8080 });
    expect(r.verdict).toBe('reachable');
    const w2 = r.paths[0].hops.filter((h) => h.node === 'demo-worker2').map((h) => h.kind);
    expect(w2).not.toContain('bridge');
    expect(r.paths[0].hops.find((h) => h.kind === 'veth' && h.node === 'demo-worker2')?.detail).toContain(
      CALI,
    );
  });

  it("a drop in Calico's cali-* chains is Calico's policy verdict, naming the chain and the policy", async () => {
    const r = traceConnection(await demoWith(calicoPod, calicoPolicy), {
      source: FRONTEND,
      destination: CART_REMOTE,
      port: 8080,
    });
    expect(r.verdict).toBe('unreachable');
    const f = r.findings.find((x) => x.code === 'CNI_POLICY_DROP')!;
    expect(f.message).toContain(`cali-tw-${CALI}`);
    expect(f.message).toContain('shop/knp.default.cart-allow-batch');
    expect(codes(r)).not.toContain('FILTER_DROP');
  });

  it('a missing per-pod route, and a route to the wrong veth', async () => {
    const noRoute = traceConnection(
      await demoWith(calicoPod, (f) => {
        const routes = JSON.parse(readFileSync(f(`${W2}/ip-route.json`), 'utf8')) as Record<
          string,
          unknown
        >[];
        writeFileSync(
          f(`${W2}/ip-route.json`),
          JSON.stringify(routes.filter((r) => r.dst !== '10.244.2.5' && r.dst !== '10.244.2.0/24')),
        );
      }),
      { source: FRONTEND, destination: CART_REMOTE, port: 8080 },
    );
    expect(noRoute.verdict).toBe('unreachable');
    expect(codes(noRoute)).toContain('ROUTE_MISSING');

    const wrong = traceConnection(
      await demoWith(calicoPod, (f) => {
        const routes = JSON.parse(readFileSync(f(`${W2}/ip-route.json`), 'utf8')) as Record<
          string,
          unknown
        >[];
        routes[0].dev = 'califfffffffff0';
        writeFileSync(f(`${W2}/ip-route.json`), JSON.stringify(routes));
      }),
      { source: FRONTEND, destination: CART_REMOTE, port: 8080 },
    );
    expect(wrong.verdict).toBe('unreachable');
    expect(wrong.findings.find((x) => x.code === 'ROUTE_WRONG_NEXT_HOP')?.message).toMatch(
      /behind cali1a2b3c4d5e6/,
    );
  });
});

describe('a VPC CNI (AWS style): pod traffic through a per-ENI policy-routing table', () => {
  const vpc: Edit = (f) => {
    const node = 'nodes/demo-worker';
    const rules = JSON.parse(readFileSync(f(`${node}/ip-rule.json`), 'utf8')) as Record<string, unknown>[];
    rules.splice(1, 0, { priority: 1536, src: '10.244.1.5', table: '2' });
    writeFileSync(f(`${node}/ip-rule.json`), JSON.stringify(rules));
    const routes = JSON.parse(readFileSync(f(`${node}/ip-route.json`), 'utf8')) as Record<string, unknown>[];
    routes.push({ dst: 'default', gateway: '172.18.0.9', dev: 'eth0', table: '2', flags: [] });
    writeFileSync(f(`${node}/ip-route.json`), JSON.stringify(routes));
    const list = JSON.parse(readFileSync(f('cluster.json'), 'utf8')) as { items: unknown[] };
    list.items.push({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'aws-node', namespace: 'kube-system' },
      spec: {
        selector: { matchLabels: { 'k8s-app': 'aws-node' } },
        template: { spec: { containers: [{ name: 'aws-node', image: 'amazon-k8s-cni:v1.19.0' }] } },
      },
    });
    writeFileSync(f('cluster.json'), JSON.stringify(list));
  };

  it("the egress route is the table the pod's rule selects", async () => {
    const model = await demoWith(vpc);
    expect(detectNodeDataplane(model, 'demo-worker').pods).toBe('vpc');
    const r = traceConnection(model, {
      source: FRONTEND,
      destination: { kind: 'ip', name: '1.1.1.1', port: 443 },
    });
    const route = r.paths[0].hops.find((h) => h.kind === 'route')!;
    expect(route.detail).toMatch(/via 172\.18\.0\.9 /);
    // Another pod of the node has no such rule: the main table's default route.
    const other = traceConnection(model, {
      source: { kind: 'pod', namespace: 'shop', name: 'cart-b5lsxj67p-8rwhn' },
      destination: { kind: 'ip', name: '1.1.1.1', port: 443 },
    });
    expect(other.paths[0].hops.find((h) => h.kind === 'route')?.detail).toMatch(/via 172\.18\.0\.1 /);
  });
});

describe('the dataplane in the output: said where it is not kube-proxy and a bridge', () => {
  const FRONTEND_POD = 'pod/shop/frontend-9zd29xl7v-27thn';

  it('a trace from a Cilium node: one header line, and a dataplane object in the JSON', () => {
    const dir = demoDir(ciliumKpr, ciliumTable('demo-worker'));
    const text = knet(['trace', FRONTEND_POD, 'svc/shop/cart', '--snapshot', dir]);
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines[1]).toBe('Dataplane: cilium ebpf · bridge (canal+cilium) on demo-worker');
    expect(lines[2]).toMatch(/^Verdict: REACHABLE/);
    expect(lines.filter((l) => l.startsWith('Dataplane:'))).toHaveLength(1);

    const json = JSON.parse(
      knet(['trace', FRONTEND_POD, 'svc/shop/cart', '--json', '--snapshot', dir]).stdout,
    );
    expect(json.kind).toBe('Trace');
    expect(json.dataplane).toMatchObject({
      node: 'demo-worker',
      summary: 'cilium ebpf · bridge (canal+cilium)',
      services: 'cilium-ebpf',
      servicesReason: 'configmap/kube-system/cilium-config kube-proxy-replacement: true',
      pods: 'bridge',
      cni: 'canal+cilium',
    });
  });

  it('the textbook demo: no line, no field', () => {
    const text = knet(['trace', FRONTEND_POD, 'svc/shop/cart', '--snapshot', 'demo']);
    expect(text.stdout).not.toContain('Dataplane:');
    const json = JSON.parse(
      knet(['trace', FRONTEND_POD, 'svc/shop/cart', '--json', '--snapshot', 'demo']).stdout,
    );
    expect(json).not.toHaveProperty('dataplane');
  });

  it('--all-pods: each trace says its own source node', () => {
    const dir = demoDir(ciliumKpr);
    const r = knet(['trace', 'deploy/shop/frontend', 'svc/shop/cart', '--all-pods', '--snapshot', dir]);
    const said = r.stdout.split('\n').filter((l) => l.startsWith('Dataplane:'));
    expect(said.sort()).toEqual([
      'Dataplane: cilium ebpf · bridge (canal+cilium) on demo-worker',
      'Dataplane: cilium ebpf · bridge (canal+cilium) on demo-worker2',
    ]);
    const list = JSON.parse(
      knet(['trace', 'deploy/shop/frontend', 'svc/shop/cart', '--all-pods', '--json', '--snapshot', dir])
        .stdout,
    );
    expect(list.items.map((t: { dataplane: { node: string } }) => t.dataplane.node).sort()).toEqual([
      'demo-worker',
      'demo-worker2',
    ]);
  });

  it('a routed node as the source: the line names the CNI', () => {
    const dir = demoDir(calicoPod);
    const r = knet(['trace', 'pod/shop/cart-b5lsxj67p-kb2pr', 'svc/shop/cart', '--snapshot', dir]);
    expect(r.stdout.split('\n')[1]).toBe('Dataplane: kube-proxy iptables · routed (calico) on demo-worker2');
  });

  it('knet nodes -o wide: SERVICES and POD NETWORK per node', () => {
    const demo = knet(['nodes', '-o', 'wide', '--snapshot', 'demo']).stdout;
    expect(demo).toMatch(/NODE DATA +SERVICES +POD NETWORK +READY/);
    expect(demo).toMatch(/demo-worker .* kube-proxy iptables +bridge \(canal\) +True/);
    const cilium = knet(['nodes', '-o', 'wide', '--snapshot', demoDir(ciliumKpr, calicoPod)]).stdout;
    expect(cilium).toMatch(/demo-worker .* cilium eBPF +bridge \(canal\+cilium\) +True/);
    expect(cilium).toMatch(/demo-worker2 .* cilium eBPF +routed \(calico\) +True/);
    const noFiles = demoDir((f) => {
      rmSync(f('nodes/demo-control-plane'), { recursive: true });
    });
    expect(knet(['nodes', '-o', 'wide', '--snapshot', noFiles]).stdout).toMatch(
      /demo-control-plane .* no +unknown +unknown +True/,
    );
    // The narrow table and the JSON are unchanged.
    expect(knet(['nodes', '--snapshot', 'demo']).stdout).not.toContain('SERVICES');
  });
});

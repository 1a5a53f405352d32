// knet trace … ing/NS/NAME and httproute/NS/NAME on the demo cluster: leg 1 client → controller
// (through its LoadBalancer Service and kube-proxy's captured rules), leg 2 controller → backend
// endpoint pods (docs/outside-in.md). The demo's edges carry two planted faults.
import { beforeAll, describe, expect, it } from 'vitest';
import { traceConnection } from '../../src/analyses/trace/trace.js';
import type { TraceQuery, TraceResult } from '../../src/analyses/trace/types.js';
import { buildModel } from '../../src/model/build.js';
import type { ClusterModel } from '../../src/model/cluster.js';
import type { NodeFiles } from '../../src/model/node-files.js';
import type { Raw } from '../../src/model/normalize.js';
import { readBundle } from '../../src/sources/bundle/read.js';
import { knet } from '../support/cli.js';

let raws: Raw[];
let nodeFiles: NodeFiles;
let demo: ClusterModel;

beforeAll(async () => {
  const b = await readBundle('demo');
  raws = [...b.raws];
  nodeFiles = b.nodeFiles;
  demo = buildModel(raws, nodeFiles);
});

const CLIENT = { kind: 'ip' as const, name: '203.0.113.7' };
const ING = { kind: 'ing' as const, namespace: 'shop', name: 'shop' };
const trace = (model: ClusterModel, q: Partial<TraceQuery>) =>
  traceConnection(model, { source: CLIENT, destination: ING, ...q });
const codes = (r: TraceResult) => [...new Set(r.findings.map((f) => f.code))].sort();
const kinds = (r: TraceResult, i = 0) => r.paths[i].hops.map((h) => h.kind);
const name = (r: Raw) => (r.metadata as { name: string }).name;

describe('trace from a client through an Ingress', () => {
  it('a request for /cart: client → LB → controller pod → each ready cart pod, half the requests each', () => {
    const r = trace(demo, { host: 'shop.example.com', path: '/cart' });
    expect(r.verdict).toBe('reachable');
    expect(r.destination).toMatchObject({ kind: 'Ingress', name: 'shop', ip: '172.18.255.201', port: 80 });
    expect(r.paths.map((p) => p.probability)).toEqual([0.5, 0.5]);
    expect(r.paths.map((p) => p.to?.name?.replace(/-[^-]+$/, ''))).toEqual([
      'cart-b5lsxj67p',
      'cart-b5lsxj67p',
    ]);
    // Leg 1 ends at the controller pod, the boundary names the route, leg 2 starts a new connection.
    const hops = r.paths[0].hops;
    const boundary = hops.findIndex((h) => h.detail.startsWith('controller ingress-nginx/'));
    expect(kinds(r).slice(0, boundary + 2)).toEqual([
      'external',
      'node',
      'dnat',
      'route',
      'bridge',
      'veth',
      'policy',
      'pod',
      'pod',
      'container',
    ]);
    expect(hops[2].detail).toMatch(/^172\.18\.255\.201:80 -> 10\.244\.2\.20:80/);
    expect(hops[boundary].detail).toContain('proxies shop.example.com/cart to svc/shop/cart:80 (endpoints)');
    expect(hops.at(-1)).toMatchObject({ kind: 'pod', status: 'ok' });
    // externalTrafficPolicy Local: the entry is the controller's node, and the client IP is kept.
    expect(r.notes.join('\n')).toMatch(/Entry nodes: demo-worker2 /);
    expect(r.notes.join('\n')).toMatch(/Client IP preserved/);
  });

  it('the planted fault: /checkout names port 8080, which svc/shop/checkout lacks — the controller answers 5xx', () => {
    const r = trace(demo, { host: 'shop.example.com', path: '/checkout' });
    expect(r.verdict).toBe('unreachable');
    expect(r.paths).toHaveLength(1);
    expect(r.paths[0].hops.at(-1)).toMatchObject({
      kind: 'drop',
      status: 'broken',
      findings: ['INGRESS_BACKEND_PORT_NOT_FOUND'],
    });
    // The packet did reach the controller: the break is after it, not before.
    expect(r.paths[0].hops.slice(0, -1).every((h) => h.status === 'ok')).toBe(true);
    expect(codes(r)).toEqual(['INGRESS_BACKEND_PORT_NOT_FOUND']);
  });

  it('without --host/--path every route is a path: partial, and shares are not claimed', () => {
    const r = trace(demo, {});
    expect(r.verdict).toBe('partial');
    expect(r.paths.map((p) => p.verdict).sort()).toEqual(['reachable', 'reachable', 'unreachable']);
    expect(r.paths.every((p) => p.probability === null)).toBe(true);
  });

  it('a port the controller Service does not offer is a clear error naming its ports', () => {
    expect(() => trace(demo, { destination: { ...ING, port: 8443 }, path: '/cart' })).toThrow(
      /service ingress-nginx\/ingress-nginx-controller has no port 8443 \(ports: http 80\/TCP, https 443\/TCP\)/,
    );
  });

  it('entering on a node without a controller pod (Local) is dropped by kube-proxy there', () => {
    const r = trace(demo, { path: '/cart', host: 'shop.example.com', viaNode: 'demo-worker' });
    expect(r.verdict).toBe('unreachable');
    expect(codes(r)).toEqual(expect.arrayContaining(['PROXY_REJECT', 'SVC_NO_LOCAL_ENDPOINTS']));
    expect(r.paths[0].hops.some((h) => h.detail.startsWith('controller '))).toBe(false);
  });

  it('a pod inside the cluster reaches the Ingress through the controller Service cluster IP', () => {
    const frontend = demo.podsInNamespace('shop').find((p) => p.name.startsWith('frontend'))!;
    const r = trace(demo, {
      source: { kind: 'pod', namespace: 'shop', name: frontend.name },
      host: 'shop.example.com',
      path: '/cart',
    });
    expect(r.verdict).toBe('reachable');
    expect(r.destination.ip).toMatch(/^10\.96\./);
    expect(r.paths[0].hops[0]).toMatchObject({ kind: 'container' });
    expect(r.notes.join('\n')).not.toMatch(/Client IP/);
  });

  it('no controller pod: nothing answers the Ingress address', () => {
    const model = buildModel(
      raws.filter((o) => !(o.kind === 'Pod' && name(o).startsWith('ingress-nginx-controller'))),
      nodeFiles,
    );
    const r = trace(model, { path: '/cart' });
    expect(r.verdict).toBe('unreachable');
    expect(r.paths[0].hops).toEqual([
      expect.objectContaining({ kind: 'drop', status: 'broken', findings: ['INGRESS_NO_CONTROLLER'] }),
    ]);
    expect(codes(r)).toContain('INGRESS_NO_CONTROLLER');
  });

  it("leg 2 meets NetworkPolicy: payments' default-deny does not admit the controller's namespace", () => {
    const ingress: Raw = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'pay', namespace: 'payments' },
      spec: {
        ingressClassName: 'nginx',
        rules: [
          {
            host: 'pay.example.com',
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'payments-api', port: { number: 443 } } },
                },
              ],
            },
          },
        ],
      },
    };
    const model = buildModel([...raws, ingress], nodeFiles);
    const r = trace(model, {
      destination: { kind: 'ing', namespace: 'payments', name: 'pay' },
      host: 'pay.example.com',
      path: '/',
    });
    expect(r.verdict).toBe('unreachable');
    expect(r.paths.length).toBe(2);
    for (const p of r.paths) {
      const controller = p.hops.findIndex((h) => h.detail.startsWith('controller '));
      expect(controller).toBeGreaterThan(0);
      expect(p.hops.slice(0, controller + 1).every((h) => h.status === 'ok')).toBe(true);
      expect(p.hops.find((h, i) => i > controller && h.kind === 'policy')?.status).toBe('broken');
    }
    expect(codes(r)).toContain('POLICY_DENIED_INGRESS');
    expect(r.destination.port).toBe(80);
  });

  it('externalTrafficPolicy Cluster: any node with rules is an entry, and the client IP is not kept', () => {
    const model = buildModel(
      raws.map((o) =>
        o.kind === 'Service' && name(o) === 'ingress-nginx-controller'
          ? { ...o, spec: { ...(o.spec as object), externalTrafficPolicy: 'Cluster' } }
          : o,
      ),
      nodeFiles,
    );
    const r = trace(model, { host: 'shop.example.com', path: '/cart' });
    expect(r.notes.join('\n')).toMatch(
      /Entry nodes: demo-control-plane, demo-worker, demo-worker2: with externalTrafficPolicy Cluster/,
    );
    expect(r.notes.join('\n')).toMatch(/Client IP not preserved/);
    expect(new Set(r.paths.map((p) => p.hops[0].detail))).toEqual(
      new Set(
        ['demo-control-plane', 'demo-worker', 'demo-worker2'].map(
          (n) => `client 203.0.113.7 enters through node ${n}`,
        ),
      ),
    );
  });
});

describe('trace from a client through a Gateway API HTTPRoute', () => {
  const ROUTE = { kind: 'httproute' as const, namespace: 'shop', name: 'store' };

  it('the planted fault: /pay crosses into payments without a ReferenceGrant — the data plane answers 5xx', () => {
    const r = trace(demo, { destination: ROUTE, path: '/pay' });
    expect(r.verdict).toBe('unreachable');
    expect(r.destination).toMatchObject({ kind: 'HTTPRoute', ip: '172.18.255.202', port: 80 });
    expect(r.paths[0].hops.at(-1)).toMatchObject({ kind: 'drop', findings: ['GATEWAY_REF_NOT_PERMITTED'] });
    expect(r.paths[0].hops.find((h) => h.detail.startsWith('controller '))?.node).toBe('demo-worker');
  });

  it('the store route itself reaches the cart pods', () => {
    const r = trace(demo, { destination: ROUTE, host: 'store.example.com', path: '/' });
    expect(r.verdict).toBe('reachable');
    expect(r.paths.map((p) => p.probability)).toEqual([0.5, 0.5]);
  });

  it('an unknown route is an answer with close names', () => {
    expect(() => trace(demo, { destination: { ...ROUTE, name: 'stor' } })).toThrow(/store/);
  });
});

describe('knet trace … ing/ (command)', () => {
  it('JSON document, exit 1 on the planted fault, and --host/--path only with a route destination', () => {
    const r = knet([
      'trace',
      'ip/203.0.113.7',
      'ing/shop/shop',
      '--path',
      '/checkout',
      '--host',
      'shop.example.com',
      '--snapshot',
      'demo',
      '--json',
    ]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ kind: 'Trace', verdict: 'unreachable', destination: { kind: 'Ingress' } });
    expect(doc.findings.map((f: { code: string }) => f.code)).toEqual(['INGRESS_BACKEND_PORT_NOT_FOUND']);
    const ok = knet(['trace', 'ip/203.0.113.7', 'ing/shop/shop', '--path', '/cart', '--snapshot', 'demo']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('Trace ip/203.0.113.7 → ing/shop/shop 172.18.255.201:80/TCP');
    const bad = knet(['trace', 'ip/203.0.113.7', 'svc/shop/cart', '--path', '/x', '--snapshot', 'demo']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('--host and --path apply to an ing/ or httproute/ destination only');
  });
});

// Reading a live cluster through the (test) Kubernetes API: what is read, how (pages,
// namespaces, selectors, bounded parallelism), and that nothing is ever written.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildObjects } from '../../src/model/build.js';
import { KubeClient } from '../../src/sources/kube/client.js';
import { connectKube } from '../../src/sources/kube/config.js';
import { METADATA_LIST } from '../../src/sources/kube/list.js';
import { ALL_KINDS, listAll, readLiveCluster } from '../../src/sources/kube/read.js';
import { RESOURCES } from '../../src/sources/kube/resources.js';
import { cleanupTemp, failure, ids, serveBundle, tempDir, writes } from './helpers.js';
import type { TestApiServer } from './server/apiserver.js';
import type { LoadedBundle } from './server/bundle.js';

let server: TestApiServer;
let bundle: LoadedBundle;

beforeAll(async () => {
  ({ server, bundle } = await serveBundle());
});
afterAll(async () => {
  await server.close();
  cleanupTemp();
});
afterEach(() => {
  server.resetStats();
  server.requests.length = 0;
  server.faults.length = 0;
  server.forbid.length = 0;
});

const NEVER_READ = new Set(['Deployment']);
const expectedIds = () =>
  ids(
    bundle.objects.filter(
      (o) =>
        !NEVER_READ.has(o.kind) &&
        (o.kind !== 'ConfigMap' ||
          (o.metadata.namespace === 'kube-system' &&
            ['kube-proxy', 'coredns', 'cilium-config'].includes(o.metadata.name))),
    ),
  );

describe('readLiveCluster -A, every kind', () => {
  it('reads exactly the objects knet needs: Secret names only, no other ConfigMap, no Deployment', async () => {
    const live = await readLiveCluster({
      kubeconfig: server.kubeconfig(),
      allNamespaces: true,
      kinds: [...ALL_KINDS],
    });
    expect(ids(live.raws)).toEqual(expectedIds());
    expect(live.context).toBe('knet-test');
    expect(live.server).toBe(server.url);
    expect(live.defaultNamespace).toBe('default');
    expect(live.warnings).toEqual([]);
    // Secrets are asked for metadata-only, and only their names are kept.
    expect(live.raws.filter((o) => o.kind === 'Secret')).toEqual([
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-password', namespace: 'shop' } },
    ]);
    const secretReads = server.requests.filter((r) => r.path.includes('secrets'));
    expect(secretReads.length).toBeGreaterThan(0);
    for (const r of secretReads) expect(r.accept).toBe(METADATA_LIST);
  });

  it('sets kind and apiVersion on list items and strips managedFields and last-applied', async () => {
    const live = await readLiveCluster({
      kubeconfig: server.kubeconfig(),
      allNamespaces: true,
      kinds: [...ALL_KINDS],
    });
    for (const o of live.raws) {
      expect(typeof o.kind).toBe('string');
      expect(typeof o.apiVersion).toBe('string');
      expect(o.metadata.managedFields).toBeUndefined();
      expect(o.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toBeUndefined();
    }
    // Other annotations stay: analyses read them.
    const ing = live.raws.find((o) => o.kind === 'Ingress');
    expect(ing.metadata.annotations).toEqual({ 'nginx.ingress.kubernetes.io/rewrite-target': '/' });
    const slice = live.raws.find((o) => o.kind === 'EndpointSlice');
    expect(slice.apiVersion).toBe('discovery.k8s.io/v1');
    const grant = live.raws.find((o) => o.kind === 'ReferenceGrant');
    expect(grant.apiVersion).toBe('gateway.networking.k8s.io/v1beta1');
  });

  it('builds the same model as the bundle it serves', async () => {
    const live = await readLiveCluster({
      kubeconfig: server.kubeconfig(),
      allNamespaces: true,
      kinds: [...ALL_KINDS],
    });
    const fromBundle = buildObjects(bundle.objects.filter((o) => expectedIds().includes(ids([o])[0])));
    const fromLive = buildObjects(live.raws);
    const byKey = <T extends { namespace?: string; name: string }>(xs: readonly T[]) =>
      [...xs].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
    expect(byKey(fromLive.pods)).toEqual(byKey(fromBundle.pods));
    expect(byKey(fromLive.services)).toEqual(byKey(fromBundle.services));
    expect(byKey(fromLive.nodes)).toEqual(byKey(fromBundle.nodes));
    expect(byKey(fromLive.networkPolicies)).toEqual(byKey(fromBundle.networkPolicies));
    expect(fromLive.endpointSlices.length).toBe(fromBundle.endpointSlices.length);
    expect(fromLive.configMaps.map((c) => c.name).sort()).toEqual(['coredns', 'kube-proxy']);
  });

  it('never writes', async () => {
    await readLiveCluster({ kubeconfig: server.kubeconfig(), allNamespaces: true, kinds: [...ALL_KINDS] });
    expect(server.requests.length).toBeGreaterThan(10);
    expect(writes(server)).toEqual([]);
  });
});

describe('pagination', () => {
  it('asks for pages of 500 (as kubectl) by default', async () => {
    await readLiveCluster({ kubeconfig: server.kubeconfig(), allNamespaces: true, kinds: ['pods'] });
    const lists = server.requests.filter((r) => r.path === '/api/v1/pods');
    expect(lists).toHaveLength(1);
    expect(lists[0].query.get('limit')).toBe('500');
  });

  it('follows continue tokens page by page and loses nothing', async () => {
    const paged = await readLiveCluster({
      kubeconfig: server.kubeconfig(),
      allNamespaces: true,
      kinds: ['pods', 'services', 'endpointslices'],
      pageSize: 2,
    });
    const podPages = server.requests.filter((r) => r.path === '/api/v1/pods');
    const podCount = bundle.objects.filter((o) => o.kind === 'Pod').length;
    expect(podPages).toHaveLength(Math.ceil(podCount / 2));
    expect(podPages.every((r) => r.query.get('limit') === '2')).toBe(true);
    expect(podPages[0].query.has('continue')).toBe(false);
    expect(podPages.slice(1).every((r) => r.query.get('continue'))).toBe(true);
    // Same objects as one big page.
    server.requests.length = 0;
    const whole = await readLiveCluster({
      kubeconfig: server.kubeconfig(),
      allNamespaces: true,
      kinds: ['pods', 'services', 'endpointslices'],
      pageSize: 1000,
    });
    expect(ids(paged.raws)).toEqual(ids(whole.raws));
    expect(server.requests.filter((r) => r.path === '/api/v1/pods')).toHaveLength(1);
  });

  it('re-reads the whole list when a continue token has expired (410), as client-go', async () => {
    server.faults.push({
      path: /^\/api\/v1\/pods$/,
      withContinue: true,
      status: 410,
      reason: 'Expired',
      times: 1,
      message: 'The provided continue parameter is too old to display a consistent list result.',
    });
    const live = await readLiveCluster({
      kubeconfig: server.kubeconfig(),
      allNamespaces: true,
      kinds: ['pods'],
      pageSize: 3,
    });
    expect(ids(live.raws)).toEqual(ids(bundle.objects.filter((o) => o.kind === 'Pod')));
    const calls = server.requests.filter((r) => r.path === '/api/v1/pods');
    expect(calls.map((c) => c.status)).toContain(410);
    expect(calls[calls.length - 1].query.has('limit')).toBe(false);
  });
});

describe('namespaces', () => {
  it('-n shop reads namespaced kinds in shop only, cluster kinds once, kube-system DaemonSets and ConfigMaps by name', async () => {
    const live = await readLiveCluster({
      kubeconfig: server.kubeconfig(),
      namespace: 'shop',
      allNamespaces: false,
      kinds: [...ALL_KINDS],
    });
    const paths = server.requests.map((r) => r.path);
    expect(paths).toContain('/api/v1/namespaces/shop/pods');
    expect(paths).toContain('/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices');
    expect(paths).toContain('/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies');
    expect(paths).toContain('/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes');
    expect(paths).toContain('/api/v1/nodes');
    expect(paths).toContain('/api/v1/namespaces');
    expect(paths).toContain('/apis/apps/v1/namespaces/kube-system/daemonsets');
    expect(paths).toContain('/api/v1/namespaces/kube-system/configmaps/kube-proxy');
    expect(paths).toContain('/api/v1/namespaces/kube-system/configmaps/coredns');
    expect(paths).not.toContain('/api/v1/pods');
    expect(paths.some((p) => p.endsWith('/configmaps'))).toBe(false);
    const pods = live.raws.filter((o) => o.kind === 'Pod');
    expect(pods.length).toBeGreaterThan(0);
    expect(pods.every((p) => p.metadata.namespace === 'shop')).toBe(true);
    expect(live.raws.filter((o) => o.kind === 'Node')).toHaveLength(3);
  });

  it("uses the context's namespace when -n is absent", async () => {
    const live = await readLiveCluster({
      kubeconfig: server.kubeconfig({ namespace: 'monitoring' }),
      allNamespaces: false,
      kinds: ['pods'],
    });
    expect(live.defaultNamespace).toBe('monitoring');
    expect(server.requests.map((r) => r.path)).toEqual(['/api/v1/namespaces/monitoring/pods']);
    expect(ids(live.raws)).toEqual(['Pod/monitoring/prom-0']);
  });

  it('falls back to "default" when the context names no namespace', async () => {
    const live = await readLiveCluster({
      kubeconfig: server.kubeconfig(),
      allNamespaces: false,
      kinds: ['services'],
    });
    expect(live.defaultNamespace).toBe('default');
    expect(server.requests.map((r) => r.path)).toEqual(['/api/v1/namespaces/default/services']);
  });

  it('reads further namespaces when asked (the namespaces targets name)', async () => {
    const live = await readLiveCluster({
      kubeconfig: server.kubeconfig(),
      namespace: 'shop',
      namespaces: ['monitoring', 'shop'],
      allNamespaces: false,
      kinds: ['pods', 'daemonsets'],
    });
    expect(server.requests.map((r) => r.path).sort()).toEqual([
      '/api/v1/namespaces/monitoring/pods',
      '/api/v1/namespaces/shop/pods',
      '/apis/apps/v1/namespaces/kube-system/daemonsets',
      '/apis/apps/v1/namespaces/monitoring/daemonsets',
      '/apis/apps/v1/namespaces/shop/daemonsets',
    ]);
    expect(new Set(live.raws.filter((o) => o.kind === 'Pod').map((p) => p.metadata.namespace))).toEqual(
      new Set(['shop', 'monitoring']),
    );
  });

  it('reads only the kinds asked for', async () => {
    await readLiveCluster({ kubeconfig: server.kubeconfig(), allNamespaces: true, kinds: ['nodes'] });
    expect(server.requests.map((r) => r.path)).toEqual(['/api/v1/nodes']);
  });
});

describe('selectors and parallelism', () => {
  it('passes label and field selectors to the server', async () => {
    const conn = await connectKube({ kubeconfig: server.kubeconfig() });
    const client = new KubeClient(conn);
    const onNode = await listAll(client, RESOURCES.pods, undefined, {
      fieldSelector: 'spec.nodeName=node-1',
    });
    expect(onNode.every((p) => p.spec.nodeName === 'node-1')).toBe(true);
    expect(onNode.map((p) => p.metadata.name).sort()).toEqual([
      'cart-2',
      'coredns-7db6d8ff4d-abcde',
      'kube-proxy-n1001',
      'web-1',
    ]);
    const carts = await listAll(client, RESOURCES.pods, 'shop', {
      labelSelector: 'app in (cart),tier=backend',
    });
    expect(carts.map((p) => p.metadata.name).sort()).toEqual(['cart-1', 'cart-2']);
    const q = server.requests.map((r) => [r.query.get('fieldSelector'), r.query.get('labelSelector')]);
    expect(q).toEqual([
      ['spec.nodeName=node-1', null],
      [null, 'app in (cart),tier=backend'],
    ]);
  });

  it('runs at most `concurrency` lists at once', async () => {
    server.faults.push({ path: /./, delayMs: 40 });
    await readLiveCluster({
      kubeconfig: server.kubeconfig(),
      allNamespaces: true,
      kinds: [...ALL_KINDS],
      concurrency: 2,
    });
    expect(server.maxInFlight()).toBeLessThanOrEqual(2);
    expect(server.maxInFlight()).toBe(2);
  });

  it('reports progress on long reads', async () => {
    server.faults.push({ path: /./, delayMs: 60 });
    const lines: string[] = [];
    await readLiveCluster({
      kubeconfig: server.kubeconfig(),
      allNamespaces: true,
      kinds: ['pods', 'services'],
      pageSize: 1,
      concurrency: 1,
      progress: (m) => lines.push(m),
    });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[lines.length - 1]).toMatch(/^reading knet-test: 2\/2 lists \(pods \d+, services \d+\)$/);
  });

  it('reports no progress for a quick read', async () => {
    const lines: string[] = [];
    await readLiveCluster({
      kubeconfig: server.kubeconfig(),
      allNamespaces: true,
      kinds: ['nodes'],
      progress: (m) => lines.push(m),
    });
    expect(lines).toEqual([]);
  });
});

describe('authentication and kubeconfig, as kubectl', () => {
  it('authenticates with a client certificate', async () => {
    const live = await readLiveCluster({
      kubeconfig: server.kubeconfig({ auth: 'cert' }),
      allNamespaces: true,
      kinds: ['nodes'],
    });
    expect(live.raws).toHaveLength(3);
    expect(server.requests[0].user).toBe('knet-cert-user');
  });

  it('runs an exec credential plugin for the token', async () => {
    const script = path.join(tempDir('knet9-exec-'), 'plugin.mjs');
    writeFileSync(
      script,
      `process.stdout.write(JSON.stringify({apiVersion:'client.authentication.k8s.io/v1',kind:'ExecCredential',status:{token:'${server.token}'}}));\n`,
    );
    const live = await readLiveCluster({
      kubeconfig: server.kubeconfig({ exec: { command: process.execPath, args: [script] } }),
      allNamespaces: true,
      kinds: ['nodes'],
    });
    expect(live.raws).toHaveLength(3);
    expect(server.requests[0].user).toBe('knet-test');
  });

  it('takes $KUBECONFIG as a list of files, the first one setting a name or the current context wins', async () => {
    const dir = tempDir('knet9-kc-');
    const good = server.kubeconfig({ context: 'first' });
    const other = path.join(dir, `knet9-kc-other-${process.pid}.yaml`);
    writeFileSync(
      other,
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: second',
        'clusters: [{name: test-cluster, cluster: {server: "https://127.0.0.1:1"}}, {name: c2, cluster: {server: "https://127.0.0.1:2"}}]',
        'users: [{name: test-user, user: {token: wrong}}]',
        'contexts: [{name: second, context: {cluster: c2, user: test-user, namespace: shop}}]',
        '',
      ].join('\n'),
    );
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = [good, path.join(dir, 'does-not-exist'), other].join(path.delimiter);
    try {
      const conn = await connectKube({});
      expect(conn.context).toBe('first');
      expect(conn.server).toBe(server.url);
      const live = await readLiveCluster({ allNamespaces: true, kinds: ['nodes'] });
      expect(live.raws).toHaveLength(3);
      // --context picks the other file's context (its cluster is c2, its namespace shop).
      const second = await connectKube({ context: 'second' });
      expect(second.server).toBe('https://127.0.0.1:2');
      expect(second.defaultNamespace).toBe('shop');
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
  });

  it('--kubeconfig wins over $KUBECONFIG', async () => {
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = '/nonexistent/kubeconfig';
    try {
      const conn = await connectKube({ kubeconfig: server.kubeconfig({ context: 'explicit' }) });
      expect(conn.context).toBe('explicit');
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
  });

  it('names an unknown context and the ones that exist', async () => {
    const err = await failure(() => connectKube({ kubeconfig: server.kubeconfig(), context: 'prod' }));
    expect(err.message).toMatch(/^context "prod" not found in the kubeconfig \(.+\); available: knet-test$/);
    expect(err.exitCode).toBe(2);
  });
});

// Issue #19 through the test API server and the built CLI: an HTML answer is an error, not an
// empty cluster (item 3); a kind the server does not serve is recorded as absent (item 8); a
// kind RBAC forbids is recorded as forbidden when the command can do without it, else exit 2.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTemp, runKnet, serveBundle, tempDir } from '../kube/helpers.js';
import type { TestApiServer } from '../kube/server/apiserver.js';

const PORTAL =
  '<!DOCTYPE html><html><head><title>Guest Wi-Fi login</title></head><body>Sign in</body></html>';

describe('a server that answers 200 with an HTML page', () => {
  let server: TestApiServer;
  beforeAll(async () => {
    ({ server } = await serveBundle());
  });
  afterAll(async () => {
    await server.close();
  });
  afterEach(() => {
    server.faults.length = 0;
  });

  for (const [label, args] of [
    ['doctor -A', ['doctor', '-A']],
    ['pods', ['pods']],
    ['nodes', ['nodes']],
  ] as const) {
    it(`${label}: exit 2 naming the server and the page, no findings`, async () => {
      server.faults.push({ path: /^\/api/, body: PORTAL });
      const r = await runKnet([...args, '--kubeconfig', server.kubeconfig()]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`the API server at ${server.url} answered 200 with text/html`);
      expect(r.stderr).toContain('Guest Wi-Fi login');
      expect(r.stderr).not.toContain('internal error');
    });
  }

  it('JSON that is not a list (no items) is an error too', async () => {
    server.faults.push({
      path: /\/pods$/,
      body: '{"kind":"Status","apiVersion":"v1"}',
      contentType: 'application/json',
    });
    const r = await runKnet(['pods', '-A', '--kubeconfig', server.kubeconfig()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/answered 200 with a Status that has no items, not a list, to list pods/);
  });

  it('snapshot: exit 2 and no bundle', async () => {
    server.faults.push({ path: /^\/api/, body: PORTAL });
    const out = path.join(tempDir('knet-html-'), 'b');
    const r = await runKnet(['snapshot', '-A', '-o', out, '--kubeconfig', server.kubeconfig()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Guest Wi-Fi login');
    expect(existsSync(path.join(out, 'cluster.json'))).toBe(false);
  });
});

describe('a server that does not serve Ingresses nor the Gateway API', () => {
  let server: TestApiServer;
  beforeAll(async () => {
    ({ server } = await serveBundle(undefined, {
      unserved: ['ingresses', 'ingressclasses'],
      gateway: false,
    }));
  });
  afterAll(async () => {
    await server.close();
    cleanupTemp();
  });

  it('snapshot goes on, warns, and records the kinds as absent in meta.json', async () => {
    const out = path.join(tempDir('knet-absent-'), 'b');
    const r = await runKnet(['snapshot', '-A', '-o', out, '--kubeconfig', server.kubeconfig()]);
    expect(r.stderr).toContain('does not serve ingresses.networking.k8s.io: read as none');
    expect(r.code).toBe(0);
    const meta = JSON.parse(readFileSync(path.join(out, 'meta.json'), 'utf8'));
    expect(meta.absentKinds).toEqual(
      expect.arrayContaining([
        'ingresses.networking.k8s.io',
        'ingressclasses.networking.k8s.io',
        'gateway.networking.k8s.io',
      ]),
    );
  });

  it('doctor -A answers with a warning', async () => {
    const r = await runKnet(['doctor', '-A', '--kubeconfig', server.kubeconfig()]);
    expect([0, 1]).toContain(r.code);
    expect(r.stderr).toContain('knet: warning: the API server at');
  });
});

describe('RBAC forbids optional kinds', () => {
  let server: TestApiServer;
  const EDGES = [
    { verb: 'list', resource: 'ingresses' },
    { verb: 'list', resource: 'ingressclasses' },
    { verb: 'list', resource: 'secrets' },
    { verb: 'list', resource: 'httproutes', group: 'gateway.networking.k8s.io' },
  ];
  beforeAll(async () => {
    ({ server } = await serveBundle(undefined, { gateway: true }));
  });
  afterAll(async () => {
    await server.close();
    cleanupTemp();
  });
  afterEach(() => {
    server.forbid.length = 0;
  });

  it('snapshot: goes on, warns naming the verb and resource, records forbiddenKinds', async () => {
    server.forbid.push(...EDGES);
    const out = path.join(tempDir('knet-forbidden-'), 'b');
    const r = await runKnet(['snapshot', '-A', '-o', out, '--kubeconfig', server.kubeconfig()]);
    expect(r.code, r.stderr).toBe(0);
    for (const what of [
      'list ingresses.networking.k8s.io',
      'list ingressclasses.networking.k8s.io',
      'list httproutes.gateway.networking.k8s.io',
    ])
      expect(r.stderr).toContain(
        `knet: warning: forbidden: cannot ${what} at the cluster scope: going on without them (see docs/rbac.md)\n`,
      );
    expect(r.stderr).toContain('TLS Secrets not checked: no permission to list secrets');
    const meta = JSON.parse(readFileSync(path.join(out, 'meta.json'), 'utf8'));
    expect([...meta.forbiddenKinds].sort()).toEqual([
      'httproutes.gateway.networking.k8s.io',
      'ingressclasses.networking.k8s.io',
      'ingresses.networking.k8s.io',
      'secrets',
    ]);
    expect(meta.absentKinds ?? []).not.toContain('ingresses.networking.k8s.io');
    const cluster = readFileSync(path.join(out, 'cluster.json'), 'utf8');
    expect(cluster).toContain('"kind":"Pod"');
    expect(cluster).not.toContain('"kind":"Ingress"');
  });

  it('snapshot: NetworkPolicies are needed (a trace on the bundle would lie): exit 2, no bundle', async () => {
    server.forbid.push(...EDGES, { verb: 'list', resource: 'networkpolicies' });
    const out = path.join(tempDir('knet-forbidden-'), 'b');
    const r = await runKnet(['snapshot', '-A', '-o', out, '--kubeconfig', server.kubeconfig()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'forbidden: cannot list networkpolicies.networking.k8s.io at the cluster scope',
    );
    expect(existsSync(path.join(out, 'meta.json'))).toBe(false);
  });

  it('doctor -A does without NetworkPolicies and the edges, with a warning each', async () => {
    server.forbid.push(...EDGES, { verb: 'list', resource: 'networkpolicies' });
    const r = await runKnet(['doctor', '-A', '--kubeconfig', server.kubeconfig()]);
    expect([0, 1], r.stderr).toContain(r.code);
    expect(r.stderr).toContain(
      'knet: warning: forbidden: cannot list networkpolicies.networking.k8s.io at the cluster scope: going on without them',
    );
    expect(r.stderr).toContain('cannot list ingresses.networking.k8s.io');
    expect(r.stdout).not.toBe('');
  });

  it('a kind the command needs still fails with exit 2 (trace without NetworkPolicies, pods without pods)', async () => {
    server.forbid.push({ verb: 'list', resource: 'networkpolicies' });
    const t = await runKnet([
      'trace',
      'pod/shop/web-1',
      'svc/shop/cart',
      '--kubeconfig',
      server.kubeconfig(),
    ]);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/^knet: forbidden: cannot list networkpolicies\.networking\.k8s\.io/m);
    server.forbid.push({ verb: 'list', resource: 'pods' });
    const p = await runKnet(['pods', '-A', '--kubeconfig', server.kubeconfig()]);
    expect(p.code).toBe(2);
    expect(p.stderr).toBe('knet: forbidden: cannot list pods at the cluster scope (see docs/rbac.md)\n');
  });
});

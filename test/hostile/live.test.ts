// Issue #19 through the test API server and the built CLI: an HTML answer is an error, not an
// empty cluster (item 3); a kind the server does not serve is recorded as absent (item 8).
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

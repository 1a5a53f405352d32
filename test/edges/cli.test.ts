// knet ingress as a user runs it, on the demo cluster's planted edge faults (examples/demo/
// cluster/edges.json): (e) an Ingress path to a port the Service does not have, (f) an
// HTTPRoute backendRef to another namespace without a ReferenceGrant.
import { describe, expect, it } from 'vitest';
import { knet, writeBundle } from '../support/cli.js';
import { ingressNginx, rawIngress, rawIngressClass, shop } from './builders.js';

describe('knet ingress on the demo cluster', () => {
  it('(e) reports the Ingress backend port that does not exist, and exits 1', () => {
    const r = knet(['ingress', 'ing/shop/shop', '--snapshot', 'demo']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /shop\.example\.com\s+\/checkout\s+Prefix\s+checkout:8080\s+-\s+broken \(INGRESS_BACKEND_PORT_NOT_FOUND\)/,
    );
    // The fix (which replaces the hint of a root error) says why 8080 is wrong and what is right.
    expect(r.stdout).toContain(
      "fix: Send ing/shop/shop's requests to port 80 (http) of svc/shop/checkout: 8080 is its targetPort",
    );
    expect(r.stdout).toContain(
      'Entry       svc/ingress-nginx/ingress-nginx-controller LoadBalancer 172.18.255.201',
    );
  });

  it('answers one request as JSON: the IngressDiagnosis document', () => {
    const r = knet([
      'ingress',
      'ing/shop/shop',
      '--host',
      'shop.example.com',
      '--path',
      '/cart/items',
      '--snapshot',
      'demo',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({
      apiVersion: 'knet/v1',
      kind: 'IngressDiagnosis',
      ingress: { kind: 'Ingress', namespace: 'shop', name: 'shop', class: 'nginx' },
    });
    expect(
      doc.routes.map(
        (x: { path: string; backend: { service: string; port: number }; endpoints: number | null }) => [
          x.path,
          x.backend.service,
          x.backend.port,
          x.endpoints,
        ],
      ),
    ).toEqual([
      ['/cart', 'cart', 80, 2],
      ['/checkout', 'checkout', 8080, null],
    ]);
    expect(doc.request).toMatchObject({ host: 'shop.example.com', path: '/cart/items', routes: [0] });
    // Only the chosen route's findings: the cart's unready pod, no error.
    expect(doc.findings.map((f: { code: string }) => f.code)).toEqual(['SVC_SOME_ENDPOINTS_NOT_READY']);
  });

  it("(f) reports the HTTPRoute reference no ReferenceGrant allows, with the route's condition", () => {
    const r = knet(['ingress', 'httproute/shop/store', '--path', '/pay', '--snapshot', 'demo', '-o', 'yaml']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('kind: IngressDiagnosis');
    expect(r.stdout).toContain('code: GATEWAY_REF_NOT_PERMITTED');
    expect(r.stdout).toContain('ResolvedRefs=False (RefNotPermitted)');
  });

  it('walks every route of a Gateway', () => {
    const r = knet([
      'ingress',
      'gateway/shop/shop-gateway',
      '--host',
      'store.example.com',
      '--snapshot',
      'demo',
      '-o',
      'wide',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('httproute/shop/store spec.rules[0].matches[0].backendRefs[0]');
    expect(r.stdout).toMatch(/Request\s+store\.example\.com\/ → shop\/cart:80/);
  });

  it('takes the namespace from -n', () => {
    const r = knet(['ingress', 'httproute/store', '-n', 'shop', '--snapshot', 'demo', '--json']);
    expect(JSON.parse(r.stdout).ingress).toMatchObject({
      kind: 'HTTPRoute',
      namespace: 'shop',
      name: 'store',
    });
  });

  it('a missing object, a bad target or path: a one-line error (exit 2)', () => {
    // Issue #20: a missing object is "could not answer" (2), with the close names.
    const missing = knet(['ingress', 'ing/shop/shp', '--snapshot', 'demo']);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('');
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain('did you mean ing/shop/shop?');
    const route = knet(['ingress', 'httproute/shop/stor', '--snapshot', 'demo']);
    expect(route.code).toBe(2);
    expect(route.stderr).toContain('did you mean httproute/shop/store?');
    const bad = knet(['ingress', 'svc/shop/cart', '--snapshot', 'demo']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('is not accepted here: use ing/…, httproute/…, gateway/…');
    const path = knet(['ingress', 'ing/shop/shop', '--path', 'cart', '--snapshot', 'demo']);
    expect(path.code).toBe(2);
    expect(path.stderr).toContain('--path must start with "/"');
  });
});

describe('knet ingress on a bundle built for the test', () => {
  it('finds a missing controller and a missing backend', () => {
    const dir = writeBundle([
      ...shop(),
      rawIngressClass('nginx', 'k8s.io/ingress-nginx', true),
      rawIngress('shop', 'x', {
        className: 'nginx',
        rules: [{ paths: [{ path: '/', service: 'nope', port: 80 }] }],
      }),
    ]);
    const r = knet(['ingress', 'ing/shop/x', '--snapshot', dir, '--json']);
    expect(r.code).toBe(1);
    expect(
      JSON.parse(r.stdout)
        .findings.map((f: { code: string }) => f.code)
        .sort(),
    ).toEqual(['INGRESS_BACKEND_NOT_FOUND', 'INGRESS_NO_CONTROLLER']);
    const ok = writeBundle([
      ...shop(),
      rawIngressClass('nginx', 'k8s.io/ingress-nginx', true),
      ...ingressNginx(),
      rawIngress('shop', 'x', { rules: [{ paths: [{ path: '/', service: 'web', port: 80 }] }] }),
    ]);
    expect(knet(['ingress', 'ing/shop/x', '--snapshot', ok]).code).toBe(0);
  });
});

import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { knet, ROOT, writeBundle } from '../support/cli.js';
import { rawNode } from '../support/objects.js';
import { pod, service, slice } from './builders.js';

const SHOP = path.join(ROOT, 'test', 'fixtures', 'endpoints', 'shop');

describe('knet endpoints on a bundle', () => {
  it('shows a healthy service with its backends and exits 0', () => {
    const r = knet(['endpoints', 'svc/shop/cart', '--snapshot', SHOP]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Service\s+shop\/cart\s+ClusterIP/);
    expect(r.stdout).toMatch(/Ports\s+http 80\/TCP -> http \(8080 on 2 pods\)/);
    expect(r.stdout).toMatch(/Selector\s+app=cart/);
    expect(r.stdout).toMatch(/POD\s+IP\s+NODE\s+READY\s+PORT\s+TARGET\s+IN SLICES\s+PROBLEMS/);
    expect(r.stdout).toMatch(/cart-7d9f8c6b5d-9mzqw\s+10\.244\.2\.7\s+node-2\s+yes\s+http\s+8080\s+yes/);
    expect(r.stdout).toContain('No problems found.');
    expect(r.stdout).not.toContain('\u001b[');
  });

  it('prints the ServiceDiagnosis document and exits 1 for a selector typo', () => {
    const r = knet(['endpoints', 'svc/shop/frontend', '--snapshot', SHOP, '--json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({
      apiVersion: 'knet/v1',
      kind: 'ServiceDiagnosis',
      service: {
        namespace: 'shop',
        name: 'frontend',
        type: 'ClusterIP',
        selector: { app: 'fronted', tier: 'web' },
      },
      backends: [],
    });
    expect(doc.findings.map((f: { code: string }) => f.code).sort()).toEqual([
      'SVC_LABEL_MISMATCH',
      'SVC_NO_SELECTOR_MATCH',
    ]);
    expect(doc.nearMisses.inNamespace[0].differences).toEqual([
      { selectorKey: 'app', selectorValue: 'fronted', podKey: 'app', podValue: 'frontend' },
    ]);
  });

  it('answers as `knet svc`, with -n, a port and YAML output', () => {
    const r = knet(['svc', 'svc/checkout:http', '-n', 'shop', '--snapshot', SHOP, '-o', 'yaml']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('kind: ServiceDiagnosis');
    expect(r.stdout).toContain('code: SVC_TARGET_PORT_MISMATCH');
    expect(r.stdout).toContain('targetPort: null');
  });

  it('shows the wide table and the problems of unready backends', () => {
    const r = knet(['endpoints', 'svc/shop/payments', '--snapshot', SHOP, '-o', 'wide']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/SERVING\s+TERMINATING/);
    expect(r.stdout).toMatch(
      new RegExp(
        'payments-84d5f7c9b-t6r2n\\s+10\\.244\\.2\\.9\\s+node-2\\s+no\\s+no\\s+no\\s+' +
          'http\\s+8080\\s+yes\\s+payments-k8d2v\\s+not ready',
      ),
    );
    expect(r.stdout).toContain('SVC_NO_READY_ENDPOINTS');
    expect(r.stdout).toContain('CrashLoopBackOff');
  });

  it('reports an unknown port as a finding (exit 1), a missing service as exit 2 with the close names', () => {
    const port = knet(['endpoints', 'svc/shop/cart:8080', '--snapshot', SHOP, '--json']);
    expect(port.code).toBe(1);
    expect(JSON.parse(port.stdout).findings[0]).toMatchObject({ code: 'SVC_PORT_NOT_FOUND' });
    const missing = knet(['endpoints', 'svc/shop/cat', '--snapshot', SHOP]);
    // Issue #20: a missing object is "could not answer" (2), not "broken network" (1).
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('');
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/^knet: Service shop\/cat does not exist; did you mean svc\/shop\/cart\?/);
  });

  it('rejects a target that is not a service with one line and exit 2', () => {
    const bare = knet(['endpoints', 'cart', '--snapshot', SHOP]);
    expect(bare.code).toBe(2);
    expect(bare.stderr.trim().split('\n')).toHaveLength(1);
    expect(bare.stderr).toContain('svc/NS/NAME');
    const pod = knet(['endpoints', 'pod/shop/cart', '--snapshot', SHOP]);
    expect(pod.code).toBe(2);
    expect(pod.stdout).toBe('');
  });
});

describe('knet endpoints --node', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('checks the local endpoint of a node under externalTrafficPolicy Local', () => {
    const dir = writeBundle([
      rawNode({ name: 'node-1', ip: '172.18.0.2' }),
      rawNode({ name: 'node-2', ip: '172.18.0.3' }),
      service({
        name: 'web',
        type: 'NodePort',
        selector: { app: 'web' },
        externalTrafficPolicy: 'Local',
        ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }],
      }),
      pod({ name: 'web-1', ip: '10.244.1.4', labels: { app: 'web' } }),
      slice({ service: 'web', endpoints: [{ ip: '10.244.1.4', pod: 'web-1', node: 'node-1' }] }),
    ]);
    dirs.push(dir);
    const bad = knet(['endpoints', 'svc/shop/web', '--node', 'node-2', '--snapshot', dir, '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).findings.map((f: { code: string }) => f.code)).toEqual([
      'SVC_NO_LOCAL_ENDPOINTS',
    ]);
    const good = knet(['endpoints', 'svc/shop/web', '--node', 'node-1', '--snapshot', dir]);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('externalTrafficPolicy=Local');
  });
});

// The bundled demo cluster (examples/demo, built by its own generator) plants two service
// breakages: a selector typo (frontend) and a wrong named targetPort (catalog).
const DEMO = path.join(ROOT, 'examples', 'demo', 'cluster.json');
const hasDemo = existsSync(DEMO);
if (!hasDemo) console.warn('examples/demo is absent: skipping the demo checks of knet endpoints');

describe.skipIf(!hasDemo)('knet endpoints on the demo cluster', () => {
  const run = (target: string) => {
    const r = knet(['endpoints', target, '--snapshot', 'demo', '--json']);
    return { code: r.code, doc: JSON.parse(r.stdout || '{}') };
  };
  const errorCodes = (doc: { findings: { code: string; severity: string }[] }) =>
    doc.findings.filter((f) => f.severity === 'error').map((f) => f.code);

  it('finds the planted selector typo', () => {
    const { code, doc } = run('svc/shop/frontend');
    expect(code).toBe(1);
    expect(errorCodes(doc)).toContain('SVC_LABEL_MISMATCH');
    expect(doc.nearMisses.inNamespace[0].differences[0]).toMatchObject({ selectorKey: 'app', podKey: 'app' });
  });

  it('finds the planted wrong named targetPort', () => {
    const { code, doc } = run('svc/shop/catalog');
    expect(code).toBe(1);
    expect(errorCodes(doc)).toEqual(['SVC_TARGET_PORT_MISMATCH']);
  });

  it('reports no error for the healthy services', () => {
    const healthy = [
      'svc/kube-system/kube-dns',
      'svc/shop/cart',
      'svc/shop/checkout',
      'svc/payments/payments-api',
      'svc/monitoring/prometheus',
    ];
    for (const target of healthy) {
      const { code, doc } = run(target);
      expect(errorCodes(doc), target).toEqual([]);
      expect(code, target).toBe(0);
    }
  });
});

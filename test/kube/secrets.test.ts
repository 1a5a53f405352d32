// Issue 11: live, INGRESS_TLS_SECRET_MISSING fires: knet lists Secret names through the API's
// metadata-only list and keeps the name and namespace alone. No Secret data, and no annotation
// that could hold it (last-applied), ever reaches the model, the output or a snapshot. Without
// permission, or from a server that cannot list metadata-only, the check is skipped with a warning.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Raw } from '../../src/model/normalize.js';
import { METADATA_LIST } from '../../src/sources/kube/list.js';
import { readLiveCluster } from '../../src/sources/kube/read.js';
import { ingressNginx, rawIngress, rawIngressClass, shop } from '../edges/builders.js';
import { cleanupTemp, runKnet, sharedPki, tempDir } from './helpers.js';
import { startTestApiServer, type TestApiServer, type TestApiServerOptions } from './server/apiserver.js';

/** Appears in the Secret's data and in its last-applied annotation: it must never reach knet's output. */
const SECRET = 'S3CR3T-KEY-MATERIAL';
const b64 = Buffer.from(SECRET).toString('base64');

const apiTls: Raw = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {
    name: 'api-tls',
    namespace: 'shop',
    labels: { app: 'api' },
    annotations: {
      'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ data: { 'tls.key': b64 } }),
      'cert-manager.io/certificate-name': SECRET,
    },
  },
  type: 'kubernetes.io/tls',
  data: { 'tls.crt': b64, 'tls.key': b64 },
};

const objects: Raw[] = [
  ...shop(),
  rawIngressClass('nginx', 'k8s.io/ingress-nginx', true),
  ...ingressNginx(),
  rawIngress('shop', 'shop', {
    className: 'nginx',
    tls: [
      { hosts: ['shop.example.com'], secretName: 'shop-tls' },
      { hosts: ['api.example.com'], secretName: 'api-tls' },
    ],
    rules: [
      { host: 'shop.example.com', paths: [{ path: '/', service: 'web', port: 80 }] },
      { host: 'api.example.com', paths: [{ path: '/', service: 'web', port: 80 }] },
    ],
  }),
  apiTls,
];

const codes = (doc: { findings: { code: string }[] }) => doc.findings.map((f) => f.code);
const servers: TestApiServer[] = [];

async function serve(opts: Partial<TestApiServerOptions> = {}): Promise<TestApiServer> {
  const server = await startTestApiServer({ objects, pki: sharedPki(), ...opts });
  servers.push(server);
  return server;
}

/** Every file under a directory, as text. */
function allText(dir: string): string {
  return readdirSync(dir)
    .map((name) => path.join(dir, name))
    .map((p) => (statSync(p).isDirectory() ? allText(p) : readFileSync(p, 'utf8')))
    .join('\n');
}

let server: TestApiServer;
beforeAll(async () => {
  server = await serve();
});
afterEach(() => {
  server.requests.length = 0;
  server.forbid.length = 0;
});
afterAll(async () => {
  for (const s of servers) await s.close();
  cleanupTemp();
});

describe('Secret names, live', () => {
  it('keeps the name and namespace of each Secret, nothing else, asked metadata-only', async () => {
    const live = await readLiveCluster({
      kubeconfig: server.kubeconfig(),
      allNamespaces: true,
      kinds: ['ingresses'],
    });
    expect(live.raws.filter((o) => o.kind === 'Secret')).toEqual([
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'api-tls', namespace: 'shop' } },
    ]);
    expect(JSON.stringify(live.raws)).not.toContain(b64);
    expect(JSON.stringify(live.raws)).not.toContain(SECRET);
    const reads = server.requests.filter((r) => r.resource === 'secrets');
    expect(reads.map((r) => [r.verb, r.accept])).toEqual([['list', METADATA_LIST]]);
  });

  it('knet ingress: INGRESS_TLS_SECRET_MISSING for the Secret that does not exist', async () => {
    const r = await runKnet(['ingress', 'ing/shop/shop', '--json', '--kubeconfig', server.kubeconfig()]);
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout);
    expect(codes(doc)).toContain('INGRESS_TLS_SECRET_MISSING');
    const missing = doc.findings.filter((f: { code: string }) => f.code === 'INGRESS_TLS_SECRET_MISSING');
    expect(missing.map((f: { objects: string[] }) => f.objects)).toEqual([
      ['ing/shop/shop', 'secret/shop/shop-tls'],
    ]);
    expect(r.stdout).not.toContain(SECRET);
    expect(r.code).toBe(1);
  });

  it('knet doctor -n shop: the same finding', async () => {
    const r = await runKnet(['doctor', '-n', 'shop', '--json', '--kubeconfig', server.kubeconfig()]);
    expect(r.stderr).toBe('');
    expect(codes(JSON.parse(r.stdout))).toContain('INGRESS_TLS_SECRET_MISSING');
    expect(server.requests.filter((x) => x.resource === 'secrets').map((x) => x.namespace)).toEqual(['shop']);
  });

  it('knet snapshot records the names only, and answers as live', async () => {
    const dir = path.join(tempDir('knet-secrets-'), 'snap');
    const snap = await runKnet(['snapshot', '-A', '-o', dir, '--kubeconfig', server.kubeconfig()]);
    expect(snap.code, snap.stderr).toBe(0);
    const text = allText(dir);
    expect(text).not.toContain(b64);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('"data":{"tls');
    expect(text).toContain(
      '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"api-tls","namespace":"shop"}}',
    );
    const args = ['ingress', 'ing/shop/shop', '--json'];
    const fromSnapshot = await runKnet([...args, '--snapshot', dir]);
    const live = await runKnet([...args, '--kubeconfig', server.kubeconfig()]);
    expect(live.stdout).toBe(fromSnapshot.stdout);
    expect(live.code).toBe(fromSnapshot.code);
    // The outside-in trace reads the cluster as the ingress command does, and answers the same.
    const trace = ['trace', 'ip/203.0.113.7', 'ing/shop/shop', '--host', 'shop.example.com', '--json'];
    const traceSnap = await runKnet([...trace, '--snapshot', dir]);
    const traceLive = await runKnet([...trace, '--kubeconfig', server.kubeconfig()]);
    // (evidence names the bundle's node files by their path)
    expect(traceLive.stdout).toBe(traceSnap.stdout.replaceAll(`${dir}/`, ''));
    const doc = JSON.parse(traceLive.stdout);
    // The controller's Service offers no 443: the client comes in on 80.
    expect(doc.destination).toMatchObject({ kind: 'Ingress', ip: '172.18.255.201', port: 80 });
    expect(codes(doc)).toContain('INGRESS_TLS_SECRET_MISSING');
  });
});

describe('Secret names are optional', () => {
  it('without permission to list secrets: a warning and a note, not a failure', async () => {
    server.forbid.push({ verb: 'list', resource: 'secrets' });
    const r = await runKnet(['ingress', 'ing/shop/shop', '--json', '--kubeconfig', server.kubeconfig()]);
    expect(r.stderr).toBe(
      'knet: warning: TLS Secrets not checked: no permission to list secrets at the cluster scope (see docs/rbac.md)\n',
    );
    const doc = JSON.parse(r.stdout);
    expect(codes(doc)).not.toContain('INGRESS_TLS_SECRET_MISSING');
    expect(doc.notes.join('\n')).toContain('TLS Secrets shop-tls, api-tls not checked');
    expect(r.code).not.toBe(2);

    const doctor = await runKnet(['doctor', '-n', 'shop', '--json', '--kubeconfig', server.kubeconfig()]);
    expect(doctor.stderr).toBe(
      'knet: warning: TLS Secrets not checked: no permission to list secrets in namespace shop (see docs/rbac.md)\n',
    );
    expect(codes(JSON.parse(doctor.stdout))).not.toContain('INGRESS_TLS_SECRET_MISSING');
  });

  it.for([
    ['rejects metadata-only lists (406)', 'reject'],
    ['ignores the metadata-only Accept header and sends whole Secrets', 'ignore'],
  ] as const)('a server that %s: a warning, and no Secret kept', async ([, mode]) => {
    const old = await serve({ partialMetadata: mode });
    const live = await readLiveCluster({
      kubeconfig: old.kubeconfig(),
      allNamespaces: true,
      kinds: ['ingresses'],
    });
    expect(live.raws.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(JSON.stringify(live.raws)).not.toContain(b64);
    expect(live.warnings).toEqual([
      'TLS Secrets not checked: the API server does not list secrets metadata-only at the cluster scope, and knet never reads Secret data (see docs/rbac.md)',
    ]);
  });
});

// Issue 10: live, a trace reads only what its path needs. The same path inside a cluster of 10
// and of 2,000 extra nodes and pods costs the same API requests, and every answer equals the
// one from a snapshot of the same cluster.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EDGE_KINDS, PATH_KINDS } from '../../src/sources/kinds.js';
import { readLiveCluster } from '../../src/sources/kube/read.js';
import { cleanupTemp, runKnet, sharedPki, tempDir, writes } from './helpers.js';
import { pathCluster } from './path-cluster.js';
import { type LoggedRequest, startTestApiServer, type TestApiServer } from './server/apiserver.js';

const SMALL = 10;
const LARGE = 2000;

interface Sized {
  server: TestApiServer;
  kubeconfig: string;
  snapshot: string;
}

const sizes = new Map<number, Sized>();

beforeAll(async () => {
  for (const size of [SMALL, LARGE]) {
    const server = await startTestApiServer({ objects: pathCluster(size), pki: sharedPki() });
    const kubeconfig = server.kubeconfig({ namespace: 'shop' });
    const snapshot = path.join(tempDir('knet-path-'), 'snap.tar.gz');
    const r = await runKnet(['snapshot', '-A', '-o', snapshot, '--kubeconfig', kubeconfig]);
    expect(r.code, r.stderr).toBe(0);
    sizes.set(size, { server, kubeconfig, snapshot });
  }
}, 120_000);
afterAll(async () => {
  for (const s of sizes.values()) await s.server.close();
  cleanupTemp();
});

/** The trace live, with the requests it made, and from the snapshot. */
async function traceBoth(size: number, args: readonly string[]) {
  const { server, kubeconfig, snapshot } = sizes.get(size)!;
  // The kubeconfig's context namespace is shop; a bundle's default namespace is "default".
  const fromSnapshot = await runKnet(['trace', ...args, '--json', '-n', 'shop', '--snapshot', snapshot]);
  server.requests.length = 0;
  const live = await runKnet(['trace', ...args, '--json', '--kubeconfig', kubeconfig]);
  const requests = [...server.requests];
  expect(writes(server)).toEqual([]);
  // Evidence names where a node file would be: in a bundle, prefixed with the bundle's path.
  const unprefixed = (text: string) => text.split(`${snapshot}:`).join('');
  fromSnapshot.stdout = unprefixed(fromSnapshot.stdout);
  fromSnapshot.stderr = unprefixed(fromSnapshot.stderr);
  return { live, fromSnapshot, requests };
}

/** A list of a collection without a label or field selector. */
const unselectedList = (r: LoggedRequest, resource: string) =>
  r.verb === 'list' &&
  r.resource === resource &&
  !r.query.has('labelSelector') &&
  !r.query.has('fieldSelector');

function expectSameAnswer(run: Awaited<ReturnType<typeof traceBoth>>): void {
  expect(run.live.stdout).toBe(run.fromSnapshot.stdout);
  expect(run.live.stderr).toBe(run.fromSnapshot.stderr);
  expect(run.live.code).toBe(run.fromSnapshot.code);
}

describe('knet trace live reads only its path', () => {
  it(`costs the same requests with ${SMALL} and ${LARGE} more nodes and pods`, async () => {
    const args = ['pod/shop/web-1', 'svc/shop/cart'];
    const small = await traceBoth(SMALL, args);
    const large = await traceBoth(LARGE, args);
    expect(large.requests.length).toBe(small.requests.length);
    expect(large.requests.map((r) => `${r.path}?${r.query}`).sort()).toEqual(
      small.requests.map((r) => `${r.path}?${r.query}`).sort(),
    );
    // No whole collection of pods, nodes or namespaces: the ends by name, the rest by selector.
    for (const resource of ['pods', 'nodes', 'namespaces', 'services', 'endpointslices'])
      expect(large.requests.filter((r) => unselectedList(r, resource))).toEqual([]);
    // What the whole-namespace read (the fallback) costs at each size, for comparison.
    const broad: number[] = [];
    for (const size of [SMALL, LARGE]) {
      const { server, kubeconfig } = sizes.get(size)!;
      server.requests.length = 0;
      await readLiveCluster({ kubeconfig, allNamespaces: false, kinds: [...PATH_KINDS] });
      broad.push(server.requests.length);
    }
    console.info(
      `trace path read: ${small.requests.length} requests at +${SMALL} and ${large.requests.length} at +${LARGE} nodes/pods ` +
        `(the whole-namespace read: ${broad[0]} and ${broad[1]})`,
    );
    expect(broad[1]).toBeGreaterThan(broad[0]);
    // And the answer is the snapshot's, at both sizes.
    expectSameAnswer(small);
    expectSameAnswer(large);
    const doc = JSON.parse(large.live.stdout);
    expect(doc.paths).toHaveLength(2);
    expect(doc.findings.map((f: { code: string }) => f.code)).toContain('SVC_SOME_ENDPOINTS_NOT_READY');
  });

  // [case, args, bounded]: an end that does not exist lists its kind for close names.
  it.for([
    ['pod to pod in another namespace', ['pod/shop/web-1', 'pod/payments/pay-1:8443'], true],
    ['pod to node', ['pod/shop/web-1', 'node/node-2'], true],
    ['node to Service', ['node/node-1', 'svc/shop/cart'], true],
    ['the namespace of the context', ['pod/web-1', 'svc/cart'], true],
    ['a Service without EndpointSlices', ['pod/shop/web-1', 'svc/shop/bare'], true],
    ['an endpoint found by its address only', ['pod/shop/web-1', 'svc/shop/manual'], true],
    ['a source that does not exist (close names)', ['pod/shop/web-3', 'svc/shop/cart'], false],
    ['a Service that does not exist (close names)', ['pod/shop/web-1', 'svc/shop/carts'], false],
    ['a node that does not exist (close names)', ['pod/shop/web-1', 'node/node-3'], false],
  ] as const)('%s: the same answer as from a snapshot', async ([, args, bounded]) => {
    const small = await traceBoth(SMALL, args);
    const large = await traceBoth(LARGE, args);
    expectSameAnswer(large);
    if (bounded) expect(large.requests.length).toBe(small.requests.length);
  });

  it('a selector that matches nothing: the finding, and a note instead of near misses it cannot search', async () => {
    const run = await traceBoth(LARGE, ['pod/shop/web-1', 'svc/shop/ghost']);
    const live = JSON.parse(run.live.stdout);
    const snap = JSON.parse(run.fromSnapshot.stdout);
    expect(live.verdict).toBe(snap.verdict);
    expect(run.live.code).toBe(run.fromSnapshot.code);
    const codes = (d: { findings: { code: string }[] }) => d.findings.map((f) => f.code);
    // The snapshot names the near miss; live, with the namespace's pods unread, knet says so.
    expect(codes(snap)).toContain('SVC_LABEL_MISMATCH');
    expect(codes(live)).toEqual(codes(snap).filter((c) => c !== 'SVC_LABEL_MISMATCH'));
    expect(live.notes.join('\n')).toContain(
      'Near misses of the selector were not searched: a live trace reads only the pods on its path (knet endpoints svc/shop/ghost shows them).',
    );
    const noMatch = live.findings.find((f: { code: string }) => f.code === 'SVC_NO_SELECTOR_MATCH');
    expect(noMatch.evidence).toEqual(['selector: app=ghost']);
  });

  it('reads only the path when the command also asks for Ingress and Gateway API kinds (for ing/ ends)', async () => {
    const counts: number[] = [];
    for (const size of [SMALL, LARGE]) {
      const { server, kubeconfig } = sizes.get(size)!;
      server.requests.length = 0;
      const live = await readLiveCluster({
        kubeconfig,
        allNamespaces: false,
        kinds: [...PATH_KINDS, ...EDGE_KINDS],
        path: {
          source: { kind: 'pod', name: 'web-1' },
          destination: { kind: 'svc', namespace: 'shop', name: 'cart' },
        },
      });
      expect(live.coverage).toBe('path');
      expect(server.requests.filter((r) => /ingress|gateway|secrets/.test(r.path))).toEqual([]);
      counts.push(server.requests.length);
    }
    expect(counts[1]).toBe(counts[0]);
  });

  it('ip/ and dns/ destinations fall back to the whole-namespace read', async () => {
    for (const dst of ['ip/10.96.0.50:80', 'dns/cart']) {
      const run = await traceBoth(SMALL, ['pod/shop/web-1', dst]);
      expectSameAnswer(run);
      expect(run.requests.some((r) => unselectedList(r, 'pods'))).toBe(true);
    }
  });
});

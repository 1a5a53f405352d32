// Larger clusters: node collection runs a bounded number of debug pods at a time, and a big
// object list is read page by page. The times printed are those of knet and the test API
// server on loopback (no real kubelet): knet's own cost per node.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Raw } from '../../src/model/normalize.js';
import { collectNodeFiles } from '../../src/sources/kube/collect.js';
import { readLiveCluster } from '../../src/sources/kube/read.js';
import { cleanupTemp, serveBundle, sharedPki } from './helpers.js';
import { startTestApiServer, type TestApiServer } from './server/apiserver.js';
import { bundleExec } from './server/fake-node.js';

const NODES = 300;
const PODS = 6000;

describe(`${NODES} nodes, ${PODS} pods`, () => {
  let server: TestApiServer;
  const nodeFiles: Record<string, Record<string, string>> = {};

  beforeAll(async () => {
    const { server: small, bundle } = await serveBundle();
    await small.close();
    const template = bundle.nodeFiles['node-1'];
    const objects: Raw[] = [];
    for (let i = 0; i < NODES; i++) {
      const name = `node-${String(i).padStart(4, '0')}`;
      objects.push({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name },
        spec: { podCIDR: `10.${100 + (i >> 8)}.${i & 255}.0/24` },
        status: { addresses: [{ type: 'InternalIP', address: `172.20.${i >> 8}.${i & 255}` }] },
      });
      nodeFiles[name] = Object.fromEntries(Object.entries(template).filter(([p]) => !p.startsWith('pods/')));
    }
    for (let i = 0; i < PODS; i++) {
      objects.push({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `app-${i}`, namespace: `ns-${i % 50}`, labels: { app: `app-${i % 200}` } },
        spec: {
          nodeName: `node-${String(i % NODES).padStart(4, '0')}`,
          containers: [{ name: 'app', image: 'app:1' }],
        },
        status: {
          phase: 'Running',
          podIP: `10.${100 + ((i % NODES) >> 8)}.${(i % NODES) & 255}.${2 + Math.floor(i / NODES)}`,
        },
      });
    }
    server = await startTestApiServer({
      objects,
      pki: sharedPki(),
      exec: (ctx, io) => bundleExec(nodeFiles)(ctx, io),
      kubelet: () => ({ run: true, delayMs: 5 }),
    });
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    cleanupTemp();
  });

  it('reads every pod in pages of 500', async () => {
    const started = Date.now();
    const live = await readLiveCluster({
      kubeconfig: server.kubeconfig(),
      allNamespaces: true,
      kinds: ['nodes', 'pods'],
    });
    const ms = Date.now() - started;
    expect(live.raws.filter((o) => o.kind === 'Pod')).toHaveLength(PODS);
    expect(server.requests.filter((r) => r.path === '/api/v1/pods')).toHaveLength(PODS / 500);
    console.info(`scale: read ${NODES} nodes + ${PODS} pods in ${ms} ms`);
  });

  it('collects every node with at most 20 debug pods at a time, and deletes them all', async () => {
    server.resetStats();
    const started = Date.now();
    const files = await collectNodeFiles(
      { kubeconfig: server.kubeconfig(), concurrency: 20, pollIntervalMs: 10, handleSignals: false },
      Object.keys(nodeFiles),
    );
    const ms = Date.now() - started;
    expect(files.errors).toEqual([]);
    expect(files.nodes()).toHaveLength(NODES);
    expect(server.maxCreatedPods()).toBeLessThanOrEqual(20);
    expect(server.maxCreatedPods()).toBeGreaterThan(1);
    expect(server.objects('Pod').filter((p) => String(p.metadata.name).startsWith('knet-collect-'))).toEqual(
      [],
    );
    const perNode = files.timings.reduce((a, t) => a + t.ms, 0) / files.timings.length;
    console.info(
      `scale: collected ${NODES} nodes in ${ms} ms with 20 at a time: ${(ms / NODES).toFixed(1)} ms per node of wall time, ` +
        `${perNode.toFixed(0)} ms per node from create to delete`,
    );
  }, 120_000);
});

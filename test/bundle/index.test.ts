// knet-index.json and the model read by position: the same model as one built from every
// object, an index that no longer describes its files is not used (or, edited under it, says
// so), and a bundle in another layout has none.
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../src/model/build.js';
import { LazyClusterModel } from '../../src/model/lazy-cluster.js';
import { buildBundleIndex, INDEX_FILE, readBundleIndex } from '../../src/sources/bundle/index.js';
import { DEMO_BUNDLE, readBundle } from '../../src/sources/bundle/read.js';
import { BundleWriter } from '../../src/sources/bundle/write.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'knet-index-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The demo written as knet snapshot writes a bundle, in small chunks (several files). */
async function indexedDemo(name: string): Promise<string> {
  const dir = path.join(tmp, name);
  const demo = await readBundle('demo');
  const w = BundleWriter.open(dir, { chunkBytes: 20_000 });
  await w.writeObjects([...demo.raws]);
  cpSync(path.join(DEMO_BUNDLE, 'nodes'), path.join(dir, 'nodes'), { recursive: true });
  return dir;
}

describe('a model read by position', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await indexedDemo('demo');
  });

  it('holds what the model built from every object holds, in the same order', async () => {
    const bundle = await readBundle(dir);
    expect(bundle.indexed).toBeDefined();
    const whole = buildModel(bundle.raws, bundle.nodeFiles);
    const lazy = new LazyClusterModel(bundle.indexed!, bundle.nodeFiles);
    // Per-namespace and per-node questions first (read by position), whole lists after.
    for (const ns of whole.namespaces.map((n) => n.name)) {
      expect(lazy.podsInNamespace(ns)).toEqual(whole.podsInNamespace(ns));
      expect(lazy.servicesInNamespace(ns)).toEqual(whole.servicesInNamespace(ns));
      expect(lazy.policiesInNamespace(ns)).toEqual(whole.policiesInNamespace(ns));
    }
    for (const s of whole.services) {
      expect(lazy.endpointSlicesFor(s)).toEqual(whole.endpointSlicesFor(s));
      expect(lazy.service(s.namespace, s.name)).toEqual(s);
    }
    for (const n of whole.nodes) {
      expect(lazy.node(n.name)).toEqual(n);
      expect(lazy.podsOnNode(n.name)).toEqual(whole.podsOnNode(n.name));
      for (const ip of n.internalIPs) expect(lazy.nodeByIP(ip)).toEqual(whole.nodeByIP(ip));
      for (const c of n.podCIDRs) {
        const ip = c.replace(/\.0\/\d+$/, '.7');
        expect(lazy.nodeWithPodCIDR(ip)).toEqual(whole.nodeWithPodCIDR(ip));
      }
    }
    for (const p of whole.pods) for (const ip of p.ips) expect(lazy.podsByIP(ip)).toEqual(whole.podsByIP(ip));
    expect(lazy.podsByIP('192.0.2.99')).toEqual([]);
    expect(lazy.hasNodes()).toBe(true);
    expect(lazy.hasEndpointSlices()).toBe(whole.hasEndpointSlices());
    for (const key of [
      'namespaces',
      'nodes',
      'pods',
      'services',
      'endpointSlices',
      'networkPolicies',
    ] as const)
      expect(lazy[key]).toEqual(whole[key]);
    for (const key of ['ingresses', 'ingressClasses', 'daemonSets', 'configMaps', 'others'] as const)
      expect(lazy[key]).toEqual(whole[key]);
    // The same object whichever way it was asked for.
    const pod = whole.pods[0];
    expect(lazy.pod(pod.namespace, pod.name)).toBe(lazy.pods[0]);
  });

  it('is not used when a file changed size since it was indexed (the bundle is read whole)', async () => {
    const d = await indexedDemo('grown');
    appendFileSync(path.join(d, 'cluster.json'), '\n');
    expect((await readBundle(d)).indexed).toBeUndefined();
  });

  it('says so when a line it points at is another object now', async () => {
    const d = await indexedDemo('edited');
    const file = path.join(d, 'cluster.json');
    // Same size, another kind on the lines of the namespaces: "Namespace" → "Nam3space".
    writeFileSync(file, readFileSync(file, 'utf8').replaceAll('"kind":"Namespace"', '"kind":"Nam3space"'));
    const bundle = await readBundle(d);
    expect(bundle.indexed).toBeDefined();
    const lazy = new LazyClusterModel(bundle.indexed!, bundle.nodeFiles);
    expect(() => lazy.namespaces).toThrow(
      /knet-index\.json does not match .*cluster\.json .*delete knet-index\.json/,
    );
  });

  it('is not built for files in another layout (pretty-printed kubectl output)', () => {
    expect(buildBundleIndex(DEMO_BUNDLE, ['cluster.json'])).toBeUndefined();
  });

  it('is refused when it lists other files', async () => {
    const d = await indexedDemo('renamed');
    const index = JSON.parse(readFileSync(path.join(d, INDEX_FILE), 'utf8'));
    expect(
      readBundleIndex(
        d,
        index.files.map((f: { rel: string }) => f.rel),
      ),
    ).toBeDefined();
    expect(readBundleIndex(d, ['cluster.json'])).toBeUndefined();
  });
});

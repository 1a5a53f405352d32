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

  it('finds a pod or service by name without reading its namespace, as the whole model does', async () => {
    const bundle = await readBundle(dir);
    const whole = buildModel(bundle.raws, bundle.nodeFiles);
    let read = 0;
    const source = bundle.indexed!;
    const counting = {
      ...source,
      read: (o: readonly number[], each: Parameters<typeof source.read>[1]) => {
        read += o.length;
        source.read(o, each);
      },
    };
    const lazy = new LazyClusterModel(counting, bundle.nodeFiles);
    for (const p of whole.pods) expect(lazy.pod(p.namespace, p.name)).toEqual(p);
    for (const s of whole.services) expect(lazy.service(s.namespace, s.name)).toEqual(s);
    // One object per name (the demo has no hash collision), not the namespaces' lists.
    expect(read).toBe(whole.pods.length + whole.services.length);
    expect(lazy.pod('shop', 'no-such-pod')).toBeUndefined();
    expect(lazy.service('no-such-namespace', 'frontend')).toBeUndefined();
    // Found by name first, then in the namespace's list: the same object.
    const pod = whole.pods[0];
    expect(lazy.podsInNamespace(pod.namespace)).toContain(lazy.pod(pod.namespace, pod.name));
  });

  it('finds the last of two objects of one name, and one whose name it could not hash', async () => {
    const d = path.join(tmp, 'twice');
    const demo = [...(await readBundle('demo')).raws];
    const pod = demo.find((r) => r.kind === 'Pod');
    const twin = { ...pod, spec: { ...pod.spec, nodeName: 'twin-node' } };
    // A name that is not a string: the index keeps no hash, the model reads the object.
    const odd = { ...pod, metadata: { ...pod.metadata, name: 42 } };
    const w = BundleWriter.open(d, { chunkBytes: 20_000 });
    await w.writeObjects([...demo, twin, odd]);
    const bundle = await readBundle(d);
    const whole = buildModel(bundle.raws, bundle.nodeFiles);
    const ns = pod.metadata.namespace;
    const lazy = () => new LazyClusterModel(bundle.indexed!, bundle.nodeFiles);
    expect(lazy().pod(ns, pod.metadata.name)?.nodeName).toBe('twin-node');
    expect(lazy().pod(ns, pod.metadata.name)).toEqual(whole.pod(ns, pod.metadata.name));
    expect(lazy().pod(ns, '42')).toEqual(whole.pod(ns, '42'));
    expect(whole.pod(ns, '42')).toBeDefined();
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

  it('is ignored when written by an older knet (version 3: plain columns)', async () => {
    const d = await indexedDemo('old');
    const file = path.join(d, INDEX_FILE);
    const index = JSON.parse(readFileSync(file, 'utf8'));
    const files = index.files.map((f: { rel: string }) => f.rel);
    expect(readBundleIndex(d, files)).toBeDefined();
    writeFileSync(file, JSON.stringify({ ...index, version: 3 }));
    expect(readBundleIndex(d, files)).toBeUndefined();
    // A column whose length does not agree with the runs: not used either.
    writeFileSync(file, JSON.stringify({ ...index, podNode: '' }));
    expect(readBundleIndex(d, files)).toBeUndefined();
  });
});

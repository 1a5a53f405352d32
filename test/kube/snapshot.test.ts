// knet snapshot: the bundle it writes (directory, .tar.gz, chunks, meta.json, node files), read
// back by knet's own bundle reader; the same answers live and from the snapshot; its errors.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildObjects } from '../../src/model/build.js';
import { memoryNodeFiles } from '../../src/model/node-files.js';
import { readBundle } from '../../src/sources/bundle/read.js';
import { BundleWriter, writeBundle } from '../../src/sources/bundle/write.js';
import { ALL_KINDS, readLiveCluster } from '../../src/sources/kube/read.js';
import { cleanupTemp, failure, runKnet, serveBundle, tempDir, writes } from './helpers.js';
import type { TestApiServer } from './server/apiserver.js';
import type { LoadedBundle } from './server/bundle.js';
import { bundleExec } from './server/fake-node.js';

let server: TestApiServer;
let bundle: LoadedBundle;
const tmp = tempDir('knet9-snap-');
let n = 0;
const target = (suffix = '') => path.join(tmp, `snap-${++n}${suffix}`);

beforeAll(async () => {
  ({ server, bundle } = await serveBundle(undefined, {
    exec: (ctx, io) => bundleExec(bundle.nodeFiles)(ctx, io),
  }));
});
afterAll(async () => {
  await server.close();
  cleanupTemp();
});
afterEach(() => {
  server.requests.length = 0;
  server.faults.length = 0;
  server.forbid.length = 0;
});

const live = () =>
  readLiveCluster({ kubeconfig: server.kubeconfig(), allNamespaces: true, kinds: [...ALL_KINDS] });

describe('the bundle writer, read back by the bundle reader', () => {
  it('a directory: the same objects in the same order, and the same model', async () => {
    const cluster = await live();
    const dir = target();
    await writeBundle(dir, {
      raws: cluster.raws,
      meta: { capturedAt: 'now', context: cluster.context, server: cluster.server },
    });
    const back = await readBundle(dir);
    expect([...back.raws]).toEqual(cluster.raws);
    expect(buildObjects(back.raws)).toEqual(buildObjects(cluster.raws));
    expect(back.meta).toMatchObject({
      context: 'knet-test',
      server: server.url,
      knetVersion: expect.any(String),
    });
    expect(readFileSync(path.join(dir, 'cluster.json'), 'utf8')).not.toContain('managedFields');
  });

  it('a .tar.gz holding one folder', async () => {
    const cluster = await live();
    const file = target('.tar.gz');
    const nodeFiles = memoryNodeFiles(bundle.nodeFiles);
    await writeBundle(file, { raws: cluster.raws, nodeFiles, meta: { capturedAt: 'now' } });
    expect(statSync(file).isFile()).toBe(true);
    expect(readdirSync(tmp).filter((f) => f.startsWith('.knet-snapshot-') || f.endsWith('.partial'))).toEqual(
      [],
    );
    const back = await readBundle(file);
    expect([...back.raws]).toEqual(cluster.raws);
    for (const node of ['node-1', 'node-2']) {
      for (const [rel, text] of Object.entries(bundle.nodeFiles[node]))
        expect(back.nodeFiles.read(node, rel)).toBe(text);
    }
    expect(back.nodeFiles.list('node-2', 'pods')).toEqual(['shop_cart-1']);
  });

  it('chunks large object lists into cluster/*.json, none much larger than the chunk size', async () => {
    const cluster = await live();
    const dir = target();
    await writeBundle(dir, { raws: cluster.raws, meta: { capturedAt: 'now' } }, { chunkBytes: 4096 });
    const chunks = readdirSync(path.join(dir, 'cluster'));
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks[0]).toBe('objects-0001.json');
    const largest = Math.max(...cluster.raws.map((r) => JSON.stringify(r).length));
    for (const f of ['cluster.json', ...chunks.map((c) => `cluster/${c}`)]) {
      const size = statSync(path.join(dir, f)).size;
      expect(size).toBeLessThanOrEqual(4096 + largest + 200);
      expect(JSON.parse(readFileSync(path.join(dir, f), 'utf8')).kind).toBe('List');
    }
    const back = await readBundle(dir);
    expect([...back.raws]).toEqual(cluster.raws);
  });

  it('refuses to write into a non-empty directory or over an existing file', async () => {
    const dir = target();
    await writeBundle(dir, { raws: [], meta: { capturedAt: 'now' } });
    expect((await failure(async () => BundleWriter.open(dir))).message).toMatch(/exists and is not empty/);
    const file = target('.tar.gz');
    writeFileSync(file, 'x');
    expect((await failure(async () => BundleWriter.open(file))).message).toMatch(/already exists/);
  });

  it('rejects node file paths that would leave the bundle', () => {
    const w = BundleWriter.open(target());
    expect(() => w.writeNodeFiles('node-1', { '../../escape': 'x' })).toThrow(/invalid node file path/);
    expect(() => w.writeNodeFiles('..', { a: 'x' })).toThrow(/invalid node name/);
    w.abort();
  });
});

describe('knet snapshot (the CLI)', () => {
  it('writes a bundle of the whole cluster with -A, reading only', async () => {
    const dir = target();
    const r = await runKnet(['snapshot', '-A', '-o', dir, '--kubeconfig', server.kubeconfig()]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const count = (await live()).raws.length;
    expect(r.stdout).toBe(`wrote ${dir}: ${count} objects\n`);
    const meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8'));
    expect(meta).toMatchObject({
      context: 'knet-test',
      server: server.url,
      allNamespaces: true,
      objects: count,
    });
    expect(Date.parse(meta.capturedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(existsSync(path.join(dir, 'nodes'))).toBe(false);
    expect(writes(server)).toEqual([]);
    expect(server.requests.filter((r) => r.path === '/api/v1/pods')[0].query.get('limit')).toBe('500');
  });

  it('captures the context namespace without -n/-A, and says so', async () => {
    const dir = target('.tar.gz');
    const r = await runKnet([
      'snapshot',
      '-o',
      dir,
      '--kubeconfig',
      server.kubeconfig({ namespace: 'shop' }),
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      'knet: capturing namespace shop (the context namespace); use -A for all namespaces\n',
    );
    const back = await readBundle(dir);
    const pods = [...back.raws].filter((o) => o.kind === 'Pod');
    expect(pods.length).toBe(4);
    expect(pods.every((p) => p.metadata.namespace === 'shop')).toBe(true);
    expect(back.meta).toMatchObject({ namespace: 'shop', allNamespaces: false });
  });

  it('--collect-nodes writes nodes/NODE/… and deletes every debug pod', async () => {
    const dir = target();
    const r = await runKnet([
      'snapshot',
      '-A',
      '-o',
      dir,
      '--kubeconfig',
      server.kubeconfig(),
      '--collect-nodes',
      '--nodes',
      'node-1,node-2',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/objects, node files of 2 nodes\n$/);
    const back = await readBundle(dir);
    for (const node of ['node-1', 'node-2']) {
      for (const [rel, text] of Object.entries(bundle.nodeFiles[node]))
        expect(back.nodeFiles.read(node, rel)).toBe(text);
    }
    const posts = writes(server).filter((w) => w.method === 'POST');
    const deletes = writes(server).filter((w) => w.method === 'DELETE');
    expect(posts).toHaveLength(2);
    expect(deletes).toHaveLength(2);
    expect(server.objects('Pod').filter((p) => p.metadata.name.startsWith('knet-collect-'))).toEqual([]);
    expect(JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8')).nodes).toEqual(['node-1', 'node-2']);
  });

  it('an unknown --nodes name is an error before any pod is created', async () => {
    const dir = target();
    const r = await runKnet([
      'snapshot',
      '-A',
      '-o',
      dir,
      '--kubeconfig',
      server.kubeconfig(),
      '--collect-nodes',
      '--nodes',
      'node-9',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('knet: no such node: node-9 (nodes: control-plane, node-1, node-2)\n');
    expect(writes(server)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });

  it.each([
    [
      '403',
      () =>
        server.forbid.push({
          verb: 'list',
          resource: 'endpointslices',
          group: 'discovery.k8s.io',
          namespace: 'shop',
        }),
      ['-n', 'shop'],
      'knet: forbidden: cannot list endpointslices.discovery.k8s.io in namespace shop (see docs/rbac.md)\n',
    ],
    [
      '401',
      () => undefined,
      ['-A', '--context', 'bad'],
      'knet: authentication failed for context bad: Unauthorized (the credentials were rejected; renew them or check the kubeconfig user)\n',
    ],
    [
      '500',
      () => server.faults.push({ path: /\/nodes$/, status: 500, message: 'boom' }),
      ['-A'],
      `knet: the API server at ${'URL'} answered 500 InternalError to list nodes at the cluster scope: boom\n`,
    ],
  ])('%s: one line on stderr, exit 2, no partial bundle', async (_name, arrange, extra, expected) => {
    arrange();
    const dir = target();
    const kc = extra.includes('bad')
      ? server.kubeconfig({ token: 'wrong', context: 'bad' })
      : server.kubeconfig();
    const r = await runKnet([
      'snapshot',
      '-o',
      dir,
      '--kubeconfig',
      kc,
      ...extra.filter((e) => e !== '--context' && e !== 'bad'),
    ]);
    expect(r.stderr).toBe(expected.replace('URL', server.url));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(existsSync(dir)).toBe(false);
  });

  it('an unreachable server: the address and the cause, exit 2', async () => {
    const kc = server.kubeconfig({ server: 'https://127.0.0.1:1' });
    const r = await runKnet(['snapshot', '-A', '-o', target(), '--kubeconfig', kc]);
    expect(r.stderr).toBe(
      'knet: cannot reach the API server https://127.0.0.1:1 (context knet-test): connection refused\n',
    );
    expect(r.code).toBe(2);
  });

  it('-n and -A together are refused', async () => {
    const r = await runKnet([
      'snapshot',
      '-A',
      '-n',
      'shop',
      '-o',
      target(),
      '--kubeconfig',
      server.kubeconfig(),
    ]);
    expect(r.code).toBe(2);
    // The shared check of every command (issue #20: conflicting flags are one line, exit 2).
    expect(r.stderr).toBe(
      'knet: -A and -n cannot be used together: -A reads every namespace, -n one of them\n',
    );
  });
});

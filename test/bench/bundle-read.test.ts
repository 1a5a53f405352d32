// The bundle reader streams objects for scale: files written one item per line (knet
// snapshot, bench/generate.js) are parsed line by line, other layouts as one document, and
// `raws` reads itself only when used as an array. Every path must give exactly what parsing
// each file whole gives — the same objects in the same order, or the same error.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ParseError, parseJsonText } from '../../src/core/errors.js';
import { buildModel, flattenObjects } from '../../src/model/build.js';
import type { Raw } from '../../src/model/normalize.js';
import { readBundle } from '../../src/sources/bundle/read.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function bundle(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'knet-bench-read-'));
  dirs.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

/** `knet snapshot`'s layout: a List header line, one item per line, `]}`. */
function lineList(items: unknown[], kind = 'List'): string {
  return `{"apiVersion":"v1","kind":"${kind}","metadata":{"resourceVersion":""},"items":[\n${items.map((i) => JSON.stringify(i)).join(',\n')}\n]}\n`;
}

const pod = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace: 'shop', name, labels: { app: name.split('-')[0] } },
  spec: { nodeName: 'n1', containers: [{ name: 'c', ports: [{ containerPort: 80 }] }] },
  status: {
    phase: 'Running',
    podIP: `10.0.0.${name.length}`,
    conditions: [{ type: 'Ready', status: 'True' }],
  },
  ...extra,
});
const items = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
  pod('web-1'),
  pod('web-22', { metadata: { namespace: 'shop', name: 'web-22', labels: { app: 'web', note: 'a,\n]}' } } }),
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: 'shop', name: 'web' },
    spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
  },
  { apiVersion: 'v1', kind: 'List', items: [pod('db-0')] },
];

/** What the reader must return: each file parsed whole, flattened. */
const whole = (...texts: string[]) => texts.flatMap((t) => flattenObjects(JSON.parse(t)));

async function read(dir: string): Promise<Raw[]> {
  return [...(await readBundle(dir)).raws];
}

describe('bundle reader: one item per line', () => {
  it('reads a line-per-item List exactly as the whole document', async () => {
    const text = lineList(items);
    expect(await read(bundle({ 'cluster.json': text }))).toEqual(whole(text));
  });

  it('gives the same model as the pretty-printed file', async () => {
    const lines = bundle({ 'cluster.json': lineList(items) });
    const pretty = bundle({
      'cluster.json': JSON.stringify({ apiVersion: 'v1', kind: 'List', items }, null, 2),
    });
    const a = buildModel((await readBundle(lines)).raws);
    const b = buildModel((await readBundle(pretty)).raws);
    expect(a.pods).toEqual(b.pods);
    expect(a.services).toEqual(b.services);
    expect(a.pods.map((p) => p.name)).toEqual(['web-1', 'web-22', 'db-0']);
  });

  it('items of a typed List take its kind', async () => {
    const kindless = items.slice(1, 3).map(({ kind, ...rest }) => rest);
    const text = lineList(kindless, 'PodList');
    const got = await read(bundle({ 'cluster.json': text }));
    expect(got).toEqual(whole(text));
    expect(got.map((r) => r.kind)).toEqual(['Pod', 'Pod']);
  });

  it('an empty List, and several chunk files in order', async () => {
    const a = lineList([]);
    const b = lineList(items.slice(0, 2));
    const c = lineList(items.slice(2));
    const got = await read(
      bundle({ 'cluster.json': a, 'cluster/objects-0001.json': b, 'cluster/objects-0002.json': c }),
    );
    expect(got).toEqual(whole(a, b, c));
  });

  it('falls back to the whole document when a line holds more than one item', async () => {
    const text = lineList(items).replace(`,\n${JSON.stringify(items[2])}`, `, ${JSON.stringify(items[2])}`);
    expect(text.split('\n').length).toBe(lineList(items).split('\n').length - 1);
    expect(await read(bundle({ 'cluster.json': text }))).toEqual(whole(text));
  });

  it('a missing comma between lines is the error the whole document gives', async () => {
    const text = lineList(items).replace(`${JSON.stringify(items[2])},\n`, `${JSON.stringify(items[2])}\n`);
    expect(() => JSON.parse(text)).toThrow();
    const b = await readBundle(bundle({ 'cluster.json': text }));
    const err = (() => {
      try {
        buildModel(b.raws);
      } catch (e) {
        return e as ParseError;
      }
    })();
    expect(err).toBeInstanceOf(ParseError);
    expect(err?.line).toBe(5);
    expect(err?.message).toMatch(/cluster\.json:5: invalid JSON/);
  });

  it('a broken item line: the ParseError of the whole document', async () => {
    const good = lineList(items);
    const text = good.replace('"name":"web-22"', '"name":web-22"');
    const dir = bundle({ 'cluster.json': text });
    const b = await readBundle(dir);
    const shown = path.join(dir, 'cluster.json');
    let want = '';
    try {
      parseJsonText(text, shown);
    } catch (e) {
      want = (e as Error).message;
    }
    expect(want).toMatch(/invalid JSON/);
    expect(() => [...b.raws]).toThrow(want);
  });
});

describe('bundle reader: raws streamed from the files', () => {
  it('every iteration streams the same objects again', async () => {
    const text = lineList(items);
    const b = await readBundle(bundle({ 'cluster.json': text }));
    const want = whole(text);
    expect([...b.raws]).toEqual(want);
    expect([...b.raws]).toEqual(want);
    expect([...b.raws].find((r) => r.metadata?.name === 'db-0')?.kind).toBe('Pod');
  });

  it('a bundle whose files hold no objects is an error when it is read', async () => {
    const b = await readBundle(bundle({ 'cluster.json': lineList([]) }));
    expect(() => [...b.raws]).toThrow(/has no cluster objects: cluster\.json contain no Kubernetes objects/);
  });
});

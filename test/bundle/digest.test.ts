// knet-objects.jsonl: whole kinds normalised, written with knet-index.json. Read when a command
// asks for a whole kind, it gives the model the same objects (and input warnings) as the object
// files; it is not used once it no longer describes the bundle (files changed, other normalising
// code, a line or an entry of the wrong shape), and an object JSON cannot carry is read from the
// files.
import { cpSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../src/model/build.js';
import { LazyClusterModel } from '../../src/model/lazy-cluster.js';
import type { Raw } from '../../src/model/normalize.js';
import type { Pod } from '../../src/model/types.js';
import { writeBundleIndex } from '../../src/sources/bundle/derived.js';
import { DIGEST_FILE, openDigest } from '../../src/sources/bundle/digest.js';
import { type BundleIndex, readBundleIndex } from '../../src/sources/bundle/index.js';
import { DEMO_BUNDLE, readBundle } from '../../src/sources/bundle/read.js';
import { BundleWriter } from '../../src/sources/bundle/write.js';
import { tempDir } from '../support/cli.js';
import { rawPod } from '../support/objects.js';

const tmp = tempDir('knet-digest-');

/** The demo's objects plus pods the digest must handle, written as knet snapshot writes them. */
async function bundle(name: string, extra: Raw[] = []): Promise<string> {
  const dir = path.join(tmp, name);
  const demo = await readBundle('demo');
  const w = BundleWriter.open(dir, { chunkBytes: 20_000 });
  await w.writeObjects([...demo.raws, ...extra]);
  cpSync(path.join(DEMO_BUNDLE, 'nodes'), path.join(dir, 'nodes'), { recursive: true });
  return dir;
}

/** A pod that raises an input warning, and one whose port JSON cannot carry (NaN). */
const ODD: Raw[] = [
  { ...rawPod({ namespace: 'shop', name: 'odd-ip', ip: '10.244.1.300', labels: { app: 'odd' } }) },
  (() => {
    const p = rawPod({
      namespace: 'shop',
      name: 'nan-port',
      ip: '10.244.1.77',
      labels: { app: 'nan' },
    }) as Raw;
    p.spec.containers = [{ name: 'c', ports: [{ containerPort: 'http-ish', protocol: 'TCP' }] }];
    return p;
  })(),
];

/** The object files BundleWriter writes: cluster.json, then cluster/objects-NNNN.json. */
const objectFiles = (dir: string) => [
  'cluster.json',
  ...readdirSync(path.join(dir, 'cluster'))
    .sort()
    .map((f) => `cluster/${f}`),
];

function indexOf(dir: string): BundleIndex {
  const files = objectFiles(dir);
  const index = readBundleIndex(dir, files);
  if (!index) throw new Error(`${dir}: no index`);
  return index;
}

const modelOf = async (dir: string, warn?: (m: string) => void) => {
  const b = await readBundle(dir);
  expect(b.indexed).toBeDefined();
  return { lazy: new LazyClusterModel(b.indexed!, b.nodeFiles, warn), bundle: b };
};

describe('knet-objects.jsonl', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await bundle('odd', ODD);
  });

  it('is written with the index, and holds every pod the model would make', () => {
    const digest = openDigest(dir, indexOf(dir))?.('Pod');
    expect(digest).toBeDefined();
    const pods = digest!.values as (Pod | null | 0)[];
    expect(pods.length).toBeGreaterThan(10);
    // The NaN port is left to the object files (0); the others are there.
    expect(pods.filter((p) => p === 0)).toHaveLength(1);
    expect(pods.filter((p) => p !== 0 && p !== null).map((p) => p.name)).toContain('odd-ip');
    expect([...digest!.warnings.values()].flat().join('\n')).toContain('10.244.1.300');
  });

  it('gives the same pods, in the same order, with the same warnings, as the object files', async () => {
    const said: string[] = [];
    const { lazy, bundle: b } = await modelOf(dir, (m) => said.push(m));
    const wholeSaid: string[] = [];
    const whole = buildModel(b.raws, b.nodeFiles, undefined, (m) => wholeSaid.push(m));
    expect(lazy.pods).toEqual(whole.pods);
    expect(said).toEqual(wholeSaid.filter((m) => /pod/i.test(m)));
    expect(said.join('\n')).toContain('10.244.1.300');
    // The NaN port came from the object file: JSON would have made it null.
    const nan = lazy.pods.find((p) => p.name === 'nan-port');
    expect(Number.isNaN(nan?.containers[0].ports[0].containerPort)).toBe(true);
  });

  it('is what the model reads for every pod (an entry changed in it shows)', async () => {
    const copy = path.join(tmp, 'changed-digest');
    cpSync(dir, copy, { recursive: true, preserveTimestamps: true });
    const file = path.join(copy, DIGEST_FILE);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"app":"odd"', '"app":"ODD"'));
    const { lazy } = await modelOf(copy);
    expect(lazy.pods.find((p) => p.name === 'odd-ip')?.labels.app).toBe('ODD');
    // Per-namespace questions before any whole list still read the object files.
    const { lazy: fresh } = await modelOf(copy);
    expect(fresh.podsInNamespace('shop').find((p) => p.name === 'odd-ip')?.labels.app).toBe('odd');
  });

  const ignored: [string, (copy: string) => void][] = [
    [
      'an object file changed after it (modification time)',
      (copy) => {
        const f = path.join(copy, 'cluster', 'objects-0001.json');
        utimesSync(f, new Date(), new Date(Date.now() + 5000));
      },
    ],
    [
      'made by other normalising code',
      (copy) => {
        const file = path.join(copy, DIGEST_FILE);
        const text = readFileSync(file, 'utf8');
        writeFileSync(file, text.replace(/"normalizer":"[0-9a-f]+"/, '"normalizer":"0123"'));
      },
    ],
    [
      'a line that is not JSON',
      (copy) => {
        const file = path.join(copy, DIGEST_FILE);
        writeFileSync(file, readFileSync(file, 'utf8').replace('{"namespace":', '{"namespace" '));
      },
    ],
    [
      'an entry that is not a pod',
      (copy) => {
        const file = path.join(copy, DIGEST_FILE);
        writeFileSync(file, readFileSync(file, 'utf8').replace('"hostNetwork":false', '"hostNetwork":"fal"'));
      },
    ],
    [
      'fewer pods than the index',
      (copy) => {
        const file = path.join(copy, DIGEST_FILE);
        // The last pod (the NaN one, 0) dropped, the line kept as long (trailing blanks).
        writeFileSync(file, readFileSync(file, 'utf8').replace(',0]\n', ']  \n'));
      },
    ],
  ];
  for (const [why, spoil] of ignored) {
    it(`is not used when it no longer holds: ${why}`, async () => {
      const copy = path.join(tmp, why.replace(/\W+/g, '-'));
      cpSync(dir, copy, { recursive: true, preserveTimestamps: true });
      const file = path.join(copy, DIGEST_FILE);
      writeFileSync(file, readFileSync(file, 'utf8').replace('"app":"odd"', '"app":"ODD"'));
      // Intact but for the marker above, the copy's digest is used …
      expect((await modelOf(copy)).lazy.pods.find((p) => p.name === 'odd-ip')?.labels.app).toBe('ODD');
      spoil(copy);
      // … spoiled, the pods come from the object files.
      const { lazy } = await modelOf(copy);
      expect(openDigest(copy, indexOf(copy))?.('Pod')).toBeUndefined();
      expect(lazy.pods.find((p) => p.name === 'odd-ip')?.labels.app).toBe('odd');
    });
  }

  it('is not used when it is a link that leaves the bundle (docs/security.md)', async () => {
    const copy = path.join(tmp, 'linked');
    cpSync(dir, copy, { recursive: true, preserveTimestamps: true });
    const file = path.join(copy, DIGEST_FILE);
    const outside = path.join(tmp, 'outside.jsonl');
    writeFileSync(outside, readFileSync(file, 'utf8').replace('"app":"odd"', '"app":"ODD"'));
    rmSync(file);
    symlinkSync(outside, file);
    const { lazy } = await modelOf(copy);
    expect(lazy.pods.find((p) => p.name === 'odd-ip')?.labels.app).toBe('odd');
  });

  it('is written for a directory in the same layout (writeBundleIndex, bench/generate.js)', async () => {
    const copy = path.join(tmp, 'rewritten');
    cpSync(dir, copy, { recursive: true });
    rmSync(path.join(copy, DIGEST_FILE));
    expect(writeBundleIndex(copy, objectFiles(copy))).toBe(true);
    const { lazy, bundle: b } = await modelOf(copy);
    expect(lazy.pods).toEqual(buildModel(b.raws, b.nodeFiles).pods);
    expect(readFileSync(path.join(copy, DIGEST_FILE), 'utf8')).toContain('"odd-ip"');
  });
});

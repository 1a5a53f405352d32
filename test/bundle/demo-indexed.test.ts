// The demo as `knet snapshot` writes a bundle (one object per line, knet-index.json): every
// golden command answers byte for byte what it answers on the demo itself (test/golden), with
// the model read by position instead of whole, and the nodes' rule dumps chain by chain through
// their chain tables.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeChainTable } from '../../src/sources/bundle/dump-index.js';
import { DEMO_BUNDLE, readBundle } from '../../src/sources/bundle/read.js';
import { BundleWriter } from '../../src/sources/bundle/write.js';
// @ts-expect-error plain ES module shared with update.mjs
import { goldenCases, renderCase } from '../golden/cases.mjs';

interface Case {
  line: string;
  args: string[];
  file: string;
}

const ROOT = path.resolve(import.meta.dirname, '../..');
let dir = '';

beforeAll(async () => {
  dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'knet-demo-indexed-')), 'demo');
  const bundle = await readBundle('demo');
  const w = BundleWriter.open(dir);
  await w.writeObjects([...bundle.raws]);
  cpSync(path.join(DEMO_BUNDLE, 'nodes'), path.join(dir, 'nodes'), { recursive: true });
  cpSync(path.join(DEMO_BUNDLE, 'meta.json'), path.join(dir, 'meta.json'));
  for (const node of readdirSync(path.join(dir, 'nodes'))) {
    const dump = path.join(dir, 'nodes', node, 'iptables-save.txt');
    if (existsSync(dump)) writeChainTable(dump);
  }
});

afterAll(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

describe('the demo, indexed', () => {
  it('has its index', () => {
    expect(existsSync(path.join(dir, 'knet-index.json'))).toBe(true);
  });

  it('has a chain table for each node dump', () => {
    const nodes = readdirSync(path.join(dir, 'nodes'));
    const dumps = nodes.filter((n) => existsSync(path.join(dir, 'nodes', n, 'iptables-save.txt')));
    expect(dumps.length).toBeGreaterThan(0);
    for (const n of dumps)
      expect(existsSync(path.join(dir, 'nodes', n, 'iptables-save.knet-index.bin')), n).toBe(true);
  });

  for (const c of (goldenCases() as Case[]).filter((x) => x.args[0] !== 'diff')) {
    it(c.line, () => {
      const args = c.args.map((a) => (a === 'demo' ? dir : a));
      const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'knet'), ...args], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1', COLUMNS: '120', DEBUG: '', KNET_NO_PROGRESS: '1' },
        timeout: 60_000,
      });
      const out = renderCase({ code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr });
      expect(out.split(dir).join('demo')).toBe(readFileSync(c.file, 'utf8'));
    });
  }
});

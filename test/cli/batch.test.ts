// knet trace --batch: one JSON document a line, each the document `knet trace -o json` prints
// for that pair (the golden outputs of the demo), a TraceError for a line that cannot be traced.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseBatchLine } from '../../src/cli/batch.js';
// @ts-expect-error plain ES module shared with update.mjs
import { goldenCases } from '../golden/cases.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'knet-batch-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const knet = (args: string[], input?: string) =>
  spawnSync(process.execPath, [path.join(ROOT, 'bin', 'knet'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    input,
    env: { ...process.env, NO_COLOR: '1', KNET_NO_PROGRESS: '1' },
  });

/** The golden trace -o json cases: their pair and flags, and the document they printed. */
const cases = (goldenCases() as { line: string; file: string }[])
  .filter((c) => c.line.startsWith('trace ') && c.line.endsWith(' -o json'))
  .map((c) => {
    const golden = readFileSync(c.file, 'utf8');
    const stdout = golden.slice(golden.indexOf('--- stdout\n') + 11, golden.indexOf('\n--- stderr\n'));
    return {
      pair: c.line.slice('trace '.length, -' -o json'.length),
      stdout,
      exit: Number(/^exit (\d+)/.exec(golden)?.[1]),
    };
  });

describe('knet trace --batch', () => {
  it('answers each line as knet trace -o json answers it', () => {
    const ok = cases.filter((c) => c.stdout.trim() !== '');
    expect(ok.length).toBeGreaterThan(5);
    const file = path.join(tmp, 'pairs.txt');
    writeFileSync(file, `# the golden traces\n\n${ok.map((c) => c.pair).join('\n')}\n`);
    const r = knet(['trace', '--batch', file, '--snapshot', 'demo']);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(ok.length);
    lines.forEach((line, i) => {
      expect(JSON.parse(line)).toEqual(JSON.parse(ok[i].stdout));
    });
    expect(r.status).toBe(Math.max(...ok.map((c) => c.exit)));
  });

  it('names a line that cannot be traced, and goes on (stdin)', () => {
    const input = [
      'pod/shop/frontend-9zd29xl7v-27thn pod/shop/nosuchpod',
      'pod/shop/frontend-9zd29xl7v-27thn',
      'pod/shop/frontend-9zd29xl7v-27thn svc/shop/frontend --colour red',
      'pod/shop/frontend-9zd29xl7v-27thn svc/shop/catalog',
    ].join('\n');
    const r = knet(['trace', '--batch', '-', '--snapshot', 'demo'], input);
    const docs = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(docs.map((d) => d.kind)).toEqual(['TraceError', 'TraceError', 'TraceError', 'Trace']);
    expect(docs[0]).toMatchObject({ line: 1, error: expect.stringContaining('nosuchpod') });
    expect(docs[1].error).toBe('expected SOURCE DESTINATION, found 1 target');
    expect(docs[2].error).toMatch(/^unknown flag --colour/);
    expect(r.status).toBe(2);
  });

  it('refuses a FILE it cannot read, in one line (exit 2)', () => {
    const r = knet(['trace', '--batch', path.join(tmp, 'missing.txt'), '--snapshot', 'demo']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^knet: cannot read --batch .*missing\.txt: ENOENT\n$/);
  });

  it('parses a line’s flags, = or not', () => {
    expect(parseBatchLine('pod/a/b svc/a/c --port=80 --protocol udp --all-pods', 3)).toEqual({
      line: 3,
      text: 'pod/a/b svc/a/c --port=80 --protocol udp --all-pods',
      source: 'pod/a/b',
      destination: 'svc/a/c',
      flags: { port: '80', protocol: 'udp', 'all-pods': true },
    });
    expect(() => parseBatchLine('pod/a/b svc/a/c --protocol icmp', 1)).toThrow(/tcp, udp or sctp/);
    expect(() => parseBatchLine('pod/a/b svc/a/c --path /x', 1)).toThrow(/ing\/ or httproute\//);
  });
});

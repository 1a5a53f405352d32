// Outputs on a generated 500-node bundle stay byte-identical to those recorded before issue 25
// (hashes in scale-outputs.json), read by position through knet-index.json and read whole.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ES module shared with scale-record.mjs
import { bundleFingerprint, CASES, ensureBundle, HASHES, ROOT, runCase } from './scale-cases.mjs';

const DIR = path.join(os.tmpdir(), `knet-scale-outputs-n500-${process.pid}`);
const recorded = JSON.parse(readFileSync(HASHES, 'utf8')) as {
  bundle: string;
  outputs: Record<string, string>;
};

describe('outputs on a generated 500-node bundle', () => {
  beforeAll(() => {
    rmSync(DIR, { recursive: true, force: true });
    ensureBundle(DIR);
    return () => rmSync(DIR, { recursive: true, force: true });
  }, 120_000);

  it('is the bundle the hashes were recorded on (else: bench/generate.js changed; re-record)', () => {
    expect(bundleFingerprint(DIR)).toBe(recorded.bundle);
  });

  it('has an index and a pod digest (bench/generate.js writes them as knet snapshot does)', () => {
    expect(existsSync(path.join(DIR, 'knet-index.json'))).toBe(true);
    expect(existsSync(path.join(DIR, 'knet-objects.jsonl'))).toBe(true);
    expect(readdirSync(DIR)).toContain('cluster.json');
  });

  it('has chain tables for the kube-proxy dumps (bench/generate.js writes them as knet snapshot does)', () => {
    const nodes = readdirSync(path.join(DIR, 'nodes'));
    const dumps = nodes.filter((n) => existsSync(path.join(DIR, 'nodes', n, 'iptables-save.txt')));
    expect(dumps.length).toBeGreaterThan(0);
    for (const n of dumps)
      expect(existsSync(path.join(DIR, 'nodes', n, 'iptables-save.knet-index.bin')), n).toBe(true);
  });

  it('reads by position: a trace reads its namespaces, not the 15,000 pods', () => {
    const r = spawnSync(
      process.execPath,
      [path.join(ROOT, 'bin', 'knet'), ...(CASES as string[])[0].split(' '), '--snapshot', DIR],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, KNET_DEBUG_READS: '1', KNET_NO_PROGRESS: '1' } },
    );
    const read = (kind: string) =>
      [...r.stderr.matchAll(new RegExp(`^read (\\d+) ${kind}$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
    expect(read('Pod')).toBeGreaterThan(0);
    expect(read('Pod')).toBeLessThan(3000);
    expect(read('EndpointSlice')).toBeLessThan(200);
    expect(read('Node')).toBeLessThan(10);
  }, 120_000);

  it('doctor -A takes whole kinds from knet-objects.jsonl, not from the object files', () => {
    const reads = (env: Record<string, string>) => {
      const r = spawnSync(
        process.execPath,
        [path.join(ROOT, 'bin', 'knet'), 'doctor', '-A', '-o', 'json', '--snapshot', DIR],
        {
          cwd: ROOT,
          encoding: 'utf8',
          maxBuffer: 256 * 1024 * 1024,
          env: { ...process.env, KNET_DEBUG_READS: '1', KNET_NO_PROGRESS: '1', ...env },
        },
      );
      const read = (kind: string) =>
        [...r.stderr.matchAll(new RegExp(`^read (\\d+) ${kind}$`, 'gm'))].reduce(
          (n, m) => n + Number(m[1]),
          0,
        );
      return { pods: read('Pod'), services: read('Service'), endpoints: read('Endpoints') };
    };
    const digest = reads({});
    expect(digest.pods).toBe(0);
    expect(digest.services).toBe(0);
    const whole = reads({ KNET_DIGEST: 'off' });
    expect(whole.pods).toBe(15_000);
    expect(whole.services).toBe(1_000);
    // Legacy Endpoints of Services with EndpointSlices are not read (but in the few namespaces
    // read by position before the digest's whole list is taken).
    expect(digest.endpoints).toBeLessThan(whole.endpoints / 4);
  }, 120_000);

  for (const line of CASES as string[]) {
    it(`read by position: ${line}`, () => {
      expect(runCase(line, DIR)).toBe(recorded.outputs[line]);
    }, 120_000);
  }

  // doctor -A answers the same with its node checks on a worker (cli/doctor-worker.ts), and
  // with the pods read from the object files instead of knet-objects.jsonl.
  for (const line of (CASES as string[]).filter((l) => l.startsWith('doctor -A'))) {
    it(`node checks on a worker: ${line}`, () => {
      expect(runCase(line, DIR, { KNET_DOCTOR_WORKER: 'on' })).toBe(recorded.outputs[line]);
    }, 120_000);
    it(`without the pod digest: ${line}`, () => {
      expect(runCase(line, DIR, { KNET_DIGEST: 'off' })).toBe(recorded.outputs[line]);
    }, 120_000);
  }

  for (const line of (CASES as string[]).filter((l) => !l.startsWith('doctor -A'))) {
    it(`read whole: ${line}`, () => {
      expect(runCase(line, DIR, { KNET_BUNDLE_INDEX: 'off' })).toBe(recorded.outputs[line]);
    }, 120_000);
  }
});

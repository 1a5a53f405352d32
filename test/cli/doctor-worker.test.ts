// doctor -A's node checks on a worker thread (cli/doctor-worker.ts, KNET_DOCTOR_WORKER=on): the same report as one
// thread, errors raised in the same turn with the same line, and this thread taking over when
// the worker fails. The worker is started from the built dist/ (test/support/build-once.ts).
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type * as DoctorModule from '../../src/analyses/doctor.js';
import type * as WorkerModule from '../../src/cli/doctor-worker.js';
import type * as BundleModel from '../../src/sources/bundle/model.js';
import type * as BundleRead from '../../src/sources/bundle/read.js';
import { knet, ROOT, tempDir } from '../support/cli.js';

const dist = <T>(rel: string): Promise<T> => import(pathToFileURL(path.join(ROOT, 'dist', rel)).href);
const DEMO = path.join(ROOT, 'examples', 'demo');

/** A copy of the demo whose first node's iptables dump has a line iptables-save never prints. */
function brokenDemo(): { dir: string; dump: string; line: number } {
  const dir = path.join(tempDir('knet-doctor-worker-'), 'bundle');
  cpSync(DEMO, dir, { recursive: true });
  const node = readdirSync(path.join(dir, 'nodes')).sort()[0];
  const dump = path.join(dir, 'nodes', node, 'iptables-save.txt');
  const lines = readFileSync(dump, 'utf8').split('\n');
  const at = lines.findIndex((l) => l.startsWith('-A KUBE-SERVICES'));
  lines.splice(at, 0, '-A KUBE-SERVICES --bogus-option zz');
  writeFileSync(dump, lines.join('\n'));
  rmSync(path.join(dir, 'nodes', node, 'iptables-save.knet-index.bin'), { force: true });
  return { dir, dump, line: at + 1 };
}

describe('doctor -A with its node checks on a worker', () => {
  afterEach(() => {
    delete process.env.KNET_DOCTOR_WORKER;
  });

  for (const args of [[], ['-o', 'json'], ['--severity', 'warning', '-o', 'wide']]) {
    it(`answers as one thread does: doctor -A ${args.join(' ')}`, () => {
      const run = (mode: string) =>
        knet(['doctor', '-A', '--snapshot', 'demo', ...args], { env: { KNET_DOCTOR_WORKER: mode } });
      const one = run('off');
      const two = run('on');
      expect(one.code).toBe(1);
      expect(one.stdout).toContain('PROXY_');
      expect(two).toEqual(one);
    });
  }

  it('stops at a malformed rule dump with the same line and exit code 2', () => {
    const { dir, dump, line } = brokenDemo();
    const run = (mode: string) =>
      knet(['doctor', '-A', '--snapshot', dir], { env: { KNET_DOCTOR_WORKER: mode } });
    const one = run('off');
    const two = run('on');
    expect(one.code).toBe(2);
    expect(one.stderr.trim()).toBe(`knet: ${dump}:${line}: unexpected token "--bogus-option"`);
    expect(two).toEqual(one);
  });

  it("takes the worker's results, and runs the node checks itself when the worker fails", async () => {
    const { runDoctor, runDoctorWith } = await dist<typeof DoctorModule>('analyses/doctor.js');
    const { startDoctorWorker } = await dist<typeof WorkerModule>('cli/doctor-worker.js');
    const { readBundle } = await dist<typeof BundleRead>('sources/bundle/read.js');
    const { bundleModel } = await dist<typeof BundleModel>('sources/bundle/model.js');
    process.env.KNET_DOCTOR_WORKER = 'on';
    const good = runDoctor(bundleModel(await readBundle('demo')));
    // This thread's model has the broken dump: a report without the error is the worker's.
    const { dir, dump, line } = brokenDemo();
    const broken = () => readBundle(dir).then((b) => bundleModel(b));
    const model = await broken();
    const fromWorker = startDoctorWorker('demo', model);
    expect(fromWorker).toBeDefined();
    const report = await runDoctorWith(model, {}, (r) => fromWorker!.check(r)).finally(() =>
      fromWorker?.close(),
    );
    expect(report).toEqual(good);
    // A worker that cannot read its bundle (an empty folder): this thread runs the node checks,
    // and meets the broken dump itself.
    const ownModel = await broken();
    const failing = startDoctorWorker(tempDir('knet-not-a-bundle-'), ownModel);
    expect(failing).toBeDefined();
    await expect(
      runDoctorWith(ownModel, {}, (r) => failing!.check(r)).finally(() => failing?.close()),
    ).rejects.toThrow(`${dump}:${line}: unexpected token "--bogus-option"`);
  });

  it('is started only when asked for (KNET_DOCTOR_WORKER=on)', async () => {
    const { startDoctorWorker } = await dist<typeof WorkerModule>('cli/doctor-worker.js');
    const { readBundle } = await dist<typeof BundleRead>('sources/bundle/read.js');
    const { bundleModel } = await dist<typeof BundleModel>('sources/bundle/model.js');
    const model = bundleModel(await readBundle('demo'));
    expect(startDoctorWorker('demo', model)).toBeUndefined();
    process.env.KNET_DOCTOR_WORKER = 'off';
    expect(startDoctorWorker('demo', model)).toBeUndefined();
    process.env.KNET_DOCTOR_WORKER = 'on';
    const worker = startDoctorWorker('demo', model);
    expect(worker).toBeDefined();
    await worker?.close();
  });
});

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const KNET = path.join(ROOT, 'bin', 'knet');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would (no TTY: no colour). */
export function knet(
  args: string[],
  opts: { cwd?: string; bin?: string; env?: Record<string, string> } = {},
): CliResult {
  const r = spawnSync(process.execPath, [opts.bin ?? KNET, ...args], {
    cwd: opts.cwd ?? ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', DEBUG: '', ...opts.env },
    timeout: 30_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const tempDirs: string[] = [];

/** A new temporary folder, removed after the test file (test/support/setup.ts). */
export function tempDir(prefix = 'knet-test-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Removes every folder made by tempDir and writeBundle so far. */
export function cleanupTempDirs(): void {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Writes a bundle directory: cluster.json (a v1 List) plus any extra files; removed after the file. */
export function writeBundle(items: unknown[], extra: Record<string, string> = {}): string {
  const dir = tempDir('knet-bundle-');
  writeFileSync(
    path.join(dir, 'cluster.json'),
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items }, null, 2),
  );
  for (const [rel, text] of Object.entries(extra)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

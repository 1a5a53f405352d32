// Shared set-up for the live tests: one PKI per test file, a test API server serving a bundle.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Raw } from '../../src/model/normalize.js';
import { startTestApiServer, type TestApiServer, type TestApiServerOptions } from './server/apiserver.js';
import { type LoadedBundle, loadBundleDir } from './server/bundle.js';
import { makePki, type TestPki } from './server/tls.js';

export const FIXTURE_BUNDLE = path.resolve(__dirname, '../fixtures/kube/bundle');
export const DEMO_BUNDLE = path.resolve(__dirname, '../../examples/demo');

const temporary: string[] = [];
let pki: TestPki | undefined;

/** One PKI per test file. */
export function sharedPki(): TestPki {
  if (!pki) {
    pki = makePki();
    temporary.push(pki.dir);
  }
  return pki;
}

/** A temporary directory, removed by cleanupTemp(). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  temporary.push(dir);
  return dir;
}

/** Removes the PKI and the temporary directories (call it in afterAll). */
export function cleanupTemp(): void {
  for (const dir of temporary.splice(0)) rmSync(dir, { recursive: true, force: true });
  pki = undefined;
}

export async function serveBundle(
  dir = FIXTURE_BUNDLE,
  opts: Partial<TestApiServerOptions> = {},
): Promise<{ server: TestApiServer; bundle: LoadedBundle }> {
  const bundle = loadBundleDir(dir);
  const server = await startTestApiServer({ objects: bundle.objects, pki: sharedPki(), ...opts });
  return { server, bundle };
}

export const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function writes(server: TestApiServer) {
  return server.requests.filter((r) => WRITE_METHODS.has(r.method));
}

/** `kind/namespace/name` of every object, sorted. */
export function ids(raws: Raw[]): string[] {
  return raws.map((o) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`).sort();
}

/** An error thrown by `fn`, for assertions on its message and exit code. */
export async function failure(fn: () => Promise<unknown>): Promise<Error & { exitCode?: number }> {
  try {
    await fn();
  } catch (err) {
    return err as Error & { exitCode?: number };
  }
  throw new Error('expected a failure, but the call succeeded');
}

export const KNET_BIN = path.resolve(__dirname, '../../bin/knet');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI (dist/, built by the vitest global setup) asynchronously: the test API
 * server lives in this process and must keep answering while the CLI runs.
 */
export function runKnet(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KNET_BIN, ...args], {
      env: {
        ...process.env,
        NO_COLOR: '1',
        DEBUG: '',
        KUBECONFIG: '/nonexistent/knet-test-kubeconfig',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`knet ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Runs the built CLI and sends it SIGINT as soon as `ready()` holds (polled every 20 ms, for at
 * most 20 s): its exit code and stderr. The process is killed in any case.
 */
export async function interruptKnet(
  args: string[],
  ready: () => boolean,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [KNET_BIN, ...args], {
    env: { ...process.env, NO_COLOR: '1', DEBUG: '', KUBECONFIG: '/nonexistent/knet-test-kubeconfig' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    const end = Date.now() + 20_000;
    while (!ready()) {
      if (Date.now() > end) throw new Error(`knet ${args.join(' ')}: not ready to interrupt: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGINT');
    return { code: await closed, stderr };
  } finally {
    child.kill('SIGKILL');
  }
}

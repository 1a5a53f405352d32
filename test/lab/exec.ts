// Running commands for the lab: every call is bounded in time, and network commands always name
// the lab's own namespace (`ip -n NS …`, `ip netns exec NS …`); nothing here touches the root
// network namespace's configuration.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

/** The lab tests' namespaces all start with this; a test run adds its own unique part. */
export const LAB_PREFIX = 'knl-';
/** The demo build's namespaces (examples/build-demo.mjs). */
export const DEMO_PREFIX = 'knd-';
const OWN_PREFIXES = [LAB_PREFIX, DEMO_PREFIX];

export function isLabNamespace(name: string): boolean {
  return OWN_PREFIXES.some((p) => name.startsWith(p) && name.length > p.length);
}

export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly status: number | null,
    readonly stderr: string,
  ) {
    super(
      `${argv.join(' ')} failed (exit ${status ?? 'signal'}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
    );
    this.name = 'CommandError';
  }
}

export interface RunOptions {
  input?: string;
  /** Milliseconds; default 20 s (no lab command legitimately takes longer). */
  timeout?: number;
  /** Return the result instead of throwing on a non-zero exit. */
  allowFail?: boolean;
  /** Extra environment variables (added to this process's environment). */
  env?: Record<string, string>;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(argv: string[], options: RunOptions = {}): RunResult {
  const res = spawnSync(argv[0], argv.slice(1), {
    input: options.input,
    encoding: 'utf8',
    timeout: options.timeout ?? 20_000,
    maxBuffer: 64 * 1024 * 1024,
    env: options.env ? { ...process.env, ...options.env } : undefined,
  });
  if (res.error) throw new CommandError(argv, null, String(res.error));
  const out = { status: res.status, stdout: res.stdout ?? '', stderr: res.stderr ?? '' };
  if (out.status !== 0 && !options.allowFail) throw new CommandError(argv, out.status, out.stderr);
  return out;
}

/** `ip -n NS ARGS…` */
export function ipn(ns: string, args: string[], options?: RunOptions): string {
  return run(['ip', '-n', ns, ...args], options).stdout;
}

/**
 * Several `ip` commands in one process (`ip -n NS -batch -`): one line per command, as they
 * would be typed after `ip`. Stops at the first failing line.
 */
export function ipBatch(ns: string, lines: string[]): void {
  if (lines.length === 0) return;
  run(['ip', '-n', ns, '-batch', '-'], { input: `${lines.join('\n')}\n` });
}

/** `ip netns exec NS ARGV…` */
export function nsExec(ns: string, argv: string[], options?: RunOptions): string {
  return run(['ip', 'netns', 'exec', ns, ...argv], options).stdout;
}

export function addNamespace(ns: string): void {
  if (!isLabNamespace(ns)) throw new Error(`refusing to create namespace ${ns}: not a lab namespace`);
  run(['ip', 'netns', 'add', ns]);
}

/** Named network namespaces (from /run/netns, as `ip netns list` reads them). */
export function listNamespaces(prefix: string = LAB_PREFIX): string[] {
  try {
    return readdirSync('/run/netns')
      .filter((n) => n.startsWith(prefix))
      .sort();
  } catch {
    return [];
  }
}

/**
 * Deletes every namespace with this prefix. Deleting a namespace destroys its interfaces (and
 * with a veth, its peer) and kills nothing: processes started in it are stopped by their owner.
 */
export function deleteNamespaces(prefix: string): string[] {
  // Only a run's own prefix (knl-PID-…, knd-PID-…), never a bare knl-.
  if (!isLabNamespace(prefix) || !/^kn[ld]-\d+-/.test(prefix))
    throw new Error(`refusing to delete namespaces ${prefix}*`);
  const names = listNamespaces(prefix);
  if (names.length === 0) return [];
  // One process for all of them (-force: go on after an error; what is left is reported).
  run(['ip', '-force', '-batch', '-'], {
    input: `${names.map((n) => `netns del ${n}`).join('\n')}\n`,
    allowFail: true,
  });
  return listNamespaces(prefix).map((ns) => `${ns}: still present`);
}

/**
 * The same from a signal handler: one shell in its own session deletes them, so that the
 * deletion finishes even when the test worker is killed right after the signal.
 */
export function deleteNamespacesDetached(prefix: string): void {
  if (!isLabNamespace(prefix) || !/^kn[ld]-\d+-/.test(prefix)) return;
  const names = listNamespaces(prefix);
  if (names.length === 0) return;
  // The names go in argv: spawn() is synchronous, a pipe write might not happen before exit.
  const script = 'for ns in "$@"; do ip netns del "$ns"; done';
  spawn('sh', ['-c', script, 'knet-lab-cleanup', ...names], { detached: true, stdio: 'ignore' }).unref();
}

/**
 * A guard for a run's namespaces: a shell in its own session that waits until its stdin closes
 * (the lab released it, or the lab's process died in any way, SIGKILL included) and then deletes
 * whatever namespaces of the prefix are still there.
 */
export function startNamespaceGuard(prefix: string): { release(): void } {
  if (!isLabNamespace(prefix) || !/^kn[ld]-\d+-/.test(prefix))
    throw new Error(`refusing to guard ${prefix}*`);
  const script =
    'cat >/dev/null; for ns in $(ls /run/netns 2>/dev/null); do case "$ns" in "$1"*) ip netns del "$ns";; esac; done';
  const guard = spawn('sh', ['-c', script, 'knet-lab-guard', prefix], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  guard.unref();
  // The pipe must not keep the test process alive; closing it is the signal.
  (guard.stdin as unknown as { unref?: () => void }).unref?.();
  return { release: () => guard.stdin?.end() };
}

/** A unique prefix for one lab run: knl-<pid>-<tag>- (or knd-… for the demo build). */
export function runPrefix(tag: string, base: string = LAB_PREFIX): string {
  if (!OWN_PREFIXES.includes(base)) throw new Error(`unknown namespace prefix ${base}`);
  return `${base}${process.pid}-${tag}-`;
}

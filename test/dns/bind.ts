// Test helper: a real BIND 9 `named` on 127.0.0.1, a free high port, serving the zone files
// it is given; stopped (by PID) and its directory removed by stop(). No root needed.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NAMED = ['/usr/sbin/named', '/usr/bin/named'].find((p) => existsSync(p));
export const hasNamed = NAMED !== undefined;

export interface ZoneFile {
  /** `cluster.local`, `in-addr.arpa`, … */
  origin: string;
  /** The zone file text; undefined: a zone whose file is missing (named answers SERVFAIL). */
  text?: string;
}

export interface BindServer {
  host: string;
  port: number;
  dir: string;
  log(): string;
  stop(): Promise<void>;
}

/** A port free for both UDP and TCP on 127.0.0.1. */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const s = dgram.createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (udpFree && port > 1024) return port;
  }
  throw new Error('no free port on 127.0.0.1');
}

/**
 * Starts named with these zones. `options` are extra lines for the options block
 * (e.g. `max-udp-size 512;`). Resolves once named logs "running" (bounded: 10 s).
 */
export async function startBind(
  zones: ZoneFile[],
  options: string[] = [],
  where: { port?: number; netns?: string } = {},
): Promise<BindServer> {
  if (!NAMED) throw new Error('named is not installed (apt-get install bind9)');
  const dir = mkdtempSync(join(tmpdir(), 'knet-dns-bind-'));
  const port = where.port ?? (await freePort());
  const zoneStanzas = zones.map((z, i) => {
    const file = z.text === undefined ? `missing-${i}.zone` : `zone-${i}.zone`;
    if (z.text !== undefined) writeFileSync(join(dir, file), z.text);
    return `zone "${z.origin}" { type primary; file "${join(dir, file)}"; };`;
  });
  const conf = [
    'options {',
    `  directory "${dir}";`,
    `  pid-file "${join(dir, 'named.pid')}";`,
    `  session-keyfile "${join(dir, 'session.key')}";`,
    `  listen-on port ${port} { 127.0.0.1; };`,
    '  listen-on-v6 { none; };',
    '  recursion no;',
    '  allow-query { any; };',
    '  dnssec-validation no;',
    '  notify no;',
    '  minimal-responses no-auth;',
    ...options.map((o) => `  ${o}`),
    '};',
    'controls { };',
    ...zoneStanzas,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'named.conf'), conf);
  const logPath = join(dir, 'named.log');
  const checked = spawnSync('/usr/bin/named-checkconf', [join(dir, 'named.conf')], { encoding: 'utf8' });
  if (checked.status !== 0 && existsSync('/usr/bin/named-checkconf')) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`named-checkconf: ${checked.stdout}${checked.stderr}`);
  }
  // -g: foreground, log to stderr. -n 1: one worker thread (the machine is shared). -4: IPv4 only.
  const args = ['-g', '-4', '-n', '1', '-c', join(dir, 'named.conf')];
  // Inside a network namespace the test made (for port 53 and the namespace's own resolv.conf).
  const [cmd, argv] = where.netns ? ['ip', ['netns', 'exec', where.netns, NAMED, ...args]] : [NAMED, args];
  const child: ChildProcess = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const stop = async () => {
    if (!exited && child.pid) {
      child.kill('SIGTERM');
      const deadline = Date.now() + 3000;
      while (!exited && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      if (!exited) child.kill('SIGKILL');
    }
    try {
      writeFileSync(logPath, log);
    } catch {
      // dir already gone
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!/\brunning\b/.test(log)) {
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`named did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { host: '127.0.0.1', port, dir, log: () => log, stop };
}

/** Reads a file of the server's directory (for debugging a failed test). */
export function readServerFile(server: BindServer, name: string): string {
  return readFileSync(join(server.dir, name), 'utf8');
}

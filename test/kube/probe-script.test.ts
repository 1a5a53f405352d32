// The probe program (src/sources/kube/probe-script.ts) run for real, as the debug pod runs it
// for a node source ("-": no namespace to enter), against servers this test starts on the
// loopback: a TCP connect, an HTTP request with its Host and path, a DNS query; and its output
// parsed. The namespace-entering half runs in probe-lab.test.ts (root).
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParseError } from '../../src/core/errors.js';
import { type ProbeSpec, parseProbeOutput, probeCommand } from '../../src/sources/kube/probe-script.js';

const hasPython = await new Promise<boolean>((resolve) =>
  execFile('python3', ['-c', 'import socket; socket.TCP_INFO'], (err) => resolve(!err)),
);
if (!hasPython)
  console.warn('probe-script.test.ts: skipped, python3 (with socket.TCP_INFO) is not installed');

function run(spec: ProbeSpec) {
  const [cmd, ...args] = probeCommand(undefined, spec);
  return new Promise<ReturnType<typeof parseProbeOutput>>((resolve, reject) =>
    execFile(cmd, args, { timeout: 20_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve(parseProbeOutput(stdout, 'probe')),
    ),
  );
}

describe.skipIf(!hasPython)('the probe program', () => {
  let tcp: net.Server;
  let web: http.Server;
  let dns: dgram.Socket;
  const seen: { host?: string; url?: string }[] = [];
  const port = (s: net.Server | http.Server) => (s.address() as net.AddressInfo).port;

  beforeAll(async () => {
    tcp = net.createServer((c) => c.end());
    web = http.createServer((req, res) => {
      seen.push({ host: req.headers.host, url: req.url });
      res.writeHead(req.url === '/cart' ? 200 : 404).end();
    });
    dns = dgram.createSocket('udp4');
    // Not a DNS server: it answers any datagram with a word, as the lab's UDP echo does.
    dns.on('message', (_m, r) => dns.send('pong', r.port, r.address));
    await Promise.all([
      new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r)),
      new Promise<void>((r) => web.listen(0, '127.0.0.1', r)),
      new Promise<void>((r) => dns.bind(0, '127.0.0.1', r)),
    ]);
  });
  afterAll(() => {
    tcp.close();
    web.close();
    dns.close();
  });

  it('TCP: connected (handshake and FIN acknowledged), with the round-trip time', async () => {
    const out = await run({ kind: 'tcp', host: '127.0.0.1', port: port(tcp), count: 12, timeoutS: 2 });
    expect(out.attempts).toHaveLength(12);
    for (const a of out.attempts) {
      expect(a.outcome).toBe('connected');
      expect(a.ms).toBeGreaterThan(0);
      expect(a.ms).toBeLessThan(2000);
    }
  });

  it('TCP to a closed port: refused', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const p = port(closed);
    await new Promise((r) => closed.close(r));
    const out = await run({ kind: 'tcp', host: '127.0.0.1', port: p, count: 3, timeoutS: 1 });
    expect(out.attempts.map((a) => a.outcome)).toEqual(['refused', 'refused', 'refused']);
  });

  it('HTTP: the request carries the Host and the path; the status is reported', async () => {
    seen.length = 0;
    const h = { kind: 'http', host: '127.0.0.1', port: port(web), count: 2, timeoutS: 2 } as const;
    const ok = await run({ ...h, httpHost: 'shop.example.com', path: '/cart' });
    expect(ok.attempts.map((a) => [a.outcome, a.status])).toEqual([
      ['connected', 200],
      ['connected', 200],
    ]);
    const missing = await run({ ...h, count: 1, httpHost: 'shop.example.com', path: '/nope' });
    expect(missing.attempts[0].status).toBe(404);
    expect(seen).toEqual([
      { host: 'shop.example.com', url: '/cart' },
      { host: 'shop.example.com', url: '/cart' },
      { host: 'shop.example.com', url: '/nope' },
    ]);
  });

  it('UDP 53: any datagram back is a reply', async () => {
    const port = (dns.address() as net.AddressInfo).port;
    const out = await run({
      kind: 'dns-server',
      host: '127.0.0.1',
      port,
      count: 3,
      timeoutS: 1,
      name: 'x.cluster.local',
    });
    expect(out.attempts.map((a) => a.outcome)).toEqual(['connected', 'connected', 'connected']);
  });
});

describe('parseProbeOutput', () => {
  it('reads the last line of the probe', () => {
    const out = parseProbeOutput(
      'noise\n#knet-probe 1 {"attempts":[{"outcome":"stalled","ms":500.2}]}\n',
      'x',
    );
    expect(out.attempts).toEqual([{ outcome: 'stalled', ms: 500.2 }]);
  });

  it.each([
    ['', /no probe output/],
    ['#knet-probe 2 {}', /unknown probe format version 2/],
    ['#knet-probe 1 {nope', /not JSON/],
    ['#knet-probe 1 {"attempts":[{"outcome":"maybe","ms":1}]}', /no attempts/],
  ])('rejects %j', (text, message) => {
    expect(() => parseProbeOutput(text, 'probe')).toThrow(ParseError);
    expect(() => parseProbeOutput(text, 'probe')).toThrow(message);
  });
});

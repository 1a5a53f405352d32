// The dns-packet client against scripted servers and against real BIND replies replayed
// byte for byte (test/fixtures/dns/bind-replies.json, captured by capture.test.ts).
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import * as packet from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { isReply } from '../../src/analyses/dns/types.js';
import { parseServer, queryDns, rcodeName, responseCode } from '../../src/sources/dns/client.js';
import { freePort } from './bind.js';
import type { CapturedReply } from './capture.test.js';
import { type FakeServer, respond, startFake, withId } from './fake-server.js';

const captured: CapturedReply[] = JSON.parse(
  readFileSync(new URL('../fixtures/dns/bind-replies.json', import.meta.url), 'utf8'),
);
const bytesOf = (label: string) => {
  const c = captured.find((x) => x.label === label);
  if (!c) throw new Error(`no fixture ${label}`);
  return Buffer.from(c.hex, 'hex');
};

let servers: FakeServer[] = [];
afterEach(async () => {
  for (const s of servers) await s.stop();
  servers = [];
});
async function fake(h: Parameters<typeof startFake>[0]) {
  const s = await startFake(h);
  servers.push(s);
  return s;
}

describe('replayed BIND replies', () => {
  const cases: [string, string, number, number][] = [
    // label, rcode, answers, authorities
    ['a', 'NOERROR', 1, 0],
    ['nodata', 'NOERROR', 0, 1],
    ['nxdomain', 'NXDOMAIN', 0, 1],
    ['srv-headless', 'NOERROR', 3, 0],
    ['cname-internal', 'NOERROR', 2, 0],
    ['txt', 'NOERROR', 1, 0],
    ['ptr', 'NOERROR', 1, 0],
    ['servfail', 'SERVFAIL', 0, 0],
    ['refused', 'REFUSED', 0, 0],
  ];
  for (const [label, rcode, answers, authorities] of cases) {
    it(`decodes ${label}`, async () => {
      const c = captured.find((x) => x.label === label)!;
      const s = await fake((q) => withId(bytesOf(label), q.id ?? 0));
      const r = await queryDns(
        s,
        { name: c.question.name, type: c.question.type as 'A' },
        { timeoutMs: 1000 },
      );
      expect(isReply(r)).toBe(true);
      if (!isReply(r)) return;
      expect(r.rcode).toBe(rcode);
      expect(r.answers).toHaveLength(answers);
      expect(r.authorities).toHaveLength(authorities);
      expect(r.transport).toBe('udp');
    });
  }

  it('formats record data as text', async () => {
    const ask = async (label: string) => {
      const c = captured.find((x) => x.label === label)!;
      const s = await fake((q) => withId(bytesOf(label), q.id ?? 0));
      const r = await queryDns(s, { name: c.question.name, type: c.question.type as 'A' });
      if (!isReply(r)) throw new Error(r.error);
      return r;
    };
    expect((await ask('txt')).answers[0]).toMatchObject({ type: 'TXT', data: '1.1.0', ttl: 28800 });
    expect((await ask('a')).answers[0]).toMatchObject({ type: 'A', data: '10.96.12.34', ttl: 30 });
    const srv = (await ask('srv-headless')).answers.map((a) => a.data).sort();
    expect(srv).toEqual([0, 1, 2].map((i) => `0 100 8080 web-${i}.headless.app.svc.cluster.local`));
    expect((await ask('ptr')).answers[0].data).toBe('svc-b.app.svc.cluster.local');
    const cname = await ask('cname-internal');
    expect(cname.answers.map((a) => `${a.type} ${a.data}`)).toEqual([
      'CNAME svc-b.app.svc.cluster.local',
      'A 10.96.12.34',
    ]);
    expect((await ask('nodata')).authorities[0]).toMatchObject({
      type: 'SOA',
      data: 'ns.dns.cluster.local hostmaster.cluster.local 1 7200 1800 86400 30',
    });
  });

  for (const udpLabel of ['big-noedns-udp', 'big-edns-udp']) {
    it(`discards a truncated UDP reply (${udpLabel}) and retries over TCP`, async () => {
      const s = await fake((q, t) => withId(bytesOf(t === 'udp' ? udpLabel : 'big-tcp'), q.id ?? 0));
      const r = await queryDns(s, { name: 'big.app.svc.cluster.local', type: 'A' });
      if (!isReply(r)) throw new Error(r.error);
      expect(r.truncatedUdp).toBe(true);
      expect(r.transport).toBe('tcp');
      expect(r.answers).toHaveLength(100);
      expect(new Set(r.answers.map((a) => a.data)).size).toBe(100);
      expect(s.received.map((x) => x.transport)).toEqual(['udp', 'tcp']);
    });
  }
});

describe('queries', () => {
  it('sends EDNS0 with a 1232-byte payload and RD by default', async () => {
    const s = await fake((q) => respond(q, 0));
    await queryDns(s, { name: 'x.cluster.local', type: 'A' });
    const q = s.received[0].query;
    const opt = (q.additionals ?? []).find((a) => a.type === 'OPT') as packet.OptAnswer;
    expect(opt.udpPayloadSize).toBe(1232);
    expect(q.flag_rd).toBe(true);
    expect(q.questions?.[0]).toMatchObject({ name: 'x.cluster.local', type: 'A' });
  });

  it('sends no OPT record with udpPayloadSize 0', async () => {
    const s = await fake((q) => respond(q, 0));
    await queryDns(s, { name: 'x.cluster.local', type: 'A' }, { udpPayloadSize: 0, recursionDesired: false });
    expect(s.received[0].query.additionals ?? []).toHaveLength(0);
    expect(s.received[0].query.flag_rd).toBe(false);
  });

  it('names every header rcode', async () => {
    const names = [
      'NOERROR',
      'FORMERR',
      'SERVFAIL',
      'NXDOMAIN',
      'NOTIMP',
      'REFUSED',
      'YXDOMAIN',
      'YXRRSET',
      'NXRRSET',
      'NOTAUTH',
      'NOTZONE',
      'RCODE_11',
    ];
    for (let code = 0; code < names.length; code++) {
      const s = await fake((q) => respond(q, code));
      // udpPayloadSize 0: no EDNS, so FORMERR/NOTIMP are not retried without it.
      const r = await queryDns(s, { name: 'x.cluster.local', type: 'A' }, { udpPayloadSize: 0 });
      expect(r.rcode).toBe(names[code]);
    }
    expect(rcodeName(16)).toBe('BADVERS');
    expect(rcodeName(23)).toBe('RCODE_23');
  });

  it('reads the extended rcode from the OPT record', () => {
    const bytes = packet.encode({
      type: 'response',
      id: 1,
      flags: 0,
      questions: [{ name: 'x', type: 'A' }],
      additionals: [
        {
          type: 'OPT',
          name: '.',
          udpPayloadSize: 1232,
          extendedRcode: 1,
          ednsVersion: 0,
          flags: 0,
          flag_do: false,
          options: [],
        },
      ],
    });
    expect(responseCode(packet.decode(bytes))).toBe('BADVERS');
  });

  it('asks again without EDNS when the server answers FORMERR to an OPT record', async () => {
    const s = await fake((q) =>
      (q.additionals ?? []).some((a) => a.type === 'OPT')
        ? respond(q, 1)
        : respond(q, 0, [{ name: 'x.cluster.local', type: 'A', ttl: 5, data: '10.0.0.1' }]),
    );
    const r = await queryDns(s, { name: 'x.cluster.local', type: 'A' });
    if (!isReply(r)) throw new Error(r.error);
    expect(r.rcode).toBe('NOERROR');
    expect(r.ednsFallback).toBe(true);
    expect(r.answers[0].data).toBe('10.0.0.1');
    expect(s.received).toHaveLength(2);
  });

  it('ignores replies with a wrong id or question, and takes the right one', async () => {
    const s = await fake((q) => [
      {
        ...respond(q, 0, [{ name: 'x.cluster.local', type: 'A', data: '10.6.6.6' }]),
        id: ((q.id ?? 0) + 1) & 0xffff,
      },
      {
        ...respond(q, 0, [{ name: 'y.cluster.local', type: 'A', data: '10.7.7.7' }]),
        questions: [{ name: 'y.cluster.local', type: 'A' }],
      },
      respond(q, 0, [{ name: 'x.cluster.local', type: 'A', data: '10.0.0.9' }]),
    ]);
    const r = await queryDns(s, { name: 'x.cluster.local', type: 'A' });
    if (!isReply(r)) throw new Error(r.error);
    expect(r.answers.map((a) => a.data)).toEqual(['10.0.0.9']);
  });

  it('retries over UDP when the first query gets no reply', async () => {
    let n = 0;
    const s = await fake((q) => (n++ === 0 ? null : respond(q, 0)));
    const r = await queryDns(s, { name: 'x.cluster.local', type: 'A' }, { timeoutMs: 200 });
    expect(r.rcode).toBe('NOERROR');
    expect(r.attempts).toBe(2);
  });

  it('gives up within the bound when nothing answers', async () => {
    // A socket that receives and never replies: the client's own timeout must fire.
    const port = await freePort();
    const sink = dgram.createSocket('udp4');
    let got = 0;
    sink.on('message', () => got++);
    await new Promise<void>((r) => sink.bind(port, '127.0.0.1', () => r()));
    try {
      const t0 = Date.now();
      const r = await queryDns(
        { host: '127.0.0.1', port },
        { name: 'x.cluster.local', type: 'A' },
        { timeoutMs: 250, retries: 2 },
      );
      const took = Date.now() - t0;
      expect(r.rcode).toBeNull();
      if (r.rcode === null) expect(r.error).toMatch(/no response within 250 ms \(3 UDP attempts\)/);
      expect(r.attempts).toBe(3);
      expect(got).toBe(3);
      expect(took).toBeGreaterThanOrEqual(700);
      expect(took).toBeLessThan(1500);
    } finally {
      sink.close();
    }
  });

  it('reports a refused UDP port at once', async () => {
    const port = await freePort();
    const t0 = Date.now();
    const r = await queryDns({ host: '127.0.0.1', port }, { name: 'x', type: 'A' }, { timeoutMs: 2000 });
    expect(r.rcode).toBeNull();
    if (r.rcode === null) expect(r.error).toMatch(/refused/);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('fails within the bound when the TCP retry after truncation gets no answer', async () => {
    const s = await fake((q, t) => (t === 'udp' ? respond(q, 0, [], packet.TRUNCATED_RESPONSE) : null));
    const t0 = Date.now();
    const r = await queryDns(s, { name: 'x', type: 'A' }, { timeoutMs: 300 });
    expect(r.rcode).toBeNull();
    if (r.rcode === null) expect(r.error).toMatch(/truncated UDP reply, then no TCP response within 300 ms/);
    expect(Date.now() - t0).toBeLessThan(1200);
  });
});

describe('TCP transports (the shape of an API port-forward)', () => {
  const answerX = (q: packet.DecodedPacket) =>
    respond(q, 0, [{ name: 'x.cluster.local', type: 'A', data: '10.1.2.3' }]);

  it('asks over a given stream and leaves it open for its owner', async () => {
    const s = await fake(answerX);
    const stream = net.connect(s.port, s.host);
    await new Promise((r) => stream.once('connect', r));
    const r = await queryDns({ stream }, { name: 'x.cluster.local', type: 'A' });
    if (!isReply(r)) throw new Error(r.error);
    expect(r.transport).toBe('tcp');
    expect(r.answers[0].data).toBe('10.1.2.3');
    expect(stream.destroyed).toBe(false);
    // The same stream carries a second query (DNS over TCP allows several per connection).
    const r2 = await queryDns({ stream }, { name: 'x.cluster.local', type: 'A' });
    expect(r2.rcode).toBe('NOERROR');
    stream.destroy();
    expect(s.received.every((x) => x.transport === 'tcp')).toBe(true);
  });

  it('opens a stream per attempt with a factory and closes it', async () => {
    const s = await fake(answerX);
    const made: net.Socket[] = [];
    const r = await queryDns(
      {
        connect: () => {
          const c = net.connect(s.port, s.host);
          made.push(c);
          return c;
        },
      },
      { name: 'x.cluster.local', type: 'A' },
    );
    expect(r.rcode).toBe('NOERROR');
    expect(made).toHaveLength(1);
    expect(made[0].destroyed).toBe(true);
  });

  it('times out on a stream that never answers', async () => {
    const s = await fake(() => null);
    const stream = net.connect(s.port, s.host);
    const r = await queryDns({ stream }, { name: 'x', type: 'A' }, { timeoutMs: 200 });
    expect(r.rcode).toBeNull();
    if (r.rcode === null) expect(r.error).toMatch(/no TCP response within 200 ms/);
    stream.destroy();
  });

  it('tcpOnly skips UDP', async () => {
    const s = await fake(answerX);
    await queryDns(s, { name: 'x.cluster.local', type: 'A' }, { tcpOnly: true });
    expect(s.received.map((x) => x.transport)).toEqual(['tcp']);
  });
});

describe('parseServer', () => {
  it('reads IP[:PORT] and [IPv6]:PORT', () => {
    expect(parseServer('10.96.0.10')).toEqual({ host: '10.96.0.10', port: 53 });
    expect(parseServer('10.96.0.10:5353')).toEqual({ host: '10.96.0.10', port: 5353 });
    expect(parseServer('fd00::10')).toEqual({ host: 'fd00::10', port: 53 });
    expect(parseServer('[fd00::10]:5353')).toEqual({ host: 'fd00::10', port: 5353 });
    expect(() => parseServer('dns.example:53')).toThrow(/not a DNS server address/);
    expect(() => parseServer('10.0.0.1:70000')).toThrow();
  });
});

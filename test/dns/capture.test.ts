// Captures real BIND replies (raw wire bytes) into test/fixtures/dns/bind-replies.json, so
// that the client's decoding and truncation handling are also tested without named.
// Run on purpose only: KNET_DNS_CAPTURE=1 npx vitest run test/dns/capture.test.ts
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import * as packet from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { hasNamed, startBind } from './bind.js';
import { testBundle } from './bundle.js';
import { specRecords, zonesFor } from './zonegen.js';

export interface CapturedReply {
  label: string;
  question: { name: string; type: string };
  edns: boolean;
  transport: 'udp' | 'tcp';
  /** The query id the reply carries (a replay server rewrites it). */
  id: number;
  hex: string;
}

function query(name: string, type: string, edns: boolean, id: number): Buffer {
  return packet.encode({
    type: 'query',
    id,
    flags: packet.RECURSION_DESIRED,
    questions: [{ name, type: type as packet.RecordType, class: 'IN' }],
    additionals: edns
      ? [
          {
            type: 'OPT',
            name: '.',
            udpPayloadSize: 1232,
            extendedRcode: 0,
            ednsVersion: 0,
            flags: 0,
            flag_do: false,
            options: [],
          },
        ]
      : [],
  });
}

function udp(port: number, msg: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      reject(new Error('timeout'));
    }, 2000);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(m);
    });
    s.send(msg, port, '127.0.0.1');
  });
}

function tcp(port: number, msg: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const t = setTimeout(() => {
      c.destroy();
      reject(new Error('timeout'));
    }, 2000);
    c.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(t);
        c.destroy();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
    c.write(Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 0xff]), msg]));
  });
}

describe.skipIf(!process.env.KNET_DNS_CAPTURE || !hasNamed)('capture BIND replies for fixtures', () => {
  it('captures', async () => {
    const zones = [...zonesFor(specRecords(testBundle())), { origin: 'broken.local' }];
    const plain = await startBind(zones);
    const small = await startBind(zones, ['max-udp-size 512;']);
    const out: CapturedReply[] = [];
    const cases: [string, string, string, boolean, 'udp' | 'tcp', number][] = [
      ['a', 'svc-b.app.svc.cluster.local', 'A', true, 'udp', plain.port],
      ['nodata', 'svc-b.app.svc.cluster.local', 'AAAA', true, 'udp', plain.port],
      ['nxdomain', 'nosuch.app.svc.cluster.local', 'A', true, 'udp', plain.port],
      ['srv-headless', '_http._tcp.headless.app.svc.cluster.local', 'SRV', true, 'udp', plain.port],
      ['cname-internal', 'ext-internal.app.svc.cluster.local', 'A', true, 'udp', plain.port],
      ['txt', 'dns-version.cluster.local', 'TXT', true, 'udp', plain.port],
      ['ptr', '34.12.96.10.in-addr.arpa', 'PTR', true, 'udp', plain.port],
      ['big-noedns-udp', 'big.app.svc.cluster.local', 'A', false, 'udp', plain.port],
      ['big-edns-udp', 'big.app.svc.cluster.local', 'A', true, 'udp', plain.port],
      ['big-maxudp512-udp', 'big.app.svc.cluster.local', 'A', true, 'udp', small.port],
      ['big-tcp', 'big.app.svc.cluster.local', 'A', true, 'tcp', plain.port],
      ['servfail', 'x.broken.local', 'A', true, 'udp', plain.port],
      ['refused', 'www.example.com', 'A', true, 'udp', plain.port],
    ];
    try {
      let id = 4242;
      for (const [label, name, type, edns, transport, port] of cases) {
        id++;
        const q = query(name, type, edns, id);
        const reply = transport === 'udp' ? await udp(port, q) : await tcp(port, q);
        out.push({ label, question: { name, type }, edns, transport, id, hex: reply.toString('hex') });
      }
    } finally {
      await plain.stop();
      await small.stop();
    }
    expect(out).toHaveLength(cases.length);
    writeFileSync(
      new URL('../fixtures/dns/bind-replies.json', import.meta.url),
      `${JSON.stringify(out, null, 1)}\n`,
    );
  });
});

// Test helper: a scriptable DNS server on 127.0.0.1 (UDP and TCP on the same free port) whose
// handler decides each reply: bytes, a packet, or silence. Used for what BIND cannot be made
// to do on demand (every rcode, a wrong id, EDNS refusal, silence on the first try).
import dgram from 'node:dgram';
import net from 'node:net';
import * as packet from 'dns-packet';
import { freePort } from './bind.js';

export type Reply = Buffer | packet.Packet | null;
export type Handler = (query: packet.DecodedPacket, transport: 'udp' | 'tcp', raw: Buffer) => Reply | Reply[];

export interface FakeServer {
  host: string;
  port: number;
  received: { transport: 'udp' | 'tcp'; query: packet.DecodedPacket }[];
  stop(): Promise<void>;
}

/** A captured reply's bytes with the query's id written in. */
export function withId(bytes: Buffer, id: number): Buffer {
  const b = Buffer.from(bytes);
  b.writeUInt16BE(id, 0);
  return b;
}

/** A response to `q` with `rcode` (number) and answers. */
export function respond(
  q: packet.DecodedPacket,
  rcode: number,
  answers: packet.Answer[] = [],
  flags = 0,
): packet.Packet {
  return {
    type: 'response',
    id: q.id,
    flags: packet.AUTHORITATIVE_ANSWER | flags | rcode,
    questions: q.questions,
    answers,
  };
}

const encode = (r: Buffer | packet.Packet) => (Buffer.isBuffer(r) ? r : packet.encode(r));

export async function startFake(handler: Handler): Promise<FakeServer> {
  const port = await freePort();
  const received: FakeServer['received'] = [];
  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    const q = packet.decode(msg);
    received.push({ transport: 'udp', query: q });
    const replies = [handler(q, 'udp', msg)].flat();
    for (const r of replies) if (r) udp.send(encode(r), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => udp.bind(port, '127.0.0.1', () => resolve()));
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        const q = packet.decode(msg);
        received.push({ transport: 'tcp', query: q });
        for (const r of [handler(q, 'tcp', msg)].flat()) {
          if (!r) continue;
          const bytes = encode(r);
          sock.write(Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]));
        }
      }
    });
  });
  await new Promise<void>((resolve) => tcp.listen(port, '127.0.0.1', () => resolve()));
  return {
    host: '127.0.0.1',
    port,
    received,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      await new Promise<void>((resolve) => udp.close(() => resolve()));
    },
  };
}

// A DNS client on dns-packet: UDP with EDNS0 first, the same question again over TCP when the
// UDP reply is truncated (the truncated reply is discarded), bounded timeouts and retries.
// The transport is pluggable: a host:port, or a stream (e.g. an API port-forward to a CoreDNS
// pod, which carries DNS over TCP) given as is or made by a factory.
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import * as packet from 'dns-packet';
import type { DnsNoReply, DnsQuestion, DnsRcode, DnsRecord, DnsReply, DnsResult } from '../../core/dns.js';
import { isIP, normalizeIP } from '../../core/ip.js';

export type DnsServer =
  | { host: string; port: number }
  /** One TCP stream, used once; the caller owns it (knet never destroys it). */
  | { stream: Duplex }
  /** Makes a fresh TCP stream per attempt; knet destroys each one it made. */
  | { connect: () => Duplex | Promise<Duplex> };

export interface QueryOptions {
  /** Per attempt, in ms (default 2000). */
  timeoutMs?: number;
  /** Further UDP attempts after the first when no reply comes (default 2). */
  retries?: number;
  /** EDNS0 UDP payload size advertised (default 1232, the DNS flag day value); 0 = no EDNS. */
  udpPayloadSize?: number;
  /** Set RD (default true, as a stub resolver does). */
  recursionDesired?: boolean;
  /** Skip UDP (host:port servers only). */
  tcpOnly?: boolean;
}

export const DEFAULT_TIMEOUT_MS = 2000;
export const DEFAULT_RETRIES = 2;
export const DEFAULT_UDP_PAYLOAD = 1232;

/** `10.96.0.10`, `10.96.0.10:5353`, `[fd00::10]:53`, `fd00::10` → host and port (default 53). */
export function parseServer(text: string): { host: string; port: number } {
  const t = text.trim();
  let host = t;
  let port = 53;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (bracket) {
    host = bracket[1];
    if (bracket[2]) port = Number(bracket[2]);
  } else if (!isIP(t)) {
    const m = /^(.+):(\d+)$/.exec(t);
    if (m) {
      host = m[1];
      port = Number(m[2]);
    }
  }
  if (!isIP(host) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`not a DNS server address: "${text}" (use IP or IP:PORT, [IPv6]:PORT)`);
  }
  return { host: normalizeIP(host), port };
}

const RCODE_NAMES: Record<number, DnsRcode> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  6: 'YXDOMAIN',
  7: 'YXRRSET',
  8: 'NXRRSET',
  9: 'NOTAUTH',
  10: 'NOTZONE',
  16: 'BADVERS',
};

export function rcodeName(code: number): DnsRcode {
  return RCODE_NAMES[code] ?? `RCODE_${code}`;
}

function text(v: unknown): string {
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (Array.isArray(v)) return v.map(text).join('');
  return String(v);
}

/** A decoded resource record as knet's text form (see DnsRecord). OPT records give undefined. */
export function toRecord(a: packet.Answer): DnsRecord | undefined {
  if (a.type === 'OPT') return undefined;
  const base = { name: a.name, type: a.type as string, ttl: a.ttl };
  switch (a.type) {
    case 'A':
    case 'AAAA':
      return { ...base, data: isIP(a.data) ? normalizeIP(a.data) : a.data };
    case 'CNAME':
    case 'PTR':
    case 'NS':
    case 'DNAME':
      return { ...base, data: a.data };
    case 'SRV':
      return {
        ...base,
        data: `${a.data.priority ?? 0} ${a.data.weight ?? 0} ${a.data.port} ${a.data.target}`,
      };
    case 'TXT':
      return { ...base, data: Array.isArray(a.data) ? a.data.map(text).join('') : text(a.data) };
    case 'SOA': {
      const d = a.data;
      return {
        ...base,
        data: `${d.mname} ${d.rname} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`,
      };
    }
    case 'MX':
      return { ...base, data: `${a.data.preference ?? 0} ${a.data.exchange}` };
    default:
      return { ...base, data: Buffer.isBuffer(a.data) ? a.data.toString('hex') : JSON.stringify(a.data) };
  }
}

type Decoded = packet.DecodedPacket;

/** The full response code: the header's 4 bits plus the OPT record's extended bits. */
export function responseCode(p: Decoded): DnsRcode {
  const low = (p.flags ?? 0) & 0xf;
  const opt = (p.additionals ?? []).find((a) => a.type === 'OPT') as packet.OptAnswer | undefined;
  return rcodeName(((opt?.extendedRcode ?? 0) << 4) | low);
}

function buildQuery(id: number, q: DnsQuestion, opts: QueryOptions, edns: boolean): packet.Packet {
  const payload = opts.udpPayloadSize ?? DEFAULT_UDP_PAYLOAD;
  return {
    type: 'query',
    id,
    flags: opts.recursionDesired === false ? 0 : packet.RECURSION_DESIRED,
    questions: [{ type: q.type, name: q.name.replace(/\.$/, ''), class: 'IN' }],
    additionals:
      edns && payload > 0
        ? [
            {
              type: 'OPT',
              name: '.',
              udpPayloadSize: payload,
              extendedRcode: 0,
              ednsVersion: 0,
              flags: 0,
              flag_do: false,
              options: [],
            },
          ]
        : [],
  };
}

/** A reply belongs to our query: same id, QR set, and the question echoed (when present). */
function matches(p: Decoded, id: number, q: DnsQuestion): boolean {
  if (p.id !== id || !p.flag_qr) return false;
  const qs = p.questions ?? [];
  if (qs.length === 0) return true;
  return qs[0].name.toLowerCase() === q.name.replace(/\.$/, '').toLowerCase() && qs[0].type === q.type;
}

type Exchange = { packet: Decoded } | { error: string; fatal: boolean };

function udpExchange(
  host: string,
  port: number,
  query: Buffer,
  id: number,
  q: DnsQuestion,
  timeoutMs: number,
  attempts: number,
): Promise<Exchange & { attempts: number }> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(isIP(host) && normalizeIP(host).includes(':') ? 'udp6' : 'udp4');
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = (r: Exchange) => {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      try {
        socket.close();
      } catch {
        // already closed
      }
      resolve({ ...r, attempts: sent });
    };
    const send = () => {
      if (sent >= attempts) {
        finish({
          error: `no response within ${timeoutMs} ms (${sent} UDP attempt${sent === 1 ? '' : 's'})`,
          fatal: false,
        });
        return;
      }
      sent++;
      socket.send(query, (err) => {
        if (err) finish({ error: `UDP send failed: ${err.message}`, fatal: true });
      });
      timer = setTimeout(send, timeoutMs);
    };
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const what =
        err.code === 'ECONNREFUSED' ? 'connection refused (nothing listens on that UDP port)' : err.message;
      finish({ error: what, fatal: true });
    });
    socket.on('message', (msg) => {
      let p: Decoded;
      try {
        p = packet.decode(msg);
      } catch {
        return; // not a DNS message: keep waiting
      }
      if (matches(p, id, q)) finish({ packet: p });
    });
    socket.connect(port, host, () => send());
  });
}

async function tcpExchange(
  open: () => Duplex | Promise<Duplex>,
  owned: boolean,
  query: Buffer,
  id: number,
  q: DnsQuestion,
  timeoutMs: number,
): Promise<Exchange> {
  let stream: Duplex;
  try {
    stream = await open();
  } catch (err) {
    return { error: `TCP connection failed: ${(err as Error).message}`, fatal: true };
  }
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    let finished = false;
    const finish = (r: Exchange) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (owned) stream.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () => finish({ error: `no TCP response within ${timeoutMs} ms`, fatal: false }),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        try {
          const p = packet.decode(msg);
          if (matches(p, id, q)) {
            finish({ packet: p });
            return;
          }
        } catch {
          finish({ error: 'malformed DNS message over TCP', fatal: true });
          return;
        }
      }
    };
    const onError = (err: NodeJS.ErrnoException) => {
      const what = err.code === 'ECONNREFUSED' ? 'TCP connection refused' : `TCP error: ${err.message}`;
      finish({ error: what, fatal: true });
    };
    const onClose = () =>
      finish({ error: 'the server closed the TCP connection without an answer', fatal: true });
    stream.on('data', onData);
    stream.on('error', onError);
    stream.on('close', onClose);
    stream.write(Buffer.concat([Buffer.from([query.length >> 8, query.length & 0xff]), query]));
  });
}

function toReply(
  p: Decoded,
  transport: 'udp' | 'tcp',
  extra: Pick<DnsReply, 'truncatedUdp' | 'ednsFallback' | 'attempts' | 'elapsedMs'>,
): DnsReply {
  const records = (list: packet.Answer[] | undefined) =>
    (list ?? []).map(toRecord).filter((r): r is DnsRecord => r !== undefined);
  return {
    rcode: responseCode(p),
    answers: records(p.answers),
    authorities: records(p.authorities),
    additionals: records(p.additionals),
    authoritative: p.flag_aa,
    recursionAvailable: p.flag_ra,
    transport,
    ...extra,
  };
}

/**
 * Asks `server` one question. Never throws for network trouble: a server that does not
 * answer gives `{ rcode: null, error }` within (retries + 1) × timeoutMs (+ one TCP timeout).
 */
export async function queryDns(
  server: DnsServer,
  question: DnsQuestion,
  opts: QueryOptions = {},
): Promise<DnsResult> {
  const started = Date.now();
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const attempts = 1 + Math.max(0, opts.retries ?? DEFAULT_RETRIES);
  let total = 0;
  const elapsed = () => Date.now() - started;
  const noReply = (error: string): DnsNoReply => ({
    rcode: null,
    error,
    attempts: total,
    elapsedMs: elapsed(),
  });

  let edns = (opts.udpPayloadSize ?? DEFAULT_UDP_PAYLOAD) > 0;
  let ednsFallback = false;
  for (;;) {
    const id = randomInt(0, 0x10000);
    const query = packet.encode(buildQuery(id, question, opts, edns));
    let result: Exchange;
    let transport: 'udp' | 'tcp' = 'tcp';
    let truncatedUdp = false;
    if ('host' in server && !opts.tcpOnly) {
      transport = 'udp';
      const udp = await udpExchange(server.host, server.port, query, id, question, timeoutMs, attempts);
      total += udp.attempts;
      result = udp;
      if ('packet' in udp && udp.packet.flag_tc) {
        // A truncated reply may be partial or empty: discard it and ask over TCP.
        truncatedUdp = true;
        transport = 'tcp';
        total++;
        const { host, port } = server;
        result = await tcpExchange(() => net.connect({ host, port }), true, query, id, question, timeoutMs);
        if ('error' in result) return noReply(`truncated UDP reply, then ${result.error}`);
      }
    } else {
      const open: [() => Duplex | Promise<Duplex>, boolean] =
        'host' in server
          ? [() => net.connect({ host: server.host, port: server.port }), true]
          : 'stream' in server
            ? [() => server.stream, false]
            : [server.connect, true];
      const tries = 'stream' in server ? 1 : attempts;
      result = { error: 'not sent', fatal: true };
      for (let i = 0; i < tries; i++) {
        total++;
        result = await tcpExchange(open[0], open[1], query, id, question, timeoutMs);
        if ('packet' in result || result.fatal) break;
      }
    }
    if ('error' in result) return noReply(result.error);
    const reply = toReply(result.packet, transport, {
      truncatedUdp,
      ednsFallback,
      attempts: total,
      elapsedMs: elapsed(),
    });
    // RFC 6891 §7: a server that does not understand EDNS answers FORMERR/NOTIMP; ask once without.
    if (
      edns &&
      !ednsFallback &&
      (reply.rcode === 'FORMERR' || reply.rcode === 'NOTIMP' || reply.rcode === 'BADVERS')
    ) {
      edns = false;
      ednsFallback = true;
      continue;
    }
    return reply;
  }
}

// src/model/ip.ts got fast paths for scale (IPv4 text parsed once, canonical dotted quads
// passed through, parsed CIDRs cached). They must answer exactly as plain ipaddr.js does,
// including the odd forms ipaddr.js accepts (octal, hex, fewer parts) and its error messages.
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { cidrContains, ipFamily, isCIDR, isIP, normalizeIP, parseCIDR, parseIP } from '../../src/core/ip.js';

/** ip.ts as it was: straight ipaddr.js. */
const ref = {
  parseIP(text: string) {
    const addr = ipaddr.parse(text);
    if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress())
      return (addr as ipaddr.IPv6).toIPv4Address();
    return addr;
  },
  parseCIDR(text: string): [ipaddr.IPv4 | ipaddr.IPv6, number] {
    if (!text.includes('/')) {
      const addr = ref.parseIP(text);
      return [addr, addr.kind() === 'ipv4' ? 32 : 128];
    }
    const [addr, bits] = ipaddr.parseCIDR(text);
    if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
      return [(addr as ipaddr.IPv6).toIPv4Address(), bits - 96];
    }
    return [addr, bits];
  },
  isCIDR(text: string) {
    try {
      ipaddr.parseCIDR(text);
      return true;
    } catch {
      return false;
    }
  },
};

const outcome = <T>(fn: () => T): { ok: T } | { error: string } => {
  try {
    return { ok: fn() };
  } catch (e) {
    return { error: (e as Error).message };
  }
};
const show = (v: ipaddr.IPv4 | ipaddr.IPv6 | [ipaddr.IPv4 | ipaddr.IPv6, number]) =>
  Array.isArray(v) ? `${v[0].kind()} ${v[0].toString()}/${v[1]}` : `${v.kind()} ${v.toString()}`;

const ADDRESSES = [
  '10.0.0.1',
  '0.0.0.0',
  '255.255.255.255',
  '10.244.1.5',
  '192.168.001.1',
  '010.1.1.1',
  '0x0a.0.0.1',
  '1.2.3',
  '167772161',
  '256.1.1.1',
  '1.2.3.4.5',
  '',
  ' 10.0.0.1',
  '10.0.0.1 ',
  'a.b.c.d',
  '1..2.3',
  '::1',
  '::',
  'fd00::1',
  'FD00::0001',
  '2001:db8::1:0:0:1',
  '::ffff:10.0.0.1',
  '::ffff:a00:1',
  'fe80::1%eth0',
  '1:2:3:4:5:6:7:8',
  '1:2:3:4:5:6:7:8:9',
  'gg::1',
  '10.0.0.01',
  '1.2.3.04',
  '09.1.1.1',
  '00.0.0.0',
];
const CIDRS = [
  '10.0.0.0/8',
  '10.244.1.0/24',
  '10.244.1.7/24',
  '0.0.0.0/0',
  '10.0.0.0/33',
  '10.0.0.0/-1',
  '10.0.0.0/',
  '/8',
  '10.0.0.1',
  '300.0.0.0/8',
  '010.0.0.0/8',
  'fd00::/64',
  '::/0',
  '::ffff:10.0.0.0/104',
  'fd00::/129',
  '10/8',
  '::1',
  'x/8',
  '10.0.0.0/08',
];

describe('ip.ts fast paths agree with ipaddr.js', () => {
  it('parseIP, normalizeIP, ipFamily, isIP: same value or same error', () => {
    for (const text of ADDRESSES) {
      const want = outcome(() => show(ref.parseIP(text)));
      expect(
        outcome(() => show(parseIP(text))),
        text,
      ).toEqual(want);
      expect(
        outcome(() => normalizeIP(text)),
        text,
      ).toEqual(outcome(() => ref.parseIP(text).toString()));
      expect(
        outcome(() => ipFamily(text)),
        text,
      ).toEqual(outcome(() => (ref.parseIP(text).kind() === 'ipv4' ? 4 : 6)));
      expect(isIP(text), text).toBe(ipaddr.isValid(text));
    }
  });

  it('parseCIDR and isCIDR: same value or same error, cached or not', () => {
    for (const text of CIDRS) {
      const want = outcome(() => show(ref.parseCIDR(text)));
      expect(
        outcome(() => show(parseCIDR(text))),
        text,
      ).toEqual(want);
      expect(
        outcome(() => show(parseCIDR(text))),
        `${text} (cached)`,
      ).toEqual(want);
      expect(isCIDR(text), text).toBe(ref.isCIDR(text));
    }
  });

  it('cidrContains on every pair', () => {
    for (const c of CIDRS) {
      for (const a of ADDRESSES) {
        const want = outcome(() => {
          const r = ref.parseCIDR(c);
          const x = ref.parseIP(a);
          return x.kind() === r[0].kind() && x.match(r);
        });
        expect(
          outcome(() => cidrContains(c, a)),
          `${c} ∋ ${a}`,
        ).toEqual(want);
      }
    }
  });

  it('random dotted quads (with leading zeros now and then) normalise as ipaddr.js does', () => {
    let seed = 3;
    const rnd = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    for (let i = 0; i < 5000; i++) {
      const octet = () => {
        const n = Math.floor(rnd() * 300);
        return rnd() < 0.05 ? `0${n}` : String(n);
      };
      const text = [octet(), octet(), octet(), octet()].join('.');
      expect(
        outcome(() => normalizeIP(text)),
        text,
      ).toEqual(outcome(() => ref.parseIP(text).toString()));
      expect(isIP(text), text).toBe(ipaddr.isValid(text));
    }
  });
});

// Every IP/CIDR operation in knet goes through ipaddr.js; this module is the one place that
// wraps it, so that IPv4, IPv6 and IPv4-mapped forms compare the same way everywhere.
import ipaddr from 'ipaddr.js';

export type IP = ipaddr.IPv4 | ipaddr.IPv6;
export type CIDR = [IP, number];

export function isIP(text: string): boolean {
  return ipaddr.isValid(text);
}

export function parseIP(text: string): IP {
  const addr = ipaddr.parse(text);
  // ::ffff:a.b.c.d compares as the IPv4 address it carries.
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    return (addr as ipaddr.IPv6).toIPv4Address();
  }
  return addr;
}

/** Canonical text of an address ("10.0.0.1", "fd00::1"), used as map keys. */
export function normalizeIP(text: string): string {
  return parseIP(text).toString();
}

export function isCIDR(text: string): boolean {
  try {
    ipaddr.parseCIDR(text);
    return true;
  } catch {
    return false;
  }
}

export function parseCIDR(text: string): CIDR {
  // A bare address is a host route (/32 or /128), as `ip route` prints it.
  if (!text.includes('/')) {
    const addr = parseIP(text);
    return [addr, addr.kind() === 'ipv4' ? 32 : 128];
  }
  const [addr, bits] = ipaddr.parseCIDR(text);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    return [(addr as ipaddr.IPv6).toIPv4Address(), bits - 96];
  }
  return [addr, bits];
}

export function ipFamily(text: string): 4 | 6 {
  return parseIP(text).kind() === 'ipv4' ? 4 : 6;
}

export function cidrContains(cidr: string | CIDR, ip: string | IP): boolean {
  const range = typeof cidr === 'string' ? parseCIDR(cidr) : cidr;
  const addr = typeof ip === 'string' ? parseIP(ip) : ip;
  if (addr.kind() !== range[0].kind()) return false;
  return addr.match(range);
}

/** Number of addresses in a CIDR (as a JS number; IPv6 sizes beyond 2^53 saturate). */
export function cidrSize(cidr: string): number {
  const [addr, bits] = parseCIDR(cidr);
  const width = addr.kind() === 'ipv4' ? 32 : 128;
  return 2 ** (width - bits);
}

export function cidrsOverlap(a: string, b: string): boolean {
  const ca = parseCIDR(a);
  const cb = parseCIDR(b);
  if (ca[0].kind() !== cb[0].kind()) return false;
  return ca[1] <= cb[1] ? cb[0].match(ca) : ca[0].match(cb);
}

/** The network address of a CIDR in canonical "addr/bits" form. */
export function canonicalCIDR(text: string): string {
  const [addr, bits] = parseCIDR(text);
  const network =
    addr.kind() === 'ipv4'
      ? ipaddr.IPv4.networkAddressFromCIDR(`${addr.toString()}/${bits}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${addr.toString()}/${bits}`);
  return `${network.toString()}/${bits}`;
}

/** The first host address of a CIDR (the conventional bridge gateway, e.g. 10.244.1.1). */
export function firstHost(cidr: string): string {
  const [addr, bits] = parseCIDR(canonicalCIDR(cidr));
  const bytes = addr.toByteArray();
  bytes[bytes.length - 1] += 1;
  void bits;
  return ipaddr.fromByteArray(bytes).toString();
}

/** Longest-prefix match: the entry whose CIDR contains `ip` with the most bits. */
export function longestPrefixMatch<T>(
  ip: string,
  entries: Iterable<T>,
  cidrOf: (e: T) => string,
): T | undefined {
  const addr = parseIP(ip);
  let best: T | undefined;
  let bestBits = -1;
  for (const e of entries) {
    const range = parseCIDR(cidrOf(e));
    if (range[0].kind() === addr.kind() && range[1] > bestBits && addr.match(range)) {
      best = e;
      bestBits = range[1];
    }
  }
  return best;
}

// Every IP/CIDR operation in knet goes through ipaddr.js; this module is the one place that
// wraps it, so that IPv4, IPv6 and IPv4-mapped forms compare the same way everywhere.
import ipaddr from 'ipaddr.js';

export type IP = ipaddr.IPv4 | ipaddr.IPv6;
export type CIDR = [IP, number];

/** Dotted-quad text that is already canonical (no leading zeros, every octet ≤ 255). */
const DOTTED_QUAD = String.raw`(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)`;
const CANONICAL_IPV4 = new RegExp(`^${DOTTED_QUAD}$`);
/**
 * A canonical dotted quad and a plain prefix length ("10.244.3.0/24"): nearly every route and pod
 * CIDR at scale, told without parsing it (parseCIDR takes it).
 */
const PLAIN_IPV4_CIDR = new RegExp(`^${DOTTED_QUAD}/(?:[0-9]|[12][0-9]|3[0-2])$`);

/** Already in normalizeIP's form, as a dotted quad (most addresses at scale are). */
export function isCanonicalIPv4(text: string): boolean {
  return CANONICAL_IPV4.test(text);
}

export function isIP(text: string): boolean {
  if (typeof text === 'string' && CANONICAL_IPV4.test(text)) return true;
  return ipaddr.isValid(text);
}

export function parseIP(text: string): IP {
  // A canonical dotted quad (pod and endpoint IPs by the 100,000) needs no parser.
  if (typeof text === 'string' && CANONICAL_IPV4.test(text)) {
    const d1 = text.indexOf('.');
    const d2 = text.indexOf('.', d1 + 1);
    const d3 = text.indexOf('.', d2 + 1);
    return new ipaddr.IPv4([
      Number(text.slice(0, d1)),
      Number(text.slice(d1 + 1, d2)),
      Number(text.slice(d2 + 1, d3)),
      Number(text.slice(d3 + 1)),
    ]);
  }
  // Text without a colon can only be IPv4: parse it once (ipaddr.parse validates, then parses
  // again), with ipaddr.parse's error message when it is not an address.
  if (typeof text === 'string' && !text.includes(':')) {
    try {
      return ipaddr.IPv4.parse(text);
    } catch {
      throw new Error('ipaddr: the address has neither IPv6 nor IPv4 format');
    }
  }
  const addr = ipaddr.parse(text);
  // ::ffff:a.b.c.d compares as the IPv4 address it carries.
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    return (addr as ipaddr.IPv6).toIPv4Address();
  }
  return addr;
}

/** Canonical text of an address ("10.0.0.1", "fd00::1"), used as map keys. */
export function normalizeIP(text: string): string {
  // The common case at scale (150,000 pod IPs): the text is already canonical.
  if (CANONICAL_IPV4.test(text)) return text;
  return parseIP(text).toString();
}

export function isCIDR(text: string): boolean {
  // parseCIDR also takes a bare address (a host route); a CIDR has a prefix length. Going
  // through its cache means a route table's thousands of destinations are parsed once.
  if (typeof text !== 'string' || !text.includes('/')) return false;
  try {
    parseCIDR(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Parsed CIDRs by text. The same few thousand CIDRs (node pod CIDRs, rule and route
 * destinations) are tested against many addresses; results are shared and must not be mutated.
 */
const cidrCache = new Map<string, CIDR>();
const CIDR_CACHE_MAX = 100_000;

export function parseCIDR(text: string): CIDR {
  const hit = cidrCache.get(text);
  if (hit) return hit;
  const parsed = parseCIDRUncached(text);
  if (cidrCache.size >= CIDR_CACHE_MAX) cidrCache.clear();
  cidrCache.set(text, parsed);
  return parsed;
}

function parseCIDRUncached(text: string): CIDR {
  // A bare address is a host route (/32 or /128), as `ip route` prints it.
  if (!text.includes('/')) {
    const addr = parseIP(text);
    return [addr, addr.kind() === 'ipv4' ? 32 : 128];
  }
  // Without a colon it can only be IPv4: ipaddr.parseCIDR would first fail (and throw) as IPv6.
  if (!text.includes(':')) {
    // A canonical dotted quad and a plain prefix length (every pod CIDR route at scale).
    if (PLAIN_IPV4_CIDR.test(text)) {
      const slash = text.indexOf('/');
      return [parseIP(text.slice(0, slash)), Number(text.slice(slash + 1))];
    }
    try {
      return ipaddr.IPv4.parseCIDR(text);
    } catch (e) {
      throw new Error('ipaddr: the address has neither IPv6 nor IPv4 CIDR format', { cause: e });
    }
  }
  const [addr, bits] = ipaddr.parseCIDR(text);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    return [(addr as ipaddr.IPv6).toIPv4Address(), bits - 96];
  }
  return [addr, bits];
}

export function isPlainIPv4CIDR(text: string): boolean {
  return PLAIN_IPV4_CIDR.test(text);
}

/**
 * The address of a canonical dotted quad, or of a plain IPv4 CIDR's network part, as an unsigned
 * 32-bit number: a route table of thousands is matched by integer comparison, not ipaddr objects.
 */
export function ipv4Number(text: string): number {
  let n = 0;
  let octet = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      n = n * 256 + octet;
      octet = 0;
    } else if (c === 47 /* / */) break;
    else octet = octet * 10 + (c - 48);
  }
  return n * 256 + octet;
}

export function ipFamily(text: string): 4 | 6 {
  if (CANONICAL_IPV4.test(text)) return 4;
  return parseIP(text).kind() === 'ipv4' ? 4 : 6;
}

export function cidrContains(cidr: string | CIDR, ip: string | IP): boolean {
  const range = typeof cidr === 'string' ? parseCIDR(cidr) : cidr;
  const addr = typeof ip === 'string' ? parseIP(ip) : ip;
  if (addr.kind() !== range[0].kind()) return false;
  return addr.match(range);
}

/**
 * Rule matches read untrusted text (a set element, a rule's -d value) that may not be an address:
 * these answer null / false instead of throwing, and remember non-canonical forms.
 */
const maybeIPCache = new Map<string, IP | null>();
const LOOKS_LIKE_IP = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*)$/;

export function ipOrNull(text: string): IP | null {
  if (CANONICAL_IPV4.test(text)) return parseIP(text);
  let a = maybeIPCache.get(text);
  if (a === undefined) {
    a = null;
    if (LOOKS_LIKE_IP.test(text)) {
      try {
        a = parseIP(text);
      } catch {
        a = null;
      }
    }
    if (maybeIPCache.size >= CIDR_CACHE_MAX) maybeIPCache.clear();
    maybeIPCache.set(text, a);
  }
  return a;
}

/** Whether the CIDR text contains the address text; false when either is not one. */
export function inCIDR(cidr: string, ip: string): boolean {
  let range: CIDR;
  try {
    range = parseCIDR(cidr);
  } catch {
    return false;
  }
  const addr = ipOrNull(ip);
  return addr !== null && addr.kind() === range[0].kind() && addr.match(range);
}

/** Orders two addresses of one family by their bytes. */
export function compareIPs(a: IP, b: IP): number {
  const x = a.toByteArray();
  const y = b.toByteArray();
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
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

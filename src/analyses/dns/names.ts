// Name arithmetic for DNS: normalising, dashed IPs (pod and endpoint records) and reverse
// (PTR) names. Addresses go through ipaddr.js (src/model/ip.ts); only their text is built here.
import ipaddr from 'ipaddr.js';
import { isIP, parseIP } from '../../core/ip.js';

/** Lower-case, no trailing dot: the form every comparison uses (DNS names are case-insensitive). */
export function normalizeName(name: string): string {
  return name.trim().replace(/\.+$/, '').toLowerCase();
}

/** True when `name` is `zone` or below it. Both normalised. */
export function inZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

/** The labels of `name` above `zone` (`a.b.cluster.local` in `cluster.local` → ['a','b']). */
export function labelsBelow(name: string, zone: string): string[] {
  if (name === zone) return [];
  return name.slice(0, name.length - zone.length - 1).split('.');
}

/**
 * The hostname CoreDNS gives an endpoint without one: the address with `.` or `:` turned
 * into `-` (`10-244-1-5`; `fd00--5`), as CoreDNS's `endpointHostname` does.
 */
export function dashedIP(ip: string): string {
  const d = ip.includes('.') ? ip.replaceAll('.', '-') : ip.replaceAll(':', '-');
  // A label cannot end with "-": CoreDNS appends a 0 (2001:db8::  →  2001-db8--0).
  return d.endsWith('-') ? `${d}0` : d;
}

/**
 * The address a pod-record label names (`10-244-1-5` → 10.244.1.5, `fd00--5` → fd00::5), read
 * as CoreDNS does: exactly three dashes and no `--` is IPv4, anything else IPv6. undefined
 * when the result is no address.
 */
export function ipFromDashed(label: string): string | undefined {
  const count = label.split('-').length - 1;
  const text = count === 3 && !label.includes('--') ? label.replaceAll('-', '.') : label.replaceAll('-', ':');
  if (!isIP(text)) return undefined;
  // ipaddr.js accepts forms Go's net.ParseIP does not (e.g. "10.1" or octal); be as strict.
  if (count === 3 && !/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) return undefined;
  return parseIP(text).toString();
}

/** `10.96.0.10` → `10.0.96.10.in-addr.arpa`; IPv6 → 32 nibbles under `ip6.arpa`. */
export function reverseName(ip: string): string {
  const bytes = parseIP(ip).toByteArray();
  if (bytes.length === 4) return `${[...bytes].reverse().join('.')}.in-addr.arpa`;
  const nibbles: string[] = [];
  for (const b of bytes) nibbles.push((b >> 4).toString(16), (b & 15).toString(16));
  return `${nibbles.reverse().join('.')}.ip6.arpa`;
}

/** The address a full reverse name stands for, or undefined (partial names, other zones). */
export function ipFromReverseName(name: string): string | undefined {
  const n = normalizeName(name);
  if (n.endsWith('.in-addr.arpa')) {
    const labels = n.slice(0, -'.in-addr.arpa'.length).split('.');
    if (labels.length !== 4 || !labels.every((l) => /^(0|[1-9]\d{0,2})$/.test(l) && Number(l) <= 255)) {
      return undefined;
    }
    return ipaddr.fromByteArray(labels.reverse().map(Number)).toString();
  }
  if (n.endsWith('.ip6.arpa')) {
    const labels = n.slice(0, -'.ip6.arpa'.length).split('.');
    if (labels.length !== 32 || !labels.every((l) => /^[0-9a-f]$/.test(l))) return undefined;
    const hex = labels.reverse();
    const bytes: number[] = [];
    for (let i = 0; i < 32; i += 2) bytes.push(Number.parseInt(hex[i] + hex[i + 1], 16));
    return ipaddr.fromByteArray(bytes).toString();
  }
  return undefined;
}

/** True for a reverse-lookup name (in-addr.arpa or ip6.arpa, any depth). */
export function isReverseName(name: string): boolean {
  const n = normalizeName(name);
  return n === 'in-addr.arpa' || n === 'ip6.arpa' || n.endsWith('.in-addr.arpa') || n.endsWith('.ip6.arpa');
}

/**
 * A valid domain name for a CNAME target (what CoreDNS checks before answering an
 * ExternalName): 1–253 characters, labels of 1–63, and not an IP address.
 */
export function isDomainName(text: string): boolean {
  const n = text.replace(/\.$/, '');
  if (n.length === 0 || n.length > 253 || isIP(n)) return false;
  return n.split('.').every((l) => l.length > 0 && l.length <= 63);
}

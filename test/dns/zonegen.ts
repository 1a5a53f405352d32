// A BIND zone generator written straight from the Kubernetes DNS specification (and the
// pod-record rule of the Kubernetes docs), on the raw API objects. It deliberately shares no
// code with src/analyses/dns: the tests compare knet's expected answers with a real server
// that serves these zones, so the two must be derived independently.
import type { Raw } from '../../src/model/normalize.js';

export interface ZoneRecord {
  /** Absolute owner name, no trailing dot. */
  owner: string;
  type: 'A' | 'AAAA' | 'SRV' | 'PTR' | 'CNAME' | 'TXT';
  /** Zone-file rdata (absolute names end with a dot). */
  rdata: string;
  ttl?: number;
}

const TTL = 30;

function isV6(ip: string): boolean {
  return ip.includes(':');
}

/** RFC 1035 / 3596 reverse owner for an address (independent of knet's implementation). */
export function reverseOwner(ip: string): string {
  if (!isV6(ip)) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  // Expand "::" and pad each group to 4 hex digits.
  const [head, tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const hex = groups.map((g) => g.padStart(4, '0')).join('');
  return `${hex.split('').reverse().join('.')}.ip6.arpa`;
}

function dashed(ip: string): string {
  return isV6(ip) ? ip.replace(/:/g, '-') : ip.replace(/\./g, '-');
}

/** Every record the spec requires for these objects (plus pod A records). */
export function specRecords(objects: Raw[], zone = 'cluster.local'): ZoneRecord[] {
  const out: ZoneRecord[] = [{ owner: `dns-version.${zone}`, type: 'TXT', rdata: '"1.1.0"', ttl: 28800 }];
  const pods = objects.filter((o) => o.kind === 'Pod');
  const slices = objects.filter((o) => o.kind === 'EndpointSlice');
  for (const s of objects.filter((o) => o.kind === 'Service')) {
    const ns = s.metadata.namespace;
    const name = s.metadata.name;
    const fqdn = `${name}.${ns}.svc.${zone}`;
    const spec = s.spec ?? {};
    if (spec.type === 'ExternalName') {
      out.push({ owner: fqdn, type: 'CNAME', rdata: `${spec.externalName}.` });
      continue;
    }
    const ports: Raw[] = spec.ports ?? [];
    const clusterIPs: string[] = spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : []);
    if (!clusterIPs.includes('None')) {
      // 2.3.1 A/AAAA, 2.3.2 SRV for named ports, 2.3.3 PTR.
      for (const ip of clusterIPs) {
        out.push({ owner: fqdn, type: isV6(ip) ? 'AAAA' : 'A', rdata: ip });
        out.push({ owner: reverseOwner(ip), type: 'PTR', rdata: `${fqdn}.` });
      }
      for (const p of ports) {
        if (!p.name) continue;
        const proto = String(p.protocol ?? 'TCP').toLowerCase();
        out.push({ owner: `_${p.name}._${proto}.${fqdn}`, type: 'SRV', rdata: `0 100 ${p.port} ${fqdn}.` });
      }
      continue;
    }
    // 2.4 headless: one record per ready endpoint.
    const mine = slices.filter(
      (sl) => sl.metadata.namespace === ns && sl.metadata.labels?.['kubernetes.io/service-name'] === name,
    );
    for (const sl of mine) {
      for (const ep of sl.endpoints ?? []) {
        const ready = ep.conditions?.ready !== false || spec.publishNotReadyAddresses === true;
        if (!ready) continue;
        const ref = ep.targetRef?.name;
        const p = pods.find((x) => x.metadata.namespace === ns && x.metadata.name === ref);
        for (const ip of ep.addresses ?? []) {
          const host =
            ep.hostname ?? (p?.spec?.hostname && p.spec.subdomain === name ? p.spec.hostname : dashed(ip));
          const type = isV6(ip) ? 'AAAA' : 'A';
          out.push({ owner: fqdn, type, rdata: ip });
          out.push({ owner: `${host}.${fqdn}`, type, rdata: ip });
          out.push({ owner: reverseOwner(ip), type: 'PTR', rdata: `${host}.${fqdn}.` });
          for (const port of sl.ports ?? []) {
            if (!port.name) continue;
            const proto = String(port.protocol ?? 'TCP').toLowerCase();
            out.push({
              owner: `_${port.name}._${proto}.${fqdn}`,
              type: 'SRV',
              rdata: `0 100 ${port.port} ${host}.${fqdn}.`,
            });
          }
        }
      }
    }
  }
  // Pod A records (a-b-c-d.ns.pod.zone), for the pods that exist.
  for (const p of pods) {
    for (const { ip } of p.status?.podIPs ?? []) {
      out.push({
        owner: `${dashed(ip)}.${p.metadata.namespace}.pod.${zone}`,
        type: isV6(ip) ? 'AAAA' : 'A',
        rdata: ip,
      });
    }
  }
  return out;
}

/** A zone file for `origin` with the records below it (SOA/NS as CoreDNS synthesises them). */
export function renderZone(origin: string, records: ZoneRecord[], soaZone = 'cluster.local'): string {
  const lines = [
    `$ORIGIN ${origin}.`,
    `$TTL ${TTL}`,
    `@ IN SOA ns.dns.${soaZone}. hostmaster.${soaZone}. ( 1 7200 1800 86400 ${TTL} )`,
    `@ IN NS ns.dns.${soaZone}.`,
  ];
  if (origin === soaZone) lines.push(`ns.dns IN A 127.0.0.1`);
  const seen = new Set<string>();
  for (const r of records) {
    if (r.owner !== origin && !r.owner.endsWith(`.${origin}`)) continue;
    const line = `${r.owner}. ${r.ttl ?? TTL} IN ${r.type} ${r.rdata}`;
    if (seen.has(line)) continue;
    seen.add(line);
    lines.push(line);
  }
  return `${lines.join('\n')}\n`;
}

/** The zones named serves for these records: the cluster zone and the two reverse trees. */
export function zonesFor(records: ZoneRecord[], zone = 'cluster.local'): { origin: string; text: string }[] {
  return [zone, 'in-addr.arpa', 'ip6.arpa'].map((origin) => ({
    origin,
    text: renderZone(origin, records, zone),
  }));
}

// Broken variants: edits of the record list.

/** A stale record: the owner's `type` data replaced. */
export function withData(
  records: ZoneRecord[],
  owner: string,
  type: ZoneRecord['type'],
  rdata: string,
): ZoneRecord[] {
  return records.map((r) => (r.owner === owner && r.type === type ? { ...r, rdata } : r));
}

/** A missing name: every record at or below `owner` removed. */
export function without(records: ZoneRecord[], owner: string): ZoneRecord[] {
  return records.filter((r) => r.owner !== owner && !r.owner.endsWith(`.${owner}`));
}

/** A missing record. */
export function withoutRecord(
  records: ZoneRecord[],
  owner: string,
  type: ZoneRecord['type'],
  rdata: string,
): ZoneRecord[] {
  return records.filter((r) => !(r.owner === owner && r.type === type && r.rdata === rdata));
}

// lookupRoute (src/analyses/trace/routing.ts) now parses a node's routes once per list instead
// of once per lookup (5,000 host-gw routes at scale). It must choose exactly the route the
// original per-lookup code chose, on real-shaped tables and on random ones.
import { describe, expect, it } from 'vitest';
import { lookupInTable, lookupRoute } from '../../src/analyses/dataplane/routing.js';
import { cidrContains, ipFamily, parseCIDR, parseIP } from '../../src/core/ip.js';
import { type IpRoute, parseIpRoute } from '../../src/parsers/iproute2.js';

/** The lookup as it was before the scale work. */
function reference(routes: readonly IpRoute[], dst: string): IpRoute | undefined {
  const UNICAST = new Set(['main', '254']);
  const LOCAL = new Set(['local', '255']);
  const routeCIDR = (route: IpRoute, family: 4 | 6): string | undefined => {
    if (route.dst === 'default') return family === 4 ? '0.0.0.0/0' : '::/0';
    try {
      const [addr] = parseCIDR(route.dst);
      return ipFamily(addr.toString()) === family ? route.dst : undefined;
    } catch {
      return undefined;
    }
  };
  const family = ipFamily(dst);
  const local = routes.find(
    (r) => LOCAL.has(r.table) && r.type === 'local' && routeCIDR(r, family) && cidrContains(r.dst, dst),
  );
  if (local) return local;
  let best: IpRoute | undefined;
  let bestBits = -1;
  for (const r of routes) {
    if (!UNICAST.has(r.table)) continue;
    const cidr = routeCIDR(r, family);
    if (!cidr || !cidrContains(cidr, dst)) continue;
    const bits = parseCIDR(cidr)[1];
    if (bits > bestBits || (bits === bestBits && (r.metric ?? 0) < (best?.metric ?? 0))) {
      best = r;
      bestBits = bits;
    }
  }
  return best;
}

/** lookupInTable as it was before plain IPv4 prefixes were matched as numbers. */
function tableReference(routes: readonly IpRoute[], table: string, dst: string): IpRoute | undefined {
  const alias: Record<string, string> = { '254': 'main', '255': 'local', '253': 'default' };
  const name = (t: string) => alias[t] ?? t;
  const want = name(table);
  const family = ipFamily(dst);
  const addr = parseIP(dst);
  let best: IpRoute | undefined;
  let bestBits = -1;
  for (const r of routes) {
    if (name(r.table) !== want) continue;
    if (want === 'local' && r.type !== 'local') continue;
    let bits = -1;
    if (r.dst === 'default') bits = r.family === undefined || r.family === family ? 0 : -1;
    else {
      try {
        const range = parseCIDR(r.dst);
        const rf = range[0].kind() === 'ipv4' ? 4 : 6;
        if (rf === family && addr.kind() === range[0].kind() && addr.match(range)) bits = range[1];
      } catch {
        bits = -1;
      }
    }
    if (bits < 0) continue;
    if (bits > bestBits || (bits === bestBits && (r.metric ?? 0) < (best?.metric ?? 0))) {
      best = r;
      bestBits = bits;
    }
  }
  return best;
}

const outcome = (fn: () => IpRoute | undefined) => {
  try {
    return { line: fn()?.line ?? null };
  } catch (e) {
    return { error: (e as Error).message };
  }
};

let seed = 11;
const rnd = () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32;
};
const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];

function randomTable(): IpRoute[] {
  const entries: Record<string, unknown>[] = [];
  const n = 1 + Math.floor(rnd() * 25);
  for (let i = 0; i < n; i++) {
    const dst = pick([
      'default',
      `10.${Math.floor(rnd() * 3)}.0.0/16`,
      `10.${Math.floor(rnd() * 3)}.${Math.floor(rnd() * 3)}.0/24`,
      `10.0.0.${Math.floor(rnd() * 4)}`,
      '0.0.0.0/0',
      '172.16.0.0/12',
      'fd00::/64',
      '::/0',
      'fe80::/64',
      '::ffff:10.1.0.0/112',
      '10.0.0.0/8',
      `10.1.${Math.floor(rnd() * 4) * 64}.0/${17 + Math.floor(rnd() * 8)}`,
    ]);
    const e: Record<string, unknown> = { dst, dev: pick(['eth0', 'cni0', 'lo']), flags: [] };
    if (rnd() < 0.3) e.table = pick(['local', 'main', '255', '254', '100']);
    if (e.table === 'local' || e.table === '255' || rnd() < 0.1)
      e.type = pick(['local', 'broadcast', 'unicast']);
    if (rnd() < 0.3) e.metric = Math.floor(rnd() * 3) * 100;
    if (rnd() < 0.4) e.gateway = pick(['172.16.0.1', '172.16.0.9', 'fe80::1']);
    entries.push(e);
  }
  // Never a local-table `default` of type local: both versions throw on it (checked below).
  const fixed = entries.filter((e) => !(e.dst === 'default' && e.type === 'local'));
  return parseIpRoute(JSON.stringify(fixed), 'ip-route.json');
}

const DESTINATIONS = [
  '10.0.0.1',
  '10.0.0.3',
  '10.1.2.3',
  '10.2.0.9',
  '172.16.5.5',
  '8.8.8.8',
  'fd00::5',
  '2001:db8::1',
  '10.1.0.7',
  '::ffff:10.1.2.3',
  '0.0.0.0',
];

describe('lookupRoute: routes parsed once, same choice', () => {
  it('matches the per-lookup version on 500 random tables', () => {
    for (let t = 0; t < 500; t++) {
      const routes = randomTable();
      for (const dst of DESTINATIONS) {
        expect(
          outcome(() => lookupRoute(routes, dst)),
          `table ${t} → ${dst}`,
        ).toEqual(outcome(() => reference(routes, dst)));
        for (const table of ['main', 'local', '255', '100'])
          expect(
            outcome(() => lookupInTable(routes, table, dst)),
            `table ${t} ${table} → ${dst}`,
          ).toEqual(outcome(() => tableReference(routes, table, dst)));
      }
    }
  });

  it('a host-gw node with 5,000 routes: the right next hop, fast', () => {
    const entries: Record<string, unknown>[] = [
      { dst: 'default', gateway: '172.16.0.1', dev: 'eth0', flags: [] },
    ];
    for (let i = 0; i < 5000; i++) {
      const dst = `10.${128 + (i >> 8)}.${i & 255}.0/24`;
      entries.push(
        i === 7
          ? { dst, dev: 'cni0', protocol: 'kernel', scope: 'link', flags: [] }
          : { dst, gateway: `172.16.${i >> 8}.${i & 255}`, dev: 'eth0', flags: [] },
      );
    }
    entries.push({
      type: 'local',
      dst: '172.16.0.9',
      dev: 'eth0',
      table: 'local',
      protocol: 'kernel',
      scope: 'host',
      flags: [],
    });
    const routes = parseIpRoute(JSON.stringify(entries), 'ip-route.json');
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) {
      const dst = `10.${128 + ((i * 25) >> 8)}.${(i * 25) & 255}.5`;
      expect(lookupRoute(routes, dst)?.gateway ?? 'local').toBe(reference(routes, dst)?.gateway ?? 'local');
      expect(lookupInTable(routes, 'main', dst)).toBe(tableReference(routes, 'main', dst));
    }
    expect(lookupRoute(routes, '10.128.7.20')?.dev).toBe('cni0');
    expect(lookupRoute(routes, '172.16.0.9')?.type).toBe('local');
    expect(lookupRoute(routes, '8.8.8.8')?.gateway).toBe('172.16.0.1');
    expect(performance.now() - t0).toBeLessThan(20_000);
  });

  it('a local-table `default` of type local is still an error, as before', () => {
    const routes = parseIpRoute(
      JSON.stringify([{ type: 'local', dst: 'default', dev: 'lo', table: 'local', flags: [] }]),
      'ip-route.json',
    );
    expect(outcome(() => lookupRoute(routes, '10.0.0.1'))).toEqual(
      outcome(() => reference(routes, '10.0.0.1')),
    );
    expect(outcome(() => lookupRoute(routes, '10.0.0.1'))).toHaveProperty('error');
  });
});

// Route lookup and link lookups on parsed iproute2 state.
import { type CIDR, cidrContains, ipFamily, parseCIDR, parseIP } from '../../model/ip.js';
import type { IpAddrInterface, IpLink, IpRoute } from '../../parsers/iproute2.js';

const UNICAST_TABLES = new Set(['main', '254']);
const LOCAL_TABLES = new Set(['local', '255']);

function routeCIDR(route: IpRoute, family: 4 | 6): string | undefined {
  if (route.dst === 'default') return family === 4 ? '0.0.0.0/0' : '::/0';
  try {
    const [addr] = parseCIDR(route.dst);
    return ipFamily(addr.toString()) === family ? route.dst : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A route's destination, parsed once per routes list (a node can have thousands): `default`
 * (either family, 0 bits), an address range of one family, or nothing usable.
 */
type CompiledRoute = { isDefault: true } | { isDefault: false; family?: 4 | 6; range?: CIDR };

const compiledRoutes = new WeakMap<readonly IpRoute[], CompiledRoute[]>();

function compile(routes: readonly IpRoute[]): CompiledRoute[] {
  let compiled = compiledRoutes.get(routes);
  if (!compiled) {
    compiled = routes.map((r): CompiledRoute => {
      if (r.dst === 'default') return { isDefault: true };
      for (const family of [4, 6] as const) {
        if (routeCIDR(r, family)) return { isDefault: false, family, range: parseCIDR(r.dst) };
      }
      return { isDefault: false };
    });
    compiledRoutes.set(routes, compiled);
  }
  return compiled;
}

/**
 * The kernel's choice for `dst` without policy rules: an address of the node itself (local
 * table) first, then the longest prefix of the main table, lowest metric on a tie.
 */
export function lookupRoute(routes: readonly IpRoute[], dst: string): IpRoute | undefined {
  const family = ipFamily(dst);
  const addr = parseIP(dst);
  const compiled = compile(routes);
  /** The route's prefix length when it holds `dst`, else -1. */
  const prefixFor = (i: number): number => {
    const c = compiled[i];
    if (c.isDefault) return 0;
    if (c.family !== family || !c.range) return -1;
    return addr.kind() === c.range[0].kind() && addr.match(c.range) ? c.range[1] : -1;
  };
  const localIndex = routes.findIndex(
    (r, i) =>
      LOCAL_TABLES.has(r.table) &&
      r.type === 'local' &&
      // (a local `default` is not an address: cidrContains rejects it, as it always did)
      (r.dst === 'default' ? cidrContains(r.dst, dst) : prefixFor(i) >= 0),
  );
  if (localIndex >= 0) return routes[localIndex];
  let best: IpRoute | undefined;
  let bestBits = -1;
  routes.forEach((r, i) => {
    if (!UNICAST_TABLES.has(r.table)) return;
    const bits = prefixFor(i);
    if (bits < 0) return;
    if (bits > bestBits || (bits === bestBits && (r.metric ?? 0) < (best?.metric ?? 0))) {
      best = r;
      bestBits = bits;
    }
  });
  return best;
}

/** `ip route` style text of a route, for evidence. */
export function formatRoute(r: IpRoute): string {
  const parts = [r.type !== 'unicast' ? `${r.type} ${r.dst}` : r.dst];
  const gw = r.gateway ?? r.nexthops[0]?.gateway;
  const dev = r.dev ?? r.nexthops[0]?.dev;
  if (gw) parts.push(`via ${gw}`);
  if (dev) parts.push(`dev ${dev}`);
  if (r.protocol) parts.push(`proto ${r.protocol}`);
  if (r.scope !== 'global') parts.push(`scope ${r.scope}`);
  if (r.prefsrc) parts.push(`src ${r.prefsrc}`);
  if (r.metric !== undefined) parts.push(`metric ${r.metric}`);
  parts.push(...r.flags);
  if (!UNICAST_TABLES.has(r.table)) parts.push(`table ${r.table}`);
  return parts.join(' ');
}

export function routeGateway(r: IpRoute): string | undefined {
  return r.gateway ?? r.nexthops[0]?.gateway;
}

export function routeDevice(r: IpRoute): string | undefined {
  return r.dev ?? r.nexthops[0]?.dev;
}

export const linkByName = (links: readonly IpLink[], name: string) => links.find((l) => l.ifname === name);
export const linkByIndex = (links: readonly IpLink[], index: number) =>
  links.find((l) => l.ifindex === index);

/** The interface that holds `ip` as one of its own addresses. */
export function interfaceWithAddress(
  addrs: readonly IpAddrInterface[],
  ip: string,
): IpAddrInterface | undefined {
  return addrs.find((i) => i.addresses.some((a) => a.local === ip));
}

/** An interface passes traffic when it is administratively up and has carrier. */
export function linkIsUp(link: { up: boolean; lowerUp: boolean; operstate: string }): boolean {
  return link.up && (link.lowerUp || link.operstate === 'UNKNOWN');
}

export function linkState(link: {
  up: boolean;
  lowerUp: boolean;
  operstate: string;
  flags: string[];
}): string {
  return `state ${link.operstate}${link.up ? '' : ' (admin down)'}`;
}

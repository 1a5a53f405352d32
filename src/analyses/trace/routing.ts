// Route lookup and link lookups on parsed iproute2 state.
import { cidrContains, ipFamily, parseCIDR } from '../../model/ip.js';
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
 * The kernel's choice for `dst` without policy rules: an address of the node itself (local
 * table) first, then the longest prefix of the main table, lowest metric on a tie.
 */
export function lookupRoute(routes: readonly IpRoute[], dst: string): IpRoute | undefined {
  const family = ipFamily(dst);
  const local = routes.find(
    (r) =>
      LOCAL_TABLES.has(r.table) && r.type === 'local' && routeCIDR(r, family) && cidrContains(r.dst, dst),
  );
  if (local) return local;
  let best: IpRoute | undefined;
  let bestBits = -1;
  for (const r of routes) {
    if (!UNICAST_TABLES.has(r.table)) continue;
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

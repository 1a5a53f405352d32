// Route lookup and link lookups on parsed iproute2 state.
import {
  type CIDR,
  cidrContains,
  type IP,
  ipFamily,
  ipv4Number,
  isCanonicalIPv4,
  isPlainIPv4CIDR,
  parseCIDR,
  parseIP,
} from '../../core/ip.js';
import type { IpAddrInterface, IpLink, IpRoute, IpRule } from '../../parsers/iproute2.js';

const UNICAST_TABLES = new Set(['main', '254']);

/** Route types that deliver nothing: the packet is dropped (or, for throw, the lookup fails). */
const BLOCKING_ROUTE_TYPES: ReadonlySet<string> = new Set(['blackhole', 'unreachable', 'prohibit', 'throw']);

/** A route of a type that delivers nothing (blackhole, unreachable, prohibit, throw). */
export function isBlockingRoute(route: Pick<IpRoute, 'type'>): boolean {
  return BLOCKING_ROUTE_TYPES.has(route.type);
}
const LOCAL_TABLES = new Set(['local', '255']);

/**
 * A route's destination, read once per routes list (a node can have thousands): `default`
 * (either family, 0 bits), a plain IPv4 prefix as numbers (nearly every route), an address range
 * of one family, or nothing usable.
 */
interface CompiledRoute {
  isDefault: boolean;
  family?: 4 | 6;
  /** A plain IPv4 prefix: its network as a number and its length (bits -1: not one). */
  net: number;
  bits: number;
  /** Any other destination, parsed (a plain prefix's too, once an address needs it). */
  range?: CIDR;
}

const compiledRoutes = new WeakMap<readonly IpRoute[], (CompiledRoute | undefined)[]>();

function compileRoute(dst: string): CompiledRoute {
  const out: CompiledRoute = {
    isDefault: dst === 'default',
    family: undefined,
    net: 0,
    bits: -1,
    range: undefined,
  };
  if (out.isDefault) return out;
  if (isPlainIPv4CIDR(dst)) {
    out.family = 4;
    out.net = ipv4Number(dst);
    out.bits = Number(dst.slice(dst.indexOf('/') + 1));
    return out;
  }
  try {
    out.range = parseCIDR(dst);
    out.family = out.range[0].kind() === 'ipv4' ? 4 : 6;
  } catch {
    // nothing usable: matches no address
  }
  return out;
}

/** The routes' destinations, each read when first asked for. */
function compile(routes: readonly IpRoute[]): (i: number) => CompiledRoute {
  let compiled = compiledRoutes.get(routes);
  if (!compiled) {
    compiled = new Array(routes.length);
    compiledRoutes.set(routes, compiled);
  }
  const cache = compiled;
  return (i) => {
    let c = cache[i];
    if (!c) {
      c = compileRoute(routes[i].dst);
      cache[i] = c;
    }
    return c;
  };
}

/** An address routes are looked up for: its family, its number when a canonical dotted quad. */
interface Target {
  family: 4 | 6;
  addr: IP;
  v4?: number;
}

function target(dst: string): Target {
  return {
    family: ipFamily(dst),
    addr: parseIP(dst),
    v4: isCanonicalIPv4(dst) ? ipv4Number(dst) : undefined,
  };
}

/** The prefix length of a route (not `default`) that holds the target, else -1. */
function prefixBits(c: CompiledRoute, r: IpRoute, t: Target): number {
  if (c.isDefault || c.family !== t.family) return -1;
  if (c.bits >= 0 && t.v4 !== undefined)
    return c.bits === 0 || (t.v4 ^ c.net) >>> (32 - c.bits) === 0 ? c.bits : -1;
  // An IPv4 address in another spelling (::ffff:a.b.c.d) is matched as ipaddr matches it.
  if (c.bits >= 0) c.range ??= parseCIDR(r.dst);
  const range = c.range;
  return range && t.addr.kind() === range[0].kind() && t.addr.match(range) ? range[1] : -1;
}

/**
 * The kernel's choice for `dst` without policy rules: an address of the node itself (local
 * table) first, then the longest prefix of the main table, lowest metric on a tie.
 */
export function lookupRoute(routes: readonly IpRoute[], dst: string): IpRoute | undefined {
  const t = target(dst);
  const compiled = compile(routes);
  /** The route's prefix length when it holds `dst`, else -1. */
  const prefixFor = (i: number): number =>
    compiled(i).isDefault ? 0 : prefixBits(compiled(i), routes[i], t);
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

const TABLE_ALIASES: Record<string, string> = { '254': 'main', '255': 'local', '253': 'default' };
const tableName = (t: string) => TABLE_ALIASES[t] ?? t;

/**
 * One table's routes for lookups: its plain IPv4 prefixes by length and network (a host-gw
 * node's 5,000 pod CIDR routes are then looked up in a few map reads, not scanned), the others
 * (default, IPv6, other spellings) by position, scanned.
 */
interface TableIndex {
  /** Prefix lengths of the plain routes, longest first. */
  lengths: number[];
  /** Length → network >>> (32 - length) → positions, in order. */
  plain: Map<number, Map<number, number[]>>;
  others: number[];
}

const tableIndexes = new WeakMap<readonly IpRoute[], Map<string, TableIndex>>();

function tableIndex(routes: readonly IpRoute[], want: string): TableIndex {
  let byTable = tableIndexes.get(routes);
  if (!byTable) {
    byTable = new Map();
    tableIndexes.set(routes, byTable);
  }
  let index = byTable.get(want);
  if (!index) {
    const plain = new Map<number, Map<number, number[]>>();
    const others: number[] = [];
    for (let i = 0; i < routes.length; i++) {
      const r = routes[i];
      if (tableName(r.table) !== want) continue;
      if (want === 'local' && r.type !== 'local') continue;
      // Read here, not compiled: 5,000 pod CIDR routes need no object each.
      if (!isPlainIPv4CIDR(r.dst)) {
        others.push(i);
        continue;
      }
      const bits = Number(r.dst.slice(r.dst.indexOf('/') + 1));
      let nets = plain.get(bits);
      if (!nets) {
        nets = new Map();
        plain.set(bits, nets);
      }
      const key = bits === 0 ? 0 : ipv4Number(r.dst) >>> (32 - bits);
      const list = nets.get(key);
      if (list) list.push(i);
      else nets.set(key, [i]);
    }
    index = { lengths: [...plain.keys()].sort((x, y) => y - x), plain, others };
    byTable.set(want, index);
  }
  return index;
}

/** Longest-prefix match inside one routing table (lowest metric on a tie, then the first). */
export function lookupInTable(routes: readonly IpRoute[], table: string, dst: string): IpRoute | undefined {
  const want = tableName(table);
  const t = target(dst);
  const compiled = compile(routes);
  const index = tableIndex(routes, want);
  let best: IpRoute | undefined;
  let bestBits = -1;
  let bestAt = -1;
  const consider = (i: number, bits: number) => {
    if (bits < 0) return;
    const r = routes[i];
    const metric = r.metric ?? 0;
    const bestMetric = best?.metric ?? 0;
    if (
      bits > bestBits ||
      (bits === bestBits && (metric < bestMetric || (metric === bestMetric && i < bestAt)))
    ) {
      best = r;
      bestBits = bits;
      bestAt = i;
    }
  };
  if (t.v4 !== undefined) {
    // The longest plain prefix that holds the address; a longer one among the others wins.
    for (const bits of index.lengths) {
      const list = index.plain.get(bits)?.get(bits === 0 ? 0 : t.v4 >>> (32 - bits));
      if (!list) continue;
      for (const i of list) consider(i, bits);
      break;
    }
  } else
    for (const nets of index.plain.values())
      for (const list of nets.values())
        for (const i of list) consider(i, prefixBits(compiled(i), routes[i], t));
  for (const i of index.others) {
    const r = routes[i];
    const c = compiled(i);
    consider(
      i,
      c.isDefault ? (r.family === undefined || r.family === t.family ? 0 : -1) : prefixBits(c, r, t),
    );
  }
  return best;
}

/** The rules a kernel has without any `ip rule` configuration. */
const DEFAULT_RULES: IpRule[] = [
  { priority: 0, not: false, from: 'all', to: 'all', table: 'local', action: 'lookup', line: 0 },
  { priority: 32766, not: false, from: 'all', to: 'all', table: 'main', action: 'lookup', line: 0 },
  { priority: 32767, not: false, from: 'all', to: 'all', table: 'default', action: 'lookup', line: 0 },
];

export interface RouteQuery {
  dst: string;
  src?: string;
  /** The interface the packet arrived on (undefined: sent by the namespace itself). */
  iif?: string;
  mark?: number;
}

export interface RouteDecision {
  /** The route chosen; undefined when no rule's table has one. */
  route?: IpRoute;
  /** The policy rule that led to it (absent when the namespace has only the default rules). */
  rule?: IpRule;
}

function ruleMatches(rule: IpRule, q: RouteQuery): boolean {
  const inRange = (cidr: string, ip: string | undefined) =>
    cidr === 'all' ||
    (ip !== undefined && ipFamily(ip) === ipFamily(cidr.split('/')[0]) && cidrContains(cidr, ip));
  let m = inRange(rule.from, q.src) && inRange(rule.to, q.dst);
  if (m && rule.iif !== undefined) m = q.iif === undefined ? rule.iif === 'lo' : rule.iif === q.iif;
  if (m && rule.fwmark !== undefined) {
    const mask = rule.fwmask !== undefined ? Number(rule.fwmask) >>> 0 : 0xffffffff;
    m = ((q.mark ?? 0) & mask) >>> 0 === (Number(rule.fwmark) & mask) >>> 0;
  }
  return rule.not ? !m : m;
}

/**
 * The kernel's route for a packet: `ip rule` in priority order, each `lookup` in its table;
 * a table without a match (or a `throw` route) passes on to the next rule.
 */
export function resolveRoute(
  routes: readonly IpRoute[],
  rules: readonly IpRule[] | undefined,
  q: RouteQuery,
): RouteDecision {
  const list = rules && rules.length > 0 ? [...rules].sort((a, b) => a.priority - b.priority) : DEFAULT_RULES;
  const custom = list !== DEFAULT_RULES;
  for (const rule of list) {
    if (!ruleMatches(rule, q)) continue;
    if (['unreachable', 'prohibit', 'blackhole'].includes(rule.action)) {
      const route: IpRoute = {
        dst: 'default',
        type: rule.action,
        table: 'rule',
        scope: 'global',
        flags: [],
        nexthops: [],
        line: rule.line,
      };
      return { route, rule };
    }
    if (rule.action !== 'lookup' || rule.table === undefined) continue;
    const route = lookupInTable(routes, rule.table, q.dst);
    if (!route || route.type === 'throw') continue;
    return custom && tableName(rule.table) !== 'local' ? { route, rule } : { route };
  }
  return {};
}

/** `ip rule` style text of a rule, for evidence. */
export function formatRule(r: IpRule): string {
  const parts = [`${r.priority}:`];
  if (r.not) parts.push('not');
  parts.push(`from ${r.from}`);
  if (r.to !== 'all') parts.push(`to ${r.to}`);
  if (r.iif) parts.push(`iif ${r.iif}`);
  if (r.fwmark) parts.push(`fwmark ${r.fwmark}${r.fwmask ? `/${r.fwmask}` : ''}`);
  parts.push(r.action === 'lookup' ? `lookup ${r.table}` : r.action);
  return parts.join(' ');
}

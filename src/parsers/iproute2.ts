// Parsers for iproute2's JSON output (snapshot.md: ip-addr.json, ip-link.json, ip-route.json,
// ip-rule.json). Pure text → structure. The shapes follow what iproute2 6.x prints with `-j`
// (fixtures in test/fixtures/iproute2/ are captured from the real tool); fields that iproute2
// omits when they have their default value get that default here, so callers see one shape.

import { guardParse, lineOfOffset, ParseError, parseJsonText } from '../core/errors.js';
import { isCIDR, isIP, isPlainIPv4CIDR } from '../core/ip.js';

type Json = Record<string, unknown>;

export interface IpAddress {
  family: 'inet' | 'inet6';
  /** The interface's own address ("local" in iproute2's JSON). */
  local: string;
  prefixlen: number;
  /** "local/prefixlen". */
  cidr: string;
  /** The peer address of a point-to-point address ("address" in the JSON), when set. */
  peer?: string;
  broadcast?: string;
  /** global | link | host | site | a number. */
  scope: string;
  label?: string;
  /** Boolean flags iproute2 prints as `"nodad": true`, … (tentative, dadfailed, deprecated, …). */
  flags: string[];
  validLifetime?: number;
  preferredLifetime?: number;
}

/** The link attributes `ip -j addr show` and `ip -j -d link show` share. */
export interface IpLinkBase {
  ifindex: number;
  ifname: string;
  /** Interface flags as printed: UP, LOWER_UP, BROADCAST, NO-CARRIER, M-DOWN, … */
  flags: string[];
  mtu: number;
  /** UP | DOWN | UNKNOWN | LOWERLAYERDOWN | DORMANT | … (UNKNOWN is normal for lo and tunnels). */
  operstate: string;
  /** Administratively up (the UP flag). */
  up: boolean;
  /** The carrier is present (the LOWER_UP flag). */
  lowerUp: boolean;
  /** The bridge (or bond, vrf) this interface is enslaved to. */
  master?: string;
  /** Peer / parent in the same namespace, by name ("veth0@veth1" → link "veth1"). */
  link?: string;
  /** Peer / parent ifindex, seen from the namespace named by linkNetnsid. */
  linkIndex?: number;
  /** Set when the peer / parent lives in another network namespace. */
  linkNetnsid?: number;
  linkType?: string;
  /** The MAC address. */
  address?: string;
  qdisc?: string;
}

export interface IpAddrInterface extends IpLinkBase {
  addresses: IpAddress[];
}

export interface VxlanInfo {
  id: number;
  local?: string;
  remote?: string;
  group?: string;
  /** The underlay device ("link" in the info_data). */
  dev?: string;
  /** UDP destination port. */
  port?: number;
  learning?: boolean;
}

export interface BridgeInfo {
  stpState?: number;
  vlanFiltering?: boolean;
}

/** The state of an interface as a port of a bridge (linkinfo.info_slave_data). */
export interface BridgePortInfo {
  /** forwarding | disabled | blocking | learning | listening */
  state?: string;
  hairpin?: boolean;
}

export interface IpLink extends IpLinkBase {
  /** linkinfo.info_kind: veth, bridge, vxlan, ipip, geneve, wireguard, … (undefined: a plain device). */
  kind?: string;
  /** linkinfo.info_slave_kind: the kind of the master (bridge, bond, vrf). */
  slaveKind?: string;
  /** linkinfo.info_data as printed (kind-specific). */
  infoData?: Json;
  vxlan?: VxlanInfo;
  bridge?: BridgeInfo;
  bridgePort?: BridgePortInfo;
  promiscuity?: number;
  /** The file line the entry starts on (for evidence). */
  line: number;
}

export interface IpNextHop {
  gateway?: string;
  dev?: string;
  weight?: number;
  flags: string[];
}

export interface IpRoute {
  /** "default", a CIDR, or a bare address (a host route) as printed. */
  dst: string;
  /** 4 or 6, from the addresses in the entry; undefined when none tells (e.g. "default dev X"). */
  family?: 4 | 6;
  /** unicast (not printed by iproute2), local, broadcast, blackhole, unreachable, prohibit, … */
  type: string;
  /** main (not printed by iproute2), local, default, or a number as text. */
  table: string;
  gateway?: string;
  /** The gateway's family when it differs from the destination's (RFC 5549 "via inet6"). */
  viaFamily?: string;
  dev?: string;
  prefsrc?: string;
  /** global (not printed), link, host, … */
  scope: string;
  /** kernel, static, dhcp, bird, … ; undefined = boot (not printed by iproute2). */
  protocol?: string;
  metric?: number;
  /** onlink, linkdown, dead, pervasive, offload, … */
  flags: string[];
  /** Multipath routes: the next hops (gateway/dev then live here). */
  nexthops: IpNextHop[];
  mtu?: number;
  /** The file line the entry starts on (for evidence). */
  line: number;
}

export interface IpRule {
  priority: number;
  /** True for "not" rules (the selector is inverted). */
  not: boolean;
  /** "all" or a CIDR. */
  from: string;
  /** "all" or a CIDR. */
  to: string;
  /** The table looked up; undefined for rules whose action is not a lookup. */
  table?: string;
  /** lookup (not printed by iproute2), unreachable, prohibit, blackhole, goto, nop. */
  action: string;
  iif?: string;
  oif?: string;
  fwmark?: string;
  fwmask?: string;
  /** The file line the entry starts on (for evidence). */
  line: number;
}

// ---------------------------------------------------------------------------------------------
// JSON plumbing: which line each top-level element starts on, so that an entry that does not
// have the expected shape is reported at its own line.

/** Parses a JSON document that must be a top-level array of objects. */
function parseJsonArray(text: string, file: string, command: string): { items: Json[]; lines: number[] } {
  if (text.trim() === '') throw new ParseError(file, 1, `empty file (expected the output of \`${command}\`)`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    // A truncated document: V8 reports no position, or the position just past the end (a
    // blank line); name the last line that has content instead.
    const pos = /position (\d+)/.exec((err as Error).message);
    const end = text.trimEnd().length;
    if (!pos || Number(pos[1]) >= end) {
      throw new ParseError(file, lineOfOffset(text, end), 'invalid JSON: unexpected end of input');
    }
    try {
      parseJsonText(text, file);
    } catch (e) {
      if (e instanceof ParseError && !text.trimStart().startsWith('[')) {
        const detail = e.message.slice(e.message.indexOf(': ') + 2);
        throw new ParseError(e.file, e.line, `${detail} (expected the JSON output of \`${command}\`)`);
      }
      throw e;
    }
    throw err;
  }
  if (!Array.isArray(doc)) {
    throw new ParseError(file, 1, `expected a JSON array (the output of \`${command}\`)`);
  }
  // `ip -j` prints its array on one line (a node's 5,000 routes): every element starts on line 1.
  const nl = text.indexOf('\n');
  const lines =
    nl < 0 || text.trimEnd().length <= nl
      ? new Array<number>(doc.length).fill(1)
      : topLevelElementLines(text);
  doc.forEach((item, i) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new ParseError(file, lines[i] ?? 1, `entry ${i + 1} is not an object`);
    }
  });
  return { items: doc as Json[], lines };
}

/** The 1-based line on which each element of a top-level JSON array starts. */
export function topLevelElementLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let expectElement = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line++;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') continue;
    if (depth === 1 && expectElement && c !== ']') {
      lines.push(line);
      expectElement = false;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth++;
      if (depth === 1) expectElement = true;
    } else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 1) expectElement = true;
  }
  return lines;
}

class Fields {
  constructor(
    readonly o: Json,
    private readonly file: string,
    private readonly line: number,
    private readonly what: string,
  ) {}

  fail(detail: string): never {
    throw new ParseError(this.file, this.line, `${this.what}: ${detail}`);
  }

  has(key: string): boolean {
    return this.o[key] !== undefined && this.o[key] !== null;
  }

  str(key: string): string | undefined {
    const v = this.o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number') return String(v);
    return this.fail(`field "${key}" must be a string, got ${JSON.stringify(v)}`);
  }

  reqStr(key: string): string {
    return this.str(key) ?? this.fail(`missing field "${key}"`);
  }

  num(key: string): number | undefined {
    const v = this.o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
    return this.fail(`field "${key}" must be a number, got ${JSON.stringify(v)}`);
  }

  reqNum(key: string): number {
    return this.num(key) ?? this.fail(`missing field "${key}"`);
  }

  bool(key: string): boolean | undefined {
    const v = this.o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    if (v === 0 || v === 1) return v === 1;
    return this.fail(`field "${key}" must be a boolean, got ${JSON.stringify(v)}`);
  }

  strings(key: string): string[] {
    const v = this.o[key];
    if (v === undefined || v === null) return [];
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[];
    return this.fail(`field "${key}" must be a list of strings`);
  }

  object(key: string): Json | undefined {
    const v = this.o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'object' && !Array.isArray(v)) return v as Json;
    return this.fail(`field "${key}" must be an object`);
  }

  objects(key: string): Json[] {
    const v = this.o[key];
    if (v === undefined || v === null) return [];
    if (Array.isArray(v) && v.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x))) {
      return v as Json[];
    }
    return this.fail(`field "${key}" must be a list of objects`);
  }

  sub(o: Json, what: string): Fields {
    return new Fields(o, this.file, this.line, `${this.what} ${what}`);
  }

  ip(key: string): string | undefined {
    const v = this.str(key);
    if (v !== undefined && !isIP(v)) this.fail(`field "${key}" is not an IP address: ${v}`);
    return v;
  }
}

function linkBase(f: Fields): IpLinkBase {
  const flags = f.strings('flags');
  const out: IpLinkBase = {
    ifindex: f.reqNum('ifindex'),
    ifname: f.reqStr('ifname'),
    flags,
    mtu: f.num('mtu') ?? 0,
    operstate: f.str('operstate') ?? 'UNKNOWN',
    up: flags.includes('UP'),
    lowerUp: flags.includes('LOWER_UP'),
  };
  const master = f.str('master');
  if (master !== undefined) out.master = master;
  const link = f.str('link');
  if (link !== undefined) out.link = link;
  const linkIndex = f.num('link_index');
  if (linkIndex !== undefined) out.linkIndex = linkIndex;
  const netnsid = f.num('link_netnsid');
  if (netnsid !== undefined) out.linkNetnsid = netnsid;
  const linkType = f.str('link_type');
  if (linkType !== undefined) out.linkType = linkType;
  const address = f.str('address');
  if (address !== undefined) out.address = address;
  const qdisc = f.str('qdisc');
  if (qdisc !== undefined) out.qdisc = qdisc;
  return out;
}

const ADDR_KEYS = new Set([
  'family',
  'local',
  'address',
  'prefixlen',
  'broadcast',
  'scope',
  'label',
  'valid_life_time',
  'preferred_life_time',
  'anycast',
  'metric',
]);

function parseAddress(f: Fields): IpAddress {
  const family = f.reqStr('family');
  if (family !== 'inet' && family !== 'inet6') f.fail(`unknown address family "${family}"`);
  const local = f.ip('local') ?? f.fail('missing field "local"');
  const prefixlen = f.reqNum('prefixlen');
  const max = family === 'inet' ? 32 : 128;
  if (prefixlen > max) f.fail(`prefix length ${prefixlen} exceeds ${max}`);
  const out: IpAddress = {
    family,
    local,
    prefixlen,
    cidr: `${local}/${prefixlen}`,
    scope: f.str('scope') ?? 'global',
    flags: [],
  };
  const peer = f.ip('address');
  if (peer !== undefined) out.peer = peer;
  const broadcast = f.str('broadcast');
  if (broadcast !== undefined) out.broadcast = broadcast;
  const label = f.str('label');
  if (label !== undefined) out.label = label;
  const valid = f.num('valid_life_time');
  if (valid !== undefined) out.validLifetime = valid;
  const preferred = f.num('preferred_life_time');
  if (preferred !== undefined) out.preferredLifetime = preferred;
  // Address flags are printed as `"flag": true` (nodad, tentative, dadfailed, deprecated, …).
  for (const [k, v] of Object.entries(f.o)) if (!ADDR_KEYS.has(k) && v === true) out.flags.push(k);
  return out;
}

/** `ip -j addr show`: interfaces with their addresses. */
function parseIpAddrUnguarded(text: string, file: string): IpAddrInterface[] {
  const { items, lines } = parseJsonArray(text, file, 'ip -j addr show');
  return items.map((item, i) => {
    const f = new Fields(item, file, lines[i] ?? 1, `interface ${i + 1}`);
    const base = linkBase(f);
    const addresses = f
      .objects('addr_info')
      // iproute2 prints an empty object for an address it could not decode; skip those.
      .filter((a) => Object.keys(a).length > 0)
      .map((a, j) => parseAddress(f.sub(a, `(${base.ifname}) address ${j + 1}`)));
    return { ...base, addresses };
  });
}

/** `ip -j -d link show` (also accepts `ip -j link show`, without the details). */
function parseIpLinkUnguarded(text: string, file: string): IpLink[] {
  const { items, lines } = parseJsonArray(text, file, 'ip -j -d link show');
  return items.map((item, i) => {
    const line = lines[i] ?? 1;
    const f = new Fields(item, file, line, `interface ${i + 1}`);
    const out: IpLink = { ...linkBase(f), line };
    const promiscuity = f.num('promiscuity');
    if (promiscuity !== undefined) out.promiscuity = promiscuity;
    const linkinfo = f.object('linkinfo');
    if (!linkinfo) return out;
    const li = f.sub(linkinfo, `(${out.ifname}) linkinfo`);
    const kind = li.str('info_kind');
    if (kind !== undefined) out.kind = kind;
    const slaveKind = li.str('info_slave_kind');
    if (slaveKind !== undefined) out.slaveKind = slaveKind;
    const data = li.object('info_data');
    if (data) {
      out.infoData = data;
      const d = li.sub(data, 'info_data');
      if (kind === 'vxlan') {
        const vx: VxlanInfo = { id: d.reqNum('id') };
        const local = d.ip('local') ?? d.ip('local6');
        if (local !== undefined) vx.local = local;
        // A unicast remote is printed as "remote", a multicast group as "group".
        const remote = d.ip('remote') ?? d.ip('remote6');
        if (remote !== undefined) vx.remote = remote;
        const group = d.ip('group') ?? d.ip('group6');
        if (group !== undefined) vx.group = group;
        const dev = d.str('link');
        if (dev !== undefined) vx.dev = dev;
        const port = d.num('port');
        if (port !== undefined) vx.port = port;
        const learning = d.bool('learning');
        if (learning !== undefined) vx.learning = learning;
        out.vxlan = vx;
      } else if (kind === 'bridge') {
        const br: BridgeInfo = {};
        const stp = d.num('stp_state');
        if (stp !== undefined) br.stpState = stp;
        const vf = d.bool('vlan_filtering');
        if (vf !== undefined) br.vlanFiltering = vf;
        out.bridge = br;
      }
    }
    const slaveData = li.object('info_slave_data');
    if (slaveData && slaveKind === 'bridge') {
      const s = li.sub(slaveData, 'info_slave_data');
      const port: BridgePortInfo = {};
      const state = s.str('state');
      if (state !== undefined) port.state = state;
      const hairpin = s.bool('hairpin');
      if (hairpin !== undefined) port.hairpin = hairpin;
      out.bridgePort = port;
    }
    return out;
  });
}

function familyOf(text: string | undefined): 4 | 6 | undefined {
  if (text === undefined || text === 'default') return undefined;
  const addr = text.split('/')[0];
  if (!isIP(addr)) return undefined;
  return addr.includes(':') ? 6 : 4;
}

function parseNextHop(f: Fields): IpNextHop {
  const hop: IpNextHop = { flags: f.strings('flags') };
  const gateway = f.ip('gateway');
  if (gateway !== undefined) hop.gateway = gateway;
  const dev = f.str('dev');
  if (dev !== undefined) hop.dev = dev;
  const weight = f.num('weight');
  if (weight !== undefined) hop.weight = weight;
  return hop;
}

/** `ip -j route show table all` (or any `ip -j route show …`: pod namespaces use the main table). */
function parseIpRouteUnguarded(text: string, file: string): IpRoute[] {
  const { items, lines } = parseJsonArray(text, file, 'ip -j route show table all');
  return items.map((item, i) => {
    const line = lines[i] ?? 1;
    const f = new Fields(item, file, line, `route ${i + 1}`);
    const dst = f.reqStr('dst');
    // The common form first: checked without an address parsed (the route lookup reads it so too).
    const plainIPv4 = isPlainIPv4CIDR(dst);
    if (!plainIPv4 && dst !== 'default' && !isCIDR(dst) && !isIP(dst))
      f.fail(`"dst" is not an address or CIDR: ${dst}`);
    const route: IpRoute = {
      dst,
      type: f.str('type') ?? 'unicast',
      table: f.str('table') ?? 'main',
      scope: f.str('scope') ?? 'global',
      flags: f.strings('flags'),
      nexthops: f.objects('nexthops').map((h, j) => parseNextHop(f.sub(h, `nexthop ${j + 1}`))),
      line,
    };
    // "via": {"family": "inet6", "host": "…"} (RFC 5549) is printed instead of "gateway".
    const via = f.object('via');
    const gateway = f.ip('gateway') ?? (via ? f.sub(via, 'via').ip('host') : undefined);
    if (gateway !== undefined) route.gateway = gateway;
    if (via) {
      const vf = f.sub(via, 'via').str('family');
      if (vf !== undefined) route.viaFamily = vf;
    }
    const dev = f.str('dev');
    if (dev !== undefined) route.dev = dev;
    const prefsrc = f.ip('prefsrc');
    if (prefsrc !== undefined) route.prefsrc = prefsrc;
    const protocol = f.str('protocol');
    if (protocol !== undefined) route.protocol = protocol;
    const metric = f.num('metric');
    if (metric !== undefined) route.metric = metric;
    const metrics = f.objects('metrics');
    for (const m of metrics) {
      const mtu = f.sub(m, 'metrics').num('mtu');
      if (mtu !== undefined) route.mtu = mtu;
    }
    // iproute2 prints no family; infer it from the addresses. IPv6 routes always carry "pref".
    const family =
      (plainIPv4 ? 4 : familyOf(dst)) ??
      familyOf(prefsrc) ??
      (via ? undefined : familyOf(gateway)) ??
      route.nexthops.map((h) => familyOf(h.gateway)).find((x) => x !== undefined) ??
      (f.has('pref') ? 6 : undefined);
    if (family !== undefined) route.family = family;
    return route;
  });
}

/** `ip -j rule show` (IPv4 by default; `ip -6 -j rule show` has the same shape). */
function parseIpRuleUnguarded(text: string, file: string): IpRule[] {
  const { items, lines } = parseJsonArray(text, file, 'ip -j rule show');
  return items.map((item, i) => {
    const line = lines[i] ?? 1;
    const f = new Fields(item, file, line, `rule ${i + 1}`);
    const prefix = (addrKey: string, lenKey: string): string => {
      const a = f.str(addrKey);
      if (a === undefined || a === 'all') return 'all';
      const len = f.num(lenKey);
      return len === undefined ? a : `${a}/${len}`;
    };
    const rule: IpRule = {
      priority: f.num('priority') ?? 0,
      // "not": null is how iproute2 prints the flag.
      not: Object.hasOwn(item, 'not'),
      from: prefix('src', 'srclen'),
      to: prefix('dst', 'dstlen'),
      action: f.str('action') ?? 'lookup',
      line,
    };
    const table = f.str('table');
    if (table !== undefined) rule.table = table;
    const iif = f.str('iif');
    if (iif !== undefined) rule.iif = iif;
    const oif = f.str('oif');
    if (oif !== undefined) rule.oif = oif;
    const fwmark = f.str('fwmark');
    if (fwmark !== undefined) rule.fwmark = fwmark;
    const fwmask = f.str('fwmask');
    if (fwmask !== undefined) rule.fwmask = fwmask;
    return rule;
  });
}

/** An ARP/NDP entry (`ip -j neigh show`). */
export interface IpNeigh {
  dst: string;
  dev?: string;
  lladdr?: string;
  /** PERMANENT, REACHABLE, STALE, FAILED, INCOMPLETE, NOARP, … */
  state: string[];
  line: number;
}

/** `ip -j neigh show`. */
function parseIpNeighUnguarded(text: string, file: string): IpNeigh[] {
  const { items, lines } = parseJsonArray(text, file, 'ip -j neigh show');
  return items.map((item, i) => {
    const line = lines[i] ?? 1;
    const f = new Fields(item, file, line, `neighbour ${i + 1}`);
    const entry: IpNeigh = { dst: f.reqStr('dst'), state: f.strings('state'), line };
    const dev = f.str('dev');
    if (dev !== undefined) entry.dev = dev;
    const lladdr = f.str('lladdr');
    if (lladdr !== undefined) entry.lladdr = lladdr.toLowerCase();
    return entry;
  });
}

/** A forwarding-database entry (`bridge -j fdb show`): a MAC on a port, or a VXLAN remote. */
export interface BridgeFdb {
  mac: string;
  ifname?: string;
  /** VXLAN: the underlay address frames for this MAC are sent to. */
  dst?: string;
  master?: string;
  flags: string[];
  state?: string;
  line: number;
}

/** `bridge -j fdb show`. */
function parseBridgeFdbUnguarded(text: string, file: string): BridgeFdb[] {
  const { items, lines } = parseJsonArray(text, file, 'bridge -j fdb show');
  return items.map((item, i) => {
    const line = lines[i] ?? 1;
    const f = new Fields(item, file, line, `fdb entry ${i + 1}`);
    const entry: BridgeFdb = { mac: f.reqStr('mac').toLowerCase(), flags: f.strings('flags'), line };
    for (const key of ['ifname', 'dst', 'master', 'state'] as const) {
      const v = f.str(key);
      if (v !== undefined) entry[key] = v;
    }
    return entry;
  });
}
/** parseIpAddr, whose only failure is a ParseError naming the file (parsers/errors.ts guardParse). */
export const parseIpAddr: typeof parseIpAddrUnguarded = (...args) =>
  guardParse(args[1] ?? '<input>', () => parseIpAddrUnguarded(...args));

/** parseIpLink, whose only failure is a ParseError naming the file (parsers/errors.ts guardParse). */
export const parseIpLink: typeof parseIpLinkUnguarded = (...args) =>
  guardParse(args[1] ?? '<input>', () => parseIpLinkUnguarded(...args));

/** parseIpRoute, whose only failure is a ParseError naming the file (parsers/errors.ts guardParse). */
export const parseIpRoute: typeof parseIpRouteUnguarded = (...args) =>
  guardParse(args[1] ?? '<input>', () => parseIpRouteUnguarded(...args));

/** parseIpRule, whose only failure is a ParseError naming the file (parsers/errors.ts guardParse). */
export const parseIpRule: typeof parseIpRuleUnguarded = (...args) =>
  guardParse(args[1] ?? '<input>', () => parseIpRuleUnguarded(...args));

/** parseIpNeigh, whose only failure is a ParseError naming the file (parsers/errors.ts guardParse). */
export const parseIpNeigh: typeof parseIpNeighUnguarded = (...args) =>
  guardParse(args[1] ?? '<input>', () => parseIpNeighUnguarded(...args));

/** parseBridgeFdb, whose only failure is a ParseError naming the file (parsers/errors.ts guardParse). */
export const parseBridgeFdb: typeof parseBridgeFdbUnguarded = (...args) =>
  guardParse(args[1] ?? '<input>', () => parseBridgeFdbUnguarded(...args));

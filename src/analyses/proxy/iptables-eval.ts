// Runs one new connection's first packet through an iptables dump, hook by hook, the way
// the kernel would: raw/mangle/nat/filter chains, jumps, gotos, RETURN, policies, MARK,
// DNAT, MASQUERADE. `-m statistic --mode random` rules fork the packet into weighted
// branches, which is how a KUBE-SVC chain becomes per-endpoint probabilities.
import { compareIPs, inCIDR, ipOrNull, isCanonicalIPv4 } from '../../core/ip.js';
import { chainRuleAt, chainRuleCount, chainRuleIndexAt, chainRuleText } from '../../model/rule-lines.js';
import type {
  IptablesChain,
  IptablesDump,
  IptablesRule,
  MatchOption,
  RuleMatch,
} from '../../parsers/iptables-save.js';
import { fork, type WalkState as GenericWalkState, withEvidence } from './walk-state.js';

export interface IpsetResolver {
  /** undefined = the set is not known. */
  test(
    name: string,
    flags: string[],
    st: { src: string; dst: string; dport: number; proto: string },
  ): boolean | undefined;
}

export interface EvalContext {
  dump: IptablesDump;
  isLocal(ip: string): boolean;
  ipsets?: IpsetResolver;
  inInterface?: string;
  /** Where the packet entered: decides physdev (bridge-port) matches for uplink/local traffic. */
  from?: 'pod' | 'local' | 'external';
}

export type WalkState = GenericWalkState<IptablesRule>;

export interface Branch {
  st: WalkState;
  verdict: 'accept' | 'drop' | 'reject' | 'return';
  rule?: IptablesRule;
}

const NOOP_TARGETS = new Set([
  'LOG',
  'NFLOG',
  'ULOG',
  'CONNMARK',
  'CT',
  'NOTRACK',
  'TRACE',
  'TCPMSS',
  'CHECKSUM',
  'CLASSIFY',
  'DSCP',
  'TOS',
  'TTL',
  'HL',
  'AUDIT',
  'NFACCT',
  'SECMARK',
  'CONNSECMARK',
]);

function protoNumber(p: string): string {
  switch (p.toLowerCase()) {
    case '6':
      return 'tcp';
    case '17':
      return 'udp';
    case '132':
      return 'sctp';
    default:
      return p.toLowerCase();
  }
}

function portMatches(spec: string, port: number): boolean {
  for (const part of spec.split(',')) {
    const [a, b] = part.split(':');
    const lo = a === '' ? 0 : Number(a);
    const hi = b === undefined ? lo : b === '' ? 65535 : Number(b);
    if (port >= lo && port <= hi) return true;
  }
  return false;
}

function parseMark(text: string): [number, number] {
  const [v, m] = text.split('/');
  return [Number(v) >>> 0, m === undefined ? 0xffffffff : Number(m) >>> 0];
}

function addrType(ip: string, ctx: EvalContext): string {
  if (ctx.isLocal(ip)) return 'LOCAL';
  const range = ipOrNull(ip)?.range();
  if (range === 'multicast') return 'MULTICAST';
  if (range === 'broadcast') return 'BROADCAST';
  if (range === 'unspecified') return 'UNSPEC';
  return 'UNICAST';
}

function ipInRange(range: string, ip: string): boolean {
  const [a, b] = range.split('-');
  const x = ipOrNull(ip);
  const lo = ipOrNull(a);
  const hi = ipOrNull(b ?? a);
  if (!x || !lo || !hi || x.kind() !== lo.kind() || lo.kind() !== hi.kind()) return false;
  return compareIPs(x, lo) >= 0 && compareIPs(x, hi) <= 0;
}

type MatchResult = { result: 'no' } | { result: 'yes'; p: number } | { result: 'unknown'; why: string };

const NO: MatchResult = { result: 'no' };

/** Does `rule` match the packet in state `st`? */
export function matchRule(rule: IptablesRule, st: WalkState, ctx: EvalContext): MatchResult {
  if (rule.protocol) {
    const rp = protoNumber(rule.protocol.value);
    const eq = rp === 'all' || rp === '0' || rp === st.proto;
    if (eq === rule.protocol.negated) return NO;
  }
  if (rule.destination) {
    if (inCIDR(rule.destination.value, st.dst) === rule.destination.negated) return NO;
  }
  if (rule.source) {
    if (inCIDR(rule.source.value, st.src) === rule.source.negated) return NO;
  }
  if (rule.fragment) return NO;
  let p = 1;
  let unknown: string | undefined;
  if (rule.inInterface) {
    if (ctx.inInterface === undefined) unknown = `-i ${rule.inInterface.value} (input interface not known)`;
    else {
      const v = rule.inInterface.value;
      const eq = v.endsWith('+') ? ctx.inInterface.startsWith(v.slice(0, -1)) : ctx.inInterface === v;
      if (eq === rule.inInterface.negated) return NO;
    }
  }
  if (rule.outInterface) unknown ??= `-o ${rule.outInterface.value} (output interface not modelled)`;
  for (const m of rule.matches) {
    switch (m.module) {
      case 'comment':
      case 'nfacct':
        break;
      case 'tcp':
      case 'udp':
      case 'sctp': {
        if (m.module !== st.proto) return NO;
        for (const o of m.options) {
          if (o.name === 'dport' || o.name === 'destination-port') {
            if (portMatches(o.values[0] ?? '', st.dport) === o.negated) return NO;
          } else if (o.name === 'syn') {
            if (o.negated) return NO;
          } else unknown ??= `-m ${m.module} --${o.name}`;
        }
        break;
      }
      case 'multiport':
        for (const o of m.options) {
          if (o.name === 'dports' || o.name === 'destination-ports' || o.name === 'ports') {
            if (portMatches(o.values[0] ?? '', st.dport) === o.negated) {
              if (o.name === 'ports') unknown ??= '-m multiport --ports (source port not known)';
              else return NO;
            }
          } else unknown ??= `-m multiport --${o.name}`;
        }
        break;
      case 'statistic': {
        const mode = m.options.find((o) => o.name === 'mode')?.values[0];
        const prob = m.options.find((o) => o.name === 'probability');
        const every = m.options.find((o) => o.name === 'every');
        if (mode === 'random' && prob)
          p *= prob.negated ? 1 - Number(prob.values[0]) : Number(prob.values[0]);
        else if (mode === 'nth' && every) p *= 1 / Number(every.values[0]);
        else unknown ??= '-m statistic';
        break;
      }
      case 'addrtype':
        for (const o of m.options) {
          const types = (o.values[0] ?? '').split(',');
          if (o.name === 'src-type') {
            if (types.includes(addrType(st.src, ctx)) === o.negated) return NO;
          } else if (o.name === 'dst-type') {
            if (types.includes(addrType(st.dst, ctx)) === o.negated) return NO;
          } else unknown ??= `-m addrtype --${o.name}`;
        }
        break;
      case 'conntrack':
      case 'state':
        for (const o of m.options) {
          if (o.name === 'ctstate' || o.name === 'state') {
            const states = (o.values[0] ?? '').split(',');
            const has = states.includes('NEW') || (st.dnat !== undefined && states.includes('DNAT'));
            if (has === o.negated) return NO;
          } else unknown ??= `-m ${m.module} --${o.name}`;
        }
        break;
      case 'mark':
        for (const o of m.options) {
          if (o.name !== 'mark') {
            unknown ??= `-m mark --${o.name}`;
            continue;
          }
          const [v, mask] = parseMark(o.values[0] ?? '0');
          if (((st.mark & mask) >>> 0 === v) === o.negated) return NO;
        }
        break;
      case 'recent':
        // A new client has no history: --rcheck/--update never match; --set/--remove do.
        if (m.options.some((o) => o.name === 'rcheck' || o.name === 'update')) return NO;
        break;
      case 'set': {
        const o = m.options.find((x) => x.name === 'match-set');
        if (!o || !ctx.ipsets) {
          unknown ??= `-m set --match-set ${o?.values[0] ?? ''} (ipset contents not known)`;
          break;
        }
        const r = ctx.ipsets.test(o.values[0], (o.values[1] ?? 'dst').split(','), st);
        if (r === undefined) unknown ??= `-m set --match-set ${o.values[0]} (ipset contents not known)`;
        else if (r === o.negated) return NO;
        break;
      }
      case 'iprange':
        for (const o of m.options) {
          const addr = o.name === 'src-range' ? st.src : o.name === 'dst-range' ? st.dst : undefined;
          if (addr === undefined) unknown ??= `-m iprange --${o.name}`;
          else if (ipInRange(o.values[0] ?? '', addr) === o.negated) return NO;
        }
        break;
      case 'physdev':
        // Uplink and locally generated packets did not come through a bridge port; a pod's
        // packet may have (bridge CNI with br_netfilter), which the dumps do not tell.
        if (ctx.from === 'pod' || ctx.from === undefined) {
          unknown ??= '-m physdev (whether the packet crossed a bridge port is not known)';
          break;
        }
        for (const o of m.options) {
          const isBridgeFact =
            o.name === 'physdev-is-in' || o.name === 'physdev-is-bridged' || o.name === 'physdev-is-out';
          const value = isBridgeFact
            ? false
            : o.name === 'physdev-in' || o.name === 'physdev-out'
              ? false
              : undefined;
          if (value === undefined) unknown ??= `-m physdev --${o.name}`;
          else if (value === o.negated) {
            // matches
          } else return NO;
        }
        break;
      case 'icmp':
      case 'icmp6':
        return NO;
      default:
        unknown ??= `-m ${m.module}`;
    }
  }
  if (unknown) return { result: 'unknown', why: unknown };
  return { result: 'yes', p };
}

/**
 * The part of `rule` whose outcome depends on the packet's destination address or port (-d,
 * --dport, multiport, addrtype --dst-type, iprange --dst-range), as a rule matchRule can run;
 * undefined when nothing in the rule looks at them. Every other criterion answers the same
 * for two packets that differ only in destination (ipsets are unknown in iptables mode).
 * Keep in step with matchRule.
 */
export function destinationView(rule: IptablesRule): IptablesRule | undefined {
  const matches: RuleMatch[] = [];
  for (const m of rule.matches) {
    const names =
      m.module === 'tcp' || m.module === 'udp' || m.module === 'sctp'
        ? ['dport', 'destination-port']
        : m.module === 'multiport'
          ? ['dports', 'destination-ports', 'ports']
          : m.module === 'addrtype'
            ? ['dst-type']
            : m.module === 'iprange'
              ? ['dst-range']
              : [];
    const options = m.options.filter((o) => names.includes(o.name));
    if (options.length) matches.push({ module: m.module, options });
  }
  if (!rule.destination && matches.length === 0) return undefined;
  return {
    table: rule.table,
    chain: rule.chain,
    line: rule.line,
    text: rule.text,
    destination: rule.destination,
    matches,
    goto: false,
    targetOptions: [],
    unknown: [],
  };
}

// ---- chain index: KUBE-SERVICES with 10,000 services is searched, not scanned ----

/**
 * A long chain's rules as a packet's lookup needs them. kube-proxy's lines for one Service
 * address (textKey "IP|proto|port") are not kept: those of a packet's destination are found by
 * searching the chain's text for the address. The other lines (a few in KUBE-SERVICES; the
 * node-port lines of KUBE-EXTERNAL-SERVICES, keyed by their text; all of a long KUBE-SVC
 * ladder, tokenized) are kept with their key.
 */
interface ChainIndex {
  /** The chain's lines, joined (chainRuleText). */
  text: string;
  /** Positions of the lines not keyed to one address, in chain order, and their keys. */
  others: number[];
  otherKeys: (string | undefined)[];
  /** Positions of the lines keyed to an address, by key (searched once each). */
  keyed: Map<string, number[]>;
  /** Searches of the text for an address so far (hostLines). */
  searches: number;
  /** Where each line holding " -d WORD" starts, by WORD (up to "/" or a space): made by hostLines. */
  byHost?: Map<string, number[]>;
}

/**
 * Searches of a chain's text for an address before its lines are grouped by address instead: a
 * trace asks a long chain for a few addresses (a search each), `proxy --node` without a packet
 * for every endpoint of every service (200,000 searches of a 13,000-line chain took 18 s).
 */
const HOST_SEARCHES = 32;

const INDEX_THRESHOLD = 24;
const chainIndexes = new WeakMap<IptablesChain, ChainIndex>();

function dportOf(rule: IptablesRule): string | undefined {
  for (const m of rule.matches) {
    if (m.module === 'tcp' || m.module === 'udp' || m.module === 'sctp') {
      const o = m.options.find((x: MatchOption) => x.name === 'dport' || x.name === 'destination-port');
      if (o && !o.negated && /^\d+$/.test(o.values[0] ?? '')) return o.values[0];
    }
  }
  return undefined;
}

function hostOf(value: string): string | undefined {
  const slash = value.indexOf('/');
  if (slash < 0) return value;
  const bits = value.slice(slash + 1);
  const addr = value.slice(0, slash);
  if ((bits === '32' && !addr.includes(':')) || bits === '128') return addr;
  return undefined;
}

export function canonicalHost(h: string): string {
  if (isCanonicalIPv4(h)) return h;
  return ipOrNull(h)?.toString() ?? h;
}

/**
 * The lookup key of a rule that can only match one (destination, protocol, port):
 * "HOST|proto|port" with a single-host -d, "*|proto|port" without; undefined when the rule is
 * not tied to one destination port (it is then "generic": tried for every packet).
 */
export function ruleKey(r: IptablesRule): string | undefined {
  const proto = r.protocol && !r.protocol.negated ? protoNumber(r.protocol.value) : undefined;
  const dport = proto ? dportOf(r) : undefined;
  if (!proto || !dport || proto === 'all') return undefined;
  let host = '*';
  if (r.destination && !r.destination.negated) {
    const h = hostOf(r.destination.value);
    if (h) host = canonicalHost(h);
  }
  return `${host}|${proto}|${dport}`;
}

/** The keys a packet's rules are looked up by: its own destination, then any destination. */
export function packetKeys(dst: string, proto: string, dport: number): [string, string] {
  return [`${canonicalHost(dst)}|${proto}|${dport}`, `*|${proto}|${dport}`];
}

/**
 * kube-proxy's lines of one Service port (iptables ≥ 1.8), keyed by their text: `-m comment
 * --comment "…" -m tcp -p tcp -d IP --dport N -j TARGET` (KUBE-SERVICES), or without `-d IP`
 * and with or without `-m addrtype --dst-type LOCAL` before `-m tcp` (KUBE-NODEPORTS,
 * KUBE-EXTERNAL-SERVICES). Every line of exactly this shape tokenizes without error to a rule
 * whose ruleKey is "IP|proto|N", or "*|proto|N" without -d (the port sits in the match that `-p`
 * opens; a canonical IPv4 is its own canonical host): a 13,000-line chain is then indexed with
 * no rule tokenized but those of other shapes, which are tokenized as before (a malformed one
 * still throws its file and line).
 */
const KUBE_SERVICE_LINE =
  /^-A \S+ -m comment --comment "[^"\\]*" (?:-m addrtype --dst-type LOCAL )?-m (?:tcp|udp|sctp) -p (tcp|udp|sctp) (?:-d ([0-9.]+)(?:\/32)? )?--dport ([0-9]+) -j [A-Za-z0-9_-]+$/;

export function textKey(text: string): string | undefined {
  const m = KUBE_SERVICE_LINE.exec(text);
  if (!m) return undefined;
  if (m[2] === undefined) return `*|${protoNumber(m[1])}|${m[3]}`;
  if (!isCanonicalIPv4(m[2])) return undefined;
  return `${m[2]}|${protoNumber(m[1])}|${m[3]}`;
}

const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';

/**
 * A line start not followed by a KUBE-SERVICES line of KUBE_SERVICE_LINE's with a canonical
 * IPv4 (some of the lines textKey keys to an address; a line found is checked with textKey): one
 * native scan of a 13,000-line chain finds the few other lines, with no string cut per line.
 */
const OTHER_LINE = new RegExp(
  `(?:^|\\n)(?!-A \\S+ -m comment --comment "[^"\\\\\\n]*" -m (?:tcp|udp|sctp) -p (?:tcp|udp|sctp) -d ${OCTET}(?:\\.${OCTET}){3}(?:/32)? --dport [0-9]+ -j [A-Za-z0-9_-]+(?:\\n|$))`,
  'g',
);

/** Where the line holding `at` ends in `text` (its line break, or the end). */
function lineEnd(text: string, at: number): number {
  const end = text.indexOf('\n', at);
  return end < 0 ? text.length : end;
}

function buildChainIndex(chain: IptablesChain): ChainIndex {
  const text = chainRuleText(chain);
  const others: number[] = [];
  const otherKeys: (string | undefined)[] = [];
  const re = new RegExp(OTHER_LINE);
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const start = m.index + m[0].length;
    const end = lineEnd(text, start);
    // A line keyed to an address is found by keyedLines, by the address.
    const key = textKey(text.slice(start, end));
    if (key === undefined || key.startsWith('*|')) {
      const i = chainRuleIndexAt(chain, start);
      others.push(i);
      otherKeys.push(key ?? ruleKey(chainRuleAt(chain, i)));
    }
    if (end >= text.length) break;
    re.lastIndex = end;
  }
  return { text, others, otherKeys, keyed: new Map(), searches: 0 };
}

const DST = ' -d ';

/**
 * Where the lines of the indexed chain that hold " -d HOST" start, in chain order: found in the
 * text, or (past HOST_SEARCHES searches) looked up among every line's " -d " words, grouped once.
 */
function hostLines(idx: ChainIndex, host: string): number[] {
  const { text } = idx;
  if (!idx.byHost && ++idx.searches > HOST_SEARCHES) {
    const byHost = new Map<string, number[]>();
    for (let at = text.indexOf(DST); at >= 0; at = text.indexOf(DST, at + 1)) {
      const from = at + DST.length;
      let to = from;
      for (let c = text.charCodeAt(to); to < text.length && c !== 32 && c !== 47 && c !== 10; )
        c = text.charCodeAt(++to);
      const word = text.slice(from, to);
      const start = text.lastIndexOf('\n', at) + 1;
      const list = byHost.get(word);
      if (!list) byHost.set(word, [start]);
      else if (list[list.length - 1] !== start) list.push(start);
    }
    idx.byHost = byHost;
  }
  if (idx.byHost) return idx.byHost.get(host) ?? [];
  const out: number[] = [];
  const needle = `${DST}${host}`;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
    out.push(text.lastIndexOf('\n', at) + 1);
    at = lineEnd(text, at);
  }
  return out;
}

/**
 * The positions of the KUBE_SERVICE_LINEs keyed `key` (HOST|proto|port), in chain order: every
 * such line holds " -d HOST" (its canonical IPv4), so the lines holding it are the only ones
 * to check.
 */
function keyedLines(chain: IptablesChain, idx: ChainIndex, host: string, key: string): number[] {
  let out = idx.keyed.get(key);
  if (out) return out;
  out = [];
  if (isCanonicalIPv4(host)) {
    const { text } = idx;
    for (const start of hostLines(idx, host)) {
      if (textKey(text.slice(start, lineEnd(text, start))) === key) out.push(chainRuleIndexAt(chain, start));
    }
  }
  idx.keyed.set(key, out);
  return out;
}

/** The rules of `chain` that could match (dst, proto, dport), in chain order. */
export function candidateRules(chain: IptablesChain, st: WalkState): IptablesRule[] {
  if (chainRuleCount(chain) < INDEX_THRESHOLD) return chain.rules;
  let idx = chainIndexes.get(chain);
  if (!idx) {
    idx = buildChainIndex(chain);
    chainIndexes.set(chain, idx);
  }
  const host = canonicalHost(st.dst);
  const [exact, any] = packetKeys(st.dst, st.proto, st.dport);
  const keyed = keyedLines(chain, idx, host, exact);
  const out: IptablesRule[] = [];
  let k = 0;
  for (let o = 0; o < idx.others.length; o++) {
    const key = idx.otherKeys[o];
    if (key !== undefined && key !== exact && key !== any) continue;
    const i = idx.others[o];
    while (k < keyed.length && keyed[k] < i) out.push(chainRuleAt(chain, keyed[k++]));
    out.push(chainRuleAt(chain, i));
  }
  while (k < keyed.length) out.push(chainRuleAt(chain, keyed[k++]));
  return out;
}

// ---- walking ----

function splitHostPortTarget(text: string): { ip: string; port?: number } {
  // "10.0.0.1:80", "10.0.0.1", "[fd00::1]:80", "10.0.0.1-10.0.0.3:80-90"
  const v6 = /^\[([^\]]+)\](?::(\d+))?/.exec(text);
  if (v6) return { ip: v6[1], port: v6[2] ? Number(v6[2]) : undefined };
  const colon = text.indexOf(':');
  if (colon >= 0 && text.indexOf(':', colon + 1) >= 0) return { ip: text };
  const [host, ports] = colon >= 0 ? [text.slice(0, colon), text.slice(colon + 1)] : [text, undefined];
  return { ip: host.split('-')[0], port: ports ? Number(ports.split('-')[0]) : undefined };
}

const MAX_DEPTH = 64;

export class IptablesWalker {
  constructor(private readonly ctx: EvalContext) {}

  /** Runs a chain (by name) of a table; 'return' = fell off the end or RETURN. */
  runChain(table: string, chainName: string, st: WalkState, depth = 0): Branch[] {
    const chain = this.ctx.dump.tables.get(table)?.chains.get(chainName);
    if (!chain) return [{ st, verdict: 'return' }];
    if (depth > MAX_DEPTH) {
      return [
        {
          st: { ...st, unknown: st.unknown ?? `chain nesting deeper than ${MAX_DEPTH} at ${chainName}` },
          verdict: 'return',
        },
      ];
    }
    return this.walk(table, candidateRules(chain, st), 0, st, depth);
  }

  private walk(table: string, rules: IptablesRule[], start: number, st: WalkState, depth: number): Branch[] {
    for (let i = start; i < rules.length; i++) {
      const rule = rules[i];
      const m = matchRule(rule, st, this.ctx);
      if (m.result === 'no') continue;
      if (m.result === 'unknown') {
        if (rule.target && !NOOP_TARGETS.has(rule.target))
          st = { ...st, unknown: st.unknown ?? `${m.why}: ${rule.text}` };
        continue;
      }
      if (m.p <= 0) continue;
      if (m.p < 1) {
        const applied = this.apply(table, rules, i, fork(st, st.weight * m.p), depth);
        const taken = 'next' in applied ? this.walk(table, rules, i + 1, applied.next, depth) : applied;
        const rest = this.walk(table, rules, i + 1, fork(st, st.weight * (1 - m.p)), depth);
        return taken.concat(rest);
      }
      // Going on with the next rule is a loop, not a recursion: a chain may hold thousands of
      // rules that match and return (the same jump repeated), each of which would add frames.
      const applied = this.apply(table, rules, i, st, depth);
      if (!('next' in applied)) return applied;
      st = applied.next;
    }
    return [{ st, verdict: 'return' }];
  }

  /** The rule's verdicts, or `next`: the walk goes on with the following rule in this state. */
  private apply(
    table: string,
    rules: IptablesRule[],
    i: number,
    st: WalkState,
    depth: number,
  ): Branch[] | { next: WalkState } {
    const rule = rules[i];
    const target = rule.target;
    if (!target) return { next: st };
    st = withEvidence(st, rule);
    switch (target) {
      case 'ACCEPT':
        return [{ st: { ...st, acceptedBy: rule }, verdict: 'accept', rule }];
      case 'DROP':
        return [{ st, verdict: 'drop', rule }];
      case 'REJECT':
        return [{ st, verdict: 'reject', rule }];
      case 'RETURN':
        return [{ st, verdict: 'return' }];
      case 'DNAT': {
        const to = rule.targetOptions.find((o) => o.name === 'to-destination')?.values[0];
        if (!to)
          return [
            {
              st: { ...st, unknown: st.unknown ?? `DNAT without --to-destination: ${rule.text}` },
              verdict: 'accept',
            },
          ];
        const { ip, port } = splitHostPortTarget(to);
        const next = { ...st, dst: ip, dport: port ?? st.dport, dnat: { ip, port: port ?? st.dport, rule } };
        return [{ st: next, verdict: 'accept', rule }];
      }
      case 'MASQUERADE':
      case 'SNAT':
        return [{ st: { ...st, masquerade: true }, verdict: 'accept', rule }];
      case 'REDIRECT':
        return [
          {
            st: { ...st, unknown: st.unknown ?? `REDIRECT not modelled: ${rule.text}` },
            verdict: 'accept',
            rule,
          },
        ];
      case 'MARK':
        return { next: { ...st, mark: applyMark(st.mark, rule) } };
      default:
        break;
    }
    if (NOOP_TARGETS.has(target)) return { next: st };
    const chain = this.ctx.dump.tables.get(table)?.chains.get(target);
    if (!chain) return { next: { ...st, unknown: st.unknown ?? `unknown target ${target}: ${rule.text}` } };
    const branches = this.runChain(table, target, st, depth + 1);
    if (!rule.goto && branches.length === 1 && branches[0].verdict === 'return')
      return { next: branches[0].st };
    const out: Branch[] = [];
    for (const b of branches) {
      if (b.verdict !== 'return') out.push(b);
      else if (rule.goto) out.push(b);
      else for (const c of this.walk(table, rules, i + 1, b.st, depth)) out.push(c);
    }
    return out;
  }

  /** Runs the built-in chain `hook` of each table in kernel order; policy applies at the end. */
  runHook(hook: string, tables: string[], st: WalkState): Branch[] {
    let live: WalkState[] = [st];
    const done: Branch[] = [];
    for (const table of tables) {
      const chain = this.ctx.dump.tables.get(table)?.chains.get(hook);
      if (!chain) continue;
      const next: WalkState[] = [];
      for (const s of live) {
        for (const b of this.runChain(table, hook, s)) {
          if (b.verdict === 'accept') next.push(b.st);
          else if (b.verdict === 'return') {
            if (chain.policy === 'DROP') {
              done.push({ st: b.st, verdict: 'drop', rule: iptablesPolicyRule(table, hook, chain) });
            } else next.push(b.st);
          } else done.push(b);
        }
      }
      live = next;
    }
    for (const s of live) done.push({ st: s, verdict: 'accept' });
    return done;
  }
}

export function iptablesPolicyRule(table: string, hook: string, chain: IptablesChain): IptablesRule {
  return {
    table,
    chain: hook,
    line: chain.line,
    text: `-P ${hook} ${chain.policy} (policy of ${table} ${hook})`,
    matches: [],
    target: chain.policy,
    goto: false,
    targetOptions: [],
    unknown: [],
  };
}

function applyMark(mark: number, rule: IptablesRule): number {
  for (const o of rule.targetOptions) {
    const v = o.values[0] ?? '0';
    switch (o.name) {
      case 'set-xmark': {
        const [val, mask] = parseMark(v);
        return ((mark & ~mask) ^ val) >>> 0;
      }
      case 'set-mark': {
        const [val, mask] = parseMark(v);
        return ((mark & ~mask) | val) >>> 0;
      }
      case 'or-mark':
        return (mark | (Number(v) >>> 0)) >>> 0;
      case 'xor-mark':
        return (mark ^ (Number(v) >>> 0)) >>> 0;
      case 'and-mark':
        return (mark & (Number(v) >>> 0)) >>> 0;
      default:
        break;
    }
  }
  return mark;
}

// Runs one new connection's first packet through an `nft -j list ruleset` dump: base chains
// of every table at each hook in priority order, with vmaps, sets, numgen, fib, marks, NAT.
// `numgen random mod N vmap` forks the packet into N weighted branches.
import { compareIPs, inCIDR, ipOrNull } from '../../core/ip.js';
import { elementLookupKey, inlineSet, scalarText } from '../../model/nft-values.js';
import type {
  NftChain,
  NftElement,
  NftExpr,
  NftRule,
  NftRuleset,
  NftSet,
  NftTable,
} from '../../parsers/nft.js';
import { fork, type WalkState, withEvidence } from './walk-state.js';

export interface NftContext {
  ruleset: NftRuleset;
  family: 4 | 6;
  isLocal(ip: string): boolean;
  inInterface?: string;
}

export type NftState = WalkState<NftRule>;

export interface NftBranch {
  st: NftState;
  /** 'continue' = fell off the end / return. */
  verdict: 'accept' | 'drop' | 'reject' | 'continue';
  rule?: NftRule;
}

type Value = string | number | Value[] | undefined;

class Unknown extends Error {}

function compareScalar(a: string, b: string): number {
  const ia = ipOrNull(a);
  const ib = ipOrNull(b);
  if (ia && ib && ia.kind() === ib.kind()) return compareIPs(ia, ib);
  const na = Number(a);
  const nb = Number(b);
  if (!Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

function partMatches(part: NftElement['key'][number], value: string): boolean {
  if (part.kind === 'value') return compareScalar(part.value, value) === 0;
  if (part.kind === 'prefix') return inCIDR(`${part.addr}/${part.len}`, value);
  return compareScalar(part.from, value) <= 0 && compareScalar(value, part.to) <= 0;
}

/** Looks an element up in a set (named or anonymous). */
export function lookupElement(
  set: Pick<NftSet, 'exact' | 'ranged'>,
  values: string[],
): NftElement | undefined {
  const hit = set.exact.get(elementLookupKey(values));
  if (hit) return hit;
  for (const el of set.ranged) {
    if (el.key.length === values.length && el.key.every((p, i) => partMatches(p, values[i]))) return el;
  }
  return undefined;
}

const baseChainCache = new WeakMap<NftRuleset, Map<string, NftChain[]>>();

const HOOK_TABLE_FAMILIES: Record<4 | 6, Set<string>> = {
  4: new Set(['ip', 'inet']),
  6: new Set(['ip6', 'inet']),
};

export class NftWalker {
  private readonly tablesByName = new Map<string, NftTable>();
  constructor(private readonly ctx: NftContext) {
    for (const t of ctx.ruleset.tables) this.tablesByName.set(`${t.family} ${t.name}`, t);
  }

  private table(rule: { family: string; table: string }): NftTable | undefined {
    return this.tablesByName.get(`${rule.family} ${rule.table}`);
  }

  /** Base chains of `hook` (filter/nat/route types) for the packet's family, by priority. */
  baseChains(hook: string): NftChain[] {
    let perRuleset = baseChainCache.get(this.ctx.ruleset);
    if (!perRuleset) {
      perRuleset = new Map();
      baseChainCache.set(this.ctx.ruleset, perRuleset);
    }
    const key = `${this.ctx.family} ${hook}`;
    let out = perRuleset.get(key);
    if (!out) {
      const fams = HOOK_TABLE_FAMILIES[this.ctx.family];
      out = [];
      for (const t of this.ctx.ruleset.tables) {
        if (!fams.has(t.family)) continue;
        for (const c of t.chains.values()) if (c.hook === hook) out.push(c);
      }
      out.sort((a, b) => (a.prio ?? 0) - (b.prio ?? 0));
      perRuleset.set(key, out);
    }
    return out;
  }

  runHook(hook: string, st: NftState): NftBranch[] {
    let live: NftState[] = [st];
    const done: NftBranch[] = [];
    for (const chain of this.baseChains(hook)) {
      const next: NftState[] = [];
      for (const s of live) {
        for (const b of this.runChain(chain, s, 0)) {
          if (b.verdict === 'accept') next.push(b.st);
          else if (b.verdict === 'continue') {
            if (chain.policy === 'drop') done.push({ st: b.st, verdict: 'drop', rule: nftPolicyRule(chain) });
            else next.push(b.st);
          } else done.push(b);
        }
      }
      live = next;
    }
    for (const s of live) done.push({ st: s, verdict: 'accept' });
    return done;
  }

  runChain(chain: NftChain, st: NftState, depth: number): NftBranch[] {
    if (depth > 64)
      return [
        {
          st: { ...st, unknown: st.unknown ?? `chain nesting too deep at ${chain.name}` },
          verdict: 'continue',
        },
      ];
    return this.walk(chain, 0, st, depth);
  }

  private walk(chain: NftChain, start: number, st: NftState, depth: number): NftBranch[] {
    for (let i = start; i < chain.rules.length; i++) {
      const rule = chain.rules[i];
      let res: RuleResult;
      try {
        res = this.evalRule(rule, st, depth);
      } catch (e) {
        if (e instanceof Unknown) {
          st = { ...st, unknown: st.unknown ?? `${e.message}: ${rule.text}` };
          continue;
        }
        throw e;
      }
      if (res.kind === 'nomatch') continue;
      if (res.kind === 'branches') {
        const out: NftBranch[] = [];
        for (const b of res.branches) {
          if (b.verdict === 'next') for (const c of this.walk(chain, i + 1, b.st, depth)) out.push(c);
          else if (b.verdict === 'return') out.push({ st: b.st, verdict: 'continue' });
          else out.push(b as NftBranch);
        }
        return out;
      }
    }
    return [{ st, verdict: 'continue' }];
  }

  /** Evaluates one rule: either no match, or a list of branches with what happens next. */
  private evalRule(rule: NftRule, st: NftState, depth: number): RuleResult {
    return this.evalExprs(rule, rule.expr, 0, st, depth);
  }

  private evalExprs(rule: NftRule, exprs: NftExpr[], from: number, st: NftState, depth: number): RuleResult {
    for (let i = from; i < exprs.length; i++) {
      const e = exprs[i];
      const k = Object.keys(e)[0];
      const v = e[k] as Record<string, unknown> | null;
      switch (k) {
        case 'match': {
          const m = v as { op: string; left: unknown; right: unknown };
          if (!this.evalMatch(rule, m.op, m.left, m.right, st)) return { kind: 'nomatch' };
          break;
        }
        case 'counter':
        case 'log':
        case 'limit':
        case 'quota':
        case 'notrack':
          break;
        case 'set':
          // `update @set { ip saddr }` (affinity): recording does not change this packet.
          break;
        case 'mangle': {
          const m = v as { key: unknown; value: unknown };
          const key = m.key as Record<string, { key?: string }>;
          if (key.meta?.key !== 'mark') throw new Unknown(`unsupported mangle of ${JSON.stringify(m.key)}`);
          const val = this.value(m.value, st);
          if (typeof val !== 'number') throw new Unknown('non-numeric mark value');
          st = { ...st, mark: val >>> 0 };
          break;
        }
        case 'vmap': {
          const m = v as { key: unknown; data: unknown };
          const keyObj = m.key as Record<string, unknown>;
          if (keyObj.numgen) {
            const g = keyObj.numgen as { mode: string; mod: number; offset?: number };
            if (g.mode !== 'random') throw new Unknown(`numgen ${g.mode}`);
            const set = this.resolveSet(rule, m.data, true, e);
            const branches: RuleBranch[] = [];
            const evRule = withEvidence(st, rule);
            for (let n = 0; n < g.mod; n++) {
              const el = lookupElement(set, [String(n + (g.offset ?? 0))]);
              const b = fork(evRule, evRule.weight / g.mod);
              if (!el) {
                branches.push({ st: fork(st, st.weight / g.mod), verdict: 'next' });
                continue;
              }
              for (const r of this.verdict(rule, el.value, b, depth)) branches.push(r);
            }
            return { kind: 'branches', branches };
          }
          const key = this.keyValues(m.key, st);
          const set = this.resolveSet(rule, m.data, true, e);
          const el = lookupElement(set, key);
          if (!el) return { kind: 'nomatch' };
          return { kind: 'branches', branches: this.verdict(rule, el.value, withEvidence(st, rule), depth) };
        }
        case 'jump':
        case 'goto':
        case 'accept':
        case 'drop':
        case 'reject':
        case 'return':
        case 'continue':
          return { kind: 'branches', branches: this.verdict(rule, e, withEvidence(st, rule), depth) };
        case 'dnat': {
          const d = v as { addr?: unknown; port?: unknown; family?: string };
          const ip = d.addr === undefined ? undefined : String(this.value(d.addr, st));
          if (!ip) throw new Unknown('dnat without address');
          const port = d.port === undefined ? st.dport : Number(this.value(d.port, st));
          const next = withEvidence({ ...st, dst: ip, dport: port }, rule);
          next.dnat = { ip, port, rule };
          return { kind: 'branches', branches: [{ st: next, verdict: 'accept', rule }] };
        }
        case 'snat':
        case 'masquerade':
          return {
            kind: 'branches',
            branches: [{ st: withEvidence({ ...st, masquerade: true }, rule), verdict: 'accept', rule }],
          };
        default:
          throw new Unknown(`unsupported expression "${k}"`);
      }
    }
    // No verdict statement: the rule matched; continue with the next rule.
    return { kind: 'branches', branches: [{ st, verdict: 'next' }] };
  }

  private verdict(rule: NftRule, v: unknown, st: NftState, depth: number): RuleBranch[] {
    if (!v || typeof v !== 'object') throw new Unknown(`unsupported verdict ${JSON.stringify(v)}`);
    const o = v as Record<string, unknown>;
    if ('accept' in o) return [{ st: { ...st, acceptedBy: rule }, verdict: 'accept', rule }];
    if ('drop' in o) return [{ st, verdict: 'drop', rule }];
    if ('reject' in o) return [{ st, verdict: 'reject', rule }];
    if ('return' in o) return [{ st, verdict: 'return' }];
    if ('continue' in o) return [{ st, verdict: 'next' }];
    const jump = (o.jump ?? o.goto) as { target: string } | undefined;
    if (!jump) throw new Unknown(`unsupported verdict ${JSON.stringify(v)}`);
    const table = this.table(rule);
    const target = table?.chains.get(jump.target);
    if (!target) throw new Unknown(`jump to unknown chain ${jump.target}`);
    const out: RuleBranch[] = [];
    for (const b of this.runChain(target, st, depth + 1)) {
      if (b.verdict !== 'continue') out.push({ st: b.st, verdict: b.verdict, rule: b.rule });
      else out.push({ st: b.st, verdict: 'goto' in o ? 'return' : 'next' });
    }
    return out;
  }

  private resolveSet(
    rule: NftRule,
    data: unknown,
    isMap: boolean,
    holder: object,
  ): Pick<NftSet, 'exact' | 'ranged'> {
    if (typeof data === 'string' && data.startsWith('@')) {
      const s = this.table(rule)?.sets.get(data.slice(1));
      if (!s) throw new Unknown(`unknown set ${data}`);
      return s;
    }
    if (data && typeof data === 'object' && Array.isArray((data as { set?: unknown }).set)) {
      return inlineSet((data as { set: unknown[] }).set, isMap, holder);
    }
    if (data && typeof data === 'object' && 'set' in (data as object)) {
      return inlineSet([(data as { set: unknown }).set], isMap, holder);
    }
    throw new Unknown(`unsupported set ${JSON.stringify(data)}`);
  }

  private keyValues(key: unknown, st: NftState): string[] {
    const k = key as Record<string, unknown>;
    const parts = Array.isArray(k.concat) ? (k.concat as unknown[]) : [key];
    return parts.map((p) => {
      const val = this.value(p, st);
      if (val === undefined || Array.isArray(val)) throw new Unknown(`cannot evaluate ${JSON.stringify(p)}`);
      return String(val);
    });
  }

  /** Value of a left-hand expression for this packet. */
  private value(x: unknown, st: NftState): Value {
    if (typeof x === 'string' || typeof x === 'number') return x;
    if (!x || typeof x !== 'object') return undefined;
    const o = x as Record<string, unknown>;
    if (o.payload) {
      const p = o.payload as { protocol?: string; field?: string };
      if (p.protocol === 'ip' || p.protocol === 'ip6') {
        if ((p.protocol === 'ip') !== (this.ctx.family === 4)) throw new FamilyMismatch();
        if (p.field === 'saddr') return st.src;
        if (p.field === 'daddr') return st.dst;
        if (p.field === 'protocol' || p.field === 'nexthdr') return st.proto;
      }
      if (p.protocol === 'th' || p.protocol === 'tcp' || p.protocol === 'udp' || p.protocol === 'sctp') {
        if (p.protocol !== 'th' && p.protocol !== st.proto) throw new ProtoMismatch();
        if (p.field === 'dport') return st.dport;
        if (p.field === 'sport') throw new Unknown('source port not known');
      }
      throw new Unknown(`payload ${p.protocol} ${p.field}`);
    }
    if (o.meta) {
      const key = (o.meta as { key: string }).key;
      if (key === 'l4proto') return st.proto;
      if (key === 'mark') return st.mark;
      if (key === 'nfproto') return this.ctx.family === 4 ? 'ipv4' : 'ipv6';
      if (key === 'iifname' || key === 'iif') {
        if (this.ctx.inInterface === undefined) throw new Unknown('input interface not known');
        return this.ctx.inInterface;
      }
      throw new Unknown(`meta ${key}`);
    }
    if (o.ct) {
      const key = (o.ct as { key: string }).key;
      if (key === 'state') return 'new';
      if (key === 'status') return st.dnat ? 'dnat' : '';
      throw new Unknown(`ct ${key}`);
    }
    if (o.fib) {
      const f = o.fib as { result: string; flags: unknown };
      const flags = Array.isArray(f.flags) ? f.flags : [f.flags];
      if (f.result !== 'type') throw new Unknown(`fib ${f.result}`);
      const addr = flags.includes('saddr') ? st.src : st.dst;
      return this.ctx.isLocal(addr) ? 'local' : 'unicast';
    }
    for (const op of ['&', '|', '^'] as const) {
      if (Array.isArray(o[op])) {
        const [a, b] = o[op] as unknown[];
        const x1 = Number(this.value(a, st));
        const x2 = Number(this.value(b, st));
        if (Number.isNaN(x1) || Number.isNaN(x2)) throw new Unknown(`non-numeric ${op}`);
        return (op === '&' ? x1 & x2 : op === '|' ? x1 | x2 : x1 ^ x2) >>> 0;
      }
    }
    if (Array.isArray(o.concat)) return (o.concat as unknown[]).map((p) => this.value(p, st)) as Value[];
    throw new Unknown(`unsupported expression ${JSON.stringify(x).slice(0, 80)}`);
  }

  private evalMatch(rule: NftRule, op: string, left: unknown, right: unknown, st: NftState): boolean {
    let lv: Value;
    try {
      lv = this.value(left, st);
    } catch (e) {
      if (e instanceof FamilyMismatch || e instanceof ProtoMismatch) return false;
      throw e;
    }
    const leftObj = left as Record<string, unknown>;
    const isCtState = Boolean(leftObj && typeof leftObj === 'object' && leftObj.ct);
    let hit: boolean;
    if (typeof right === 'string' && right.startsWith('@')) {
      const set = this.resolveSet(rule, right, false, rule);
      const key = Array.isArray(lv) ? lv.map(String) : [String(lv)];
      hit = lookupElement(set, key) !== undefined;
    } else if (right && typeof right === 'object' && !Array.isArray(right)) {
      const r = right as Record<string, unknown>;
      if (r.prefix) {
        const p = r.prefix as { addr: unknown; len: number };
        hit = inCIDR(`${scalarText(p.addr)}/${p.len}`, String(lv));
      } else if (Array.isArray(r.range)) {
        hit =
          compareScalar(scalarText(r.range[0]), String(lv)) <= 0 &&
          compareScalar(String(lv), scalarText(r.range[1])) <= 0;
      } else if ('set' in r) {
        const set = inlineSet(Array.isArray(r.set) ? r.set : [r.set], false, r);
        const key = Array.isArray(lv) ? lv.map(String) : [String(lv)];
        hit = lookupElement(set, key) !== undefined;
      } else throw new Unknown(`unsupported right-hand side ${JSON.stringify(right).slice(0, 80)}`);
    } else if (Array.isArray(right)) {
      hit = right.some((x) => compareScalar(scalarText(x), String(lv)) === 0);
    } else if (isCtState || op === 'in') {
      // Flags: "ct state new", "ct state established,related" (array above).
      hit =
        typeof lv === 'number' && typeof right === 'number'
          ? (lv & right) !== 0
          : String(right) === String(lv);
    } else {
      hit = compareScalar(scalarText(right), String(lv)) === 0;
    }
    switch (op) {
      case '==':
      case 'in':
        return hit;
      case '!=':
        return !hit;
      default: {
        if (typeof right !== 'string' && typeof right !== 'number') throw new Unknown(`operator ${op}`);
        const c = compareScalar(String(lv), scalarText(right));
        if (op === '<') return c < 0;
        if (op === '>') return c > 0;
        if (op === '<=') return c <= 0;
        if (op === '>=') return c >= 0;
        throw new Unknown(`operator ${op}`);
      }
    }
  }
}

class FamilyMismatch extends Error {}
class ProtoMismatch extends Error {}

interface RuleBranch {
  st: NftState;
  verdict: 'accept' | 'drop' | 'reject' | 'return' | 'next';
  rule?: NftRule;
}

type RuleResult = { kind: 'nomatch' } | { kind: 'branches'; branches: RuleBranch[] };

export function nftPolicyRule(chain: NftChain): NftRule {
  return {
    family: chain.family,
    table: chain.table,
    chain: chain.name,
    handle: 0,
    expr: [],
    index: 0,
    text: `${chain.family} ${chain.table} ${chain.name}: policy ${chain.policy}`,
  };
}

// `nft -j list ruleset` (JSON schema 1) → tables, chains, rules, sets and maps. Pure. Rule
// expressions are kept as nft's JSON (the evaluator interprets them); set and map elements
// are normalised and indexed so that lookups do not scan.
import { guardParse, ParseError, parseJsonText } from '../core/errors.js';

export type NftExpr = Record<string, unknown>;

/** One component of a set key. */
export type NftKeyPart =
  | { kind: 'value'; value: string }
  | { kind: 'prefix'; addr: string; len: number }
  | { kind: 'range'; from: string; to: string };

export interface NftElement {
  key: NftKeyPart[];
  /** Map value: a verdict object ({goto:{target}}, {drop:null}, …) or data; undefined for sets. */
  value?: unknown;
  comment?: string;
}

export interface NftSet {
  family: string;
  table: string;
  name: string;
  isMap: boolean;
  type: string[];
  /** "verdict" for verdict maps. */
  mapType?: string;
  flags: string[];
  comment?: string;
  elements: NftElement[];
  /** Elements whose key parts are all plain values, by joined key. */
  exact: Map<string, NftElement>;
  /** Elements with a prefix or range part (checked one by one). */
  ranged: NftElement[];
}

export interface NftRule {
  family: string;
  table: string;
  chain: string;
  handle: number;
  comment?: string;
  expr: NftExpr[];
  /** Position in the JSON array (1-based), for evidence. */
  index: number;
  /** A readable rendering of the rule (evidence). */
  text: string;
}

export interface NftChain {
  family: string;
  table: string;
  name: string;
  type?: string;
  hook?: string;
  prio?: number;
  policy?: string;
  rules: NftRule[];
}

export interface NftTable {
  family: string;
  name: string;
  chains: Map<string, NftChain>;
  sets: Map<string, NftSet>;
}

export interface NftRuleset {
  file: string;
  version?: string;
  tables: NftTable[];
}

const tableKey = (family: string, name: string) => `${family} ${name}`;

/** Canonical text of a scalar key part (numbers and strings compare as text). */
export function scalarText(v: unknown): string {
  return typeof v === 'number' ? String(v) : typeof v === 'string' ? v : JSON.stringify(v);
}

function keyParts(v: unknown): NftKeyPart[] {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (Array.isArray(o.concat)) return o.concat.flatMap((p) => keyParts(p));
    if (o.prefix && typeof o.prefix === 'object') {
      const p = o.prefix as { addr: unknown; len: unknown };
      return [{ kind: 'prefix', addr: scalarText(p.addr), len: Number(p.len) }];
    }
    if (Array.isArray(o.range))
      return [{ kind: 'range', from: scalarText(o.range[0]), to: scalarText(o.range[1]) }];
  }
  return [{ kind: 'value', value: scalarText(v) }];
}

/** A JSON set/map element (any of nft's spellings) → NftElement. */
/** The evaluator walks expressions recursively: their depth is bounded here. */
const MAX_EXPR_DEPTH = 64;

/** Whether a JSON value nests deeper than `limit` (measured with a stack, not recursion). */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (d > limit) return true;
    for (const x of Array.isArray(v) ? v : Object.values(v)) stack.push([x, d + 1]);
  }
  return false;
}

export function parseElement(raw: unknown, isMap: boolean): NftElement {
  let keyRaw: unknown = raw;
  let value: unknown;
  if (isMap && Array.isArray(raw)) {
    keyRaw = raw[0];
    value = raw[1];
  }
  let comment: string | undefined;
  if (keyRaw && typeof keyRaw === 'object' && !Array.isArray(keyRaw) && 'elem' in (keyRaw as object)) {
    const e = (keyRaw as { elem: { val: unknown; comment?: string } }).elem;
    keyRaw = e.val;
    comment = e.comment;
  }
  return { key: keyParts(keyRaw), value, comment };
}

export function elementKey(parts: string[]): string {
  return parts.join(' . ');
}

function asArray(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === 'string') return [v];
  return [];
}

/** Renders an expression list roughly as `nft list` would (evidence only). */
export function renderExprs(expr: NftExpr[], comment?: string): string {
  const parts = expr.map(renderExpr);
  if (comment) parts.push(`comment "${comment}"`);
  return parts.join(' ');
}

function renderValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map(renderValue).join(',');
  const o = v as Record<string, unknown>;
  if (o.payload) {
    const p = o.payload as { protocol?: string; field?: string };
    return `${p.protocol} ${p.field}`;
  }
  if (o.meta) return `meta ${(o.meta as { key: string }).key}`;
  if (o.ct) return `ct ${(o.ct as { key: string }).key}`;
  if (o.fib) {
    const f = o.fib as { result: string; flags: unknown };
    return `fib ${asArray(f.flags).join(' . ')} ${f.result}`;
  }
  if (o.concat) return (o.concat as unknown[]).map(renderValue).join(' . ');
  if (o.prefix) {
    const p = o.prefix as { addr: unknown; len: number };
    return `${renderValue(p.addr)}/${p.len}`;
  }
  if (o.range) return (o.range as unknown[]).map(renderValue).join('-');
  if (o.set) return `{ ${asArrayRaw(o.set).map(renderSetElem).join(', ')} }`;
  if (o.numgen) {
    const g = o.numgen as { mode: string; mod: number };
    return `numgen ${g.mode} mod ${g.mod}`;
  }
  if (o['&']) return (o['&'] as unknown[]).map(renderValue).join(' & ');
  if (o['|']) return (o['|'] as unknown[]).map(renderValue).join(' | ');
  if (o['^']) return (o['^'] as unknown[]).map(renderValue).join(' ^ ');
  return JSON.stringify(v);
}

function asArrayRaw(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [v];
}

function renderSetElem(e: unknown): string {
  if (Array.isArray(e)) return `${renderValue(e[0])} : ${renderVerdict(e[1] as Record<string, unknown>)}`;
  return renderValue(e);
}

function renderVerdict(v: Record<string, unknown> | null | undefined): string {
  if (!v || typeof v !== 'object') return renderValue(v);
  if ('goto' in v) return `goto ${(v.goto as { target: string }).target}`;
  if ('jump' in v) return `jump ${(v.jump as { target: string }).target}`;
  const k = Object.keys(v)[0];
  return k ?? '';
}

function renderExpr(e: NftExpr): string {
  const k = Object.keys(e)[0];
  const v = e[k] as Record<string, unknown> | null;
  switch (k) {
    case 'match': {
      const m = v as { op: string; left: unknown; right: unknown };
      const op = m.op === '==' || m.op === 'in' ? '' : `${m.op} `;
      return `${renderValue(m.left)} ${op}${renderValue(m.right)}`;
    }
    case 'vmap': {
      const m = v as { key: unknown; data: unknown };
      return `${renderValue(m.key)} vmap ${renderValue(m.data)}`;
    }
    case 'jump':
    case 'goto':
      return `${k} ${(v as { target: string }).target}`;
    case 'dnat':
    case 'snat': {
      const d = v as { addr?: unknown; port?: unknown };
      return `${k} to ${renderValue(d.addr)}${d.port !== undefined ? `:${renderValue(d.port)}` : ''}`;
    }
    case 'mangle': {
      const m = v as { key: unknown; value: unknown };
      return `${renderValue(m.key)} set ${renderValue(m.value)}`;
    }
    case 'masquerade':
      return 'masquerade';
    case 'set': {
      const s = v as { op: string; elem: unknown; set: string };
      return `${s.op} ${s.set} { ${renderValue(s.elem)} }`;
    }
    case 'counter':
      return 'counter';
    default:
      return v === null ? k : `${k} ${renderValue(v)}`;
  }
}

/** Parses `nft -j list ruleset` (or `nft -j list table …`) output. */
function parseNftJsonUnguarded(text: string, file = 'nft.json'): NftRuleset {
  const doc = parseJsonText(text, file) as { nftables?: unknown };
  if (!doc || typeof doc !== 'object' || !Array.isArray(doc.nftables)) {
    throw new ParseError(file, 1, 'expected {"nftables": [...]} (nft -j list ruleset)');
  }
  const tables = new Map<string, NftTable>();
  let version: string | undefined;
  const getTable = (family: string, name: string) => {
    const k = tableKey(family, name);
    let t = tables.get(k);
    if (!t) {
      t = { family, name, chains: new Map(), sets: new Map() };
      tables.set(k, t);
    }
    return t;
  };
  const items = doc.nftables as Record<string, Record<string, unknown>>[];
  items.forEach((item, idx) => {
    if (!item || typeof item !== 'object') throw new ParseError(file, 1, `item ${idx}: not an object`);
    const kind = Object.keys(item)[0];
    const o = item[kind];
    if (kind === 'metainfo') {
      version = typeof o?.version === 'string' ? o.version : undefined;
      return;
    }
    if (!o || typeof o !== 'object') return;
    const family = String(o.family ?? '');
    if (kind === 'table') {
      getTable(family, String(o.name));
      return;
    }
    const table = typeof o.table === 'string' ? getTable(family, o.table) : undefined;
    if (!table) return;
    if (kind === 'chain') {
      const name = String(o.name);
      const existing = table.chains.get(name);
      const chain: NftChain = existing ?? { family, table: table.name, name, rules: [] };
      if (typeof o.type === 'string') chain.type = o.type;
      if (typeof o.hook === 'string') chain.hook = o.hook;
      if (o.prio !== undefined) chain.prio = typeof o.prio === 'number' ? o.prio : Number(o.prio);
      if (typeof o.policy === 'string') chain.policy = o.policy;
      table.chains.set(name, chain);
      return;
    }
    if (kind === 'set' || kind === 'map') {
      const isMap = kind === 'map';
      const elements = Array.isArray(o.elem) ? o.elem.map((e) => parseElement(e, isMap)) : [];
      const exact = new Map<string, NftElement>();
      const ranged: NftElement[] = [];
      for (const el of elements) {
        if (el.key.every((p) => p.kind === 'value')) {
          exact.set(elementKey(el.key.map((p) => (p as { value: string }).value)), el);
        } else ranged.push(el);
      }
      table.sets.set(String(o.name), {
        family,
        table: table.name,
        name: String(o.name),
        isMap,
        type: asArray(o.type),
        mapType: isMap ? String(o.map) : undefined,
        flags: asArray(o.flags),
        comment: typeof o.comment === 'string' ? o.comment : undefined,
        elements,
        exact,
        ranged,
      });
      return;
    }
    if (kind === 'rule') {
      const chainName = String(o.chain);
      let chain = table.chains.get(chainName);
      if (!chain) {
        chain = { family, table: table.name, name: chainName, rules: [] };
        table.chains.set(chainName, chain);
      }
      if (!Array.isArray(o.expr))
        throw new ParseError(file, 1, `rule ${idx} in chain ${chainName}: no "expr" list`);
      const expr = o.expr as NftExpr[];
      const bad = expr.findIndex((e) => e === null || typeof e !== 'object' || Array.isArray(e));
      if (bad >= 0)
        throw new ParseError(
          file,
          1,
          `rule ${idx} in chain ${chainName}: expression ${bad} is not an object`,
        );
      if (nestedDeeperThan(expr, MAX_EXPR_DEPTH))
        throw new ParseError(
          file,
          1,
          `rule ${idx} in chain ${chainName}: expressions nested deeper than ${MAX_EXPR_DEPTH}`,
        );
      const comment = typeof o.comment === 'string' ? o.comment : undefined;
      chain.rules.push({
        family,
        table: table.name,
        chain: chainName,
        handle: Number(o.handle ?? 0),
        comment,
        expr,
        index: idx + 1,
        text: `${family} ${table.name} ${chainName}: ${renderExprs(expr, comment)}`,
      });
    }
  });
  return { file, version, tables: [...tables.values()] };
}

/** parseNftJson, whose only failure is a ParseError naming the file (parsers/errors.ts guardParse). */
export const parseNftJson: typeof parseNftJsonUnguarded = (...args) =>
  guardParse(args[1] ?? 'nft.json', () => parseNftJsonUnguarded(...args));

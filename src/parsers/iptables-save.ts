// `iptables-save` / `ip6tables-save` (and `iptables -S` / `iptables -t TABLE -S`) text →
// tables, chains and rules. Pure: text in, structure out; bad input throws ParseError with
// the file and line. Matches the parser does not know are kept (rule.unknown) so that an
// evaluator can answer "unknown" instead of guessing.
import { guardParse, ParseError, UserError } from '../core/errors.js';

export interface MatchOption {
  /** Option name without dashes, e.g. "dport", "ctstate", "comment". */
  name: string;
  negated: boolean;
  values: string[];
}

export interface RuleMatch {
  /** Module name given to -m, e.g. "tcp", "comment", "statistic". */
  module: string;
  options: MatchOption[];
}

export interface AddrCriterion {
  negated: boolean;
  /** As printed: "10.0.0.0/8", "172.30.0.41/32" (iptables -S may omit the prefix). */
  value: string;
}

export interface IptablesRule {
  table: string;
  chain: string;
  /** 1-based line in the source text. */
  line: number;
  /** The rule line as printed (evidence). */
  text: string;
  source?: AddrCriterion;
  destination?: AddrCriterion;
  inInterface?: AddrCriterion;
  outInterface?: AddrCriterion;
  protocol?: AddrCriterion;
  fragment?: boolean;
  matches: RuleMatch[];
  /** -j / -g target (chain or built-in target); undefined for a counting-only rule. */
  target?: string;
  /** True for -g (goto). */
  goto: boolean;
  targetOptions: MatchOption[];
  /** Matches or options the evaluator cannot decide, e.g. "-m physdev". */
  unknown: string[];
  comment?: string;
}

export interface IptablesChain {
  name: string;
  /** Policy of a built-in chain (ACCEPT/DROP); undefined for user chains. */
  policy?: string;
  rules: IptablesRule[];
  line: number;
}

export interface IptablesTable {
  name: string;
  chains: Map<string, IptablesChain>;
  /**
   * A chain's rule lines joined by "\n" (chainRuleTexts of the chain, joined), undefined when
   * the table has no such chain: read from the file each time, no chain object made. Only a
   * table read through a chain table has it: a drift check compares each of a 190,000-chain
   * dump's chains with the expected text once, and a chain object and a string a line for each
   * cost more than the comparison.
   */
  chainText?(name: string): string | undefined;
}

export interface IptablesDump {
  file: string;
  tables: Map<string, IptablesTable>;
  /** Number of rules parsed. */
  ruleCount: number;
}

export interface IptablesParseOptions {
  /** Table for `iptables -S` text that has no `*table` header (default "filter"). */
  defaultTable?: string;
  /**
   * Tokenize a chain's rules when the chain is first read (default false). A 200,000-line
   * dump then costs only a line scan up front; a malformed rule throws its ParseError
   * (with file and line) when its chain is read.
   */
  lazy?: boolean;
}

interface PendingRule {
  insert: boolean;
  line: number;
  text: string;
  /** Where the rule's tokens start in `text` (after "-A CHAIN "). */
  at: number;
}

/**
 * Consecutive `-A CHAIN …` lines of one chain, as printed (each starts with `prefix`), kept as
 * a place in the dump: a 56 MB dump of 500,000 rules then costs a line scan and one small
 * record per run of rules, not a string and an object per rule.
 */
interface RuleRun {
  /** Offset of the first line in the dump's text. */
  start: number;
  /** Its 1-based line number. */
  line: number;
  count: number;
  /** Length of "-A CHAIN ": where each line's tokens start. */
  at: number;
  /**
   * Set for a run of a chain table (below): `start` is then a byte offset in the dump's file
   * and the run is `bytes` long, read on first use.
   */
  bytes?: number;
}

/** Reads `length` bytes at `start` of a dump's file (a chain table's run). */
export type DumpReader = (start: number, length: number) => string;

/** `text` with the CR dropped at the end of each of its lines (a CRLF dump reads as an LF one). */
function withoutLineEndCRs(text: string): string {
  return text.includes('\r')
    ? text
        .split('\n')
        .map((l) => (l.charCodeAt(l.length - 1) === 13 ? l.slice(0, -1) : l))
        .join('\n')
    : text;
}

/** The lines of a run of a dump's text, joined by "\n" without their line-end CRs. */
function runText(text: string, run: RuleRun): string {
  let end = run.start - 1;
  for (let k = 0; k < run.count; k++) {
    end = text.indexOf('\n', end + 1);
    if (end < 0) {
      end = text.length;
      break;
    }
  }
  return withoutLineEndCRs(text.slice(run.start, end));
}

/**
 * A chain table's run of `chain`, its lines joined by "\n" as runLines cuts them (a CR before a
 * line break dropped), read from the file and checked to be that chain's lines.
 */
function tableRunText(
  read: DumpReader,
  file: string,
  chain: string,
  start: number,
  bytes: number,
  count: number,
): string {
  const text = read(start, bytes);
  let breaks = 0;
  for (let i = text.indexOf('\n'); i >= 0 && breaks < count; i = text.indexOf('\n', i + 1)) breaks++;
  // The table was built from another file of the same size: not this chain's lines.
  if (
    breaks !== count - 1 ||
    !text.startsWith('-A ') ||
    !text.startsWith(chain, 3) ||
    text.charCodeAt(3 + chain.length) !== 32
  )
    throw new UserError(
      `${file} is not the file its chain table describes (was it changed after it was indexed?): delete ${chainTableName(file)} to read it whole`,
    );
  return withoutLineEndCRs(text);
}

/** A chain's rule lines joined by "\n" and where each starts in it (one more: its length + 1). */
interface LineTable {
  text: string;
  starts: Uint32Array;
}

function lineTableOf(text: string, count: number): LineTable {
  const starts = new Uint32Array(count + 1);
  let k = 0;
  for (let i = text.indexOf('\n'); i >= 0 && k < count; i = text.indexOf('\n', i + 1)) starts[++k] = i + 1;
  starts[count] = text.length + 1;
  return { text, starts };
}

/** A chain whose rules are tokenized on first access. */
class LazyChain implements IptablesChain {
  policy?: string;
  private parsed?: IptablesRule[];
  /** One entry alone (most chains: one run) or several, in dump order. */
  private pending?: PendingRule | RuleRun | (PendingRule | RuleRun)[];
  private textList?: string[];
  private lineTable?: LineTable;
  constructor(
    readonly name: string,
    readonly line: number,
    private readonly table: string,
    private readonly file: string,
    /** The whole dump, runs are read from it; or, for a chain table's runs, a reader of the file. */
    private readonly source: string | DumpReader,
  ) {}
  private push(entry: PendingRule | RuleRun): void {
    const p = this.pending;
    if (p === undefined) this.pending = entry;
    else if (Array.isArray(p)) p.push(entry);
    else this.pending = [p, entry];
    this.textList = undefined;
    this.lineTable = undefined;
    this.joined = undefined;
  }
  private entries(): (PendingRule | RuleRun)[] {
    const p = this.pending;
    return p === undefined ? [] : Array.isArray(p) ? p : [p];
  }
  /** A run of a chain table (its lines read when the chain is). */
  addRun(run: RuleRun): void {
    this.push(run);
  }
  /** The chain's pending lines when all are runs of the dump (none inserted, none read apart). */
  runList(): RuleRun[] | undefined {
    const list = this.entries();
    return list.every((e) => !('text' in e)) ? (list as RuleRun[]) : undefined;
  }
  add(insert: boolean, line: number, text: string, at: number): void {
    this.push({ insert, line, text, at });
  }
  /** Starts a run of appended rules at `start` (one rule so far); the parser extends it. */
  startRun(start: number, line: number, at: number): RuleRun {
    const run: RuleRun = { start, line, count: 1, at };
    this.push(run);
    return run;
  }
  /** Whether an -I rule is pending: the chain's order is then not the dump's. */
  private inserted(): boolean {
    return this.entries().some((e) => 'text' in e && e.insert);
  }
  /** The lines of a pending run, joined by "\n". */
  private runText(p: RuleRun): string {
    if (typeof this.source === 'string') return runText(this.source, p);
    return tableRunText(this.source, this.file, this.name, p.start, p.bytes as number, p.count);
  }
  /** Number of rules, without reading them. */
  count(): number {
    if (this.parsed) return this.parsed.length;
    let n = 0;
    for (const e of this.entries()) n += 'text' in e ? 1 : e.count;
    return n;
  }
  /** The rule lines in chain order, joined by "\n" (a chain table's run read once). */
  private text(): string {
    if (this.joined === undefined) {
      if (this.parsed) this.joined = this.parsed.map((r) => r.text).join('\n');
      else {
        const parts: string[] = [];
        for (const p of this.entries()) {
          if (!('text' in p)) parts.push(this.runText(p));
          else if (p.insert) parts.unshift(p.text);
          else parts.push(p.text);
        }
        this.joined = parts.length === 1 ? parts[0] : parts.join('\n');
      }
    }
    return this.joined;
  }
  private joined?: string;
  /** The joined lines and where each starts (made for a long chain searched by its text). */
  lines(): LineTable {
    this.lineTable ??= lineTableOf(this.text(), this.count());
    return this.lineTable;
  }
  /** The rule lines in chain order, without tokenizing them. */
  texts(): string[] {
    if (this.parsed) return this.parsed.map((r) => r.text);
    this.textList ??= this.count() === 0 ? [] : this.text().split('\n');
    return this.textList;
  }
  get rules(): IptablesRule[] {
    if (!this.parsed) this.parsed = guardParse(this.file, () => this.parseAll());
    return this.parsed;
  }
  private one?: IptablesRule[];
  /**
   * The i-th rule (chain order), tokenized alone: an index over a long chain can key most lines
   * by their text and tokenize only the others. With an inserted rule, the chain is parsed whole
   * (its errors then come in the order they always did).
   */
  ruleAt(i: number): IptablesRule {
    if (this.parsed) return this.parsed[i];
    if (this.inserted()) return this.rules[i];
    this.one ??= [];
    this.one[i] ??= guardParse(this.file, () => this.parseLine(i));
    return this.one[i];
  }
  /** Rule `i` of a chain without inserted rules, tokenized (the caller guards its errors). */
  private parseLine(i: number): IptablesRule {
    const { text, starts } = this.lines();
    const list = this.entries();
    // The entry holding rule i: most chains have one; a dump read whole may interleave chains.
    let e = 0;
    let first = 0;
    if (list.length > 1) {
      if (!this.firsts) {
        this.firsts = new Uint32Array(list.length);
        for (let k = 1; k < list.length; k++) {
          const prev = list[k - 1];
          this.firsts[k] = this.firsts[k - 1] + ('text' in prev ? 1 : prev.count);
        }
      }
      const firsts = this.firsts;
      let hi = firsts.length - 1;
      while (e < hi) {
        const mid = (e + hi + 1) >>> 1;
        if (firsts[mid] <= i) e = mid;
        else hi = mid - 1;
      }
      first = firsts[e];
    }
    const p = list[e];
    const line = p.line + i - first;
    return parseLineAt(
      text.slice(starts[i], starts[i + 1] - 1),
      p.at,
      this.table,
      this.name,
      this.file,
      line,
    );
  }
  /** Where each pending entry's first rule is (chain order), for a chain of several entries. */
  private firsts?: Uint32Array;
  private parseAll(): IptablesRule[] {
    // Entry by entry, in dump order (a bad rule is reported first where the dump has it); an
    // inserted rule goes first. No line table: most chains are short and read once.
    const out: IptablesRule[] = [];
    for (const p of this.entries()) {
      if ('text' in p) {
        const rule = parseLineAt(p.text, p.at, this.table, this.name, this.file, p.line);
        if (p.insert) out.unshift(rule);
        else out.push(rule);
      } else
        this.runText(p)
          .split('\n')
          .forEach((text, k) => {
            out.push(parseLineAt(text, p.at, this.table, this.name, this.file, p.line + k));
          });
    }
    this.pending = undefined;
    this.textList = undefined;
    this.firsts = undefined;
    this.lineTable = undefined;
    this.joined = undefined;
    return out;
  }
}

/** A rule line whose tokens start at `at`, parsed. */
function parseLineAt(
  text: string,
  at: number,
  table: string,
  chain: string,
  file: string,
  line: number,
): IptablesRule {
  return parseRuleTokens(tokenizeRule(text.slice(at), file, line), table, chain, text, file, line);
}

/** The chain table of a dump file: iptables-save.txt → iptables-save.knet-index.bin. */
export function chainTableName(file: string): string {
  return file.replace(/(\.txt)?$/, '.knet-index.bin');
}

/**
 * Where each chain of a dump is (chain table): the tables and chains in the parser's order, each
 * chain's policy and line, and its `-A` lines as runs of byte ranges with their first line
 * number. With it a reader reads only the chains a packet enters (docs/snapshot.md). A table
 * read from its file answers from the few bytes each question needs.
 */
export interface ChainTable {
  /** Size of the dump in bytes: a table of another size is not the dump's. */
  bytes: number;
  ruleCount: number;
  tables: ChainTableTable[];
}

export interface ChainTableTable {
  name: string;
  /** Number of chains. */
  count: number;
  /** Policies by chain (index in chains); a chain not listed has none. */
  policies: Record<string, string>;
  nameAt(i: number): string;
  /** Every name, in order (a 189,000-chain table makes them for a command that reads every chain). */
  names(): readonly string[];
  /** The index of the chain of that name. */
  find(name: string): number | undefined;
  /** The line that declared chain i, and its runs: 4 numbers each, byte start, byte length, first line, lines. */
  chainAt(i: number): { line: number; runs: ArrayLike<number> };
}

/**
 * The chain table of a dump, or undefined when its chains cannot be read by byte range alone: a
 * blank dump, non-ASCII text, an inserted (-I) rule or a line the parser reads another way
 * (counters, odd spacing). Such a dump is read whole.
 */
export function chainTableOf(text: string, file = 'iptables-save.txt'): ChainTable | undefined {
  if (text.trim() === '' || Buffer.byteLength(text) !== text.length) return undefined;
  const dump = parseIptablesSave(text, file, { lazy: true });
  const out: ChainTable = { bytes: text.length, ruleCount: dump.ruleCount, tables: [] };
  for (const table of dump.tables.values()) {
    const names: string[] = [];
    const lines: number[] = [];
    const runs: number[][] = [];
    const policies: Record<string, string> = {};
    for (const chain of table.chains.values()) {
      if (!(chain instanceof LazyChain)) return undefined;
      const list = chain.runList();
      if (!list) return undefined;
      if (chain.policy !== undefined) policies[names.length] = chain.policy;
      names.push(chain.name);
      lines.push(chain.line);
      const own: number[] = [];
      for (const run of list) {
        let end = run.start - 1;
        for (let k = 0; k < run.count; k++) {
          end = text.indexOf('\n', end + 1);
          if (end < 0) end = text.length;
        }
        own.push(run.start, end - run.start, run.line, run.count);
      }
      runs.push(own);
    }
    const byName = new Map<string, number>();
    names.forEach((n, i) => {
      byName.set(n, i);
    });
    out.tables.push({
      name: table.name,
      count: names.length,
      policies,
      nameAt: (i) => names[i],
      names: () => names,
      find: (name) => byName.get(name),
      chainAt: (i) => ({ line: lines[i], runs: runs[i] }),
    });
  }
  return out;
}

/**
 * The chains of a table of a chain table, made when first asked for: a 189,000-chain dump costs
 * no object per chain until its chains are read (a trace reads a few dozen).
 */
class ChainTableChains extends Map<string, IptablesChain> {
  private readonly made: (LazyChain | undefined)[];
  constructor(
    private readonly t: ChainTableTable,
    private readonly file: string,
    private readonly read: DumpReader,
  ) {
    super();
    this.made = new Array(t.count);
  }
  private at(i: number, name?: string): LazyChain {
    let c = this.made[i];
    if (!c) {
      const { t } = this;
      const { line, runs } = t.chainAt(i);
      c = new LazyChain(name ?? t.nameAt(i), line, t.name, this.file, this.read);
      c.policy = t.policies[i];
      for (let r = 0; r < runs.length; r += 4)
        c.addRun({
          start: runs[r],
          bytes: runs[r + 1],
          line: runs[r + 2],
          count: runs[r + 3],
          at: c.name.length + 4,
        });
      this.made[i] = c;
    }
    return c;
  }
  override get(name: string): IptablesChain | undefined {
    const i = this.t.find(name);
    return i === undefined ? undefined : this.at(i, name);
  }
  /** IptablesTable.chainText: the chain's runs read from the file, joined. */
  text(name: string): string | undefined {
    const i = this.t.find(name);
    if (i === undefined) return undefined;
    const { runs } = this.t.chainAt(i);
    let out: string | undefined;
    for (let r = 0; r < runs.length; r += 4) {
      const text = tableRunText(this.read, this.file, name, runs[r], runs[r + 1], runs[r + 3]);
      out = out === undefined ? text : `${out}\n${text}`;
    }
    return out ?? '';
  }
  override has(name: string): boolean {
    return this.t.find(name) !== undefined;
  }
  override get size(): number {
    return this.t.count;
  }
  override keys(): MapIterator<string> {
    return this.t.names()[Symbol.iterator]();
  }
  override *values(): MapIterator<IptablesChain> {
    for (let i = 0; i < this.t.count; i++) yield this.at(i);
  }
  override *entries(): MapIterator<[string, IptablesChain]> {
    for (let i = 0; i < this.t.count; i++) yield [this.t.nameAt(i), this.at(i)];
  }
  override [Symbol.iterator](): MapIterator<[string, IptablesChain]> {
    return this.entries();
  }
  override forEach(
    each: (chain: IptablesChain, name: string, map: Map<string, IptablesChain>) => void,
  ): void {
    for (let i = 0; i < this.t.count; i++) each(this.at(i), this.t.nameAt(i), this);
  }
  override set(): this {
    throw new Error('the chains of a dump read through its chain table are read-only');
  }
  override delete(): boolean {
    throw new Error('the chains of a dump read through its chain table are read-only');
  }
}

/** The dump a chain table describes, each chain's lines read from the file when first used. */
export function dumpFromChainTable(table: ChainTable, file: string, read: DumpReader): IptablesDump {
  const tables = new Map<string, IptablesTable>();
  for (const t of table.tables) {
    const chains = new ChainTableChains(t, file, read);
    tables.set(t.name, { name: t.name, chains, chainText: (name) => chains.text(name) });
  }
  return { file, tables, ruleCount: table.ruleCount };
}

/** Split a rule line into tokens, honouring "double quotes" with backslash escapes. */
export function tokenizeRule(text: string, file = '<input>', line = 0): string[] {
  const tokens: string[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    let c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 13) {
      i++;
      continue;
    }
    let tok = '';
    let start = i;
    while (i < n) {
      c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 13) break;
      if (c === 34 /* " */) {
        tok += text.slice(start, i);
        i++;
        let closed = false;
        let buf = '';
        let s = i;
        while (i < n) {
          const d = text.charCodeAt(i);
          if (d === 92 /* \ */ && i + 1 < n) {
            buf += text.slice(s, i) + text[i + 1];
            i += 2;
            s = i;
            continue;
          }
          if (d === 34) {
            buf += text.slice(s, i);
            closed = true;
            i++;
            break;
          }
          i++;
        }
        if (!closed) throw new ParseError(file, line, 'unterminated quoted string');
        tok += buf;
        start = i;
        continue;
      }
      i++;
    }
    tok += text.slice(start, i);
    tokens.push(tok);
  }
  return tokens;
}

const GENERIC: Record<string, 'source' | 'destination' | 'inInterface' | 'outInterface' | 'protocol'> = {
  '-s': 'source',
  '--source': 'source',
  '--src': 'source',
  '-d': 'destination',
  '--destination': 'destination',
  '--dst': 'destination',
  '-i': 'inInterface',
  '--in-interface': 'inInterface',
  '-o': 'outInterface',
  '--out-interface': 'outInterface',
  '-p': 'protocol',
  '--protocol': 'protocol',
};

/** Modules whose options the evaluator understands. */
const KNOWN_MODULES = new Set([
  'comment',
  'tcp',
  'udp',
  'sctp',
  'multiport',
  'statistic',
  'addrtype',
  'conntrack',
  'state',
  'mark',
  'set',
  'recent',
  'nfacct',
  'icmp',
  'icmp6',
  'iprange',
  'physdev',
]);

/** Parses one `-A CHAIN …` rule (the tokens after "-A CHAIN"). */
export function parseRuleTokens(
  tokens: string[],
  table: string,
  chain: string,
  text: string,
  file: string,
  line: number,
): IptablesRule {
  const rule: IptablesRule = {
    table,
    chain,
    line,
    text,
    matches: [],
    goto: false,
    targetOptions: [],
    unknown: [],
  };
  let i = 0;
  let negate = false;
  let current: RuleMatch | undefined;
  let inTarget = false;
  const n = tokens.length;
  while (i < n) {
    const t = tokens[i];
    if (t === '!') {
      negate = true;
      i++;
      continue;
    }
    if (inTarget) {
      if (t.startsWith('-')) {
        const values: string[] = [];
        i++;
        while (i < n && !tokens[i].startsWith('--') && tokens[i] !== '!') values.push(tokens[i++]);
        rule.targetOptions.push({ name: t.replace(/^-+/, ''), negated: negate, values });
        negate = false;
        continue;
      }
      throw new ParseError(file, line, `unexpected token "${t}" after target ${rule.target}`);
    }
    const generic = GENERIC[t];
    if (generic) {
      if (i + 1 >= n) throw new ParseError(file, line, `option ${t} needs a value`);
      rule[generic] = { negated: negate, value: tokens[i + 1] };
      negate = false;
      current = undefined;
      i += 2;
      continue;
    }
    if (t === '-f' || t === '--fragment') {
      rule.fragment = !negate;
      negate = false;
      i++;
      continue;
    }
    if (t === '-m' || t === '--match') {
      if (i + 1 >= n) throw new ParseError(file, line, `option ${t} needs a module name`);
      current = { module: tokens[i + 1], options: [] };
      rule.matches.push(current);
      if (!KNOWN_MODULES.has(current.module)) rule.unknown.push(`-m ${current.module}`);
      negate = false;
      i += 2;
      continue;
    }
    if (t === '-j' || t === '--jump' || t === '-g' || t === '--goto') {
      if (i + 1 >= n) throw new ParseError(file, line, `option ${t} needs a target`);
      rule.target = tokens[i + 1];
      rule.goto = t === '-g' || t === '--goto';
      inTarget = true;
      current = undefined;
      negate = false;
      i += 2;
      continue;
    }
    if (t === '-c' || t === '--set-counters') {
      i += 3;
      continue;
    }
    if (t.startsWith('--') && current) {
      const values: string[] = [];
      i++;
      if (t === '--comment' && i < n) values.push(tokens[i++]);
      else while (i < n && !tokens[i].startsWith('-') && tokens[i] !== '!') values.push(tokens[i++]);
      current.options.push({ name: t.slice(2), negated: negate, values });
      if (current.module === 'comment' && t === '--comment') rule.comment = values.join(' ');
      negate = false;
      continue;
    }
    if (t.startsWith('--') && !current && rule.protocol) {
      // iptables accepts protocol options (e.g. --dport) right after -p without -m.
      current = { module: rule.protocol.value, options: [] };
      rule.matches.push(current);
      continue;
    }
    throw new ParseError(file, line, `unexpected token "${t}"`);
  }
  return rule;
}

/** A visible ASCII character (not a space, not beyond ASCII, where \s may match). */
function printable(c: number): boolean {
  return c > 32 && c < 127;
}

/** Whether the `n` characters at `a` and at `b` of `text` are the same. */
function sameStart(text: string, a: number, b: number, n: number): boolean {
  if (a + n > text.length) return false;
  for (let i = 0; i < n; i++) if (text.charCodeAt(a + i) !== text.charCodeAt(b + i)) return false;
  return true;
}

/**
 * `:NAME POLICY …` of printable ASCII words separated by spaces, read in place: [name, policy]
 * ("-" is no policy); undefined for any other line (the general path then reads it).
 */
function plainDeclaration(text: string, pos: number, end: number): [string, string | undefined] | undefined {
  let i = pos + 1;
  while (i < end && printable(text.charCodeAt(i))) i++;
  if (i === pos + 1 || i >= end || text.charCodeAt(i) !== 32) return undefined;
  let j = i + 1;
  while (j < end && text.charCodeAt(j) === 32) j++;
  let k = j;
  while (k < end && printable(text.charCodeAt(k))) k++;
  if (k === j) return undefined;
  const after = k < end ? text.charCodeAt(k) : 32;
  if (after !== 32 && after !== 9 && after !== 13) return undefined;
  const policy = k - j === 1 && text.charCodeAt(j) === 45 ? undefined : text.slice(j, k);
  return [text.slice(pos + 1, i), policy];
}

/** Parses iptables-save output (any tables, any order) or `iptables -S` output. */
function parseIptablesSaveUnguarded(
  text: string,
  file = 'iptables-save.txt',
  options: IptablesParseOptions = {},
): IptablesDump {
  const tables = new Map<string, IptablesTable>();
  let table: IptablesTable | undefined;
  let ruleCount = 0;
  const getTable = (name: string) => {
    let t = tables.get(name);
    if (!t) {
      t = { name, chains: new Map() };
      tables.set(name, t);
    }
    return t;
  };
  const newChain = (table: string, name: string, policy: string | undefined, line: number): IptablesChain => {
    if (!options.lazy) return { name, policy, rules: [], line };
    const c = new LazyChain(name, line, table, file, text);
    c.policy = policy;
    return c;
  };
  const implicitTable = () => {
    if (!table) table = getTable(options.defaultTable ?? 'filter');
    return table;
  };
  let pos = 0;
  let lineNo = 0;
  const len = text.length;
  // The run of `-A CHAIN …` lines being read (lazy only): a line that starts with its prefix
  // extends it without being cut out of the text; any other line ends it.
  let run: RuleRun | undefined;
  while (pos < len) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = len;
    lineNo++;
    if (run && sameStart(text, pos, run.start, run.at)) {
      run.count++;
      ruleCount++;
      pos = end + 1;
      continue;
    }
    run = undefined;
    if (options.lazy && table) {
      // Plain lines, the whole of a kube-proxy dump, read without cutting them out of the text;
      // anything else takes the general path below.
      const c = text.charCodeAt(pos);
      if (c === 45 /* - */ && text.charCodeAt(pos + 1) === 65 /* A */ && text.charCodeAt(pos + 2) === 32) {
        const sp = printable(text.charCodeAt(pos + 3)) ? text.indexOf(' ', pos + 3) : -1;
        const chain = sp > 0 && sp < end ? table.chains.get(text.slice(pos + 3, sp)) : undefined;
        if (chain instanceof LazyChain) {
          run = chain.startRun(pos, lineNo, sp - pos + 1);
          ruleCount++;
          pos = end + 1;
          continue;
        }
      } else if (c === 58 /* : */) {
        const decl = plainDeclaration(text, pos, end);
        if (decl) {
          const [name, policy] = decl;
          const chain = table.chains.get(name);
          if (chain) chain.policy = policy;
          else table.chains.set(name, newChain(table.name, name, policy, lineNo));
          pos = end + 1;
          continue;
        }
      }
    }
    const lineStart = pos;
    let raw = text.slice(pos, end);
    pos = end + 1;
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    // `iptables-save -c` prefixes rules with [packets:bytes].
    let line = raw.charCodeAt(0) > 32 ? raw : raw.trimStart();
    if (line.length === 0 || line[0] === '#') continue;
    if (line[0] === '[') {
      const close = line.indexOf(']');
      if (close < 0) throw new ParseError(file, lineNo, 'unterminated counter');
      line = line.slice(close + 1).trimStart();
    }
    const c0 = line[0];
    if (c0 === '*') {
      table = getTable(line.slice(1).trim());
      continue;
    }
    if (line === 'COMMIT') {
      table = undefined;
      continue;
    }
    if (c0 === ':') {
      const m = /^:(\S+)\s+(\S+)/.exec(line);
      if (!m) throw new ParseError(file, lineNo, 'malformed chain declaration');
      const t = implicitTable();
      const chain = t.chains.get(m[1]);
      const policy = m[2] === '-' ? undefined : m[2];
      if (chain) chain.policy = policy;
      else t.chains.set(m[1], newChain(t.name, m[1], policy, lineNo));
      continue;
    }
    if (c0 === '-') {
      const sp = line.indexOf(' ');
      const op = sp < 0 ? line : line.slice(0, sp);
      const rest = sp < 0 ? '' : line.slice(sp + 1).trimStart();
      if (op === '-P' || op === '-N' || op === '-X') {
        const parts = rest.split(/\s+/);
        if (!parts[0]) throw new ParseError(file, lineNo, `${op} needs a chain name`);
        const t = implicitTable();
        if (op === '-X') {
          t.chains.delete(parts[0]);
          continue;
        }
        const chain = t.chains.get(parts[0]);
        const policy = op === '-P' ? parts[1] : undefined;
        if (chain) chain.policy = policy ?? chain.policy;
        else t.chains.set(parts[0], newChain(t.name, parts[0], policy, lineNo));
        continue;
      }
      if (op === '-A' || op === '--append' || op === '-I' || op === '--insert') {
        const sp2 = rest.indexOf(' ');
        const chainName = sp2 < 0 ? rest : rest.slice(0, sp2);
        if (!chainName) throw new ParseError(file, lineNo, `${op} needs a chain name`);
        const t = implicitTable();
        let chain = t.chains.get(chainName);
        if (!chain) {
          // iptables-restore requires a declaration; -S output lists built-ins with -P.
          chain = newChain(t.name, chainName, undefined, lineNo);
          t.chains.set(chainName, chain);
        }
        if (chain instanceof LazyChain) {
          const insert = op === '-I' || op === '--insert';
          const prefix = `-A ${chainName} `;
          if (!insert && line === raw && line.startsWith(prefix)) {
            run = chain.startRun(lineStart, lineNo, prefix.length);
            ruleCount++;
            continue;
          }
          // `rest` is the end of `line`: where its tokens start in `line`.
          chain.add(insert, lineNo, line, sp2 < 0 ? line.length : line.length - rest.length + sp2 + 1);
          ruleCount++;
          continue;
        }
        const tokens = tokenizeRule(sp2 < 0 ? '' : rest.slice(sp2 + 1), file, lineNo);
        const rule = parseRuleTokens(tokens, t.name, chainName, line, file, lineNo);
        if (op === '-I' || op === '--insert') chain.rules.unshift(rule);
        else chain.rules.push(rule);
        ruleCount++;
        continue;
      }
      throw new ParseError(file, lineNo, `unknown command ${op}`);
    }
    throw new ParseError(file, lineNo, `unexpected line: ${line.slice(0, 60)}`);
  }
  return { file, tables, ruleCount };
}

/**
 * A chain's rule lines as printed (`-A CHAIN …`), in order: for a lazily parsed chain, without
 * tokenizing its rules (comparing a large dump's chains with the expected text needs no more).
 * Shared: do not modify.
 */
export function chainRuleTexts(chain: IptablesChain): string[] {
  return chain instanceof LazyChain ? chain.texts() : chain.rules.map((r) => r.text);
}

const plainLineTables = new WeakMap<IptablesChain, LineTable>();

function lineTable(chain: IptablesChain): LineTable {
  if (chain instanceof LazyChain) return chain.lines();
  let t = plainLineTables.get(chain);
  if (!t) {
    t = lineTableOf(chain.rules.map((r) => r.text).join('\n'), chain.rules.length);
    plainLineTables.set(chain, t);
  }
  return t;
}

/**
 * A chain's rule lines as printed, in order, joined by "\n": one string to search (a 13,000-line
 * KUBE-SERVICES for one address) where a string a line would cost more than the search.
 */
export function chainRuleText(chain: IptablesChain): string {
  return lineTable(chain).text;
}

/** The number of a chain's rules, without reading or tokenizing them. */
export function chainRuleCount(chain: IptablesChain): number {
  return chain instanceof LazyChain ? chain.count() : chain.rules.length;
}

/** The position in its chain of the rule whose line holds `offset` of chainRuleText(chain). */
export function chainRuleIndexAt(chain: IptablesChain, offset: number): number {
  const { starts } = lineTable(chain);
  let lo = 0;
  let hi = starts.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The i-th rule of a chain: for a lazily parsed chain, that rule alone is tokenized. */
export function chainRuleAt(chain: IptablesChain, i: number): IptablesRule {
  return chain instanceof LazyChain ? chain.ruleAt(i) : chain.rules[i];
}

/** One `-A CHAIN …` line (as chainRuleTexts gives) parsed as a rule of `table`. */
export function parseRuleLine(text: string, table: string, file = '<input>', line = 0): IptablesRule {
  const sp = text.indexOf(' ');
  const rest = sp < 0 ? '' : text.slice(sp + 1).trimStart();
  const sp2 = rest.indexOf(' ');
  const chain = sp2 < 0 ? rest : rest.slice(0, sp2);
  if (!chain) throw new ParseError(file, line, `not a rule: ${text.slice(0, 60)}`);
  return parseRuleTokens(
    tokenizeRule(sp2 < 0 ? '' : rest.slice(sp2 + 1), file, line),
    table,
    chain,
    text,
    file,
    line,
  );
}

/** The option of a match module (first found), e.g. optionOf(rule, 'statistic', 'probability'). */
export function optionOf(rule: IptablesRule, module: string, name: string): MatchOption | undefined {
  for (const m of rule.matches) {
    if (m.module !== module) continue;
    for (const o of m.options) if (o.name === name) return o;
  }
  return undefined;
}

export function targetOption(rule: IptablesRule, name: string): string | undefined {
  return rule.targetOptions.find((o) => o.name === name)?.values[0];
}

/** parseIptablesSave, whose only failure is a ParseError naming the file (parsers/errors.ts guardParse). */
export const parseIptablesSave: typeof parseIptablesSaveUnguarded = (...args) =>
  guardParse(args[1] ?? 'iptables-save.txt', () => parseIptablesSaveUnguarded(...args));

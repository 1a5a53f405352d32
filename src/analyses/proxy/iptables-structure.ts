// Does a node's iptables dump hold exactly the rules kube-proxy writes for a service port?
// The expected rules come from knet's own generator (expected-iptables.ts); the dump's rules
// are compared as text first (a dump written by that generator, or by kube-proxy with the
// same spelling, costs a string comparison a rule and no tokenizing), then, when the text
// differs (iptables-save reorders options, adds /32, drops nothing that matters), in a
// canonical form of the parsed rule that keeps everything the evaluator looks at.
import { hash } from 'node:crypto';
import { chainRuleTexts, parseRuleLine } from '../../model/rule-lines.js';
import type { AddrCriterion, IptablesDump, IptablesRule, MatchOption } from '../../parsers/iptables-save.js';
import { servicePortChainName, servicePortLocalChainName } from './chain-names.js';
import {
  type ServicePortRenderContext,
  type ServicePortRules,
  servicePortIptablesRules,
} from './expected-iptables.js';
import { ruleKey, textKey } from './iptables-eval.js';
import type { ProxyServicePort } from './service-ports.js';

const L4 = new Set(['tcp', 'udp', 'sctp']);
/** Options iptables-save prints with their default value, which kube-proxy does not write. */
const DEFAULT_OPTIONS = new Set(['recent:mask=255.255.255.255', 'recent:rsource=']);

function addr(a: AddrCriterion | undefined): string {
  if (!a) return '';
  const v = a.value.includes('/') ? a.value : `${a.value}/${a.value.includes(':') ? 128 : 32}`;
  return `${a.negated ? '!' : ''}${v}`;
}

function option(module: string, o: MatchOption): string {
  // iptables-save prints probabilities with 11 decimals, kube-proxy writes 10: the fork is
  // the same (both strictly between 0 and 1), only the shares differ in the 10th decimal.
  const values =
    module === 'statistic' && o.name === 'probability' ? [Number(o.values[0]).toFixed(6)] : o.values;
  return `${o.negated ? '!' : ''}${o.name}=${values.join(',')}`;
}

/**
 * A rule as the evaluator sees it, in a canonical spelling: no comments, matches and options
 * sorted (they are all ANDed), addresses with their prefix, an option-less `-m tcp` next to
 * `-p tcp` dropped (it adds nothing).
 */
export function canonicalRule(r: IptablesRule): string {
  const proto = r.protocol ? `${r.protocol.negated ? '!' : ''}${r.protocol.value.toLowerCase()}` : '';
  const matches = r.matches
    .filter(
      (m) => m.module !== 'comment' && !(L4.has(m.module) && m.options.length === 0 && proto === m.module),
    )
    .map((m) => {
      const opts = m.options
        .map((o) => option(m.module, o))
        .filter((o) => !DEFAULT_OPTIONS.has(`${m.module}:${o}`));
      return `${m.module}:${opts.sort().join(',')}`;
    })
    .sort();
  return [
    proto,
    addr(r.source),
    addr(r.destination),
    addr(r.inInterface),
    addr(r.outInterface),
    r.fragment === undefined ? '' : String(r.fragment),
    matches.join(';'),
    `${r.goto ? '-g' : '-j'} ${r.target ?? ''}`,
    r.targetOptions
      .map((o) => option('', o))
      .sort()
      .join(','),
  ].join(' ');
}

/** The same rule: equal text, or equal canonical forms (an unparsable line is never the same). */
export function sameRule(actual: string | IptablesRule, expected: string): boolean {
  const text = typeof actual === 'string' ? actual : actual.text;
  if (text === expected) return true;
  try {
    const a = typeof actual === 'string' ? parseRuleLine(actual, 'nat') : actual;
    return canonicalRule(a) === canonicalRule(parseRuleLine(expected, 'nat'));
  } catch {
    return false;
  }
}

/** The chain a `-A CHAIN …` line appends to. */
export function lineChain(line: string): string {
  const end = line.indexOf(' ', 3);
  return end < 0 ? line.slice(3) : line.slice(3, end);
}

/** The word of `text` that starts at `from`, within the line that ends at `end`. */
function word(text: string, from: number, end = text.length): string {
  const space = text.indexOf(' ', from);
  return text.slice(from, space < 0 || space > end ? end : space);
}

const SEP_JUMP = ' -j KUBE-SEP-';
const DNAT_TO = '--to-destination ';

/**
 * The word after the last " -j KUBE-SEP-" of the line at [start, end) of `text`. A ladder rule
 * ends with it: then it is the last word (no later match can start in a word without spaces),
 * found without lastIndexOf's search (200,000 ladder rules a node).
 */
function sepTarget(text: string, start: number, end: number): string | undefined {
  let s = end - 1;
  while (s >= start && text.charCodeAt(s) !== 32) s--;
  if (s >= start + 3 && text.startsWith(SEP_JUMP, s - 3)) return text.slice(s + 1, end);
  const j = text.lastIndexOf(SEP_JUMP, end - SEP_JUMP.length);
  return j < start || j + SEP_JUMP.length > end ? undefined : word(text, j + 4, end);
}

/** The end of the line of `text` that holds `at` (its "\n", or the end of the text). */
function lineEnd(text: string, at: number): number {
  const end = text.indexOf('\n', at);
  return end < 0 ? text.length : end;
}

/**
 * A chain's rule lines joined by "\n" (chainRuleTexts, joined), by name; undefined when the
 * chain is missing. A chain's text is compared whole: one string a chain, none a line.
 */
type ChainText = (name: string) => string | undefined;

/**
 * The endpoint chains the dump's KUBE-SVC/KUBE-SVL chains of `sp` jump to, by the endpoint
 * their DNAT rule names ("10.0.0.1:80"). Read from the text, unverified: comparing the rules
 * rendered with these names against the dump verifies them. Nothing the rules do depends on
 * an endpoint chain's name, and hashing ~200,000 of them is the larger part of the comparison.
 */
function endpointChainsInDump(textOf: ChainText, sp: ProxyServicePort): Map<string, string> {
  const out = new Map<string, string>();
  for (const ladder of [
    servicePortChainName(sp.spn, sp.protocol),
    servicePortLocalChainName(sp.spn, sp.protocol),
  ]) {
    const text = textOf(ladder);
    if (!text) continue;
    for (let start = 0; start < text.length; ) {
      const end = lineEnd(text, start);
      const name = sepTarget(text, start, end);
      start = end + 1;
      const rules = name === undefined ? undefined : textOf(name);
      if (!rules) continue;
      // The first DNAT_TO of each line that has one.
      for (let d = rules.indexOf(DNAT_TO); d >= 0; ) {
        const e = lineEnd(rules, d);
        out.set(word(rules, d + DNAT_TO.length, e), name as string);
        d = rules.indexOf(DNAT_TO, e + 1);
      }
    }
  }
  return out;
}

/**
 * Whether the dump's chains hold the expected rules, rule by rule (sameRule): the expected rules
 * of a chain are not contiguous (the masquerade rule of KUBE-SVC comes before the KUBE-EXT rules,
 * its endpoint rules after): one cursor per chain.
 */
function sameRules(expected: ServicePortRules, textOf: ChainText): boolean {
  const cursors = new Map<string, { texts: string[]; next: number }>();
  for (let i = 0; i < expected.chains.length; i++) {
    const name = expected.chainOf[i];
    let c = cursors.get(name);
    if (!c) {
      const text = textOf(name);
      if (text === undefined) return false;
      c = { texts: text === '' ? [] : text.split('\n'), next: 0 };
      cursors.set(name, c);
    }
    const text = c.texts[c.next++];
    if (text === undefined || !sameRule(text, expected.chains[i])) return false;
  }
  for (const c of cursors.values()) if (c.next !== c.texts.length) return false;
  return true;
}

/** Whether each chain's text is its expected rules, joined: sameRules without a string a rule. */
function sameTexts(expected: ServicePortRules, textOf: ChainText): boolean {
  const lines = new Map<string, string[]>();
  for (let i = 0; i < expected.chains.length; i++) {
    const name = expected.chainOf[i];
    const list = lines.get(name);
    if (list) list.push(expected.chains[i]);
    else lines.set(name, [expected.chains[i]]);
  }
  for (const [name, list] of lines) if (textOf(name) !== list.join('\n')) return false;
  return true;
}

/** A rule kube-proxy writes for a service port in a shared chain (KUBE-SERVICES, KUBE-NODEPORTS…). */
export interface OwnSharedRule {
  table: 'nat' | 'filter';
  chain: string;
  line: string;
  /** ruleKey: the destination and port it is tied to. */
  key?: string;
}

/**
 * kube-proxy's rules for `sp` in shared chains (nat KUBE-SERVICES and KUBE-NODEPORTS, filter
 * KUBE-SERVICES, KUBE-EXTERNAL-SERVICES, KUBE-PROXY-FIREWALL, KUBE-NODEPORTS) when every
 * per-service chain kube-proxy writes for it (KUBE-SVC/SVL/EXT/FW/SEP) is in the nat table of
 * `dump` with exactly the expected rules; undefined when one differs or is missing. Whether
 * the shared rules are in place is for the caller to look up.
 */
export function expectedSharedRules(
  dump: IptablesDump,
  sp: ProxyServicePort,
  ctx: ServicePortRenderContext,
  verified?: VerifiedServicePorts,
): OwnSharedRule[] | undefined {
  const nat = dump.tables.get('nat');
  // Each chain is read once (a large dump has 200,000 of them).
  const seen = new Map<string, string | null>();
  const textOf: ChainText = (name) => {
    let text = seen.get(name);
    if (text === undefined) {
      if (nat?.chainText) text = nat.chainText(name) ?? null;
      else {
        const chain = nat?.chains.get(name);
        text = chain ? chainRuleTexts(chain).join('\n') : null;
      }
      seen.set(name, text);
    }
    return text ?? undefined;
  };
  const memoKey = verified && nodeIndependent(sp) ? `${sp.spn}\u0000${sp.protocol}` : undefined;
  const known = memoKey === undefined ? undefined : verified?.get(memoKey);
  if (known && chainsHash(known.chains.split(' '), textOf) === known.hash) return known.own;
  const expected = servicePortIptablesRules(sp, ctx, endpointChainsInDump(textOf, sp));
  // The same text is the same rules; where a chain's text differs its rules are compared one by
  // one (iptables-save's spelling). The first comparison reads no chain the second would not.
  if (!sameTexts(expected, textOf) && !sameRules(expected, textOf)) return undefined;
  const own = (table: 'nat' | 'filter', line: string): OwnSharedRule => ({
    table,
    chain: lineChain(line),
    line,
    // kube-proxy's KUBE-SERVICES lines are keyed by their text, as the evaluator keys them.
    key: textKey(line) ?? ruleKey(parseRuleLine(line, table)),
  });
  const result = [
    ...expected.services.map((l) => own('nat', l)),
    ...expected.nodePorts.map((l) => own('nat', l)),
    ...expected.filter.map((l) => own('filter', l)),
  ];
  if (memoKey !== undefined && !known) {
    const chains = [...new Set(expected.chainOf)];
    const h = chainsHash(chains, textOf);
    // One new string: the names are slices of the dump's text, which they would keep alive.
    if (h !== undefined) verified?.set(memoKey, { chains: chains.join(' '), hash: h, own: result });
  }
  return result;
}

/**
 * Service ports whose per-service chains a dump of one model was found to hold exactly (by
 * expectedSharedRules, for one render context): the chains' names, a hash of their texts, and
 * the port's shared rules. Another node's dump whose chains have the same texts holds them too,
 * when the rules are the node's no more than the other's (nodeIndependent): at 10,000 Services
 * a second node's check reads its chains and compares no rule.
 */
export type VerifiedServicePorts = Map<
  string,
  { /** The chains' names, space-separated. */ chains: string; hash: string; own: OwnSharedRule[] }
>;

/**
 * Whether kube-proxy writes the same rules for `sp` on every node: no local-endpoint chain (the
 * node's own endpoints) and no firewall chain (which may name the node's IP).
 */
function nodeIndependent(sp: ProxyServicePort): boolean {
  return !sp.usesLocalEndpoints && !(sp.loadBalancerIPs.length > 0 && sp.sourceRanges.length > 0);
}

/**
 * SHA-256 of the chains' names and texts, each text after its length (a dump's text may hold
 * any byte: no separator could tell where it ends); undefined when a chain is missing.
 */
function chainsHash(chains: string[], textOf: ChainText): string | undefined {
  const parts: string[] = [];
  for (const name of chains) {
    const text = textOf(name);
    if (text === undefined) return undefined;
    parts.push(name, String(text.length), text);
  }
  return hash('sha256', parts.join('\u0000'));
}

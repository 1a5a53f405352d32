// A parsed iptables-save dump as plain data, every chain read: two readers of one dump (whole,
// lazy, through a chain table) compare equal when they give the same rules, line numbers included.
import { readFileSync } from 'node:fs';
import {
  chainRuleTexts,
  chainTableOf,
  dumpFromChainTable,
  type IptablesDump,
} from '../../src/parsers/iptables-save.js';

/** The demo's kube-proxy dump of demo-worker. */
export const DEMO_IPTABLES = readFileSync('examples/demo/nodes/demo-worker/iptables-save.txt', 'utf8');

export function allRules(dump: IptablesDump) {
  return [...dump.tables.values()].map((t) => ({
    name: t.name,
    chains: [...t.chains.values()].map((c) => ({
      name: c.name,
      policy: c.policy,
      line: c.line,
      texts: chainRuleTexts(c),
      rules: c.rules,
    })),
  }));
}

/**
 * `text` read through its chain table, the table's byte ranges cut from the string itself
 * (byte = char for ASCII); undefined when the dump cannot have a table.
 */
export function dumpViaChainTable(text: string, file = 'f.txt'): IptablesDump | undefined {
  const table = chainTableOf(text, file);
  return table && dumpFromChainTable(table, file, (start, length) => text.slice(start, start + length));
}

// A dump read through its chain table (byte ranges of each chain's lines) gives what the whole
// read gives, chain for chain and rule for rule, line numbers included; a dump the table cannot
// describe gets none; a bad rule is reported with file and line when its chain is read; a file
// that is not the one indexed is refused when a chain is read.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ParseError, UserError } from '../../src/core/errors.js';
import {
  chainRuleTexts,
  chainTableOf,
  type IptablesChain,
  type IptablesDump,
  parseIptablesSave,
} from '../../src/parsers/iptables-save.js';
import { readIndexedDump, writeChainTable } from '../../src/sources/bundle/dump-index.js';
import { BundleWriter } from '../../src/sources/bundle/write.js';
import { allRules, DEMO_IPTABLES as DEMO, dumpViaChainTable } from '../support/iptables-dump.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'knet-chain-table-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The dump of `text` read through its chain table; it must have one. */
function viaTable(text: string): IptablesDump {
  const dump = dumpViaChainTable(text);
  if (!dump) throw new Error('no chain table');
  return dump;
}

const SPLIT = [
  '*nat',
  ':PREROUTING ACCEPT [0:0]',
  ':KUBE-A - [0:0]',
  ':KUBE-B - [0:0]',
  '-A KUBE-A -p tcp -d 10.0.0.1/32 --dport 80 -j KUBE-B',
  '-A KUBE-B -j ACCEPT',
  '-A KUBE-A -m comment --comment "a b" -j RETURN\r',
  '-A UNDECLARED -j ACCEPT',
  ':KUBE-B DROP [0:0]',
  '-A KUBE-A -j DROP',
  'COMMIT',
  '*filter',
  ':KUBE-A - [0:0]',
  '-A KUBE-A -j REJECT',
  'COMMIT',
  '',
].join('\n');

describe('chain table of an iptables-save dump', () => {
  for (const [name, text] of [
    ['the demo dump', DEMO],
    ['CRLF text', DEMO.replace(/\n/g, '\r\n')],
    ['chains split in several runs, undeclared chains, redeclared policies', SPLIT],
  ] as const) {
    it(`gives the whole read’s chains and rules on ${name}`, () => {
      const whole = parseIptablesSave(text, 'f.txt');
      const indexed = viaTable(text);
      expect(indexed.ruleCount).toBe(whole.ruleCount);
      expect(allRules(indexed)).toEqual(allRules(whole));
    });
  }

  for (const [name, text] of [
    ['the demo dump', DEMO],
    ['CRLF text', DEMO.replace(/\n/g, '\r\n')],
    ['chains split in several runs, undeclared chains, redeclared policies', SPLIT],
  ] as const) {
    it(`gives each chain's lines as one text (chainText) on ${name}`, () => {
      const whole = parseIptablesSave(text, 'f.txt');
      const indexed = viaTable(text);
      for (const t of whole.tables.values()) {
        const read = indexed.tables.get(t.name);
        for (const c of t.chains.values())
          expect(read?.chainText?.(c.name)).toBe(chainRuleTexts(c).join('\n'));
        expect(read?.chainText?.('NO-SUCH-CHAIN')).toBeUndefined();
      }
    });
  }

  it('finds every chain of a large table, in any order (past the lookups it bisects for)', () => {
    const names = Array.from({ length: 3000 }, (_, i) => `KUBE-SEP-${String(i * 7919).padStart(16, 'A')}`);
    const text = [
      '*nat',
      ...names.map((n) => `:${n} - [0:0]`),
      ...names.map((n, i) => `-A ${n} -s 10.0.${i >> 8}.${i & 255} -j KUBE-MARK-MASQ`),
      'COMMIT',
      '',
    ].join('\n');
    const chains = viaTable(text).tables.get('nat')?.chains;
    // In order (each found next to the last), then shuffled, then absent names.
    for (const n of [...names, ...names.map((_, i) => names[(i * 1103) % names.length])])
      expect(chains?.get(n)?.name).toBe(n);
    expect(chains?.has('KUBE-SEP-NONE')).toBe(false);
    expect(chains?.get(names[5])?.rules[0].source?.value).toBe('10.0.0.5');
  });

  it('is not made for what byte ranges cannot describe', () => {
    expect(chainTableOf('')).toBeUndefined();
    expect(chainTableOf('*nat\n:A - [0:0]\n-A A -j ACCEPT\n-I A -j DROP\nCOMMIT\n')).toBeUndefined();
    expect(chainTableOf('*nat\n:A - [0:0]\n[1:2] -A A -j ACCEPT\nCOMMIT\n')).toBeUndefined();
    expect(
      chainTableOf('*nat\n:A - [0:0]\n-A A -m comment --comment "é" -j ACCEPT\nCOMMIT\n'),
    ).toBeUndefined();
    expect(chainTableOf('*nat\n:A - [0:0]\n-A A -j ACCEPT\nCOMMIT\n')).toBeDefined();
  });

  it('reports a bad rule with its file and line when its chain is read', () => {
    const text = '*nat\n:A - [0:0]\n:B - [0:0]\n-A B -j ACCEPT\n-A A -j ACCEPT\n-A A -p\nCOMMIT\n';
    const dump = viaTable(text);
    expect(dump.tables.get('nat')?.chains.get('B')?.rules).toHaveLength(1);
    let err: unknown;
    try {
      void dump.tables.get('nat')?.chains.get('A')?.rules;
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParseError);
    expect(String((err as Error).message)).toMatch(/f\.txt.*6|6.*f\.txt/);
  });

  it('is read from the file by byte range, and refused when the file is not the one indexed', () => {
    const file = path.join(tmp, 'iptables-save.txt');
    writeFileSync(file, DEMO);
    expect(writeChainTable(file)).toBe(true);
    const dump = readIndexedDump(file, 'shown.txt');
    expect(dump && allRules(dump)).toEqual(allRules(parseIptablesSave(DEMO, 'shown.txt')));
    // A table that is not one (cut short, other bytes): none (read whole).
    const tableFile = path.join(tmp, 'iptables-save.knet-index.bin');
    const bin = readFileSync(tableFile);
    writeFileSync(tableFile, bin.subarray(0, bin.length - 4));
    expect(readIndexedDump(file, 'shown.txt')).toBeUndefined();
    writeFileSync(tableFile, Buffer.from('not a chain table'));
    expect(readIndexedDump(file, 'shown.txt')).toBeUndefined();
    // A table of the first version (names joined by line breaks, looked up by bisection): none.
    writeFileSync(tableFile, Buffer.concat([Buffer.from('KNETCHT1'), bin.subarray(8)]));
    expect(readIndexedDump(file, 'shown.txt')).toBeUndefined();
    // Parts that do not add up to the file's size: none.
    writeFileSync(tableFile, Buffer.concat([bin, Buffer.alloc(4)]));
    expect(readIndexedDump(file, 'shown.txt')).toBeUndefined();
    writeFileSync(tableFile, bin);
    expect(readIndexedDump(file, 'shown.txt')).toBeDefined();
    // Another size: no table (read whole).
    writeFileSync(file, `${DEMO}\n`);
    expect(readIndexedDump(file, 'shown.txt')).toBeUndefined();
    // The same size, other lines: refused when a chain is read.
    writeFileSync(file, DEMO.replace(/-A KUBE-SERVICES /, '-A KUBE-SERVICEZ '));
    const other = readIndexedDump(file, 'shown.txt');
    expect(other).toBeDefined();
    expect(() => allRules(other as IptablesDump)).toThrow(UserError);
    const readAll = () => {
      for (const t of (other as IptablesDump).tables.values())
        for (const c of t.chains.keys()) t.chainText?.(c);
    };
    expect(readAll).toThrow(UserError);
  });

  it('finds each of thousands of chains by name from the file, by single reads and then read whole', () => {
    const names = Array.from({ length: 3000 }, (_, i) => `KUBE-SVC-${(i * 7919).toString(36).toUpperCase()}`);
    const text = [
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ...names.map((n) => `:${n} - [0:0]`),
      '-A PREROUTING -j KUBE-SVC-0',
      ...names.map((n, i) => `-A ${n} -s 10.0.${i >> 8}.${i & 255}/32 -j RETURN`),
      'COMMIT',
      '',
    ].join('\n');
    const file = path.join(tmp, 'many.txt');
    writeFileSync(file, text);
    expect(writeChainTable(file)).toBe(true);
    const dump = readIndexedDump(file, 'many.txt') as IptablesDump;
    const whole = parseIptablesSave(text, 'many.txt');
    const chains = dump.tables.get('nat')?.chains as Map<string, IptablesChain>;
    const wholeChains = whole.tables.get('nat')?.chains as Map<string, IptablesChain>;
    // Lookups far past the single reads, in an order unlike the file's, and names not there.
    for (let k = 0; k < names.length; k++) {
      const n = names[(k * 1543) % names.length];
      expect(chains.get(n)?.rules, n).toEqual(wholeChains.get(n)?.rules);
      expect(chains.has(`${n}X`)).toBe(false);
    }
    expect(chains.get('PREROUTING')?.rules).toEqual(wholeChains.get('PREROUTING')?.rules);
    expect([...chains.keys()]).toEqual([...wholeChains.keys()]);
  });

  it('is written by the bundle writer next to a node dump it can index, and only then', async () => {
    const dir = path.join(tmp, 'bundle');
    const w = BundleWriter.open(dir);
    const table = path.join(dir, 'nodes', 'n1', 'iptables-save.knet-index.bin');
    w.writeNodeFiles('n1', { 'iptables-save.txt': DEMO, 'pods/ns_p/iptables-save.txt': DEMO });
    expect(existsSync(table)).toBe(true);
    expect(existsSync(path.join(dir, 'nodes', 'n1', 'pods', 'ns_p', 'iptables-save.knet-index.bin'))).toBe(
      false,
    );
    // Rewritten with a dump it cannot index: the old table goes.
    w.writeNodeFiles('n1', {
      'iptables-save.txt': `${DEMO.replace('COMMIT', '-I KUBE-SERVICES -j RETURN\nCOMMIT')}`,
    });
    expect(existsSync(table)).toBe(false);
  });
});

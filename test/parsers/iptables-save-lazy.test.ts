import { describe, expect, it } from 'vitest';
import { ParseError } from '../../src/core/errors.js';
import { parseIptablesSave } from '../../src/parsers/iptables-save.js';
import { allRules, DEMO_IPTABLES as DEMO } from '../support/iptables-dump.js';

function same(text: string) {
  const eager = parseIptablesSave(text, 'f.txt');
  const lazy = parseIptablesSave(text, 'f.txt', { lazy: true });
  expect(lazy.ruleCount).toBe(eager.ruleCount);
  expect(allRules(lazy)).toEqual(allRules(eager));
}

const TRICKY = [
  '*nat',
  ':PREROUTING ACCEPT [0:0]',
  ':KUBE-A - [0:0]',
  ':KUBE-B\t- [0:0]',
  ':POL  DROP',
  '-A KUBE-A -p tcp -d 10.0.0.1/32 --dport 80 -j KUBE-B',
  '-A KUBE-A -m comment --comment "a b" -j RETURN\r',
  '-A KUBE-B -j ACCEPT',
  '-A KUBE-A -j DROP',
  '-I KUBE-A -j LOG',
  '[3:180] -A KUBE-A -s 10.1.0.0/16 -j RETURN',
  '-A KUBE-A  -j MARK --set-xmark 0x4000/0x4000',
  '  -A KUBE-B -j DROP',
  '-A UNDECLARED -j ACCEPT',
  '-A UNDECLARED -j DROP',
  '# a comment',
  '-A KUBE-A -j ACCEPT',
  'COMMIT',
  '*filter',
  ':KUBE-A - [0:0]',
  '-A KUBE-A -j REJECT',
  '-A KUBE-A -j REJECT',
  'COMMIT',
  '',
].join('\n');

describe('lazy iptables-save reader', () => {
  it('gives the eager reader’s chains and rules on the demo dump', () => same(DEMO));
  it('gives them on CRLF text', () => same(DEMO.replace(/\n/g, '\r\n')));
  it('gives them on runs broken by counters, inserts, tabs and other chains', () => same(TRICKY));

  it('keeps the order of -I before the appended run', () => {
    const a = parseIptablesSave(TRICKY, 'f.txt', { lazy: true }).tables.get('nat')!.chains.get('KUBE-A')!;
    expect(a.rules[0].target).toBe('LOG');
    expect(a.rules.map((r) => r.line)).toEqual([10, 6, 7, 9, 11, 12, 17]);
  });

  it('reports a bad rule inside a run with its file and line when its chain is read', () => {
    const text = TRICKY.replace('-A KUBE-A -j DROP', '-A KUBE-A -j DROP --to "unterminated');
    const dump = parseIptablesSave(text, 'nodes/n/iptables-save.txt', { lazy: true });
    // Other chains read fine.
    expect(dump.tables.get('nat')!.chains.get('KUBE-B')!.rules).toHaveLength(2);
    let err: unknown;
    try {
      void dump.tables.get('nat')!.chains.get('KUBE-A')!.rules;
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParseError);
    expect((err as ParseError).message).toMatch(/nodes\/n\/iptables-save\.txt.*9/);
    expect(() => parseIptablesSave(text, 'nodes/n/iptables-save.txt')).toThrow(ParseError);
  });
});

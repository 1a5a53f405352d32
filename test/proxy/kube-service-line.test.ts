// kube-proxy's Service lines keyed by their text (iptables-eval.ts textKey) get the key their tokenized
// rule gets (ruleKey), or none: the chain index built with them is the one built from every rule.
import { describe, expect, it } from 'vitest';
import { renderKubeProxyIptables } from '../../src/analyses/proxy/expected-iptables.js';
import { ruleKey, textKey } from '../../src/analyses/proxy/iptables-eval.js';
import { buildModel } from '../../src/model/build.js';
import { parseRuleLine } from '../../src/parsers/iptables-save.js';
import { readBundle } from '../../src/sources/bundle/read.js';

const key = (line: string) => ruleKey(parseRuleLine(line, 'nat'));

describe('KUBE-SERVICES lines keyed by their text', () => {
  it('key kube-proxy’s rendered lines as their rules are keyed', async () => {
    const bundle = await readBundle('demo');
    const model = buildModel([...bundle.raws]);
    const lines = renderKubeProxyIptables(model, model.nodes[0].name)
      .split('\n')
      .filter((l) => l.startsWith('-A '));
    const keyed = lines.filter((l) => l.startsWith('-A KUBE-SERVICES ') && textKey(l) !== undefined);
    expect(keyed.length).toBeGreaterThan(3);
    expect(lines.filter((l) => textKey(l)?.startsWith('*|')).length).toBeGreaterThan(0);
    for (const l of lines) if (textKey(l) !== undefined) expect(textKey(l), l).toBe(key(l));
  });

  it('leave every other shape to the tokenizer', () => {
    const base =
      '-A KUBE-SERVICES -m comment --comment "a/b:http cluster IP" -m tcp -p tcp -d 10.96.0.1 --dport 80 -j KUBE-SVC-X';
    expect(textKey(base)).toBe('10.96.0.1|tcp|80');
    expect(textKey(base)).toBe(key(base));
    for (const [from, to] of [
      ['-d 10.96.0.1 ', '-d 10.96.0.1/32 '],
      ['-p tcp', '-p udp'],
      ['--dport 80', '--dport 080'],
    ]) {
      const l = base.replace(from, to);
      expect(textKey(l), l).toBe(key(l));
    }
    for (const [from, to] of [
      ['-d 10.96.0.1 ', '-d 010.96.0.1 '],
      ['-d 10.96.0.1 ', '-d 10.96.0.0/16 '],
      ['-p tcp', '-p 6'],
      ['-p tcp', '! -p tcp'],
      ['cluster IP"', 'cluster \\" IP"'],
      ['-j KUBE-SVC-X', '-j KUBE-SVC-X --extra'],
      ['--dport 80', '--dport 80:90'],
      ['-m tcp -p', '-m tcp  -p'],
    ]) {
      expect(textKey(base.replace(from, to)), to).toBeUndefined();
    }
  });

  it('key the node-port lines without an address as the tokenizer does', () => {
    const base =
      '-A KUBE-EXTERNAL-SERVICES -m comment --comment "a/b:http has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30004 -j DROP';
    expect(textKey(base)).toBe('*|tcp|30004');
    for (const [from, to] of [
      ['', ''],
      ['-m addrtype --dst-type LOCAL ', ''],
      ['-m tcp -p tcp --dport', '-m tcp -p tcp -d 10.96.0.1 --dport'],
      ['-p tcp', '-p udp'],
      ['--dport 30004', '--dport 030004'],
      ['-m tcp -p tcp --dport', '-m tcp -p tcp -d 10.96.0.1/32 --dport'],
    ]) {
      const l = base.replace(from, to);
      expect(textKey(l), l).toBe(key(l));
    }
    for (const to of [
      '-m addrtype --dst-type LOCAL,BROADCAST',
      '-m addrtype ! --dst-type LOCAL',
      '-m addrtype --src-type LOCAL',
      '-m addrtype --dst-type LOCAL -m set --match-set X dst',
    ]) {
      expect(textKey(base.replace('-m addrtype --dst-type LOCAL', to)), to).toBeUndefined();
    }
  });
});

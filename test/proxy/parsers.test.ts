// Parsers on real tool output (fixtures captured by capture.test.ts) and on malformed input.
import { describe, expect, it } from 'vitest';
import { optionOf, parseIptablesSave, tokenizeRule } from '../../src/parsers/iptables-save.js';
import { parseNftJson } from '../../src/parsers/nft.js';
import { fixture } from './helpers.js';

describe('iptables-save parser', () => {
  const dump = parseIptablesSave(fixture('iptables-save.scenario.txt'), 'nodes/test-node/iptables-save.txt');
  const nat = dump.tables.get('nat')!;
  const filter = dump.tables.get('filter')!;

  it('reads every table, chain and rule, whatever the table order', () => {
    expect([...dump.tables.keys()].sort()).toEqual(['filter', 'nat']);
    expect(nat.chains.get('PREROUTING')?.policy).toBe('ACCEPT');
    expect(nat.chains.get('KUBE-SERVICES')?.policy).toBeUndefined();
    const lines = fixture('iptables-save.scenario.txt')
      .split('\n')
      .filter((l) => l.startsWith('-A')).length;
    expect(dump.ruleCount).toBe(lines);
  });

  it('parses generic options, matches, negations and quoted comments', () => {
    const r = nat.chains.get('KUBE-SVC-XPGD46QRK7WJZT7O')!.rules[0];
    expect(r.destination).toEqual({ negated: false, value: '172.30.0.41/32' });
    expect(r.source).toEqual({ negated: true, value: '10.0.0.0/8' });
    expect(r.protocol?.value).toBe('tcp');
    expect(r.comment).toBe('ns1/svc1:p80 cluster IP');
    expect(optionOf(r, 'tcp', 'dport')?.values).toEqual(['80']);
    expect(r.target).toBe('KUBE-MARK-MASQ');
    expect(r.line).toBeGreaterThan(0);
    expect(r.unknown).toEqual([]);
  });

  it('reads statistic probabilities as iptables-save prints them', () => {
    const svc = nat.chains.get('KUBE-SVC-TCOU7JCQXEZGVUNU')!.rules;
    const probs = svc.map((r) => optionOf(r, 'statistic', 'probability')?.values[0]);
    expect(probs).toEqual([undefined, '0.33333333349', '0.50000000000', undefined]);
  });

  it('reads target options (DNAT, MARK, REJECT, recent)', () => {
    const sep = nat.chains.get('KUBE-SEP-I77PXRDZVX7PMWMN')!.rules[1];
    expect(sep.target).toBe('DNAT');
    expect(sep.targetOptions).toEqual([
      { name: 'to-destination', negated: false, values: ['10.180.0.3:80'] },
    ]);
    expect(optionOf(sep, 'recent', 'set')).toBeDefined();
    expect(nat.chains.get('KUBE-MARK-MASQ')!.rules[0].targetOptions[0]).toMatchObject({
      name: 'set-xmark',
      values: ['0x4000/0x4000'],
    });
    const reject = filter.chains.get('KUBE-SERVICES')!.rules[0];
    expect(reject.target).toBe('REJECT');
    const ct = filter.chains.get('KUBE-FIREWALL')!.rules[0];
    expect(optionOf(ct, 'conntrack', 'ctstate')).toEqual({
      name: 'ctstate',
      negated: true,
      values: ['RELATED,ESTABLISHED,DNAT'],
    });
  });

  it('keeps a rule with no target (KUBE-FW catch-all) and unknown matches', () => {
    const fw = nat.chains.get('KUBE-FW-NUKIZ6OKUXPJNT4C')!.rules;
    expect(fw[fw.length - 1].target).toBeUndefined();
    const d = parseIptablesSave(
      '*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -m physdev --physdev-is-bridged -m hashlimit --hashlimit-upto 5/sec -j DROP\nCOMMIT\n',
    );
    expect(d.tables.get('filter')!.chains.get('FORWARD')!.rules[0].unknown).toEqual(['-m hashlimit']);
  });

  it('parses iptables -S output (no table header) like iptables-save', () => {
    const s = parseIptablesSave(fixture('iptables-S-nat.scenario.txt'), 'nat.txt', { defaultTable: 'nat' });
    const t = s.tables.get('nat')!;
    expect(t.chains.get('POSTROUTING')?.policy).toBe('ACCEPT');
    expect(t.chains.get('KUBE-SERVICES')!.rules.map((r) => r.text)).toEqual(
      nat.chains.get('KUBE-SERVICES')!.rules.map((r) => r.text),
    );
  });

  it('handles nfacct double spaces, counters and escaped quotes', () => {
    const text = [
      '*filter',
      ':KUBE-FORWARD - [0:0]',
      '-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name  ct_state_invalid_dropped_pkts -j DROP',
      '[5:300] -A KUBE-FORWARD -m comment --comment "say \\"hi\\"" -j ACCEPT',
      'COMMIT',
    ].join('\n');
    const rules = parseIptablesSave(text).tables.get('filter')!.chains.get('KUBE-FORWARD')!.rules;
    expect(optionOf(rules[0], 'nfacct', 'nfacct-name')?.values).toEqual(['ct_state_invalid_dropped_pkts']);
    expect(rules[1].comment).toBe('say "hi"');
    expect(tokenizeRule('-m comment --comment "a b" -j X')).toEqual([
      '-m',
      'comment',
      '--comment',
      'a b',
      '-j',
      'X',
    ]);
  });

  it('reports malformed input with file and line', () => {
    expect(() =>
      parseIptablesSave(
        '*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -m comment --comment "open\nCOMMIT\n',
        'n/x.txt',
      ),
    ).toThrow('n/x.txt:3: unterminated quoted string');
    expect(() => parseIptablesSave('*nat\n-A KUBE-SERVICES bogus\n', 'f')).toThrow(
      'f:2: unexpected token "bogus"',
    );
    expect(() => parseIptablesSave('*nat\n-Z KUBE\n', 'f')).toThrow('f:2: unknown command -Z');
    expect(() => parseIptablesSave('hello\n', 'f')).toThrow('f:1: unexpected line');
  });
});

describe('nft -j parser', () => {
  const rs = parseNftJson(fixture('nft.scenario.json'), 'nodes/test-node/nft.json');
  const kp = rs.tables.find((t) => t.family === 'ip' && t.name === 'kube-proxy')!;

  it('reads tables, base chains, sets and maps', () => {
    expect(rs.version).toBe('1.0.6');
    expect(kp.chains.get('filter-prerouting-pre-dnat')).toMatchObject({
      type: 'filter',
      hook: 'prerouting',
      prio: -110,
    });
    expect(kp.chains.get('nat-postrouting')).toMatchObject({
      type: 'nat',
      hook: 'postrouting',
      prio: 100,
      policy: 'accept',
    });
    const sips = kp.sets.get('service-ips')!;
    expect(sips.isMap).toBe(true);
    expect(sips.type).toEqual(['ipv4_addr', 'inet_proto', 'inet_service']);
    expect(sips.exact.get('172.30.0.41 . tcp . 80')?.value).toEqual({
      goto: { target: 'service-ULMVA6XW-ns1/svc1/tcp/p80' },
    });
  });

  it('keeps element comments and verdicts', () => {
    const noep = kp.sets.get('no-endpoint-services')!;
    expect(noep.exact.get('172.30.0.46 . tcp . 80')).toMatchObject({
      comment: 'ns6/svc6:p80',
      value: { goto: { target: 'reject-chain' } },
    });
  });

  it('reads rules with comments and renders readable evidence', () => {
    const r = kp.chains.get('cluster-ips-check')!.rules[0];
    expect(r.comment).toBe('Reject traffic to invalid ports of ClusterIPs');
    expect(r.text).toContain('ip daddr @cluster-ips reject');
    const ng = kp.chains.get('service-LAUZTJTB-ns4/svc4/tcp/p80')!.rules[1];
    expect(ng.text).toContain('numgen random mod 2 vmap');
  });

  it('reports bad JSON and wrong shapes with the file', () => {
    expect(() => parseNftJson('{"nftables": [', 'nodes/n/nft.json')).toThrow(
      /^nodes\/n\/nft\.json:1: invalid JSON/,
    );
    expect(() => parseNftJson('{"foo": 1}', 'x.json')).toThrow('x.json:1: expected {"nftables": [...]}');
  });
});

// candidateRules finds a long chain's rules for one packet by searching the chain's text for the
// destination address: it must give the rules a key of every rule would give (textKey, else
// ruleKey: the packet's own key, "*" for its port, or none), in chain order, with their lines,
// whichever way the dump was read.
import { describe, expect, it } from 'vitest';
import {
  candidateRules,
  packetKeys,
  ruleKey,
  textKey,
  type WalkState,
} from '../../src/analyses/proxy/iptables-eval.js';
import {
  chainRuleTexts,
  type IptablesChain,
  type IptablesDump,
  parseIptablesSave,
} from '../../src/parsers/iptables-save.js';
import { dumpViaChainTable } from '../support/iptables-dump.js';

const svc = (ip: string, port: number, proto = 'tcp', target = 'KUBE-SVC-X') =>
  `-A KUBE-SERVICES -m comment --comment "ns/s:p cluster IP" -m ${proto} -p ${proto} -d ${ip} --dport ${port} -j ${target}`;

const LINES = [
  svc('10.0.0.1', 80),
  svc('10.0.0.12', 80),
  svc('10.0.0.1', 443),
  svc('10.0.0.1', 53, 'udp'),
  svc('10.0.0.1/32', 80, 'tcp', 'KUBE-SVC-Y'),
  '-A KUBE-SERVICES -m comment --comment "ns/s:p node port" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 80 -j KUBE-NODEPORTS',
  '-A KUBE-SERVICES -m comment --comment "mentions -d 10.0.0.1 --dport 80" -m tcp -p tcp -d 10.0.0.2 --dport 80 -j KUBE-SVC-Z',
  '-A KUBE-SERVICES -p tcp -d 10.0.0.1/32 --dport 80 -j KUBE-SVC-P',
  '-A KUBE-SERVICES -d 10.0.0.0/24 -j KUBE-MARK-MASQ',
  svc('010.0.0.1', 80),
  svc('10.0.0.1', 8080),
  '-A KUBE-SERVICES -m comment --comment "ns/s:p cluster IP" -m tcp -p tcp -d fd00::1/128 --dport 80 -j KUBE-SVC-6',
  ...Array.from({ length: 30 }, (_, i) => svc(`10.1.${i}.${i + 1}`, 80 + (i % 3))),
  '-A KUBE-SERVICES -m comment --comment "last" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
];

/** The dump: KUBE-SERVICES broken into two runs by another chain's line, as a dump read whole may be. */
function dumpText(crlf: boolean): string {
  const lines = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-OTHER - [0:0]',
    '-A PREROUTING -j KUBE-SERVICES',
    ...LINES.slice(0, 20),
    '-A KUBE-OTHER -j RETURN',
    ...LINES.slice(20),
    'COMMIT',
    '',
  ];
  return lines.join(crlf ? '\r\n' : '\n');
}

function readers(text: string): [string, IptablesDump][] {
  const out: [string, IptablesDump][] = [
    ['eager', parseIptablesSave(text, 'f.txt')],
    ['lazy', parseIptablesSave(text, 'f.txt', { lazy: true })],
  ];
  const viaTable = dumpViaChainTable(text);
  if (viaTable) out.push(['table', viaTable]);
  return out;
}

function packet(dst: string, dport: number, proto: 'tcp' | 'udp' = 'tcp'): WalkState {
  return { src: '10.2.0.5', dst, dport, proto, mark: 0, weight: 1, masquerade: false };
}

/** The rules every rule's key lets through, from the chain's parsed rules. */
function expected(chain: IptablesChain, st: WalkState) {
  const [exact, any] = packetKeys(st.dst, st.proto, st.dport);
  return chain.rules.filter((r) => {
    const k = textKey(r.text) ?? ruleKey(r);
    return k === undefined || k === exact || k === any;
  });
}

const PACKETS = [
  packet('10.0.0.1', 80),
  packet('10.0.0.1', 443),
  packet('10.0.0.1', 53, 'udp'),
  packet('10.0.0.12', 80),
  packet('10.0.0.2', 80),
  packet('10.1.7.8', 81),
  packet('10.1.7.8', 80),
  packet('fd00::1', 80),
  packet('fd00:0::1', 80),
  packet('192.168.0.1', 80),
];

describe('candidateRules', () => {
  for (const crlf of [false, true])
    for (const [reader, dump] of readers(dumpText(crlf)))
      it(`gives every rule its key lets through (${reader}${crlf ? ', CRLF' : ''})`, () => {
        const chain = dump.tables.get('nat')?.chains.get('KUBE-SERVICES') as IptablesChain;
        expect(chainRuleTexts(chain).length).toBe(LINES.length);
        for (const st of PACKETS) {
          const got = candidateRules(chain, st).map((r) => [r.line, r.text, r.target]);
          const want = expected(chain, st).map((r) => [r.line, r.text, r.target]);
          expect(got, `${st.dst}:${st.dport}`).toEqual(want);
        }
      });

  // Past 32 addresses asked of a chain its lines are grouped by their " -d " word (a node-wide
  // proxy asks for every endpoint): the same rules, the near-miss addresses included.
  for (const [reader, dump] of readers(dumpText(false)))
    it(`gives the same rules once many addresses were asked (${reader})`, () => {
      const chain = dump.tables.get('nat')?.chains.get('KUBE-SERVICES') as IptablesChain;
      const many = [
        ...Array.from({ length: 40 }, (_, i) => packet(`10.9.0.${i + 1}`, 80)),
        ...PACKETS,
        ...Array.from({ length: 30 }, (_, i) => packet(`10.1.${i}.${i + 1}`, 80 + (i % 3))),
        packet('10.0.0.0', 80),
        packet('10.0.0.120', 80),
      ];
      for (const st of many) {
        const got = candidateRules(chain, st).map((r) => [r.line, r.text, r.target]);
        const want = expected(chain, st).map((r) => [r.line, r.text, r.target]);
        expect(got, `${st.dst}:${st.dport}`).toEqual(want);
      }
      expect(candidateRules(chain, packet('10.1.7.8', 81)).map((r) => r.target)).toContain('KUBE-SVC-X');
    });

  it('finds the service lines of the destination only, and the ones without an address', () => {
    const dump = parseIptablesSave(dumpText(false), 'f.txt', { lazy: true });
    const chain = dump.tables.get('nat')?.chains.get('KUBE-SERVICES') as IptablesChain;
    expect(candidateRules(chain, packet('10.0.0.1', 80)).map((r) => r.target)).toEqual([
      'KUBE-SVC-X',
      'KUBE-SVC-Y',
      'KUBE-NODEPORTS',
      'KUBE-SVC-P',
      'KUBE-MARK-MASQ',
      'KUBE-NODEPORTS',
    ]);
  });
});

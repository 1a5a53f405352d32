// IPVS mode: virtual servers from ipvsadm, the IPVS-mode iptables rules captured with
// iptables-save after loading them (with their ipsets) into a namespace, and the outcomes
// that differ from iptables/nftables mode.
import { describe, expect, it } from 'vitest';
import { diagnoseProxyDrift } from '../../src/analyses/proxy/drift.js';
import { loadNodeProxy, simulatePacket } from '../../src/analyses/proxy/simulate.js';
import { parseIpvsadm } from '../../src/parsers/ipvsadm.js';
import { fixture, modelWithFiles, pkt } from './helpers.js';
import { NODE, NODE_IP } from './scenario.js';

const FILES = {
  'iptables-save.txt': fixture('iptables-save.ipvs.txt'),
  'ipvsadm.txt': fixture('ipvsadm.scenario.txt'),
};
const rules = loadNodeProxy(modelWithFiles(FILES), NODE)!;
const iptRules = loadNodeProxy(
  modelWithFiles({ 'iptables-save.txt': fixture('iptables-save.scenario.txt') }),
  NODE,
)!;
const POD = '10.180.0.100';
const EXT = '203.0.113.9';

const eps = (f: ReturnType<typeof simulatePacket>) =>
  f.endpoints.map((e) => [`${e.ip}:${e.port}`, e.probability]);

describe('IPVS mapping', () => {
  it('detects IPVS mode and maps virtual servers to real servers with weights', () => {
    expect(rules.mode).toBe('ipvs');
    const vs = rules.ipvs!.services.find((s) => s.address === '172.30.0.44' && s.port === 80)!;
    expect(vs.scheduler).toBe('rr');
    expect(vs.realServers.map((r) => [r.address, r.port, r.weight, r.forward])).toEqual([
      ['10.180.0.4', 80, 1, 'Masq'],
      ['10.180.0.5', 80, 1, 'Masq'],
    ]);
    expect(rules.ipvs!.services.find((s) => s.address === '5.6.7.8')?.persistent).toBe(10800);
    // one virtual server per node IP for each NodePort, none for localhost
    expect(rules.ipvs!.services.filter((s) => s.port === 3003).map((s) => s.address)).toEqual([NODE_IP]);
  });

  it('ClusterIP: real servers with their weight share; ipsets are said to be derived', () => {
    const f = simulatePacket(rules, pkt('pod', POD, '172.30.0.44:80'));
    expect(f.outcome).toBe('dnat');
    expect(eps(f)).toEqual([
      ['10.180.0.4:80', 0.5],
      ['10.180.0.5:80', 0.5],
    ]);
    expect(f.masquerade).toBe(false);
    expect(f.service).toBe('ns4/svc4:p80');
    expect(f.notes?.join(' ')).toMatch(/KUBE-CLUSTER-IP.*derived from the API/);
    expect(f.evidence.some((l) => l.startsWith('-A -t 172.30.0.44:80'))).toBe(true);
  });

  it('ClusterIP from off-cluster is masqueraded (KUBE-CLUSTER-IP ! -s clusterCIDR)', () => {
    const f = simulatePacket(rules, pkt('external', EXT, '172.30.0.41:80'));
    expect(f.outcome).toBe('dnat');
    expect(f.masquerade).toBe(true);
  });

  it('hairpin is masqueraded through KUBE-LOOP-BACK', () => {
    const f = simulatePacket(rules, pkt('pod', '10.180.0.1', '172.30.0.41:80'));
    expect(f.masquerade).toBe(true);
  });

  it('a virtual server without real servers rejects', () => {
    const f = simulatePacket(rules, pkt('pod', POD, '172.30.0.46:80'));
    expect(f.outcome).toBe('reject');
    expect(f.decidedBy).toBe('kube-proxy');
  });

  it('a VIP on a port that is no service port is rejected by KUBE-IPVS-FILTER', () => {
    const f = simulatePacket(rules, pkt('external', EXT, '172.30.0.41:81'));
    expect(f.outcome).toBe('reject');
    expect(f.decidingRule).toMatch(/KUBE-IPVS-FILTER.*KUBE-IPVS-IPS/);
  });

  it('NodePort (eTP=Cluster) is masqueraded; eTP=Local keeps the source', () => {
    const a = simulatePacket(rules, pkt('external', EXT, `${NODE_IP}:3003`));
    expect([a.outcome, a.masquerade]).toEqual(['dnat', true]);
    const b = simulatePacket(rules, pkt('external', EXT, `${NODE_IP}:3010`));
    expect(eps(b)).toEqual([['10.180.0.10:8080', 1]]);
    expect(b.masquerade).toBe(false);
  });

  it('no localhost NodePorts in IPVS mode', () => {
    expect(simulatePacket(rules, pkt('local', '127.0.0.1', '127.0.0.1:3003')).outcome).toBe('pass');
    expect(simulatePacket(iptRules, pkt('local', '127.0.0.1', '127.0.0.1:3003')).outcome).toBe('dnat');
  });

  it('LB source ranges: others dropped by KUBE-SOURCE-RANGES-FIREWALL, allowed ones persist', () => {
    const bad = simulatePacket(rules, pkt('external', '198.51.100.1', '5.6.7.8:80'));
    expect(bad.outcome).toBe('drop');
    expect(bad.decidedBy).toBe('kube-proxy');
    const good = simulatePacket(rules, pkt('external', '203.0.113.5', '5.6.7.8:80'));
    expect(good.outcome).toBe('dnat');
    expect(good.sessionAffinity).toEqual({ timeoutSeconds: 10800 });
  });

  it('mode difference: eTP=Local without local endpoints falls back to all endpoints (iptables drops)', () => {
    const ipvs = simulatePacket(rules, pkt('external', EXT, '1.2.3.4:80'));
    expect(ipvs.outcome).toBe('dnat');
    expect(eps(ipvs)).toEqual([['10.180.0.2:80', 1]]);
    expect(ipvs.masquerade).toBe(false);
    expect(simulatePacket(iptRules, pkt('external', EXT, '1.2.3.4:80')).outcome).toBe('drop');
  });

  it('mode difference: iTP=Local without local endpoints falls back to all endpoints (iptables drops)', () => {
    const ipvs = simulatePacket(rules, pkt('pod', POD, '172.30.0.47:80'));
    expect(eps(ipvs)).toEqual([['10.180.2.7:80', 1]]);
    expect(simulatePacket(iptRules, pkt('pod', POD, '172.30.0.47:80')).outcome).toBe('drop');
  });

  it('drift: IPVS rules generated from the API show no drift', () => {
    const report = diagnoseProxyDrift(modelWithFiles(FILES), NODE);
    expect(report.dataplane).toBe('ipvs');
    expect(report.findings.map((f) => `${f.code} ${f.objects[0]}`)).toEqual(['PROXY_REJECT svc/ns6/svc6']);
  });

  it('drift: a real server missing from a virtual server is PROXY_ENDPOINT_MISSING', () => {
    const text = fixture('ipvsadm.scenario.txt').replace(
      '-a -t 172.30.0.44:80 -r 10.180.0.5:80 -m -w 1\n',
      '',
    );
    const report = diagnoseProxyDrift(modelWithFiles({ ...FILES, 'ipvsadm.txt': text }), NODE, {
      service: { namespace: 'ns4', name: 'svc4' },
    });
    expect(report.findings.map((f) => f.code)).toEqual(['PROXY_ENDPOINT_MISSING']);
  });

  it('a weight-0 (draining) real server gets no new connections and is not stale', () => {
    const text = fixture('ipvsadm.scenario.txt').replace(
      '-a -t 172.30.0.41:80 -r 10.180.0.1:80 -m -w 1\n',
      '-a -t 172.30.0.41:80 -r 10.180.0.1:80 -m -w 1\n-a -t 172.30.0.41:80 -r 10.180.0.91:80 -m -w 0\n',
    );
    const r = loadNodeProxy(modelWithFiles({ ...FILES, 'ipvsadm.txt': text }), NODE)!;
    expect(eps(simulatePacket(r, pkt('pod', POD, '172.30.0.41:80')))).toEqual([['10.180.0.1:80', 1]]);
  });
});

describe('ipvsadm -Ln (list format, ipvsadm print code)', () => {
  const LN = [
    'IP Virtual Server version 1.2.1 (size=4096)',
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
    'TCP  172.30.0.41:80 rr',
    '  -> 10.180.0.1:80                Masq    1      0          0         ',
    '  -> 10.180.2.1:80                Masq    1      3          1         ',
    'TCP  172.30.0.44:80 rr persistent 10800',
    '  -> 10.180.0.4:80                Masq    1      0          0         ',
    'UDP  [fd00::a]:53 rr',
    '  -> [fd00:10::7]:53              Masq    0      0          0         ',
    '',
  ].join('\n');
  it('parses services, persistence, real servers and counters', () => {
    const d = parseIpvsadm(LN, 'ipvsadm.txt');
    expect(d.services.map((s) => [s.protocol, s.address, s.port, s.persistent ?? null])).toEqual([
      ['TCP', '172.30.0.41', 80, null],
      ['TCP', '172.30.0.44', 80, 10800],
      ['UDP', 'fd00::a', 53, null],
    ]);
    expect(d.services[0].realServers[1]).toMatchObject({
      address: '10.180.2.1',
      weight: 1,
      activeConn: 3,
      inactiveConn: 1,
    });
    expect(d.services[2].realServers[0]).toMatchObject({ address: 'fd00:10::7', weight: 0 });
  });
  it('reports the file and line of a malformed line', () => {
    expect(() => parseIpvsadm('TCP  172.30.0.41:80 rr\n  -> garbage\n', 'nodes/n1/ipvsadm.txt')).toThrow(
      'nodes/n1/ipvsadm.txt:2: unrecognised ipvsadm line',
    );
    expect(() => parseIpvsadm('-a -t 1.2.3.4:80 -r 10.0.0.1:80 -m -w 1\n', 'f')).toThrow(
      'f:1: real server for unknown',
    );
  });
});

// The expected-rules generators: kube-proxy's options and modes, IPv6, and that simulating
// the generated rules gives what kube-proxy's semantics say.
import { describe, expect, it } from 'vitest';
import { renderKubeProxyIptables } from '../../src/analyses/proxy/expected-iptables.js';
import { loadNodeProxy, simulatePacket } from '../../src/analyses/proxy/simulate.js';
import { buildModel } from '../../src/model/build.js';
import { memoryNodeFiles } from '../../src/model/node-files.js';
import { kubeProxyIpvsSetup } from '../support/kube-proxy-ipvs.js';
import { kubeProxyNftScript } from '../support/kube-proxy-nft.js';
import { pkt } from './helpers.js';
import { NODE, node, scenarioModel, service } from './scenario.js';

function v6Model(files?: Record<string, string>) {
  const raws = [
    { ...node(NODE, '2001:db8::2', 'fd00:10:0:1::/64') },
    ...service({ ns: 'v6', name: 'web', clusterIP: 'fd00:96::10', endpoints: [] }),
    {
      kind: 'EndpointSlice',
      metadata: { namespace: 'v6', name: 'web-1', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv6',
      ports: [{ name: 'p80', port: 8080, protocol: 'TCP' }],
      endpoints: [
        { addresses: ['fd00:10:0:1::5'], nodeName: NODE, conditions: { ready: true } },
        { addresses: ['fd00:10:0:2::6'], nodeName: 'other', conditions: { ready: true } },
      ],
    },
  ];
  return buildModel(raws, files ? memoryNodeFiles({ [NODE]: files }) : undefined);
}

describe('renderKubeProxyIptables', () => {
  it('writes kube-proxy restore syntax: unquoted single-word comments, quoted others', () => {
    const text = renderKubeProxyIptables(scenarioModel(), NODE);
    expect(text).toMatch(/^\*filter\n/);
    expect(text).toContain(
      '-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80',
    );
    expect(text).toContain(
      '-A KUBE-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.46 --dport 80 -j REJECT',
    );
    expect(text).toContain(
      '-A KUBE-NODEPORTS -m comment --comment "ns2/svc2:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT',
    );
  });

  it('--masquerade-all and the NoOp detector', () => {
    const all = renderKubeProxyIptables(scenarioModel(), NODE, { masqueradeAll: true });
    expect(all).toContain(
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-MARK-MASQ',
    );
    const noop = renderKubeProxyIptables(scenarioModel(), NODE, { clusterCIDR: '' });
    expect(noop).not.toContain('! -s 10.0.0.0/8');
    expect(noop).not.toContain('pod traffic for');
  });

  it('large-cluster mode (> 1000 endpoints) drops SVC/SEP comments, keeps KUBE-SERVICES ones', () => {
    const eps = Array.from({ length: 1001 }, (_, i) => ({ ip: `10.200.${i >> 8}.${i & 255}`, node: 'x' }));
    const model = buildModel([
      node(NODE, '192.168.0.2', '10.180.0.0/24'),
      ...service({ ns: 'big', name: 'svc', clusterIP: '172.30.1.1', endpoints: eps }),
    ]);
    const text = renderKubeProxyIptables(model, NODE);
    expect(text).toContain('--comment "big/svc:p80 cluster IP"');
    expect(text).not.toContain('--comment big/svc:p80 ');
    expect(text).not.toContain('big/svc:p80 ->');
    expect(text).toMatch(/-m statistic --mode random --probability 0\.0009990010 -j KUBE-SEP-/);
  });

  it('IPv6: ip6tables rules, [ip]:port endpoints, no localhost NodePorts', () => {
    const text = renderKubeProxyIptables(v6Model(), NODE, { family: 6, clusterCIDR: 'fd00:10::/48' });
    expect(text).toContain('-j DNAT --to-destination [fd00:10:0:1::5]:8080');
    expect(text).toContain('-m addrtype --dst-type LOCAL ! -d ::1/128 -j KUBE-NODEPORTS');
    expect(text).not.toContain('KUBE-FIREWALL -m comment');
    const flow = simulatePacket(
      loadNodeProxy(v6Model({ 'ip6tables-save.txt': text }), NODE)!,
      pkt('pod', 'fd00:10:0:1::99', 'fd00:96::10:80'),
    );
    expect(flow.outcome).toBe('dnat');
    expect(flow.endpoints.map((e) => e.ip)).toEqual(['fd00:10:0:1::5', 'fd00:10:0:2::6']);
  });
});

describe('kubeProxyNftScript', () => {
  it('writes kube-proxy nft commands with hashed chain names and numgen', () => {
    const text = kubeProxyNftScript(scenarioModel(), NODE);
    expect(text).toContain('add table ip kube-proxy { comment "rules for kube-proxy" ; }');
    expect(text).toContain(
      'add rule ip kube-proxy service-LAUZTJTB-ns4/svc4/tcp/p80 numgen random mod 2 vmap { 0 : goto endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80 , 1 : goto endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80 }',
    );
    expect(text).toContain(
      'add element ip kube-proxy no-endpoint-services { 172.30.0.46 . tcp . 80 comment "ns6/svc6:p80" : goto reject-chain }',
    );
    expect(text).toContain(
      'add rule ip kube-proxy firewall-HVFWP5L3-ns5/svc5/tcp/p80 ip saddr != { 203.0.113.0/25 } drop',
    );
    expect(text).not.toContain('Drop traffic to unallocated ClusterIPs');
  });
});

describe('kubeProxyIpvsSetup', () => {
  it('sorts virtual servers as ipvsadm does and falls back to all endpoints for Local policies', () => {
    const { ipvsadm, ipset } = kubeProxyIpvsSetup(scenarioModel(), NODE);
    const vs = ipvsadm.split('\n').filter((l) => l.startsWith('-A'));
    // TCP before UDP; 1.2.3.4 and 5.6.7.x sort after 192.168.x (ipvsadm's wrapped compare)
    expect(vs.indexOf('-A -t 192.168.99.33:80 -s rr')).toBeLessThan(vs.indexOf('-A -t 1.2.3.4:80 -s rr'));
    expect(vs[vs.length - 1]).toBe('-A -u 172.30.0.10:53 -s rr');
    expect(ipvsadm).toContain('-A -t 5.6.7.8:80 -s rr -p 10800');
    // svc2 (eTP=Local, endpoint remote): LB VS keeps the remote endpoint
    expect(ipvsadm).toContain('-a -t 1.2.3.4:80 -r 10.180.0.2:80 -m -w 1');
    expect(ipvsadm).toMatch(/-A -t 172\.30\.0\.46:80 -s rr\n-A/);
    expect(ipset).toContain('add KUBE-LOAD-BALANCER-SOURCE-CIDR 5.6.7.8,tcp:80,203.0.113.0/25');
    expect(ipset).toContain('add KUBE-LOAD-BALANCER-SOURCE-IP 5.6.7.12,tcp:443,5.6.7.12');
    expect(ipset).toContain('add KUBE-LOOP-BACK 10.180.0.1,tcp:80,10.180.0.1');
  });
});

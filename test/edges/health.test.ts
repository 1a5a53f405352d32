// Node health checks on bundles built from real captures (test/fixtures/edges/), with the one
// value each test is about changed in the captured `sysctl -a` output.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encapOverhead } from '../../src/analyses/dataplane/encap.js';
import {
  bridgeNfFindings,
  conntrackFindings,
  mtuFindings,
  nodeHealthFindings,
  rpFilterFindings,
} from '../../src/analyses/node-health/health.js';
import { buildModel } from '../../src/model/build.js';
import { memoryNodeFiles } from '../../src/model/node-files.js';
import { rawNode } from '../support/objects.js';
import { egressModel, FIXTURES, mtuModel, type NodeFileMap, readNodeFiles, rpModel } from './models.js';

const egress = () => readNodeFiles(path.join(FIXTURES, 'egress', 'masquerade'));
const codes = (fs: { code: string }[]) => fs.map((f) => f.code);

/** The captured node files with sysctl keys set (value undefined: the key removed). */
function withSysctl(
  files: NodeFileMap,
  node: string,
  values: Record<string, string | undefined>,
): NodeFileMap {
  let text = files[node]['sysctl.txt'];
  for (const [key, value] of Object.entries(values)) {
    const line = new RegExp(`^${key.replace(/\./g, '\\.')} = .*\n`, 'm');
    expect(line.test(text), `${key} is in the capture`).toBe(true);
    text = text.replace(line, value === undefined ? '' : `${key} = ${value}\n`);
  }
  return { ...files, [node]: { ...files[node], 'sysctl.txt': text } };
}

describe('CONNTRACK_TABLE_FULL', () => {
  const at = (count: string) =>
    conntrackFindings(
      egressModel(withSysctl(egress(), 'node-1', { 'net.netfilter.nf_conntrack_count': count })),
      'node-1',
    );

  it('fires at 90 % of nf_conntrack_max and above, with both values as evidence', () => {
    expect(at('235929')).toEqual([]); // 89.99 %
    const near = at('235930');
    expect(codes(near)).toEqual(['CONNTRACK_TABLE_FULL']);
    expect(near[0].message).toContain('90 % full (235930 of 262144');
    expect(near[0].evidence).toEqual([
      'nodes/node-1/sysctl.txt: net.netfilter.nf_conntrack_count = 235930',
      'nodes/node-1/sysctl.txt: net.netfilter.nf_conntrack_max = 262144',
    ]);
    expect(at('262144')[0].message).toContain('is full');
  });

  it('says nothing when a value is missing (conntrack not loaded, or a short sysctl file)', () => {
    expect(
      conntrackFindings(
        egressModel(withSysctl(egress(), 'node-1', { 'net.netfilter.nf_conntrack_count': undefined })),
        'node-1',
      ),
    ).toEqual([]);
    expect(at('2')).toEqual([]);
  });
});

describe('BRIDGE_NF_DISABLED', () => {
  it('fires when bridge-nf-call-iptables = 0 on a node with pods on a bridge and kube-proxy rules', () => {
    const found = bridgeNfFindings(
      egressModel(withSysctl(egress(), 'node-1', { 'net.bridge.bridge-nf-call-iptables': '0' })),
      'node-1',
    );
    expect(codes(found)).toEqual(['BRIDGE_NF_DISABLED']);
    expect(found[0].evidence).toEqual([
      'nodes/node-1/sysctl.txt: net.bridge.bridge-nf-call-iptables = 0',
      'nodes/node-1/ip-link.json: bridge cni0 with 1 veth port(s)',
      'kube-proxy mode: iptables',
    ]);
  });

  it('fires when br_netfilter is not loaded (a full dump without net.bridge.* keys)', () => {
    const files = egress();
    const text = files['node-1']['sysctl.txt']
      .split('\n')
      .filter((l) => !l.startsWith('net.bridge.'))
      .join('\n');
    const model = egressModel({ 'node-1': { ...files['node-1'], 'sysctl.txt': text } });
    const found = bridgeNfFindings(model, 'node-1');
    expect(codes(found)).toEqual(['BRIDGE_NF_DISABLED']);
    expect(found[0].evidence?.[0]).toContain('no net.bridge.* keys (br_netfilter is not loaded)');
    // A short hand-made file without the key says nothing.
    const short = egressModel({
      'node-1': { ...files['node-1'], 'sysctl.txt': 'net.ipv4.ip_forward = 1\n' },
    });
    expect(bridgeNfFindings(short, 'node-1')).toEqual([]);
  });

  it('stays quiet when the value is 1, without a bridge, or without kube-proxy', () => {
    expect(bridgeNfFindings(egressModel(egress()), 'node-1')).toEqual([]);
    const off = withSysctl(egress(), 'node-1', { 'net.bridge.bridge-nf-call-iptables': '0' });
    // No kube-proxy: the rules file without KUBE-SERVICES and no kube-proxy object.
    const noKube = {
      'node-1': {
        ...off['node-1'],
        'iptables-save.txt':
          '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n',
      },
    };
    expect(bridgeNfFindings(egressModel(noKube), 'node-1')).toEqual([]);
    // kube-proxy known from its DaemonSet instead of its rules: fires again.
    const ds = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'kube-proxy', namespace: 'kube-system' },
      spec: { selector: {}, template: { spec: { containers: [] } } },
    };
    expect(codes(bridgeNfFindings(egressModel(noKube, [ds]), 'node-1'))).toEqual(['BRIDGE_NF_DISABLED']);
    // Routed CNI (no bridge with veths): the MTU lab's node-a has cni0 but the rp lab has none.
    const rp = readNodeFiles(path.join(FIXTURES, 'rp-filter', 'strict'));
    const rpOff = withSysctl(rp, 'node-1', { 'net.bridge.bridge-nf-call-iptables': '0' });
    expect(
      bridgeNfFindings(buildModel([rawNode({ name: 'node-1' }), ds], memoryNodeFiles(rpOff)), 'node-1'),
    ).toEqual([]);
  });
});

describe('RP_FILTER_STRICT (captured from a node with two uplinks)', () => {
  const rp = (variant: string) =>
    rpFilterFindings(rpModel(readNodeFiles(path.join(FIXTURES, 'rp-filter', variant))), 'node-1');

  it('fires for strict mode on the uplink that is not the default route', () => {
    const found = rp('strict');
    expect(codes(found)).toEqual(['RP_FILTER_STRICT']);
    expect(found[0].message).toContain('on eth1 (192.168.50.2/24), but its default route leaves by eth0');
    expect(found[0].evidence).toEqual([
      'nodes/node-1/sysctl.txt: net.ipv4.conf.all.rp_filter = 0',
      'nodes/node-1/sysctl.txt: net.ipv4.conf.eth1.rp_filter = 1',
      'nodes/node-1/ip-route.json: default via 172.18.0.1 dev eth0',
      'nodes/node-1/ip-addr.json: eth1 192.168.50.2/24',
      'nodes/node-1/ip-rule.json: no rule sends traffic from 192.168.50.2 to a table whose default route uses eth1',
    ]);
  });

  it('is quiet for loose mode, and when a source rule routes replies back out of the interface', () => {
    expect(rp('loose')).toEqual([]);
    expect(rp('strict-policy-routed')).toEqual([]);
  });

  it('uses max(all, interface): all=1 makes every interface strict', () => {
    const files = withSysctl(readNodeFiles(path.join(FIXTURES, 'rp-filter', 'loose')), 'node-1', {
      'net.ipv4.conf.all.rp_filter': '1',
      'net.ipv4.conf.eth1.rp_filter': '0',
    });
    expect(codes(rpFilterFindings(rpModel(files), 'node-1'))).toEqual(['RP_FILTER_STRICT']);
  });

  it('ignores single-homed nodes (pods behind a bridge are not uplinks)', () => {
    const files = withSysctl(egress(), 'node-1', { 'net.ipv4.conf.all.rp_filter': '1' });
    expect(rpFilterFindings(egressModel(files), 'node-1')).toEqual([]);
  });
});

describe('MTU_MISMATCH (captured from two VXLAN-connected nodes)', () => {
  const mtu = (variant: string, node = 'node-a') =>
    mtuFindings(mtuModel(readNodeFiles(path.join(FIXTURES, 'mtu', variant))), node);

  it('is quiet when pods, VXLAN and underlay agree', () => {
    expect(mtu('consistent')).toEqual([]);
    expect(mtu('consistent', 'node-b')).toEqual([]);
  });

  it('names the pods whose eth0 MTU exceeds what the VXLAN device carries', () => {
    const found = mtu('pod-too-big');
    expect(codes(found)).toEqual(['MTU_MISMATCH']);
    expect(found[0].objects).toEqual(['node/node-a', 'pod/shop/a']);
    expect(found[0].message).toContain(
      'larger than the 1450 bytes the path between nodes carries (flannel.1 carries 1450)',
    );
    expect(found[0].evidence?.[0]).toBe('nodes/node-a/pods/shop_a/ip-addr.json: eth0 mtu 1500');
  });

  it('flags a VXLAN device whose packets no longer fit the underlay, and the pods above the new limit', () => {
    const found = mtu('underlay-too-small');
    expect(codes(found)).toEqual(['MTU_MISMATCH', 'MTU_MISMATCH']);
    expect(found[0].message).toContain(
      'flannel.1 (vxlan, MTU 1450) needs 1500-byte packets on eth0, whose MTU is 1450',
    );
    expect(found[0].hint).toContain('1400');
    expect(found[1].message).toContain('1400 bytes');
  });

  it('checks the CNI config MTU when no pod files are there', () => {
    const files = readNodeFiles(path.join(FIXTURES, 'mtu', 'consistent'));
    const nodeA = Object.fromEntries(Object.entries(files['node-a']).filter(([k]) => !k.startsWith('pods/')));
    nodeA['cni/10-flannel.conflist'] = JSON.stringify({
      name: 'cbr0',
      cniVersion: '0.3.1',
      plugins: [{ type: 'flannel', delegate: { mtu: 1500 } }],
    });
    const found = mtuFindings(mtuModel({ ...files, 'node-a': nodeA }), 'node-a');
    expect(codes(found)).toEqual(['MTU_MISMATCH']);
    expect(found[0].message).toContain('CNI config gives pods an MTU of 1500');
  });

  it('computes the encapsulation overheads', () => {
    expect([
      encapOverhead('vxlan'),
      encapOverhead('vxlan', 6),
      encapOverhead('ipip'),
      encapOverhead('wireguard'),
      encapOverhead('geneve'),
    ]).toEqual([50, 70, 20, 60, 50]);
  });
});

describe('nodeHealthFindings', () => {
  it('runs every check on a node with files, and nothing on one without', () => {
    const files = withSysctl(egress(), 'node-1', {
      'net.netfilter.nf_conntrack_count': '262000',
      'net.bridge.bridge-nf-call-iptables': '0',
    });
    expect(codes(nodeHealthFindings(egressModel(files), 'node-1')).sort()).toEqual([
      'BRIDGE_NF_DISABLED',
      'CONNTRACK_TABLE_FULL',
    ]);
    expect(nodeHealthFindings(egressModel({}), 'node-1')).toEqual([]);
  });

  it('finds nothing wrong on the demo nodes', async () => {
    const { readBundle } = await import('../../src/sources/bundle/read.js');
    const b = await readBundle('demo');
    const model = buildModel(b.raws, b.nodeFiles);
    for (const n of ['demo-control-plane', 'demo-worker', 'demo-worker2'])
      expect(nodeHealthFindings(model, n), n).toEqual([]);
  });
});

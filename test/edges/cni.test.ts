import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cniBridge,
  cniFindings,
  cniIpam,
  cniSummary,
  detectOverlay,
} from '../../src/analyses/node-health/cni.js';
import { ParseError } from '../../src/core/errors.js';
import { buildModel } from '../../src/model/build.js';
import { memoryNodeFiles } from '../../src/model/node-files.js';
import type { Raw } from '../../src/model/normalize.js';
import { isCniConfigFile, parseCniConfig } from '../../src/parsers/cni.js';
import { rawNode, rawPod } from '../support/objects.js';
import { FIXTURES, mtuModel, readNodeFiles } from './models.js';

const cni = (name: string) => readFileSync(path.join(FIXTURES, 'cni', name), 'utf8');
const parse = (name: string) => parseCniConfig(cni(name), name);

describe('parseCniConfig: the files of /etc/cni/net.d', () => {
  it('reads flannel: the chain, and the bridge behind its delegate', () => {
    const c = parse('10-flannel.conflist');
    expect(c).toMatchObject({ format: 'conflist', name: 'cbr0', cniVersion: '0.3.1' });
    expect(c.plugins.map((p) => p.type)).toEqual(['flannel', 'portmap']);
    expect(c.plugins[0].delegate).toMatchObject({
      type: 'bridge',
      hairpinMode: true,
      isDefaultGateway: true,
    });
    expect(c.plugins[1].capabilities).toEqual(['portMappings']);
    expect(cniBridge(c)).toBe('cni0');
    expect(cniIpam(c)).toBeUndefined();
  });

  it('reads host-local ranges: range sets, both families, usePodCidr, the legacy subnet', () => {
    expect(cniIpam(parse('10-containerd-net.conflist'))).toEqual({
      type: 'host-local',
      ranges: [{ subnet: '10.88.0.0/16' }, { subnet: '2001:4860:4860::/64' }],
      routes: ['0.0.0.0/0', '::/0'],
      addresses: [],
    });
    expect(cniIpam(parse('10-canal.conflist'))?.ranges).toEqual([{ subnet: 'usePodCidr' }]);
    const kind = parse('10-kindnet.conflist');
    expect(kind.plugins[0]).toMatchObject({ type: 'ptp', ipMasq: false, mtu: 1500 });
    expect(cniIpam(kind)?.ranges).toEqual([{ subnet: '10.244.1.0/24' }]);
    expect(cniBridge(kind)).toBeUndefined();
  });

  it('reads a single-plugin .conf', () => {
    const c = parse('10-bridge.conf');
    expect(c.format).toBe('conf');
    expect(c.plugins).toHaveLength(1);
    expect(cniBridge(c)).toBe('cnio0');
    expect(cniIpam(c)?.ranges).toEqual([{ subnet: '10.200.1.0/24' }]);
    expect(parse('99-loopback.conf').plugins[0].type).toBe('loopback');
  });

  it('keeps calico-ipam and cilium as they are (addresses come from their daemons)', () => {
    expect(cniIpam(parse('10-calico.conflist'))).toMatchObject({ type: 'calico-ipam', ranges: [] });
    expect(parse('10-calico.conflist').plugins.map((p) => p.type)).toEqual([
      'calico',
      'bandwidth',
      'portmap',
    ]);
    expect(parse('05-cilium.conflist').plugins.map((p) => p.type)).toEqual(['cilium-cni']);
  });

  it('reports malformed files with the file and line', () => {
    const expectError = (name: string, line: number, detail: RegExp) => {
      try {
        parse(name);
        expect.unreachable(`${name} parsed`);
      } catch (err) {
        expect(err).toBeInstanceOf(ParseError);
        expect((err as ParseError).file).toBe(name);
        expect((err as ParseError).line).toBe(line);
        expect((err as ParseError).message).toMatch(detail);
      }
    };
    expectError('broken-trailing-comma.conflist', 10, /invalid JSON/);
    expectError('broken-no-type.conflist', 8, /plugins\[1\] has no "type"/);
    expect(() => parseCniConfig('', 'x.conf')).toThrow(/x\.conf:1: empty/);
    expect(() => parseCniConfig('{"cniVersion":"1.0.0","plugins":[]}', 'y.conflist')).toThrow(
      /"plugins" is empty/,
    );
    expect(() => parseCniConfig('{"plugins":[{"type":"bridge"}]}', 'z.conflist')).toThrow(/no "name"/);
    expect(() => parseCniConfig('[1]', 'a.conf')).toThrow(/JSON object/);
  });

  it('knows which files the runtime loads', () => {
    expect(['10-a.conf', '10-a.conflist', '10-a.json'].every(isCniConfigFile)).toBe(true);
    expect(
      ['calico-kubeconfig', 'kube-flannel.yml', '10-a.conf.bak', '.10-a.conf'].some(isCniConfigFile),
    ).toBe(false);
  });
});

function bundle(
  cniFiles: Record<string, string>,
  opts: { extraNodeFiles?: Record<string, string>; pods?: Raw[]; notReady?: string } = {},
) {
  const node = rawNode({ name: 'node-1', ip: '172.18.0.2', podCIDRs: ['10.244.1.0/24'] });
  if (opts.notReady)
    node.status.conditions = [
      { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: opts.notReady },
    ];
  const files: Record<string, string> = { ...opts.extraNodeFiles };
  for (const [name, text] of Object.entries(cniFiles)) files[`cni/${name}`] = text;
  return buildModel([node, ...(opts.pods ?? [])], memoryNodeFiles({ 'node-1': files }));
}

const collected = readNodeFiles(path.join(FIXTURES, 'egress', 'masquerade'))['node-1'];
const nodeBasics = {
  'ip-addr.json': collected['ip-addr.json'],
  'ip-link.json': collected['ip-link.json'],
  'sysctl.txt': collected['sysctl.txt'],
};
const codes = (fs: { code: string }[]) => fs.map((f) => f.code);

describe('CNI config findings', () => {
  it("CNI_CONFIG_CIDR_MISMATCH: containerd's default 10.88.0.0/16 on a node that owns 10.244.1.0/24", () => {
    const model = bundle(
      { '10-containerd-net.conflist': cni('10-containerd-net.conflist') },
      { pods: [rawPod({ namespace: 'shop', name: 'web', node: 'node-1', ip: '10.88.0.4' })] },
    );
    const found = cniFindings(model, 'node-1');
    expect(codes(found)).toEqual(['CNI_CONFIG_CIDR_MISMATCH']);
    expect(found[0].message).toContain('10.88.0.0/16');
    expect(found[0].evidence).toEqual([
      'nodes/node-1/cni/10-containerd-net.conflist: ipam host-local range 10.88.0.0/16',
      'node node-1 spec.podCIDRs: 10.244.1.0/24',
      '1 pod(s) on the node already have addresses from 10.88.0.0/16: shop/web 10.88.0.4',
    ]);
    // The IPv6 range has no IPv6 podCIDR to compare with: no verdict on it.
    expect(found.every((f) => !f.message.includes('2001:'))).toBe(true);
  });

  it('no mismatch when the range is (inside) the podCIDR, usePodCidr, or assigned at run time', () => {
    for (const file of [
      '10-kindnet.conflist',
      '10-canal.conflist',
      '10-calico.conflist',
      '10-flannel.conflist',
      '05-cilium.conflist',
    ]) {
      expect(cniFindings(bundle({ [file]: cni(file) }), 'node-1'), file).toEqual([]);
    }
    const narrower = cni('10-kindnet.conflist').replace('10.244.1.0/24', '10.244.1.128/25');
    expect(cniFindings(bundle({ '10-kindnet.conflist': narrower }), 'node-1')).toEqual([]);
    const wider = cni('10-kindnet.conflist').replace('10.244.1.0/24', '10.244.0.0/16');
    expect(codes(cniFindings(bundle({ '10-kindnet.conflist': wider }), 'node-1'))).toEqual([
      'CNI_CONFIG_CIDR_MISMATCH',
    ]);
  });

  it('uses the first config in name order, as the runtime does', () => {
    const model = bundle({
      '10-containerd-net.conflist': cni('10-containerd-net.conflist'),
      '05-cilium.conflist': cni('05-cilium.conflist'),
      'calico-kubeconfig': 'apiVersion: v1\n',
    });
    const s = cniSummary(model, 'node-1')!;
    expect(s.config).toBe('nodes/node-1/cni/05-cilium.conflist');
    expect(s.plugins).toEqual(['cilium-cni']);
    expect(s.files).toHaveLength(3);
    expect(s.notes[0]).toContain('ignores nodes/node-1/cni/10-containerd-net.conflist');
    expect(cniFindings(model, 'node-1')).toEqual([]);
  });

  it('CNI_CONFIG_MISSING on a collected node folder without a config; NO_NODE_DATA on a hand-made one', () => {
    const missing = cniFindings(
      bundle(
        {},
        {
          extraNodeFiles: nodeBasics,
          notReady:
            'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
        },
      ),
      'node-1',
    );
    expect(codes(missing)).toEqual(['CNI_CONFIG_MISSING']);
    expect(missing[0].evidence).toEqual([
      'nodes/node-1/cni/: no files',
      'node node-1 Ready=False: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
    ]);
    const onlyOther = cniFindings(bundle({ 'calico-kubeconfig': 'x' }), 'node-1');
    expect(codes(onlyOther)).toEqual(['CNI_CONFIG_MISSING']);
    expect(onlyOther[0].evidence?.[0]).toContain('none of them a .conf, .conflist or .json');
    const handMade = cniFindings(
      bundle({}, { extraNodeFiles: { 'iptables-save.txt': collected['iptables-save.txt'] } }),
      'node-1',
    );
    expect(codes(handMade)).toEqual(['NO_NODE_DATA']);
    // A node without a folder in the bundle: nothing to say.
    expect(cniFindings(buildModel([rawNode({ name: 'node-2' })]), 'node-2')).toEqual([]);
  });

  it('CNI_CONFIG_INVALID names the file and line, and says when it blocks the others', () => {
    const model = bundle({
      '00-broken.conflist': cni('broken-trailing-comma.conflist'),
      '10-flannel.conflist': cni('10-flannel.conflist'),
    });
    const found = cniFindings(model, 'node-1');
    expect(codes(found)).toEqual(['CNI_CONFIG_INVALID']);
    expect(found[0].message).toContain('sorts first');
    expect(found[0].evidence?.[0]).toMatch(/^nodes\/node-1\/cni\/00-broken\.conflist:10: invalid JSON/);
    expect(cniSummary(model, 'node-1')?.config).toBe('nodes/node-1/cni/10-flannel.conflist');
  });
});

describe('CNI summary: plugin chain, bridge, IPAM and overlay', () => {
  it('describes the demo nodes: flannel over a cni0 bridge, host-gw routes', async () => {
    const { readBundle } = await import('../../src/sources/bundle/read.js');
    const b = await readBundle('demo');
    const model = buildModel(b.raws, b.nodeFiles);
    const s = cniSummary(model, 'demo-worker')!;
    expect(s).toMatchObject({
      name: 'cbr0',
      plugins: ['flannel>bridge', 'portmap'],
      bridge: 'cni0',
      mtu: 1500,
      ipam: { source: 'runtime' },
    });
    expect(s.overlay).toMatchObject({ type: 'host-gw', device: 'eth0' });
    expect(s.overlay?.evidence[0]).toMatch(/10\.244\.(0|2)\.0\/24 via 172\.18\.0\.\d dev eth0/);
    for (const n of ['demo-control-plane', 'demo-worker', 'demo-worker2'])
      expect(cniFindings(model, n)).toEqual([]);
  });

  it('finds the VXLAN overlay of the MTU lab from its routes and links', () => {
    const model = mtuModel(readNodeFiles(path.join(FIXTURES, 'mtu', 'consistent')));
    const o = detectOverlay(model, 'node-a');
    expect(o).toMatchObject({ type: 'vxlan', device: 'flannel.1', implementation: 'flannel' });
    expect(o?.evidence).toEqual([
      'nodes/node-a/ip-route.json: 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink',
      'nodes/node-a/ip-link.json: flannel.1 vxlan id 1 dev eth0 dstport 8472 mtu 1450',
    ]);
  });

  it("falls back to flannel's net-conf.json when the node has no link data", () => {
    const model = buildModel([
      rawNode({ name: 'node-1', podCIDRs: ['10.244.1.0/24'] }),
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'kube-flannel-cfg', namespace: 'kube-flannel' },
        data: { 'net-conf.json': '{"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}' },
      },
    ]);
    expect(detectOverlay(model, 'node-1')).toMatchObject({
      type: 'vxlan',
      device: 'flannel.1',
      implementation: 'flannel',
    });
    expect(detectOverlay(buildModel([rawNode({ name: 'node-1' })]), 'node-1')).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { nodeInventory, podInventory } from '../../src/analyses/inventory.js';
import { buildModel } from '../../src/model/build.js';
import { rawNode, rawPod } from '../support/objects.js';

const codes = (fs: { code: string; objects: string[] }[]) =>
  fs.map((f) => `${f.code} ${f.objects.join(' ')}`).sort();

describe('pod inventory findings', () => {
  const nodes = [
    rawNode({ name: 'n1', ip: '172.18.0.2', podCIDRs: ['10.244.1.0/24', 'fd00:10:244:1::/64'] }),
  ];

  it('flags a pod IP outside its node pod CIDR, per address family', () => {
    const model = buildModel([
      ...nodes,
      rawPod({ name: 'ok', node: 'n1', ip: ['10.244.1.5', 'fd00:10:244:1::5'] }),
      rawPod({ name: 'v4-out', node: 'n1', ip: '10.244.2.9' }),
      rawPod({ name: 'v6-out', node: 'n1', ip: ['10.244.1.6', 'fd00:10:244:2::6'] }),
    ]);
    expect(codes(podInventory(model, {}).findings)).toEqual([
      'POD_IP_OUTSIDE_NODE_CIDR pod/default/v4-out node/n1',
      'POD_IP_OUTSIDE_NODE_CIDR pod/default/v6-out node/n1',
    ]);
  });

  it('does not hold hostNetwork pods to the pod CIDR, nor count them as duplicates', () => {
    const model = buildModel([
      ...nodes,
      rawPod({ name: 'hn1', node: 'n1', ip: '172.18.0.2', hostNetwork: true }),
      rawPod({ name: 'hn2', node: 'n1', ip: '172.18.0.2', hostNetwork: true }),
    ]);
    expect(podInventory(model, {}).findings).toEqual([]);
  });

  it('flags two live pods sharing an IP, but not a finished pod that held it', () => {
    const model = buildModel([
      ...nodes,
      rawPod({ name: 'a', node: 'n1', ip: '10.244.1.7' }),
      rawPod({ name: 'b', namespace: 'other', node: 'n1', ip: '10.244.1.7' }),
      rawPod({ name: 'old', node: 'n1', ip: '10.244.1.8', phase: 'Succeeded' }),
      rawPod({ name: 'new', node: 'n1', ip: '10.244.1.8' }),
    ]);
    expect(codes(podInventory(model, {}).findings)).toEqual([
      'POD_IP_DUPLICATE pod/default/a pod/other/b',
      'POD_IP_DUPLICATE pod/other/b pod/default/a',
    ]);
  });

  it('reports no IP, not running, crash-looping and not ready pods', () => {
    const model = buildModel([
      ...nodes,
      rawPod({ name: 'noip', node: 'n1', phase: 'Pending' }),
      rawPod({ name: 'unscheduled', phase: 'Pending' }),
      rawPod({
        name: 'crash',
        node: 'n1',
        ip: '10.244.1.9',
        ready: false,
        containerState: { waiting: { reason: 'CrashLoopBackOff' } },
      }),
      rawPod({ name: 'unready', node: 'n1', ip: '10.244.1.10', ready: false }),
    ]);
    const found = podInventory(model, {}).findings;
    expect(codes(found)).toEqual([
      'POD_NOT_READY pod/default/unready',
      'POD_NOT_RUNNING pod/default/crash',
      'POD_NOT_RUNNING pod/default/noip',
      'POD_NOT_RUNNING pod/default/unscheduled',
      'POD_NO_IP pod/default/noip',
    ]);
    expect(found.find((f) => f.objects[0] === 'pod/default/crash')?.message).toContain('CrashLoopBackOff');
    expect(found.find((f) => f.code === 'POD_NOT_READY')?.severity).toBe('warning');
  });

  it('filters by namespace and node and lists the node pod CIDRs', () => {
    const model = buildModel([
      ...nodes,
      rawNode({ name: 'n2', podCIDRs: ['10.244.2.0/24'] }),
      rawPod({ name: 'a', namespace: 'shop', node: 'n1', ip: '10.244.1.5' }),
      rawPod({ name: 'b', namespace: 'shop', node: 'n2', ip: '10.244.2.5' }),
      rawPod({ name: 'c', namespace: 'other', node: 'n2', ip: '10.244.2.6' }),
    ]);
    const items = podInventory(model, { namespace: 'shop', node: 'n2' }).items;
    expect(items.map((i) => [i.name, i.ip, i.nodePodCIDRs])).toEqual([
      ['b', '10.244.2.5', ['10.244.2.0/24']],
    ]);
  });
});

describe('node inventory findings', () => {
  it('finds overlapping CIDRs without pairing every node', () => {
    const model = buildModel([
      rawNode({ name: 'a', podCIDRs: ['10.244.0.0/16'] }),
      rawNode({ name: 'b', podCIDRs: ['10.244.5.0/24'] }),
      rawNode({ name: 'c', podCIDRs: ['10.245.0.0/24'] }),
      rawNode({ name: 'd', podCIDRs: ['fd00::/64'] }),
      rawNode({ name: 'e', podCIDRs: ['fd00::/120'] }),
    ]);
    expect(codes(nodeInventory(model).findings)).toEqual([
      'NODE_POD_CIDR_OVERLAP node/a node/b',
      'NODE_POD_CIDR_OVERLAP node/d node/e',
    ]);
  });

  it('reports not ready (also Unknown), missing CIDR and an exhausted CIDR with counts', () => {
    const pods = Array.from({ length: 15 }, (_, i) =>
      rawPod({ name: `p${i}`, node: 'small', ip: `10.0.0.${i}` }),
    );
    const model = buildModel([
      rawNode({ name: 'down', podCIDRs: ['10.1.0.0/24'], ready: false }),
      rawNode({ name: 'gone', podCIDRs: ['10.2.0.0/24'], ready: 'Unknown' }),
      rawNode({ name: 'nocidr' }),
      rawNode({ name: 'small', podCIDRs: ['10.0.0.0/28'] }),
      rawPod({ name: 'hn', node: 'small', ip: '172.18.0.9', hostNetwork: true }),
      ...pods,
    ]);
    const { items, findings } = nodeInventory(model);
    expect(codes(findings)).toEqual([
      'NODE_NOT_READY node/down',
      'NODE_NOT_READY node/gone',
      'NODE_NO_POD_CIDR node/nocidr',
      'NODE_POD_CIDR_EXHAUSTED node/small',
    ]);
    expect(items.find((n) => n.name === 'small')).toMatchObject({ podCount: 15, podCapacity: 16 });
    expect(items.find((n) => n.name === 'gone')?.ready).toBeNull();
  });

  it('does not call a CIDR exhausted below 90 %', () => {
    const pods = Array.from({ length: 14 }, (_, i) =>
      rawPod({ name: `p${i}`, node: 'n', ip: `10.0.0.${i}` }),
    );
    const model = buildModel([rawNode({ name: 'n', podCIDRs: ['10.0.0.0/28'] }), ...pods]);
    expect(nodeInventory(model).findings).toEqual([]);
  });
});

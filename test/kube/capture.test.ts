// knet snapshot's steps that choose what --collect-nodes copies (sources/bundle/capture.ts).
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { nodesToCollect, podsToCollect } from '../../src/sources/bundle/capture.js';
import { rawNode, rawPod } from '../support/objects.js';

const withUid = (o: ReturnType<typeof rawPod>, uid: string) => ({ ...o, metadata: { ...o.metadata, uid } });
const raws = [
  rawNode({ name: 'n1', ip: '172.18.0.2', podCIDRs: ['10.244.1.0/24'] }),
  rawNode({ name: 'n2', ip: '172.18.0.3', podCIDRs: ['10.244.2.0/24'] }),
  withUid(rawPod({ name: 'web', namespace: 'shop', node: 'n1', ip: '10.244.1.4' }), 'u1'),
  withUid(rawPod({ name: 'api', namespace: 'shop', node: 'n2', ip: '10.244.2.4' }), 'u2'),
  withUid(
    rawPod({ name: 'proxy', namespace: 'kube-system', node: 'n1', ip: '172.18.0.2', hostNetwork: true }),
    'u3',
  ),
  withUid(
    rawPod({ name: 'done', namespace: 'shop', node: 'n1', ip: '10.244.1.9', phase: 'Succeeded' }),
    'u4',
  ),
  rawPod({ name: 'no-uid', namespace: 'shop', node: 'n1', ip: '10.244.1.7' }),
];

describe('nodesToCollect', () => {
  it('is every node unless some are named', () => {
    expect(nodesToCollect(raws, undefined)).toEqual(['n1', 'n2']);
    expect(nodesToCollect(raws, ['n2'])).toEqual(['n2']);
  });

  it('refuses a node that does not exist, naming the nodes there are', () => {
    expect(() => nodesToCollect(raws, ['n1', 'n9'])).toThrow(UserError);
    expect(() => nodesToCollect(raws, ['n9'])).toThrow('no such node: n9 (nodes: n1, n2)');
  });
});

describe('podsToCollect', () => {
  it('is the running pods with their own network namespace on those nodes', () => {
    expect(podsToCollect(raws, ['n1'])).toEqual([{ namespace: 'shop', name: 'web', node: 'n1', uid: 'u1' }]);
    expect(podsToCollect(raws, ['n1', 'n2']).map((p) => p.name)).toEqual(['web', 'api']);
    expect(podsToCollect(raws, [])).toEqual([]);
  });
});

// knet diff runs the costly checks only where an input changed (src/analyses/diff/scope.ts):
// on each derived demo bundle, the findings that appeared or were resolved are the same as
// with every check run on both sides, and the scope is narrower than everything.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findingKey } from '../../src/analyses/diff/keys.js';
import { diffNodeFiles, diffObjects } from '../../src/analyses/diff/objects.js';
import { changedNodeFiles, changedScope } from '../../src/analyses/diff/scope.js';
import { type DoctorOptions, runDoctor } from '../../src/analyses/doctor.js';
import { buildModel } from '../../src/model/build.js';
import type { ClusterModel } from '../../src/model/cluster.js';
import { readBundle } from '../../src/sources/bundle/read.js';
import { ROOT, writeBundle } from '../support/cli.js';
import { CHANGES } from './derive.js';

async function model(location: string): Promise<ClusterModel> {
  const b = await readBundle(location);
  return buildModel(b.raws, b.nodeFiles);
}

/** The finding keys that appeared and were resolved, with doctor's scope or without. */
function findingDiff(a: ClusterModel, b: ClusterModel, scope: DoctorOptions['scope']) {
  const keys = (m: ClusterModel) => new Set(runDoctor(m, { scope }).findings.map(findingKey));
  const [x, y] = [keys(a), keys(b)];
  return {
    appeared: [...y].filter((k) => !x.has(k)).sort(),
    resolved: [...x].filter((k) => !y.has(k)).sort(),
  };
}

async function scoped(after: string) {
  const [a, b] = [await model('demo'), await model(after)];
  const files = changedNodeFiles(a, b);
  const scope = changedScope(a, b, diffObjects(a, b), files, diffNodeFiles(a, b, files));
  return { a, b, scope };
}

describe('diff scope: findings only where an input changed, the same answer', () => {
  it.each(Object.keys(CHANGES) as (keyof typeof CHANGES)[])('%s', async (name) => {
    const { a, b, scope } = await scoped(CHANGES[name]());
    const full = findingDiff(a, b, undefined);
    expect(findingDiff(a, b, scope)).toEqual(full);
    // Where doctor sees the change, the comparison has something to agree on.
    if (['selectorTypo', 'targetPort', 'proxyRuleDeleted', 'ingressRenamed'].includes(name))
      expect(full.appeared.length + full.resolved.length).toBeGreaterThan(0);
  });

  it('scopes: the changed Service; a node with its rules changed for one Service; a route', async () => {
    const skip = new Set(['pods', 'nodes', 'network policies']);
    expect((await scoped(CHANGES.selectorTypo())).scope).toEqual({
      skip,
      services: new Set(['shop/cart']),
      nodes: new Map(
        ['demo-control-plane', 'demo-worker', 'demo-worker2'].map((n) => [n, new Set(['shop/cart'])]),
      ),
    });
    expect((await scoped(CHANGES.proxyRuleDeleted())).scope).toEqual({
      skip,
      services: new Set(),
      nodes: new Map([['demo-worker', new Set(['shop/cart'])]]),
    });
    expect((await scoped(CHANGES.routeRemoved())).scope).toEqual({
      skip,
      services: new Set(),
      nodes: new Map([['demo-worker', new Set()]]),
    });
  });

  it('no scope when a change may reach every check: a pod relabelled, a shared rule changed', async () => {
    const demoItems = () =>
      JSON.parse(readFileSync(path.join(ROOT, 'examples/demo/cluster.json'), 'utf8')).items;
    const items = demoItems();
    const pod = items.find((o: { kind: string }) => o.kind === 'Pod');
    pod.metadata.labels = { ...pod.metadata.labels, extra: 'x' };
    const relabelled = writeBundle(items, { 'meta.json': JSON.stringify({ base: 'demo' }) });
    expect((await scoped(relabelled)).scope).toBeUndefined();
    const rules = readFileSync(path.join(ROOT, 'examples/demo/nodes/demo-worker/iptables-save.txt'), 'utf8');
    const shared = writeBundle(demoItems(), {
      'meta.json': JSON.stringify({ base: 'demo' }),
      'nodes/demo-worker/iptables-save.txt': rules.replace(
        '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n',
        '',
      ),
    });
    const { a, b, scope } = await scoped(shared);
    expect(scope).toEqual({
      skip: new Set(['pods', 'nodes', 'network policies']),
      services: new Set(),
      nodes: new Map([['demo-worker', undefined]]),
    });
    // A policy changed: its checks run.
    expect((await scoped(CHANGES.policyAdded())).scope?.skip).toEqual(new Set(['pods', 'nodes']));
    expect(findingDiff(a, b, scope)).toEqual(findingDiff(a, b, undefined));
  });
});

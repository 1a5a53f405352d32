// analyses/targets.ts: a target to the object it names, a workload to its pods, and the one
// "not found" answer (with the closest names) every command and analysis gives.
import { describe, expect, it } from 'vitest';
import {
  closeTargets,
  findTarget,
  NOT_FOUND_CODES,
  type ObjectTargetKind,
  podsOfWorkload,
  requireNamespace,
  requireNode,
  resolveEnd,
  resolvePodTargets,
  targetNotFound,
} from '../../src/analyses/targets.js';
import { UserError } from '../../src/core/errors.js';
import { parseTarget, type Target } from '../../src/core/target-grammar.js';
import { buildModel } from '../../src/model/build.js';
import type { ClusterModel } from '../../src/model/cluster.js';
import type { Raw } from '../../src/model/normalize.js';
import { rawNamespace, rawNode, rawPod } from '../support/objects.js';

const GW = 'gateway.networking.k8s.io/v1';
const obj = (apiVersion: string, kind: string, namespace: string, name: string): Raw => ({
  apiVersion,
  kind,
  metadata: { namespace, name },
  spec: {},
});
const svc = (namespace: string, name: string): Raw => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { namespace, name },
  spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', ports: [{ port: 80 }] },
});
/** A pod of a Deployment's ReplicaSet (NAME-HASH), or of a StatefulSet. */
const owned = (
  namespace: string,
  name: string,
  owner: { kind: string; name: string },
  hash?: string,
  ready = true,
) => {
  const p = rawPod({ namespace, name, node: 'node-1', ip: '10.244.1.9', ready });
  p.metadata.ownerReferences = [{ apiVersion: 'apps/v1', controller: true, ...owner }];
  if (hash) p.metadata.labels['pod-template-hash'] = hash;
  return p;
};

function cluster(): ClusterModel {
  return buildModel([
    ...['shop', 'payments', 'quiet', 'default'].map((n) => rawNamespace(n)),
    rawNode({ name: 'node-1', ip: '172.18.0.2' }),
    rawNode({ name: 'node-2', ip: '172.18.0.3' }),
    svc('shop', 'cart'),
    svc('shop', 'catalog'),
    svc('payments', 'cart'),
    svc('default', 'kubernetes'),
    rawPod({ namespace: 'shop', name: 'web-1', node: 'node-1', ip: '10.244.1.4' }),
    rawPod({ namespace: 'payments', name: 'web-1', node: 'node-2', ip: '10.244.2.4' }),
    owned('shop', 'front-7d9f-b', { kind: 'ReplicaSet', name: 'front-7d9f' }, '7d9f', false),
    owned('shop', 'front-7d9f-a', { kind: 'ReplicaSet', name: 'front-7d9f' }, '7d9f'),
    owned('shop', 'db-0', { kind: 'StatefulSet', name: 'db' }),
    obj('networking.k8s.io/v1', 'Ingress', 'shop', 'shop'),
    obj('networking.k8s.io/v1', 'Ingress', 'payments', 'shop'),
    obj(GW, 'HTTPRoute', 'shop', 'store'),
    obj(GW, 'HTTPRoute', 'payments', 'store'),
    obj(GW, 'Gateway', 'shop', 'shop-gateway'),
    // Same kind name, another API group: not a Gateway API object.
    obj('example.com/v1', 'Gateway', 'shop', 'other-gateway'),
  ]);
}

const t = <K extends ObjectTargetKind>(kind: K, namespace: string | undefined, name: string): Target<K> => ({
  kind,
  namespace,
  name,
});

describe('findTarget', () => {
  const model = cluster();
  it.each([
    ['pod/shop/web-1', 'pod', (r: object) => (r as { pod: { namespace: string } }).pod.namespace, 'shop'],
    [
      'svc/payments/cart',
      'svc',
      (r: object) => (r as { service: { namespace: string } }).service.namespace,
      'payments',
    ],
    ['node/node-2', 'node', (r: object) => (r as { node: { name: string } }).node.name, 'node-2'],
    [
      'ing/payments/shop',
      'ing',
      (r: object) => (r as { ingress: { namespace: string } }).ingress.namespace,
      'payments',
    ],
    [
      'httproute/shop/store',
      'httproute',
      (r: object) => (r as { route: { namespace: string } }).route.namespace,
      'shop',
    ],
    [
      'gateway/shop/shop-gateway',
      'gateway',
      (r: object) => (r as { gateway: { name: string } }).gateway.name,
      'shop-gateway',
    ],
    ['ip/10.0.0.1:80', 'ip', (r: object) => (r as { ip: string }).ip, '10.0.0.1'],
  ])('%s', (text, kind, pick, expected) => {
    const r = findTarget(model, parseTarget(text, 'default'));
    expect(r?.kind).toBe(kind);
    expect(pick(r as object)).toBe(expected);
  });

  it('finds nothing in the wrong namespace, for dns/, or for a Gateway of another API group', () => {
    expect(findTarget(model, parseTarget('pod/quiet/web-1', 'default'))).toBeUndefined();
    expect(findTarget(model, parseTarget('svc/cart', 'default'))).toBeUndefined();
    expect(findTarget(model, parseTarget('dns/cart.shop', 'default'))).toBeUndefined();
    expect(findTarget(model, parseTarget('gateway/shop/other-gateway', 'default'))).toBeUndefined();
  });
});

describe('closeTargets', () => {
  const model = cluster();
  it('lists close names of the namespace, closest first, and the same name in other namespaces', () => {
    expect(closeTargets(model, 'svc', 'shop', 'carts')).toEqual({
      close: ['cart'],
      elsewhere: [],
      inNamespace: 2,
    });
    expect(closeTargets(model, 'svc', 'quiet', 'cart')).toEqual({
      close: [],
      elsewhere: ['svc/shop/cart', 'svc/payments/cart'],
      inNamespace: 0,
    });
    expect(closeTargets(model, 'pod', 'shop', 'web-2').close).toEqual(['web-1']);
    expect(closeTargets(model, 'httproute', 'quiet', 'store').elsewhere).toEqual([
      'httproute/shop/store',
      'httproute/payments/store',
    ]);
  });

  it('looks at every node for a node, and at five names at most', () => {
    expect(closeTargets(model, 'node', undefined, 'node-3')).toEqual({
      close: ['node-1', 'node-2'],
      elsewhere: [],
      inNamespace: 2,
    });
    const many = buildModel(Array.from({ length: 8 }, (_, i) => rawNode({ name: `node-${i}` })));
    expect(closeTargets(many, 'node', undefined, 'node-x').close).toEqual([
      'node-0',
      'node-1',
      'node-2',
      'node-3',
      'node-4',
    ]);
  });
});

describe('targetNotFound', () => {
  const model = cluster();
  const message = (target: Target<ObjectTargetKind>, as: 'end' | 'subject') =>
    targetNotFound(model, target, as).message;

  it('names a connection end as trace and policy always have: "No KIND NS/NAME", bare close names', () => {
    expect(message(t('pod', 'shop', 'web-2'), 'end')).toBe('No pod shop/web-2; did you mean web-1?');
    expect(message(t('pod', 'quiet', 'web-1'), 'end')).toBe('No pod quiet/web-1.');
    expect(message(t('svc', 'shop', 'kart'), 'end')).toBe('No service shop/kart; did you mean cart?');
    expect(message(t('node', undefined, 'node-3'), 'end')).toBe(
      'No node node-3; did you mean node-1, node-2?',
    );
    expect(message(t('node', undefined, 'zzzzzzzz'), 'end')).toBe('No node zzzzzzzz.');
  });

  it('names the subject of a diagnosis with refs, the same name elsewhere, and why there is none', () => {
    expect(message(t('svc', 'shop', 'kart'), 'subject')).toBe(
      'Service shop/kart does not exist; did you mean svc/shop/cart?',
    );
    expect(message(t('svc', 'default', 'cart'), 'subject')).toBe(
      'Service default/cart does not exist; did you mean svc/shop/cart, svc/payments/cart?',
    );
    expect(message(t('svc', 'nope', 'zzzzzz'), 'subject')).toBe(
      'Service nope/zzzzzz does not exist (there is no namespace nope)',
    );
    expect(message(t('svc', 'quiet', 'zzzzzz'), 'subject')).toBe(
      'Service quiet/zzzzzz does not exist (namespace quiet has no services)',
    );
    expect(message(t('svc', 'shop', 'zzzzzz'), 'subject')).toBe('Service shop/zzzzzz does not exist');
    expect(message(t('ing', 'shop', 'shopp'), 'subject')).toBe(
      'Ingress shop/shopp does not exist; did you mean ing/shop/shop?',
    );
    expect(message(t('ing', 'quiet', 'shop'), 'subject')).toBe(
      'Ingress quiet/shop does not exist; did you mean ing/shop/shop, ing/payments/shop?',
    );
    expect(message(t('ing', 'quiet', 'zzzzzz'), 'subject')).toBe(
      'Ingress quiet/zzzzzz does not exist (namespace quiet has no Ingresses)',
    );
    expect(message(t('ing', 'shop', 'zzzzzz'), 'subject')).toBe('Ingress shop/zzzzzz does not exist.');
    expect(message(t('httproute', 'shop', 'stor'), 'subject')).toBe(
      'HTTPRoute shop/stor does not exist; did you mean httproute/shop/store?',
    );
    // A route of the same name elsewhere is not offered (as before).
    expect(message(t('httproute', 'quiet', 'store'), 'subject')).toBe(
      'HTTPRoute quiet/store does not exist.',
    );
    expect(message(t('gateway', 'shop', 'shop-gatewy'), 'subject')).toBe(
      'Gateway shop/shop-gatewy does not exist; did you mean shop-gateway?',
    );
  });

  it('carries the code and the object the command checks (failIfMissing), and close names as evidence for a Service', () => {
    const f = targetNotFound(model, t('svc', 'default', 'cart'), 'subject');
    expect(f).toMatchObject({ code: 'SVC_NOT_FOUND', severity: 'error', objects: ['svc/default/cart'] });
    expect(f.evidence).toEqual(['close name: svc/shop/cart', 'close name: svc/payments/cart']);
    expect(targetNotFound(model, t('svc', 'default', 'cart'), 'end').evidence).toBeUndefined();
    expect(targetNotFound(model, t('node', undefined, 'n'), 'end').objects).toEqual(['node/n']);
    // A pod target defaults to the default namespace, as the CLI does.
    expect(targetNotFound(model, t('pod', undefined, 'x'), 'end').objects).toEqual(['pod/default/x']);
  });

  it('gives a code of NOT_FOUND_CODES for every kind', () => {
    const kinds: ObjectTargetKind[] = ['pod', 'svc', 'node', 'ing', 'httproute', 'gateway'];
    const codes = kinds.map((k) => targetNotFound(model, t(k, 'shop', 'zz'), 'subject').code);
    expect(codes).toEqual([
      'POD_NOT_FOUND',
      'SVC_NOT_FOUND',
      'NODE_NOT_FOUND',
      'INGRESS_NOT_FOUND',
      'HTTPROUTE_NOT_FOUND',
      'GATEWAY_NOT_FOUND',
    ]);
    expect([...NOT_FOUND_CODES].sort()).toEqual([...codes].sort());
  });
});

describe('resolveEnd', () => {
  const model = cluster();
  it('resolves a pod or an address, or answers POD_NOT_FOUND', () => {
    const pod = resolveEnd(model, parseTarget('pod/shop/web-1', 'default', ['pod', 'ip']));
    expect('endpoint' in pod && pod.endpoint.kind === 'pod' && pod.endpoint.pod.namespace).toBe('shop');
    expect(resolveEnd(model, parseTarget('ip/10.1.2.3', 'default', ['pod', 'ip']))).toEqual({
      endpoint: { kind: 'ip', ip: '10.1.2.3' },
    });
    const missing = resolveEnd(model, parseTarget('pod/shop/web-2', 'default', ['pod', 'ip']));
    expect('finding' in missing && missing.finding.message).toBe('No pod shop/web-2; did you mean web-1?');
  });
});

describe('resolvePodTargets', () => {
  const model = cluster();
  const resolve = (text: string, opts: { all?: boolean; origin?: string } = {}, m = model) =>
    resolvePodTargets(m, parseTarget(text, 'shop'), opts);

  it('turns a workload into its ready pod first, with a note, or into each pod with all', () => {
    expect(podsOfWorkload(model, 'deploy', 'shop', 'front').map((p) => p.name)).toEqual([
      'front-7d9f-a',
      'front-7d9f-b',
    ]);
    const one = resolve('deploy/front');
    expect(one.targets.map((x) => [x.namespace, x.name, x.workload])).toEqual([
      ['shop', 'front-7d9f-a', undefined],
    ]);
    expect(one.note).toBe(
      'deploy/shop/front → pod/shop/front-7d9f-a (1 of 1 ready pod; --all-pods for each)',
    );
    const all = resolve('rs/front-7d9f', { all: true });
    expect(all.targets.map((x) => x.name)).toEqual(['front-7d9f-a', 'front-7d9f-b']);
    expect(all.note).toBe('rs/shop/front-7d9f: 2 pods');
    expect(resolve('sts/db').targets[0].name).toBe('db-0');
  });

  it('says which workload was meant when one has no pods', () => {
    expect(() => resolve('deploy/frnt', { origin: 'bundle x' })).toThrow(
      new UserError('deploy/shop/frnt not found in bundle x: no pods of it; did you mean deploy/shop/front?'),
    );
  });

  it('points a pod name that lives in other namespaces there, and leaves the rest to the analysis', () => {
    expect(() => resolve('pod/quiet/web-1')).toThrow(
      new UserError(
        'pod/web-1 not found in namespace quiet: did you mean pod/shop/web-1 or pod/payments/web-1? (or -n shop)',
      ),
    );
    // Found, or found nowhere: unchanged (the analysis names the close names).
    expect(resolve('pod/web-1').targets).toEqual([parseTarget('pod/web-1', 'shop')]);
    expect(resolve('pod/nowhere').targets[0].name).toBe('nowhere');
    // A partial read (the trace's path) cannot tell "elsewhere" from "not read".
    const partial = buildModel([rawPod({ namespace: 'shop', name: 'web-1' })], undefined, 'path');
    expect(resolve('pod/quiet/web-1', {}, partial).targets[0].namespace).toBe('quiet');
    // Other kinds pass through.
    expect(resolve('svc/cart').targets).toEqual([parseTarget('svc/cart', 'shop')]);
  });
});

describe('requireNamespace and requireNode', () => {
  const model = cluster();
  it('accept what exists and name the closest otherwise', () => {
    expect(() => requireNamespace(model, 'shop', 'bundle x')).not.toThrow();
    expect(() => requireNamespace(model, 'shopp', 'bundle x')).toThrow(
      new UserError('namespace shopp not found in bundle x: did you mean shop?'),
    );
    expect(() => requireNamespace(model, 'zzzzzzzzzz', 'bundle x')).toThrow(
      /^namespace zzzzzzzzzz not found in bundle x \(namespaces: shop, payments, quiet, default\)$/,
    );
    expect(() => requireNode(model, undefined, 'bundle x')).not.toThrow();
    expect(() => requireNode(model, 'node-1', 'bundle x')).not.toThrow();
    expect(() => requireNode(model, 'node-3', 'bundle x')).toThrow(
      new UserError('node node-3 not found in bundle x: did you mean node-1, node-2?'),
    );
    expect(() => requireNode(model, 'zzzzzzzzzz', 'bundle x')).toThrow(
      /^node zzzzzzzzzz not found in bundle x \(nodes: node-1, node-2\)$/,
    );
  });
});

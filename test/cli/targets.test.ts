import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { explicitNamespace, parseTarget, targetRef } from '../../src/core/target-grammar.js';

describe('parseTarget', () => {
  it.each([
    ['pod/web-1', { kind: 'pod', namespace: 'shop', name: 'web-1' }],
    ['po/other/web-1', { kind: 'pod', namespace: 'other', name: 'web-1' }],
    ['svc/shop/cart:80', { kind: 'svc', namespace: 'shop', name: 'cart', port: 80 }],
    ['service/cart:http', { kind: 'svc', namespace: 'shop', name: 'cart', port: 'http' }],
    ['node/node-1', { kind: 'node', name: 'node-1' }],
    ['ip/10.244.1.5:8080', { kind: 'ip', name: '10.244.1.5', port: 8080 }],
    ['ip/10.244.1.5', { kind: 'ip', name: '10.244.1.5' }],
    ['ip/fd00::5', { kind: 'ip', name: 'fd00::5' }],
    ['ip/[fd00::5]:53', { kind: 'ip', name: 'fd00::5', port: 53 }],
    ['dns/cart.shop:80', { kind: 'dns', name: 'cart.shop', port: 80 }],
    ['ing/shop/front', { kind: 'ing', namespace: 'shop', name: 'front' }],
    ['httproutes/store', { kind: 'httproute', namespace: 'shop', name: 'store' }],
    ['gtw/edge/main', { kind: 'gateway', namespace: 'edge', name: 'main' }],
    ['Gateway/main', { kind: 'gateway', namespace: 'shop', name: 'main' }],
    // Workloads are pod targets, resolved to one of their pods by the command (issue #20).
    ['deploy/web', { kind: 'pod', workload: 'deploy', namespace: 'shop', name: 'web' }],
    ['deployment/payments/api', { kind: 'pod', workload: 'deploy', namespace: 'payments', name: 'api' }],
    ['sts/db:5432', { kind: 'pod', workload: 'sts', namespace: 'shop', name: 'db', port: 5432 }],
    ['daemonset/kube-system/canal', { kind: 'pod', workload: 'ds', namespace: 'kube-system', name: 'canal' }],
    ['rs/web-5d8f', { kind: 'pod', workload: 'rs', namespace: 'shop', name: 'web-5d8f' }],
  ])('%s', (text, expected) => {
    expect(parseTarget(text, 'shop')).toMatchObject(expected);
  });

  it.each([
    'web-1',
    'cm/web',
    'job/web',
    'pod/a/b/c',
    'ip/10.0.0.300',
    'ip/host.example',
    'node/a:80',
    'pod//x',
    'gateway/shop/gw:80',
    // Only the tables' own keys are kinds.
    'constructor/x',
    '__proto__/x',
  ])('rejects %s with the accepted forms', (text) => {
    expect(() => parseTarget(text, 'default')).toThrow(UserError);
  });

  it('restricts kinds when asked', () => {
    expect(() => parseTarget('node/n1', 'default', ['pod', 'ip'])).toThrow(/not accepted here/);
  });
});

describe('explicitNamespace', () => {
  it.each([
    ['pod/shop/web-1', 'shop'],
    ['svc/payments/api:https', 'payments'],
    ['deployment/shop/front', 'shop'],
    ['httproute/edge/store', 'edge'],
    ['gtw/edge/main', 'edge'],
    ['ING/shop/shop', 'shop'],
    ['pod/web-1', undefined],
    ['node/a/b', undefined],
    ['ip/10.0.0.1', undefined],
    ['dns/a/b', undefined],
    ['cm/shop/x', undefined],
    ['constructor/shop/x', undefined],
  ])('%s → %s', (text, expected) => {
    expect(explicitNamespace(text)).toBe(expected);
  });
});

describe('targetRef', () => {
  it('names an object as findings do, without a namespace for cluster-scoped kinds', () => {
    expect(targetRef({ kind: 'svc', namespace: 'shop', name: 'cart' })).toBe('svc/shop/cart');
    expect(targetRef({ kind: 'node', namespace: 'shop', name: 'n1' })).toBe('node/n1');
    expect(targetRef({ kind: 'pod', name: 'x' })).toBe('pod/x');
  });
});

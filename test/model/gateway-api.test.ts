// The Gateway API kinds in the model: normalized with the API's defaults and indexed, and only
// those of gateway.networking.k8s.io (Istio's Gateway stays a generic object).
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/model/build.js';

const G = 'gateway.networking.k8s.io/v1';

const route = {
  apiVersion: G,
  kind: 'HTTPRoute',
  metadata: { namespace: 'shop', name: 'store' },
  spec: {
    parentRefs: [
      { name: 'web' },
      { name: 'web', sectionName: 'https' },
      { name: 'edge', namespace: 'infra' },
    ],
    hostnames: ['store.example.com'],
    rules: [
      { backendRefs: [{ name: 'web', port: 80 }] },
      {
        matches: [{ path: { type: 'Exact', value: '/pay' }, headers: [{ name: 'x', value: '1' }] }, {}],
        backendRefs: [{ name: 'pay', namespace: 'payments', port: 443, weight: 3 }],
      },
    ],
  },
  status: {
    parents: [
      { parentRef: { name: 'web' }, conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }] },
    ],
  },
};

const objects = [
  route,
  { ...route, metadata: { namespace: 'shop', name: 'other' }, spec: { parentRefs: [{ name: 'web' }] } },
  {
    apiVersion: G,
    kind: 'Gateway',
    metadata: { namespace: 'shop', name: 'web' },
    spec: {
      gatewayClassName: 'eg',
      listeners: [
        { name: 'http', port: 80 },
        {
          name: 'https',
          port: 443,
          protocol: 'HTTPS',
          hostname: '*.example.com',
          allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { team: 'shop' } } } },
        },
      ],
    },
    status: { addresses: [{ value: '203.0.113.7' }, { value: '' }] },
  },
  { apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { namespace: 'shop', name: 'istio' } },
  {
    apiVersion: G,
    kind: 'GatewayClass',
    metadata: { name: 'eg' },
    spec: { controllerName: 'gateway.envoyproxy.io/gatewayclass-controller' },
  },
  {
    apiVersion: 'gateway.networking.k8s.io/v1beta1',
    kind: 'ReferenceGrant',
    metadata: { namespace: 'payments', name: 'from-shop' },
    spec: {
      from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'shop' }],
      to: [{ kind: 'Service' }],
    },
  },
];

describe('Gateway API kinds in the model', () => {
  const m = buildModel(objects);

  it('takes the kinds of gateway.networking.k8s.io only', () => {
    expect(m.gateways.map((g) => g.name)).toEqual(['web']);
    expect(m.others.map((o) => `${o.kind}/${o.name}`)).toEqual(['Gateway/istio']);
    expect(m.gatewayClass('eg')?.controller).toBe('gateway.envoyproxy.io/gatewayclass-controller');
  });

  it('applies the API defaults to a Gateway', () => {
    const gw = m.gateway('shop', 'web')!;
    expect(gw.addresses).toEqual(['203.0.113.7']);
    expect(gw.listeners.map((l) => [l.name, l.protocol, l.allowedFrom, l.hostname])).toEqual([
      ['http', 'HTTP', 'Same', undefined],
      ['https', 'HTTPS', 'Selector', '*.example.com'],
    ]);
    expect(gw.listeners[1].allowedSelector.matchLabels).toEqual({ team: 'shop' });
  });

  it('applies the API defaults to an HTTPRoute and keeps references as written', () => {
    const r = m.httpRoute('shop', 'store')!;
    expect(r.parentRefs.map((p) => [p.kind, p.namespace, p.name, p.sectionName])).toEqual([
      ['Gateway', 'shop', 'web', undefined],
      ['Gateway', 'shop', 'web', 'https'],
      ['Gateway', 'infra', 'edge', undefined],
    ]);
    expect(r.parentRefs[2].written).toBe('{"name":"edge","namespace":"infra"}');
    expect(r.rules[0].matches).toEqual([]);
    expect(r.rules[1].matches[1].path).toEqual({ type: 'PathPrefix', value: '/' });
    expect(r.rules[1].matches[0].headers).toEqual([{ name: 'x', type: 'Exact', value: '1' }]);
    const b = r.rules[1].backendRefs[0];
    expect([b.group, b.kind, b.namespace, b.weight]).toEqual(['', 'Service', 'payments', 3]);
    expect(r.rules[0].backendRefs[0]).toMatchObject({ namespace: 'shop', weight: 1, port: 80 });
    expect(r.parents[0].parentRef).toEqual({ namespace: 'shop', name: 'web', sectionName: undefined });
  });

  it('indexes the routes of a Gateway (each once) and the grants of a namespace', () => {
    expect(m.routesOfGateway('shop', 'web').map((r) => r.name)).toEqual(['store', 'other']);
    expect(m.routesOfGateway('infra', 'edge').map((r) => r.name)).toEqual(['store']);
    expect(m.routesOfGateway('shop', 'edge')).toEqual([]);
    expect(m.referenceGrantsIn('payments').map((g) => g.to)).toEqual([
      [{ group: '', kind: 'Service', name: undefined }],
    ]);
  });
});

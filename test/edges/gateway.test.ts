import { describe, expect, it } from 'vitest';
import {
  diagnoseGateway,
  diagnoseHTTPRoute,
  gatewayDoctorFindings,
  httpRouteRequest,
  referenceGrantFor,
} from '../../src/analyses/ingress/gateway.js';
import { buildModel } from '../../src/model/build.js';
import type { Raw } from '../../src/model/normalize.js';
import { rawPod } from '../support/objects.js';
import { rawService, rawSlice, shop } from './builders.js';

const G = 'gateway.networking.k8s.io/v1';
const codes = (fs: { code: string }[]) => fs.map((f) => f.code);

function gatewayClass(
  accepted: boolean | null = true,
  controllerName = 'gateway.envoyproxy.io/gatewayclass-controller',
): Raw {
  return {
    apiVersion: G,
    kind: 'GatewayClass',
    metadata: { name: 'eg' },
    spec: { controllerName },
    status:
      accepted === null
        ? {}
        : {
            conditions: [
              {
                type: 'Accepted',
                status: accepted ? 'True' : 'False',
                reason: accepted ? 'Accepted' : 'InvalidParameters',
              },
            ],
          },
  };
}

function envoyGateway(): Raw[] {
  const ctl = rawPod({
    namespace: 'envoy-gateway-system',
    name: 'envoy-gateway-5d8f-abcde',
    node: 'node-1',
    ip: '10.244.1.30',
    labels: { 'control-plane': 'envoy-gateway' },
  });
  ctl.spec.containers[0].image = 'docker.io/envoyproxy/gateway:v1.2.0';
  const proxyLabels = {
    'gateway.envoyproxy.io/owning-gateway-name': 'web',
    'gateway.envoyproxy.io/owning-gateway-namespace': 'shop',
  };
  const proxy = rawPod({
    namespace: 'envoy-gateway-system',
    name: 'envoy-shop-web-7f9c-xyz12',
    node: 'node-2',
    ip: '10.244.2.30',
    labels: proxyLabels,
  });
  proxy.spec.containers[0].image = 'docker.io/envoyproxy/envoy:distroless-v1.32.0';
  return [
    ctl,
    proxy,
    rawService(
      'envoy-gateway-system',
      'envoy-shop-web',
      [{ name: 'http', port: 80, targetPort: 10080, nodePort: 31000 }],
      proxyLabels,
      { type: 'LoadBalancer', clusterIP: '10.96.0.50', lb: '172.18.255.210' },
    ),
    rawSlice('envoy-gateway-system', 'envoy-shop-web', { name: 'http', port: 10080 }, [
      { ip: '10.244.2.30', ready: true },
    ]),
  ];
}

function gateway(
  listeners: Raw[] = [{ name: 'http', port: 80, protocol: 'HTTP', hostname: '*.example.com' }],
): Raw {
  return {
    apiVersion: G,
    kind: 'Gateway',
    metadata: { name: 'web', namespace: 'shop' },
    spec: { gatewayClassName: 'eg', listeners },
    status: {
      addresses: [{ type: 'IPAddress', value: '172.18.255.210' }],
      conditions: [{ type: 'Programmed', status: 'True' }],
    },
  };
}

function route(name: string, spec: Raw, status?: Raw, namespace = 'shop'): Raw {
  return {
    apiVersion: G,
    kind: 'HTTPRoute',
    metadata: { name, namespace },
    spec,
    ...(status ? { status } : {}),
  };
}

const parent = { name: 'web', sectionName: 'http' };
const store = route('store', {
  parentRefs: [parent],
  hostnames: ['store.example.com'],
  rules: [
    {
      matches: [{ path: { type: 'PathPrefix', value: '/' } }],
      backendRefs: [
        { name: 'web', port: 80, weight: 3 },
        { name: 'api', port: 80, weight: 1 },
      ],
    },
    {
      matches: [{ path: { type: 'Exact', value: '/pay' } }, { path: { type: 'PathPrefix', value: '/pay/' } }],
      backendRefs: [{ name: 'pay', namespace: 'payments', port: 443 }],
    },
    {
      matches: [{ path: { type: 'PathPrefix', value: '/beta' }, headers: [{ name: 'x-beta', value: '1' }] }],
      backendRefs: [{ name: 'api', port: 80 }],
    },
  ],
});

function grant(toName?: string): Raw {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1beta1',
    kind: 'ReferenceGrant',
    metadata: { name: 'shop-to-pay', namespace: 'payments' },
    spec: {
      from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'shop' }],
      to: [{ group: '', kind: 'Service', ...(toName ? { name: toName } : {}) }],
    },
  };
}

const model = (objects: Raw[]) =>
  buildModel([...shop(), gatewayClass(), ...envoyGateway(), gateway(), ...objects]);

describe('diagnoseHTTPRoute: attachment, backends, ReferenceGrants', () => {
  it('walks an accepted route to its Services, with weights and endpoints', () => {
    const d = diagnoseHTTPRoute(model([store, grant()]), 'shop', 'store');
    expect(d.ingress).toMatchObject({ kind: 'HTTPRoute', class: 'eg', addresses: ['172.18.255.210'] });
    expect(d.ingress?.gateways).toEqual([
      {
        namespace: 'shop',
        name: 'web',
        sectionName: 'http',
        port: null,
        listeners: ['http'],
        accepted: null,
        conditions: [],
        addresses: ['172.18.255.210'],
      },
    ]);
    expect(
      d.routes.map((r) => [
        r.path,
        r.pathType,
        `${r.backend.namespace}/${r.backend.service}`,
        r.weight,
        r.endpoints,
        r.status,
      ]),
    ).toEqual([
      ['/', 'PathPrefix', 'shop/web', 0.75, 2, 'ok'],
      ['/', 'PathPrefix', 'shop/api', 0.25, 0, 'broken'],
      ['/pay', 'Exact', 'payments/pay', 1, 1, 'ok'],
      ['/pay/', 'PathPrefix', 'payments/pay', 1, 1, 'ok'],
      ['/beta', 'PathPrefix', 'shop/api', 1, 0, 'broken'],
    ]);
    expect(d.routes[4].conditions).toEqual(['header x-beta = 1']);
    expect(d.controller).toMatchObject({ implementation: 'Envoy Gateway', class: 'eg' });
    // The entry Service is the Gateway's own data plane (labelled with its name), not the controller's.
    expect(d.controller?.services.map((s) => s.name)).toEqual(['envoy-shop-web']);
    expect(codes(d.findings)).toEqual(['SVC_NO_READY_ENDPOINTS']);
  });

  it('GATEWAY_REF_NOT_PERMITTED without a ReferenceGrant (or with one for another Service)', () => {
    for (const extra of [[], [grant('other')]]) {
      const d = diagnoseHTTPRoute(model([store, ...extra]), 'shop', 'store', {
        host: 'store.example.com',
        path: '/pay',
      });
      expect(codes(d.findings)).toEqual(['GATEWAY_REF_NOT_PERMITTED']);
      expect(d.findings[0].objects).toEqual(['httproute/shop/store', 'svc/payments/pay']);
    }
    const m = model([grant('pay')]);
    expect(referenceGrantFor(m, 'shop', 'payments', 'pay')?.name).toBe('shop-to-pay');
    expect(referenceGrantFor(m, 'other', 'payments', 'pay')).toBeUndefined();
  });

  it("quotes the route's status conditions as evidence", () => {
    const withStatus = route('store', store.spec, {
      parents: [
        {
          parentRef: parent,
          controllerName: 'gateway.envoyproxy.io/gatewayclass-controller',
          conditions: [
            { type: 'Accepted', status: 'True', reason: 'Accepted' },
            {
              type: 'ResolvedRefs',
              status: 'False',
              reason: 'RefNotPermitted',
              message: 'Backend ref to Service payments/pay not permitted',
            },
          ],
        },
      ],
    });
    const d = diagnoseHTTPRoute(model([withStatus]), 'shop', 'store');
    expect(d.ingress?.gateways?.[0]).toMatchObject({
      accepted: true,
      conditions: [
        'Accepted=True (Accepted)',
        'ResolvedRefs=False (RefNotPermitted): Backend ref to Service payments/pay not permitted',
      ],
    });
    const f = d.findings.find((x) => x.code === 'GATEWAY_REF_NOT_PERMITTED');
    expect(f?.evidence?.at(-1)).toBe(
      'status: ResolvedRefs=False (RefNotPermitted): Backend ref to Service payments/pay not permitted',
    );
  });

  it('GATEWAY_REFS_UNRESOLVED when the controller says so and knet sees no reason', () => {
    const r = route(
      'r',
      { parentRefs: [parent], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] },
      {
        parents: [
          {
            parentRef: parent,
            conditions: [
              {
                type: 'ResolvedRefs',
                status: 'False',
                reason: 'UnsupportedProtocol',
                message: 'appProtocol kubernetes.io/h2c',
              },
            ],
          },
        ],
      },
    );
    expect(codes(diagnoseHTTPRoute(model([r]), 'shop', 'r').findings)).toEqual(['GATEWAY_REFS_UNRESOLVED']);
  });

  it('INGRESS_BACKEND_NOT_FOUND and INGRESS_BACKEND_PORT_NOT_FOUND for backendRefs', () => {
    const r = route('r', {
      parentRefs: [parent],
      rules: [
        { backendRefs: [{ name: 'wbe', port: 80 }] },
        { matches: [{ path: { value: '/x' } }], backendRefs: [{ name: 'web' }] },
      ],
    });
    expect(codes(diagnoseHTTPRoute(model([r]), 'shop', 'r').findings)).toEqual([
      'INGRESS_BACKEND_NOT_FOUND',
      'INGRESS_BACKEND_PORT_NOT_FOUND',
    ]);
  });

  it('GATEWAY_ROUTE_NOT_ACCEPTED: listener namespaces, hostnames, sectionName, and the status', () => {
    const other = route(
      'o',
      {
        parentRefs: [{ name: 'web', namespace: 'shop' }],
        rules: [{ backendRefs: [{ name: 'pay', port: 443 }] }],
      },
      undefined,
      'payments',
    );
    const d = diagnoseHTTPRoute(model([other]), 'payments', 'o');
    expect(codes(d.findings)).toEqual(['GATEWAY_ROUTE_NOT_ACCEPTED']);
    expect(d.findings[0].message).toContain('allows routes from its own namespace (shop) only');
    expect(d.routes[0].status).toBe('broken');
    // allowedRoutes from Selector admits labelled namespaces.
    const selectorGw = gateway([
      {
        name: 'http',
        port: 80,
        protocol: 'HTTP',
        allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { team: 'payments' } } } },
      },
    ]);
    const m = buildModel([...shop(), gatewayClass(), ...envoyGateway(), selectorGw, other]);
    expect(diagnoseHTTPRoute(m, 'payments', 'o').findings).toEqual([]);

    const wrongHost = route('h', {
      parentRefs: [parent],
      hostnames: ['shop.example.org'],
      rules: [{ backendRefs: [{ name: 'web', port: 80 }] }],
    });
    expect(diagnoseHTTPRoute(model([wrongHost]), 'shop', 'h').findings[0].message).toContain(
      'hostname *.example.com matches none',
    );
    const wrongSection = route('s', {
      parentRefs: [{ name: 'web', sectionName: 'https' }],
      rules: [{ backendRefs: [{ name: 'web', port: 80 }] }],
    });
    expect(diagnoseHTTPRoute(model([wrongSection]), 'shop', 's').findings[0].message).toContain(
      'has no listener named https',
    );
    const rejected = route(
      'x',
      { parentRefs: [parent], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] },
      {
        parents: [
          {
            parentRef: parent,
            conditions: [{ type: 'Accepted', status: 'False', reason: 'NotAllowedByListeners' }],
          },
        ],
      },
    );
    expect(diagnoseHTTPRoute(model([rejected]), 'shop', 'x').findings[0]).toMatchObject({
      code: 'GATEWAY_ROUTE_NOT_ACCEPTED',
      message: expect.stringContaining('Accepted=False (NotAllowedByListeners)'),
    });
  });

  it('GATEWAY_NOT_FOUND and HTTPROUTE_NOT_FOUND', () => {
    const r = route('r', {
      parentRefs: [{ name: 'wbe' }],
      rules: [{ backendRefs: [{ name: 'web', port: 80 }] }],
    });
    const d = diagnoseHTTPRoute(model([r]), 'shop', 'r');
    expect(codes(d.findings)).toEqual(['GATEWAY_NOT_FOUND']);
    expect(d.findings[0].message).toContain('did you mean web?');
    expect(diagnoseHTTPRoute(model([store]), 'shop', 'stor').findings[0]).toMatchObject({
      code: 'HTTPROUTE_NOT_FOUND',
      message: expect.stringContaining('httproute/shop/store'),
    });
  });

  it("INGRESS_CLASS_MISSING and INGRESS_NO_CONTROLLER for the Gateway's class", () => {
    const noClass = buildModel([...shop(), ...envoyGateway(), gateway(), store, grant()]);
    expect(codes(diagnoseHTTPRoute(noClass, 'shop', 'store').findings)).toContain('INGRESS_CLASS_MISSING');
    // A known controller with no running pod.
    const noPods = buildModel([...shop(), gatewayClass(), gateway(), store, grant()]);
    expect(codes(diagnoseHTTPRoute(noPods, 'shop', 'store').findings)).toContain('INGRESS_NO_CONTROLLER');
    // An unknown controller: its Accepted condition decides.
    const unknownOk = buildModel([
      ...shop(),
      gatewayClass(true, 'example.com/gw'),
      gateway(),
      store,
      grant(),
    ]);
    expect(codes(diagnoseHTTPRoute(unknownOk, 'shop', 'store').findings)).not.toContain(
      'INGRESS_NO_CONTROLLER',
    );
    const unknownPending = buildModel([
      ...shop(),
      gatewayClass(null, 'example.com/gw'),
      gateway(),
      store,
      grant(),
    ]);
    expect(codes(diagnoseHTTPRoute(unknownPending, 'shop', 'store').findings)).toContain(
      'INGRESS_NO_CONTROLLER',
    );
  });

  it('INGRESS_PATH_SHADOWED: two rules with the same match', () => {
    const r = route('dup', {
      parentRefs: [parent],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/a' } }],
          backendRefs: [{ name: 'web', port: 80 }],
        },
        {
          matches: [{ path: { type: 'PathPrefix', value: '/a/' } }],
          backendRefs: [{ name: 'api', port: 80 }],
        },
      ],
    });
    const d = diagnoseHTTPRoute(model([r]), 'shop', 'dup');
    expect(codes(d.findings)).toContain('INGRESS_PATH_SHADOWED');
    expect(d.routes[1].problems).toContain('INGRESS_PATH_SHADOWED');
  });

  it('INGRESS_PATH_SHADOWED bites the repeated match only, not its siblings in the rule', () => {
    const r = route('dup', {
      parentRefs: [parent],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/a' } }],
          backendRefs: [{ name: 'web', port: 80 }],
        },
        {
          matches: [
            { path: { type: 'PathPrefix', value: '/b' } },
            { path: { type: 'PathPrefix', value: '/a' } },
          ],
          backendRefs: [{ name: 'web', port: 80 }],
        },
      ],
    });
    const m = model([r]);
    const d = diagnoseHTTPRoute(m, 'shop', 'dup');
    expect(d.routes.map((x) => [x.path, x.problems])).toEqual([
      ['/a', []],
      ['/b', []],
      ['/a', ['INGRESS_PATH_SHADOWED']],
    ]);
    expect(codes(diagnoseHTTPRoute(m, 'shop', 'dup', { path: '/b' }).findings)).toEqual([]);
  });
});

describe('requests through HTTPRoutes and Gateways', () => {
  it('Exact beats the longest prefix; matches with header conditions rank lower', () => {
    const m = model([store, grant()]);
    const pick = (path: string) => {
      const d = diagnoseHTTPRoute(m, 'shop', 'store', { host: 'store.example.com', path });
      return d.request?.routes.map(
        (i) => `${d.routes[i].pathType} ${d.routes[i].path} ${d.routes[i].backend.service}`,
      );
    };
    expect(pick('/pay')).toEqual(['Exact /pay pay']);
    expect(pick('/pay/1')).toEqual(['PathPrefix /pay/ pay']);
    expect(pick('/beta/x')).toEqual(['PathPrefix /beta api']);
    expect(pick('/other')).toEqual(['PathPrefix / web', 'PathPrefix / api']);
    const wrongHost = diagnoseHTTPRoute(m, 'shop', 'store', { host: 'shop.example.com', path: '/' });
    expect(codes(wrongHost.findings)).toEqual(['INGRESS_NO_RULE_MATCH']);
  });

  it('httpRouteRequest: the weighted Services a request reaches', () => {
    const m = model([store, grant()]);
    const r = m.httpRoute('shop', 'store')!;
    expect(
      httpRouteRequest(m, r, { path: '/' }).backends.map((b) => [
        b.service?.name,
        b.port?.port,
        b.rule.weight,
      ]),
    ).toEqual([
      ['web', 80, 0.75],
      ['api', 80, 0.25],
    ]);
  });

  it('diagnoseGateway: every attached route, the request resolved across them', () => {
    const admin = route('admin', {
      parentRefs: [parent],
      hostnames: ['admin.example.com'],
      rules: [{ backendRefs: [{ name: 'api', port: 80 }] }],
    });
    const m = model([store, grant(), admin]);
    const d = diagnoseGateway(m, 'shop', 'web', { host: 'admin.example.com', path: '/' });
    expect(d.ingress).toMatchObject({ kind: 'Gateway', name: 'web', class: 'eg' });
    expect(d.routes).toHaveLength(6);
    expect(d.request?.routes.map((i) => d.routes[i].source)).toEqual([
      'httproute/shop/admin spec.rules[0].backendRefs[0]',
    ]);
    expect(codes(d.findings)).toEqual(['SVC_NO_READY_ENDPOINTS']);
    expect(codes(diagnoseGateway(m, 'shop', 'nope').findings)).toEqual(['GATEWAY_NOT_FOUND']);
  });

  it('gatewayDoctorFindings: route and Gateway findings, per namespace', () => {
    const m = buildModel([...shop(), ...envoyGateway(), gateway(), store]);
    const all = gatewayDoctorFindings(m);
    expect(codes(all).sort()).toEqual(['GATEWAY_REF_NOT_PERMITTED', 'INGRESS_CLASS_MISSING']);
    expect(gatewayDoctorFindings(m, 'payments')).toEqual([]);
  });
});

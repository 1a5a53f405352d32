import { describe, expect, it } from 'vitest';
import {
  diagnoseIngress,
  ingressDoctorFindings,
  ingressRequest,
} from '../../src/analyses/ingress/ingress.js';
import { buildModel } from '../../src/model/build.js';
import type { Raw } from '../../src/model/normalize.js';
import { ingressNginx, rawIngress, rawIngressClass, rawSecret, shop } from './builders.js';

const NGINX = rawIngressClass('nginx', 'k8s.io/ingress-nginx', true);
const codes = (fs: { code: string }[]) => fs.map((f) => f.code);

function model(ingress: Raw, extra: Raw[] = [], withController = true) {
  return buildModel([...shop(), NGINX, ...(withController ? ingressNginx() : []), ingress, ...extra]);
}

const basic = rawIngress('shop', 'web', {
  className: 'nginx',
  rules: [
    {
      host: 'shop.example.com',
      paths: [
        { path: '/', service: 'web', port: 80 },
        { path: '/api', service: 'api', port: 'http' },
      ],
    },
  ],
});

describe('diagnoseIngress: routes, backends and endpoints', () => {
  it('resolves every rule to its Service port and counts the ready endpoints', () => {
    const d = diagnoseIngress(model(basic), 'shop', 'web');
    expect(d.ingress).toEqual({
      kind: 'Ingress',
      namespace: 'shop',
      name: 'web',
      class: 'nginx',
      addresses: [],
    });
    expect(
      d.routes.map((r) => [
        r.host,
        r.path,
        r.pathType,
        r.backend.service,
        r.backend.port,
        r.servicePort,
        r.endpoints,
        r.status,
      ]),
    ).toEqual([
      ['shop.example.com', '/', 'Prefix', 'web', 80, 80, 2, 'ok'],
      ['shop.example.com', '/api', 'Prefix', 'api', 'http', 80, 0, 'broken'],
    ]);
    expect(d.routes[1].problems).toContain('SVC_NO_READY_ENDPOINTS');
    expect(codes(d.findings)).toContain('SVC_NO_READY_ENDPOINTS');
    expect(d.controller).toMatchObject({
      class: 'nginx',
      controller: 'k8s.io/ingress-nginx',
      implementation: 'ingress-nginx',
    });
    expect(d.controller?.pods).toEqual([
      {
        namespace: 'ingress-nginx',
        name: 'ingress-nginx-controller-7b9f6-x2kq9',
        node: 'node-2',
        ip: '10.244.2.20',
        ready: true,
      },
    ]);
    expect(d.controller?.services[0]).toMatchObject({
      name: 'ingress-nginx-controller',
      type: 'LoadBalancer',
      loadBalancerIPs: ['172.18.255.201'],
      nodePorts: [30080],
      externalTrafficPolicy: 'Local',
    });
  });

  it('INGRESS_BACKEND_NOT_FOUND with close names', () => {
    const ing = rawIngress('shop', 'x', {
      className: 'nginx',
      rules: [{ paths: [{ path: '/', service: 'wbe', port: 80 }] }],
    });
    const d = diagnoseIngress(model(ing), 'shop', 'x');
    expect(codes(d.findings)).toEqual(['INGRESS_BACKEND_NOT_FOUND']);
    expect(d.findings[0].message).toContain('Service shop/wbe, which does not exist; did you mean web?');
    expect(d.routes[0]).toMatchObject({ status: 'broken', endpoints: null, servicePort: null });
  });

  it('INGRESS_BACKEND_PORT_NOT_FOUND, with the targetPort confusion named in the hint', () => {
    const ing = rawIngress('shop', 'x', {
      className: 'nginx',
      rules: [
        {
          paths: [
            { path: '/', service: 'api', port: 9000 },
            { path: '/b', service: 'web', port: 'https' },
          ],
        },
      ],
    });
    const d = diagnoseIngress(model(ing), 'shop', 'x');
    expect(codes(d.findings)).toEqual(['INGRESS_BACKEND_PORT_NOT_FOUND', 'INGRESS_BACKEND_PORT_NOT_FOUND']);
    expect(d.findings[0].hint).toBe(
      "9000 is the targetPort (the pods' port) of service port 80 (http): use port 80 or name http.",
    );
    expect(d.findings[1].message).toContain(
      'port https of Service shop/web, which has no such port; its ports: 80/TCP (http)',
    );
  });

  it('the default backend, and requests no rule matches', () => {
    const ing = rawIngress('shop', 'x', {
      className: 'nginx',
      rules: [
        { host: 'shop.example.com', paths: [{ path: '/api', pathType: 'Exact', service: 'api', port: 80 }] },
      ],
      defaultBackend: { service: 'web', port: 80 },
    });
    const m = model(ing);
    const d = diagnoseIngress(m, 'shop', 'x', { host: 'shop.example.com', path: '/other' });
    expect(d.request?.routes.map((i) => d.routes[i].source)).toEqual(['spec.defaultBackend']);
    expect(d.findings).toEqual([]);
    const noDefault = rawIngress('shop', 'y', {
      className: 'nginx',
      rules: [{ host: 'shop.example.com', paths: [{ path: '/api', service: 'web', port: 80 }] }],
    });
    const d2 = diagnoseIngress(model(noDefault), 'shop', 'y', { host: 'other.example.com' });
    expect(codes(d2.findings)).toEqual(['INGRESS_NO_RULE_MATCH']);
    expect(d2.request?.reason).toBe(
      'no rule of the Ingress matches host other.example.com and there is no default backend',
    );
  });

  it('picks the most specific host: exact, then wildcard, then rules without host', () => {
    const ing = rawIngress('shop', 'x', {
      className: 'nginx',
      rules: [
        { paths: [{ path: '/', service: 'api', port: 80 }] },
        { host: '*.example.com', paths: [{ path: '/', service: 'web', port: 80 }] },
        { host: 'pay.example.com', paths: [{ path: '/pay', service: 'web', port: 80 }] },
      ],
    });
    const m = model(ing);
    const pick = (host: string, path = '/') => {
      const d = diagnoseIngress(m, 'shop', 'x', { host, path });
      return d.request?.routes.map((i) => `${d.routes[i].host ?? '*'} ${d.routes[i].path}`) ?? [];
    };
    expect(pick('shop.example.com')).toEqual(['*.example.com /']);
    expect(pick('a.b.example.com')).toEqual(['* /']);
    expect(pick('pay.example.com', '/pay/1')).toEqual(['pay.example.com /pay']);
    // The exact host's rules do not fall back to the wildcard ones: no default backend, no match.
    expect(pick('pay.example.com', '/')).toEqual([]);
    // Without --host: one answer per host.
    const all = diagnoseIngress(m, 'shop', 'x', { path: '/pay' });
    expect(all.request?.routes).toHaveLength(3);
  });

  it('limits the findings to the routes a request uses', () => {
    const d = diagnoseIngress(model(basic), 'shop', 'web', { host: 'shop.example.com', path: '/' });
    expect(d.findings).toEqual([]);
    expect(d.routes.map((r) => r.selected)).toEqual([true, false]);
    expect(d.routes[1].problems).toContain('SVC_NO_READY_ENDPOINTS');
  });

  it('reads ImplementationSpecific as regex under nginx use-regex, else as a prefix', () => {
    const paths = [
      { path: '/api/v[0-9]+', pathType: 'ImplementationSpecific', service: 'api', port: 80 },
      { path: '/', service: 'web', port: 80 },
    ];
    const regex = rawIngress('shop', 'x', {
      className: 'nginx',
      annotations: { 'nginx.ingress.kubernetes.io/use-regex': 'true' },
      rules: [{ paths }],
    });
    const d = diagnoseIngress(model(regex), 'shop', 'x', { path: '/api/v2/users' });
    expect(d.request?.routes.map((i) => d.routes[i].backend.service)).toEqual(['api']);
    expect(d.notes.some((n) => n.includes('regular expressions'))).toBe(true);
    const plain = rawIngress('shop', 'y', { className: 'nginx', rules: [{ paths }] });
    const d2 = diagnoseIngress(model(plain), 'shop', 'y', { path: '/api/v2/users' });
    expect(d2.request?.routes.map((i) => d2.routes[i].backend.service)).toEqual(['web']);
  });

  it('INGRESS_NOT_FOUND suggests close names', () => {
    const d = diagnoseIngress(model(basic), 'shop', 'wbe');
    expect(d.ingress).toBeNull();
    expect(d.findings[0]).toMatchObject({
      code: 'INGRESS_NOT_FOUND',
      message: 'Ingress shop/wbe does not exist; did you mean ing/shop/web?',
    });
  });
});

describe('diagnoseIngress: class and controller', () => {
  it('INGRESS_CLASS_MISSING for a spec.ingressClassName without IngressClass', () => {
    const ing = rawIngress('shop', 'x', {
      className: 'ngnix',
      rules: [{ paths: [{ path: '/', service: 'web', port: 80 }] }],
    });
    const d = diagnoseIngress(model(ing), 'shop', 'x');
    expect(codes(d.findings)).toEqual(['INGRESS_CLASS_MISSING']);
    expect(d.findings[0].message).toContain('IngressClass ngnix, which does not exist; did you mean nginx?');
  });

  it('only a note for the deprecated annotation (controllers may serve it by --ingress-class)', () => {
    const ing = rawIngress('shop', 'x', {
      annotationClass: 'traefik',
      rules: [{ paths: [{ path: '/', service: 'web', port: 80 }] }],
    });
    const d = diagnoseIngress(model(ing), 'shop', 'x');
    expect(d.findings).toEqual([]);
    expect(d.notes[0]).toContain('--ingress-class=traefik');
  });

  it('uses the default class when none is named', () => {
    const ing = rawIngress('shop', 'x', { rules: [{ paths: [{ path: '/', service: 'web', port: 80 }] }] });
    const d = diagnoseIngress(model(ing), 'shop', 'x');
    expect(d.findings).toEqual([]);
    expect(d.controller?.class).toBe('nginx');
    expect(d.ingress?.class).toBe('nginx');
  });

  it('INGRESS_NO_CONTROLLER: no class and no default class', () => {
    const ing = rawIngress('shop', 'x', { rules: [{ paths: [{ path: '/', service: 'web', port: 80 }] }] });
    const m = buildModel([
      ...shop(),
      rawIngressClass('nginx', 'k8s.io/ingress-nginx'),
      ...ingressNginx(),
      ing,
    ]);
    const d = diagnoseIngress(m, 'shop', 'x');
    expect(codes(d.findings)).toEqual(['INGRESS_NO_CONTROLLER']);
    expect(d.findings[0].evidence).toEqual([
      'ing/shop/x: no spec.ingressClassName and no kubernetes.io/ingress.class annotation',
      'IngressClasses: nginx',
    ]);
  });

  it("INGRESS_NO_CONTROLLER: the class's controller has no running, ready pod", () => {
    const none = diagnoseIngress(model(basic, [], false), 'shop', 'web');
    expect(codes(none.findings)).toContain('INGRESS_NO_CONTROLLER');
    const f = none.findings.find((x) => x.code === 'INGRESS_NO_CONTROLLER');
    expect(f?.objects).toEqual(['ing/shop/web', 'ingressclass/nginx']);
    const notReady = buildModel([...shop(), NGINX, ...ingressNginx({ ready: false }), basic]);
    const d = diagnoseIngress(notReady, 'shop', 'web');
    expect(codes(d.findings)).toContain('INGRESS_NO_CONTROLLER');
    expect(d.findings.find((x) => x.code === 'INGRESS_NO_CONTROLLER')?.evidence?.[1]).toContain(
      'Running, Ready=False',
    );
  });

  it('unknown and external controllers: a note, never a verdict', () => {
    const unnamed = rawIngress('shop', 'web', {
      rules: [{ paths: [{ path: '/', service: 'web', port: 80 }] }],
    });
    const custom = buildModel([
      ...shop(),
      rawIngressClass('acme', 'example.com/acme-ingress', true),
      unnamed,
    ]);
    const d = diagnoseIngress(custom, 'shop', 'web');
    expect(codes(d.findings).filter((c) => c.startsWith('INGRESS_'))).toEqual([]);
    expect(d.notes).toContain(
      'knet does not know the controller example.com/acme-ingress: whether it runs is unknown.',
    );
    const gce = buildModel([...shop(), rawIngressClass('gce', 'k8s.io/ingress-gce', true), unnamed]);
    expect(diagnoseIngress(gce, 'shop', 'web').notes.some((n) => n.includes('outside the cluster'))).toBe(
      true,
    );
  });
});

describe('diagnoseIngress: TLS secrets (by name) and shadowed rules', () => {
  const tls = rawIngress('shop', 'x', {
    className: 'nginx',
    tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }],
    rules: [{ host: 'shop.example.com', paths: [{ path: '/', service: 'web', port: 80 }] }],
  });

  it("INGRESS_TLS_SECRET_MISSING when the source lists the namespace's Secret names", () => {
    const d = diagnoseIngress(model(tls, [rawSecret('shop', 'other-tls')]), 'shop', 'x');
    expect(codes(d.findings)).toEqual(['INGRESS_TLS_SECRET_MISSING']);
    expect(d.findings[0].objects).toEqual(['ing/shop/x', 'secret/shop/shop-tls']);
    expect(d.routes[0].tls).toBe('shop-tls');
    expect(diagnoseIngress(model(tls, [rawSecret('shop', 'shop-tls')]), 'shop', 'x').findings).toEqual([]);
  });

  it('no verdict when the source holds no Secret names', () => {
    const d = diagnoseIngress(model(tls), 'shop', 'x');
    expect(d.findings).toEqual([]);
    expect(d.notes.some((n) => n.includes('TLS Secret shop-tls not checked'))).toBe(true);
  });

  it('INGRESS_PATH_SHADOWED: the same host, type and path twice (a trailing slash does not count)', () => {
    const ing = rawIngress('shop', 'x', {
      className: 'nginx',
      rules: [
        { host: 'shop.example.com', paths: [{ path: '/app', service: 'web', port: 80 }] },
        {
          host: 'SHOP.example.com',
          paths: [
            { path: '/app/', service: 'api', port: 80 },
            { path: '/app', pathType: 'Exact', service: 'api', port: 80 },
          ],
        },
      ],
    });
    const d = diagnoseIngress(model(ing), 'shop', 'x');
    const shadowed = d.findings.filter((f) => f.code === 'INGRESS_PATH_SHADOWED');
    expect(shadowed).toHaveLength(1);
    expect(shadowed[0].message).toContain('spec.rules[1].http.paths[0]');
    expect(shadowed[0].message).toContain('every such request goes to web, never to api');
    expect(d.routes.map((r) => r.problems.includes('INGRESS_PATH_SHADOWED'))).toEqual([false, true, false]);
  });

  it('INGRESS_PATH_SHADOWED: the same host and path in another Ingress of the class', () => {
    const other = rawIngress('shop', 'y', {
      className: 'nginx',
      rules: [{ host: 'shop.example.com', paths: [{ path: '/', service: 'api', port: 80 }] }],
    });
    const d = diagnoseIngress(model(basic, [other]), 'shop', 'web');
    const f = d.findings.find((x) => x.code === 'INGRESS_PATH_SHADOWED');
    expect(f?.objects).toEqual(['ing/shop/web', 'ing/shop/y']);
    const otherClass = rawIngress('shop', 'z', {
      className: 'traefik',
      rules: [{ host: 'shop.example.com', paths: [{ path: '/', service: 'api', port: 80 }] }],
    });
    expect(codes(diagnoseIngress(model(basic, [otherClass]), 'shop', 'web').findings)).not.toContain(
      'INGRESS_PATH_SHADOWED',
    );
  });
});

describe('exports for the outside-in trace and doctor', () => {
  it('ingressRequest: the Service and port a request reaches, and how the controller reaches it', () => {
    const m = model(basic);
    const ing = m.ingresses.find((i) => i.name === 'web')!;
    const one = ingressRequest(m, ing, { host: 'shop.example.com', path: '/api/x' }).backends;
    expect(one.map((b) => [b.service?.name, b.port?.port, b.rule.path, b.upstream])).toEqual([
      ['api', 80, '/api', 'endpoints'],
    ]);
    expect(ingressRequest(m, ing).backends).toHaveLength(2);
    const svcUpstream = buildModel([
      ...shop(),
      NGINX,
      rawIngress('shop', 'u', {
        className: 'nginx',
        annotations: { 'nginx.ingress.kubernetes.io/service-upstream': 'true' },
        rules: [{ paths: [{ path: '/', service: 'web', port: 80 }] }],
      }),
    ]);
    expect(ingressRequest(svcUpstream, svcUpstream.ingresses[0]).backends[0].upstream).toBe('service');
    const missing = buildModel([
      ...shop(),
      NGINX,
      rawIngress('shop', 'm', {
        className: 'nginx',
        rules: [{ paths: [{ path: '/', service: 'nope', port: 80 }] }],
      }),
    ]);
    expect(ingressRequest(missing, missing.ingresses[0]).backends[0]).toMatchObject({
      service: null,
      port: null,
    });
  });

  it('the diagnosis names the entry Services in front of the controller', () => {
    const m = model(basic);
    const c = ingressRequest(m, m.ingresses.find((i) => i.name === 'web')!).diagnosis.controller;
    expect(c?.services.map((s) => `${s.namespace}/${s.name}`)).toEqual([
      'ingress-nginx/ingress-nginx-controller',
    ]);
  });

  it('ingressDoctorFindings: the INGRESS_* codes of every Ingress (of a namespace)', () => {
    const broken = rawIngress('shop', 'broken', {
      className: 'nginx',
      rules: [{ paths: [{ path: '/', service: 'nope', port: 80 }] }],
    });
    const m = model(basic, [broken]);
    expect(codes(ingressDoctorFindings(m))).toEqual(['INGRESS_BACKEND_NOT_FOUND']);
    expect(ingressDoctorFindings(m, 'payments')).toEqual([]);
  });
});

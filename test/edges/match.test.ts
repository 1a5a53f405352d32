// Host and path matching against the examples the specifications give: the Ingress table of
// kubernetes.io/docs/concepts/services-networking/ingress ("Examples") and its wildcard host
// rules, and the Gateway API's hostname rules.
import { describe, expect, it } from 'vitest';
import { diagnoseIngress } from '../../src/analyses/ingress/ingress.js';
import {
  canonicalPrefix,
  gatewayHostMatches,
  hostMatches,
  hostsIntersect,
  normalizeHost,
  pathMatches,
  prefixMatches,
} from '../../src/analyses/ingress/match.js';
import { buildModel } from '../../src/model/build.js';
import { rawIngress, rawService, shop } from './builders.js';

describe('Ingress path matching: the documented examples', () => {
  // [type, rule paths, request path, matches (the most specific path that wins), or null]
  const table: [string, string[], string, string | null][] = [
    ['Prefix', ['/'], '/anything/at/all', '/'],
    ['Exact', ['/foo'], '/foo', '/foo'],
    ['Exact', ['/foo'], '/bar', null],
    ['Exact', ['/foo'], '/foo/', null],
    ['Exact', ['/foo/'], '/foo', null],
    ['Prefix', ['/foo'], '/foo', '/foo'],
    ['Prefix', ['/foo'], '/foo/', '/foo'],
    ['Prefix', ['/foo/'], '/foo', '/foo/'],
    ['Prefix', ['/foo/'], '/foo/', '/foo/'],
    ['Prefix', ['/aaa/bb'], '/aaa/bbb', null],
    ['Prefix', ['/aaa/bbb'], '/aaa/bbb', '/aaa/bbb'],
    ['Prefix', ['/aaa/bbb/'], '/aaa/bbb', '/aaa/bbb/'],
    ['Prefix', ['/aaa/bbb'], '/aaa/bbb/', '/aaa/bbb'],
    ['Prefix', ['/aaa/bbb'], '/aaa/bbb/ccc', '/aaa/bbb'],
    ['Prefix', ['/aaa/bbb'], '/aaa/bbbxyz', null],
    ['Prefix', ['/', '/aaa'], '/aaa/ccc', '/aaa'],
    ['Prefix', ['/', '/aaa', '/aaa/bbb'], '/aaa/bbb', '/aaa/bbb'],
    ['Prefix', ['/', '/aaa', '/aaa/bbb'], '/ccc', '/'],
    ['Prefix', ['/aaa'], '/ccc', null],
  ];
  for (const [type, paths, request, winner] of table) {
    it(`${type} ${paths.join(', ')} — ${request} → ${winner ?? 'no match (default backend)'}`, () => {
      const model = buildModel([
        ...shop(),
        rawIngress('shop', 'x', {
          rules: [{ paths: paths.map((p) => ({ path: p, pathType: type, service: 'web', port: 80 })) }],
          defaultBackend: { service: 'web', port: 80 },
        }),
      ]);
      const d = diagnoseIngress(model, 'shop', 'x', { path: request });
      const chosen = d.request?.routes.map((i) => d.routes[i]) ?? [];
      expect(chosen).toHaveLength(1);
      expect(chosen[0].pathType === 'Default' ? null : chosen[0].path).toBe(winner);
    });
  }

  it('mixed: /foo (Prefix) and /foo (Exact) — /foo prefers Exact, /foo/x the prefix', () => {
    const model = buildModel([
      ...shop(),
      rawService('shop', 'exact', [{ name: 'http', port: 80 }], { app: 'web' }),
      rawIngress('shop', 'x', {
        rules: [
          {
            paths: [
              { path: '/foo', pathType: 'Prefix', service: 'web', port: 80 },
              { path: '/foo', pathType: 'Exact', service: 'exact', port: 80 },
            ],
          },
        ],
      }),
    ]);
    const pick = (path: string) => {
      const d = diagnoseIngress(model, 'shop', 'x', { path });
      return d.request?.routes.map((i) => d.routes[i].backend.service);
    };
    expect(pick('/foo')).toEqual(['exact']);
    expect(pick('/foo/x')).toEqual(['web']);
  });

  it('compares prefixes element by element', () => {
    expect(prefixMatches('/', '/')).toBe(true);
    expect(prefixMatches('/a//b', '/a/b/c')).toBe(true);
    expect(canonicalPrefix('/foo/')).toBe('/foo');
    expect(pathMatches({ kind: 'Regex', value: '/api/v[0-9]+' }, '/api/v2/users')).toBe(true);
    expect(pathMatches({ kind: 'Regex', value: '/api/(' }, '/api')).toBeUndefined();
  });
});

describe('host matching', () => {
  it('Ingress wildcards cover exactly one label', () => {
    expect(hostMatches('*.foo.com', 'bar.foo.com')).toBe(true);
    expect(hostMatches('*.foo.com', 'baz.bar.foo.com')).toBe(false);
    expect(hostMatches('*.foo.com', 'foo.com')).toBe(false);
    expect(hostMatches('foo.bar.com', 'FOO.bar.com:8443')).toBe(true);
    expect(hostMatches(undefined, 'anything.example')).toBe(true);
    expect(normalizeHost('Shop.Example.com.')).toBe('shop.example.com');
  });

  it('Gateway API wildcards cover one or more labels; listener and route hostnames intersect', () => {
    expect(gatewayHostMatches('*.example.com', 'foo.example.com')).toBe(true);
    expect(gatewayHostMatches('*.example.com', 'foo.bar.example.com')).toBe(true);
    expect(gatewayHostMatches('*.example.com', 'example.com')).toBe(false);
    expect(hostsIntersect('*.example.com', 'store.example.com')).toBe(true);
    expect(hostsIntersect('store.example.com', 'shop.example.com')).toBe(false);
    expect(hostsIntersect('*.example.com', '*.shop.example.com')).toBe(true);
    expect(hostsIntersect('*.example.com', '*.example.org')).toBe(false);
    expect(hostsIntersect(undefined, 'x.example')).toBe(true);
  });
});

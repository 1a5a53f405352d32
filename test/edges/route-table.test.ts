// The one request matcher of the route table, under the Ingress's and the Gateway API's host
// rules: the same rows, two answers where the APIs differ.
import { describe, expect, it } from 'vitest';
import {
  gatewayHostMatches,
  hostMatches,
  hostRank,
  type PathMatch,
} from '../../src/analyses/ingress/match.js';
import {
  type HostRules,
  matchRequest,
  type RouteEntry,
  shadowedRows,
} from '../../src/analyses/ingress/route-table.js';

const INGRESS: HostRules = { matches: hostMatches, rank: hostRank, perHost: true };
const GATEWAY: HostRules = { matches: gatewayHostMatches, rank: () => 0, perHost: false };

function row(
  host: string | null,
  match: PathMatch | null,
  group: string,
  conditions: string[] = [],
): RouteEntry {
  return {
    route: {
      host,
      hosts: host ? [host] : [],
      path: match?.value ?? null,
      pathType: match ? 'Prefix' : 'Default',
      conditions,
      backend: { service: group, namespace: 'shop', port: 80, resource: null },
      weight: null,
      servicePort: null,
      endpoints: null,
      tls: null,
      status: 'unknown',
      problems: [],
      source: group,
      selected: false,
    },
    match,
    group,
    resolved: { service: null, port: null },
    findings: [],
  };
}

const rows = [
  row('*.example.com', { kind: 'Prefix', value: '/api' }, 'wild-api'),
  row('shop.example.com', { kind: 'Prefix', value: '/' }, 'shop-root'),
  row(null, { kind: 'Prefix', value: '/api' }, 'any-api', ['header x = 1']),
  row(null, { kind: 'Prefix', value: '/api' }, 'any-api-plain'),
  row(null, null, 'default'),
];
const picked = (rules: HostRules, host: string | null, path: string) =>
  matchRequest(rows, host, path, rules).map((g) => g.picked.map((i) => rows[i].group));

describe('matchRequest: host → path → rows', () => {
  it('Ingress: the exact host goes first, then its most specific path; else the default backend', () => {
    expect(picked(INGRESS, 'shop.example.com', '/api/x')).toEqual([['shop-root']]);
    expect(picked(INGRESS, 'a.example.com', '/api/x')).toEqual([['wild-api']]);
    expect(picked(INGRESS, 'a.example.com', '/other')).toEqual([['default']]);
    // Without a host, every rule host answers on its own.
    expect(picked(INGRESS, null, '/api')).toEqual([['wild-api'], ['shop-root'], ['any-api-plain']]);
  });

  it('Gateway API: every matching host competes; a match without conditions beats one with', () => {
    expect(picked(GATEWAY, 'shop.example.com', '/api/x')).toEqual([['wild-api']]);
    expect(picked(GATEWAY, 'a.b.example.com', '/api')).toEqual([['wild-api']]);
    expect(picked(GATEWAY, null, '/')).toEqual([['shop-root']]);
  });

  it('rows of one group (weighted backendRefs) are taken together', () => {
    const weighted = [
      row(null, { kind: 'Prefix', value: '/' }, 'r0'),
      row(null, { kind: 'Prefix', value: '/' }, 'r0'),
      row(null, { kind: 'Prefix', value: '/' }, 'r1'),
    ];
    expect(matchRequest(weighted, null, '/x', GATEWAY)[0].picked).toEqual([0, 1]);
  });

  it('shadowedRows: a later row with an earlier key in another rule', () => {
    const keys = [
      { key: 'a', rule: '0' },
      { key: 'a', rule: '0' },
      { key: 'a', rule: '1' },
      { key: undefined, rule: '2' },
    ];
    expect([...shadowedRows(keys)]).toEqual([[2, 0]]);
  });
});

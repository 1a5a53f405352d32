// Expected vs actual: record identity, findings, replicas, and the DNS service's own health.
import { describe, expect, it } from 'vitest';
import { buildDnsCheck } from '../../src/analyses/dns/check.js';
import { compareAnswer, compareReplicas, recordKey } from '../../src/analyses/dns/compare.js';
import { dnsServiceFindings } from '../../src/analyses/dns/service-health.js';
import type { DnsAnswer, DnsRecord, DnsReply, DnsResult } from '../../src/analyses/dns/types.js';
import { buildModel } from '../../src/model/build.js';
import { testBundle } from './bundle.js';

const reply = (rcode: DnsReply['rcode'], answers: DnsRecord[]): DnsReply => ({
  rcode,
  answers,
  authorities: [],
  additionals: [],
  authoritative: true,
  recursionAvailable: true,
  transport: 'udp',
  truncatedUdp: false,
  ednsFallback: false,
  attempts: 1,
  elapsedMs: 1,
});
const expected = (partial: Partial<DnsAnswer>): DnsAnswer => ({
  rcode: 'NOERROR',
  answers: [],
  match: 'all',
  upstream: [],
  reason: 'test',
  objects: ['svc/app/x'],
  ...partial,
});
const Q = { name: 'x.app.svc.cluster.local', type: 'A' as const };
const ctx = { server: '10.96.0.10:53' };

describe('compareAnswer', () => {
  it('compares names case-insensitively and ignores SRV priority/weight and TTL', () => {
    expect(recordKey({ name: 'X.App.SVC.cluster.local.', type: 'A', data: '10.0.0.1', ttl: 5 })).toBe(
      recordKey({ name: 'x.app.svc.cluster.local', type: 'A', data: '10.0.0.1', ttl: 30 }),
    );
    expect(recordKey({ name: 's', type: 'SRV', data: '0 50 80 X.example.' })).toBe(
      recordKey({ name: 's', type: 'SRV', data: '10 100 80 x.example' }),
    );
    expect(recordKey({ name: 's', type: 'SRV', data: '0 50 80 x.example' })).not.toBe(
      recordKey({ name: 's', type: 'SRV', data: '0 50 81 x.example' }),
    );
    expect(recordKey({ name: 'a', type: 'AAAA', data: 'fd00:0:0::1' })).toBe(
      recordKey({ name: 'a', type: 'AAAA', data: 'fd00::1' }),
    );
  });

  it('accepts any one of several PTR names when the address is shared', () => {
    const e = expected({
      match: 'any',
      answers: [
        { name: 'r', type: 'PTR', data: 'a.svc1.app.svc.cluster.local' },
        { name: 'r', type: 'PTR', data: 'b.svc2.app.svc.cluster.local' },
      ],
    });
    expect(
      compareAnswer(
        Q,
        e,
        reply('NOERROR', [{ name: 'r', type: 'PTR', data: 'b.svc2.app.svc.cluster.local' }]),
        ctx,
      ).verdict,
    ).toBe('match');
    expect(
      compareAnswer(
        Q,
        e,
        reply('NOERROR', [{ name: 'r', type: 'PTR', data: 'c.svc3.app.svc.cluster.local' }]),
        ctx,
      ).verdict,
    ).toBe('mismatch');
  });

  it("ignores the upstream records of an ExternalName's target", () => {
    const e = expected({
      answers: [{ name: Q.name, type: 'CNAME', data: 'www.example.com' }],
      upstream: ['www.example.com'],
    });
    const a = reply('NOERROR', [
      { name: Q.name, type: 'CNAME', data: 'www.example.com' },
      { name: 'www.example.com', type: 'A', data: '93.184.216.34' },
    ]);
    expect(compareAnswer(Q, e, a, ctx)).toMatchObject({ verdict: 'match', extra: [], missing: [] });
  });

  it('NODATA where records are expected is an answer mismatch; no reply is DNS_NO_RESPONSE', () => {
    const e = expected({ answers: [{ name: Q.name, type: 'A', data: '10.0.0.1' }] });
    expect(compareAnswer(Q, e, reply('NOERROR', []), ctx).findings.map((f) => f.code)).toEqual([
      'DNS_ANSWER_MISMATCH',
    ]);
    const none: DnsResult = {
      rcode: null,
      error: 'no response within 2000 ms (3 UDP attempts)',
      attempts: 3,
      elapsedMs: 6001,
    };
    const c = compareAnswer(Q, e, none, ctx);
    expect(c.verdict).toBe('no-response');
    expect(c.findings[0]).toMatchObject({
      code: 'DNS_NO_RESPONSE',
      objects: ['svc/app/x'],
      evidence: ['3 attempt(s) in 6001 ms'],
    });
  });
});

describe('compareReplicas', () => {
  const a = reply('NOERROR', [{ name: 'n', type: 'A', data: '10.0.0.1' }]);
  const b = reply('NXDOMAIN', []);
  it('names the odd replica; agreeing replicas give nothing', () => {
    expect(
      compareReplicas(Q, [
        { replica: 'p1', result: a },
        { replica: 'p2', result: a },
      ]),
    ).toEqual([]);
    const f = compareReplicas(Q, [
      { replica: 'p1', result: a },
      { replica: 'p2', result: b },
      { replica: 'p3', result: a },
    ]);
    expect(f.map((x) => x.objects)).toEqual([['p2']]);
    expect(f[0].message).toMatch(/p2 answers .* with "NXDOMAIN " while p1, p3 answer "NOERROR/);
  });

  it('a tie names every replica', () => {
    expect(
      compareReplicas(Q, [
        { replica: 'p1', result: a },
        { replica: 'p2', result: b },
      ])
        .map((x) => x.objects[0])
        .sort(),
    ).toEqual(['p1', 'p2']);
  });
});

describe('DNS service health', () => {
  it('is quiet for a healthy kube-dns', () => {
    expect(dnsServiceFindings(buildModel(testBundle()))).toEqual([]);
  });

  it('links to the endpoints analysis when kube-dns has no ready endpoint, and warns on an unready CoreDNS pod', () => {
    const raws = testBundle().map((o) => {
      if (o.kind === 'EndpointSlice' && o.metadata.name === 'kube-dns-x1') {
        return { ...o, endpoints: o.endpoints.map((e: object) => ({ ...e, conditions: { ready: false } })) };
      }
      if (o.kind === 'Pod' && o.metadata.name === 'coredns-a') {
        return { ...o, status: { ...o.status, conditions: [{ type: 'Ready', status: 'False' }] } };
      }
      return o;
    });
    const model = buildModel(raws);
    const f = dnsServiceFindings(model);
    expect(f.map((x) => [x.code, x.objects[0]])).toEqual([
      ['SVC_NO_READY_ENDPOINTS', 'svc/kube-system/kube-dns'],
      ['POD_NOT_READY', 'pod/kube-system/coredns-a'],
    ]);
    expect(f[0].hint).toContain('knet endpoints svc/kube-system/kube-dns');
    const check = buildDnsCheck(model, {
      name: 'svc-b.app.svc.cluster.local',
      type: 'A',
      clusterDomain: 'cluster.local',
    });
    expect(check.findings.map((x) => x.code)).toEqual(['SVC_NO_READY_ENDPOINTS', 'POD_NOT_READY']);
    expect(check.actual).toBeNull();
  });

  it("at 'diagnosis' detail (doctor) runs the endpoints analysis of kube-dns, without its info findings", () => {
    const raws = testBundle().map((o) =>
      o.kind === 'EndpointSlice' && o.metadata.name === 'kube-dns-x1'
        ? { ...o, endpoints: o.endpoints.map((e: object) => ({ ...e, conditions: { ready: false } })) }
        : o.kind === 'Pod' && o.metadata.name === 'coredns-a'
          ? { ...o, status: { ...o.status, conditions: [{ type: 'Ready', status: 'False' }] } }
          : o,
    );
    const f = dnsServiceFindings(buildModel(raws), 'diagnosis');
    expect(f.length).toBeGreaterThan(0);
    expect(f.every((x) => x.severity !== 'info')).toBe(true);
    expect(f.every((x) => x.objects.some((o) => o.includes('kube-system/')))).toBe(true);
    // The summary's own wording is not the diagnosis's.
    expect(f.map((x) => x.message)).not.toContain(
      'The kube-dns Service has no ready endpoints: pods cannot resolve any name through the cluster DNS.',
    );
    expect(dnsServiceFindings(buildModel(testBundle()), 'diagnosis')).toEqual([]);
    const withoutService = raws.filter((o) => !(o.kind === 'Service' && o.metadata.name === 'kube-dns'));
    expect(dnsServiceFindings(buildModel(withoutService), 'diagnosis')).toEqual([]);
  });
});

// knet's expected answers against a real BIND 9 serving zones generated independently from
// the spec (zonegen.ts), then against deliberately broken variants of those zones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDnsCheck } from '../../src/analyses/dns/check.js';
import { compareAnswer } from '../../src/analyses/dns/compare.js';
import { expectedAnswer } from '../../src/analyses/dns/expected.js';
import { expandQueries, resolverConfigFor } from '../../src/analyses/dns/search.js';
import { type DnsResult, type DnsType, isReply } from '../../src/analyses/dns/types.js';
import { buildModel } from '../../src/model/build.js';
import type { ClusterModel } from '../../src/model/cluster.js';
import { queryDns } from '../../src/sources/dns/client.js';
import { type BindServer, hasNamed, startBind } from './bind.js';
import { BIG_ENDPOINTS, testBundle } from './bundle.js';
import { specRecords, withData, without, withoutRecord, zonesFor } from './zonegen.js';

if (!hasNamed)
  console.warn('SKIPPED test/dns/bind.test.ts: named (bind9) is not installed; apt-get install bind9');

const Z = 'cluster.local';
const opts = { clusterDomain: Z };

describe.skipIf(!hasNamed)('against a real BIND serving the spec records', () => {
  let model: ClusterModel;
  let good: BindServer;
  let broken: BindServer;
  let failing: BindServer;

  beforeAll(async () => {
    model = buildModel(testBundle());
    const records = specRecords(testBundle());
    good = await startBind(zonesFor(records));
    let bad = withData(records, `svc-b.app.svc.${Z}`, 'A', '10.96.99.99'); // stale A
    bad = without(bad, `svc-b.other-ns.svc.${Z}`); // missing service
    bad = withoutRecord(bad, `headless.app.svc.${Z}`, 'A', '10.244.1.11'); // missing endpoint
    bad = [...bad, { owner: `gone.app.svc.${Z}`, type: 'A', rdata: '10.96.1.1' }]; // deleted service still answered
    bad = withData(bad, `_http._tcp.svc-b.app.svc.${Z}`, 'SRV', `0 100 8080 svc-b.app.svc.${Z}.`); // wrong port
    broken = await startBind(zonesFor(bad));
    failing = await startBind([{ origin: Z }]); // zone file missing: SERVFAIL
  }, 30_000);

  afterAll(async () => {
    await good?.stop();
    await broken?.stop();
    await failing?.stop();
  });

  async function check(server: BindServer, name: string, type: DnsType) {
    const expected = expectedAnswer(model, { name, type }, opts);
    const actual = await queryDns(server, { name, type }, { timeoutMs: 1000 });
    return {
      expected,
      actual,
      cmp: compareAnswer({ name, type }, expected, actual, { server: `127.0.0.1:${server.port}` }),
    };
  }

  const agreeing: [string, DnsType, string, number][] = [
    // name, type, rcode, number of answers
    [`svc-b.app.svc.${Z}`, 'A', 'NOERROR', 1],
    [`svc-b.app.svc.${Z}`, 'AAAA', 'NOERROR', 0],
    [`SVC-B.App.Svc.Cluster.Local.`, 'A', 'NOERROR', 1],
    [`_http._tcp.svc-b.app.svc.${Z}`, 'SRV', 'NOERROR', 1],
    [`_dns._udp.svc-b.app.svc.${Z}`, 'SRV', 'NOERROR', 1],
    [`kubernetes.default.svc.${Z}`, 'A', 'NOERROR', 1],
    [`_https._tcp.kubernetes.default.svc.${Z}`, 'SRV', 'NOERROR', 1],
    [`single.app.svc.${Z}`, 'A', 'NOERROR', 1],
    [`dual.app.svc.${Z}`, 'A', 'NOERROR', 1],
    [`dual.app.svc.${Z}`, 'AAAA', 'NOERROR', 1],
    [`v6only.app.svc.${Z}`, 'A', 'NOERROR', 0],
    [`v6only.app.svc.${Z}`, 'AAAA', 'NOERROR', 1],
    [`headless.app.svc.${Z}`, 'A', 'NOERROR', 3],
    [`web-0.headless.app.svc.${Z}`, 'A', 'NOERROR', 1],
    [`web-3.headless.app.svc.${Z}`, 'A', 'NXDOMAIN', 0],
    [`_http._tcp.headless.app.svc.${Z}`, 'SRV', 'NOERROR', 3],
    [`sub.app.svc.${Z}`, 'A', 'NOERROR', 2],
    [`alpha.sub.app.svc.${Z}`, 'A', 'NOERROR', 1],
    [`10-244-1-21.sub.app.svc.${Z}`, 'A', 'NOERROR', 1],
    [`_grpc._tcp.sub.app.svc.${Z}`, 'SRV', 'NOERROR', 2],
    [`pnr.app.svc.${Z}`, 'A', 'NOERROR', 1],
    [`pnr-0.pnr.app.svc.${Z}`, 'A', 'NOERROR', 1],
    [`empty-headless.app.svc.${Z}`, 'A', 'NXDOMAIN', 0],
    [`ext.app.svc.${Z}`, 'CNAME', 'NOERROR', 1],
    [`ext.app.svc.${Z}`, 'A', 'NOERROR', 1],
    [`ext-internal.app.svc.${Z}`, 'A', 'NOERROR', 2],
    [`dns-version.${Z}`, 'TXT', 'NOERROR', 1],
    [`34.12.96.10.in-addr.arpa`, 'PTR', 'NOERROR', 1],
    [`10.1.244.10.in-addr.arpa`, 'PTR', 'NOERROR', 1],
    [`7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa`, 'PTR', 'NOERROR', 1],
    [`10-244-1-10.app.pod.${Z}`, 'A', 'NOERROR', 1],
    [`nosuch.app.svc.${Z}`, 'A', 'NXDOMAIN', 0],
    [`nosuch.app.svc.${Z}`, 'SRV', 'NXDOMAIN', 0],
    [`app.svc.${Z}`, 'A', 'NOERROR', 0],
    [`svc.${Z}`, 'A', 'NOERROR', 0],
    [`nosuchns.svc.${Z}`, 'A', 'NXDOMAIN', 0],
    [`foo.${Z}`, 'A', 'NXDOMAIN', 0],
  ];
  for (const [name, type, rcode, n] of agreeing) {
    it(`${name} ${type}: ${rcode === 'NOERROR' && n === 0 ? 'NODATA' : rcode} on both sides`, async () => {
      const { expected, actual, cmp } = await check(good, name, type);
      expect(actual.rcode).toBe(rcode);
      expect(expected.rcode).toBe(rcode);
      expect(expected.answers).toHaveLength(n);
      if (isReply(actual)) expect(actual.answers).toHaveLength(n);
      expect(cmp.findings).toEqual([]);
      expect(cmp.verdict).toBe('match');
    });
  }

  it('the large headless service truncates over UDP and comes back whole over TCP', async () => {
    const { expected, actual, cmp } = await check(good, `big.app.svc.${Z}`, 'A');
    if (!isReply(actual)) throw new Error(actual.error);
    expect(actual.truncatedUdp).toBe(true);
    expect(actual.transport).toBe('tcp');
    expect(actual.answers).toHaveLength(BIG_ENDPOINTS);
    expect(expected.answers).toHaveLength(BIG_ENDPOINTS);
    expect(cmp.verdict).toBe('match');
  });

  it('a stale A record is an answer mismatch naming both addresses', async () => {
    const { cmp } = await check(broken, `svc-b.app.svc.${Z}`, 'A');
    expect(cmp.verdict).toBe('mismatch');
    expect(cmp.findings.map((f) => f.code)).toEqual(['DNS_ANSWER_MISMATCH']);
    expect(cmp.missing.map((r) => r.data)).toEqual(['10.96.12.34']);
    expect(cmp.extra.map((r) => r.data)).toEqual(['10.96.99.99']);
    expect(cmp.findings[0].objects).toEqual(['svc/app/svc-b']);
  });

  it('a missing service is DNS_NXDOMAIN', async () => {
    const { cmp } = await check(broken, `svc-b.other-ns.svc.${Z}`, 'A');
    expect(cmp.findings.map((f) => f.code)).toEqual(['DNS_NXDOMAIN']);
    expect(cmp.findings[0].message).toMatch(/does not exist, but ClusterIP of other-ns\/svc-b/);
  });

  it('a record for a deleted service is DNS_NXDOMAIN the other way round', async () => {
    const { expected, cmp } = await check(broken, `gone.app.svc.${Z}`, 'A');
    expect(expected.rcode).toBe('NXDOMAIN');
    expect(cmp.findings.map((f) => f.code)).toEqual(['DNS_NXDOMAIN']);
    expect(cmp.findings[0].message).toMatch(/with A 10\.96\.1\.1, but the name must not exist/);
  });

  it('a headless answer missing one endpoint is a mismatch', async () => {
    const { cmp } = await check(broken, `headless.app.svc.${Z}`, 'A');
    expect(cmp.findings.map((f) => f.code)).toEqual(['DNS_ANSWER_MISMATCH']);
    expect(cmp.missing.map((r) => r.data)).toEqual(['10.244.1.11']);
    expect(cmp.extra).toEqual([]);
  });

  it('an SRV record with the wrong port is a mismatch', async () => {
    const { cmp } = await check(broken, `_http._tcp.svc-b.app.svc.${Z}`, 'SRV');
    expect(cmp.findings.map((f) => f.code)).toEqual(['DNS_ANSWER_MISMATCH']);
    expect(cmp.extra[0].data).toMatch(/ 8080 svc-b/);
  });

  it('SERVFAIL is DNS_SERVER_ERROR', async () => {
    const { actual, cmp } = await check(failing, `svc-b.app.svc.${Z}`, 'A');
    expect(actual.rcode).toBe('SERVFAIL');
    expect(cmp.findings.map((f) => f.code)).toEqual(['DNS_SERVER_ERROR']);
  });

  it('a name outside the cluster is not judged (REFUSED by an authoritative-only server)', async () => {
    const { expected, actual, cmp } = await check(good, 'www.example.com', 'A');
    expect(expected.rcode).toBe('UNKNOWN');
    expect(actual.rcode).toBe('REFUSED');
    expect(cmp.verdict).toBe('unknown');
    expect(cmp.findings.map((f) => f.code)).toEqual(['DNS_SERVER_ERROR']);
  });

  async function walk(server: BindServer, podNs: string, name: string) {
    const pod = model.pod(podNs, 'client')!;
    const names = expandQueries(name, resolverConfigFor(model, pod, opts));
    const results = new Map<string, DnsResult>();
    for (const n of names) {
      const r = await queryDns(server, { name: n, type: 'A' }, { timeoutMs: 1000 });
      results.set(n, r);
      if (isReply(r) && r.answers.length) break;
    }
    return buildDnsCheck(model, {
      name,
      type: 'A',
      clusterDomain: Z,
      from: pod,
      server: `127.0.0.1:${server.port}`,
      results,
    });
  }

  it('search path: a short name resolves in the pod namespace first', async () => {
    const fromApp = await walk(good, 'app', 'svc-b');
    expect(fromApp.search?.actualAnsweredBy).toBe(`svc-b.app.svc.${Z}`);
    expect(fromApp.actual?.answers.map((a) => a.data)).toEqual(['10.96.12.34']);
    const fromOther = await walk(good, 'other-ns', 'svc-b');
    expect(fromOther.search?.actualAnsweredBy).toBe(`svc-b.other-ns.svc.${Z}`);
    expect(fromOther.actual?.answers.map((a) => a.data)).toEqual(['10.96.50.1']);
    expect(fromOther.findings.filter((f) => f.code.startsWith('DNS_'))).toEqual([]);
  });

  it('search path: name.namespace answers on the second candidate, after an NXDOMAIN', async () => {
    const c = await walk(good, 'app', 'svc-b.other-ns');
    expect(c.search?.steps.map((s) => [s.query, s.actual?.outcome ?? null])).toEqual([
      [`svc-b.other-ns.app.svc.${Z}`, 'nxdomain'],
      [`svc-b.other-ns.svc.${Z}`, 'answer'],
      [`svc-b.other-ns.${Z}`, null],
      ['svc-b.other-ns', null],
    ]);
    expect(c.search?.steps.map((s) => s.sent)).toEqual([true, true, false, false]);
    expect(c.search?.expectedAnsweredBy).toBe(c.search?.actualAnsweredBy);
    expect(c.comparison?.verdict).toBe('match');
  });

  it('search path against the broken server: the walk goes on past the missing name', async () => {
    const c = await walk(broken, 'app', 'svc-b.other-ns');
    expect(c.search?.expectedAnsweredBy).toBe(`svc-b.other-ns.svc.${Z}`);
    expect(c.search?.actualAnsweredBy).toBeNull();
    // Every cluster candidate NXDOMAIN, then the name as-is leaves the cluster (REFUSED here).
    expect(c.search?.steps.map((s) => s.actual?.outcome)).toEqual([
      'nxdomain',
      'nxdomain',
      'nxdomain',
      'error',
    ]);
    expect(c.findings.map((f) => f.code)).toContain('DNS_NXDOMAIN');
  });

  it('replicas that disagree are named', async () => {
    const name = `svc-b.app.svc.${Z}`;
    const ask = async (s: BindServer) => new Map([[name, await queryDns(s, { name, type: 'A' })]]);
    const c = buildDnsCheck(model, {
      name,
      type: 'A',
      clusterDomain: Z,
      replicas: [
        { replica: 'pod/kube-system/coredns-a', results: await ask(good) },
        { replica: 'pod/kube-system/coredns-b', results: await ask(good) },
        { replica: 'pod/kube-system/coredns-c', results: await ask(broken) },
      ],
    });
    const odd = c.findings.filter((f) => f.code === 'DNS_REPLICAS_DISAGREE');
    expect(odd).toHaveLength(1);
    expect(odd[0].objects).toEqual(['pod/kube-system/coredns-c']);
    expect(c.replicas?.map((r) => r.verdict)).toEqual(['match', 'match', 'mismatch']);
    expect(c.findings.filter((f) => f.code === 'DNS_ANSWER_MISMATCH')[0].objects).toContain(
      'pod/kube-system/coredns-c',
    );
  });
});

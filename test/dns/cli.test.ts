// `knet dns` as a user runs it: on a bundle (expected answer only), and against a real BIND.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { knet, writeBundle } from '../support/cli.js';
import { type BindServer, hasNamed, startBind } from './bind.js';
import { testBundle } from './bundle.js';
import { specRecords, withData, zonesFor } from './zonegen.js';

let bundle: string;
beforeAll(() => {
  bundle = writeBundle(testBundle(), {
    'nodes/node-1/pods/app_client/resolv.conf':
      'search app.svc.cluster.local svc.cluster.local cluster.local corp.example\nnameserver 10.96.0.10\noptions ndots:5\n',
  });
});
afterAll(() => rmSync(bundle, { recursive: true, force: true }));

describe('knet dns on a bundle', () => {
  it('prints the expected answer and exits 0', () => {
    const r = knet(['dns', 'svc-b.app.svc.cluster.local', '--snapshot', bundle]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Query:\s+svc-b\.app\.svc\.cluster\.local A/);
    expect(r.stdout).toMatch(/Zone:\s+cluster\.local/);
    expect(r.stdout).toMatch(/Zone:\s+cluster\.local\s+\(configmap\/kube-system\/coredns Corefile:7\)/);
    expect(r.stdout).toMatch(/expected\s+NOERROR — ClusterIP of app\/svc-b \(spec 2\.3\.1\)/);
    expect(r.stdout).toMatch(/actual\s+not asked/);
    expect(r.stdout).toMatch(/^\s+A 10\.96\.12\.34$/m);
  });

  it('writes the DnsCheck document', () => {
    const r = knet([
      'dns',
      '_http._tcp.headless.app.svc.cluster.local',
      '--type',
      'SRV',
      '--snapshot',
      bundle,
      '--json',
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({
      apiVersion: 'knet/v1',
      kind: 'DnsCheck',
      query: { name: '_http._tcp.headless.app.svc.cluster.local', type: 'SRV' },
      expected: { rcode: 'NOERROR' },
      actual: null,
      server: null,
    });
    expect(doc.expected.answers.map((a: { data: string }) => a.data).sort()).toEqual([
      '0 33 8080 web-0.headless.app.svc.cluster.local',
      '0 33 8080 web-1.headless.app.svc.cluster.local',
      '0 33 8080 web-2.headless.app.svc.cluster.local',
    ]);
  });

  it('expands a short name with the pod resolv.conf from the bundle', () => {
    const r = knet(['dns', 'svc-b.other-ns', '--from', 'pod/app/client', '--snapshot', bundle, '-o', 'yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('kind: DnsCheck');
    expect(r.stdout).toContain('resolvedName: svc-b.other-ns.svc.cluster.local');
    expect(r.stdout).toContain('nodes/node-1/pods/app_client/resolv.conf');
    const human = knet(['dns', 'svc-b.other-ns', '--from', 'pod/app/client', '--snapshot', bundle]);
    expect(human.stdout).toMatch(/1\s+svc-b\.other-ns\.app\.svc\.cluster\.local\s+nxdomain/);
    expect(human.stdout).toMatch(/2\s+svc-b\.other-ns\.svc\.cluster\.local\s+answer \(1\)\s+← answers/);
    expect(human.stdout).toMatch(/3\s+svc-b\.other-ns\.cluster\.local\s+nxdomain\s+not sent/);
  });

  it('looks up an IP with --type PTR', () => {
    const r = knet(['dns', '10.96.12.34', '--type', 'PTR', '--snapshot', bundle, '--json']);
    const doc = JSON.parse(r.stdout);
    expect(doc.query.name).toBe('34.12.96.10.in-addr.arpa');
    expect(doc.expected.answers[0].data).toBe('svc-b.app.svc.cluster.local');
  });

  it('rejects bad arguments with exit 2 and one line', () => {
    const r = knet(['dns', '10.96.12.34', '--snapshot', bundle]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('knet: "10.96.12.34" is an IP address: use --type PTR to look up its name\n');
    const s = knet(['dns', 'x', '--server', 'not-an-ip', '--snapshot', bundle]);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/^knet: not a DNS server address/);
    const p = knet(['dns', 'x', '--from', 'pod/app/nope', '--snapshot', bundle]);
    expect(p.code).toBe(2);
    expect(p.stderr).toMatch(/^knet: pod app\/nope not found/);
  });
});

if (!hasNamed) console.warn('SKIPPED knet dns --server tests: named (bind9) is not installed');

describe.skipIf(!hasNamed)('knet dns --server against BIND', () => {
  let good: BindServer;
  let stale: BindServer;
  beforeAll(async () => {
    const records = specRecords(testBundle());
    good = await startBind(zonesFor(records));
    stale = await startBind(zonesFor(withData(records, 'svc-b.app.svc.cluster.local', 'A', '10.96.99.99')));
  });
  afterAll(async () => {
    await good?.stop();
    await stale?.stop();
  });

  it('agrees with a correct server: exit 0, side by side', () => {
    const r = knet([
      'dns',
      'svc-b',
      '--from',
      'pod/app/client',
      '--server',
      `127.0.0.1:${good.port}`,
      '--snapshot',
      bundle,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/✓\s+A 10\.96\.12\.34\s+A 10\.96\.12\.34/);
    expect(r.stdout).toMatch(/1\s+svc-b\.app\.svc\.cluster\.local\s+answer \(1\)\s+answer \(1\)\s+← answers/);
    expect(r.stdout).toMatch(/actual\s+NOERROR from 127\.0\.0\.1:\d+ over UDP/);
    expect(r.stdout).toContain('No problems found.');
  });

  it('reports a stale record: exit 1 and DNS_ANSWER_MISMATCH', () => {
    const r = knet([
      'dns',
      'svc-b.app.svc.cluster.local',
      '--server',
      `127.0.0.1:${stale.port}`,
      '--snapshot',
      bundle,
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗\s+A 10\.96\.12\.34\s+missing/);
    expect(r.stdout).toMatch(/✗\s+not expected\s+A 10\.96\.99\.99/);
    expect(r.stdout).toContain('DNS_ANSWER_MISMATCH');
  });

  it('returns every record of the truncated answer', () => {
    const r = knet([
      'dns',
      'big.app.svc.cluster.local',
      '--server',
      `127.0.0.1:${good.port}`,
      '--snapshot',
      bundle,
      '--json',
    ]);
    const doc = JSON.parse(r.stdout);
    expect(doc.actual.transport).toBe('tcp');
    expect(doc.actual.truncatedUdp).toBe(true);
    expect(doc.actual.answers).toHaveLength(100);
    expect(doc.comparison.verdict).toBe('match');
  });

  it('reports a server that does not answer within the bound', () => {
    // The server just stopped listening: nothing answers on that port.
    const t0 = Date.now();
    const r = knet([
      'dns',
      'svc-b.app.svc.cluster.local',
      '--server',
      '127.0.0.1:9',
      '--timeout',
      '200',
      '--snapshot',
      bundle,
      '--json',
    ]);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.actual.rcode).toBeNull();
    expect(doc.findings.map((f: { code: string }) => f.code)).toContain('DNS_NO_RESPONSE');
  });
});

// The search-list walk checked against the real glibc resolver: `getent ahostsv4` (getaddrinfo)
// in a network namespace this test creates, whose /etc/resolv.conf (ip netns exec bind-mounts
// /etc/netns/NS/resolv.conf) points at a BIND on the namespace's own 127.0.0.1:53 with query
// logging. The queries BIND logs, in order, must be the ones knet predicts. Needs root.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchPlan } from '../../src/analyses/dns/search.js';
import { walkSearch } from '../../src/core/dns.js';
import { parseResolvConf } from '../../src/parsers/resolv-conf.js';
import { isRoot } from '../support/root.js';
import { type BindServer, hasNamed, startBind } from './bind.js';
import { testBundle } from './bundle.js';
import { specRecords, zonesFor } from './zonegen.js';

const hasTools = existsSync('/usr/bin/getent') && spawnSync('ip', ['-V']).status === 0;
const enabled = isRoot && hasNamed && hasTools;
if (!enabled) {
  console.warn('SKIPPED test/dns/glibc.test.ts: needs root, named (bind9), ip and getent');
}

const NS = `kdns-${process.pid}`;
const NETNS_ETC = `/etc/netns/${NS}`;

// Search domain corp.example is not BIND's zone: it answers REFUSED, which ends glibc's list walk.
const RESOLV = [
  'search app.svc.cluster.local svc.cluster.local cluster.local',
  'nameserver 127.0.0.1',
  'options ndots:5 attempts:1 timeout:2',
  '',
].join('\n');
const RESOLV_REFUSING = RESOLV.replace(
  'search app.svc.cluster.local',
  'search app.svc.cluster.local corp.example',
);

describe.skipIf(!enabled)('glibc resolver in a network namespace', () => {
  let server: BindServer | undefined;

  beforeAll(async () => {
    execFileSync('ip', ['netns', 'add', NS]);
    execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
    // getaddrinfo (AI_ADDRCONFIG) sends no A query without a non-loopback IPv4 address: give the
    // namespace a veth pair of its own, both ends inside it (nothing leaves the namespace).
    execFileSync('ip', ['-n', NS, 'link', 'add', 'kdnsa', 'type', 'veth', 'peer', 'name', 'kdnsb']);
    execFileSync('ip', ['-n', NS, 'addr', 'add', '192.0.2.1/24', 'dev', 'kdnsa']);
    execFileSync('ip', ['-n', NS, 'link', 'set', 'kdnsa', 'up']);
    execFileSync('ip', ['-n', NS, 'link', 'set', 'kdnsb', 'up']);
    mkdirSync(NETNS_ETC, { recursive: true });
    server = await startBind(zonesFor(specRecords(testBundle())), ['querylog yes;'], { port: 53, netns: NS });
  }, 30_000);

  afterAll(async () => {
    await server?.stop();
    rmSync(NETNS_ETC, { recursive: true, force: true });
    spawnSync('ip', ['netns', 'del', NS]);
  });

  /** Runs getent in the namespace; returns the address it printed and the queries BIND logged. */
  async function resolve(resolv: string, name: string): Promise<{ address?: string; queries: string[] }> {
    writeFileSync(`${NETNS_ETC}/resolv.conf`, resolv);
    const before = server!.log().length;
    const r = spawnSync('ip', ['netns', 'exec', NS, 'getent', 'ahostsv4', name], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    await new Promise((res) => setTimeout(res, 100)); // let named flush its log line
    const queries = [
      ...server!
        .log()
        .slice(before)
        .matchAll(/query: (\S+) IN A /g),
    ].map((m) => m[1].toLowerCase());
    return { address: r.status === 0 ? r.stdout.split(/\s+/)[0] : undefined, queries };
  }

  const conf = parseResolvConf(RESOLV);
  it.each([
    ['svc-b', '10.96.12.34'],
    ['svc-b.other-ns', '10.96.50.1'],
    ['svc-b.other-ns.svc', '10.96.50.1'],
    ['svc-b.other-ns.svc.cluster.local', '10.96.50.1'],
    ['svc-b.other-ns.svc.cluster.local.', '10.96.50.1'],
    ['web-0.headless.app.svc.cluster.local', '10.244.1.10'],
    ['nosuch', undefined],
  ])('%s: the queries glibc sends are the ones knet lists', async (name, address) => {
    const got = await resolve(RESOLV, name);
    const plan = searchPlan(name, conf);
    // Outcomes from what the server answered, then walked as knet walks them.
    const walk = walkSearch(
      plan.queries,
      (q) => {
        const i = got.queries.indexOf(q);
        return i === -1
          ? 'unknown'
          : q === got.queries[got.queries.length - 1] && got.address
            ? 'answer'
            : 'nxdomain';
      },
      plan,
    );
    expect(got.queries).toEqual(plan.queries.filter((_, i) => walk.steps[i].sent));
    expect(got.address).toBe(address);
    if (address) expect(walk.answeredBy).toBe(got.queries[got.queries.length - 1]);
  });

  it('a REFUSED search domain ends the list walk; the name as-is is still tried last', async () => {
    const refusing = parseResolvConf(RESOLV_REFUSING);
    const got = await resolve(RESOLV_REFUSING, 'svc-b.other-ns');
    const plan = searchPlan('svc-b.other-ns', refusing);
    const outcomes: Record<string, 'nxdomain' | 'error'> = {
      'svc-b.other-ns.app.svc.cluster.local': 'nxdomain',
      'svc-b.other-ns.corp.example': 'error',
      'svc-b.other-ns': 'error',
    };
    const walk = walkSearch(plan.queries, (q) => outcomes[q] ?? 'answer', plan);
    expect(got.queries).toEqual([
      'svc-b.other-ns.app.svc.cluster.local',
      'svc-b.other-ns.corp.example',
      'svc-b.other-ns',
    ]);
    expect(plan.queries.filter((_, i) => walk.steps[i].sent)).toEqual(got.queries);
    expect(got.address).toBeUndefined();
  });

  it('a name with ndots dots goes as-is first and on through the list when that fails', async () => {
    const name = 'web-0.headless.app.svc';
    const got = await resolve(RESOLV.replace('ndots:5', 'ndots:3'), name);
    const plan = searchPlan(name, { ...conf, ndots: 3 });
    expect(plan.asIsFirst).toBe(true);
    // As-is is REFUSED (not BIND's zone), then the list: .app.svc… NX, .svc… NX, .cluster.local answers.
    expect(got.queries).toEqual(plan.queries.slice(0, 4));
    expect(got.address).toBe('10.244.1.10');
  });
});

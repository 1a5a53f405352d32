// Against real tools (root only): load the generated kube-proxy rules into network
// namespaces this test creates (prefix knp-), read them back with iptables-save /
// nft -j list ruleset, and compare with the fixtures the unit tests use; then send real
// TCP connections through the kernel and compare with simulatePacket.
// KNET_UPDATE_FIXTURES=1 rewrites the fixtures from the captures.
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { renderKubeProxyIptables } from '../../src/analyses/proxy/expected-iptables.js';
import { loadNodeProxy, simulatePacket } from '../../src/analyses/proxy/simulate.js';
import { kubeProxyIpvsSetup } from '../support/kube-proxy-ipvs.js';
import { kubeProxyNftScript } from '../support/kube-proxy-nft.js';
import { isRoot } from '../support/root.js';
import { FIXTURES, fixture, modelWithFiles, pkt } from './helpers.js';
import { NODE, NODE_IP, scenarioModel } from './scenario.js';

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const canRun = isRoot && have('ip') && have('iptables-restore') && have('nft');
if (!canRun) console.warn('test/proxy/capture.test.ts: skipped (needs root, ip, iptables-restore and nft)');
else if (!have('ipset'))
  console.warn('test/proxy/capture.test.ts: IPVS capture skipped (needs the ipset tool)');

const UPDATE = process.env.KNET_UPDATE_FIXTURES === '1';
const PROBE = join(dirname(fileURLToPath(import.meta.url)), 'netns-probe.mjs');
const created: string[] = [];

function netns(suffix: string): string {
  const name = `knp-${process.pid}-${suffix}`;
  execFileSync('ip', ['netns', 'add', name]);
  created.push(name);
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return name;
}

function inNs(ns: string, cmd: string, args: string[], input?: string): string {
  return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { input, encoding: 'utf8', timeout: 20000 });
}

/** Comment lines carry dates and versions: not part of the comparison. */
const stripComments = (t: string) =>
  t
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');

function compareOrUpdate(name: string, captured: string, normalize: (t: string) => unknown) {
  if (UPDATE) writeFileSync(join(FIXTURES, name), captured);
  expect(normalize(captured)).toEqual(normalize(fixture(name)));
}

/** A namespace that looks like the test node: its IP on a dummy uplink and the local endpoints. */
function nodeLikeNs(suffix: string, localEndpoints: string[]): string {
  const ns = netns(suffix);
  // Both ends of the veth stay inside the namespace: nothing touches the machine's interfaces.
  execFileSync('ip', ['-n', ns, 'link', 'add', 'uplink0', 'type', 'veth', 'peer', 'name', 'uplink1']);
  execFileSync('ip', ['-n', ns, 'addr', 'add', `${NODE_IP}/24`, 'dev', 'uplink0']);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'uplink0', 'up']);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'uplink1', 'up']);
  execFileSync('ip', ['-n', ns, 'route', 'add', 'default', 'dev', 'uplink0']);
  for (const ip of localEndpoints) execFileSync('ip', ['-n', ns, 'addr', 'add', `${ip}/32`, 'dev', 'lo']);
  return ns;
}

function probe(ns: string, listen: string[], targets: string[]): Record<string, string> {
  const out = inNs(ns, process.execPath, [PROBE, listen.join(','), targets.join(','), '400']);
  return JSON.parse(out).results;
}

const REAL_FLOWS: { to: string; iptables: string; nftables: string }[] = [
  // one local endpoint behind the ClusterIP: DNAT, then delivered to the listener
  { to: '172.30.0.41:80', iptables: 'connected', nftables: 'connected' },
  // no endpoints: kube-proxy REJECT → ECONNREFUSED
  { to: '172.30.0.46:80', iptables: 'refused', nftables: 'refused' },
  // iTP=Local without local endpoints: DROP → timeout
  { to: '172.30.0.47:80', iptables: 'timeout', nftables: 'timeout' },
  // a port the service does not have: nftables rejects, iptables lets it through (nothing answers)
  { to: '172.30.0.41:81', iptables: 'timeout', nftables: 'refused' },
];

describe.skipIf(!canRun)('real tools: iptables-restore / iptables-save (knp- namespaces)', () => {
  afterAll(() => {
    for (const ns of created.splice(0)) spawnSync('ip', ['netns', 'del', ns]);
  });

  it('generated iptables rules load, and iptables-save prints the fixture', () => {
    const ns = netns('ipt');
    inNs(ns, 'iptables-restore', [], renderKubeProxyIptables(scenarioModel(), NODE));
    const saved = inNs(ns, 'iptables-save', []);
    compareOrUpdate('iptables-save.scenario.txt', saved, stripComments);
    // The kernel holds exactly the rules kube-proxy would: -C finds them.
    inNs(ns, 'iptables', [
      '-t',
      'nat',
      '-C',
      'KUBE-SERVICES',
      '-d',
      '172.30.0.41/32',
      '-p',
      'tcp',
      '-m',
      'comment',
      '--comment',
      'ns1/svc1:p80 cluster IP',
      '-m',
      'tcp',
      '--dport',
      '80',
      '-j',
      'KUBE-SVC-XPGD46QRK7WJZT7O',
    ]);
  });

  it('iptables -S output parses the same as iptables-save', () => {
    const ns = netns('ipts');
    inNs(ns, 'iptables-restore', [], renderKubeProxyIptables(scenarioModel(), NODE));
    const s = inNs(ns, 'iptables', ['-t', 'nat', '-S']);
    if (UPDATE) writeFileSync(join(FIXTURES, 'iptables-S-nat.scenario.txt'), s);
    expect(s).toBe(fixture('iptables-S-nat.scenario.txt'));
  });

  it('real TCP connections agree with simulatePacket', () => {
    const ns = nodeLikeNs('iptk', ['10.180.0.1']);
    inNs(ns, 'iptables-restore', [], renderKubeProxyIptables(scenarioModel(), NODE));
    const real = probe(
      ns,
      ['10.180.0.1:80'],
      REAL_FLOWS.map((f) => f.to),
    );
    const rules = loadNodeProxy(
      modelWithFiles({ 'iptables-save.txt': inNs(ns, 'iptables-save', []) }),
      NODE,
    )!;
    for (const f of REAL_FLOWS) {
      expect(real[f.to]).toBe(f.iptables);
      const flow = simulatePacket(rules, pkt('local', NODE_IP, f.to));
      const expected = {
        connected: 'dnat',
        refused: 'reject',
        timeout: f.to.endsWith(':81') ? 'pass' : 'drop',
      }[f.iptables];
      expect(flow.outcome).toBe(expected);
    }
  });
});

describe.skipIf(!canRun)('real tools: nft -f / nft -j list ruleset (knp- namespaces)', () => {
  afterAll(() => {
    for (const ns of created.splice(0)) spawnSync('ip', ['netns', 'del', ns]);
  });
  const nftInput = () => kubeProxyNftScript(scenarioModel(), NODE, { serviceCIDRs: ['172.30.0.0/16'] });
  const normalizeJson = (t: string) => {
    const doc = JSON.parse(t) as { nftables: Record<string, unknown>[] };
    return doc.nftables.filter((x) => !('metainfo' in x));
  };

  it('generated nftables rules load, and nft -j prints the fixture', () => {
    const ns = netns('nft');
    inNs(ns, 'nft', ['-f', '-'], nftInput());
    compareOrUpdate('nft.scenario.json', inNs(ns, 'nft', ['-j', 'list', 'ruleset']), normalizeJson);
    const text = inNs(ns, 'nft', ['list', 'table', 'ip', 'kube-proxy']);
    expect(text).toContain(
      'numgen random mod 2 vmap { 0 : goto endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80',
    );
  });

  it('real TCP connections agree with simulatePacket', () => {
    const ns = nodeLikeNs('nftk', ['10.180.0.1']);
    inNs(ns, 'nft', ['-f', '-'], nftInput());
    const real = probe(
      ns,
      ['10.180.0.1:80'],
      REAL_FLOWS.map((f) => f.to),
    );
    const rules = loadNodeProxy(
      modelWithFiles({ 'nft.json': inNs(ns, 'nft', ['-j', 'list', 'ruleset']) }),
      NODE,
    )!;
    for (const f of REAL_FLOWS) {
      expect(real[f.to]).toBe(f.nftables);
      const flow = simulatePacket(rules, pkt('local', NODE_IP, f.to));
      expect(flow.outcome).toBe({ connected: 'dnat', refused: 'reject', timeout: 'drop' }[f.nftables]);
    }
  });
});

describe.skipIf(!canRun || !have('ipset'))('real tools: IPVS-mode iptables + ipset (knp- namespaces)', () => {
  afterAll(() => {
    for (const ns of created.splice(0)) spawnSync('ip', ['netns', 'del', ns]);
  });
  it('IPVS-mode rules and ipsets load, and iptables-save prints the fixture', () => {
    const ns = netns('ipvs');
    const r = kubeProxyIpvsSetup(scenarioModel(), NODE);
    inNs(ns, 'ipset', ['restore'], r.ipset);
    inNs(ns, 'iptables-restore', [], r.iptables);
    compareOrUpdate('iptables-save.ipvs.txt', inNs(ns, 'iptables-save', []), stripComments);
    // ipvsadm needs the ip_vs kernel module, absent here: the -Sn fixture is the generator's
    // output in ipvsadm's save format (parsed back by the unit tests).
    if (UPDATE) writeFileSync(join(FIXTURES, 'ipvsadm.scenario.txt'), r.ipvsadm);
    expect(r.ipvsadm).toBe(fixture('ipvsadm.scenario.txt'));
  });
});

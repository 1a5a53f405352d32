// The iproute2 parsers against the live tool: builds a small node in throw-away network
// namespaces (prefix kni-), with values drawn per run, and checks that what the parsers read
// from `ip -j …` is what was configured. Needs root; skips with a message otherwise.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIpAddr, parseIpLink, parseIpRoute, parseIpRule } from '../../src/parsers/iproute2.js';
import { parseSysctl } from '../../src/parsers/sysctl.js';
import { isRoot } from '../support/root.js';

if (!isRoot)
  console.warn('[knet parsers] not root: the live iproute2 tests are skipped (they need network namespaces)');

const P = `kni-${process.pid}-`;
const NODE = `${P}node`;
const POD = `${P}pod`;

function sh(...argv: string[]): string {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr || r.error}`);
  return r.stdout;
}
const ip = (ns: string, ...args: string[]) => sh('ip', '-n', ns, ...args);

// Drawn per run, so that no expected value can be hard-coded in the parser or the test.
const rnd = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));
const octet = rnd(10, 200);
const mtu = rnd(1280, 1480);
const table = rnd(100, 250);
const vni = rnd(2, 4000);
const port = rnd(4000, 9000);
const prio = rnd(1000, 2000);

describe.skipIf(!isRoot)('iproute2 parsers on live output', () => {
  beforeAll(() => {
    for (const ns of [NODE, POD]) sh('ip', 'netns', 'add', ns);
    ip(NODE, 'link', 'set', 'lo', 'up');
    ip(NODE, 'link', 'add', 'vethpod', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', POD);
    ip(NODE, 'link', 'add', 'cni0', 'type', 'bridge');
    ip(NODE, 'addr', 'add', `10.${octet}.1.1/24`, 'dev', 'cni0');
    ip(NODE, 'link', 'set', 'cni0', 'up');
    ip(NODE, 'link', 'set', 'vethpod', 'mtu', String(mtu), 'master', 'cni0', 'up');
    ip(POD, 'addr', 'add', `10.${octet}.1.7/24`, 'dev', 'eth0');
    ip(POD, 'link', 'set', 'eth0', 'mtu', String(mtu), 'up');
    ip(POD, 'route', 'add', 'default', 'via', `10.${octet}.1.1`);
    ip(NODE, 'link', 'add', 'uplink', 'type', 'veth', 'peer', 'name', 'uplink-peer');
    ip(NODE, 'addr', 'add', `172.${octet}.0.2/24`, 'dev', 'uplink');
    ip(NODE, 'link', 'set', 'uplink', 'up');
    ip(NODE, 'link', 'set', 'uplink-peer', 'down');
    ip(
      NODE,
      'link',
      'add',
      'vx0',
      'type',
      'vxlan',
      'id',
      String(vni),
      'local',
      `172.${octet}.0.2`,
      'dev',
      'uplink',
      'dstport',
      String(port),
    );
    ip(NODE, 'link', 'set', 'vx0', 'up');
    ip(NODE, 'route', 'add', `10.${octet}.2.0/24`, 'via', `10.${octet}.2.0`, 'dev', 'vx0', 'onlink');
    ip(NODE, 'route', 'add', 'default', 'via', `172.${octet}.0.1`, 'table', String(table));
    ip(NODE, 'rule', 'add', 'from', `10.${octet}.1.0/24`, 'lookup', String(table), 'pref', String(prio));
  });

  afterAll(() => {
    for (const ns of [NODE, POD]) spawnSync('ip', ['netns', 'del', ns], { timeout: 10_000 });
    const left = sh('ip', 'netns', 'list');
    expect(left).not.toContain(P);
  });

  it('reads addresses and the veth peer across namespaces', () => {
    const node = parseIpAddr(ip(NODE, '-j', 'addr', 'show'), 'node');
    const pod = parseIpAddr(ip(POD, '-j', 'addr', 'show'), 'pod');
    expect(node.find((i) => i.ifname === 'cni0')?.addresses[0].cidr).toBe(`10.${octet}.1.1/24`);
    const eth0 = pod.find((i) => i.ifname === 'eth0')!;
    expect(eth0).toMatchObject({ mtu, up: true });
    expect(eth0.addresses[0].cidr).toBe(`10.${octet}.1.7/24`);
    expect(node.find((i) => i.ifindex === eth0.linkIndex)?.ifname).toBe('vethpod');
  });

  it('reads kinds, masters, state and VXLAN parameters', () => {
    const links = parseIpLink(ip(NODE, '-j', '-d', 'link', 'show'), 'node');
    const by = (n: string) => links.find((l) => l.ifname === n);
    expect(by('vethpod')).toMatchObject({ kind: 'veth', master: 'cni0', slaveKind: 'bridge', mtu, up: true });
    expect(by('uplink-peer')).toMatchObject({ kind: 'veth', up: false, link: 'uplink' });
    expect(by('uplink')).toMatchObject({ up: true, operstate: 'LOWERLAYERDOWN' });
    expect(by('vx0')).toMatchObject({ kind: 'vxlan', up: true });
    expect(by('vx0')?.vxlan).toMatchObject({ id: vni, local: `172.${octet}.0.2`, dev: 'uplink', port });
    expect(by('cni0')?.kind).toBe('bridge');
  });

  it('reads routes of every table, onlink flags and rules', () => {
    const routes = parseIpRoute(ip(NODE, '-j', 'route', 'show', 'table', 'all'), 'node');
    expect(routes.find((r) => r.dst === `10.${octet}.2.0/24`)).toMatchObject({
      gateway: `10.${octet}.2.0`,
      dev: 'vx0',
      table: 'main',
      flags: expect.arrayContaining(['onlink']),
    });
    expect(routes.find((r) => r.dst === 'default' && r.table === String(table))).toMatchObject({
      gateway: `172.${octet}.0.1`,
      family: 4,
    });
    const rules = parseIpRule(ip(NODE, '-j', 'rule', 'show'), 'node');
    expect(rules.find((r) => r.priority === prio)).toMatchObject({
      from: `10.${octet}.1.0/24`,
      table: String(table),
    });
    const podRoutes = parseIpRoute(ip(POD, '-j', 'route', 'show'), 'pod');
    expect(podRoutes[0]).toMatchObject({ dst: 'default', gateway: `10.${octet}.1.1`, dev: 'eth0' });
  });

  it('reads the namespace sysctls', () => {
    sh('ip', 'netns', 'exec', NODE, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    const text = spawnSync('ip', ['netns', 'exec', NODE, 'sysctl', '-a'], {
      encoding: 'utf8',
      timeout: 10_000,
    }).stdout;
    const map = parseSysctl(text, 'sysctl');
    expect(map.get('net.ipv4.ip_forward')).toBe('1');
    // ip_forward sets every interface's forwarding flag.
    expect(map.get('net.ipv4.conf.vethpod.forwarding')).toBe('1');
    expect(map.get('net.ipv4.conf.vx0.forwarding')).toBe('1');
  });
});

// iproute2 JSON parsers, on output captured from real `ip -j` (test/fixtures/iproute2/capture.sh
// describes the namespaces the fixtures were taken from).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../src/core/errors.js';
import {
  parseIpAddr,
  parseIpLink,
  parseIpRoute,
  parseIpRule,
  topLevelElementLines,
} from '../../src/parsers/iproute2.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'iproute2');
const fixture = (name: string) => readFileSync(join(dir, name), 'utf8');

function parseError(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ParseError) return err;
    throw err;
  }
  throw new Error('expected a ParseError');
}

describe('parseIpAddr (ip -j addr show)', () => {
  const ifaces = parseIpAddr(fixture('node-ip-addr.json'), 'node-ip-addr.json');
  const byName = new Map(ifaces.map((i) => [i.ifname, i]));

  it('lists every interface of the node in ifindex order', () => {
    expect(ifaces.map((i) => i.ifname)).toEqual([
      'lo',
      'eth0',
      'cni0',
      'veth-a',
      'veth-b',
      'veth-c-peer',
      'veth-c',
      'flannel.1',
      'br-spare',
    ]);
    expect(ifaces.map((i) => i.ifindex)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('reads IPv4 and IPv6 addresses with prefix, scope and flags', () => {
    const eth0 = byName.get('eth0')!;
    expect(eth0.addresses.map((a) => `${a.family} ${a.cidr} ${a.scope}`)).toEqual([
      'inet 172.18.0.2/24 global',
      'inet6 fd00:18::2/64 global',
      expect.stringMatching(/^inet6 fe80::[0-9a-f:]+\/64 link$/),
    ]);
    expect(eth0.addresses[1].flags).toContain('nodad');
    expect(eth0.addresses[0].label).toBe('eth0');
    expect(eth0.addresses[0].validLifetime).toBe(4294967295);
    expect(byName.get('cni0')!.addresses[0].cidr).toBe('10.244.1.1/24');
    expect(byName.get('flannel.1')!.addresses[0]).toMatchObject({ local: '10.244.1.0', prefixlen: 32 });
  });

  it('reads state, master and veth peers', () => {
    expect(byName.get('veth-a')).toMatchObject({ up: true, lowerUp: true, master: 'cni0', operstate: 'UP' });
    expect(byName.get('veth-b')).toMatchObject({
      up: false,
      lowerUp: false,
      master: 'cni0',
      operstate: 'DOWN',
    });
    expect(byName.get('veth-b')!.addresses).toEqual([]);
    expect(byName.get('veth-c')).toMatchObject({ link: 'veth-c-peer' });
    expect(byName.get('veth-c')!.master).toBeUndefined();
    expect(byName.get('lo')).toMatchObject({
      up: true,
      operstate: 'UNKNOWN',
      linkType: 'loopback',
      mtu: 65536,
    });
  });

  it("maps a pod's eth0 to its host-side veth through link_index", () => {
    const pod = parseIpAddr(fixture('pod-ip-addr.json'), 'pod-ip-addr.json');
    const eth0 = pod.find((i) => i.ifname === 'eth0')!;
    expect(eth0.addresses[0].cidr).toBe('10.244.1.5/24');
    expect(eth0.linkNetnsid).toBe(0);
    const hostSide = ifaces.find((i) => i.ifindex === eth0.linkIndex);
    expect(hostSide?.ifname).toBe('veth-a');
  });

  it('parses the pretty-printed form (ip -j -p) to the same result', () => {
    expect(parseIpAddr(fixture('node-ip-addr.pretty.json'), 'x')).toEqual(ifaces);
  });
});

describe('parseIpLink (ip -j -d link show)', () => {
  const links = parseIpLink(fixture('node-ip-link.json'), 'node-ip-link.json');
  const byName = new Map(links.map((l) => [l.ifname, l]));

  it('reads the kind of every device', () => {
    expect(links.map((l) => `${l.ifname}:${l.kind ?? '-'}`)).toEqual([
      'lo:-',
      'eth0:veth',
      'cni0:bridge',
      'veth-a:veth',
      'veth-b:veth',
      'veth-c-peer:veth',
      'veth-c:veth',
      'flannel.1:vxlan',
      'br-spare:bridge',
    ]);
  });

  it('reads veth peers in another namespace (link_index + link_netnsid) and bridge ports', () => {
    expect(byName.get('veth-a')).toMatchObject({
      master: 'cni0',
      slaveKind: 'bridge',
      linkIndex: 2,
      linkNetnsid: 1,
      bridgePort: { state: 'forwarding', hairpin: false },
    });
    expect(byName.get('veth-b')).toMatchObject({ up: false, operstate: 'DOWN', linkNetnsid: 2 });
    expect(byName.get('veth-b')!.bridgePort?.state).toBe('disabled');
    expect(byName.get('eth0')).toMatchObject({ linkIndex: 2, linkNetnsid: 0 });
    expect(byName.get('veth-c')).toMatchObject({ link: 'veth-c-peer' });
    expect(byName.get('veth-c')!.slaveKind).toBeUndefined();
  });

  it('reads VXLAN parameters', () => {
    const vx = byName.get('flannel.1')!;
    expect(vx.vxlan).toEqual({ id: 1, local: '172.18.0.2', dev: 'eth0', port: 8472, learning: false });
    expect(vx.mtu).toBe(1450);
    expect(vx.operstate).toBe('UNKNOWN');
    expect(vx.up).toBe(true);
  });

  it('reads bridge parameters and a bridge that is down', () => {
    expect(byName.get('cni0')!.bridge).toEqual({ stpState: 0, vlanFiltering: false });
    expect(byName.get('cni0')!.infoData?.forward_delay).toBe(1500);
    expect(byName.get('br-spare')).toMatchObject({ up: false, operstate: 'DOWN', kind: 'bridge' });
  });

  it('records the line of each entry for evidence', () => {
    expect(links.every((l) => l.line === 1)).toBe(true);
  });

  it('parses a pod namespace', () => {
    const pod = parseIpLink(fixture('pod-ip-link.json'), 'pod-ip-link.json');
    expect(pod.find((l) => l.ifname === 'eth0')).toMatchObject({
      kind: 'veth',
      linkIndex: 4,
      linkNetnsid: 0,
    });
  });
});

describe('parseIpRoute (ip -j route show table all)', () => {
  const routes = parseIpRoute(fixture('node-ip-route.json'), 'node-ip-route.json');
  const find = (dst: string, table = 'main') => routes.find((r) => r.dst === dst && r.table === table);

  it('applies the defaults iproute2 does not print', () => {
    expect(find('10.244.2.0/24')).toMatchObject({
      type: 'unicast',
      table: 'main',
      scope: 'global',
      gateway: '172.18.0.3',
      dev: 'eth0',
      family: 4,
      flags: [],
    });
    expect(find('10.244.2.0/24')!.protocol).toBeUndefined();
  });

  it('reads kernel routes with prefsrc and scope link', () => {
    expect(find('10.244.1.0/24')).toMatchObject({
      dev: 'cni0',
      protocol: 'kernel',
      scope: 'link',
      prefsrc: '10.244.1.1',
    });
  });

  it('reads onlink routes', () => {
    expect(find('10.244.3.0/24')).toMatchObject({
      gateway: '10.244.3.0',
      dev: 'flannel.1',
      flags: ['onlink'],
    });
  });

  it('reads several tables', () => {
    expect(find('default', '100')).toMatchObject({ gateway: '172.18.0.1', dev: 'eth0', family: 4 });
    expect(find('10.0.0.0/16', '200')).toMatchObject({ protocol: 'static', scope: 'link' });
    const tables = new Set(routes.map((r) => r.table));
    expect([...tables].sort()).toEqual(['100', '200', 'local', 'main']);
    expect(find('10.244.1.1', 'local')).toMatchObject({ type: 'local', scope: 'host', dev: 'cni0' });
    expect(find('10.244.1.255', 'local')).toMatchObject({ type: 'broadcast' });
  });

  it('reads route types without a device', () => {
    expect(find('10.250.0.0/16')).toMatchObject({ type: 'blackhole' });
    expect(find('10.251.0.0/16')).toMatchObject({ type: 'unreachable' });
    expect(find('10.252.0.0/16')).toMatchObject({ type: 'prohibit' });
    expect(find('10.250.0.0/16')!.dev).toBeUndefined();
  });

  it('reads multipath next hops', () => {
    const r = find('10.96.0.0/12')!;
    expect(r.gateway).toBeUndefined();
    expect(r.nexthops).toEqual([
      { gateway: '172.18.0.3', dev: 'eth0', weight: 1, flags: [] },
      { gateway: '172.18.0.4', dev: 'eth0', weight: 2, flags: [] },
    ]);
    expect(r.family).toBe(4);
  });

  it('infers the address family, also for default routes', () => {
    const v6default = routes.find((r) => r.dst === 'default' && r.gateway === 'fd00:18::1')!;
    expect(v6default).toMatchObject({ family: 6, metric: 1024, table: 'main' });
    expect(routes.filter((r) => r.dst === 'fe80::/64').every((r) => r.family === 6)).toBe(true);
    expect(routes.find((r) => r.dst === 'ff00::/8')!.type).toBe('multicast');
    expect(routes.filter((r) => r.family === undefined)).toEqual([]);
  });

  it('parses a pod namespace (main table only) and an almost empty namespace', () => {
    const pod = parseIpRoute(fixture('pod-ip-route.json'), 'pod-ip-route.json');
    expect(pod.map((r) => `${r.dst} ${r.gateway ?? '-'} ${r.dev}`)).toEqual([
      'default 10.244.1.1 eth0',
      '10.244.1.0/24 - eth0',
    ]);
    expect(parseIpRoute(fixture('peer-ip-route.json'), 'x')).toHaveLength(3);
    expect(parseIpRoute('[]', 'x')).toEqual([]);
  });

  it('gives each entry of the pretty form its own line', () => {
    const text = fixture('node-ip-route.pretty.json');
    const pretty = parseIpRoute(text, 'x');
    expect(pretty.map(({ line, ...r }) => r)).toEqual(routes.map(({ line, ...r }) => r));
    const lines = text.split('\n');
    for (const r of pretty) {
      // The entry's first field is on its line or the next (iproute2 prints "[ {" / "},{").
      const window = `${lines[r.line - 1]}\n${lines[r.line] ?? ''}`;
      expect(window).toContain(r.type === 'unicast' ? `"dst": "${r.dst}"` : `"type": "${r.type}"`);
    }
    expect(new Set(pretty.map((r) => r.line)).size).toBe(pretty.length);
  });
});

describe('parseIpRule (ip -j rule show)', () => {
  const rules = parseIpRule(fixture('node-ip-rule.json'), 'node-ip-rule.json');

  it('reads priorities, selectors, tables and actions', () => {
    expect(
      rules.map(
        (r) => `${r.priority} ${r.not ? 'not ' : ''}from ${r.from} to ${r.to} ${r.action} ${r.table ?? ''}`,
      ),
    ).toEqual([
      '0 from all to all lookup local',
      '100 from 10.244.1.0/24 to all lookup 100',
      '200 from all to all lookup 200',
      '300 from all to all lookup main',
      '400 not from all to 10.0.0.0/8 unreachable ',
      '32766 from all to all lookup main',
      '32767 from all to all lookup default',
    ]);
    expect(rules[2]).toMatchObject({ fwmark: '0x4000', fwmask: '0x4000' });
    expect(rules[3].iif).toBe('cni0');
  });
});

describe('malformed input', () => {
  it('names the line of a syntax error', () => {
    const text = fixture('node-ip-route.pretty.json').replace(
      '"gateway": "172.18.0.3"',
      '"gateway" "172.18.0.3"',
    );
    const err = parseError(() => parseIpRoute(text, 'nodes/n1/ip-route.json'));
    const expected = text.split('\n').findIndex((l) => l.includes('"gateway" "172.18.0.3"')) + 1;
    expect(expected).toBeGreaterThan(1);
    expect(err.line).toBe(expected);
    expect(err.file).toBe('nodes/n1/ip-route.json');
    expect(err.message).toMatch(new RegExp(`^nodes/n1/ip-route.json:${expected}: invalid JSON`));
  });

  it('names the last line of a truncated file', () => {
    const lines = fixture('node-ip-addr.pretty.json').split('\n');
    for (const n of [40, 111]) {
      const cut = `${lines.slice(0, n).join('\n')}\n`;
      const err = parseError(() => parseIpAddr(cut, 'a.json'));
      expect(err.line).toBe(n);
      expect(err.message).toMatch(/^a.json:\d+: invalid JSON/);
    }
    // A document cut right after a complete value: V8 gives no position.
    const err = parseError(() => parseIpAddr('[ {\n  "ifindex": 1\n', 'a.json'));
    expect(err.message).toBe('a.json:2: invalid JSON: unexpected end of input');
  });

  it('says which command was expected when given plain-text output', () => {
    const err = parseError(() => parseIpAddr('1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536\n', 'ip-addr.json'));
    expect(err.line).toBe(1);
    expect(err.message).toContain('ip -j addr show');
    expect(parseError(() => parseIpRoute('', 'r.json')).message).toBe(
      'r.json:1: empty file (expected the output of `ip -j route show table all`)',
    );
    expect(parseError(() => parseIpRule('{"priority": 0}', 'r.json')).message).toContain(
      'expected a JSON array',
    );
  });

  it('names the line of an entry that lacks a required field', () => {
    const text = '[ {\n  "ifindex": 1,\n  "ifname": "lo"\n},{\n  "ifindex": 2,\n  "flags": []\n} ]\n';
    const err = parseError(() => parseIpLink(text, 'l.json'));
    expect(err.message).toBe('l.json:4: interface 2: missing field "ifname"');
  });

  it('rejects wrong field types and bad addresses', () => {
    expect(parseError(() => parseIpLink('[{"ifindex":"x","ifname":"a"}]', 'l')).message).toContain(
      'field "ifindex" must be a number',
    );
    expect(parseError(() => parseIpRoute('[{"dst":"10.0.0.0/33"}]', 'r')).message).toContain('"dst" is not');
    expect(parseError(() => parseIpRoute('[{"dst":"default","gateway":"nope"}]', 'r')).message).toContain(
      'field "gateway" is not an IP address',
    );
    const addr =
      '[{"ifindex":1,"ifname":"x","addr_info":[{"family":"inet","local":"1.2.3.4","prefixlen":40}]}]';
    expect(parseError(() => parseIpAddr(addr, 'a')).message).toContain('prefix length 40 exceeds 32');
    expect(parseError(() => parseIpAddr('[1]', 'a')).message).toBe('a:1: entry 1 is not an object');
  });
});

describe('topLevelElementLines', () => {
  it('finds the start line of each element, ignoring brackets inside strings and nesting', () => {
    const text = '[\n{"a":"[{,"},\n\n {"b":[1,\n2]}, 3\n,"x\\"]"\n]';
    expect(topLevelElementLines(text)).toEqual([2, 4, 5, 6]);
    expect(topLevelElementLines('[]')).toEqual([]);
  });
});

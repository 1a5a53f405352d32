// sysctl parser, on `sysctl -a -r '^net\.'` captured in a network namespace
// (test/fixtures/iproute2/capture.sh).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ipForwarding } from '../../src/analyses/dataplane/sysctls.js';
import { ParseError } from '../../src/core/errors.js';
import { parseSysctl } from '../../src/parsers/sysctl.js';

const text = readFileSync(
  join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'iproute2', 'node-sysctl.txt'),
  'utf8',
);

describe('parseSysctl', () => {
  const map = parseSysctl(text, 'sysctl.txt');

  it('reads one key per line', () => {
    expect(map.size).toBe(text.trimEnd().split('\n').length);
    expect(map.get('net.ipv4.ip_forward')).toBe('1');
    expect(map.get('net.ipv6.conf.all.forwarding')).toBe('0');
    expect([...map.keys()].every((k) => k.startsWith('net.'))).toBe(true);
  });

  it('keeps the tabs of multi-value keys and empty values', () => {
    expect(map.get('net.ipv4.tcp_rmem')).toMatch(/^\d+\t\d+\t\d+$/);
    expect(map.get('net.ipv4.ip_local_port_range')).toMatch(/^\d+\t\d+$/);
    expect(map.get('net.ipv4.ip_local_reserved_ports')).toBe('');
  });

  it('keeps per-interface keys, with dots in interface names printed as slashes', () => {
    expect(map.get('net.ipv4.conf.cni0.forwarding')).toBe('1');
    expect(map.has('net.ipv4.conf.flannel/1.rp_filter')).toBe(true);
    expect(map.has('net.ipv4.conf.veth-a.proxy_arp')).toBe(true);
  });

  it('answers ip forwarding per family, and undefined when the key is absent', () => {
    expect(ipForwarding(map)).toBe(true);
    expect(ipForwarding(map, 6)).toBe(false);
    expect(ipForwarding(parseSysctl('net.ipv4.ip_forward = 0\n', 'x'))).toBe(false);
    expect(ipForwarding(parseSysctl('', 'x'))).toBeUndefined();
  });

  it('accepts sysctl.conf style (comments, no spaces, CRLF)', () => {
    const m = parseSysctl('# c\n; c\n\nnet.ipv4.ip_forward=1\r\nkernel.x =  a b \n', 'x');
    expect([...m]).toEqual([
      ['net.ipv4.ip_forward', '1'],
      ['kernel.x', 'a b'],
    ]);
  });

  it('reports a malformed line with file and line', () => {
    const bad = `${text.split('\n').slice(0, 41).join('\n')}\nsysctl: permission denied on key 'x'\n`;
    let err: unknown;
    try {
      parseSysctl(bad, 'nodes/n1/sysctl.txt');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParseError);
    expect((err as ParseError).line).toBe(42);
    expect((err as ParseError).message).toMatch(/^nodes\/n1\/sysctl.txt:42: /);
    expect(() => parseSysctl(' = 1\n', 'x')).toThrow('x:1: invalid sysctl key');
  });
});

// resolv.conf parsing on real files (the host's, systemd-resolved's stub file, a pod's file as
// containerd writes it from kubelet's DNS config) and on the cases glibc handles specially.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../src/core/errors.js';
import { formatResolvConf, parseResolvConf } from '../../src/parsers/resolv-conf.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/dns/resolv/${name}`, import.meta.url), 'utf8');

describe('parseResolvConf', () => {
  it('reads a container host file (nameserver only: ndots 1, no search)', () => {
    const c = parseResolvConf(fixture('host-container.conf'), 'host-container.conf');
    expect(c.nameservers).toEqual(['10.255.255.53']);
    expect(c.search).toEqual([]);
    expect(c.ndots).toBe(1);
    expect(c.warnings).toEqual([]);
  });

  it("reads systemd-resolved's stub file: comments, boolean options, search .", () => {
    const c = parseResolvConf(fixture('systemd-stub.conf'));
    expect(c.nameservers).toEqual(['127.0.0.53']);
    expect(c.options).toEqual({ edns0: true, 'trust-ad': true });
    expect(c.search).toEqual([]);
  });

  it('reads a pod file as containerd writes it', () => {
    const c = parseResolvConf(fixture('containerd-pod.conf'), 'nodes/n1/pods/app_web/resolv.conf');
    expect(c).toMatchObject({
      nameservers: ['10.96.0.10'],
      search: ['app.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example'],
      ndots: 5,
      source: 'file',
      origin: 'nodes/n1/pods/app_web/resolv.conf',
    });
  });

  it('applies glibc rules: last search/domain wins, 3 nameservers, ndots capped at 15, ; comments', () => {
    const c = parseResolvConf(
      [
        'domain corp.example',
        'search a.example b.example. ; trailing comment',
        'nameserver 10.0.0.1',
        'nameserver 10.0.0.2 # inline',
        'nameserver fe80::1%eth0',
        'nameserver 10.0.0.4',
        'options ndots:20 timeout:2 attempts:3 rotate',
        'options single-request-reopen',
        'lookup file bind',
        '',
      ].join('\n'),
      'f',
    );
    expect(c.search).toEqual(['a.example', 'b.example']);
    expect(c.nameservers).toEqual(['10.0.0.1', '10.0.0.2', 'fe80::1%eth0']);
    expect(c.ndots).toBe(15);
    expect(c.options).toMatchObject({
      timeout: '2',
      attempts: '3',
      rotate: true,
      'single-request-reopen': true,
    });
    expect(c.warnings).toEqual([
      'f:6: nameserver 10.0.0.4 ignored (the resolver uses at most 3)',
      'f:9: unknown keyword "lookup" ignored',
    ]);
    expect(parseResolvConf('search x.example\ndomain y.example\n').search).toEqual(['y.example']);
  });

  it('names the file and line of a malformed entry', () => {
    expect(() => parseResolvConf('search a\nnameserver dns.example\n', 'pods/x/resolv.conf')).toThrow(
      'pods/x/resolv.conf:2: nameserver needs an IP address, got "dns.example"',
    );
    expect(() => parseResolvConf('options ndots:five\n', 'r')).toThrow(ParseError);
    expect(() => parseResolvConf('options ndots:five\n', 'r')).toThrow(
      'r:1: option ndots needs a number, got "ndots:five"',
    );
    expect(() => parseResolvConf('nameserver\n', 'r')).toThrow('r:1: nameserver needs an IP address, got ""');
  });

  it('round-trips through formatResolvConf', () => {
    const c = parseResolvConf(fixture('containerd-pod.conf'));
    const again = parseResolvConf(formatResolvConf(c));
    expect(again.nameservers).toEqual(c.nameservers);
    expect(again.search).toEqual(c.search);
    expect(again.ndots).toBe(5);
  });
});

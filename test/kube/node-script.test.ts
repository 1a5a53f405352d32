// The node collection script: run for real in emulated nodes (root), and its output format
// parsed from a captured fixture (no root needed).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParseError } from '../../src/core/errors.js';
import { parseBridgeFdb, parseIpAddr, parseIpNeigh, parseIpRoute } from '../../src/parsers/iproute2.js';
import { parseNftJson } from '../../src/parsers/nft.js';
import {
  type CollectionOutput,
  collectionCommand,
  parseCollectionOutput,
} from '../../src/sources/kube/script.js';
import { canEmulateNodes, type EmulatedNode, emulateNode } from './netns.js';
import { frame } from './server/fake-node.js';

const FIXTURES = path.resolve(__dirname, '../fixtures/kube');
const CAPTURE = process.env.KNET_CAPTURE_FIXTURES === '1';

describe.skipIf(CAPTURE)('parseCollectionOutput (captured output of the real script)', () => {
  let out: CollectionOutput;
  beforeAll(() => {
    out = parseCollectionOutput(
      readFileSync(path.join(FIXTURES, 'collect/node-1.out'), 'utf8'),
      'node-1.out',
    );
  });

  it('decodes every file of the node and of the pod', () => {
    expect(out.complete).toBe(true);
    expect(Object.keys(out.files).sort()).toEqual(
      expect.arrayContaining([
        'iptables-save.txt',
        'ip-addr.json',
        'ip-link.json',
        'ip-route.json',
        'ip-rule.json',
        'sysctl.txt',
        'pods/shop_web-1/ip-addr.json',
        'pods/shop_web-1/ip-route.json',
        'pods/shop_web-1/resolv.conf',
        'pods/shop_web-1/ss.txt',
      ]),
    );
    expect(out.files['iptables-save.txt']).toMatch(
      /-A KUBE-SERVICES -d 10\.96\.0\.30\/32 .*DNAT --to-destination 10\.244\.1\.4:8080/,
    );
    expect(out.files['pods/shop_web-1/resolv.conf']).toContain('nameserver 10.96.0.10');
    expect(out.files['pods/shop_web-1/ss.txt']).toMatch(/LISTEN .*:8080/);
    expect(out.files['sysctl.txt']).toMatch(/^net\.ipv4\.ip_forward = [01]$/m);
  });

  it("yields files knet's own parsers read", () => {
    const ifaces = parseIpAddr(out.files['ip-addr.json'], 'ip-addr.json');
    expect(ifaces.map((i) => i.ifname)).toEqual(expect.arrayContaining(['lo', 'eth0', 'cni0', 'veth1a2b3c']));
    const podIfaces = parseIpAddr(out.files['pods/shop_web-1/ip-addr.json'], 'pods/shop_web-1/ip-addr.json');
    expect(JSON.stringify(podIfaces)).toContain('10.244.1.4');
    const routes = parseIpRoute(out.files['pods/shop_web-1/ip-route.json'], 'ip-route.json');
    expect(routes.some((r) => r.dst === 'default' && r.gateway === '10.244.1.1')).toBe(true);
  });

  it('reports a failed command as a warning, not as a file', () => {
    const t = frame({ 'ip-addr.json': '[]' }, { 'pods/shop_gone': 'no process of pod uid x on this node' });
    const o = parseCollectionOutput(t, 'x');
    expect(o.files).toEqual({ 'ip-addr.json': '[]' });
    expect(o.errors).toEqual([{ path: 'pods/shop_gone', message: 'no process of pod uid x on this node' }]);
  });

  it('keeps empty files (an empty ip6tables-save is an answer)', () => {
    const o = parseCollectionOutput(frame({ 'ip6tables-save.txt': '' }), 'x');
    expect(o.files).toEqual({ 'ip6tables-save.txt': '' });
  });

  it.each([
    ['no header', '#knet-file a ok\n#knet-end\n', 1, /does not start/],
    ['a path that climbs out', '#knet-collect 1 n\n#knet-file ../../etc/passwd ok\n#knet-end\n', 2, /unsafe/],
    ['an absolute path', '#knet-collect 1 n\n#knet-file /etc/passwd ok\n#knet-end\n', 2, /unsafe/],
    ['bad base64', '#knet-collect 1 n\n#knet-file a ok\n!!!!\n#knet-end\n', 2, /not base64/],
    ['a missing end', '#knet-collect 1 n\n#knet-file a ok\nYQ==\n#knet-file b ok\n', 4, /missing #knet-end/],
    ['a cut stream', '#knet-collect 1 n\n#knet-file a ok\nYQ==\n', 2, /ends inside a/],
    ['another version', '#knet-collect 2 n\n', 1, /version 2/],
    ['stray text', '#knet-collect 1 n\nhello\n', 2, /unexpected line/],
    ['nothing', '', 1, /did not start/],
  ])('rejects %s with the line', (_name, text, line, message) => {
    try {
      parseCollectionOutput(text, 'out.txt');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ParseError);
      expect((err as ParseError).line).toBe(line);
      expect((err as ParseError).message).toMatch(message);
      expect((err as ParseError).message.startsWith(`out.txt:${line}: `)).toBe(true);
    }
  });

  it('marks output without #knet-done as incomplete', () => {
    const t = frame({ a: 'x' }).replace('#knet-done\n', '');
    expect(parseCollectionOutput(t, 'x').complete).toBe(false);
  });
});

const emulation = canEmulateNodes();
if (!emulation.ok) {
  console.warn(
    `node-script.test.ts: ${emulation.why}: the real-script tests in network namespaces are skipped`,
  );
}

describe.skipIf(!emulation.ok)(
  'the collection script on an emulated node (root, netns prefix knet9-)',
  () => {
    const prefix = `knet9-${process.pid.toString(36)}`;
    const nodes: EmulatedNode[] = [];
    const specs = [
      {
        name: 'node-1',
        pod: 'shop_web-1',
        spec: {
          prefix: `${prefix}a`,
          bridgeCidr: '10.244.1.1/24',
          podIp: '10.244.1.4',
          nodeCidr: '172.18.0.2/16',
          service: { ip: '10.96.0.30', port: 80, targetPort: 8080 },
          podUid: '11111111-2222-4333-8444-555555555555',
          resolvConf:
            'search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n',
        },
      },
      {
        name: 'node-2',
        pod: 'shop_cart-1',
        spec: {
          prefix: `${prefix}b`,
          bridgeCidr: '10.244.2.1/24',
          podIp: '10.244.2.7',
          nodeCidr: '172.18.0.3/16',
          service: { ip: '10.96.0.20', port: 80, targetPort: 8080 },
          podUid: '22222222-3333-4444-8555-666666666666',
          resolvConf:
            'search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n',
        },
      },
    ];

    beforeAll(() => {
      // A unique uid per run, so that no other process on the machine can match.
      for (const s of specs)
        nodes.push(emulateNode({ ...s.spec, podUid: CAPTURE ? s.spec.podUid : randomUUID() }));
    });
    afterAll(() => {
      for (const n of nodes) n.destroy();
    });

    const run = (i: number, pods: { namespace: string; name: string; uid: string }[]) =>
      execFileSync('ip', ['netns', 'exec', nodes[i].netns, ...collectionCommand(pods)], {
        encoding: 'utf8',
        timeout: 30_000,
        maxBuffer: 64 * 1024 * 1024,
      });

    it('prints the node and pod files, found through the pod cgroup', () => {
      for (const [i, s] of specs.entries()) {
        const [namespace, name] = s.pod.split('_');
        const text = run(i, [{ namespace, name, uid: nodes[i].podUid }]);
        const out = parseCollectionOutput(text, `${s.name} output`);
        expect(out.complete).toBe(true);
        const addrs = parseIpAddr(out.files['ip-addr.json'], 'ip-addr.json');
        expect(JSON.stringify(addrs.find((x) => x.ifname === 'cni0'))).toContain(
          s.spec.bridgeCidr.split('/')[0],
        );
        expect(out.files['iptables-save.txt']).toContain(`--to-destination ${s.spec.podIp}:8080`);
        expect(out.files[`pods/${s.pod}/ip-addr.json`]).toContain(s.spec.podIp);
        expect(out.files[`pods/${s.pod}/resolv.conf`]).toBe(s.spec.resolvConf);
        expect(out.files[`pods/${s.pod}/ss.txt`]).toMatch(/LISTEN .*:8080/);
        // What the kernel decides with beyond rules and routes: neighbours, forwarding entries,
        // the node's own sockets, and the pod namespace's own rules.
        expect(parseIpNeigh(out.files['ip-neigh.json'], 'ip-neigh.json')).toBeInstanceOf(Array);
        expect(
          parseBridgeFdb(out.files['bridge-fdb.json'], 'bridge-fdb.json').some((e) => e.master === 'cni0'),
        ).toBe(true);
        expect(out.files['ss.txt']).toBeDefined();
        expect(parseNftJson(out.files[`pods/${s.pod}/nft.json`], 'nft.json').tables).toBeInstanceOf(Array);
        expect(out.files[`pods/${s.pod}/iptables-save.txt`]).toBeDefined();
        // The node does not see the pod's address on its own interfaces.
        expect(out.files['ip-addr.json']).not.toContain(`"${s.spec.podIp}"`);
        if (CAPTURE) {
          writeFileSync(path.join(FIXTURES, `collect/${s.name}.out`), text);
          for (const [rel, content] of Object.entries(out.files)) {
            if (rel === 'sysctl.txt') continue; // the whole host's net.* keys: too machine-specific
            const dest = path.join(FIXTURES, 'bundle/nodes', s.name, rel);
            mkdirSync(path.dirname(dest), { recursive: true });
            writeFileSync(dest, content);
          }
          const sysctl = out.files['sysctl.txt']
            .split('\n')
            .filter((l) =>
              /^net\.(ipv4\.(ip_forward|conf\.all\.rp_filter)|bridge\.bridge-nf-call-iptables) /.test(l),
            );
          writeFileSync(path.join(FIXTURES, 'bundle/nodes', s.name, 'sysctl.txt'), `${sysctl.join('\n')}\n`);
        }
      }
    });

    it('reports a pod whose processes are not on the node', () => {
      const out = parseCollectionOutput(
        run(0, [{ namespace: 'shop', name: 'ghost', uid: randomUUID() }]),
        'x',
      );
      expect(out.complete).toBe(true);
      expect(out.errors).toEqual([
        { path: 'pods/shop_ghost', message: expect.stringMatching(/no process of pod uid/) },
      ]);
      expect(Object.keys(out.files).some((f) => f.startsWith('pods/'))).toBe(false);
    });
  },
);

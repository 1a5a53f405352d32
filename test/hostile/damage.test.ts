// Issue #19 items 4 and 6 on the built CLI: damaged objects and node files end in a warning or
// a one-line error naming the file (exit 0/1/2), never "internal error"; links and traversal
// out of a bundle are refused; files above the size limit are refused before they are read.
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSysctl } from '../../src/parsers/sysctl.js';
import { knet, ROOT, writeBundle } from '../support/cli.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});
const DEMO = path.join(ROOT, 'examples', 'demo');
function demoCopy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'knet-damage-'));
  made.push(dir);
  cpSync(DEMO, path.join(dir, 'b'), { recursive: true });
  return path.join(dir, 'b');
}

const base = () => [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } },
  {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'n1' },
    spec: { podCIDR: '10.244.0.0/24' },
    status: {
      addresses: [{ type: 'InternalIP', address: '172.18.0.2' }],
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', labels: { app: 'a' } },
    spec: { nodeName: 'n1', containers: [{ name: 'm', ports: [{ containerPort: 80 }] }] },
    status: {
      phase: 'Running',
      podIP: '10.244.0.5',
      podIPs: [{ ip: '10.244.0.5' }],
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 's', namespace: 'default' },
    spec: { selector: { app: 'a' }, clusterIP: '10.96.0.10', ports: [{ port: 80, targetPort: 80 }] },
  },
];
// biome-ignore lint/suspicious/noExplicitAny: damaged input on purpose
type Edit = (o: any[]) => void;
const DAMAGE: Record<string, Edit> = {
  'a null pod condition': (o) => {
    o[2].status.conditions = [null];
  },
  'numeric label values (YAML version: 2)': (o) => {
    o[2].metadata.labels = { version: 2, app: 'a' };
    o[3].spec.selector = { version: 2 };
  },
  'an invalid pod IP': (o) => {
    o[2].status.podIP = '10.244.0.999';
    o[2].status.podIPs = [{ ip: '10.244.0.999' }];
  },
  'null containers and ports': (o) => {
    o[2].spec.containers = [null];
    o[2].status.containerStatuses = [null, { state: null }];
    o[3].spec.ports = [null, { port: 'x' }];
  },
  'null node addresses, taints and CIDRs': (o) => {
    o[1].status.addresses = [null, { type: 'InternalIP', address: 'zzz' }];
    o[1].spec.taints = [null];
    o[1].spec.podCIDRs = [null, 'bad'];
  },
  'a NetworkPolicy with nulls and a bad ipBlock': (o) => {
    o.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'np', namespace: 'default' },
      spec: {
        podSelector: { matchExpressions: [null] },
        ingress: [null, { from: [null, { ipBlock: { cidr: 'nope' } }], ports: [null] }],
      },
    });
  },
  'metadata and labels of the wrong type': (o) => {
    o[2].metadata.labels = ['a'];
    o[3].metadata = null;
  },
};

describe('damaged cluster objects', () => {
  for (const [what, edit] of Object.entries(DAMAGE)) {
    it(what, () => {
      const items = base();
      edit(items);
      const dir = writeBundle(items);
      made.push(dir);
      for (const args of [
        ['pods', '-A'],
        ['nodes'],
        ['doctor', '-A'],
        ['trace', 'pod/default/p', 'svc/default/s'],
        ['endpoints', 'svc/default/s'],
      ]) {
        const r = knet([...args, '--snapshot', dir]);
        expect([0, 1, 2], `${args.join(' ')}: ${r.stderr}`).toContain(r.code);
        expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
      }
    });
  }

  it('a 100,000-character pod phase: pods -A answers within seconds (found by the fuzz test)', () => {
    const items = base();
    (items[2] as { status: { phase: string } }).status.phase = 'A'.repeat(100_000);
    const dir = writeBundle(items);
    made.push(dir);
    const t0 = Date.now();
    const r = knet(['pods', '-A', '--snapshot', dir]);
    expect([0, 1]).toContain(r.code);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.stdout).toContain('A'.repeat(1000));
  });

  it('lists nested 300,000 deep (JSON and YAML)', () => {
    const dir = writeBundle(base(), {
      'cluster/deep.json': `${'['.repeat(300_000)}${']'.repeat(300_000)}`,
    });
    made.push(dir);
    expect(knet(['pods', '-A', '--snapshot', dir]).code).toBe(0);
    writeFileSync(path.join(dir, 'cluster', 'deep.yaml'), `${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    const r = knet(['pods', '-A', '--snapshot', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/deep\.yaml:1: invalid YAML: nested too deeply/);
  });
});

describe('damaged node files', () => {
  it('a sysctl value with 200,000 inner spaces parses in linear time', () => {
    const t0 = performance.now();
    const m = parseSysctl(`net.ipv4.ip_forward = 1${' '.repeat(200_000)}x \t\n`, 'sysctl.txt');
    expect(m.get('net.ipv4.ip_forward')).toBe(`1${' '.repeat(200_000)}x`);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('a chain with the same jump repeated 3,000 times', () => {
    const b = demoCopy();
    const f = path.join(b, 'nodes/demo-worker/iptables-save.txt');
    const lines = readFileSync(f, 'utf8').split('\n');
    const at = lines.findIndex((l) => l.startsWith('-A KUBE-SERVICES'));
    const decl = lines.findIndex((l) => l.startsWith(':KUBE-SERVICES'));
    lines.splice(at, 0, ...Array(3000).fill('-A KUBE-SERVICES -j KNET-NOP'));
    lines.splice(decl + 1, 0, ':KNET-NOP - [0:0]');
    writeFileSync(f, lines.join('\n'));
    const r = knet([
      'proxy',
      '--node',
      'demo-worker',
      '--from',
      '10.244.1.5',
      '--to',
      '10.102.14.61:443',
      '--snapshot',
      b,
    ]);
    expect(r.stderr).not.toContain('internal error');
    expect(r.stdout).toContain('Outcome DNAT');
  });

  it('a bad rule in a chain no packet enters: a trace answers, doctor and proxy name its line', () => {
    // Rules are tokenized when their chain is first read (docs/performance.md): the trace
    // never reads kube-dns's endpoint chain, doctor and proxy read every chain.
    const b = demoCopy();
    const f = path.join(b, 'nodes/demo-worker2/iptables-save.txt');
    const lines = readFileSync(f, 'utf8').split('\n');
    const at = lines.findIndex(
      (l) => l.startsWith('-A KUBE-SEP-') && l.includes('kube-system/kube-dns:dns"'),
    );
    lines[at] = `${lines[at].split(' ').slice(0, 2).join(' ')} -p udp -m udp --comment "unterminated`;
    writeFileSync(f, lines.join('\n'));
    const where = `nodes/demo-worker2/iptables-save.txt:${at + 1}: unterminated quoted string`;
    const trace = knet(['trace', 'pod/shop/frontend-9zd29xl7v-27thn', 'svc/shop/frontend', '--snapshot', b]);
    expect(trace.code).toBe(1);
    expect(trace.stdout).toContain('UNREACHABLE');
    for (const args of [['doctor', '-A'], ['proxy']]) {
      const r = knet([...args, '--snapshot', b]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(where);
    }
  });

  it('nft -j with null expressions: a one-line error naming the file', () => {
    const b = demoCopy();
    writeFileSync(
      path.join(b, 'nodes/demo-worker/nft.json'),
      JSON.stringify({
        nftables: [
          { table: { family: 'ip', name: 'kube-proxy' } },
          { chain: { family: 'ip', table: 'kube-proxy', name: 'services' } },
          { rule: { family: 'ip', table: 'kube-proxy', chain: 'services', expr: [null] } },
        ],
      }),
    );
    rmSync(path.join(b, 'nodes/demo-worker/iptables-save.txt'));
    const r = knet(['proxy', '--node', 'demo-worker', '--snapshot', b]);
    expect(r.stderr).not.toContain('internal error');
    expect([0, 1, 2]).toContain(r.code);
  });

  it('a file above 256 MiB is refused before it is read, naming it', () => {
    const b = demoCopy();
    const f = path.join(b, 'nodes/demo-worker/iptables-save.txt');
    truncateSync(f, 450 * 1024 * 1024); // sparse: no disk used
    const r = knet(['proxy', '--node', 'demo-worker', '--snapshot', b]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${f}: 450 MiB, larger than the limit of 256 MiB per file; refused`);
  });
});

describe('links and traversal', () => {
  it('a node file that is a symlink out of the bundle is refused, its target not printed', () => {
    const b = demoCopy();
    const f = path.join(b, 'nodes/demo-worker/iptables-save.txt');
    rmSync(f);
    symlinkSync('/etc/passwd', f);
    const r = knet(['proxy', '--node', 'demo-worker', '--snapshot', b]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `knet: ${f}: a symbolic link that leaves the bundle (to /etc/passwd); refused (see docs/security.md)\n`,
    );
    expect(r.stderr).not.toContain('root:');
  });

  it('tarball members with .., absolute paths or links are refused with one line', async () => {
    const tar = await import('tar');
    const b = demoCopy();
    const dir = path.dirname(b);
    symlinkSync('/etc/passwd', path.join(b, 'nodes/demo-worker/link.txt'));
    await tar.create({ gzip: true, file: path.join(dir, 'link.tgz'), cwd: dir }, ['b']);
    const r = knet(['pods', '-A', '--snapshot', path.join(dir, 'link.tgz')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `knet: ${path.join(dir, 'link.tgz')}: member "b/nodes/demo-worker/link.txt" is a link; refused (see docs/security.md)\n`,
    );
    rmSync(path.join(b, 'nodes/demo-worker/link.txt'));
    writeFileSync(path.join(dir, 'x.txt'), 'x');
    await tar.create({ gzip: true, file: path.join(dir, 'dots.tgz'), cwd: dir, preservePaths: true }, [
      'b',
      `b/../x.txt`,
    ]);
    const d = knet(['pods', '-A', '--snapshot', path.join(dir, 'dots.tgz')]);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/member "b\/\.\.\/x\.txt" is a path with \.\.; refused/);
  });
});

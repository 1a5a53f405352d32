import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { create } from 'tar';
import { afterAll, describe, expect, it } from 'vitest';
import { knet, ROOT, writeBundle } from '../support/cli.js';
import { rawNode, rawPod } from '../support/objects.js';

const created: string[] = [];
afterAll(() => {
  for (const d of created) rmSync(d, { recursive: true, force: true });
});
function bundle(items: unknown[], extra: Record<string, string> = {}): string {
  const dir = writeBundle(items, extra);
  created.push(dir);
  return dir;
}
const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'knet-cli-'));
  created.push(d);
  return d;
};

const healthy = [
  rawNode({ name: 'n1', ip: '172.18.0.2', podCIDRs: ['10.244.1.0/24'] }),
  rawPod({ name: 'web-1', namespace: 'shop', node: 'n1', ip: '10.244.1.4', labels: { app: 'web' } }),
  rawPod({ name: 'web-2', namespace: 'default', node: 'n1', ip: '10.244.1.5' }),
];

describe('knet pods / nodes on a bundle', () => {
  it('prints the PodList document and exits 0 when nothing is broken', () => {
    const r = knet(['pods', '-A', '--snapshot', bundle(healthy), '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ apiVersion: 'knet/v1', kind: 'PodList', findings: [] });
    expect(
      doc.items.map(
        (i: { namespace: string; name: string; ip: string; node: string; nodePodCIDRs: string[] }) => [
          i.namespace,
          i.name,
          i.ip,
          i.node,
          i.nodePodCIDRs,
        ],
      ),
    ).toEqual([
      ['default', 'web-2', '10.244.1.5', 'n1', ['10.244.1.0/24']],
      ['shop', 'web-1', '10.244.1.4', 'n1', ['10.244.1.0/24']],
    ]);
  });

  it('uses -n to pick one namespace and prints a table without colour when piped', () => {
    const r = knet(['pods', '-n', 'shop', '--snapshot', bundle(healthy)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+IP\s+NODE/);
    expect(r.stdout).toContain('web-1');
    expect(r.stdout).not.toContain('web-2');
    expect(r.stdout).not.toContain('\u001b[');
  });

  it('exits 1 with the finding when a pod is broken, and prints YAML on request', () => {
    const dir = bundle([
      ...healthy,
      rawPod({ name: 'dup', namespace: 'shop', node: 'n1', ip: '10.244.1.4' }),
    ]);
    const r = knet(['pods', '-A', '--snapshot', dir, '-o', 'yaml']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('kind: PodList');
    expect(r.stdout).toContain('code: POD_IP_DUPLICATE');
  });

  it('prints the NodeList document', () => {
    const r = knet(['nodes', '--snapshot', bundle(healthy), '-o', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).items[0]).toEqual({
      name: 'n1',
      internalIPs: ['172.18.0.2'],
      podCIDRs: ['10.244.1.0/24'],
      podCount: 2,
      podCapacity: 256,
      ready: true,
      problems: [],
    });
  });

  it('reads a .tar.gz bundle, cluster/ chunks and multi-document YAML', async () => {
    const dir = bundle([healthy[0]], {
      'cluster/pods.yaml': [
        'apiVersion: v1\nkind: Pod\nmetadata: {name: y1, namespace: shop}\nspec: {nodeName: n1}\nstatus: {phase: Running, podIP: 10.244.1.20}',
        'apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: y2, namespace: shop}\n  spec: {nodeName: n1}\n  status: {phase: Running, podIP: 10.244.1.21}',
      ].join('\n---\n'),
    });
    const tgz = path.join(tmp(), 'bundle.tar.gz');
    await create({ gzip: true, file: tgz, cwd: path.dirname(dir) }, [path.basename(dir)]);
    const r = knet(['pods', '-A', '--snapshot', tgz, '--json']);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).items.map((i: { name: string }) => i.name)).toEqual(['y1', 'y2']);
  });

  it('works as the kubectl plugin binary', () => {
    const r = knet(['pods', '-A', '--snapshot', bundle(healthy)], {
      bin: path.join(ROOT, 'bin', 'kubectl-knet'),
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('web-1');
  });
});

describe('bad input: one line on stderr, exit 2, no stack trace', () => {
  const cases: [string, () => string[], RegExp][] = [
    [
      'a missing bundle path',
      () => ['pods', '--snapshot', '/nonexistent/bundle'],
      /^knet: bundle not found: \/nonexistent\/bundle/,
    ],
    ['a bundle without cluster objects', () => ['pods', '--snapshot', tmp()], /has no cluster objects/],
    [
      'malformed JSON (file and line)',
      () => {
        const d = tmp();
        mkdirSync(path.join(d, 'cluster'));
        writeFileSync(
          path.join(d, 'cluster', 'pods.json'),
          '{\n  "kind": "List",\n  "items": [\n    {"kind": "Pod",}\n  ]\n}\n',
        );
        return ['pods', '--snapshot', d];
      },
      /cluster\/pods\.json:4: invalid JSON/,
    ],
    [
      'malformed YAML (file and line)',
      () => {
        const d = tmp();
        writeFileSync(path.join(d, 'cluster.json'), '{"kind":"List","items":[]}');
        mkdirSync(path.join(d, 'cluster'));
        writeFileSync(
          path.join(d, 'cluster', 'x.yaml'),
          'kind: Pod\nmetadata:\n  name: a\n    bad: indent\n',
        );
        return ['pods', '--snapshot', d];
      },
      /cluster\/x\.yaml:3: invalid YAML: Nested mappings/,
    ],
    ['an unknown command', () => ['frobnicate'], /^knet: unknown command "frobnicate"/],
  ];
  // Argument and flag errors (issue #20): the whole message on one line, then the usage line.
  const usageCases: [string, () => string[], RegExp][] = [
    ['an unknown flag', () => ['pods', '--bogus'], /^knet: unknown flag --bogus\nusage: knet pods \[flags\]/],
    [
      'an unknown output format',
      () => ['pods', '-o', 'xml', '--snapshot', 'x'],
      /--output=xml.*\nusage: knet pods \[flags\] \(knet help pods\)$/,
    ],
  ];
  for (const [name, args, message] of usageCases) {
    it(name, () => {
      const r = knet(args());
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(2);
      expect(r.stderr.trim()).toMatch(message);
    });
  }
  for (const [name, args, message] of cases) {
    it(name, () => {
      const r = knet(args());
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('shows a stack with --debug', () => {
    const r = knet(['pods', '--snapshot', '/nonexistent/bundle', '--debug']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});

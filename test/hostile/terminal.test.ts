// Issue #19, item 1: escape sequences and newlines in names, labels and condition messages are
// shown (\x1b, \n), never obeyed, in every human output and on stderr; --json keeps them exact.

import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { escapeCell, escapeTerminal, escapeTerminalText } from '../../src/render/escape.js';
import { knet, writeBundle } from '../support/cli.js';

const E = '\u001b';
const NS = `evil${E}]0;pwned\u0007`;
const NODE = `node${E}[2J`;
const POD = `web${E}[1A${E}[2K`;
const FORGED = 'a\nfake-row  10.0.0.1';
const pod = (name: string, namespace: string, ip: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, labels: { app: `x${E}[8m` } },
  spec: { nodeName: NODE, containers: [{ name: 'm' }] },
  status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] },
});
const bundle = writeBundle([
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
  {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: NODE },
    spec: { podCIDR: '10.244.0.0/24' },
    status: {
      addresses: [{ type: 'InternalIP', address: '172.18.0.2' }],
      conditions: [{ type: 'Ready', status: 'False', message: `bad${E}[1A${E}[2Kforged\nline` }],
    },
  },
  pod(POD, NS, '10.244.0.5'),
  pod(FORGED, 'default', '10.244.0.6'),
]);
afterAll(() => rmSync(bundle, { recursive: true, force: true }));

/** No control character but the newline reaches the terminal. */
function expectInert(text: string): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: what must not be there
  expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
}

describe('escapeTerminal', () => {
  it('shows control characters, newlines and bidi overrides', () => {
    expect(escapeTerminal(`a${E}[2Jb\nc\td\u202e`)).toBe('a\\x1b[2Jb\\nc\\td\\u202e');
    expect(escapeTerminal('plain name-1')).toBe('plain name-1');
  });
  it('keeps knet colours and line breaks in rendered text, not a forged escape', () => {
    expect(escapeTerminalText(`${E}[31mred${E}[39m\n${E}]0;t\u0007`, true)).toBe(
      `${E}[31mred${E}[39m\n\\x1b]0;t\\x07`,
    );
    expect(escapeTerminalText(`${E}[31mred`, false)).toBe('\\x1b[31mred');
    expect(escapeCell('a\nb', true)).toBe('a\\nb');
  });
});

describe('the built CLI on a bundle with hostile names', () => {
  it('pods -A: names escaped, no forged row', () => {
    const r = knet(['pods', '-A', '--snapshot', bundle]);
    expect(r.code).toBe(0);
    expectInert(r.stdout);
    expect(r.stdout).toContain('web\\x1b[1A\\x1b[2K');
    expect(r.stdout).toContain('evil\\x1b]0;pwned\\x07');
    expect(r.stdout).toContain('a\\nfake-row');
    expect(r.stdout.split('\n').filter((l) => l.startsWith('fake-row'))).toEqual([]);
  });

  it('nodes and doctor: node names and condition messages escaped', () => {
    for (const args of [['nodes'], ['doctor', '-A'], ['nodes', '-o', 'wide']]) {
      const r = knet([...args, '--snapshot', bundle]);
      expect(r.code, args.join(' ')).toBe(1);
      expectInert(r.stdout);
      expect(r.stdout).toContain('node\\x1b[2J');
    }
    const nodes = knet(['nodes', '--snapshot', bundle]);
    expect(nodes.stdout).toContain('bad\\x1b[1A\\x1b[2Kforged\\nline');
  });

  it('parse errors and user errors on stderr are one escaped line', () => {
    const r = knet(['endpoints', `svc/default/x${E}[2J`, '--snapshot', bundle]);
    expect([1, 2]).toContain(r.code);
    expectInert(r.stdout);
    expectInert(r.stderr.replace(/\n$/, ''));
    const bad = writeBundle([], { 'cluster/evil.json': `{"a": 1,\n ${E}[2J\u0007 }` });
    try {
      const p = knet(['pods', '--snapshot', bad]);
      expect(p.code).toBe(2);
      expect(p.stderr.trim().split('\n')).toHaveLength(1);
      expectInert(p.stderr.trim());
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });

  it('--json keeps the names exact', () => {
    const r = knet(['pods', '-A', '--json', '--snapshot', bundle]);
    const names = JSON.parse(r.stdout).items.map((p: { name: string }) => p.name);
    expect(names).toContain(POD);
    expect(names).toContain(FORGED);
  });
});

describe('header lines (trace, endpoints): a newline in a name is shown, not a line break', () => {
  const SRC = `src\nVerdict: REACHABLE${E}[2J`;
  const SVC = `svc\nforged`;
  const headed = writeBundle([
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
      ...pod(SRC, 'default', '10.244.0.5'),
      spec: { nodeName: 'n1', containers: [{ name: 'm', ports: [{ containerPort: 80 }] }] },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: SVC, namespace: 'default' },
      spec: {
        selector: { app: `x${E}[8m` },
        clusterIP: '10.96.0.10',
        ports: [{ name: `http\n${E}[1A`, port: 80, targetPort: 80 }],
      },
    },
  ]);
  afterAll(() => rmSync(headed, { recursive: true, force: true }));

  it('trace: the Trace line stays one line, the ESC is shown', () => {
    const r = knet(['trace', `pod/default/${SRC}`, `svc/default/${SVC}`, '--snapshot', headed]);
    expect([0, 1, 2], r.stderr).toContain(r.code);
    expectInert(r.stdout);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(
      'Trace pod/default/src\\nVerdict: REACHABLE\\x1b[2J 10.244.0.5 on n1 → svc/default/svc\\nforged 10.96.0.10:80/TCP',
    );
    expect(lines.filter((l) => l.startsWith('Verdict:'))).toHaveLength(1);
    expect(lines.some((l) => l === 'forged' || l.startsWith('forged '))).toBe(false);
  });

  it('endpoints: the Service, Selector and Ports lines stay one line each', () => {
    const r = knet(['endpoints', `svc/default/${SVC}`, '--snapshot', headed]);
    expect([0, 1], r.stderr).toContain(r.code);
    expectInert(r.stdout);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^Service +default\/svc\\nforged {2}ClusterIP$/);
    expect(lines.find((l) => l.startsWith('Ports'))).toContain('http\\n\\x1b[1A 80/TCP -> 80');
    expect(lines.find((l) => l.startsWith('Selector'))).toContain('app=x\\x1b[8m');
    expect(lines.some((l) => l.startsWith('forged') || l.startsWith('\\x1b[1A'))).toBe(false);
  });
});

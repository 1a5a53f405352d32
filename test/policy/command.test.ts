// knet policy as a user runs it: the built CLI on a snapshot bundle (the e2e topology plus a
// few policies), its documents, tables and exit codes.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { knet, writeBundle } from '../support/cli.js';
import { e2eObjects, egressRules, ingressRules, nsName, policy, policyMatchLabels } from './e2e-helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const BUNDLE = (() => {
  const dir = writeBundle([
    ...e2eObjects(),
    policy('x', 'deny-all', {}, ingressRules(), egressRules()),
    policyMatchLabels(
      'x',
      'web',
      { pod: 'a' },
      ingressRules({
        from: [{ namespaceSelector: nsName('y'), podSelector: { matchLabels: { pod: 'b' } } }],
        ports: [{ port: 'serve-80-tcp' }],
      }),
      egressRules({
        to: [{ podSelector: { matchLabels: { pod: 'b' } } }],
        ports: [{ port: 80, endPort: 81 }],
      }),
    ),
  ]);
  dirs.push(dir);
  return dir;
})();

const run = (...args: string[]) => knet(['policy', ...args, '--snapshot', BUNDLE]);

/** The exit code, with stderr in the failure message (the CLI runs the shared dist/ build). */
const exitOf = (r: { code: number; stderr: string }) =>
  `${r.code}${r.stderr ? ` (stderr: ${r.stderr.trim()})` : ''}`;

describe('knet policy SOURCE DESTINATION', () => {
  it('allowed: exit 0, the PolicyVerdict names the deciding policy and rule', () => {
    const r = run('pod/y/b', 'pod/x/a', '--port', '80', '-o', 'json');
    expect(r.stderr).toBe('');
    expect(exitOf(r)).toBe('0');
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({
      apiVersion: 'knet/v1',
      kind: 'PolicyVerdict',
      allowed: true,
      port: 80,
      protocol: 'TCP',
      egress: { isolated: false, allowed: true, policies: [], allowedBy: [] },
      ingress: { isolated: true, allowed: true, policies: ['x/deny-all', 'x/web'] },
    });
    expect(doc.ingress.allowedBy.map((a: { policy: string; rule: number }) => [a.policy, a.rule])).toEqual([
      ['x/web', 0],
    ]);
  });

  it('denied: exit 1, the table names the isolating policies and the finding carries them', () => {
    const r = run('pod/y/a', 'pod/x/a', '--port', '80');
    expect(exitOf(r)).toBe('1');
    expect(r.stdout).toMatch(/Verdict\s+✗ DENIED/);
    expect(r.stdout).toMatch(
      /ingress\s+x\/a\s+x\/deny-all, x\/web\s+denied\s+no rule of x\/deny-all, x\/web/,
    );
    expect(r.stdout).toContain('POLICY_DENIED_INGRESS');
    expect(r.stdout).toContain(
      'x/web ingress[0]: pods pod=b in namespaces kubernetes.io/metadata.name=y: the labels of pod y/a do not match',
    );
    expect(r.stdout).not.toContain('\u001b[');
  });

  it('egress denial from the source side, with YAML output', () => {
    const r = run('pod/x/a', 'pod/y/b', '--port', '80', '-o', 'yaml');
    expect(exitOf(r)).toBe('1');
    expect(r.stdout).toContain('kind: PolicyVerdict');
    expect(r.stdout).toContain('code: POLICY_DENIED_EGRESS');
  });

  it('resolves a named port on the destination pod (DESTINATION:NAME)', () => {
    const r = run('pod/y/b', 'pod/x/a:serve-80-udp', '--json');
    const doc = JSON.parse(r.stdout);
    expect([doc.port, doc.protocol]).toEqual([80, 'UDP']);
    expect(doc.allowed).toBe(false);
    expect(exitOf(r)).toBe('1');
  });

  it('a node address: traffic from the pod node is always allowed', () => {
    const r = run('ip/172.18.0.2', 'pod/x/a', '--port', '8080', '--json');
    expect(exitOf(r)).toBe('0');
    const doc = JSON.parse(r.stdout);
    expect(doc.source).toMatchObject({ kind: 'Node', name: 'node-1' });
    expect(doc.ingress.reason).toContain('own node (node-1) is always allowed');
  });

  it('a Service address: unknown, exit 2 with the reason on stderr', () => {
    const r = run('pod/x/a', 'ip/10.96.0.10', '--port', '53', '--protocol', 'udp', '--json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).verdict).toBe('unknown');
    expect(r.stderr).toMatch(/^knet: verdict unknown: .*Service kube-system\/kube-dns/);
  });

  it('no port: exit 2 with one line saying what to add', () => {
    const r = run('pod/y/a', 'pod/x/a');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('knet: a connection needs a port: add --port P (or DESTINATION:PORT)\n');
    expect(r.stdout).toBe('');
  });

  it('an unknown pod cannot be answered: exit 2, one line with the close names (issue #20)', () => {
    const r = run('pod/x/aa', 'pod/x/b', '--port', '80', '--json');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^knet: No pod x\/aa; did you mean /);
  });

  it('a bad target: exit 2, one line', () => {
    const r = run('svc/x/web', 'pod/x/b', '--port', '80');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('knet policy POD', () => {
  it('prints the policies per direction in plain words', () => {
    const r = run('pod/x/a');
    expect(exitOf(r)).toBe('0');
    expect(r.stdout).toContain('INGRESS  isolated');
    expect(r.stdout).toMatch(
      /x\/web\s+pod=a\s+0\s+allows from pods pod=b in namespaces kubernetes.io\/metadata.name=y, on TCP\/serve-80-tcp \(named port\)/,
    );
    expect(r.stdout).toMatch(/x\/web\s+pod=a\s+0\s+allows to pods pod=b in namespace x, on TCP\/80-81/);
    const doc = JSON.parse(run('pod/y/a', '--json').stdout);
    expect(doc).toMatchObject({
      kind: 'PolicySelection',
      ingress: { isolated: false, policies: [] },
      egress: { isolated: false },
    });
  });
});

describe('knet policy --matrix', () => {
  it('prints the grid with a legend, and the PolicyMatrix document', () => {
    const r = knet(['policy', '--matrix', '-n', 'x', '--port', '80', '--snapshot', BUNDLE]);
    expect(exitOf(r)).toBe('0');
    expect(r.stdout).toMatch(/from \\ to\s+a\s+b\s+c/);
    expect(r.stdout).toMatch(/^a\s+✓\d+,\d+\s+✗\d+,\d+/m);
    expect(r.stdout).toContain('allowed by x/web egress[0]: to pods pod=b in namespace x, on TCP/80-81');
    const doc = JSON.parse(
      knet(['policy', '--matrix', '-n', 'x', '--port', '80', '--snapshot', BUNDLE, '--json']).stdout,
    );
    expect(doc.kind).toBe('PolicyMatrix');
    expect(doc.cells).toHaveLength(9);
    const ab = doc.cells.find((c: { from: string; to: string }) => c.from === 'x/a' && c.to === 'x/b');
    expect(ab.allowed).toBe(false);
    expect(doc.explanations[ab.egress - 1]).toMatchObject({ policy: 'x/web', rule: 0, verdict: 'allowed' });
    expect(doc.explanations[ab.ingress - 1]).toMatchObject({ verdict: 'denied', policies: ['x/deny-all'] });
  });

  it('refuses targets with --matrix', () => {
    const r = knet(['policy', '--matrix', 'pod/x/a', '--snapshot', BUNDLE]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--matrix takes no targets');
  });
});

// Say it once, in the words of the text output: plurals, wrapping at the terminal's width, the
// deciding policy and rule named once in a trace, a repeated finding with the same fix in one line.
import { describe, expect, it } from 'vitest';
import { plural, wrapLine } from '../../src/render/findings.js';
import { knet } from '../support/cli.js';

describe('plural', () => {
  it('counts in words', () => {
    expect(plural(1, 'ingress')).toBe('1 ingress');
    expect(plural(2, 'ingress')).toBe('2 ingresses');
    expect(plural(1, 'error')).toBe('1 error');
    expect(plural(0, 'error')).toBe('0 errors');
    expect(plural(3, 'policy match')).toBe('3 policy matches');
  });
});

describe('wrapLine', () => {
  const text =
    '  ERROR   SVC_LABEL_MISMATCH  The selector app=fronted of svc/shop/frontend matches no pod of the 2 pods';
  it('leaves a line alone without a terminal width (piped: one line per finding) or when it fits', () => {
    expect(wrapLine(text, 11, undefined)).toBe(text);
    expect(wrapLine(text, 11, 200)).toBe(text);
  });

  it("wraps at the width, keeps the line's own indentation and indents what follows", () => {
    const out = wrapLine(text, 11, 40).split('\n');
    expect(out.length).toBeGreaterThan(2);
    expect(out[0].startsWith('  ERROR   SVC_LABEL_MISMATCH')).toBe(true);
    for (const line of out) expect(line.length).toBeLessThanOrEqual(40);
    for (const line of out.slice(1)) expect(line).toMatch(/^ {11}\S/);
    expect(out.map((l) => l.trim()).join(' ')).toBe(text.trim());
  });

  it('measures what the terminal shows: colour codes take no columns', () => {
    const red = (s: string) => `\u001b[31m${s}\u001b[39m`;
    const coloured = `${red('ERROR')} ${'x'.repeat(30)}`;
    expect(wrapLine(coloured, 2, 36)).toBe(coloured);
  });
});

describe('the payments trace names the deciding policy and rule once, where it bites', () => {
  const r = knet([
    'trace',
    'pod/shop/frontend-9zd29xl7v-27thn',
    'svc/payments/payments-api',
    '--snapshot',
    'demo',
  ]);
  const [hops, findings] = r.stdout.split('\nFindings:\n');
  const count = (s: string, word: string) => s.split(word).length - 1;

  it('each policy once on the hops, with its rule, where the first path meets it', () => {
    expect(r.code).toBe(1);
    expect(count(hops, 'payments/default-deny-ingress')).toBe(1);
    expect(count(hops, 'payments/payments-api-allow-checkout')).toBe(1);
    expect(hops).toContain('payments/payments-api-allow-checkout ingress[0]: pods app=checkout');
    expect(hops).toMatch(/✗ policy +demo-worker +ingress denied {2}POLICY_DENIED_INGRESS/);
    expect(hops).toMatch(/✗ policy +demo-worker2 +ingress denied \(as on path 1\) {2}POLICY_DENIED_INGRESS/);
    // The half that lets the packet through is not recited on a broken hop.
    expect(hops).not.toContain('egress allowed');
  });

  it('the second denial, with the same fix, is named under the first', () => {
    expect(count(findings, 'kubectl patch networkpolicy')).toBe(1);
    expect(count(findings, 'ERROR')).toBe(1);
    expect(findings).toContain(
      'also for pod/payments/payments-api-gdl8tdvf4-lz98k: the same finding and fix',
    );
  });

  it('a finding repeated on several nodes is told once per Service (knet proxy)', () => {
    const proxy = knet(['proxy', '--snapshot', 'demo']).stdout.split('\nFindings:\n')[1];
    expect(count(proxy, 'ERROR   PROXY_REJECT')).toBe(2);
    expect(count(proxy, 'also for node/demo-worker, node/demo-worker2: the same finding and fix')).toBe(2);
  });

  it('-o wide keeps every line of the evidence', () => {
    const wide = knet([
      'trace',
      'pod/shop/frontend-9zd29xl7v-27thn',
      'svc/payments/payments-api',
      '-o',
      'wide',
      '--snapshot',
      'demo',
    ]).stdout;
    expect(wide).toContain('egress allowed (not isolated); ingress denied (isolated by');
  });
});

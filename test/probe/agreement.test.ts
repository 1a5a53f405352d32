// Predicted vs observed (src/analyses/probe/agreement.ts): the counting of attempts and the
// agreement rules, on hand-made traces and attempts.
import { describe, expect, it } from 'vitest';
import {
  agreement,
  dnsAgreement,
  expectedFailures,
  notProbed,
  type ProbeAttempt,
  summarizeAttempts,
} from '../../src/analyses/probe/agreement.js';
import type { Hop, TracePath, Verdict } from '../../src/analyses/trace/types.js';

const hop = (kind: Hop['kind'], status: Hop['status'] = 'ok', detail = ''): Hop => ({ kind, status, detail });
const path = (verdict: TracePath['verdict'], probability: number | null, hops: Hop[]): TracePath => ({
  to: null,
  probability,
  verdict,
  hops,
});
const ok = path('reachable', 1, [hop('container'), hop('pod')]);
const dropped = path('unreachable', 1, [hop('container'), hop('filter', 'broken', 'DROP in FORWARD')]);
const rejected = path('unreachable', 1, [hop('container'), hop('reject', 'broken', 'no endpoints')]);
const attempts = (spec: Record<string, number>, ms = 1): ProbeAttempt[] =>
  Object.entries(spec).flatMap(([outcome, n]) =>
    Array.from({ length: n }, (_, i) => ({ outcome: outcome as ProbeAttempt['outcome'], ms: ms + i })),
  );
const observe = (spec: Record<string, number>) => summarizeAttempts('TCP connect', attempts(spec));
const trace = (verdict: Verdict, paths: TracePath[]) => ({ verdict, paths });

describe('summarizeAttempts', () => {
  it('counts the outcomes; the RTT is of the attempts that connected', () => {
    const o = summarizeAttempts('m', [
      { outcome: 'connected', ms: 0.4 },
      { outcome: 'connected', ms: 0.2 },
      { outcome: 'connected', ms: 0.9 },
      { outcome: 'connected', ms: 0.5 },
      { outcome: 'timeout', ms: 2000 },
    ]);
    expect(o).toEqual({
      method: 'm',
      attempts: 5,
      succeeded: 4,
      outcomes: { connected: 4, timeout: 1 },
      rttMs: { min: 0.2, median: 0.45, max: 0.9 },
    });
  });

  it('no RTT when nothing connected; HTTP status codes are counted', () => {
    expect(observe({ refused: 3 }).rttMs).toBeNull();
    const o = summarizeAttempts('m', [
      { outcome: 'connected', ms: 1, status: 200 },
      { outcome: 'connected', ms: 1, status: 503 },
      { outcome: 'connected', ms: 1, status: 200 },
    ]);
    expect(o.httpStatus).toEqual({ '200': 2, '503': 1 });
  });
});

describe('agreement', () => {
  it('reachable: agrees only when every attempt connected', () => {
    expect(agreement(trace('reachable', [ok]), observe({ connected: 10 })).agrees).toBe(true);
    const a = agreement(trace('reachable', [ok]), observe({ connected: 9, timeout: 1 }));
    expect(a).toMatchObject({
      agrees: false,
      reason: 'predicted reachable, but 1 of 10 attempts failed (9 connected, 1 timeout)',
    });
  });

  it('unreachable: none connects, and they fail the way the broken hop fails', () => {
    expect(agreement(trace('unreachable', [dropped]), observe({ timeout: 10 })).agrees).toBe(true);
    expect(agreement(trace('unreachable', [rejected]), observe({ refused: 10 })).agrees).toBe(true);
    // A DROP does not answer; a REJECT does.
    expect(agreement(trace('unreachable', [dropped]), observe({ refused: 10 })).agrees).toBe(false);
    expect(agreement(trace('unreachable', [rejected]), observe({ timeout: 10 })).agrees).toBe(false);
    expect(agreement(trace('unreachable', [dropped]), observe({ timeout: 9, connected: 1 }))).toMatchObject({
      agrees: false,
      reason: 'predicted unreachable, but 1 of 10 attempts connected',
    });
  });

  it('partial: the observed share within the stated tolerance of the predicted one', () => {
    const half = trace('partial', [
      { ...ok, probability: 0.5 },
      { ...dropped, probability: 0.5 },
    ]);
    const a = agreement(half, observe({ connected: 6, timeout: 4 }));
    expect(a).toMatchObject({ agrees: true, predictedShare: 0.5, observedShare: 0.6, tolerance: 0.474 });
    // Every attempt connecting is not what a half-broken service does.
    expect(agreement(half, observe({ connected: 10 })).agrees).toBe(false);
    expect(agreement(half, observe({ timeout: 10 })).agrees).toBe(false);
    // More attempts, a tighter tolerance: 3 binomial standard deviations, at least 0.10.
    const many = agreement(half, observe({ connected: 80, timeout: 20 }));
    expect(many).toMatchObject({ agrees: false, tolerance: 0.15 });
    // The failures must be those of the broken path.
    expect(agreement(half, observe({ connected: 5, refused: 5 })).agrees).toBe(false);
  });

  it('partial only through an MTU mismatch: small packets cannot show it', () => {
    const mtu = path('reachable', 1, [hop('container'), { ...hop('overlay'), findings: ['MTU_MISMATCH'] }]);
    expect(agreement(trace('partial', [mtu]), observe({ connected: 10 }))).toEqual({
      agrees: null,
      predicted: 'partial',
      reason:
        'the probe sends small packets only, which pass an MTU mismatch (MTU_MISMATCH: full-size packets are dropped); all 10 attempts connected, as small packets should',
    });
    // Small packets are predicted to pass: a failing one is a disagreement.
    expect(agreement(trace('partial', [mtu]), observe({ connected: 7, timeout: 3 }))).toEqual({
      agrees: false,
      predicted: 'partial',
      reason:
        'predicted partial for full-size packets only (MTU_MISMATCH), small ones pass; but 3 of 10 attempts failed (7 connected, 3 timeout)',
    });
    // A path broken for every packet besides: the shares are compared as for any partial.
    const both = trace('partial', [
      { ...mtu, probability: 0.5 },
      { ...dropped, probability: 0.5 },
    ]);
    expect(agreement(both, observe({ connected: 5, timeout: 5 }))).toMatchObject({
      agrees: true,
      predictedShare: 0.5,
    });
  });

  it('unknown, and nothing sent: nothing to compare', () => {
    expect(agreement(trace('unknown', [ok]), observe({ connected: 3 })).agrees).toBeNull();
    const none = agreement(trace('reachable', [ok]), notProbed('UDP', 'UDP port 5000 is not DNS'));
    expect(none).toEqual({
      agrees: null,
      predicted: 'reachable',
      reason: 'not probed: UDP port 5000 is not DNS',
    });
  });
});

describe('expectedFailures', () => {
  it('a reject, a pod or the node itself at the end answers; a drop or a lost route does not', () => {
    expect(expectedFailures(rejected)).toContain('refused');
    expect(expectedFailures(path('unreachable', 1, [hop('container'), hop('pod', 'broken')]))).toContain(
      'refused',
    );
    expect(expectedFailures(path('unreachable', 1, [hop('route'), hop('node', 'broken')]))).toContain(
      'refused',
    );
    expect(expectedFailures(dropped)).toEqual(['timeout', 'stalled']);
    expect(expectedFailures(path('unreachable', 1, [hop('route', 'broken')]))).toEqual([
      'timeout',
      'unreachable',
      'stalled',
    ]);
  });
});

describe('dnsAgreement', () => {
  const expected = { name: 'api.shop.svc.cluster.local', addresses: ['10.96.0.11'], match: 'all' as const };
  const q = (name: string, rcode: string, addresses: string[] = []) => ({
    name,
    server: '10.96.0.10',
    rcode,
    outcome: 'connected' as const,
    addresses,
    ms: 1,
  });

  it('the same addresses from the same search candidate', () => {
    const r = {
      queries: [q('api.shop.svc.cluster.local', 'NOERROR', ['10.96.0.11'])],
      addresses: ['10.96.0.11'],
    };
    expect(dnsAgreement(expected, r)).toEqual({
      agrees: true,
      reason: 'resolved as expected: 10.96.0.11 (from api.shop.svc.cluster.local)',
    });
  });

  it('another address, or another candidate answering first, disagrees', () => {
    const wrong = {
      queries: [q('api.shop.svc.cluster.local', 'NOERROR', ['10.96.0.99'])],
      addresses: ['10.96.0.99'],
    };
    expect(dnsAgreement(expected, wrong)).toEqual({
      agrees: false,
      reason:
        "expected 10.96.0.11 (from api.shop.svc.cluster.local), the pod's resolver got 10.96.0.99 (from api.shop.svc.cluster.local)",
    });
    const nx = {
      queries: [q('api.shop.svc.cluster.local', 'NXDOMAIN'), q('api', 'NXDOMAIN')],
      addresses: [],
    };
    expect(dnsAgreement(expected, nx).agrees).toBe(false);
    expect(dnsAgreement({ ...expected, addresses: [] }, nx).agrees).toBe(true);
  });
});

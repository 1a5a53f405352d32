// Predicted vs observed: what real attempts from the source did (the probe), summed up, and
// whether that is what the trace predicted. Pure: the attempts come in, nothing is read.
//
//   reachable    agrees when every attempt connected;
//   partial      agrees when the observed share of connections is within the tolerance of the
//                predicted share (three binomial standard deviations for the attempts made,
//                at least ±0.10), and the failures fail the way a broken path fails; when
//                partial only because of an MTU mismatch (every path works for small packets),
//                the probe's small packets cannot show the fault: agrees null when they all
//                connected, false when some failed;
//   unreachable  agrees when no attempt connected and they failed the way the broken hops fail:
//                a REJECT (or nothing listening) is refused, a DROP is a timeout; a missing
//                route may also come back as unreachable (ICMP, or ARP giving up);
//   unknown      nothing to compare (agrees: null): the observation is reported as it is.
import { finding } from '../../findings/catalog.js';
import type { Finding } from '../../findings/types.js';
import type { Hop, TracePath, TraceResult, Verdict } from '../trace/types.js';

/**
 * connected: the handshake completed and our FIN was acknowledged (TCP), or an answer came (DNS);
 * stalled: the handshake completed but nothing after it got through (our FIN never acknowledged).
 */
export type AttemptOutcome =
  | 'connected'
  | 'refused'
  | 'timeout'
  | 'reset'
  | 'unreachable'
  | 'stalled'
  | 'error';

export interface ProbeAttempt {
  outcome: AttemptOutcome;
  ms: number;
  status?: number;
}

/** The Trace document's `observed` (cli.md additions): what the attempts did. */
export interface Observed {
  /** What was sent, from where: "TCP connect to 10.96.0.11:80 from pod/shop/client's network namespace". */
  method: string;
  attempts: number;
  succeeded: number;
  outcomes: Partial<Record<AttemptOutcome, number>>;
  /** Of the attempts that connected (answered, for DNS); null when none did. */
  rttMs: { min: number; median: number; max: number } | null;
  /** HTTP: how many requests got each status code. */
  httpStatus?: Record<string, number>;
  /** Why nothing was sent (UDP other than DNS, a source that cannot be entered…). */
  notProbed?: string;
}

export interface Agreement {
  /** true: the observation is what was predicted; false: it is not; null: nothing to compare. */
  agrees: boolean | null;
  predicted: Verdict;
  /** One sentence: why it agrees or not. */
  reason: string;
  /** partial: the predicted and observed shares of connections, and the tolerance used. */
  predictedShare?: number;
  observedShare?: number;
  tolerance?: number;
}

const round = (n: number, digits = 3) => Number(n.toFixed(digits));

/** The attempts, counted. */
export function summarizeAttempts(method: string, attempts: readonly ProbeAttempt[]): Observed {
  const outcomes: Partial<Record<AttemptOutcome, number>> = {};
  for (const a of attempts) outcomes[a.outcome] = (outcomes[a.outcome] ?? 0) + 1;
  const ok = attempts
    .filter((a) => a.outcome === 'connected')
    .map((a) => a.ms)
    .sort((x, y) => x - y);
  const median =
    ok.length === 0
      ? 0
      : ok.length % 2
        ? ok[(ok.length - 1) / 2]
        : (ok[ok.length / 2 - 1] + ok[ok.length / 2]) / 2;
  const out: Observed = {
    method,
    attempts: attempts.length,
    succeeded: ok.length,
    outcomes,
    rttMs: ok.length ? { min: round(ok[0]), median: round(median), max: round(ok[ok.length - 1]) } : null,
  };
  const statuses = attempts.filter((a) => a.status !== undefined);
  if (statuses.length) {
    out.httpStatus = {};
    for (const a of statuses) out.httpStatus[String(a.status)] = (out.httpStatus[String(a.status)] ?? 0) + 1;
  }
  return out;
}

/** Nothing was sent, and why. */
export function notProbed(method: string, why: string): Observed {
  return { method, attempts: 0, succeeded: 0, outcomes: {}, rttMs: null, notProbed: why };
}

/** How an attempt fails on a broken path: by the kind of the first broken hop. */
export function expectedFailures(path: TracePath): AttemptOutcome[] {
  const hop = path.hops.find((h) => h.status === 'broken');
  if (!hop) return ['timeout', 'unreachable', 'stalled'];
  // Delivered where nothing takes it (a pod, or the node itself as the last hop): a reset.
  if (isReject(hop) || (hop.kind === 'node' && hop === path.hops[path.hops.length - 1]))
    return ['refused', 'unreachable', 'reset'];
  if (hop.kind === 'drop' || hop.kind === 'filter' || hop.kind === 'policy') return ['timeout', 'stalled'];
  return ['timeout', 'unreachable', 'stalled'];
}

function isReject(hop: Hop): boolean {
  if (hop.kind === 'reject' || hop.kind === 'pod') return true;
  return /\bREJECT\b|\breject\b/.test(`${hop.detail}\n${hop.evidence ?? ''}`);
}

/**
 * Every path works but one of them holds an MTU mismatch (the trace's verdict is then partial):
 * small packets pass and full-size ones are dropped. A connect or a DNS query sends small
 * packets only, so it cannot see the fault.
 */
function onlyMtuBroken(paths: readonly TracePath[]): boolean {
  return (
    paths.length > 0 &&
    paths.every((p) => p.verdict === 'reachable') &&
    paths.some((p) => p.hops.some((h) => h.findings?.includes('MTU_MISMATCH')))
  );
}

const outcomesText = (o: Observed) =>
  Object.entries(o.outcomes)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');

/** Whether the observation is what the trace predicted (see the top of this file). */
export function agreement(result: Pick<TraceResult, 'verdict' | 'paths'>, observed: Observed): Agreement {
  const predicted = result.verdict;
  const base = { predicted };
  if (observed.notProbed !== undefined || observed.attempts === 0)
    return { ...base, agrees: null, reason: `not probed: ${observed.notProbed ?? 'no attempt was made'}` };
  const n = observed.attempts;
  const ok = observed.succeeded;
  const failed = Object.entries(observed.outcomes)
    .filter(([k, c]) => k !== 'connected' && c)
    .map(([k]) => k as AttemptOutcome);
  const broken = result.paths.filter((p) => p.verdict === 'unreachable');
  const allowed = new Set(broken.flatMap(expectedFailures));
  const unexpected = failed.filter((k) => !allowed.has(k));
  if (predicted === 'unknown')
    return {
      ...base,
      agrees: null,
      reason: `knet could not decide the path; the attempts: ${outcomesText(observed)}`,
    };
  if (predicted === 'partial' && onlyMtuBroken(result.paths)) {
    if (ok === n)
      return {
        ...base,
        agrees: null,
        reason: `the probe sends small packets only, which pass an MTU mismatch (MTU_MISMATCH: full-size packets are dropped); all ${n} attempts connected, as small packets should`,
      };
    return {
      ...base,
      agrees: false,
      reason: `predicted partial for full-size packets only (MTU_MISMATCH), small ones pass; but ${n - ok} of ${n} attempts failed (${outcomesText(observed)})`,
    };
  }
  if (predicted === 'reachable') {
    if (ok === n)
      return { ...base, agrees: true, reason: `predicted reachable, all ${n} attempts connected` };
    return {
      ...base,
      agrees: false,
      reason: `predicted reachable, but ${n - ok} of ${n} attempts failed (${outcomesText(observed)})`,
    };
  }
  if (predicted === 'unreachable') {
    if (ok > 0)
      return {
        ...base,
        agrees: false,
        reason: `predicted unreachable, but ${ok} of ${n} attempts connected`,
      };
    if (unexpected.length)
      return {
        ...base,
        agrees: false,
        reason: `predicted unreachable (${[...allowed].join(' or ')}), but the attempts failed otherwise: ${outcomesText(observed)}`,
      };
    return {
      ...base,
      agrees: true,
      reason: `predicted unreachable, all ${n} attempts failed (${outcomesText(observed)})`,
    };
  }
  // partial: the share of new connections the working paths get.
  const known = result.paths.every((p) => p.probability !== null);
  const share = known
    ? result.paths.filter((p) => p.verdict === 'reachable').reduce((s, p) => s + (p.probability ?? 0), 0)
    : undefined;
  const observedShare = round(ok / n);
  if (share === undefined) {
    // Without shares, partial only says that some connections work and some do not.
    const agrees = ok > 0 && ok < n && unexpected.length === 0;
    return {
      ...base,
      agrees,
      observedShare,
      reason: agrees
        ? `predicted partial, ${ok} of ${n} attempts connected`
        : `predicted partial, but ${ok} of ${n} attempts connected (${outcomesText(observed)})`,
    };
  }
  const tolerance = round(Math.max(0.1, 3 * Math.sqrt((share * (1 - share)) / n)));
  const within = Math.abs(observedShare - share) <= tolerance;
  const agrees = within && unexpected.length === 0;
  const shares = `predicted ${round(share, 2)} of connections to work, observed ${observedShare} (${ok} of ${n}, tolerance ±${tolerance})`;
  return {
    ...base,
    agrees,
    predictedShare: round(share),
    observedShare,
    tolerance,
    reason: agrees
      ? shares
      : within
        ? `${shares}, but the failures were ${unexpected.join(', ')}, not ${[...allowed].join(' or ')}`
        : `${shares}: outside the tolerance`,
  };
}

/**
 * The finding for a disagreement: both sides, and what to collect next (`next`: e.g. the
 * trace again with --collect-nodes, or the probe's own method when the path had node data).
 */
export function disagreementFinding(
  objects: string[],
  observed: Observed,
  agree: Agreement,
  next: string,
): Finding {
  return finding('PROBE_DISAGREES', {
    message: `The probe disagrees with the trace: ${agree.reason}.`,
    objects,
    hint: next,
    evidence: [
      `predicted: ${agree.predicted}`,
      `observed: ${observed.succeeded}/${observed.attempts} connected (${outcomesText(observed)}); ${observed.method}`,
    ],
  });
}

/** One resolution the pod's resolver made: its queries in order, and the addresses it got. */
export interface ObservedResolution {
  queries: {
    name: string;
    server: string;
    rcode?: string;
    outcome: AttemptOutcome;
    addresses: string[];
    ms: number;
  }[];
  addresses: string[];
}

/**
 * A resolution from the pod compared with knet's expected answer: the same addresses (all of
 * them, or some of them when any of several is a right answer), from the same search candidate.
 */
export function dnsAgreement(
  expected: { name: string; addresses: string[]; match: 'all' | 'any' },
  observed: ObservedResolution,
): { agrees: boolean; reason: string } {
  const got = [...new Set(observed.addresses)].sort();
  const want = [...new Set(expected.addresses)].sort();
  const last = observed.queries[observed.queries.length - 1];
  const by = got.length ? last?.name : undefined;
  const gotText = got.length
    ? `${got.join(', ')} (from ${by})`
    : `no address (${last ? (last.rcode ?? last.outcome) : 'no query'})`;
  const wantText = want.length ? `${want.join(', ')} (from ${expected.name})` : 'no address';
  const same =
    expected.match === 'all'
      ? got.length === want.length && got.every((a, i) => a === want[i])
      : got.length > 0 && got.every((a) => want.includes(a));
  const agrees = same && (got.length === 0 || by === expected.name.replace(/\.$/, ''));
  return {
    agrees,
    reason: agrees
      ? `resolved as expected: ${gotText}`
      : `expected ${wantText}, the pod's resolver got ${gotText}`,
  };
}

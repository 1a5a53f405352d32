// A path's verdict from its hops, the trace's from its paths, and the "no such target" answer.
import type { Finding } from '../../findings/types.js';
import type { Hop, TracePath, Verdict } from './types.js';

/** The target does not exist: the trace answers with that finding alone. */
export class TraceTargetNotFound extends Error {
  constructor(readonly finding: Finding) {
    super(finding.message);
  }
}

export function pathVerdict(hops: readonly Hop[]): TracePath['verdict'] {
  if (hops.some((h) => h.status === 'broken')) return 'unreachable';
  if (hops.some((h) => h.status === 'unknown')) return 'unknown';
  return 'reachable';
}

export function overallVerdict(paths: readonly TracePath[]): Verdict {
  if (paths.length === 0) return 'unreachable';
  const v = paths.map((p) => p.verdict);
  if (v.every((x) => x === 'reachable')) return 'reachable';
  if (v.every((x) => x === 'unreachable')) return 'unreachable';
  if (v.includes('unreachable')) return 'partial';
  return 'unknown';
}

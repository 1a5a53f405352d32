// Two traces of the same question, on two clusters: the verdict change and the first hop that
// differs. Pure: the traces are computed by the caller (traceConnection on each model).
import type { Hop, TracePath, TraceResult, Verdict } from '../trace/types.js';
import type { ChangeClass, DifferingHop, TraceSide } from './types.js';

const RANK: Record<Verdict, number> = { reachable: 2, partial: 1, unreachable: 0, unknown: -1 };

/** broke when something that was reachable is not any more; fixed the reverse. */
export function verdictChange(
  oldVerdict: Verdict | 'not-found',
  newVerdict: Verdict | 'not-found',
): ChangeClass | 'same' | 'unknown' {
  const rank = (v: Verdict | 'not-found') => (v === 'not-found' ? 0 : RANK[v]);
  const a = rank(oldVerdict);
  const b = rank(newVerdict);
  if (oldVerdict === newVerdict) return 'same';
  if (a < 0 || b < 0) return a > 0 || b > 0 ? 'unknown' : 'changed';
  if (b < a) return 'broke';
  if (b > a) return 'fixed';
  return 'changed';
}

const hopKey = (h: Hop) => `${h.kind}|${h.node ?? ''}|${h.status}|${h.detail}`;

export function pathLabel(p: TracePath): string | null {
  const to = p.to;
  if (!to) return null;
  if (to.kind === 'Pod' && to.name) return `pod/${to.namespace}/${to.name}`;
  return `${to.ip ?? '?'}${to.port ? `:${to.port}` : ''}`;
}

function commonPrefix(a: readonly Hop[], b: readonly Hop[]): number {
  let i = 0;
  while (i < a.length && i < b.length && hopKey(a[i]) === hopKey(b[i])) i++;
  return i;
}

/** The path of `others` that shares the longest first hops with `p` (the same backend on a tie). */
function bestMatch(
  p: TracePath,
  others: readonly TracePath[],
): { path: TracePath; common: number } | undefined {
  let best: { path: TracePath; common: number } | undefined;
  for (const o of others) {
    const common = commonPrefix(p.hops, o.hops);
    const better = !best || common > best.common || (common === best.common && pathLabel(o) === pathLabel(p));
    if (better) best = { path: o, common };
  }
  return best;
}

/**
 * The first hop that differs between the two traces: each path is matched with the path of
 * the other side that shares the most first hops; among the pairs that differ, one whose new
 * hop is not ok (the breakage) wins, then the earliest.
 */
export function firstDifferingHop(oldTrace: TraceResult, newTrace: TraceResult): DifferingHop | null {
  const candidates: (DifferingHop & { bad: boolean })[] = [];
  const consider = (o: TracePath | undefined, n: TracePath | undefined, common: number) => {
    const oh = o?.hops[common] ?? null;
    const nh = n?.hops[common] ?? null;
    if (oh === null && nh === null && o && n) return; // the same path
    const hop = nh ?? oh;
    candidates.push({
      index: common,
      kind: hop?.kind ?? 'end',
      node: hop?.node,
      old: oh,
      new: nh,
      oldPath: o ? pathLabel(o) : null,
      newPath: n ? pathLabel(n) : null,
      bad: nh === null ? Boolean(oh) : nh.status !== 'ok' || (n?.verdict ?? 'reachable') !== 'reachable',
    });
  };
  for (const n of newTrace.paths) {
    const m = bestMatch(n, oldTrace.paths);
    consider(m?.path, n, m?.common ?? 0);
  }
  for (const o of oldTrace.paths) {
    const m = bestMatch(o, newTrace.paths);
    consider(o, m?.path, m?.common ?? 0);
  }
  if (candidates.length === 0) return null;
  candidates.sort((x, y) => Number(y.bad) - Number(x.bad) || x.index - y.index);
  const { bad: _bad, ...first } = candidates[0];
  return first;
}

export function traceSideVerdict(side: TraceSide): Verdict | 'not-found' {
  return side.trace ? side.trace.verdict : 'not-found';
}

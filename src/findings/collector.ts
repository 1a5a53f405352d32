// One findings collector for every analysis, the trace and doctor: a finding reported twice
// (same code and message) is kept once, the list is sorted (severity, then code, stable), and
// the findings of a finished document get their ids, causedBy links and fixes (links.ts).
import type { ClusterModel } from '../model/cluster.js';
import { explainFindings } from './links.js';
import type { Finding, Severity } from './types.js';

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Two findings with the same code and message are one. */
const sameness = (f: Finding) => `${f.code}\u0000${f.message}`;

export class FindingCollector {
  private readonly list: Finding[] = [];
  private readonly seen = new Set<string>();

  /** Records a finding once (same code and message); returns its code, for a trace hop. */
  add(f: Finding): string {
    const key = sameness(f);
    if (!this.seen.has(key)) {
      this.seen.add(key);
      this.list.push(bare(f));
    }
    return f.code;
  }

  /** (A loop: spreading 150,000 findings into push() overflows the call stack.) */
  addAll(findings: Iterable<Finding>): void {
    for (const f of findings) this.add(f);
  }

  /** The findings so far, sorted, without ids: a part of a larger document. */
  sorted(): Finding[] {
    return [...this.list].sort(
      (a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || a.code.localeCompare(b.code),
    );
  }

  /**
   * The findings of a finished document: sorted, narrowed by `keep`, then given ids, the links
   * between them and the fixes of the root errors.
   */
  finish(model?: ClusterModel, keep?: (f: Finding) => boolean): Finding[] {
    const list = keep ? this.sorted().filter(keep) : this.sorted();
    return explainFindings(list, model);
  }
}

/** A finished document's findings from one list (see FindingCollector.finish). */
export function collectFindings(findings: Iterable<Finding>, model?: ClusterModel): Finding[] {
  const c = new FindingCollector();
  c.addAll(findings);
  return c.finish(model);
}

/** Each finding once (the first of those with the same code and message), in order. */
export function distinctFindings(findings: readonly Finding[]): Finding[] {
  if (findings.length <= 1) return [...findings];
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = sameness(f);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * A copy without what a document adds (id, causedBy, fix): a finding taken from another
 * document (a Service's diagnosis inside doctor or a trace) is explained again in its new one,
 * and the analysis that made it keeps its own copy untouched.
 */
function bare(f: Finding): Finding {
  const { id: _id, causedBy: _causedBy, fix: _fix, ...rest } = f;
  return rest;
}

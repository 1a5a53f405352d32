// The Trace's findings explained: collected once over every path (ids, causedBy, fixes), and
// every broken hop that reports findings names the root findings behind it (rootCause).
import { collectFindings } from '../../findings/collector.js';
import { nodeOf, rootsOf } from '../../findings/links.js';
import type { Finding } from '../../findings/types.js';
import type { ClusterModel } from '../../model/cluster.js';
import type { TraceResult } from './types.js';

export function explainTrace(result: TraceResult, model?: ClusterModel): TraceResult {
  result.findings = collectFindings(result.findings, model);
  const byId = new Map(result.findings.map((f) => [f.id!, f]));
  for (const path of result.paths) {
    for (const hop of path.hops) {
      if (!hop.findings?.length || hop.status !== 'broken') continue;
      const all = result.findings.filter(
        (f) => hop.findings!.includes(f.code) && (!hop.node || !nodeOf(f) || nodeOf(f) === hop.node),
      );
      // Of several findings with one code (one per backend), the one about this path's backend.
      const to = path.to?.kind === 'Pod' ? `pod/${path.to.namespace}/${path.to.name}` : undefined;
      const own = to ? all.filter((f) => f.objects.includes(to)) : [];
      const mine = own.length ? own : all;
      const roots = new Set<Finding>(mine.flatMap((f) => rootsOf(f, byId)));
      const ids = [...roots].map((f) => f.id).filter((id): id is string => Boolean(id));
      if (ids.length) hop.rootCause = [...new Set(ids)].sort();
    }
  }
  return result;
}

// How two findings are recognised as "the same" across two clusters. A local key until the
// shared finding id (issue #22, src/findings/links.ts) lands; then findingKey returns that id.
import type { Finding } from '../../findings/types.js';

/** The comparison key of a finding: its code, its objects (sorted) and its nodes. */
export function findingKey(f: Finding): string {
  const objects = [...f.objects].sort();
  const nodes = objects.filter((o) => o.startsWith('node/'));
  return `${f.code}|${objects.join(',')}|${nodes.join(',')}`;
}

// How two findings are recognised as "the same" across two clusters: by their id (content-
// derived, src/findings/links.ts: code and objects, told apart by message when they share them).
import type { Finding } from '../../findings/types.js';

/** The comparison key of a finding: its id; without one (not through doctor), code and objects. */
export function findingKey(f: Finding): string {
  return f.id ?? `${f.code}|${[...f.objects].sort().join(',')}`;
}

// Closeness of two names (a typo, a transposition, a missing suffix): used to suggest service
// names and to recognise a mistyped label key or value.

/** Optimal-string-alignment distance: insertions, deletions, substitutions, adjacent swaps. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  // Three rolling rows: the previous-but-one row is needed for transpositions.
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2] + 1);
      row.push(d);
    }
    prev2 = prev;
    prev = row;
  }
  return prev[b.length];
}

/** The largest distance that still reads as a typo of a word of this length. */
function allowedDistance(length: number): number {
  return length <= 4 ? 1 : length <= 8 ? 2 : 3;
}

/**
 * Two different names that look like one mistyped as the other: same letters in another case,
 * a small edit distance, or one a prefix of the other (`web` / `web-v2`).
 */
export function isSimilar(a: string, b: string): boolean {
  if (a === b) return false;
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  if (la === lb) return true;
  const shorter = Math.min(la.length, lb.length);
  if (shorter >= 3 && (la.startsWith(lb) || lb.startsWith(la))) return true;
  return editDistance(la, lb) <= allowedDistance(Math.max(la.length, lb.length));
}

/** Candidates close to `name`, closest first (at most `limit`). */
export function closeNames(name: string, candidates: Iterable<string>, limit = 5): string[] {
  const scored: { candidate: string; distance: number }[] = [];
  for (const candidate of candidates) {
    if (candidate === name || !isSimilar(name, candidate)) continue;
    scored.push({ candidate, distance: editDistance(name.toLowerCase(), candidate.toLowerCase()) });
  }
  scored.sort((x, y) => x.distance - y.distance || x.candidate.localeCompare(y.candidate));
  return scored.slice(0, limit).map((s) => s.candidate);
}

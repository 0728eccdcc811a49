// "Did you mean" for a misspelt option: only a name close to what was written, relative to
// its length, so a short unknown word (`zoned`, `version`) is not matched to an unrelated
// option that merely shares a few letters.

/** Optimal-string-alignment distance: insertions, deletions, substitutions, adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** Edits allowed for a name of `length` characters: one per four, at least one. */
export function allowedEdits(length: number): number {
  return Math.max(1, Math.floor(length / 4));
}

/** The closest of `names` to `written` within the allowed edits, or undefined. */
export function closestName(written: string, names: Iterable<string>): string | undefined {
  const w = written.toLowerCase().replace(/-/g, '_');
  let best: string | undefined;
  let bestD = Infinity;
  for (const n of names) {
    const d = editDistance(w, n.toLowerCase().replace(/-/g, '_'));
    if (d < bestD) [best, bestD] = [n, d];
  }
  return bestD <= allowedEdits(w.length) ? best : undefined;
}

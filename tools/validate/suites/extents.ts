// Where the integrity suite writes: a byte budget spread across the whole namespace (its
// first and last blocks included), so a run on a multi-terabyte drive still touches every
// region of the LBA space without writing all of it.

/** A run of consecutive blocks. */
export interface Extent {
  lba: number;
  blocks: number;
}

/**
 * Plans `count` extents of equal size totalling at most `budgetBlocks`, the first at LBA 0,
 * the last ending at the namespace's last block, the others evenly spaced between. When
 * the namespace is no larger than the budget, one extent covers all of it.
 */
export function spreadExtents(nsBlocks: number, budgetBlocks: number, count: number): Extent[] {
  if (nsBlocks <= 0) return [];
  if (nsBlocks <= budgetBlocks) return [{ lba: 0, blocks: nsBlocks }];
  const n = Math.max(1, Math.min(count, budgetBlocks));
  const size = Math.max(1, Math.floor(budgetBlocks / n));
  if (n === 1) return [{ lba: 0, blocks: size }];
  const stride = (nsBlocks - size) / (n - 1);
  const out: Extent[] = [];
  for (let i = 0; i < n; i++) {
    const lba = i === n - 1 ? nsBlocks - size : Math.floor(i * stride);
    const prev = out[out.length - 1];
    if (prev && lba < prev.lba + prev.blocks) continue;
    out.push({ lba, blocks: size });
  }
  return out;
}

/** Splits extents into IO-sized pieces of at most `maxBlocks`. */
export function chunked(extents: readonly Extent[], maxBlocks: number): Extent[] {
  const out: Extent[] = [];
  for (const e of extents) {
    for (let done = 0; done < e.blocks; done += maxBlocks) out.push({ lba: e.lba + done, blocks: Math.min(maxBlocks, e.blocks - done) });
  }
  return out;
}

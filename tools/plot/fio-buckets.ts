// fio's latency histogram buckets (fio 3.33 stat.h/stat.c): FIO_IO_U_PLAT_GROUP_NR = 29
// groups of FIO_IO_U_PLAT_VAL = 64 buckets (FIO_IO_U_PLAT_BITS = 6), 1856 in all, in ns.
// json+ `bins` keys are already bucket values; a clat_hist log's columns are bucket
// counts, 2^log_hist_coarseness buckets merged per column, so they need this mapping.
import { PlotInputError } from './errors';

const PLAT_BITS = 6;
const PLAT_VAL = 1 << PLAT_BITS;
/** fio's number of latency buckets (FIO_IO_U_PLAT_NR). */
export const FIO_PLAT_NR = 29 * PLAT_VAL;

/** fio's plat_idx_to_val: the value (ns) bucket `idx` stands for (the middle of its range). */
export function platIdxToVal(idx: number): number {
  if (idx < PLAT_VAL << 1) return idx;
  const errorBits = (idx >> PLAT_BITS) - 1;
  const base = 2 ** (errorBits + PLAT_BITS);
  const k = idx % PLAT_VAL;
  return base + (k + 0.5) * 2 ** errorBits;
}

/**
 * The value (ns) each column of a clat_hist line stands for: the middle of the merged
 * buckets' range. `columns` must be FIO_PLAT_NR >> coarseness for some coarseness.
 */
export function histColumnValues(columns: number, where: string): number[] {
  const merge = FIO_PLAT_NR / columns;
  if (!Number.isInteger(merge) || (merge & (merge - 1)) !== 0) {
    throw new PlotInputError(`${where}: ${columns} bucket columns; fio writes ${FIO_PLAT_NR} shifted right by log_hist_coarseness (${FIO_PLAT_NR}, ${FIO_PLAT_NR / 2}, ${FIO_PLAT_NR / 4}, ...)`);
  }
  const out: number[] = [];
  for (let j = 0; j < columns; j++) out.push((platIdxToVal(j * merge) + platIdxToVal((j + 1) * merge - 1)) / 2);
  return out;
}

/** The percentiles fio reports by default (percentile_list). */
export const FIO_PERCENTILES = [1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99];

/** Percentile `p` (0..100) of a histogram given as [value, count] ascending; undefined if empty. */
export function percentileOf(bins: ReadonlyArray<readonly [number, number]>, p: number): number | undefined {
  let total = 0;
  for (const [, c] of bins) total += c;
  if (total <= 0) return undefined;
  const want = (p / 100) * total;
  let cum = 0;
  for (const [v, c] of bins) {
    cum += c;
    if (cum >= want && c > 0) return v;
  }
  return bins[bins.length - 1][0];
}

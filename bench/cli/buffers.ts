// What a job's writes carry, resolved as fio 3.33 does from its buffer options (fixups in
// fio's init.c, flags in its init_flags, precedence in its fill_io_buffer), as the
// engine's fill recipe (bench/native/buffer_fill.h).
import type { JobSpec } from './job';

/** The engine's fill kinds (buffer_fill.h FillKind). */
export const FILL_KIND = { random: 0, zero: 1, pattern: 2, compress: 3 } as const;

/** The fill parameters of a job thread (bench_napi.cc bufferParams). */
export interface NativeBufferFill {
  fillKind: number;
  fillRefill: boolean;
  fillScramble: boolean;
  compressPercent: number;
  compressChunk: number;
  dedupePercent: number;
  /** dedupe_mode=working_set: the working set's pages (absent: repeat mode). */
  dedupeWorkingSetPages?: number;
  /** and a write's chance, in 1/10000, of being one of them. */
  dedupeWorkingSetChance?: number;
  fillPattern?: number[];
}

/**
 * fio's dedupe_mode=working_set for a region of `regionBytes` written in `minWriteBytes`
 * pages: a working set of dedupe_working_set_percentage of the pages, and a write's chance
 * of being one of them. Measured on fio 3.33 (8 MiB of 4 KiB writes): the share of
 * duplicate blocks is dedupe_percentage whatever the working set's size — its pages count
 * among the unique ones — so the chance is dedupe_percentage plus the working set's share
 * of the pages. A working set over 100 - dedupe_percentage cannot reach it (fio says so
 * and writes one block's data everywhere): plan.ts refuses it.
 */
export function dedupeWorkingSet(j: JobSpec, regionBytes: number, minWriteBytes: number): { dedupeWorkingSetPages: number; dedupeWorkingSetChance: number } | Record<string, never> {
  const b = j.buffers;
  if (b.dedupeMode !== 'working_set' || !b.dedupePercentage) return {};
  const pages = Math.floor(regionBytes / minWriteBytes);
  const set = Math.max(1, Math.floor((pages * b.dedupeWorkingSetPercentage) / 100));
  const chance = Math.min(10000, Math.round(10000 * (b.dedupePercentage / 100 + set / Math.max(1, pages))));
  return { dedupeWorkingSetPages: set, dedupeWorkingSetChance: chance };
}

/** fio's resolution of the buffer options for one job. */
export function resolveBufferFill(j: JobSpec): NativeBufferFill {
  const b = j.buffers;
  let compress = b.compressPercentage;
  let zero = b.zero;
  let refill = b.refill;
  // fio's fixup: fully compressible data is zeros, filled once; any other compression
  // refills every write unless refill_buffers was given.
  if (compress === 100) {
    zero = true;
    compress = 0;
  } else if (compress && !b.refillSet) {
    refill = true;
  }
  // fio's verify (any kind) refills unless refill_buffers was given; phyr's header kinds
  // write every block themselves, so only verify=null uses the fill.
  if (j.verify !== 'none' && !b.refillSet) refill = true;
  // fio's init_flags: scramble if asked to, or by default unless zero_buffers was given;
  // it applies to writes not refilled, without compression/dedupe and without verify.
  const scrambleFlag = b.scramble && (b.scrambleSet || !(b.zero && b.zeroSet));
  const scramble = scrambleFlag && !refill && !b.compressSet && j.verify === 'none';
  const kind = compress || b.dedupePercentage ? FILL_KIND.compress : b.pattern ? FILL_KIND.pattern : zero ? FILL_KIND.zero : FILL_KIND.random;
  return {
    fillKind: kind,
    fillRefill: refill,
    fillScramble: scramble,
    compressPercent: compress,
    compressChunk: b.compressChunk,
    dedupePercent: b.dedupePercentage,
    ...(b.pattern ? { fillPattern: b.pattern } : {}),
  };
}

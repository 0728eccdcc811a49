// fio's buffer options as a job holds them (set by options-buffers.ts, resolved by buffers.ts).

/** fio's buffer options as given; the option callbacks of options-buffers.ts set them. */
export interface BufferOptions {
  zero: boolean;
  /** True once zero_buffers was given (fio's fio_option_is_set). */
  zeroSet: boolean;
  refill: boolean;
  refillSet: boolean;
  scramble: boolean;
  scrambleSet: boolean;
  /** buffer_pattern's bytes (undefined = none). */
  pattern?: number[];
  compressPercentage: number;
  compressChunk: number;
  /** buffer_compress_percentage or dedupe_percentage was given (fio's TD_F_COMPRESS). */
  compressSet: boolean;
  dedupePercentage: number;
  /** fio's dedupe_mode: repeat the last unique buffer, or pick from a working set. */
  dedupeMode: 'repeat' | 'working_set';
  /** fio's dedupe_working_set_percentage: the working set, in percent of size (default 5). */
  dedupeWorkingSetPercentage: number;
}

/** fio's defaults: random data filled once, scrambled per write. */
export function defaultBufferOptions(): BufferOptions {
  return { zero: false, zeroSet: false, refill: false, refillSet: false, scramble: true, scrambleSet: false, compressPercentage: 0, compressChunk: 512, compressSet: false, dedupePercentage: 0, dedupeMode: 'repeat', dedupeWorkingSetPercentage: 5 };
}

// fio's buffer-content options: what a write carries. Each option does what fio 3.33's
// option callback does, in the order given (buffer_pattern, for one, decides whether to
// refill from the job's direction at that point, as fio does); resolveBufferFill
// (buffers.ts) then applies fio's fixups and hands the engine one fill recipe.
import { BenchOptionError } from './errors';
import { modeTraits, type JobSpec } from './job';
import type { BenchOption } from './option-types';
import { parsePattern, parseVerifyPattern } from './pattern';
import { parseBool, parseBytes, parseInteger } from './units';

function need(option: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new BenchOptionError(option, '', 'a value is required');
  return value;
}

/** The option table's rows for buffer contents and verify_pattern (spread into OPTIONS). */
export const BUFFER_OPTIONS: BenchOption[] = [
  {
    name: 'zero_buffers', scope: 'job', flag: true, help: 'writes carry zeros (default: random data, filled once)',
    applyJob: (j: JobSpec, v) => { j.buffers.zero = parseBool('zero_buffers', v); j.buffers.zeroSet = true; },
  },
  {
    name: 'refill_buffers', scope: 'job', flag: true, help: 'fill every write afresh before it is submitted (default: fill once; on by itself with compression or dedupe)',
    applyJob: (j: JobSpec, v) => { j.buffers.refill = parseBool('refill_buffers', v); j.buffers.refillSet = true; },
  },
  {
    name: 'scramble_buffers', scope: 'job', flag: true, help: 'stamp each write\'s offset and time into every 512-byte piece (default 1; not with refill, compression, dedupe or verify)',
    applyJob: (j: JobSpec, v) => { j.buffers.scramble = parseBool('scramble_buffers', v); j.buffers.scrambleSet = true; },
  },
  {
    name: 'buffer_pattern', scope: 'job', help: 'writes carry this pattern: 0xHEX, a decimal int32, "text", \'file\', or several in a row',
    applyJob: (j: JobSpec, v) => {
      const b = j.buffers;
      b.pattern = parsePattern('buffer_pattern', need('buffer_pattern', v));
      // fio: refill when the job reads (a read would overwrite the pattern) or compresses,
      // judged when the option is parsed; scramble and zero_buffers are turned off.
      b.refill = b.compressPercentage !== 0 || modeTraits(j.rw).reads;
      b.scramble = false;
      b.zero = false;
    },
  },
  {
    name: 'buffer_compress_percentage', scope: 'job', help: 'writes compress to about this percentage: per chunk, random data then the pattern (or zeros); 100 = zeros',
    applyJob: (j: JobSpec, v) => { j.buffers.compressPercentage = parseInteger('buffer_compress_percentage', need('buffer_compress_percentage', v), 0, 100); j.buffers.compressSet = true; },
  },
  {
    name: 'buffer_compress_chunk', scope: 'job', help: 'bytes of each random-then-fixed chunk of buffer_compress_percentage (default 512; 0 = the write block size)',
    applyJob: (j: JobSpec, v) => {
      const n = parseBytes('buffer_compress_chunk', need('buffer_compress_chunk', v), j.kbBase);
      if (n > 0xffffffff) throw new BenchOptionError('buffer_compress_chunk', v ?? '', 'must be below 4 GiB');
      j.buffers.compressChunk = n;
    },
  },
  {
    name: 'dedupe_percentage', scope: 'job', help: 'this percentage of writes repeat an earlier write\'s data (fio\'s dedupe_mode=repeat); turns refill_buffers on',
    applyJob: (j: JobSpec, v) => {
      j.buffers.dedupePercentage = parseInteger('dedupe_percentage', need('dedupe_percentage', v), 0, 100);
      j.buffers.compressSet = true;
      j.buffers.refill = true;
    },
  },
  {
    name: 'dedupe_mode', scope: 'job', help: 'repeat (default: a dedupe write repeats the last unique one) or working_set (a dedupe write is one of a working set of dedupe_working_set_percentage of size, picked at random), as fio',
    applyJob: (j: JobSpec, v) => {
      const val = need('dedupe_mode', v);
      if (val !== 'repeat' && val !== 'working_set') throw new BenchOptionError('dedupe_mode', val, 'expected repeat or working_set');
      j.buffers.dedupeMode = val;
    },
  },
  {
    name: 'dedupe_working_set_percentage', scope: 'job', help: 'dedupe_mode=working_set: the working set\'s size in percent of size (default 5); its pages count among the unique ones, so it may be at most 100 - dedupe_percentage, as fio',
    applyJob: (j: JobSpec, v) => { j.buffers.dedupeWorkingSetPercentage = parseInteger('dedupe_working_set_percentage', need('dedupe_working_set_percentage', v), 0, 100); },
  },
  {
    name: 'verify_pattern', scope: 'job', help: 'the pattern verify blocks carry (syntax of buffer_pattern); without verify= it means fio\'s pattern verify with a header',
    applyJob: (j: JobSpec, v) => {
      const pat = parseVerifyPattern('verify_pattern', need('verify_pattern', v));
      j.verifyPattern = pat.bytes;
      j.verifyPatternOffsets = pat.offsets.length ? pat.offsets : undefined;
      // fio: verify_pattern sets verify=pattern (with a header) unless verify was given.
      if (!j.verifySet) j.verify = 'pattern_header';
    },
  },
];

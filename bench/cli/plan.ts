// Turns a job description plus what the device says (LBA size, capacity, queue limits)
// into the exact parameters of each job thread — and rejects every impossible combination
// here, before any queue is created or any IO issued.
import { BenchConfigError } from './errors';
import { modeTraits, type BlockSizeSpec, type JobSpec } from './job';
import { dedupeWorkingSet, resolveBufferFill } from './buffers';
import { VERIFY_KIND, type NativeBlockSizes, type NativeJobParams } from './native';
import { nativeErrorParams } from './options-errors';
import { nativeLatencyParams } from './options-latency';
import { planVerify } from './options-verify';
import { formatBytesFio } from './units';

/** What planning needs to know about the namespace. */
export interface NamespaceInfo {
  nsid: number;
  lbaSize: number;
  blocks: number;
}

/** A planned job thread: native parameters without the buffer (known after allocation). */
export type PlannedJob = Omit<NativeJobParams, 'bufIova' | 'bufFlags'>;

function nativeBs(b: BlockSizeSpec): NativeBlockSizes {
  let cum = 0;
  const split: Array<[number, number]> = b.split.map((e) => {
    cum += e.percent * 100;
    return [e.bytes, Math.round(cum)];
  });
  if (split.length) split[split.length - 1][1] = 10000;
  return { min: b.min, max: b.max, split };
}

function usedSizes(b: BlockSizeSpec): number[] {
  return b.split.length ? b.split.map((e) => e.bytes) : [b.min, b.max];
}

/** Commands a queue of `size` entries holds in flight (the driver keeps a quarter spare, and at least one). */
export function queueCapacity(size: number): number {
  return Math.min(size - Math.floor(size / 4), size - 1);
}

/** Queue entries to request so that `iodepth` commands fit. */
export function queueSizeFor(iodepth: number): number {
  let size = 2;
  while (queueCapacity(size) < iodepth) size *= 2;
  return size;
}

/** Plans clone `stream` of job `j` on namespace `ns`. */
/** Bytes of one in-flight IO's buffer slot: the largest block size the job uses, rounded up
 * to 4 KiB so each slot starts on a page and is always PRP-able as one range. */
export function slotBytesOf(j: JobSpec): number {
  const traits = modeTraits(j.rw);
  // A trim's range list takes the slot's first 16 bytes; its size is the read bs until bs=R,W,T.
  const maxBs = Math.max(traits.reads || traits.trims ? j.bs.read.max : 0, traits.writes ? j.bs.write.max : 0, j.rw === 'trimwrite' && j.bs.trim ? j.bs.trim.max : 0);
  return Math.ceil(maxBs / 4096) * 4096;
}

export function planJob(j: JobSpec, ns: NamespaceInfo, stream = 0): PlannedJob {
  const fail = (m: string): never => {
    throw new BenchConfigError(`job '${j.name}': ${m}`);
  };
  const traits = modeTraits(j.rw);
  const nsBytes = ns.blocks * ns.lbaSize;
  for (const [dir, used] of [['read', traits.reads || traits.trims], ['write', traits.writes]] as const) {
    if (!used) continue;
    for (const bs of usedSizes(j.bs[dir])) {
      if (bs % ns.lbaSize !== 0) fail(`bs=${formatBytesFio(bs)} is not a multiple of the namespace's LBA size (${ns.lbaSize} bytes); use a multiple such as ${formatBytesFio(Math.max(ns.lbaSize, Math.ceil(bs / ns.lbaSize) * ns.lbaSize))}`);
    }
  }
  // fio takes offset=N% of the whole device and rounds it up to the smallest block size of
  // the job (measured on fio 3.33: 33% of 64 MiB with bs=128k starts at 22,151,168), so the
  // IOs stay block-aligned; an absolute offset is used as given.
  // offset_increment (measured on fio 3.33: clone 2 of offset_increment=10% on 64 MiB with
  // bs=64k starts at 13,434,880) moves clone N by N increments; the sum is rounded up when a
  // percentage is involved, to offset_align or the smallest block size.
  const bytesOf = (v: JobSpec['offset']) => ('percent' in v ? Math.floor((v.percent * nsBytes) / 100) : v.bytes);
  let offset = bytesOf(j.offset) + stream * bytesOf(j.offsetIncrement);
  if ('percent' in j.offset || 'percent' in j.offsetIncrement) {
    const align = j.offsetAlign || Math.min(j.bs.read.min, j.bs.write.min);
    offset = Math.ceil(offset / align) * align;
    offset = Math.ceil(offset / ns.lbaSize) * ns.lbaSize;
  }
  if (offset % ns.lbaSize !== 0) fail(`offset=${offset} is not a multiple of the LBA size (${ns.lbaSize} bytes)`);
  if (offset >= nsBytes) fail(`offset=${formatBytesFio(offset)} is beyond namespace ${ns.nsid} (${formatBytesFio(nsBytes)})`);
  let size: number;
  if (j.size === undefined) size = nsBytes - offset;
  // fio: size=N% is N% of the whole device (not of what follows the offset), clamped to
  // what remains after the offset.
  else if ('percent' in j.size) size = Math.min(Math.floor((j.size.percent * nsBytes) / 100 / ns.lbaSize) * ns.lbaSize, nsBytes - offset);
  else size = j.size.bytes;
  if (size === 0) fail('size is 0: nothing to do');
  // A size that is not a multiple of the LBA size covers the whole blocks in it: fio runs
  // such a size (size=2000k with kb_base=1000) and its IOs are whole blocks anyway.
  size = Math.floor(size / ns.lbaSize) * ns.lbaSize;
  if (size === 0) fail(`size=${j.size && 'bytes' in j.size ? j.size.bytes : 0} is smaller than one logical block (${ns.lbaSize} bytes)`);
  if (offset + size > nsBytes) {
    fail(`size=${formatBytesFio(size)} at offset=${formatBytesFio(offset)} reaches beyond namespace ${ns.nsid}, which has ${ns.blocks} blocks of ${ns.lbaSize} bytes (${formatBytesFio(nsBytes)}); use --size=${formatBytesFio(nsBytes - offset)} or less`);
  }
  const maxBs = Math.max(traits.reads || traits.trims ? j.bs.read.max : 0, traits.writes ? j.bs.write.max : 0);
  if (maxBs > size) fail(`the block size (${formatBytesFio(maxBs)}) is larger than the region (size=${formatBytesFio(size)})`);
  if (j.blockAlign % ns.lbaSize !== 0) fail(`blockalign=${j.blockAlign} is not a multiple of the LBA size (${ns.lbaSize} bytes)`);
  if (j.blockAlign > size) fail(`blockalign=${formatBytesFio(j.blockAlign)} is larger than the region (size=${formatBytesFio(size)})`);
  // lfsr never repeats a block within a pass, random map or not (fio's random_generator).
  const randomMap = !j.norandommap || j.randomGenerator === 'lfsr';
  if (j.verify !== 'none' && traits.random && j.randomEvery > 1 && traits.writes) fail(`verify with rw=${j.rw}:${j.randomEvery} is not supported: the IOs between two random offsets write blocks again while earlier writes may be in flight; drop the :N`);
  if (j.verify !== 'none' && !randomMap && traits.writes) fail('verify with norandommap is not supported: a block written twice while in flight could verify against either write');
  if (j.seqSkip !== 0) {
    if (Math.abs(j.seqSkip) % ns.lbaSize !== 0) fail(`rw=${j.rw}:${j.seqSkip}: the skip must be a multiple of the LBA size (${ns.lbaSize} bytes)`);
    if (Math.abs(j.seqSkip) > size - maxBs) fail(`rw=${j.rw}:${j.seqSkip}: the skip is larger than the region less one block (${formatBytesFio(size - maxBs)})`);
  }
  if ((j.verify === 'pattern' || j.verify === 'pattern_header') && !j.verifyPattern) fail('verify=pattern checks verify_pattern: give verify_pattern=... (e.g. 0xdeadbeef)');
  if (j.verifyPattern && j.verify === 'pattern_header' && ns.lbaSize <= 48) fail('verify_pattern without verify= writes a 48-byte header in every block: the LBA size is too small');
  if (j.verifyPatternOffsets && j.verify !== 'none' && j.verify !== 'null') {
    // %o is the IO's offset: a block is checked against the offset of the read that brings
    // it back, so reads must cover the writes' IOs exactly — one block size for both.
    const sizes = [...usedSizes(j.bs.read), ...usedSizes(j.bs.write)];
    if (!sizes.every((x) => x === sizes[0])) fail('verify_pattern with %o needs one block size for reads and writes: the read-back must read each write\'s IO as written (the offset in the pattern is the IO\'s)');
  }
  if (j.verify === 'meta' && ns.lbaSize <= 48) fail('verify=meta writes a 48-byte header in every block: the LBA size is too small');
  const b = j.buffers;
  // fio draws a verify job's data with buffer_compress_percentage's random/fixed split;
  // phyr's checksummed blocks carry their own derived data, so they would not compress.
  if (b.compressPercentage > 0 && b.compressPercentage < 100 && (j.verify === 'crc32c' || j.verify === 'md5') && !j.verifyPattern) {
    fail(`buffer_compress_percentage=${b.compressPercentage} with verify=${j.verify} is not supported: phyr's verify blocks carry their own data, which does not compress; give verify_pattern (the blocks then carry the pattern), or drop one of them`);
  }
  if (j.mem.kind !== 'pool' && (b.pattern || b.zeroSet || b.refillSet || b.compressSet || (b.scrambleSet && b.scramble))) {
    fail(`buffer contents (zero_buffers, refill_buffers, scramble_buffers, buffer_pattern, buffer_compress_percentage, dedupe_percentage) need --mem=pool: ${j.mem.kind} buffers have no CPU view to fill`);
  }
  if (b.dedupeMode === 'working_set' && b.dedupePercentage && b.dedupeWorkingSetPercentage > 100 - b.dedupePercentage) {
    fail(`dedupe_working_set_percentage=${b.dedupeWorkingSetPercentage} with dedupe_percentage=${b.dedupePercentage}: the working set's pages are unique ones, so it can be at most ${100 - b.dedupePercentage} %; give a smaller working set`);
  }
  if (traits.trims && j.verify !== 'none') fail('verify with trims is not supported (fio\'s trim verification, trim_verify_zero, is not implemented)');
  if (traits.trims && j.mem.kind !== 'pool') fail('trims need --mem=pool: the Dataset Management range list is written by the CPU');
  // A trim job's IOs are drawn as reads of the read block size; the engine sends each as
  // a deallocate (trim: true).
  // trimwrite (fio: trim a block, then write it) is a write job whose every other IO, drawn
  // of the trim block size (bs=R,W,T's third value, else the write size), is a deallocate.
  const trimWrite = j.rw === 'trimwrite';
  const readPercent = trimWrite ? 0 : traits.trims ? 100 : traits.reads && traits.writes ? j.rwmixread : traits.reads ? 100 : 0;
  // A random pass ends when the random map is full (measured on fio 3.33 over psync on a
  // file, bs=4k: randread size=10k does 2 IOs, 8192 bytes, and size=2000k with kb_base=1000
  // 488; a sequential job reads on past size to end the block it started: 3 and 489). With
  // one block size for every direction (fio's map unit is the smallest of them all, used or
  // not) the pass is the whole blocks of size; mixed sizes keep size.
  const sizes = [...usedSizes(j.bs.read), ...usedSizes(j.bs.write), ...(j.bs.trim ? usedSizes(j.bs.trim) : [])];
  const fixedBs = sizes.every((x) => x === sizes[0]) && (!j.blockAlign || j.blockAlign === sizes[0]) ? sizes[0] : 0;
  const passBytes = traits.random && randomMap && fixedBs && j.ioSize === undefined && j.percentageRandom === 100 ? Math.floor(size / fixedBs) * fixedBs : size;
  const pacing = planPacing(j, passBytes, fail);
  const verifyShaping = planVerify(j, ns.lbaSize, fail);
  // verify_only: the write phase issues nothing, so nothing is paced, flushed or thought about.
  if (verifyShaping.verifyOnly) pacing.rateBps = [0, 0];
  const dry = verifyShaping.verifyOnly === true;
  const dist = { random: 0, zipf: 1, pareto: 2, zoned: 3, zoned_abs: 3, normal: 4 }[j.randomDistribution.kind];
  const zones = planZones(j, size, fail);
  return {
    nsid: ns.nsid,
    lbaSize: ns.lbaSize,
    regionLba: offset / ns.lbaSize,
    regionBytes: size,
    random: traits.random,
    readPercent,
    readBs: nativeBs(trimWrite ? (j.bs.trim ?? j.bs.write) : j.bs.read),
    writeBs: nativeBs(j.bs.write),
    iodepth: j.iodepth,
    runtimeNs: j.runtimeNs,
    rampNs: j.rampNs,
    timeBased: j.timeBased,
    ioBytes: pacing.ioBytes,
    distribution: dist,
    distParam: j.randomDistribution.param,
    distCenter: j.randomDistribution.center ?? -1,
    randomMap,
    seed: j.randseed,
    stream,
    verify: j.verify !== 'none',
    verifyKind: VERIFY_KIND[j.verify === 'none' ? 'crc32c' : j.verify],
    verifyFatal: j.verifyFatal,
    doVerify: j.doVerify && !verifyPhaseNeverStarts(j),
    slotBytes: slotBytesOf(j),
    cmdTimeoutNs: j.cmdTimeoutNs,
    ...(j.seqSkip !== 0 ? { seqSkip: j.seqSkip } : {}),
    maxIos: pacing.maxIos,
    rateBps: pacing.rateBps,
    ratePoisson: j.rateProcess === 'poisson',
    rateMinBps: [j.rateMin[0], j.rateMin[1]],
    rateMinIops: [j.rateIopsMin[0], j.rateIopsMin[1]],
    rateCycleNs: j.rateCycleNs,
    thinktimeNs: dry ? 0 : j.thinktimeNs,
    thinktimeSpinNs: dry ? 0 : j.thinktimeSpinNs,
    // thinktime_iotime alone: only the time counts (fio skips the default one block).
    thinktimeBlocks: j.thinktimeIotimeNs && !j.thinktimeBlocksGiven ? 0 : j.thinktimeBlocks,
    thinktimeByCompletion: j.thinktimeBlocksType === 'complete',
    thinktimeIotimeNs: dry ? 0 : j.thinktimeIotimeNs,
    rateIgnoreThinktime: j.rateIgnoreThinktime,
    serializeOverlap: j.serializeOverlap,
    ...(j.nice ? { nice: j.nice } : {}),
    startDelayNs: j.startDelayNs,
    fsyncEvery: dry ? 0 : flushEvery(j, fail),
    trim: traits.trims && !trimWrite,
    ...(trimWrite ? { trimWrite: true } : {}),
    ...batching(j),
    blockAlign: j.blockAlign,
    percentageRandom: j.percentageRandom,
    ...(traits.random && j.randomEvery > 1 ? { randomEvery: j.randomEvery, randomIdentical: j.rwSequencer === 'identical' } : {}),
    ...(zones ? { zones } : {}),
    endFsync: j.endFsync && traits.writes && !dry,
    ...(j.readFua ? { readFua: true } : {}),
    ...(j.writeFua ? { writeFua: true } : {}),
    ...(j.continueOnError ? nativeErrorParams(j) : {}),
    ...(j.maxLatencyNs.some((n) => n > 0) ? { maxLatencyNs: [j.maxLatencyNs[0], j.maxLatencyNs[1], j.maxLatencyNs[2]] as [number, number, number] } : {}),
    ...resolveBufferFill(j),
    ...dedupeWorkingSet(j, size, j.bs.write.min),
    ...(j.verifyPattern ? { verifyPattern: j.verifyPattern } : {}),
    ...(j.verifyPattern && j.verifyPatternOffsets ? { verifyPatternOffsets: j.verifyPatternOffsets } : {}),
    ...verifyShaping,
    ...nativeLatencyParams(j),
  };
}

/** fsync=N or fdatasync=N (the same NVMe Flush): both given must agree. */
function flushEvery(j: JobSpec, fail: (m: string) => never): number {
  if (j.fsync && j.fdatasync && j.fsync !== j.fdatasync) fail(`fsync=${j.fsync} and fdatasync=${j.fdatasync} both ask for NVMe's one Flush: give one`);
  return modeTraits(j.rw).writes ? j.fsync || j.fdatasync : 0;
}

/**
 * The batching options, clamped as fio clamps them: a submit batch or a low mark of 0 or
 * above iodepth is iodepth (for the submit batch phyr's own default, 0, rings once per
 * pass, which at most fills iodepth), and a completion maximum below the minimum is the minimum.
 */
function batching(j: JobSpec): Pick<PlannedJob, 'batchSubmit' | 'batchCompleteMin' | 'batchCompleteMax' | 'iodepthLow'> {
  const batchSubmit = j.batchSubmit >= j.iodepth ? 0 : j.batchSubmit;
  const batchCompleteMin = Math.min(j.batchCompleteMin, j.iodepth);
  const batchCompleteMax = j.batchCompleteMax && j.batchCompleteMax < batchCompleteMin ? batchCompleteMin : j.batchCompleteMax;
  const iodepthLow = j.iodepthLow >= j.iodepth ? 0 : j.iodepthLow;
  return { batchSubmit, batchCompleteMin, batchCompleteMax, iodepthLow };
}

/**
 * fio's zones as byte ranges of the region, in order from its start, with their cumulative
 * share of the draws in 1/100 %: zoned ranges are percentages of the region, zoned_abs
 * sizes, which must fit in it.
 */
function planZones(j: JobSpec, size: number, fail: (m: string) => never): Array<[number, number, number]> | undefined {
  const d = j.randomDistribution;
  if ((d.kind !== 'zoned' && d.kind !== 'zoned_abs') || !d.zones) return undefined;
  let start = 0;
  let cum = 0;
  const out: Array<[number, number, number]> = [];
  for (const z of d.zones) {
    const bytes = d.kind === 'zoned' ? Math.floor((z.range * size) / 100) : z.range;
    if (start + bytes > size) fail(`random_distribution zones reach beyond the region (${formatBytesFio(size)})`);
    cum += z.access * 100;
    if (z.access > 0) {
      if (bytes === 0) fail('random_distribution: a zone with accesses needs a range');
      out.push([start, bytes, Math.round(cum)]);
    }
    start += bytes;
  }
  out[out.length - 1][2] = 10000;
  return out;
}

type Pacing = Pick<PlannedJob, 'ioBytes' | 'maxIos' | 'rateBps'>;

/**
 * The amounts and rates of a job, as fio derives them: io_size (N% of size) or size is
 * done `loops` times, number_ios x loops bounds the IOs, and a direction's rate is its
 * rate in bytes/s or else rate_iops x its smallest block size.
 */
function planPacing(j: JobSpec, size: number, fail: (m: string) => never): Pacing {
  let once = size;
  if (j.ioSize !== undefined) once = 'percent' in j.ioSize ? Math.floor((j.ioSize.percent * size) / 100) : j.ioSize.bytes;
  if (once === 0) fail('io_size is 0: nothing to do');
  const ioBytes = once * j.loops;
  if (!Number.isSafeInteger(ioBytes)) fail(`io_size x loops (${once} x ${j.loops}) is too large`);
  if (j.loops > 1 && j.verify !== 'none') fail('verify with loops is not supported: fio verifies after every loop, phyr once after the write phase; use one loop with a larger io_size');
  const rateBps: [number, number] = [0, 0];
  for (const d of [0, 1] as const) {
    const dir = d ? 'write' : 'read';
    rateBps[d] = j.rate[d] || j.rateIops[d] * j.bs[dir].min;
    if (!Number.isSafeInteger(rateBps[d])) fail(`the ${dir} rate is too large`);
    // fio refuses a minimum above the cap ("minimum rate exceeds rate").
    if (j.rate[d] && j.rateMin[d] > j.rate[d]) fail(`rate_min (${j.rateMin[d]} B/s) exceeds rate (${j.rate[d]} B/s) for ${dir}s`);
    if (j.rateIops[d] && j.rateIopsMin[d] > j.rateIops[d]) fail(`rate_iops_min (${j.rateIopsMin[d]}) exceeds rate_iops (${j.rateIops[d]}) for ${dir}s`);
  }
  if (j.thinktimeSpinNs > j.thinktimeNs) fail('thinktime_spin is longer than thinktime');
  return { ioBytes, maxIos: j.numberIos * j.loops, rateBps };
}

/**
 * A write-only job with verify and time_based writes until its runtime is over, so the
 * read-back that follows the write phase would start only after the time is up: fio skips
 * it (with a warning) rather than run past the runtime, and so does phyr.
 */
export function verifyPhaseNeverStarts(j: JobSpec): boolean {
  const t = modeTraits(j.rw);
  // verify_only's dry run is bounded by size, not time (fio's do_dry_run): its read-back runs.
  return j.verify !== 'none' && j.doVerify && j.timeBased && t.writes && !t.reads && !j.verifyShaping.only;
}

/** fio's "bs=(R) 4096B-4096B, (W) 4096B-4096B, (T) 4096B-4096B" header text. */
export function bsHeader(j: JobSpec): string {
  const r = (b: BlockSizeSpec) => `${b.min}B-${b.max}B`;
  return `(R) ${r(j.bs.read)}, (W) ${r(j.bs.write)}, (T) ${r(j.bs.read)}`;
}

/**
 * fio's "job options" object: the job's own options with their values as written ("4k",
 * not 4096), in the order given; defaults nobody gave are not in it, [global] ones are in
 * the report's "global options". fio leaves out a flag given without a value; so does this.
 */
export function jobOptions(j: JobSpec): Record<string, string> {
  return { ...j.written };
}

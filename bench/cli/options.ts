// The option table: fio's option names with fio's semantics, plus phyr's own (--nsid,
// --mem, --dptr). Options fio has but phyr does not implement are rejected BY NAME with a
// reason — never silently ignored — and unknown names are rejected with the closest match.
import { BenchConfigError, BenchOptionError } from './errors';
import { CMD_TIMEOUT_BOUNDS_NS, DEFAULT_CMD_TIMEOUT_NS, type BlockSizeSpec, type JobSpec, type RunOptions, type RwMode } from './job';
import { DEFAULT_ONLY } from './fio-defaults';
import { KERNEL_STACK_OPTIONS } from './kernel-stack';
import type { BenchOption } from './option-types';
import { closestName } from './suggest';
import { BATCH_OPTIONS } from './options-batch';
import { CPU_OPTIONS } from './options-cpus';
import { ERROR_OPTIONS } from './options-errors';
import { LATENCY_OPTIONS } from './options-latency';
import { FLOW_OPTIONS } from './options-flow';
import { REPLAY_OPTIONS } from './options-replay';
import { BUFFER_OPTIONS } from './options-buffers';
import { VERIFY_OPTIONS } from './options-verify';
import { FLUSH_OPTIONS } from './options-flush';
import { LOG_OPTIONS } from './options-logs';
import { PACING_OPTIONS } from './options-pacing';
import { BS_SEQ_RAND_OPTION } from './bs-seq-rand';
import { RANDOM_OPTIONS, randomEvery } from './options-random';
import { OUTPUT_FORMAT_OPTIONS } from './options-output';
import { STEADYSTATE_OPTIONS } from './options-steadystate';
import { TERSE_VERSIONS } from './report-terse';
import { parseBool, parseBytes, parseInteger, parseSize, parseTimeNs, type KbBase } from './units';

export type { ApplyContext, BenchOption, OptionScope, OptionTreatment } from './option-types';

const RW_MODES: Record<string, RwMode> = {
  read: 'read', write: 'write', randread: 'randread', randwrite: 'randwrite',
  rw: 'rw', readwrite: 'rw', randrw: 'randrw', trim: 'trim', randtrim: 'randtrim', trimwrite: 'trimwrite',
};

function need(option: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new BenchOptionError(option, '', 'a value is required');
  return value;
}

/**
 * fio's per-direction syntax `R,W,T`: one value for all three directions, or read, write
 * and trim values in order; an empty one leaves that direction as it was (fio: `bs=,8k`
 * keeps reads at the default 4k) and a missing trim value follows the write value.
 */
function perDirection(option: string, value: string): [string | undefined, string | undefined, string | undefined] {
  const parts = value.split(',');
  if (parts.length > 3) throw new BenchOptionError(option, value, 'give one value, or READ,WRITE[,TRIM]');
  if (parts.every((p) => p === '')) throw new BenchOptionError(option, value, 'a value is required');
  const at = (i: number) => (parts[i] === '' ? undefined : parts[i]);
  if (parts.length === 1) return [parts[0], parts[0], parts[0]];
  return [at(0), at(1), parts.length === 3 ? at(2) : at(1)];
}

/** Applies `R,W,T` values of a block-size option, leaving an empty direction as it was. */
function setBlockSizes(j: JobSpec, option: string, value: string, parse: (text: string) => BlockSizeSpec): void {
  const [r, w, t] = perDirection(option, value);
  if (r !== undefined) j.bs.read = parse(r);
  if (w !== undefined) j.bs.write = parse(w);
  if (t !== undefined) j.bs.trim = parse(t);
}

function positiveBs(option: string, text: string, kbBase: KbBase): number {
  const n = parseBytes(option, text, kbBase);
  if (n <= 0) throw new BenchOptionError(option, text, 'a block size must be positive');
  return n;
}

function parseBsRange(option: string, text: string, kbBase: KbBase): BlockSizeSpec {
  const m = /^([^-:]+)[-:]([^-:]+)$/.exec(text);
  if (!m) throw new BenchOptionError(option, text, 'expected MIN-MAX, e.g. 4k-64k');
  let min = positiveBs(option, m[1], kbBase);
  let max = positiveBs(option, m[2], kbBase);
  if (min > max) [min, max] = [max, min]; // fio swaps a reversed range
  return { min, max, split: [] };
}

function parseBsSplit(option: string, text: string, kbBase: KbBase): BlockSizeSpec {
  const entries = text.split(':').map((e) => {
    // fio: BS/PERCENT, or a bare BS (its share is what the others leave).
    const m = /^([^/]+)(?:\/(\d*))?$/.exec(e);
    if (!m) throw new BenchOptionError(option, text, `'${e}' is not BS/PERCENT (e.g. 4k/50:64k/50)`);
    return { bytes: positiveBs(option, m[1], kbBase), percent: m[2] === undefined || m[2] === '' ? -1 : Number(m[2]) };
  });
  // fio: entries with no percentage share what the others leave.
  const given = entries.filter((e) => e.percent >= 0).reduce((a, e) => a + e.percent, 0);
  const blanks = entries.filter((e) => e.percent < 0).length;
  if (given > 100) throw new BenchOptionError(option, text, `percentages add up to ${given}, more than 100`);
  for (const e of entries) if (e.percent < 0) e.percent = (100 - given) / blanks;
  const total = entries.reduce((a, e) => a + e.percent, 0);
  if (Math.abs(total - 100) > 1e-9) throw new BenchOptionError(option, text, `percentages add up to ${total}, not 100`);
  const split = entries.filter((e) => e.percent > 0);
  return { min: Math.min(...split.map((e) => e.bytes)), max: Math.max(...split.map((e) => e.bytes)), split };
}

function parsePercentList(option: string, text: string): number[] {
  const list = text.split(':').map((p) => {
    const v = Number(p);
    if (p.trim() === '' || !Number.isFinite(v) || v <= 0 || v > 100) throw new BenchOptionError(option, text, `'${p}' is not a percentile in (0, 100]`);
    return v;
  });
  if (list.length > 20) throw new BenchOptionError(option, text, 'at most 20 percentiles (fio\'s limit)');
  return list.sort((a, b) => a - b);
}

// fio's zoned:A/R:A/R... (R a percentage of the region) and zoned_abs:A/SIZE:... ; the access
// percentages must add up to 100 (fio refuses otherwise), the ranges to at most the region.
function parseZones(option: string, text: string, kind: 'zoned' | 'zoned_abs', kbBase: KbBase): JobSpec['randomDistribution'] {
  const body = text.slice(kind.length + 1);
  if (body.includes(',')) throw new BenchOptionError(option, text, 'phyr draws reads and writes from one distribution: give one zone list');
  // fio 3.33 (split_parse_ddir): an empty entry ends the list; in zoned, a range that is
  // missing, empty or 0 (`20/`, `20`, `20/0`) is "the rest": the ranges not given share
  // what the others leave of 100, in whole percent (`zoned:50/5:30/15:20/` gives the last
  // zone 80). zoned_abs has no such rest: every zone needs its size.
  const entries = body.split(':');
  const end = entries.indexOf('');
  const zones = (end >= 0 ? entries.slice(0, end) : entries).map((z) => {
    const m = /^([0-9.]+)(?:\/(.*))?$/.exec(z);
    if (!m || (kind === 'zoned_abs' && !m[2])) throw new BenchOptionError(option, text, `'${z}' is not ACCESS%/${kind === 'zoned' ? 'RANGE%' : 'SIZE'} (e.g. ${kind === 'zoned' ? '60/10, or 60/ for the rest of the region' : '60/20m'})`);
    const access = Number(m[1]);
    const rest = kind === 'zoned' && (m[2] === undefined || m[2] === '' || Number(m[2]) === 0);
    const range = rest ? 0 : kind === 'zoned' ? Number(m[2]) : parseBytes(option, m[2] ?? '', kbBase);
    if (!Number.isFinite(access) || access < 0 || access > 100) throw new BenchOptionError(option, text, `access percentage '${m[1]}' is not 0..100`);
    if (!Number.isFinite(range) || range < 0 || (kind === 'zoned' && range > 100)) throw new BenchOptionError(option, text, `range '${m[2]}' is not ${kind === 'zoned' ? 'a percentage' : 'a size'}`);
    return { access, range, rest };
  });
  if (zones.length === 0) throw new BenchOptionError(option, text, 'no zones given');
  if (zones.length > 16) throw new BenchOptionError(option, text, 'at most 16 zones');
  const accessSum = zones.reduce((a, z) => a + z.access, 0);
  if (Math.abs(accessSum - 100) > 1e-9) throw new BenchOptionError(option, text, `the access percentages add up to ${accessSum}, not 100 (as fio requires)`);
  const given = zones.reduce((a, z) => a + z.range, 0);
  if (kind === 'zoned' && given > 100 + 1e-9) throw new BenchOptionError(option, text, 'the range percentages add up to more than 100');
  const restCount = zones.filter((z) => z.rest).length;
  const share = restCount ? Math.floor((100 - given) / restCount) : 0;
  return { kind, param: 0, zones: zones.map((z) => ({ access: z.access, range: z.rest ? share : z.range })).filter((z) => z.access > 0 || z.range > 0) };
}

/** The largest zipf theta the engine takes (beyond it every draw is the hottest block anyway). */
const ZIPF_THETA_MAX = 1e6;

function parseDistribution(option: string, text: string, kbBase: KbBase): JobSpec['randomDistribution'] {
  if (text === 'random') return { kind: 'random', param: 0 };
  if (text.startsWith('zoned_abs:')) return parseZones(option, text, 'zoned_abs', kbBase);
  if (text.startsWith('zoned:')) return parseZones(option, text, 'zoned', kbBase);
  // fio: zipf[:theta[:center]] (theta 1.1 by default), pareto[:h[:center]] (0.2),
  // normal[:dev[:center]] (0); center 0..1.
  const [kind, ...fields] = text.split(':');
  if (kind !== 'zipf' && kind !== 'pareto' && kind !== 'normal') {
    throw new BenchOptionError(option, text, 'expected random, zipf[:THETA[:CENTER]], pareto[:H[:CENTER]], normal[:DEV%[:CENTER]], zoned:ACCESS/RANGE%:... or zoned_abs:ACCESS/SIZE:...');
  }
  if (fields.length > 2) throw new BenchOptionError(option, text, `${kind} takes at most two parameters (${kind}:${kind === 'zipf' ? 'THETA' : kind === 'pareto' ? 'H' : 'DEV'}:CENTER)`);
  const float = (f: string, what: string): number => {
    const n = Number(f);
    if (!/^[0-9]*\.?[0-9]+(e[+-]?[0-9]+)?$/i.test(f) || !Number.isFinite(n)) throw new BenchOptionError(option, text, `${what} '${f}' is not a number`);
    return n;
  };
  const param = fields[0] === undefined || fields[0] === '' ? { zipf: 1.1, pareto: 0.2, normal: 0 }[kind] : float(fields[0], kind === 'zipf' ? 'theta' : kind === 'pareto' ? 'h' : 'deviation');
  if (kind === 'zipf' && (!(param > 0) || param === 1 || param > ZIPF_THETA_MAX)) throw new BenchOptionError(option, text, `zipf theta must be > 0 and not 1 (and at most ${ZIPF_THETA_MAX})`);
  if (kind === 'pareto' && !(param > 0 && param < 1)) throw new BenchOptionError(option, text, 'pareto h must be between 0 and 1 (exclusive)');
  if (kind === 'normal' && !(param >= 0 && param < 100)) throw new BenchOptionError(option, text, 'normal deviation must be 0 <= dev < 100 (percent of the blocks)');
  const r: JobSpec['randomDistribution'] = { kind, param };
  if (fields[1] !== undefined) {
    const center = float(fields[1], 'center');
    if (!(center >= 0 && center <= 1)) throw new BenchOptionError(option, text, 'the distribution center must be 0 <= center <= 1');
    r.center = center;
  }
  return r;
}

const BDF = /^(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/;

function parseMem(option: string, text: string): JobSpec['mem'] {
  if (text === 'pool') return { kind: 'pool' };
  if (text === 'cmb') return { kind: 'cmb' };
  const m = /^p2p:([^,]+)(?:,bar=(\d))?$/.exec(text);
  if (m && BDF.test(m[1])) return { kind: 'p2p', bdf: m[1].length === 7 ? `0000:${m[1]}` : m[1].toLowerCase(), bar: m[2] === undefined ? 0 : Number(m[2]) };
  // p2p:emu — a second embedded controller with a CMB, in the embedded target's IOMMU domain.
  if (m && m[1] === 'emu' && (m[2] === undefined || m[2] === '2')) return { kind: 'p2p', bdf: 'emu', bar: 2 };
  if (m && m[1] === 'emu') throw new BenchOptionError(option, text, 'the embedded peer has its CMB in BAR 2 only');
  throw new BenchOptionError(option, text, 'expected pool, cmb, p2p:BDF[,bar=N] or p2p:emu (fio\'s malloc/shm/mmap memory types do not apply: buffers must be DMA-mapped)');
}

/** The options phyr implements. */
const FILL_DEVICE_NOTICE = 'a namespace is a raw device, where fio changes nothing for it: size= still bounds the job, and without size= the job already runs from offset= to the namespace\'s end';
const GTOD_NOTICE = 'nothing is reduced: phyr\'s timestamps are cheap TSC reads (a few ns each), so slat, clat, lat and their percentiles are all still measured and reported';

export const OPTIONS: BenchOption[] = [
  { name: 'name', scope: 'job', help: 'job name (starts a new job on the command line)', applyJob: (j, v) => { j.name = need('name', v); } },
  // Metadata: fio prints it and changes nothing; phyr keeps it with the options as written.
  { name: 'description', scope: 'job', help: 'a description of the job (kept with its options; changes nothing)', applyJob: () => undefined },
  {
    // fio's unit_base picks bytes (8) or bits (1) for bandwidth in its normal output; 0 = auto,
    // which is bytes. phyr prints bytes.
    name: 'unit_base', scope: 'job', help: 'bandwidth units of the normal output: 0 (auto) or 8 (bytes), which phyr prints; 1 (bits) is not supported',
    applyJob: (_j, v) => {
      const val = need('unit_base', v);
      if (val === '1') throw new BenchOptionError('unit_base', val, 'phyr prints bandwidth in bytes only; use unit_base=8 (or 0) and convert');
      if (val !== '0' && val !== '8') throw new BenchOptionError('unit_base', val, 'expected 0 (auto), 8 (bytes) or 1 (bits)');
    },
  },
  {
    name: 'rw', aliases: ['readwrite'], scope: 'job', help: 'read, write, randread, randwrite, rw (readwrite), randrw, trim, randtrim (Dataset Management deallocates of bs-sized ranges), trimwrite (each block trimmed, then written, sequentially); MODE:N skips N bytes after each sequential IO (negative: backward), and randMODE:N takes a new random offset every N IOs (rw_sequencer), as fio',
    applyJob: (j, v) => {
      const val = need('rw', v);
      const [name, skip, ...rest] = val.split(':');
      const mode = RW_MODES[name];
      if (!mode || rest.length) throw new BenchOptionError('rw', val, 'expected read, write, randread, randwrite, rw, readwrite, randrw, trim, randtrim or trimwrite, optionally :N');
      j.rw = mode;
      j.seqSkip = 0;
      j.randomEvery = 1;
      if (skip === undefined) return;
      // fio: for a random mode N is a count (a new random offset every N IOs, the IOs
      // between as rw_sequencer says), not a size (options-random.ts).
      if (mode.startsWith('rand')) {
        j.randomEvery = randomEvery(val, skip);
        return;
      }
      const negative = skip.trim().startsWith('-');
      const bytes = parseBytes('rw', negative ? skip.trim().slice(1) : skip, j.kbBase);
      j.seqSkip = negative ? -bytes : bytes;
    },
  },
  { name: 'rwmixread', scope: 'job', help: 'percentage of reads in a mixed workload', applyJob: (j, v) => { j.rwmixread = parseInteger('rwmixread', need('rwmixread', v), 0, 100); } },
  { name: 'rwmixwrite', scope: 'job', help: 'percentage of writes in a mixed workload', applyJob: (j, v) => { j.rwmixread = 100 - parseInteger('rwmixwrite', need('rwmixwrite', v), 0, 100); } },
  {
    name: 'bs', aliases: ['blocksize'], scope: 'job', help: 'block size, or READ,WRITE[,TRIM] (an empty one keeps that direction\'s size)',
    applyJob: (j, v) => setBlockSizes(j, 'bs', need('bs', v), (t) => {
      const b = positiveBs('bs', t, j.kbBase);
      return { min: b, max: b, split: [] };
    }),
  },
  {
    name: 'bsrange', aliases: ['blocksize_range'], scope: 'job', help: 'block size range MIN-MAX (or READRANGE,WRITERANGE[,TRIMRANGE])',
    applyJob: (j, v) => setBlockSizes(j, 'bsrange', need('bsrange', v), (t) => parseBsRange('bsrange', t, j.kbBase)),
  },
  {
    name: 'bssplit', scope: 'job', help: 'weighted block sizes BS/PCT:BS/PCT (or READSPLIT,WRITESPLIT[,TRIMSPLIT])',
    applyJob: (j, v) => setBlockSizes(j, 'bssplit', need('bssplit', v), (t) => parseBsSplit('bssplit', t, j.kbBase)),
  },
  { name: 'iodepth', scope: 'job', help: 'IOs kept in flight per job', applyJob: (j, v) => { j.iodepth = parseInteger('iodepth', need('iodepth', v), 1, 65535); } },
  { name: 'numjobs', scope: 'job', help: 'clones of this job (each a thread with its own queue pair)', applyJob: (j, v) => { j.numjobs = parseInteger('numjobs', need('numjobs', v), 1, 256); } },
  { name: 'runtime', aliases: ['timeout'], scope: 'job', help: 'run time limit (seconds unless a unit is given)', applyJob: (j, v) => { j.runtimeNs = parseTimeNs('runtime', need('runtime', v), 's'); } },
  { name: 'time_based', scope: 'job', flag: true, help: 'run for the whole runtime, wrapping around the region', applyJob: (j, v) => { j.timeBased = parseBool('time_based', v); } },
  { name: 'ramp_time', scope: 'job', help: 'warm-up time excluded from the statistics', applyJob: (j, v) => { j.rampNs = parseTimeNs('ramp_time', need('ramp_time', v), 's'); } },
  { name: 'size', scope: 'job', help: 'bytes of the namespace this job covers (or N%)', applyJob: (j, v) => { j.size = parseSize('size', need('size', v), true, j.kbBase); } },
  { name: 'offset', scope: 'job', help: 'start of the region in bytes (or N%)', applyJob: (j, v) => { j.offset = parseSize('offset', need('offset', v), true, j.kbBase); } },
  {
    // fio applies kb_base to the size options parsed after it (measured: `--bs=2k --kb_base=1000`
    // keeps 2048), and a [global] kb_base reaches every job that follows.
    name: 'kb_base', scope: 'job', help: 'base of the size suffixes in the options after it: 1024 (default) or 1000; kib/mib/... count in the other base, as in fio',
    applyJob: (j, v) => {
      const val = need('kb_base', v);
      if (val !== '1024' && val !== '1000') throw new BenchOptionError('kb_base', val, 'expected 1024 or 1000');
      j.kbBase = Number(val) as KbBase;
    },
  },
  { name: 'nsid', scope: 'job', help: 'namespace ID (phyr\'s own; default 1)', applyJob: (j, v) => { j.nsid = parseInteger('nsid', need('nsid', v), 1, 0xfffffffe); } },
  { name: 'norandommap', scope: 'job', flag: true, help: 'random offsets may repeat within a pass', applyJob: (j, v) => { j.norandommap = parseBool('norandommap', v); } },
  { name: 'random_distribution', scope: 'job', help: 'random, zipf[:THETA[:CENTER]], pareto[:H[:CENTER]], normal[:DEV%[:CENTER]], zoned:ACCESS%/RANGE%:... or zoned_abs:ACCESS%/SIZE:...', applyJob: (j, v) => { j.randomDistribution = parseDistribution('random_distribution', need('random_distribution', v), j.kbBase); } },
  {
    name: 'verify', scope: 'job', help: 'crc32c (or crc32c-intel) or md5 headers on written blocks, checked on read; meta = the header alone is checked (and verify_pattern, if given), as fio 3.33; pattern = the blocks hold verify_pattern alone; null = read back without checking; 0 = none',
    applyJob: (j, v) => {
      const val = need('verify', v);
      j.verifySet = true;
      if (val === '0' || val === 'none') j.verify = 'none';
      // fio's null verifier still reads back what was written; it just checks nothing.
      else if (val === 'null') j.verify = 'null';
      else if (val === 'crc32c' || val === 'crc32c-intel') j.verify = 'crc32c';
      else if (val === 'md5') j.verify = 'md5';
      else if (val === 'pattern') j.verify = 'pattern';
      // fio 3.33's meta (VERIFY_HDR_ONLY): the header alone, and verify_pattern if given.
      else if (val === 'meta') j.verify = 'meta';
      else throw new BenchOptionError('verify', val, 'phyr verifies with crc32c (crc32c-intel) or md5 headers, meta (the header only), or pattern (with verify_pattern); crc16, crc32, crc64, crc7, sha* and xxhash are not supported');
    },
  },
  { name: 'verify_fatal', scope: 'job', flag: true, help: 'stop the job at the first verify failure', applyJob: (j, v) => { j.verifyFatal = parseBool('verify_fatal', v); } },
  { name: 'do_verify', scope: 'job', flag: true, help: 'after a write job with verify, read back and check (default 1)', applyJob: (j, v) => { j.doVerify = parseBool('do_verify', v); } },
  { name: 'clat_percentiles', scope: 'job', help: 'report completion-latency percentiles (default 1)', applyJob: (j, v) => { j.percentileSeries.clat = parseBool('clat_percentiles', need('clat_percentiles', v)); } },
  { name: 'lat_percentiles', scope: 'job', help: 'report total-latency (submission to completion) percentiles too (default 0)', applyJob: (j, v) => { j.percentileSeries.lat = parseBool('lat_percentiles', need('lat_percentiles', v)); } },
  { name: 'slat_percentiles', scope: 'job', help: 'report submission-latency percentiles too (default 0)', applyJob: (j, v) => { j.percentileSeries.slat = parseBool('slat_percentiles', need('slat_percentiles', v)); } },
  {
    name: 'unified_rw_reporting', scope: 'job', help: 'none (0): read, write and trim apart; mixed (1): one "mixed" entry summing them; both (2): the three and "mixed"',
    applyJob: (j, v) => {
      const val = need('unified_rw_reporting', v).toLowerCase();
      const mode = ({ none: 'none', '0': 'none', mixed: 'mixed', '1': 'mixed', both: 'both', '2': 'both' } as const)[val];
      if (!mode) throw new BenchOptionError('unified_rw_reporting', val, 'expected none, mixed or both (0, 1 or 2)');
      j.unifiedRw = mode;
    },
  },
  { name: 'percentile_list', scope: 'job', help: 'clat percentiles to report, colon-separated', applyJob: (j, v) => { j.percentileList = parsePercentList('percentile_list', need('percentile_list', v)); } },
  {
    name: 'randseed', scope: 'job', help: 'seed of the random offsets and verify patterns (it wins over randrepeat=0, as in fio)',
    applyJob: (j, v) => {
      j.randseed = parseInteger('randseed', need('randseed', v), 0, Number.MAX_SAFE_INTEGER);
      j.randseedGiven = true;
    },
  },
  {
    name: 'randrepeat', scope: 'job', flag: true,
    help: '1 (fio\'s default): the random streams start from randseed, so runs repeat; 0: without a randseed they are seeded from the system\'s random source, so each run differs, as in fio',
    applyJob: (j, v) => {
      if (parseBool('randrepeat', v)) delete j.randrepeat;
      else j.randrepeat = false;
    },
  },
  { name: 'write_iolog', scope: 'job', help: 'log every IO of the job to this file in fio\'s iolog version 2 format (size-bound jobs, one clone)', applyJob: (j, v) => { j.writeIolog = need('write_iolog', v); } },
  {
    // fio's gtod_reduce turns off the latency stats to save gettimeofday calls; phyr's
    // timestamps are TSC reads on the job thread, so nothing needs reducing.
    name: 'gtod_reduce', scope: 'job', flag: true, treatment: 'notice', help: GTOD_NOTICE,
    applyJob: (_j, v, ctx) => { if (parseBool('gtod_reduce', v)) ctx.notice(`--gtod_reduce: ${GTOD_NOTICE}`); },
  },
  {
    // Measured on fio 3.33 over psync on a 64 MiB loop device: fill_device=1 changes no IO
    // (size=1m writes 1 MiB, no size= the device from offset= to its end, as without it);
    // it matters only on a filesystem, which a namespace is not.
    name: 'fill_device', aliases: ['fill_fs'], scope: 'job', flag: true, treatment: 'notice', help: FILL_DEVICE_NOTICE,
    applyJob: (_j, v, ctx) => { if (parseBool('fill_device', v)) ctx.notice(`--fill_device: ${FILL_DEVICE_NOTICE}`); },
  },
  { name: 'exitall', scope: 'job', flag: true, help: 'when this job ends, stop the other running jobs of its reporting group (later groups still run), as fio\'s exitall', applyJob: (j, v) => { j.exitall = parseBool('exitall', v); } },
  {
    name: 'exit_what', scope: 'job', help: 'what exitall stops: group (the default: the running jobs of its reporting group), stonewall (every running job; the next stonewall group still runs) or all (every job: the later groups run no IO)',
    applyJob: (j, v) => {
      const val = need('exit_what', v);
      if (val !== 'group' && val !== 'stonewall' && val !== 'all') throw new BenchOptionError('exit_what', val, 'expected group, stonewall or all');
      j.exitWhat = val;
    },
  },
  { name: 'exitall_on_error', scope: 'job', flag: true, help: 'when this job ends in error (an IO error or a failed verify), stop every running job', applyJob: (j, v) => { j.exitallOnError = parseBool('exitall_on_error', v); } },
  { name: 'wait_for', scope: 'job', help: 'start this job only once every thread of the named job (one defined before it) has ended; it stays in its reporting group', applyJob: (j, v) => { j.waitFor = need('wait_for', v); } },
  { name: 'new_group', scope: 'job', flag: true, help: 'start a new reporting group with this job without waiting for the previous ones (stonewall also waits)', applyJob: (j, v) => { j.newGroup = parseBool('new_group', v); } },
  { name: 'stonewall', aliases: ['wait_for_previous'], scope: 'job', flag: true, help: 'wait for the previous jobs to finish before starting (new reporting group)', applyJob: (j, v) => { j.stonewall = parseBool('stonewall', v); } },
  { name: 'group_reporting', scope: 'job', flag: true, help: 'report the numjobs clones of a job as one', applyJob: (j, v) => { j.groupReporting = parseBool('group_reporting', v); } },
  {
    // A job file written for the kernel's page cache (direct=0, fio's default there) still
    // runs: phyr has no page cache, so its IO is what direct=1 asks for, and a notice says so.
    name: 'direct', scope: 'job', help: 'phyr always does direct IO: 1 is accepted; 0 is replaced by direct IO, with a notice',
    applyJob: (_j, v, ctx) => {
      if (!parseBool('direct', v)) ctx.notice(`--direct=${v ?? ''}: replaced by direct IO: phyr has no page cache, every IO goes to the namespace itself (as direct=1)`);
    },
  },
  {
    name: 'thread', aliases: ['threads'], scope: 'job', flag: true, help: 'phyr jobs are always threads: accepted',
    applyJob: (_j, v) => {
      if (!parseBool('thread', v)) throw new BenchOptionError('thread', v ?? '', 'phyr jobs are always threads');
    },
  },
  { name: 'mem', aliases: ['iomem'], scope: 'job', help: 'data buffers: pool (hugepage DMA pool), cmb (the target\'s controller memory buffer), p2p:BDF[,bar=N] (a peer device\'s BAR), or p2p:emu (an embedded peer\'s CMB)', applyJob: (j, v) => { j.mem = parseMem('mem', need('mem', v)); } },
  {
    name: 'dptr', scope: 'job', help: 'data pointer: auto (the driver\'s policy), prp (never SGL) or sgl (every command an SGL; the controller must support SGL)',
    applyJob: (j, v) => {
      const val = need('dptr', v);
      if (val !== 'prp' && val !== 'sgl' && val !== 'auto') throw new BenchOptionError('dptr', val, 'expected prp, sgl or auto');
      j.dptr = val;
    },
  },
  {
    name: 'cmd_timeout', scope: 'job',
    help: `per-command timeout (phyr's own; default ${DEFAULT_CMD_TIMEOUT_NS / 1e9} s, 1ms..1h; seconds unless a unit is given): a command with no completion this long fails the job, naming it`,
    applyJob: (j, v) => {
      const val = need('cmd_timeout', v);
      const ns = parseTimeNs('cmd_timeout', val, 's');
      if (ns < CMD_TIMEOUT_BOUNDS_NS.min || ns > CMD_TIMEOUT_BOUNDS_NS.max) throw new BenchOptionError('cmd_timeout', val, 'must be between 1ms and 1h (e.g. 500ms, 10, 2m)');
      j.cmdTimeoutNs = ns;
    },
  },
  {
    name: 'output-format', scope: 'run', help: 'normal, json, json+ or terse (fio\'s terse version 3; comma-separated for several)',
    applyRun: (r, v) => {
      const list = need('output-format', v).split(',');
      for (const f of list) {
        if (f !== 'normal' && f !== 'json' && f !== 'json+' && f !== 'terse') throw new BenchOptionError('output-format', v ?? '', 'expected normal, json, json+ or terse');
      }
      r.outputFormat = list as RunOptions['outputFormat'];
    },
  },
  { name: 'minimal', scope: 'run', flag: true, help: 'fio\'s terse output (version 3) alone, as --output-format=terse', applyRun: (r, v) => { if (parseBool('minimal', v)) r.outputFormat = ['terse']; } },
  {
    name: 'terse-version', scope: 'run', help: `terse output version: ${TERSE_VERSIONS.join(', ')} (fio's default; the other versions are not written)`,
    applyRun: (_r, v) => {
      const val = need('terse-version', v);
      if (!TERSE_VERSIONS.map(String).includes(val)) throw new BenchOptionError('terse-version', val, `phyr writes terse version ${TERSE_VERSIONS.join(', ')} only (fio's default); drop the option or use --terse-version=3`);
    },
  },
  { name: 'section', scope: 'run', help: 'run only the job-file sections of this name (repeat for several), as fio\'s --section', applyRun: (r, v) => { r.sections.push(need('section', v)); } },
  {
    name: 'shadow-doorbells', scope: 'run', help: "on (default) or off: shadow doorbells (Doorbell Buffer Config) on a controller that offers them; off writes every doorbell to MMIO (the driver's OpenOptions.shadowDoorbells)",
    applyRun: (r, v) => {
      const val = need('shadow-doorbells', v);
      if (val !== 'on' && val !== 'off') throw new BenchOptionError('shadow-doorbells', val, 'expected on or off');
      r.shadowDoorbells = val === 'on';
    },
  },
  { name: 'parse-only', scope: 'run', flag: true, help: 'check the options and job files (notices included) and run nothing', applyRun: (r, v) => { r.parseOnly = parseBool('parse-only', v); } },
  { name: 'showcmd', scope: 'run', flag: true, help: 'print each job file as the equivalent command-line options and run nothing', applyRun: (r, v) => { r.showcmd = parseBool('showcmd', v); } },
  { name: 'output', scope: 'run', help: 'write the report to this file instead of stdout', applyRun: (r, v) => { r.output = need('output', v); } },
  { name: 'status-interval', scope: 'run', help: 'print a full report of the results so far (cumulative, as fio does) every interval (seconds unless a unit is given)', applyRun: (r, v) => { r.statusIntervalNs = parseTimeNs('status-interval', need('status-interval', v), 's'); } },
  {
    name: 'eta', scope: 'run', help: 'live status line: auto (on a TTY), always, never',
    applyRun: (r, v) => {
      const val = need('eta', v);
      if (val !== 'auto' && val !== 'always' && val !== 'never') throw new BenchOptionError('eta', val, 'expected auto, always or never');
      r.eta = val;
    },
  },
  ...PACING_OPTIONS,
  BS_SEQ_RAND_OPTION,
  ...STEADYSTATE_OPTIONS,
  ...FLUSH_OPTIONS,
  ...LOG_OPTIONS,
  ...BATCH_OPTIONS,
  ...ERROR_OPTIONS,
  ...LATENCY_OPTIONS,
  ...FLOW_OPTIONS,
  ...CPU_OPTIONS,
  ...REPLAY_OPTIONS,
  ...BUFFER_OPTIONS,
  ...VERIFY_OPTIONS,
  ...RANDOM_OPTIONS,
  ...OUTPUT_FORMAT_OPTIONS,
];

/**
 * fio options phyr knows of and does not implement, each with the reason. Giving one is an
 * error: a benchmark that silently ignored `rate_iops` or `fsync` would report numbers for
 * a different workload than the one asked for.
 */
const NO_FILES = 'files, directories and filesystems have no meaning on a raw NVMe namespace: phyr drives the namespace itself (size= and offset= pick the region)';
const TRIM_VERIFY = 'fio\'s trim verification is not implemented: measured on fio 3.33, a write job with it trims nothing (trim entries leaked) or aborts (trim_backlog), and only rw=trimwrite runs it, re-trimming a random share of the logged writes, where phyr does not verify trim jobs; rw=trim|randtrim|trimwrite are supported';

// fio's per-IO priorities set the kernel's ioprio on each request; an NVMe command has no
// priority field (arbitration priority belongs to a submission queue, NVMe 1.4 §4.13), and
// phyr's loop does not set one up.
const CMD_PRIORITY = 'per-IO priorities are not implemented: an NVMe command carries no priority (arbitration priority is per submission queue, and phyr creates its queues at one priority)';

export const UNSUPPORTED: Record<string, string> = {
  filename_format: NO_FILES,
  directory: NO_FILES,
  nrfiles: NO_FILES,
  openfiles: NO_FILES,
  file_service_type: NO_FILES,
  filesize: `${NO_FILES}; use size= (bytes of the namespace)`,
  file_append: NO_FILES,
  fallocate: NO_FILES,
  create_on_open: NO_FILES,
  create_serialize: NO_FILES,
  create_fsync: NO_FILES,
  create_only: NO_FILES,
  allow_file_create: NO_FILES,
  allow_mounted_write: NO_FILES,
  pre_read: NO_FILES,
  lockfile: NO_FILES,
  unlink: NO_FILES,
  unlink_each_loop: NO_FILES,
  buffered: 'phyr has no page cache: IO is always direct',
  sync: 'phyr submits to NVMe queues; there is no O_SYNC',
  fsync_on_close: 'periodic flushes are not implemented',
  bs_unaligned: 'NVMe transfers whole logical blocks',
  // fio's zonemode=strided interleaves zones; zonemode=zbd drives a zoned block device.
  zonemode: 'phyr has no zoned command set (ZNS, the NVMe Zoned Namespace Command Set) yet, and zonemode=strided is not implemented either',
  zonesize: 'zoned workloads are not implemented',
  zonerange: 'zoned workloads are not implemented',
  zoneskip: 'zoned workloads are not implemented',
  allrandrepeat: 'runs are always repeatable from randseed',
  verify_async: 'verification runs in the job thread',
  verify_state_load: 'not implemented: phyr writes fio\'s verify state (verify_state_save) but its verify_only read-back checks the whole region',
  experimental_verify: 'not implemented',
  // Measured on fio 3.33 (psync on a loop device): with rw=write or randwrite
  // trim_percentage trims nothing ("trim entries leaked?") and trim_backlog aborts on an
  // assertion (fio_ro_check); only rw=trimwrite runs them, re-trimming a random share of the
  // logged writes, and phyr verifies no job that trims. Refused with that reason.
  trim_percentage: TRIM_VERIFY,
  trim_verify_zero: TRIM_VERIFY,
  trim_backlog: TRIM_VERIFY,
  trim_backlog_batch: TRIM_VERIFY,
  numa_cpu_nodes: 'NUMA placement is not implemented',
  numa_mem_policy: 'NUMA placement is not implemented',
  prio: 'not implemented',
  prioclass: 'not implemented',
  cmdprio_percentage: CMD_PRIORITY,
  // Engine options of fio's libaio and io_uring engines (fio --enghelp): refused with the
  // reason rather than unknown, since job files for those engines carry them.
  cmdprio_class: CMD_PRIORITY,
  cmdprio: CMD_PRIORITY,
  cmdprio_bssplit: CMD_PRIORITY,
  // Engine options of fio's sg engine (SCSI generic).
  sg_write_mode: 'an option of fio\'s SCSI generic engine (WRITE AND VERIFY, WRITE SAME, ...): phyr issues NVMe Read and Write commands only',
  stream_id: 'write streams (NVMe directives) are not implemented',
  ioscheduler: 'there is no kernel IO scheduler on this path',
  hugepage_size: 'the DMA pool picks the page size',
  error_dump: 'not implemented',
  'write_barrier': 'not implemented',
  io_submit_mode: 'not implemented',
  disable_lat: 'timing is always recorded natively',
  disable_clat: 'timing is always recorded natively',
  disable_slat: 'timing is always recorded natively',
  disable_bw_measurement: 'timing is always recorded natively',
  clocksource: 'phyr times with the CPU timestamp counter calibrated to CLOCK_MONOTONIC',
  'bandwidth-log': 'not implemented',
  'write_to_log': 'not implemented',
  client: 'client/server mode is not implemented',
  server: 'client/server mode is not implemented',
  'cpuclock-test': 'not implemented',
  'crctest': 'not implemented',
  'idle-prof': 'not implemented',
  'merge_blktrace_file': 'not implemented',
  replay_redirect: 'phyr replays a log onto its TARGET (the namespace given on the command line), whatever file the log names: give the device as the TARGET',
  atomic: 'O_ATOMIC is a kernel open flag; phyr issues plain NVMe writes',
  block_error_percentiles: 'not implemented',
  cgroup: 'no cgroup placement: job threads run in the phyr process',
  cgroup_nodelete: 'no cgroup placement: job threads run in the phyr process',
  cgroup_weight: 'no cgroup placement: job threads run in the phyr process',
  // Measured on fio 3.33 (psync, two jobs of 4 MiB at bs=4k, dedupe_percentage=50,
  // dedupe_mode=working_set): dedupe_global=1 gives 50 distinct 4 KiB pages in both jobs'
  // data (552 of the second job's 1024 pages repeat one of the first's), 0 without.
  dedupe_global: 'not implemented: each job dedupes against its own writes (fio shares its working set across the jobs that set it)',
  disk_util: 'there is no kernel block device whose utilisation could be read',
  exec_prerun: 'phyr runs no programs around a job',
  exec_postrun: 'phyr runs no programs around a job',
  fadvise_hint: NO_FILES,
  sync_file_range: NO_FILES,
  opendir: NO_FILES,
  unique_filename: NO_FILES,
  overwrite: NO_FILES,
  gid: 'phyr does not change its credentials per job',
  uid: 'phyr does not change its credentials per job',
  gtod_cpu: 'timing is recorded by each job thread natively',
  lockmem: 'not implemented',
  profile: 'fio\'s built-in profiles are not implemented',
  stats: 'phyr always collects statistics',
  write_hint: 'write hints (NVMe directives) are not implemented',
  read_iolog_chunked: 'not implemented',
  merge_blktrace_iters: 'not implemented',
  merge_blktrace_scalars: 'not implemented',
  ignore_zone_limits: 'zoned workloads are not implemented',
  job_max_open_zones: 'zoned workloads are not implemented',
  max_open_zones: 'zoned workloads are not implemented',
  read_beyond_wp: 'zoned workloads are not implemented',
  zone_reset_frequency: 'zoned workloads are not implemented',
  zone_reset_threshold: 'zoned workloads are not implemented',
  zonecapacity: 'zoned workloads are not implemented',
  log_alternate_epoch: 'per-IO logs are not implemented',
  log_compression: 'per-IO logs are not implemented',
  log_compression_cpus: 'per-IO logs are not implemented',
  log_entries: 'per-IO logs are not implemented',
  log_store_compressed: 'per-IO logs are not implemented',
  log_unix_epoch: 'per-IO logs are not implemented',
  log_alternate_epoch_clock_id: 'per-IO logs are not implemented',
};

const byName = new Map<string, BenchOption>();
for (const o of [...OPTIONS, ...KERNEL_STACK_OPTIONS]) {
  byName.set(o.name, o);
  for (const a of o.aliases ?? []) byName.set(a, o);
}

// An option accepted at fio's default only: any other value is refused with its reason.
function defaultOnlyOption(name: string): BenchOption | undefined {
  const d = DEFAULT_ONLY[name];
  if (!d) return undefined;
  return {
    name, scope: 'job', treatment: 'default-only', help: `accepted at fio's default (${d.shown}), which is what phyr does; other values: ${UNSUPPORTED[name]}`,
    applyJob: (_j, v) => {
      if (!d.accepts(v)) throw new BenchConfigError(`fio option '${name}' is not supported by phyr bench: ${UNSUPPORTED[name]}; only fio's default ${name}=${d.shown} is accepted (given: ${v ?? 'no value'})`, 'PHYR_BENCH_UNSUPPORTED_OPTION');
    },
  };
}

/** Every option name phyr knows: implemented, replaced, default-only or refused by name. */
export function knownOptionNames(): string[] {
  return [...byName.keys(), ...Object.keys(UNSUPPORTED)];
}

/** Finds an option by name, or throws saying it is unsupported (with why) or unknown. */
export function lookupOption(name: string): BenchOption {
  const o = byName.get(name) ?? byName.get(name.replace(/_/g, '-')) ?? byName.get(name.replace(/-/g, '_'));
  if (o) return o;
  const d = defaultOnlyOption(name) ?? defaultOnlyOption(name.replace(/-/g, '_'));
  if (d) return d;
  const why = UNSUPPORTED[name] ?? UNSUPPORTED[name.replace(/-/g, '_')];
  if (why !== undefined) throw new BenchConfigError(`fio option '${name}' is not supported by phyr bench: ${why}`, 'PHYR_BENCH_UNSUPPORTED_OPTION');
  const best = closestName(name, knownOptionNames());
  const hint = best ? ` (did you mean --${best}?)` : '';
  throw new BenchConfigError(`unknown option '${name}'${hint}; see \`phyr bench --help\``, 'PHYR_BENCH_UNKNOWN_OPTION');
}

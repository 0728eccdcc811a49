// The option table: fio's option names with fio's semantics, plus phyr's own (--nsid,
// --mem, --dptr). Options fio has but phyr does not implement are rejected BY NAME with a
// reason — never silently ignored — and unknown names are rejected with the closest match.
import { BenchConfigError, BenchOptionError } from './errors';
import { CMD_TIMEOUT_BOUNDS_NS, DEFAULT_CMD_TIMEOUT_NS, type BlockSizeSpec, type JobSpec, type RunOptions, type RwMode } from './job';
import { BATCH_OPTIONS } from './options-batch';
import { FLUSH_OPTIONS } from './options-flush';
import { PACING_OPTIONS } from './options-pacing';
import { parseBool, parseBytes, parseInteger, parseSize, parseTimeNs, type KbBase } from './units';

/** Where an option may appear. */
export type OptionScope = 'job' | 'run';

/** One row of the option table. */
export interface BenchOption {
  name: string;
  aliases?: string[];
  scope: OptionScope;
  /** True when the option takes no value (`--time_based`); a value of 0/1 is still read. */
  flag?: boolean;
  help: string;
  applyJob?(job: JobSpec, value: string | undefined): void;
  applyRun?(run: RunOptions, value: string | undefined): void;
}

const RW_MODES: Record<string, RwMode> = {
  read: 'read', write: 'write', randread: 'randread', randwrite: 'randwrite',
  rw: 'rw', readwrite: 'rw', randrw: 'randrw', trim: 'trim', randtrim: 'randtrim',
};

function need(option: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new BenchOptionError(option, '', 'a value is required');
  return value;
}

/** fio's per-direction syntax `R,W`: one value for both, or read then write. */
function perDirection(option: string, value: string): [string, string] {
  const parts = value.split(',');
  if (parts.length > 2) throw new BenchOptionError(option, value, 'give one value, or READ,WRITE (trim values are not supported)');
  if (parts.some((p) => p === '')) throw new BenchOptionError(option, value, 'give one value, or both READ,WRITE values');
  return [parts[0], parts[1] ?? parts[0]];
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
    const m = /^([^/]+)\/(\d*)$/.exec(e);
    if (!m) throw new BenchOptionError(option, text, `'${e}' is not BS/PERCENT (e.g. 4k/50:64k/50)`);
    return { bytes: positiveBs(option, m[1], kbBase), percent: m[2] === '' ? -1 : Number(m[2]) };
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
  const zones = body.split(':').map((z) => {
    const m = /^([0-9.]+)\/(.+)$/.exec(z);
    if (!m) throw new BenchOptionError(option, text, `'${z}' is not ACCESS%/${kind === 'zoned' ? 'RANGE%' : 'SIZE'} (e.g. ${kind === 'zoned' ? '60/10' : '60/20m'})`);
    const access = Number(m[1]);
    const range = kind === 'zoned' ? Number(m[2]) : parseBytes(option, m[2], kbBase);
    if (!Number.isFinite(access) || access < 0 || access > 100) throw new BenchOptionError(option, text, `access percentage '${m[1]}' is not 0..100`);
    if (!Number.isFinite(range) || range < 0 || (kind === 'zoned' && range > 100)) throw new BenchOptionError(option, text, `range '${m[2]}' is not ${kind === 'zoned' ? 'a percentage' : 'a size'}`);
    return { access, range };
  });
  if (zones.length > 16) throw new BenchOptionError(option, text, 'at most 16 zones');
  const accessSum = zones.reduce((a, z) => a + z.access, 0);
  if (Math.abs(accessSum - 100) > 1e-9) throw new BenchOptionError(option, text, `the access percentages add up to ${accessSum}, not 100 (as fio requires)`);
  if (kind === 'zoned' && zones.reduce((a, z) => a + z.range, 0) > 100 + 1e-9) throw new BenchOptionError(option, text, 'the range percentages add up to more than 100');
  return { kind, param: 0, zones: zones.filter((z) => z.access > 0 || z.range > 0) };
}

function parseDistribution(option: string, text: string, kbBase: KbBase): JobSpec['randomDistribution'] {
  if (text === 'random') return { kind: 'random', param: 0 };
  if (text.startsWith('zoned_abs:')) return parseZones(option, text, 'zoned_abs', kbBase);
  if (text.startsWith('zoned:')) return parseZones(option, text, 'zoned', kbBase);
  const m = /^(zipf|pareto):([0-9.]+)$/.exec(text);
  if (!m) {
    if (/^(normal|gauss)/.test(text)) throw new BenchOptionError(option, text, 'phyr supports random, zipf:THETA, pareto:H, zoned:A/R:... and zoned_abs:A/SIZE:... (not normal)');
    throw new BenchOptionError(option, text, 'expected random, zipf:THETA, pareto:H, zoned:ACCESS/RANGE%:... or zoned_abs:ACCESS/SIZE:...');
  }
  const param = Number(m[2]);
  if (m[1] === 'zipf' && (!(param > 0) || param === 1)) throw new BenchOptionError(option, text, 'zipf theta must be > 0 and not 1');
  if (m[1] === 'pareto' && !(param > 0 && param < 1)) throw new BenchOptionError(option, text, 'pareto h must be between 0 and 1 (exclusive)');
  return { kind: m[1] as 'zipf' | 'pareto', param };
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
export const OPTIONS: BenchOption[] = [
  { name: 'name', scope: 'job', help: 'job name (starts a new job on the command line)', applyJob: (j, v) => { j.name = need('name', v); } },
  {
    name: 'rw', aliases: ['readwrite'], scope: 'job', help: 'read, write, randread, randwrite, rw (readwrite), randrw, trim, randtrim (Dataset Management deallocates of bs-sized ranges)',
    applyJob: (j, v) => {
      const val = need('rw', v);
      if (val.includes(':')) throw new BenchOptionError('rw', val, 'the rw=MODE:N offset modifier is not supported');
      const mode = RW_MODES[val];
      if (!mode) throw new BenchOptionError('rw', val, val === 'trimwrite' ? 'trimwrite is not supported: use a trim job, then a write job after stonewall' : 'expected read, write, randread, randwrite, rw, readwrite, randrw, trim or randtrim');
      j.rw = mode;
    },
  },
  { name: 'rwmixread', scope: 'job', help: 'percentage of reads in a mixed workload', applyJob: (j, v) => { j.rwmixread = parseInteger('rwmixread', need('rwmixread', v), 0, 100); } },
  { name: 'rwmixwrite', scope: 'job', help: 'percentage of writes in a mixed workload', applyJob: (j, v) => { j.rwmixread = 100 - parseInteger('rwmixwrite', need('rwmixwrite', v), 0, 100); } },
  {
    name: 'bs', aliases: ['blocksize'], scope: 'job', help: 'block size, or READ,WRITE',
    applyJob: (j, v) => {
      const [r, w] = perDirection('bs', need('bs', v));
      const rb = positiveBs('bs', r, j.kbBase), wb = positiveBs('bs', w, j.kbBase);
      j.bs = { read: { min: rb, max: rb, split: [] }, write: { min: wb, max: wb, split: [] } };
    },
  },
  {
    name: 'bsrange', aliases: ['blocksize_range'], scope: 'job', help: 'block size range MIN-MAX (or READRANGE,WRITERANGE)',
    applyJob: (j, v) => {
      const [r, w] = perDirection('bsrange', need('bsrange', v));
      j.bs = { read: parseBsRange('bsrange', r, j.kbBase), write: parseBsRange('bsrange', w, j.kbBase) };
    },
  },
  {
    name: 'bssplit', scope: 'job', help: 'weighted block sizes BS/PCT:BS/PCT (or READSPLIT,WRITESPLIT)',
    applyJob: (j, v) => {
      const [r, w] = perDirection('bssplit', need('bssplit', v));
      j.bs = { read: parseBsSplit('bssplit', r, j.kbBase), write: parseBsSplit('bssplit', w, j.kbBase) };
    },
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
  { name: 'random_distribution', scope: 'job', help: 'random, zipf:THETA, pareto:H, zoned:ACCESS%/RANGE%:... or zoned_abs:ACCESS%/SIZE:...', applyJob: (j, v) => { j.randomDistribution = parseDistribution('random_distribution', need('random_distribution', v), j.kbBase); } },
  {
    name: 'verify', scope: 'job', help: 'crc32c (or crc32c-intel) or md5 headers on written blocks, checked on read; null = read back without checking; 0 = none',
    applyJob: (j, v) => {
      const val = need('verify', v);
      if (val === '0' || val === 'none') j.verify = 'none';
      // fio's null verifier still reads back what was written; it just checks nothing.
      else if (val === 'null') j.verify = 'null';
      else if (val === 'crc32c' || val === 'crc32c-intel') j.verify = 'crc32c';
      else if (val === 'md5') j.verify = 'md5';
      else throw new BenchOptionError('verify', val, 'phyr verifies with crc32c (crc32c-intel) or md5; crc16, crc32, crc64, crc7, sha*, xxhash, pattern and meta are not supported');
    },
  },
  { name: 'verify_fatal', scope: 'job', flag: true, help: 'stop the job at the first verify failure', applyJob: (j, v) => { j.verifyFatal = parseBool('verify_fatal', v); } },
  { name: 'do_verify', scope: 'job', flag: true, help: 'after a write job with verify, read back and check (default 1)', applyJob: (j, v) => { j.doVerify = parseBool('do_verify', v); } },
  { name: 'percentile_list', scope: 'job', help: 'clat percentiles to report, colon-separated', applyJob: (j, v) => { j.percentileList = parsePercentList('percentile_list', need('percentile_list', v)); } },
  { name: 'randseed', scope: 'job', help: 'seed of the random offsets and verify patterns', applyJob: (j, v) => { j.randseed = parseInteger('randseed', need('randseed', v), 0, Number.MAX_SAFE_INTEGER); } },
  { name: 'stonewall', aliases: ['wait_for_previous'], scope: 'job', flag: true, help: 'wait for the previous jobs to finish before starting (new reporting group)', applyJob: (j, v) => { j.stonewall = parseBool('stonewall', v); } },
  { name: 'group_reporting', scope: 'job', flag: true, help: 'report the numjobs clones of a job as one', applyJob: (j, v) => { j.groupReporting = parseBool('group_reporting', v); } },
  {
    name: 'direct', scope: 'job', help: 'phyr always does direct IO: 1 is accepted, 0 rejected',
    applyJob: (_j, v) => {
      if (!parseBool('direct', v)) throw new BenchOptionError('direct', v ?? '', 'phyr has no page cache: IO is always direct (direct=1)');
    },
  },
  {
    name: 'ioengine', scope: 'job', help: 'only phyr\'s native loop: ioengine=phyr',
    applyJob: (_j, v) => {
      if (need('ioengine', v) !== 'phyr') throw new BenchOptionError('ioengine', v ?? '', 'phyr runs its own native NVMe loop; the only engine is "phyr" (remove the option or set ioengine=phyr)');
    },
  },
  {
    name: 'thread', scope: 'job', flag: true, help: 'phyr jobs are always threads: accepted',
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
    name: 'output-format', scope: 'run', help: 'normal, json, json+ (comma-separated for several)',
    applyRun: (r, v) => {
      const list = need('output-format', v).split(',');
      for (const f of list) {
        if (f === 'terse') throw new BenchOptionError('output-format', v ?? '', 'terse output is not supported; use normal, json or json+');
        if (f !== 'normal' && f !== 'json' && f !== 'json+') throw new BenchOptionError('output-format', v ?? '', 'expected normal, json or json+');
      }
      r.outputFormat = list as RunOptions['outputFormat'];
    },
  },
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
  ...FLUSH_OPTIONS,
  ...BATCH_OPTIONS,
];

/**
 * fio options phyr knows of and does not implement, each with the reason. Giving one is an
 * error: a benchmark that silently ignored `rate_iops` or `fsync` would report numbers for
 * a different workload than the one asked for.
 */
export const UNSUPPORTED: Record<string, string> = {
  filename: 'the device is the TARGET argument (emu[:...] or a PCI address), not a file',
  filename_format: 'phyr drives a namespace, not files',
  directory: 'phyr drives a namespace, not files',
  nrfiles: 'phyr drives a namespace, not files',
  openfiles: 'phyr drives a namespace, not files',
  file_service_type: 'phyr drives a namespace, not files',
  filesize: 'use size= (bytes of the namespace)',
  fallocate: 'phyr drives a namespace, not files',
  create_on_open: 'phyr drives a namespace, not files',
  unlink: 'phyr drives a namespace, not files',
  buffered: 'phyr has no page cache: IO is always direct',
  invalidate: 'phyr has no page cache',
  sync: 'phyr submits to NVMe queues; there is no O_SYNC',
  fsync_on_close: 'periodic flushes are not implemented',
  rate_ignore_thinktime: 'not implemented: the rate schedule runs on through a thinktime and catches up after it',
  thinktime_iotime: 'not implemented: use thinktime_blocks',
  bs_unaligned: 'NVMe transfers whole logical blocks',
  bs_is_seq_rand: 'not implemented',
  zonemode: 'zoned workloads are not implemented',
  zonesize: 'zoned workloads are not implemented',
  zonerange: 'zoned workloads are not implemented',
  zoneskip: 'zoned workloads are not implemented',
  random_generator: 'phyr uses its own generators (a full-period permutation for the random map)',
  randrepeat: 'runs are always repeatable from randseed',
  allrandrepeat: 'runs are always repeatable from randseed',
  verify_interval: 'phyr writes one verify header per logical block',
  verify_pattern: 'only crc32c and md5 headers are implemented',
  verify_offset: 'not implemented',
  verify_backlog: 'not implemented',
  verify_async: 'verification runs in the job thread',
  verify_only: 'not implemented: write and verify in one job, or two jobs separated by stonewall',
  verify_state_save: 'not implemented',
  verify_state_load: 'not implemented',
  experimental_verify: 'not implemented',
  trim_percentage: 'fio\'s trim verification (trimming written blocks of a verify job) is not implemented; rw=trim|randtrim are',
  trim_verify_zero: 'fio\'s trim verification is not implemented; rw=trim|randtrim are',
  trim_backlog: 'fio\'s trim verification is not implemented; rw=trim|randtrim are',
  trim_backlog_batch: 'fio\'s trim verification is not implemented; rw=trim|randtrim are',
  write_bw_log: 'per-IO logs are not implemented (use --output-format=json+ for the histogram)',
  write_lat_log: 'per-IO logs are not implemented (use --output-format=json+ for the histogram)',
  write_iops_log: 'per-IO logs are not implemented',
  write_hist_log: 'per-IO logs are not implemented',
  log_avg_msec: 'per-IO logs are not implemented',
  cpus_allowed: 'CPU pinning is not implemented',
  cpumask: 'CPU pinning is not implemented',
  cpus_allowed_policy: 'CPU pinning is not implemented',
  numa_cpu_nodes: 'NUMA placement is not implemented',
  numa_mem_policy: 'NUMA placement is not implemented',
  nice: 'not implemented',
  prio: 'not implemented',
  prioclass: 'not implemented',
  cmdprio_percentage: 'not implemented',
  ioscheduler: 'there is no kernel IO scheduler on this path',
  exitall: 'not implemented',
  exitall_on_error: 'not implemented',
  new_group: 'use stonewall (which starts a new group)',
  wait_for: 'use stonewall',
  lat_percentiles: 'phyr always reports clat percentiles; lat percentiles are not implemented',
  clat_percentiles: 'phyr always reports clat percentiles',
  slat_percentiles: 'not implemented',
  significant_figures: 'not implemented',
  unit_base: 'not implemented',
  unified_rw_reporting: 'not implemented',
  buffer_compress_percentage: 'buffer contents are not configurable',
  buffer_compress_chunk: 'buffer contents are not configurable',
  buffer_pattern: 'buffer contents are not configurable',
  dedupe_percentage: 'buffer contents are not configurable',
  refill_buffers: 'buffer contents are not configurable',
  scramble_buffers: 'buffer contents are not configurable',
  zero_buffers: 'buffer contents are not configurable',
  hugepage_size: 'the DMA pool picks the page size',
  continue_on_error: 'not implemented: an IO error stops the job',
  ignore_error: 'not implemented',
  error_dump: 'not implemented',
  flow: 'not implemented',
  flow_id: 'not implemented',
  steadystate: 'not implemented',
  ss: 'not implemented',
  per_job_logs: 'not implemented',
  minimal: 'terse output is not supported',
  'write_barrier': 'not implemented',
  serialize_overlap: 'not implemented',
  io_submit_mode: 'not implemented',
  gtod_reduce: 'timing is always recorded natively',
  disable_lat: 'timing is always recorded natively',
  disable_clat: 'timing is always recorded natively',
  disable_slat: 'timing is always recorded natively',
  disable_bw_measurement: 'timing is always recorded natively',
  clocksource: 'phyr times with the CPU timestamp counter calibrated to CLOCK_MONOTONIC',
  max_latency: 'not implemented',
  latency_target: 'not implemented',
  latency_window: 'not implemented',
  latency_percentile: 'not implemented',
  'terse-version': 'terse output is not supported',
  'bandwidth-log': 'not implemented',
  'write_to_log': 'not implemented',
  client: 'client/server mode is not implemented',
  server: 'client/server mode is not implemented',
  'cpuclock-test': 'not implemented',
  'crctest': 'not implemented',
  'idle-prof': 'not implemented',
  'merge_blktrace_file': 'not implemented',
  read_iolog: 'not implemented',
  write_iolog: 'not implemented',
  replay_redirect: 'not implemented',
  'parse-only': 'not implemented',
};

const byName = new Map<string, BenchOption>();
for (const o of OPTIONS) {
  byName.set(o.name, o);
  for (const a of o.aliases ?? []) byName.set(a, o);
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

/** Finds an option by name, or throws saying it is unsupported (with why) or unknown. */
export function lookupOption(name: string): BenchOption {
  const o = byName.get(name) ?? byName.get(name.replace(/_/g, '-')) ?? byName.get(name.replace(/-/g, '_'));
  if (o) return o;
  const why = UNSUPPORTED[name] ?? UNSUPPORTED[name.replace(/-/g, '_')];
  if (why !== undefined) throw new BenchConfigError(`fio option '${name}' is not supported by phyr bench: ${why}`, 'PHYR_BENCH_UNSUPPORTED_OPTION');
  let best = '';
  let bestD = Infinity;
  for (const k of byName.keys()) {
    const dd = distance(name, k);
    if (dd < bestD) [best, bestD] = [k, dd];
  }
  const hint = bestD <= 3 ? ` (did you mean --${best}?)` : '';
  throw new BenchConfigError(`unknown option '${name}'${hint}; see \`phyr bench --help\``, 'PHYR_BENCH_UNKNOWN_OPTION');
}

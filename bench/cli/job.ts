// The description of one benchmark job, as the option table fills it. Defaults follow fio
// where fio has the option (rw=read, bs=4k, iodepth=1, numjobs=1, rwmixread=50, ...).
import { defaultBufferOptions, type BufferOptions } from './buffer-options';
import { defaultJobLogs, type JobLogs } from './logs';
import { defaultLatencyTarget, type LatencyTargetSpec } from './latency-target';
import { defaultFlow, type FlowSpec } from './flow';
import type { KbBase, SizeValue } from './units';
import type { SteadyStateSpec } from './steadystate';
import { defaultVerifyShaping, type VerifyShaping } from './verify-shaping';

/** fio's rw= modes. */
export type RwMode = 'read' | 'write' | 'randread' | 'randwrite' | 'rw' | 'randrw' | 'trim' | 'randtrim' | 'trimwrite';

/** Block sizes of one direction: a fixed size, a range, or a weighted split. */
export interface BlockSizeSpec {
  /** Smallest block size in bytes (== max for a fixed size). */
  min: number;
  /** Largest block size in bytes. */
  max: number;
  /** Weighted sizes (bssplit); empty unless bssplit was given. Percentages sum to 100. */
  split: Array<{ bytes: number; percent: number }>;
}

/** fio's random_distribution=. */
export interface RandomDistribution {
  kind: 'random' | 'zipf' | 'pareto' | 'normal' | 'zoned' | 'zoned_abs';
  /** zipf theta, pareto h or normal deviation (percent); 0 for random. */
  param: number;
  /** The distribution's center, 0..1 (fio's second parameter of zipf, pareto and normal). */
  center?: number;
  /** zoned: [access %, range %] pairs; zoned_abs: [access %, range bytes]; in order from the region's start. */
  zones?: Array<{ access: number; range: number }>;
}

/** --mem=: where the data buffers live. */
/** fio's random_generator values (phyr's own generators stand behind all three). */
export type RandomGenerator = 'tausworthe' | 'lfsr' | 'tausworthe64';

export type MemSpec = { kind: 'pool' } | { kind: 'cmb' } | { kind: 'p2p'; bdf: string; bar: number };

/** One job as configured (before numjobs expands it into threads). */
export interface JobSpec {
  name: string;
  rw: RwMode;
  rwmixread: number;
  /** fio's rw=MODE:N for a sequential mode: bytes skipped after each IO (negative: backward); 0 = none. */
  seqSkip: number;
  /** Block sizes per direction; `trim` is kept as written (bs=R,W,T) for the trim workloads. */
  bs: { read: BlockSizeSpec; write: BlockSizeSpec; trim?: BlockSizeSpec };
  iodepth: number;
  numjobs: number;
  /** 0 = no time limit (size-bound). */
  runtimeNs: number;
  timeBased: boolean;
  rampNs: number;
  /** Undefined = the whole namespace from `offset`. */
  size?: SizeValue;
  offset: SizeValue;
  nsid: number;
  norandommap: boolean;
  /** fio's random_generator: lfsr keeps every block once per pass even with norandommap (options-random.ts). */
  randomGenerator: RandomGenerator;
  randomDistribution: RandomDistribution;
  /**
   * Checksum of the verify headers ('none' = no verify; 'null' = fio's verify=null: the
   * read-back phase runs, nothing is checked).
   */
  verify: 'none' | 'null' | 'crc32c' | 'md5' | 'pattern' | 'pattern_header' | 'meta';
  /** True once verify= was given (verify_pattern then keeps it; fio's fio_option_is_set). */
  verifySet: boolean;
  /**
   * fio's verify_pattern (bytes): what verify blocks carry. 'pattern' (fio's verify=pattern)
   * is the pattern alone; 'pattern_header' (verify_pattern without verify=) a header, then
   * the pattern; with crc32c or md5 it follows their header.
   */
  verifyPattern?: number[];
  /** verify_pattern's %o positions: 8 bytes of the IO's byte offset pasted at each, per IO. */
  verifyPatternOffsets?: number[];
  /** fio's buffer options, as given (buffers.ts resolves them). */
  buffers: BufferOptions;
  verifyFatal: boolean;
  doVerify: boolean;
  /** fio's verify_interval, verify_offset, verify_backlog(_batch) and verify_only, as given. */
  verifyShaping: VerifyShaping;
  percentileList: number[];
  /** Which latencies get percentiles (fio's slat_/clat_/lat_percentiles). */
  percentileSeries: PercentileSeries;
  mem: MemSpec;
  dptr: 'auto' | 'prp' | 'sgl';
  randseed: number;
  /**
   * fio's randrepeat=0: the random streams are seeded from the system's random source, so
   * each run differs (undefined: fio's default 1, seeded from randseed).
   */
  randrepeat?: false;
  /** randseed was given: it wins over randrepeat=0, as in fio 3.33 (setup_random_seeds). */
  randseedGiven?: true;
  stonewall: boolean;
  /** fio's new_group: this job starts a new reporting group (it still runs with the jobs before it). */
  newGroup: boolean;
  /** fio's exitall: when this job ends, the other jobs of its group are stopped. */
  exitall: boolean;
  /** fio's exit_what: what exitall stops, the job's reporting group, every running job (stonewall), or every job of the run (all). */
  exitWhat: 'group' | 'stonewall' | 'all';
  /** fio's nice: added to each job thread's nice value when it starts. */
  nice: number;
  /** fio's exitall_on_error: when this job ends in error, every running job is stopped. */
  exitallOnError: boolean;
  /** fio's wait_for: start only once every thread of the job of this name (defined earlier) has ended. */
  waitFor?: string;
  groupReporting: boolean;
  /** fio's unified_rw_reporting: per direction (none), one mixed entry (mixed), or both. */
  unifiedRw: UnifiedRw;
  /**
   * phyr's own: a command with no completion this long after its doorbell fails the job,
   * naming the command (the native engine measures it from its existing timestamps).
   */
  cmdTimeoutNs: number;
  /**
   * The options given for this job, key and value as written (fio's "job options"): its
   * job-file section or the command line after its --name; [global] ones are kept apart.
   */
  written: Record<string, string>;
  /** fio's kb_base: the base of the size suffixes in the options that follow it. */
  kbBase: KbBase;
  /** fio's steadystate, ss_dur, ss_ramp: the job ends early once in steady state (off unless durationS > 0). */
  steadystate?: SteadyStateSpec;
  /** fio's write_iolog: the file the job's IOs are logged to (fio's iolog version 2). */
  writeIolog?: string;
  /** The kernel engine a job file named (ioengine=libaio, ...), replaced by phyr's loop. */
  kernelEngine?: string;
  /** ioengine=null was written: the job runs only on phyr's null TARGET, its twin. */
  nullEngine?: true;
  /** The kernel namespace node a job file named (filename=/dev/nvmeXnY), replaced by the target. */
  kernelFilename?: string;
  /** fio's loops: the workload (size or io_size, number_ios) is done this many times. */
  loops: number;
  /** fio's io_size: bytes to transfer, which may differ from the region (N% = of size). */
  ioSize?: SizeValue;
  /** fio's number_ios: a size-bound job stops after this many IOs (0 = no limit). */
  numberIos: number;
  /** Pacing, [read, write] (0 = unlimited): rate in bytes/s, rate_iops in IOs/s. */
  rate: [number, number];
  rateIops: [number, number];
  /** rate_min (bytes/s) and rate_iops_min, [read, write]: the job fails below them. */
  rateMin: [number, number];
  rateIopsMin: [number, number];
  /** rate_process: linear (evenly spaced) or poisson (exponential gaps, the same mean). */
  rateProcess: 'linear' | 'poisson';
  /** ratecycle: the window of the rate_min checks. */
  rateCycleNs: number;
  /** thinktime after every thinktimeBlocks IOs, of which thinktimeSpinNs is spun. */
  thinktimeNs: number;
  thinktimeSpinNs: number;
  thinktimeBlocks: number;
  /** Whether thinktime_blocks was given (with thinktime_iotime alone, only time counts). */
  thinktimeBlocksGiven: boolean;
  /** thinktime_blocks_type: count the IOs completed (fio's default) or issued. */
  thinktimeBlocksType: 'complete' | 'issue';
  /** thinktime_iotime: think after this much IO time too (0 = not by time). */
  thinktimeIotimeNs: number;
  /** rate_ignore_thinktime: the rate schedule moves on by a think instead of catching up. */
  rateIgnoreThinktime: boolean;
  /** bs_is_seq_rand: bs=R,W sizes sequential, then random IOs (applied by applySeqRandBs). */
  bsIsSeqRand: boolean;
  /** serialize_overlap: an IO overlapping one in flight waits for it. */
  serializeOverlap: boolean;
  /** startdelay: the job starts this long after the group. */
  startDelayNs: number;
  /** fsync=N / fdatasync=N: a Flush after every N writes (0 = none). */
  fsync: number;
  fdatasync: number;
  /** end_fsync: a Flush when the write phase ends. */
  endFsync: boolean;
  /** readfua / writefua: reads / writes carry Force Unit Access (CDW12 bit 30). */
  readFua: boolean;
  writeFua: boolean;
  /** iodepth_batch_submit, iodepth_batch_complete_min / _max, iodepth_low (0 = phyr's default). */
  batchSubmit: number;
  batchCompleteMin: number;
  batchCompleteMax: number;
  iodepthLow: number;
  /** offset_increment: clone N (numjobs) starts at offset + N x this (N% = of the namespace). */
  offsetIncrement: SizeValue;
  /** offset_align: what a percentage offset is rounded up to (0 = the smallest block size). */
  offsetAlign: number;
  /** blockalign: random offsets are multiples of this (0 = the smallest block size). */
  blockAlign: number;
  /** percentage_random: the share of a random job's IOs that are random (100 = all). */
  percentageRandom: number;
  /** fio's significant_figures: the width of the normal output's numbers (1..10, default 4). */
  significantFigures: number;
  /** fio's rw=randMODE:N: a new random offset every N IOs (1 = every IO). */
  randomEvery: number;
  /** fio's rw_sequencer: the IOs between two random offsets repeat it (identical) or continue from it (sequential). */
  rwSequencer: 'sequential' | 'identical';
  /** bwavgtime / iopsavgtime: the interval of the bandwidth and IOPS samples, ms; absent: fio's rule (options-logs.ts). */
  bwAvgTimeMs?: number;
  iopsAvgTimeMs?: number;
  /** write_lat_log, write_bw_log, write_iops_log and their options (logs.ts). */
  logs: JobLogs;
  /**
   * fio's continue_on_error (with ignore_error's types): the error types the job goes on
   * past, as bits: 1 read, 2 write (trims included), 4 verify (options-errors.ts ERROR_TYPE).
   */
  continueOnError: number;
  /** fio's ignore_error: the non-fatal errnos of each type [read, write, verify]; undefined = EIO and EILSEQ. */
  ignoreError: [number[] | undefined, number[] | undefined, number[] | undefined];
  /** fio's max_latency per direction [read, write, trim] in ns (0 = none). */
  maxLatencyNs: [number, number, number];
  /** fio's cpus_allowed / cpumask: the CPUs the job threads run on; undefined = not pinned. */
  cpus?: number[];
  /** fio's cpus_allowed_policy: every thread gets the whole set (shared) or one CPU of it (split). */
  cpusPolicy: 'shared' | 'split';
  /** fio's read_iolog: the iolog replayed (version 2 or 3); undefined = none. */
  readIolog?: string;
  /** fio's replay_no_stall: replay without the log's timing. */
  replayNoStall: boolean;
  /** fio's replay_time_scale: the log's times run at this percentage of its rate (100 = as logged). */
  replayTimeScale: number;
  /** fio's replay_scale: the log's offsets are divided by this (1 = as logged). */
  replayScale: number;
  /** fio's replay_align: the (scaled) offsets are rounded down to a multiple of this power of two (0 = not). */
  replayAlign: number;
  /** fio's replay_skip: the IO types of the log not replayed. */
  replaySkip: Array<'read' | 'write' | 'trim' | 'sync'>;
  /** fio's latency target mode (latency_target, latency_window, latency_percentile, latency_run). */
  latency: LatencyTargetSpec;
  /** fio's flow control between jobs (flow_id, flow, flow_sleep). */
  flow: FlowSpec;
}

/** Default per-command timeout (cmd_timeout): 10 s. */
export const DEFAULT_CMD_TIMEOUT_NS = 10e9;
/** Bounds of cmd_timeout, as the native engine enforces them: 1 ms .. 1 h. */
export const CMD_TIMEOUT_BOUNDS_NS = { min: 1e6, max: 3600e9 } as const;

/** Options that apply to the whole run, not a job (fio's command-line-only options). */
export interface RunOptions {
  outputFormat: Array<'normal' | 'json' | 'json+' | 'terse'>;
  output?: string;
  /** 0 = no periodic status. */
  statusIntervalNs: number;
  eta: 'auto' | 'always' | 'never';
  /** fio's --section: run only the job-file sections of these names (empty = all). */
  sections: string[];
  /** fio's --parse-only: check the options and job files, run nothing. */
  parseOnly: boolean;
  /** fio's --showcmd: print the job files as command-line options, run nothing. */
  showcmd: boolean;
  /** phyr's --shadow-doorbells: use Doorbell Buffer Config when the controller offers it. */
  shadowDoorbells: boolean;
}

/**
 * The latency series reported with percentiles (and, in json+, histogram bins): fio's
 * clat_percentiles (default on), lat_percentiles and slat_percentiles (default off).
 */
export interface PercentileSeries {
  slat: boolean;
  clat: boolean;
  lat: boolean;
}

/** fio's unified_rw_reporting values. */
export type UnifiedRw = 'none' | 'mixed' | 'both';

/** fio's default: clat percentiles only. */
export const DEFAULT_PERCENTILE_SERIES: PercentileSeries = { slat: false, clat: true, lat: false };

/** fio's default clat percentile list. */
export const DEFAULT_PERCENTILES = [1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99];

/** A job with every option at its default. */
export function defaultJob(name = 'job'): JobSpec {
  const bs = (): BlockSizeSpec => ({ min: 4096, max: 4096, split: [] });
  return {
    name,
    rw: 'read',
    rwmixread: 50,
    seqSkip: 0,
    bs: { read: bs(), write: bs() },
    iodepth: 1,
    numjobs: 1,
    runtimeNs: 0,
    timeBased: false,
    rampNs: 0,
    size: undefined,
    offset: { bytes: 0 },
    nsid: 1,
    norandommap: false,
    randomGenerator: 'tausworthe',
    randomDistribution: { kind: 'random', param: 0 },
    verify: 'none',
    verifySet: false,
    buffers: defaultBufferOptions(),
    verifyFatal: false,
    doVerify: true,
    verifyShaping: defaultVerifyShaping(),
    percentileList: [...DEFAULT_PERCENTILES],
    percentileSeries: { ...DEFAULT_PERCENTILE_SERIES },
    mem: { kind: 'pool' },
    dptr: 'auto',
    randseed: 0x89,
    stonewall: false,
    newGroup: false,
    exitall: false,
    exitWhat: 'group',
    nice: 0,
    exitallOnError: false,
    groupReporting: false,
    unifiedRw: 'none',
    cmdTimeoutNs: DEFAULT_CMD_TIMEOUT_NS,
    written: {},
    kbBase: 1024,
    loops: 1,
    ioSize: undefined,
    numberIos: 0,
    rate: [0, 0],
    rateIops: [0, 0],
    rateMin: [0, 0],
    rateIopsMin: [0, 0],
    rateProcess: 'linear',
    rateCycleNs: 1e9,
    thinktimeNs: 0,
    thinktimeSpinNs: 0,
    thinktimeBlocks: 1,
    thinktimeBlocksGiven: false,
    thinktimeBlocksType: 'complete',
    thinktimeIotimeNs: 0,
    rateIgnoreThinktime: false,
    bsIsSeqRand: false,
    serializeOverlap: false,
    startDelayNs: 0,
    fsync: 0,
    fdatasync: 0,
    endFsync: false,
    readFua: false,
    writeFua: false,
    batchSubmit: 0,
    batchCompleteMin: 0,
    batchCompleteMax: 0,
    iodepthLow: 0,
    offsetIncrement: { bytes: 0 },
    offsetAlign: 0,
    blockAlign: 0,
    percentageRandom: 100,
    randomEvery: 1,
    significantFigures: 4,
    rwSequencer: 'sequential',
    logs: defaultJobLogs(),
    continueOnError: 0,
    ignoreError: [undefined, undefined, undefined],
    maxLatencyNs: [0, 0, 0],
    cpus: undefined,
    cpusPolicy: 'shared',
    readIolog: undefined,
    replayNoStall: false,
    replayTimeScale: 100,
    replayScale: 1,
    replayAlign: 0,
    replaySkip: [],
    latency: defaultLatencyTarget(),
    flow: defaultFlow(),
  };
}

/** A copy of a job (so [global] settings can seed every job section independently). */
export function cloneJob(j: JobSpec): JobSpec {
  return structuredClone(j);
}

/** Defaults of the run-wide options. */
export function defaultRunOptions(): RunOptions {
  return { outputFormat: ['normal'], output: undefined, statusIntervalNs: 0, eta: 'auto', sections: [], parseOnly: false, showcmd: false, shadowDoorbells: true };
}

/** Whether the mode issues reads / writes / trims (Dataset Management deallocates), and whether offsets are random. */
export function modeTraits(rw: RwMode): { reads: boolean; writes: boolean; trims: boolean; random: boolean } {
  return {
    trims: rw === 'trim' || rw === 'randtrim' || rw === 'trimwrite',
    reads: rw === 'read' || rw === 'randread' || rw === 'rw' || rw === 'randrw',
    writes: rw === 'write' || rw === 'randwrite' || rw === 'rw' || rw === 'randrw' || rw === 'trimwrite',
    random: rw.startsWith('rand'),
  };
}

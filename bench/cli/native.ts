// The benchmark's slice of the native addon (room 'bench', bench/native/).
import { addonRoom } from '../../lib/native';
import type { LatencySeries } from './results';
import type { LatencyStepResult } from './latency-target';

/** Block sizes of one direction as the engine takes them. */
export interface NativeBlockSizes {
  min: number;
  max: number;
  /** [bytes, cumulative weight in 1/100 %] pairs; the last weight is 10000. */
  split: Array<[number, number]>;
}

/** Parameters of one job thread (validated again natively). */
export interface NativeJobParams {
  nsid: number;
  lbaSize: number;
  regionLba: number;
  regionBytes: number;
  random: boolean;
  readPercent: number;
  readBs: NativeBlockSizes;
  writeBs: NativeBlockSizes;
  iodepth: number;
  runtimeNs: number;
  rampNs: number;
  timeBased: boolean;
  ioBytes: number;
  /** 0 uniform, 1 zipf, 2 pareto, 3 zoned (zones), 4 normal. */
  distribution: number;
  /** zipf theta, pareto h or normal deviation %. */
  distParam: number;
  /** fio's distribution center (0..1) of zipf, pareto and normal; -1: none. */
  distCenter: number;
  randomMap: boolean;
  seed: number;
  stream: number;
  verify: boolean;
  /** Checksum of the verify headers (VERIFY_KIND); sent even when verify is off. */
  verifyKind: number;
  verifyFatal: boolean;
  doVerify: boolean;
  bufIova: number;
  slotBytes: number;
  bufFlags: number;
  /** Per-command timeout in ns, 1 ms .. 1 h (optional natively: 10 s when absent). */
  cmdTimeoutNs: number;
  /** fio's rw=MODE:N for sequential modes: bytes skipped after each IO, negative backward (optional natively: 0). */
  seqSkip?: number;
  /** number_ios x loops: a size-bound job stops after this many IOs (0 = no limit). */
  maxIos: number;
  /** Pacing in bytes/s, [read, write] (0 = unlimited); the schedule is open loop. */
  rateBps: [number, number];
  /** Exponential gaps (rate_process=poisson) instead of even ones. */
  ratePoisson: boolean;
  /** rate_min in bytes/s and rate_iops_min, [read, write] (0 = none). */
  rateMinBps: [number, number];
  rateMinIops: [number, number];
  /** The rate_min check window in ns (>= 1 ms). */
  rateCycleNs: number;
  thinktimeNs: number;
  thinktimeSpinNs: number;
  thinktimeBlocks: number;
  /** thinktime_blocks_type=complete: thinktimeBlocks counts IOs completed, not issued. */
  thinktimeByCompletion: boolean;
  /** thinktime_iotime: a think once this much time went by since the last (0 = off). */
  thinktimeIotimeNs: number;
  /** rate_ignore_thinktime: the rate schedule moves on by a think. */
  rateIgnoreThinktime: boolean;
  /** serialize_overlap: a main-phase IO overlapping one in flight waits until it completes. */
  serializeOverlap: boolean;
  startDelayNs: number;
  /** fsync=N: a Flush after every N writes when more IO follows (0 = none). */
  fsyncEvery: number;
  /** end_fsync: a Flush at the end of the write phase (not counted). */
  endFsync: boolean;
  /** readfua / writefua: Force Unit Access on reads / writes (optional natively: off). */
  readFua?: boolean;
  writeFua?: boolean;
  /** rw=trim|randtrim: each IO (drawn as a read) is a Dataset Management deallocate. */
  trim: boolean;
  /** Commands per doorbell (0 = all of a pass), completions owed before the next submit,
   * completions per reap at most (0 = all), and the refill mark of a full queue (0 = iodepth). */
  batchSubmit: number;
  batchCompleteMin: number;
  batchCompleteMax: number;
  iodepthLow: number;
  /** Random offsets are multiples of this (0 = the smallest block size). */
  blockAlign: number;
  /** The share of a random job's IOs that are random, 0..100. */
  percentageRandom: number;
  /** rw=randMODE:N: a new random offset every this many IOs per direction (optional natively: 1). */
  randomEvery?: number;
  /** rw_sequencer=identical: the IOs between repeat the random offset (optional natively: false, continue from it). */
  randomIdentical?: boolean;
  /** zoned / zoned_abs: [startBytes, bytes, cumulative share in 1/100 %] per zone. */
  zones?: Array<[number, number, number]>;
  /** bw_avg_time / iops_avg_time in ns: the job thread records an interval sample this often (>= 1 ms; absent or 0 = none). */
  sampleIntervalNs?: number;
  /** iops_avg_time in ns when it differs from the bandwidth interval (0 or absent: the same records). */
  iopsIntervalNs?: number;
  /** log_avg_msec in ns for the latency logs' windows (0 or absent: none). */
  logWindowNs?: number;
  /** Keep every measured IO's timestamps for per-IO latency logs (drainIos). */
  perIoLog?: boolean;
  /** log_hist_msec in ns for write_hist_log's windows (0 or absent: none). */
  histWindowNs?: number;
  /**
   * continue_on_error / ignore_error (options-errors.ts nativeErrorParams): the counted error
   * types (bits 1 read, 2 write, 4 verify), the types going on past EIO and past ETIMEDOUT,
   * and whether a failed verify goes on (all optional natively: 0 / false).
   */
  errorCountTypes?: number;
  continueEio?: number;
  continueTimedOut?: number;
  continueVerify?: boolean;
  /** max_latency in ns, [read, write, trim] (0 = none; optional natively). */
  maxLatencyNs?: [number, number, number];
  /** fio's latency target mode (absent: off): the target in ns, the window in us, the percentile, latency_run. */
  latencyTargetNs?: number;
  latencyWindowUs?: number;
  latencyPercentile?: number;
  latencyRun?: boolean;
  /** fio's flow control (absent: none): the flow's shared counters [IOs + 1, total weight], this job's weight, flow_sleep in us. */
  flowShared?: BigUint64Array;
  flowWeight?: number;
  flowSleepUs?: number;
  /** cpus_allowed / cpumask: the CPUs the job thread pins itself to (absent or empty: not pinned). */
  cpus?: number[];
  /** nice: added to the job thread's nice value when it starts (-20..19; absent: 0). */
  nice?: number;
  /** rw=trimwrite: sequential trims of readBs-sized ranges, each followed by a write of the same blocks (readPercent 0; optional natively: false). */
  trimWrite?: boolean;
  /** What writes carry (buffers.ts FILL_KIND; absent: random data, filled once). */
  fillKind?: number;
  /** Fill every write afresh (refill_buffers). */
  fillRefill?: boolean;
  /** Stamp every write's 512-byte pieces with its offset and time (scramble_buffers). */
  fillScramble?: boolean;
  /** buffer_compress_percentage 0..99, buffer_compress_chunk, dedupe_percentage 0..100. */
  compressPercent?: number;
  compressChunk?: number;
  dedupePercent?: number;
  /** buffer_pattern's bytes (1..512). */
  fillPattern?: number[];
  /** verify_pattern's bytes (1..512). */
  verifyPattern?: number[];
  /** Positions in verifyPattern where each IO's byte offset goes (8 bytes LE; %o). */
  verifyPatternOffsets?: number[];
  /** verify_interval: bytes per verify header (absent: one per logical block). */
  verifyInterval?: number;
  /** verify_offset: the header is swapped with the data this far into its interval (absent: 0). */
  verifyOffset?: number;
  /** verify_backlog and verify_backlog_batch of a write job (absent: no read-back while writing). */
  verifyBacklog?: number;
  verifyBacklogBatch?: number;
  /** verify_only: the write phase is a dry run, then the read-back checks an earlier run's data. */
  verifyOnly?: boolean;
  /** verify_dump: a block failing its checksum or pattern is returned as read and as expected. */
  verifyDump?: boolean;
}

/** A series as the engine returns it (bins as a Float64Array). */
export type NativeSeries = Omit<LatencySeries, 'bins'> & { bins: Float64Array };

/** One direction as the engine returns it. */
export interface NativeDirection {
  ios: number;
  bytes: number;
  slat: NativeSeries;
  clat: NativeSeries;
  lat: NativeSeries;
}

/** What `join()` returns. */
export interface NativeJobResult {
  read: NativeDirection;
  write: NativeDirection;
  /** The Flushes of fsync=N: count and doorbell-to-completion times. */
  sync?: { ios: number; lat: NativeSeries };
  /** Dataset Management deallocates (rw=trim|randtrim). */
  trim?: NativeDirection;
  runtimeNs: number;
  /** The measured part of the main phase; less than runtimeNs when a verify read-back followed. */
  mainPhaseNs?: number;
  usrNs: number;
  sysNs: number;
  ctx: number;
  /** Major / minor page faults of the job thread while measuring (getrusage RUSAGE_THREAD). */
  majf: number;
  minf: number;
  depthHist: number[];
  verifyChecked: number;
  verifyErrors: number;
  verifyFailures: Array<{ lba: number; reason: string; found: { magic: number; kind: string; lba: number; seq: number; seed: number }; received?: Buffer; expected?: Buffer }>;
  /** A verifying job's last completed writes (at most iodepth), byte offsets, the latest first. */
  lastWrites?: number[];
  /** ns per IO inside the driver's submit, doorbell and (non-empty) reap calls, sampled. */
  driverNsPerIo: number;
  /** ns of loop passes that submitted or reaped something (driver + loop + histograms + verify). */
  busyNs: number;
  prpCommands: number;
  sglCommands: number;
  splitCommands: number;
  childCommands: number;
  bounces: number;
  /** IOs submitted while logging for write_iolog (above the log's capacity: it overflowed). */
  ioLogCount?: number;
  /** Interval records the sample ring had no room for (the JS thread did not drain it in time). */
  intervalDrops?: number;
  /** fio's latency_depth (the depth the latency target search ended at; iodepth without one), its decisions, and those the log had no room for. */
  latencyDepth?: number;
  latencySteps?: LatencyStepResult[];
  latencyStepsDropped?: number;
  /** Per-IO log: times the job thread waited for JS to drain its ring, for how long (ns), and IOs left out when stopped while waiting. */
  ioLogStalls?: number;
  ioLogStallNs?: number;
  ioLogDrops?: number;
  /** Histogram-log windows the ring had no room for. */
  histDrops?: number;
  error: number;
  errorStatus: number;
  errorLba: number;
  errorText: string;
  /** fio's total_err / first_error (continue_on_error): errors of the counted types, the first one's code and text. */
  totalErrors?: number;
  firstError?: number;
  firstErrorText?: string;
}

/** A running job thread. */
export interface NativeBenchJob {
  readonly done: boolean;
  stop(): void;
  join(): NativeJobResult;
  /**
   * The results so far, copied by the job thread at its next loop pass (cumulative from the
   * start of measurement, as fio's --status-interval dumps are); null if the thread did not
   * answer within a moment (or has ended: join() has the results then).
   */
  snapshot(): NativeJobResult | null;
  /**
   * The interval samples recorded since the last call, oldest first: 30 doubles per record
   * (30 doubles per record: samples.ts decodeIntervals). Empty when there are none or the job takes no samples.
   */
  drainSamples(): Float64Array;
  /** The per-IO log records since the last call, in completion order: 6 doubles per IO (logs.ts IO_FIELDS). */
  drainIos(): Float64Array;
  /** The histogram-log windows since the last call: 1 + 3 x 1856 doubles each (logs.ts HIST_FIELDS). */
  drainHist(): Float64Array;
}

/** Options of a loopback queue (bench/native/loopback_napi.h). */
export interface LoopbackQueueOptions {
  /** Entries per ring, 2..65536. */
  qsize: number;
  /** The SGLS bits 1:0 the loopback claims: 0 none (PRP only), 1 byte-aligned, 2 dword-aligned (default 0). */
  sglSupport?: number;
  /** SGL for every IO command SGL can describe (--dptr=sgl); needs sglSupport. */
  preferSgl?: boolean;
  /** Bytes per command before the driver splits it (a multiple of 4096; 0 or absent = no limit). */
  maxTransfer?: number;
}

/**
 * The driver's real queue pair over an in-thread loopback controller that answers every
 * command at its doorbell and moves no data: the device behind `phyr bench null`. Passed
 * to BenchJob in place of a queue pair's native handle.
 */
export interface NativeLoopbackQueue {
  /** Commands that fit in flight at once. */
  readonly capacity: number;
  /** True while a bench job drives it. */
  readonly busy: boolean;
  /** Commands answered so far (refused while a job drives the queue). */
  answered(): number;
  /** Frees the queue; refused while a job drives it; idempotent. */
  close(): void;
}

/** Indices into a job's progress Float64Array. */
export interface ProgressFields {
  state: number;
  readIos: number;
  writeIos: number;
  readBytes: number;
  writeBytes: number;
  elapsedNs: number;
  verifyErrors: number;
  ioErrors: number;
  count: number;
}

/** The room's exports. */
export interface BenchNative {
  /**
   * Starts a job thread. `registers` is the controller's BAR0: the thread reads CSTS at its
   * periodic health check and ends the job on CFS or an all-ones read (null: not watched).
   */
  BenchJob: new (queuePair: object, params: NativeJobParams, buffer: ArrayBuffer | null, bufferOffset: number, progress: Float64Array, registers?: ArrayBuffer | null, ioLog?: Float64Array | null, replay?: Float64Array | null) => NativeBenchJob;
  /** A loopback queue for BenchJob (`phyr bench null`). */
  LoopbackQueue: new (options: LoopbackQueueOptions) => NativeLoopbackQueue;
  memcpyBandwidth(bufferBytes: number, millis: number): { bytesPerSecond: number; bytesCopied: number; seconds: number };
  nsPerTick(): number;
  /** Runs the engine on the calling thread against a queue with no device: its own cost per IO. */
  engineFloor(iodepth: number, millis: number, sampleIntervalMs?: number): { ios: number; runtimeNs: number; iops: number; cpuNsPerIo: number; samples: number; error: string };
  /** Runs the engine on the calling thread through the driver's QueuePair and a loopback controller. */
  driverFloor(iodepth: number, millis: number): { ios: number; runtimeNs: number; iops: number; cpuNsPerIo: number; driverNsPerIo: number; error: string };
  progressFields: ProgressFields;
}

/** The job states published in progress[state]. */
/** Verify header checksum kinds as the native engine numbers them (bench/verify.h). */
export const VERIFY_KIND = { crc32c: 1, md5: 2, null: 3, pattern: 4, pattern_header: 5, meta: 6 } as const;

export const JOB_STATE = { starting: 0, ramp: 1, running: 2, verifying: 3, done: 4 } as const;

/** The bench room of the addon. */
export function benchNative(): BenchNative {
  return addonRoom<BenchNative>('bench');
}

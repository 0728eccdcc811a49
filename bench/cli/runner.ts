// Runs planned jobs: one queue pair, one DMA buffer and one native thread per job clone,
// jobs grouped by stonewall and run group after group. While they run, JS only reads the
// shared progress arrays (live line on a TTY, periodic status when asked); when a group
// ends it joins the threads and turns their native results into fio-shaped results.
import { BenchConfigError } from './errors';
import type { JobSpec, RunOptions } from './job';
import { JOB_STATE, VERIFY_KIND, benchNative, type NativeBenchJob, type NativeDirection, type NativeJobResult } from './native';
import { bsHeader, jobOptions, planJob, queueCapacity, queueSizeFor, verifyPhaseNeverStarts, type NamespaceInfo, type PlannedJob } from './plan';
import { ioLogFor, readReplayLog, replayPlan, writeIoLog, type ReplayLog } from './iolog';
import { mergeResults, type DirectionResult, type ErrorCounts, type JobResult } from './results';
import { processCpus, threadCpus } from './options-cpus';
import { flowCounters, nativeFlowParams } from './options-flow';
import { jobSampleIntervals } from './options-logs';
import { writeVerifyDumps, writeVerifyState } from './options-verify';
import { IoLogWriter, writeHistLog, writeJobLogs, writesLogs } from './logs';
import { decodeIntervals, directionSampleStats, timelineOf, type IntervalSample } from './samples';
import { formatStatusLine, wantLiveLine, type StatusSnapshot } from './status';
import { steadyStateProblem, SteadyStateWatch, type SteadyStateSpec } from './steadystate';

/** A data buffer for one job thread. */
export interface BenchBuffer {
  /** CPU view, or null for device-only memory (peer-to-peer, CMB). */
  bytes: Uint8Array | null;
  iova: number;
  /** phyr flags of the memory. */
  flags: number;
  free(): void;
}

/** A queue pair a job thread may drive. */
export interface BenchQueue {
  readonly native: object;
  /** Commands that fit in flight at once. */
  readonly capacity: number;
  close(): void | Promise<void>;
}

/** What the runner needs from an open device (the command adapts the driver to it). */
export interface BenchDevice {
  namespace(nsid: number): NamespaceInfo;
  /** Largest queue the controller accepts (CAP.MQES + 1). */
  maxQueueSize(): number;
  createQueue(size: number, dptr: JobSpec['dptr']): BenchQueue | Promise<BenchQueue>;
  allocBuffer(bytes: number, mem: JobSpec['mem']): BenchBuffer;
  /**
   * The controller's BAR0, so job threads watch CSTS (CFS, or all ones when the device is
   * gone) at their periodic health check; absent or null: not watched.
   */
  registers?(): ArrayBuffer | null;
}

/** Where status lines go. */
export interface StatusSink {
  isTty: boolean;
  write(text: string): void;
  /**
   * --status-interval: a full report of the running group so far (cumulative), printed in
   * the run's output format(s). Without it, the interval prints a status line instead.
   */
  dump?(results: JobResult[]): void;
}

interface Running {
  spec: JobSpec;
  /** The steady-state check of the job's reporting entry, on the entry's first thread only. */
  steady?: SteadyEntry;
  plan: PlannedJob;
  groupId: number;
  queue: BenchQueue;
  buffer: BenchBuffer;
  progress: Float64Array;
  /** write_iolog's array (iolog.ts), when the job asked for a log. */
  ioLog?: Float64Array;
  /** read_iolog's IOs (iolog.ts replayPlan), when the job replays a log. */
  replay?: Float64Array;
  job?: NativeBenchJob;
  /** Starts the job's thread (sets job); deferred for a wait_for job until its waitee ended. */
  start?: () => void;
  /** The job's results once its thread ended (join() answers once). */
  final?: NativeJobResult;
  /** The job thread's sample clocks (ms): bandwidth, IOPS, latency-log windows (0 = none). */
  sampleMs: { bwMs: number; iopsMs: number; logWindowMs: number; perIo: boolean; histMs: number };
  /** fio's job number (thread_number): from 1, in start order over the run; the logs' N. */
  jobNumber: number;
  /** The interval records drained so far (BenchJob.drainSamples). */
  intervals: Float64Array[];
  /** The per-IO latency logs being written (log_avg_msec=0). */
  ioLatLog?: IoLogWriter;
  /** The histogram-log windows drained so far (BenchJob.drainHist). */
  hist: Float64Array[];
}

// Moves the records the job thread has taken into the job's list (the watch loop's tick,
// and once more after join).
function drainIntervals(x: Running): void {
  const a = x.job?.drainSamples();
  if (a && a.length) x.intervals.push(a);
  if (x.ioLatLog && x.job) x.ioLatLog.append(x.job.drainIos());
  if (x.sampleMs.histMs && x.job) {
    const h = x.job.drainHist();
    if (h.length) x.hist.push(h);
  }
}

// A direction's block size as fio's histogram log writes it: fixed, or 0.
function fixedBs(b: { min: number; max: number; split: unknown[] }): number {
  return b.min === b.max && b.split.length === 0 ? b.min : 0;
}

// A job's final results, joined once: an interval report taken after a job ended shows its
// final figures (fio's interval reports always carry every job of the group).
function finalOf(x: Running): NativeJobResult {
  if (!x.final) {
    x.final = x.job!.join();
    drainIntervals(x);
  }
  return x.final;
}

/** Splits jobs into reporting groups at each stonewall (fio's rule). */
export function groupJobs(jobs: JobSpec[]): JobSpec[][] {
  const groups: JobSpec[][] = [];
  for (const j of jobs) {
    if (groups.length === 0 || j.stonewall) groups.push([]);
    groups[groups.length - 1].push(j);
  }
  return groups;
}

/**
 * Each job's reporting group (fio's groupid): a stonewall or new_group job after at least
 * one job starts the next group. Without new_group it is the job's stonewall group.
 */
export function reportGroupIds(jobs: JobSpec[]): Map<JobSpec, number> {
  const ids = new Map<JobSpec, number>();
  let id = 0;
  jobs.forEach((j, i) => {
    if (i > 0 && (j.stonewall || j.newGroup)) id++;
    ids.set(j, id);
  });
  return ids;
}

function series(n: NativeDirection['clat']): DirectionResult['clat'] {
  return { count: n.count, min: n.min, max: n.max, sum: n.sum, sumSquares: n.sumSquares, bins: Array.from(n.bins) };
}

function direction(n: NativeDirection): DirectionResult {
  return { ios: n.ios, bytes: n.bytes, slat: series(n.slat), clat: series(n.clat), lat: series(n.lat) };
}

/** fio's EILSEQ: the error a job reports when data read back failed its verify check. */
export const VERIFY_ERRNO = 84;

// A job whose blocks failed verification has failed, as fio reports it (error 84,
// EILSEQ), with or without verify_fatal; an IO error seen first keeps its own code. With
// continue_on_error, a job that went on past its errors reports the first one (fio: "the
// error field given in the stats is the first error that was hit during the run") and has
// not failed; the counts are fio's total_err and first_error.
function jobError(n: NativeJobResult, plan: PlannedJob): { error: number; errorMessage?: string; errorCounts?: ErrorCounts } {
  const counting = (plan.errorCountTypes ?? 0) !== 0;
  const total = n.totalErrors ?? 0;
  const fatal = n.error !== 0 || (n.verifyErrors > 0 && !plan.continueVerify);
  const counts = counting ? { errorCounts: { total, first: n.firstError ?? 0, fatal } } : {};
  if (n.error) return { error: n.error, errorMessage: n.errorText, ...counts };
  if (counting && total > 0) return { error: n.firstError ?? 0, errorMessage: `${total} error(s) continued past (continue_on_error); the first: ${n.firstErrorText ?? ''}`, ...counts };
  if (n.verifyErrors === 0) return { error: 0, ...counts };
  const first = n.verifyFailures[0];
  const where = first ? `; the first at LBA ${first.lba}: ${first.reason}` : '';
  const what = plan.verifyInterval ? `verify interval(s) of ${plan.verifyInterval} bytes` : 'block(s)';
  return { error: VERIFY_ERRNO, errorMessage: `verify failed: ${n.verifyErrors} ${what} did not match what was written${where}`, ...counts };
}

// Whether a job ended in error (exitall_on_error): errors it went on past do not count, as
// fio clears them (td_clear_error).
function failed(n: NativeJobResult, plan: PlannedJob): boolean {
  const e = jobError(n, plan);
  return e.errorCounts ? e.errorCounts.fatal : e.error !== 0;
}

/**
 * Attaches what a job's interval samples give: fio's per-sample statistics per direction
 * and the timeline (no samples: nothing is attached).
 */
export function withSamples(r: JobResult, intervals: IntervalSample[], intervalMs: number): JobResult {
  if (intervals.length === 0) return r;
  const attach = (dir: DirectionResult, d: 'read' | 'write' | 'trim'): DirectionResult => {
    const s = directionSampleStats(intervals, d);
    return { ...dir, bwStat: s.bw, iopsStat: s.iops };
  };
  const timeline = timelineOf(intervals, intervalMs);
  return { ...r, read: attach(r.read, 'read'), write: attach(r.write, 'write'), ...(r.trim ? { trim: attach(r.trim, 'trim') } : {}), ...(timeline ? { timeline } : {}) };
}

/** Converts one native result (and the job's interval records, if any) into a report result. */
export function toJobResult(spec: JobSpec, plan: PlannedJob, groupId: number, n: NativeJobResult, intervals: Float64Array[] = [], intervalMs = jobSampleIntervals(spec).bwMs): JobResult {
  return withSamples(baseJobResult(spec, plan, groupId, n), decodeIntervals(intervals), intervalMs);
}

function baseJobResult(spec: JobSpec, plan: PlannedJob, groupId: number, n: NativeJobResult): JobResult {
  // A trim job's, trimwrite's, and a replayed log's trims (the log's mix is known only when it has run).
  const trims = plan.trim || plan.trimWrite === true || (n.trim !== undefined && n.trim.ios > 0);
  const ios = n.read.ios + n.write.ios + (trims && n.trim ? n.trim.ios : 0);
  const formats = [n.prpCommands ? 'prp' : '', n.sglCommands ? 'sgl' : '', n.splitCommands ? 'split' : ''].filter(Boolean);
  const { error, errorMessage, errorCounts } = jobError(n, plan);
  const read = direction(n.read);
  const write = direction(n.write);
  // A write job's read-back is a phase of its own: fio reports each direction over its
  // own phase (writes over the write phase, reads over the read-back), not the whole job.
  if (plan.readPercent === 0 && n.mainPhaseNs !== undefined && n.mainPhaseNs < n.runtimeNs) {
    write.runtimeNs = n.mainPhaseNs;
    read.runtimeNs = n.runtimeNs - n.mainPhaseNs;
  }
  return {
    name: spec.name,
    groupId,
    jobs: 1,
    error,
    errorMessage,
    runtimeNs: n.runtimeNs,
    read,
    write,
    ...(trims && n.trim ? { trim: direction(n.trim) } : {}),
    ...(n.sync && (plan.fsyncEvery || n.sync.ios > 0) ? { sync: { ios: n.sync.ios, lat: series(n.sync.lat) } } : {}),
    usrNs: n.usrNs,
    sysNs: n.sysNs,
    ctx: n.ctx,
    majf: n.majf,
    minf: n.minf,
    depthHist: n.depthHist,
    verify: spec.verify,
    verifyChecked: n.verifyChecked,
    verifyErrors: n.verifyErrors,
    ...(plan.verifyInterval ? { verifyInterval: plan.verifyInterval } : {}),
    verifyFailures: n.verifyFailures.map((f) => ({ lba: f.lba, reason: f.reason, expected: { lba: f.lba, seq: null, seed: plan.seed, kind: (Object.keys(VERIFY_KIND) as Array<keyof typeof VERIFY_KIND>).find((k) => VERIFY_KIND[k] === plan.verifyKind) ?? 'crc32c' }, found: f.found })),
    phyr: {
      dptr: formats.length ? formats.join('+') : 'none',
      prpCommands: n.prpCommands,
      sglCommands: n.sglCommands,
      splits: n.splitCommands,
      bounces: n.bounces,
      cpuNsPerIo: ios ? (n.usrNs + n.sysNs) / ios : 0,
      driverNsPerIo: n.driverNsPerIo,
      busyNsPerIo: ios ? n.busyNs / ios : 0,
    },
    percentileSeries: { ...spec.percentileSeries },
    ...(spec.significantFigures !== 4 ? { significantFigures: spec.significantFigures } : {}),
    ...(spec.unifiedRw !== 'none' ? { unifiedRw: spec.unifiedRw } : {}),
    options: jobOptions(spec),
    ...(errorCounts ? { errorCounts } : {}),
    latency: latencyResult(spec, n),
    header: { rw: spec.rw, bs: bsHeader(spec), iodepth: spec.iodepth },
    ...(n.intervalDrops ? { intervalDrops: n.intervalDrops } : {}),
    ...(n.ioLogStalls ? { ioLogStalls: { count: n.ioLogStalls, ns: n.ioLogStallNs ?? 0, dropped: n.ioLogDrops ?? 0 } } : {}),
  };
}

// fio's latency fields: the depth the search ended at (latency_depth; iodepth without a
// target), the options as fio holds them, and the search's decisions when there was one.
function latencyResult(spec: JobSpec, n: NativeJobResult): JobResult['latency'] {
  const l = spec.latency;
  return {
    depth: n.latencyDepth ?? spec.iodepth,
    targetNs: l.targetUs * 1000,
    windowUs: l.windowUs,
    percentile: l.percentile,
    ...(l.targetUs ? { steps: n.latencySteps ?? [], ...(n.latencyStepsDropped ? { stepsDropped: n.latencyStepsDropped } : {}) } : {}),
  };
}

function snapshot(running: Running[], prev: { t: number; r: number; w: number; ri: number; wi: number }, now: number): StatusSnapshot {
  const f = benchNative().progressFields;
  let r = 0, w = 0, ri = 0, wi = 0, live = 0, pct = 0, eta = 0;
  let states = '';
  for (const x of running) {
    const p = x.progress;
    r += p[f.readBytes];
    w += p[f.writeBytes];
    ri += p[f.readIos];
    wi += p[f.writeIos];
    const st = p[f.state];
    const done = st === JOB_STATE.done;
    if (!done) live++;
    const mixed = x.plan.readPercent > 0 && x.plan.readPercent < 100;
    states += done ? '_' : st === JOB_STATE.verifying ? 'V' : mixed ? 'm' : x.plan.readPercent === 100 ? (x.plan.random ? 'r' : 'R') : x.plan.random ? 'w' : 'W';
    // Progress: by time when time-limited, else by bytes.
    const elapsed = p[f.elapsedNs];
    const frac = done ? 1 : x.plan.runtimeNs ? Math.min(1, elapsed / x.plan.runtimeNs) : Math.min(1, (p[f.readBytes] + p[f.writeBytes]) / x.plan.ioBytes);
    pct += frac / running.length;
    const remaining = done ? 0 : x.plan.runtimeNs ? (x.plan.runtimeNs - elapsed) / 1e9 : frac > 0 ? (elapsed / 1e9) * (1 / frac - 1) : 0;
    eta = Math.max(eta, remaining);
  }
  const dt = Math.max(1e-3, (now - prev.t) / 1000);
  const s: StatusSnapshot = {
    running: live,
    states,
    percent: pct * 100,
    readBytesPerSec: (r - prev.r) / dt,
    writeBytesPerSec: (w - prev.w) / dt,
    readIops: (ri - prev.ri) / dt,
    writeIops: (wi - prev.wi) / dt,
    etaSeconds: eta,
  };
  Object.assign(prev, { t: now, r, w, ri, wi });
  return s;
}

/** Runs every group of jobs on `device`; returns one result per job clone (or per job with group_reporting). */
export async function runJobs(device: BenchDevice, jobs: JobSpec[], run: RunOptions, sink: StatusSink, signal?: AbortSignal): Promise<JobResult[]> {
  const native = benchNative();
  // fio's thread_number (from 1, in start order over the run) picks a split CPU.
  let threadNumber = 0;
  // read_iolog: each replaying thread's IOs, by its plan.
  const replays = new Map<PlannedJob, Float64Array>();
  const allowedCpus = jobs.some((j) => j.cpus) ? processCpus() : [];
  // Plan everything first: every impossible combination fails here, before any IO.
  const groups = groupJobs(jobs).map((g) =>
    g.map((spec) => {
      const ns = device.namespace(spec.nsid);
      const maxQueue = device.maxQueueSize();
      const cap = queueCapacity(maxQueue);
      if (spec.iodepth > cap) {
        throw new BenchConfigError(`job '${spec.name}': iodepth=${spec.iodepth} is beyond the queue size: this controller's queues hold at most ${maxQueue} entries, so at most ${cap} commands in flight per queue pair; use --iodepth=${cap} or less`);
      }
      const log: ReplayLog | undefined = spec.readIolog !== undefined ? readReplayLog(spec) : undefined;
      const plans = Array.from({ length: spec.numjobs }, (_, i) => {
        let plan = planJob(spec, ns, i);
        if (log) {
          const r = replayPlan(plan, log, ns, `job '${spec.name}': read_iolog=${spec.readIolog}`);
          plan = r.plan;
          replays.set(plan, r.replay);
        }
        const cpus = threadCpus(spec, ++threadNumber, allowedCpus);
        if (!cpus) return plan;
        const pinned = { ...plan, cpus };
        const replay = replays.get(plan);
        if (replay) replays.set(pinned, replay);
        return pinned;
      });
      return { spec, sampleMs: jobSampleIntervals(spec), plans };
    }),
  );
  for (const spec of jobs) {
    if (verifyPhaseNeverStarts(spec)) {
      sink.write(`phyr bench: job '${spec.name}': time_based writes for the whole runtime, so its verify read-back never starts: skipped, the written blocks are not checked (drop time_based, or read them back in a later job)\n`);
    }
  }
  const reportGroup = reportGroupIds(jobs);
  // fio's flow control: every job thread's weight is in its flow's total before any runs.
  const flows = flowCounters(groups.flatMap((g) => g.map(({ spec, plans }) => ({ spec, count: plans.length }))));
  // Steady-state options every group can be judged by, checked before the first group runs.
  groups.forEach((g, gi) => steadyStateEntries(g.flatMap(({ spec, plans }) => plans.map((plan) => ({ spec, plan, groupId: reportGroup.get(spec) ?? gi })))));
  // fio's wait_for names a job defined before the waiting one.
  jobs.forEach((j, i) => {
    if (j.waitFor !== undefined && !jobs.slice(0, i).some((w) => w.name === j.waitFor)) throw new BenchConfigError(`job '${j.name}': wait_for=${j.waitFor}: no job of that name is defined before it; name an earlier job`);
  });
  const results: JobResult[] = [];
  let jobNumber = 0;
  const logFiles = new Set<string>();
  // exitall with exit_what=all: once set, the later groups' jobs run no IO.
  const exitAll = { fired: false };
  for (let gi = 0; gi < groups.length; gi++) {
    const running: Running[] = [];
    try {
      for (const { spec, plans, sampleMs } of groups[gi]) {
        for (const plan of plans) {
          const queue = await device.createQueue(Math.min(queueSizeFor(plan.iodepth), device.maxQueueSize()), spec.dptr);
          let buffer: BenchBuffer;
          try {
            buffer = device.allocBuffer(plan.iodepth * plan.slotBytes, spec.mem);
          } catch (e) {
            await queue.close();
            throw e;
          }
          running.push({ spec, plan, groupId: reportGroup.get(spec) ?? gi, queue, buffer, progress: new Float64Array(native.progressFields.count), sampleMs, jobNumber: ++jobNumber, intervals: [], hist: [], ioLog: spec.writeIolog === undefined ? undefined : ioLogFor(plan, spec.name, replays.get(plan)), replay: replays.get(plan) });
        }
      }
      const registers = device.registers?.() ?? null;
      // Per-IO latency logs are written while the jobs run; their files exist from the start.
      for (const x of running) if (x.sampleMs.perIo) x.ioLatLog = new IoLogWriter(x.spec.logs, x.spec.name, x.jobNumber, logFiles);
      watchSteadyState(running);
      for (const x of running) {
        const b = x.buffer.bytes;
        x.start = () => {
          x.job = new native.BenchJob(x.queue.native, {
            ...x.plan, bufIova: x.buffer.iova, bufFlags: x.buffer.flags,
            // exit_what=all ended the run: the job is held in its start delay and stopped at
            // once, so it reports no IO (fio lists such a job with 0 IOs and runtime 0).
            ...(exitAll.fired ? { startDelayNs: 3600e9 } : {}),
            sampleIntervalNs: x.sampleMs.bwMs * 1e6,
            iopsIntervalNs: x.sampleMs.iopsMs !== x.sampleMs.bwMs ? x.sampleMs.iopsMs * 1e6 : 0,
            logWindowNs: x.sampleMs.logWindowMs * 1e6,
            perIoLog: x.sampleMs.perIo,
            histWindowNs: x.sampleMs.histMs * 1e6,
            ...nativeFlowParams(x.spec, flows),
          }, b ? (b.buffer as ArrayBuffer) : null, b ? b.byteOffset : 0, x.progress, registers, x.ioLog ?? null, x.replay ?? null);
        };
        if (!x.spec.waitFor) x.start();
        if (exitAll.fired) x.job?.stop();
      }
      await watch(running, run, sink, signal, (snap) => [...results, ...foldClones(running, snap)], exitAll);
      results.push(...foldClones(running, running.map((x) => toJobResult(x.spec, x.plan, x.groupId, finalOf(x), x.intervals, x.sampleMs.bwMs))));
      for (const x of running) {
        const note = x.job ? writeVerifyState(x.spec, x.jobNumber - 1, x.plan.iodepth, finalOf(x)) : undefined;
        if (note) sink.write(`${note}\n`);
      }
      for (const x of running) if (x.job && x.spec.verifyShaping.dump) for (const l of writeVerifyDumps(x.spec, x.plan.nsid, x.plan.lbaSize, finalOf(x).verifyFailures)) sink.write(`${l}\n`);
      for (const x of running) if (x.ioLog && x.spec.writeIolog !== undefined) writeIoLog(x.spec.writeIolog, x.plan.nsid, x.ioLog, finalOf(x).ioLogCount ?? 0);
      // fio's log files, from the records the job thread took (logs.ts).
      for (const x of running) if (x.job && writesLogs(x.spec.logs) && !x.sampleMs.perIo) writeJobLogs(x.spec.logs, x.spec.name, x.jobNumber, decodeIntervals(x.intervals), logFiles);
      for (const x of running) if (x.job && x.spec.logs.hist !== undefined) writeHistLog(x.spec.logs, x.spec.name, x.jobNumber, x.hist, [fixedBs(x.plan.readBs), fixedBs(x.plan.writeBs), fixedBs(x.plan.readBs)], logFiles);
    } finally {
      for (const x of running) {
        if (x.job && !x.job.done) {
          x.job.stop();
          try {
            x.job.join();
          } catch {
            /* already joined */
          }
        }
        x.buffer.free();
        await x.queue.close();
      }
    }
    if (signal?.aborted) break;
  }
  return results;
}

// group_reporting reports a reporting group as one entry, as fio does: consecutive job
// threads of the group that have it set fold into one result, named after the first job,
// counting the threads of all, whatever their rw or bs. A job without it stands alone.
// (fio 3.33 also folds a group_reporting job into a plain job just before it, naming the
// merged entry after the plain one, and then prints an extra all-zero entry; phyr keeps
// the plain job's figures apart instead.) `perClone` is in `running` order.
function foldClones(running: Running[], perClone: Array<JobResult | undefined>): JobResult[] {
  const entries: JobResult[][] = [];
  running.forEach((x, i) => {
    if (startsEntry(running, i)) entries.push([]);
    const r = perClone[i];
    if (r) entries[entries.length - 1].push(r);
  });
  const folded = entries.map((e) => (e.length > 1 ? mergeResults(e) : e[0]));
  // A reporting entry's steady-state findings so far (final once its threads have ended).
  running.filter((x, i) => startsEntry(running, i)).forEach((x, e) => {
    if (x.steady && folded[e]) folded[e] = { ...folded[e], steadystate: x.steady.watch.window.result() };
  });
  return folded.filter((r): r is JobResult => r !== undefined);
}

// group_reporting folds consecutive jobs of one reporting group (new_group splits them).
function startsEntry(list: ReadonlyArray<Pick<Running, 'spec' | 'groupId'>>, i: number): boolean {
  const x = list[i];
  return i === 0 || !x.spec.groupReporting || !list[i - 1].spec.groupReporting || x.groupId !== list[i - 1].groupId;
}

/** A reporting entry with a steady-state check: its options and its job threads. */
interface SteadyMembers<T> {
  spec: SteadyStateSpec;
  members: T[];
}

// fio's steadystate: one check per reporting entry (a group_reporting entry sums the rates
// of its threads, as fio sums a group's); throws when an entry's check cannot be judged.
function steadyStateEntries<T extends Pick<Running, 'spec' | 'groupId' | 'plan'>>(list: T[]): Array<SteadyMembers<T>> {
  const entries: T[][] = [];
  list.forEach((x, i) => (startsEntry(list, i) ? entries.push([x]) : entries[entries.length - 1].push(x)));
  const out: Array<SteadyMembers<T>> = [];
  for (const members of entries) {
    const spec = members[0].spec.steadystate;
    if (members.some((x) => JSON.stringify(x.spec.steadystate) !== JSON.stringify(spec))) throw new BenchConfigError(`job '${members[0].spec.name}': steadystate options must be the same for every job of a group_reporting group (fio's rule); give them in [global] or to each job alike`);
    if (!spec || spec.durationS === 0) continue;
    const problem = steadyStateProblem(spec, members.some((x) => x.plan.trim || x.plan.trimWrite === true));
    if (problem) throw new BenchConfigError(`job '${members[0].spec.name}': ${problem}`);
    out.push({ spec, members });
  }
  return out;
}

/** One reporting entry's steady-state check and the job threads it ends. */
interface SteadyEntry {
  watch: SteadyStateWatch;
  clones: Running[];
}

// Gives each reporting entry with a steady-state check its watch (on its first thread).
function watchSteadyState(running: Running[]): void {
  const f = benchNative().progressFields;
  for (const e of steadyStateEntries(running)) e.members[0].steady = { watch: new SteadyStateWatch(e.spec, e.members.map((x) => x.progress), f, JOB_STATE.running), clones: e.members };
}

// Steady state reached: the entry's threads end now, as fio ends the job.
function pollSteadyState(running: Running[]): void {
  for (const x of running) if (x.steady?.watch.poll()) for (const c of x.steady.clones) if (c.job && !c.job.done) c.job.stop();
}

// The clones' results so far: a running clone's snapshot, an ended clone's final results (a
// running clone whose thread did not answer in time is left out).
function snapshotResults(running: Running[]): Array<JobResult | undefined> {
  return running.map((x) => {
    // A wait_for job not started yet has nothing to report.
    if (!x.job) return undefined;
    const n = x.job.done ? finalOf(x) : x.job.snapshot();
    if (!x.final) drainIntervals(x);
    return n ? toJobResult(x.spec, x.plan, x.groupId, n, x.intervals, x.sampleMs.bwMs) : undefined;
  });
}

async function watch(
  running: Running[],
  run: RunOptions,
  sink: StatusSink,
  signal: AbortSignal | undefined,
  soFar: (perClone: Array<JobResult | undefined>) => JobResult[],
  exitAll: { fired: boolean },
): Promise<void> {
  const live = wantLiveLine(run.eta, sink.isTty);
  const prevLive = { t: Date.now(), r: 0, w: 0, ri: 0, wi: 0 };
  const prevPeriodic = { t: Date.now(), r: 0, w: 0, ri: 0, wi: 0 };
  let lastPeriodic = Date.now();
  let lastLive = 0;
  const f = benchNative().progressFields;
  for (;;) {
    // wait_for: a job starts once every thread of its waitee in this group has ended (a
    // waitee of an earlier group has); an aborted run starts it only to stop it, so that
    // it still reports (no IO).
    for (const x of running) {
      if (x.job || !x.start) continue;
      if (signal?.aborted || exitAll.fired || running.every((w) => w.spec.name !== x.spec.waitFor || w.job?.done)) x.start();
    }
    if (signal?.aborted || exitAll.fired) for (const x of running) x.job?.stop();
    pollSteadyState(running);
    if (running.every((x) => x.job?.done)) break;
    // exitall (fio's default exit_what=group): a job with it that has ended stops the
    // running jobs of its reporting group; the next stonewall group still runs, as in fio.
    // exitall_on_error: a job with it that ended in error (an IO error or failed verify)
    // stops every running job, whatever its group.
    if (running.some((e) => e.spec.exitallOnError && e.job?.done && failed(finalOf(e), e.plan))) for (const x of running) if (x.job && !x.job.done) x.job.stop();
    // exit_what=stonewall stops every running job (any reporting group), all those and the
    // later groups' too.
    for (const e of running) {
      if (!e.spec.exitall || !e.job?.done) continue;
      if (e.spec.exitWhat === 'all') exitAll.fired = true;
      for (const x of running) if ((e.spec.exitWhat !== 'group' || x.groupId === e.groupId) && x.job && !x.job.done) x.job.stop();
    }
    await new Promise((r) => setTimeout(r, 50));
    // The job threads' interval records, drained every tick: the ring holds a minute of them.
    for (const x of running) if (x.job && !x.final) drainIntervals(x);
    const now = Date.now();
    if (live && now - lastLive >= 500) {
      sink.write(`\r${formatStatusLine(snapshot(running, prevLive, now))}\x1b[K`);
      lastLive = now;
    }
    if (run.statusIntervalNs > 0 && (now - lastPeriodic) * 1e6 >= run.statusIntervalNs) {
      lastPeriodic = now;
      if (sink.dump) {
        if (live) sink.write('\r\x1b[K');
        // A tick that finds every job already ended has nothing to report: the final
        // report follows at once (a report with no jobs in it would be a false one).
        const results = soFar(snapshotResults(running));
        if (results.length) sink.dump(results);
        continue;
      }
      const s = snapshot(running, prevPeriodic, now);
      const totals = running.map((x) => `${x.spec.name}: ios=${x.progress[f.readIos] + x.progress[f.writeIos]}, bytes=${x.progress[f.readBytes] + x.progress[f.writeBytes]}, elapsed=${(x.progress[f.elapsedNs] / 1e9).toFixed(1)}s`);
      sink.write(`${live ? '\r\x1b[K' : ''}${formatStatusLine(s)}\n  ${totals.join('\n  ')}\n`);
    }
  }
  if (live) sink.write('\r\x1b[K');
}

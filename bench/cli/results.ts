// What a finished job reports, and the statistics computed from its native histograms
// (percentiles, means, fio's latency buckets). Histograms cross from C++ as the
// non-empty buckets only: (value ns, count) pairs.
import type { SteadyStateResult } from './steadystate';
import type { LatencyTargetResult } from './latency-target';
import type { PercentileSeries, UnifiedRw } from './job';
import { mergeTimelines, sumStats, type SampleStat, type Timeline } from './samples';

export type { SampleStat, Timeline } from './samples';

/** One latency series (slat, clat or lat) of one direction. */
export interface LatencySeries {
  count: number;
  min: number;
  max: number;
  sum: number;
  sumSquares: number;
  /** Non-empty histogram buckets as [valueNs, count, valueNs, count, ...], ascending. */
  bins: number[];
}

/** One direction (read or write) of a job. */
export interface DirectionResult {
  ios: number;
  bytes: number;
  /**
   * The time of the phase this direction ran in, when it is not the whole job's: a write
   * job's verify read-back reports its reads over the read-back alone and its writes over
   * the write phase alone, as fio does. Absent: the job's runtime.
   */
  runtimeNs?: number;
  slat: LatencySeries;
  clat: LatencySeries;
  lat: LatencySeries;
  /** fio's per-interval bandwidth (KiB/s) and IOPS samples' statistics; absent: the job took none. */
  bwStat?: SampleStat;
  iopsStat?: SampleStat;
}

/** phyr's additions to fio's report. */
export interface PhyrJobStats {
  /** Data-pointer format the driver chose ('prp', 'sgl', or a mix like 'prp+sgl'). */
  dptr: string;
  prpCommands: number;
  sglCommands: number;
  splits: number;
  bounces: number;
  /** Thread CPU time per IO (user + system): loop, driver, histograms — and polling an empty queue. */
  cpuNsPerIo: number;
  /** Time per IO inside the driver's submit, doorbell and non-empty reap calls (TSC, sampled 1 pass in 16). */
  driverNsPerIo: number;
  /** Time per IO of loop passes that did work: driver + offsets + timestamps + histograms + verify. */
  busyNsPerIo: number;
}

/** A verify failure as the native loop saw it. */
export interface VerifyFailure {
  lba: number;
  reason: string;
  /** kind: the checksum the header should hold / holds ('crc32c', 'md5'). */
  expected: { lba: number; seq: number | null; seed: number; kind?: string };
  found: { magic: number; lba: number; seq: number; seed: number; kind?: string };
}

/** Everything one job thread reports. */
export interface JobResult {
  name: string;
  groupId: number;
  /** Number of job threads merged into this result (1 unless group_reporting). */
  jobs: number;
  error: number;
  errorMessage?: string;
  runtimeNs: number;
  read: DirectionResult;
  write: DirectionResult;
  /** The Flushes of fsync=N / fdatasync=N (fio's "sync"); absent: none were asked for. */
  sync?: { ios: number; lat: LatencySeries };
  /** What fio's steady-state check found (steadystate with ss_dur > 0); absent: not asked for. */
  steadystate?: SteadyStateResult;
  /** Trims (Dataset Management deallocates); absent: the job issued none. */
  trim?: DirectionResult;
  usrNs: number;
  sysNs: number;
  ctx: number;
  /** Major / minor page faults of the job thread(s) while measuring (getrusage of the thread). */
  majf: number;
  minf: number;
  /** Submissions by in-flight depth after the submit: 1, 2, 4, 8, 16, 32, >=64. */
  depthHist: number[];
  /** The verify checksum of the job ('none' without verify). */
  verify: string;
  /** Verify headers checked and failed: one per logical block, or per verifyInterval bytes. */
  verifyChecked: number;
  verifyErrors: number;
  /** verify_interval when given: the bytes each header (and count above) covers. */
  verifyInterval?: number;
  verifyFailures: VerifyFailure[];
  phyr: PhyrJobStats;
  /** Per-interval rates and percentiles (jobs[i].phyr.timeline); absent: no samples. */
  timeline?: Timeline;
  /** Interval records the job thread's sample ring had no room for (0 or absent: none). */
  intervalDrops?: number;
  /** Per-IO latency log: the job thread waited for the JS thread to drain its ring this often, this long; dropped: IOs left out when stopped while waiting. */
  ioLogStalls?: { count: number; ns: number; dropped: number };
  /** fio's unified_rw_reporting; absent: none. */
  unifiedRw?: UnifiedRw;
  /** fio's significant_figures for the normal output's numbers; absent: 4. */
  significantFigures?: number;
  /** The series reported with percentiles; absent: clat only (fio's default). */
  percentileSeries?: PercentileSeries;
  /** The job's options as written (fio's "job options"). */
  options: Record<string, string>;
  /**
   * fio's continue_on_error counts (present when the option is set, as fio writes
   * total_err and first_error only then): the errors of the counted types, continued past or
   * not, the first one's code, and whether the job ended on an error (fatal) rather than
   * going on past every one.
   */
  errorCounts?: ErrorCounts;
  /** fio's latency target fields (latency_depth, _target, _percentile, _window); absent: a job without them (depth = iodepth). */
  latency?: LatencyTargetResult;
  /** Pretty strings for the job header line. */
  header: { rw: string; bs: string; iodepth: number };
  /**
   * The distinct jobs merged into this result by group_reporting, in order, each with its
   * header line (fio still prints one header line per job); absent: just this job.
   */
  sections?: Array<{ name: string; header: JobResult['header'] }>;
}

/** fio's total_err and first_error, and whether the job failed. */
export interface ErrorCounts {
  total: number;
  first: number;
  fatal: boolean;
}

/**
 * Whether a job failed (the exit status is 1): an error, or blocks that failed their
 * verify check; with continue_on_error only an error the job did not go on past, as fio
 * exits 0 once every error was continued past (the report still carries them).
 */
export function jobFailed(r: JobResult): boolean {
  if (r.errorCounts) return r.errorCounts.fatal;
  return r.error !== 0 || r.verifyErrors > 0;
}

/** An empty latency series. */
export function emptySeries(): LatencySeries {
  return { count: 0, min: 0, max: 0, sum: 0, sumSquares: 0, bins: [] };
}

/** An empty direction. */
export function emptyDirection(): DirectionResult {
  return { ios: 0, bytes: 0, slat: emptySeries(), clat: emptySeries(), lat: emptySeries() };
}

/** The runtime a direction's figures (bandwidth, IOPS, run=) are over. */
export function directionRuntimeNs(r: JobResult, d: 'read' | 'write' | 'trim'): number {
  return directionOf(r, d).runtimeNs ?? r.runtimeNs;
}

const NO_TRIMS: DirectionResult = emptyDirection();

/** A direction of a result; a job that issued no trims has an empty trim direction. */
export function directionOf(r: JobResult, d: 'read' | 'write' | 'trim'): DirectionResult {
  return d === 'trim' ? (r.trim ?? NO_TRIMS) : r[d];
}

/**
 * fio's "mixed" direction (unified_rw_reporting): reads, writes and trims summed, their
 * latencies merged, over the job's whole runtime.
 */
export function mixedDirection(r: JobResult): DirectionResult {
  const all = [r.read, r.write, ...(r.trim ? [r.trim] : [])];
  return {
    ios: all.reduce((a, d) => a + d.ios, 0),
    bytes: all.reduce((a, d) => a + d.bytes, 0),
    runtimeNs: Math.max(r.runtimeNs, ...all.map((d) => d.runtimeNs ?? 0)),
    slat: mergeSeries(all.map((d) => d.slat)),
    clat: mergeSeries(all.map((d) => d.clat)),
    lat: mergeSeries(all.map((d) => d.lat)),
    ...sampleStatsOf(all),
  };
}

// fio adds up the sample statistics of merged directions and jobs (sum_stat, pure_sum).
function sampleStatsOf(list: DirectionResult[]): Pick<DirectionResult, 'bwStat' | 'iopsStat'> {
  if (!list.some((d) => d.bwStat || d.iopsStat)) return {};
  return { bwStat: sumStats(list.map((d) => d.bwStat)), iopsStat: sumStats(list.map((d) => d.iopsStat)) };
}

/** IOs of every direction (reads, writes, trims). */
export function totalIos(r: JobResult): number {
  return r.read.ios + r.write.ios + (r.trim?.ios ?? 0);
}

/** Mean of a series (0 when empty). */
export function mean(s: LatencySeries): number {
  return s.count ? s.sum / s.count : 0;
}

/** Sample standard deviation (n - 1), as fio prints it. */
export function stddev(s: LatencySeries): number {
  if (s.count < 2) return 0;
  const m = s.sum / s.count;
  const v = (s.sumSquares - s.count * m * m) / (s.count - 1);
  return v > 0 ? Math.sqrt(v) : 0;
}

/** The value at percentile p: the bucket holding the ceil(p% * count)-th sample. */
export function percentile(s: LatencySeries, p: number): number {
  if (s.count === 0) return 0;
  // The epsilon keeps 99.9 % of 1000 at rank 999 despite binary floating point.
  const rank = Math.max(1, Math.ceil((p / 100) * s.count - 1e-9));
  let seen = 0;
  for (let i = 0; i < s.bins.length; i += 2) {
    seen += s.bins[i + 1];
    if (seen >= rank) return Math.min(Math.max(s.bins[i], s.min), s.max);
  }
  return s.max;
}

/** Merges series (group reporting, group summaries). */
export function mergeSeries(list: LatencySeries[]): LatencySeries {
  const live = list.filter((s) => s.count > 0);
  const counts = new Map<number, number>();
  for (const s of live) for (let i = 0; i < s.bins.length; i += 2) counts.set(s.bins[i], (counts.get(s.bins[i]) ?? 0) + s.bins[i + 1]);
  const bins: number[] = [];
  for (const v of [...counts.keys()].sort((a, b) => a - b)) bins.push(v, counts.get(v)!);
  return {
    count: live.reduce((a, s) => a + s.count, 0),
    min: live.length ? Math.min(...live.map((s) => s.min)) : 0,
    max: live.length ? Math.max(...live.map((s) => s.max)) : 0,
    sum: live.reduce((a, s) => a + s.sum, 0),
    sumSquares: live.reduce((a, s) => a + s.sumSquares, 0),
    bins,
  };
}

/** Merges job results into one (group_reporting). */
export function mergeResults(list: JobResult[]): JobResult {
  const first = list[0];
  // A merged direction's runtime is its longest member's, as fio sums a group's threads.
  const phased = (d: 'read' | 'write') => (list.some((r) => r[d].runtimeNs !== undefined) ? { runtimeNs: Math.max(...list.map((r) => directionRuntimeNs(r, d))) } : {});
  const dir = (d: 'read' | 'write'): DirectionResult => ({
    ios: list.reduce((a, r) => a + r[d].ios, 0),
    bytes: list.reduce((a, r) => a + r[d].bytes, 0),
    ...phased(d),
    slat: mergeSeries(list.map((r) => r[d].slat)),
    clat: mergeSeries(list.map((r) => r[d].clat)),
    lat: mergeSeries(list.map((r) => r[d].lat)),
    ...sampleStatsOf(list.map((r) => r[d])),
  });
  const sum = (f: (r: JobResult) => number) => list.reduce((a, r) => a + f(r), 0);
  const ios = sum(totalIos);
  const dptrs = [...new Set(list.map((r) => r.phyr.dptr).filter((d) => d !== 'none'))];
  return {
    ...first,
    jobs: sum((r) => r.jobs),
    error: list.find((r) => r.error)?.error ?? 0,
    errorMessage: list.find((r) => r.errorMessage)?.errorMessage,
    runtimeNs: Math.max(...list.map((r) => r.runtimeNs)),
    read: dir('read'),
    write: dir('write'),
    ...(list.some((r) => r.trim) ? { trim: { ios: sum((r) => r.trim?.ios ?? 0), bytes: sum((r) => r.trim?.bytes ?? 0), slat: mergeSeries(list.flatMap((r) => (r.trim ? [r.trim.slat] : []))), clat: mergeSeries(list.flatMap((r) => (r.trim ? [r.trim.clat] : []))), lat: mergeSeries(list.flatMap((r) => (r.trim ? [r.trim.lat] : []))), ...sampleStatsOf(list.flatMap((r) => (r.trim ? [r.trim] : []))) } } : {}),
    ...(list.some((r) => r.sync) ? { sync: { ios: sum((r) => r.sync?.ios ?? 0), lat: mergeSeries(list.flatMap((r) => (r.sync ? [r.sync.lat] : []))) } } : {}),
    usrNs: sum((r) => r.usrNs),
    sysNs: sum((r) => r.sysNs),
    ctx: sum((r) => r.ctx),
    majf: sum((r) => r.majf),
    minf: sum((r) => r.minf),
    depthHist: first.depthHist.map((_, i) => sum((r) => r.depthHist[i])),
    verifyChecked: sum((r) => r.verifyChecked),
    verifyErrors: sum((r) => r.verifyErrors),
    // The counts' unit, when every member counts in the same one.
    ...(first.verifyInterval && list.every((r) => r.verifyInterval === first.verifyInterval) ? { verifyInterval: first.verifyInterval } : {}),
    verifyFailures: list.flatMap((r) => r.verifyFailures),
    timeline: mergeTimelines(list.map((r) => r.timeline)),
    intervalDrops: sum((r) => r.intervalDrops ?? 0),
    ...(list.some((r) => r.errorCounts) ? { errorCounts: { total: sum((r) => r.errorCounts?.total ?? 0), first: list.find((r) => r.errorCounts?.first)?.errorCounts?.first ?? 0, fatal: list.some((r) => (r.errorCounts ? r.errorCounts.fatal : jobFailed(r))) } } : {}),
    ...(list.some((r) => r.ioLogStalls) ? { ioLogStalls: { count: sum((r) => r.ioLogStalls?.count ?? 0), ns: sum((r) => r.ioLogStalls?.ns ?? 0), dropped: sum((r) => r.ioLogStalls?.dropped ?? 0) } } : {}),
    sections: list.flatMap((r) => r.sections ?? [{ name: r.name, header: r.header }]).filter((x, i, all) => all.findIndex((y) => y.name === x.name) === i),
    // fio reports a merged entry with the options of the last job folded into it.
    options: list[list.length - 1].options,
    // fio sets a group's latency fields from each job in turn: the last one's stand.
    ...(list[list.length - 1].latency ? { latency: list[list.length - 1].latency } : {}),
    phyr: {
      dptr: dptrs.length ? dptrs.join('+') : 'none',
      prpCommands: sum((r) => r.phyr.prpCommands),
      sglCommands: sum((r) => r.phyr.sglCommands),
      splits: sum((r) => r.phyr.splits),
      bounces: sum((r) => r.phyr.bounces),
      cpuNsPerIo: ios ? sum((r) => r.usrNs + r.sysNs) / ios : 0,
      driverNsPerIo: ios ? sum((r) => r.phyr.driverNsPerIo * totalIos(r)) / ios : 0,
      busyNsPerIo: ios ? sum((r) => r.phyr.busyNsPerIo * totalIos(r)) / ios : 0,
    },
  };
}

/** fio's latency bucket edges (io_u_lat_n/u/m): each counts latencies <= edge, > previous. */
export const LAT_EDGES = [2, 4, 10, 20, 50, 100, 250, 500, 750, 1000];
export const LAT_EDGES_MS = [...LAT_EDGES, 2000];

/** Percent of IOs per fio latency bucket, from the total-latency histogram. */
export function latencyBuckets(s: LatencySeries): { ns: Record<string, number>; us: Record<string, number>; ms: Record<string, number> } {
  const scales: Array<[number, number[]]> = [[1, LAT_EDGES], [1e3, LAT_EDGES], [1e6, LAT_EDGES_MS]];
  const out = scales.map(([scale, edges]) => {
    const o: Record<string, number> = {};
    for (const e of edges) o[String(e)] = 0;
    if (scale === 1e6) o['>=2000'] = 0;
    return o;
  });
  for (let i = 0; i < s.bins.length; i += 2) {
    const v = s.bins[i];
    const share = (100 * s.bins[i + 1]) / Math.max(1, s.count);
    // Scale: ns below 1 us, us below 1 ms, ms otherwise (fio's io_u_lat_n/u/m split).
    const k = v < 1e3 ? 0 : v < 1e6 ? 1 : 2;
    const [scale, edges] = scales[k];
    const x = v / scale;
    const edge = edges.find((e) => x <= e);
    const key = edge === undefined ? '>=2000' : String(edge);
    out[k][key] += share;
  }
  return { ns: out[0], us: out[1], ms: out[2] };
}

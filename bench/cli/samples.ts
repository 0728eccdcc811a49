// A job's interval samples (fio's bandwidth and IOPS samples, every bw_avg_time /
// iops_avg_time ms), as the job thread records them (bench/native/sampler.h): fio's
// per-sample statistics (bw_min ... iops_samples) and phyr's timeline (jobs[i].phyr.timeline)
// are computed here from the same records.

/** fio's io_stat over per-interval samples (bw in KiB/s, iops in IOs/s): count, min, max, running mean and S (Welford). */
export interface SampleStat {
  samples: number;
  min: number;
  max: number;
  mean: number;
  S: number;
}

/** One direction of a timeline: per-second rates over each interval, and its clat percentiles (null: no IO in it). */
export interface TimelineDirection {
  iops: number[];
  bw_bytes: number[];
  clat_p50_ns: Array<number | null>;
  clat_p99_ns: Array<number | null>;
  clat_p99_9_ns: Array<number | null>;
}

/** jobs[i].phyr.timeline (CONTRACT-14): what the job thread measured interval by interval. */
export interface Timeline {
  /** The sampling interval (fio's bw_avg_time / iops_avg_time). */
  interval_ms: number;
  /** End of each interval, ms since the job's measured phase began. */
  t_ms: number[];
  /** A direction with no IO in the whole job is left out. */
  read?: TimelineDirection;
  write?: TimelineDirection;
  trim?: TimelineDirection;
}

/** Which clock took a record (sampler.h IntervalKind). */
export const INTERVAL_KIND = { stats: 0, logWindow: 1, iopsStats: 2 } as const;

/** One interval as the engine records it (sampler.h IntervalRecord). */
export interface IntervalSample {
  /** INTERVAL_KIND: bandwidth (and IOPS) samples, a latency-log window, or IOPS samples apart. */
  kind: number;
  /** End of the interval, ns since the job's measured phase began. */
  tEndNs: number;
  /** Its length in ns. */
  spanNs: number;
  /** Read, write, trim: IOs and bytes completed in the interval. */
  ios: [number, number, number];
  bytes: [number, number, number];
  /** The interval's clat percentiles in ns per direction; null: it completed none. */
  clatP50Ns: Array<number | null>;
  clatP99Ns: Array<number | null>;
  clatP999Ns: Array<number | null>;
  /** Sums of the interval's latencies in ns per direction; slat counts per submitted IO, clat and lat per completed one. */
  slatSumNs: [number, number, number];
  slatCount: [number, number, number];
  clatSumNs: [number, number, number];
  latSumNs: [number, number, number];
}

/** Doubles per record in the arrays BenchJob.drainSamples returns. */
export const INTERVAL_FIELDS = 30;

/** Decodes drained record arrays (30 doubles each: sampler.h's field order). */
export function decodeIntervals(chunks: Float64Array[]): IntervalSample[] {
  const out: IntervalSample[] = [];
  const pct = (v: number) => (v < 0 ? null : v);
  for (const a of chunks) {
    for (let o = 0; o + INTERVAL_FIELDS <= a.length; o += INTERVAL_FIELDS) {
      out.push({
        tEndNs: a[o],
        spanNs: a[o + 1],
        ios: [a[o + 2], a[o + 3], a[o + 4]],
        bytes: [a[o + 5], a[o + 6], a[o + 7]],
        clatP50Ns: [pct(a[o + 8]), pct(a[o + 9]), pct(a[o + 10])],
        clatP99Ns: [pct(a[o + 11]), pct(a[o + 12]), pct(a[o + 13])],
        clatP999Ns: [pct(a[o + 14]), pct(a[o + 15]), pct(a[o + 16])],
        slatSumNs: [a[o + 17], a[o + 18], a[o + 19]],
        slatCount: [a[o + 20], a[o + 21], a[o + 22]],
        clatSumNs: [a[o + 23], a[o + 24], a[o + 25]],
        latSumNs: [a[o + 26], a[o + 27], a[o + 28]],
        kind: a[o + 29],
      });
    }
  }
  return out;
}

/** A statistic with no samples. */
export function emptyStat(): SampleStat {
  return { samples: 0, min: 0, max: 0, mean: 0, S: 0 };
}

// fio's add_stat_sample (stat.h): running min, max, mean and S (Welford).
function addSample(s: SampleStat, v: number): void {
  if (s.samples === 0 || v < s.min) s.min = v;
  if (v > s.max) s.max = v;
  const delta = v - s.mean;
  if (delta) {
    s.mean += delta / (s.samples + 1);
    s.S += delta * (v - s.mean);
  }
  s.samples++;
}

const DIR_INDEX = { read: 0, write: 1, trim: 2 } as const;

/**
 * fio's bandwidth (KiB/s) and IOPS samples of one direction, as stat.c __add_samples takes
 * them: an interval that moved nothing in the direction is no sample; the rate is integer,
 * delta x 1000 / elapsed whole ms (/ 1024 for KiB/s).
 */
export function directionSampleStats(intervals: IntervalSample[], d: keyof typeof DIR_INDEX): { bw: SampleStat; iops: SampleStat } {
  const i = DIR_INDEX[d];
  const bw = emptyStat(), iops = emptyStat();
  // IOPS from their own records when their clock ran apart, else from the bandwidth ones.
  const iopsKind = intervals.some((x) => x.kind === INTERVAL_KIND.iopsStats) ? INTERVAL_KIND.iopsStats : INTERVAL_KIND.stats;
  for (const x of intervals) {
    if (x.kind === INTERVAL_KIND.stats && x.bytes[i] > 0) addSample(bw, bwRate(x, i));
    if (x.kind === iopsKind && x.ios[i] > 0) addSample(iops, iopsRate(x, i));
  }
  return { bw, iops };
}

/** fio's integer bandwidth rate of an interval in KiB/s: bytes x 1000 / whole ms / 1024. */
export function bwRate(x: IntervalSample, i: number): number {
  const spentMs = Math.floor(x.spanNs / 1e6);
  return spentMs ? Math.floor(Math.floor((x.bytes[i] * 1000) / spentMs) / 1024) : 0;
}

/** fio's integer IOPS rate of an interval: IOs x 1000 / whole ms. */
export function iopsRate(x: IntervalSample, i: number): number {
  const spentMs = Math.floor(x.spanNs / 1e6);
  return spentMs ? Math.floor((x.ios[i] * 1000) / spentMs) : 0;
}

/** The records of one clock. */
export function ofKind(intervals: IntervalSample[], kind: number): IntervalSample[] {
  return intervals.filter((x) => x.kind === kind);
}

/**
 * fio's sum_stat with pure_sum (group_reporting, and unified_rw_reporting's mixed
 * direction): min, max, mean, S and samples are added up, so a group's bw_min is the sum
 * of its jobs' minimums.
 */
export function sumStats(list: Array<SampleStat | undefined>): SampleStat {
  const live = list.filter((s): s is SampleStat => s !== undefined && s.samples > 0);
  return live.reduce((a, s) => ({ samples: a.samples + s.samples, min: a.min + s.min, max: a.max + s.max, mean: a.mean + s.mean, S: a.S + s.S }), emptyStat());
}

/** fio's calc_lat on a sample statistic: the sample standard deviation (n - 1). */
export function statDev(s: SampleStat): number {
  return s.samples > 1 ? Math.sqrt(s.S / (s.samples - 1)) : 0;
}

/**
 * The timeline of CONTRACT-14 (jobs[i].phyr.timeline): per-second rates and clat
 * percentiles per interval; a direction with no IO in the whole job is left out; undefined
 * when the job took no samples.
 */
export function timelineOf(all: IntervalSample[], intervalMs: number): Timeline | undefined {
  const intervals = ofKind(all, INTERVAL_KIND.stats);
  if (intervals.length === 0) return undefined;
  const t: Timeline = { interval_ms: intervalMs, t_ms: intervals.map((x) => Math.round(x.tEndNs / 1e6)) };
  for (const d of ['read', 'write', 'trim'] as const) {
    const i = DIR_INDEX[d];
    if (!intervals.some((x) => x.ios[i] > 0)) continue;
    const rate = (v: number, x: IntervalSample) => (x.spanNs > 0 ? (v * 1e9) / x.spanNs : 0);
    t[d] = {
      iops: intervals.map((x) => rate(x.ios[i], x)),
      bw_bytes: intervals.map((x) => rate(x.bytes[i], x)),
      clat_p50_ns: intervals.map((x) => x.clatP50Ns[i]),
      clat_p99_ns: intervals.map((x) => x.clatP99Ns[i]),
      clat_p99_9_ns: intervals.map((x) => x.clatP999Ns[i]),
    };
  }
  return t;
}

/**
 * Timelines of merged jobs (group_reporting): rates summed interval by interval (the
 * clones' intervals start together and have the same length, so the n-th intervals cover
 * about the same time); percentiles null, since the clones' interval histograms are not
 * kept and percentiles do not add.
 */
export function mergeTimelines(list: Array<Timeline | undefined>): Timeline | undefined {
  const live = list.filter((t): t is Timeline => t !== undefined);
  if (live.length === 0) return undefined;
  if (live.length === 1) return live[0];
  const longest = live.reduce((a, t) => (t.t_ms.length > a.t_ms.length ? t : a));
  const n = longest.t_ms.length;
  const out: Timeline = { interval_ms: longest.interval_ms, t_ms: [...longest.t_ms] };
  for (const d of ['read', 'write', 'trim'] as const) {
    const parts = live.map((t) => t[d]).filter((x): x is TimelineDirection => x !== undefined);
    if (!parts.length) continue;
    const sum = (k: 'iops' | 'bw_bytes') => Array.from({ length: n }, (_, i) => parts.reduce((a, p) => a + (p[k][i] ?? 0), 0));
    const none = Array.from({ length: n }, () => null);
    out[d] = { iops: sum('iops'), bw_bytes: sum('bw_bytes'), clat_p50_ns: none, clat_p99_ns: [...none], clat_p99_9_ns: [...none] };
  }
  return out;
}

// The charts' data: from the inputs to series of points, one builder per chart. Nothing
// here draws; svg.ts turns a Chart into SVG. A chart with no series carries the reason.
import { FIO_PERCENTILES, FIO_PLAT_NR, histColumnValues, percentileOf, platIdxToVal } from './fio-buckets';
import { DIRECTIONS, type Direction, type LogFile, type LogSample, type PlotInput, type Timeline, type TimelineDirection } from './types';

/** How an axis maps values: linear, log10, or the percentile tail scale -log10(1 - p/100). */
export type ScaleKind = 'linear' | 'log' | 'tail';
/** What an axis's values are, for tick labels. */
export type Unit = 'seconds' | 'iops' | 'bytes_per_s' | 'ns' | 'percent' | 'percentile';

/** One axis of a chart. */
export interface Axis {
  label: string;
  scale: ScaleKind;
  unit: Unit;
}

/** One plotted line; `null` y values break it (an interval with no IO). */
export interface Series {
  label: string;
  /** Index of the input it comes from: its colour. */
  input: number;
  /** Index among its input's series in this chart: its dash pattern. */
  style: number;
  points: Array<[number, number | null]>;
}

/** One chart of the page. */
export interface Chart {
  id: string;
  title: string;
  x: Axis;
  y: Axis;
  series: Series[];
  /** Said in the frame when `series` is empty: why there is nothing to draw. */
  empty: string;
  /** Facts about what is drawn (how a per-IO log was windowed, points a log axis cannot show). */
  notes: string[];
}

const seconds = (ms: number) => ms / 1000;

/** Collects series for one chart, numbering the styles per input. */
class SeriesSet {
  readonly series: Series[] = [];
  private readonly perInput = new Map<number, number>();
  add(input: number, label: string, points: Array<[number, number | null]>): void {
    if (!points.some(([, y]) => y !== null)) return;
    const style = this.perInput.get(input) ?? 0;
    this.perInput.set(input, style + 1);
    this.series.push({ label, input, style, points });
  }
}

function byDirection<T extends { dir: Direction }>(rows: T[]): Array<[Direction, T[]]> {
  const out: Array<[Direction, T[]]> = [];
  for (const d of DIRECTIONS) {
    const r = rows.filter((x) => x.dir === d);
    if (r.length > 0) out.push([d, r]);
  }
  return out;
}

const WINDOWS_MS = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000];

/**
 * The window per-IO log samples are grouped by: about 200 windows over the run, and about
 * 100 samples per window at least (so a window's p99.9 rests on more than a handful).
 */
export function perIoWindowMs(samples: LogSample[]): number {
  if (samples.length === 0) return WINDOWS_MS[0];
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of samples) {
    lo = Math.min(lo, s.t_ms);
    hi = Math.max(hi, s.t_ms);
  }
  const span = Math.max(1, hi - lo);
  const want = Math.max(span / 200, (span * 100) / samples.length);
  return WINDOWS_MS.find((w) => w >= want) ?? WINDOWS_MS[WINDOWS_MS.length - 1];
}

/** Per-IO samples (bs != 0) grouped into windows: [window end ms, samples]. */
function windows(samples: LogSample[], windowMs: number): Array<[number, LogSample[]]> {
  const groups = new Map<number, LogSample[]>();
  for (const s of samples) {
    const k = Math.floor(s.t_ms / windowMs);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(s);
  }
  const keys = [...groups.keys()].sort((a, b) => a - b);
  if (keys.length === 0) return [];
  const out: Array<[number, LogSample[]]> = [];
  for (let k = keys[0]; k <= keys[keys.length - 1]; k++) out.push([(k + 1) * windowMs, groups.get(k) ?? []]);
  return out;
}

/** True when a log holds fio's per-IO samples (bs set) rather than averaged ones (bs 0). */
const perIo = (samples: LogSample[]) => samples.some((s) => s.bs !== 0);

function logName(input: PlotInput, log: LogFile): string {
  return `${input.label} · ${log.job === undefined ? 'all jobs' : `job ${log.job}`}`;
}

const timelineNote = (input: PlotInput, job: string, ms: number) => `${input.label} · ${job}: the timeline's intervals of ${ms} ms, each point at an interval's end`;

/** Calls `each` for every job timeline's direction with data, noting each timeline's interval. */
function eachTimelineDirection(input: PlotInput, notes: string[], each: (job: string, d: Direction, dir: TimelineDirection, tl: Timeline) => void): void {
  for (const job of input.jobs) {
    const tl = job.timeline;
    if (!tl) continue;
    notes.push(timelineNote(input, job.name, tl.interval_ms));
    for (const d of DIRECTIONS) {
      const dir = tl.dirs[d];
      if (dir) each(job.name, d, dir, tl);
    }
  }
}

/** IOPS (`rate` 'iops') or bandwidth in bytes/s (`rate` 'bw') over time. */
function rateChart(inputs: PlotInput[], rate: 'iops' | 'bw'): Chart {
  const set = new SeriesSet();
  const notes: string[] = [];
  inputs.forEach((input, i) => {
    eachTimelineDirection(input, notes, (job, d, dir, tl) => {
      const values = rate === 'iops' ? dir.iops : dir.bw_bytes;
      set.add(i, `${input.label} · ${job} · ${d}`, tl.t_ms.map((t, k) => [seconds(t), values[k]]));
    });
    const log = input.log;
    if (!log || log.kind !== rate) return;
    for (const [d, rows] of byDirection(log.samples)) {
      if (perIo(rows)) {
        const w = perIoWindowMs(rows);
        notes.push(`${input.label}: per-IO log, ${rate === 'iops' ? 'IOs counted' : 'bytes summed'} over ${w} ms windows`);
        set.add(i, `${logName(input, log)} · ${d}`, windows(rows, w).map(([end, g]) => [seconds(end), (rate === 'iops' ? g.length : g.reduce((a, s) => a + s.bs, 0)) / seconds(w)]));
      } else {
        // fio's bw log is in KiB/s; its averaged iops log is in IOs per second.
        set.add(i, `${logName(input, log)} · ${d}`, rows.map((s) => [seconds(s.t_ms), rate === 'bw' ? s.value * 1024 : s.value]));
      }
    }
  });
  const what = rate === 'iops' ? 'IOPS' : 'bandwidth';
  return {
    id: rate === 'iops' ? 'iops' : 'bw',
    title: `${what} over time`,
    x: { label: 'time since the job started', scale: 'linear', unit: 'seconds' },
    y: { label: what, scale: 'linear', unit: rate === 'iops' ? 'iops' : 'bytes_per_s' },
    series: set.series,
    notes: [...new Set(notes)],
    empty: `no ${what} over time in these inputs: a phyr result needs jobs[].phyr.timeline; for fio, add --write_${rate}_log=PREFIX (and --log_avg_msec) and pass PREFIX_${rate}.N.log`,
  };
}

/** A clat_hist log's rows as [value ns, count] histograms, per direction and row. */
function histRows(input: PlotInput, log: LogFile): Array<{ dir: Direction; t_ms: number; bins: Array<[number, number]> }> {
  if (log.hist.length === 0) return [];
  const values = histColumnValues(log.hist[0].counts.length, input.file);
  return log.hist.map((r) => ({ dir: r.dir, t_ms: r.t_ms, bins: r.counts.map((c, j): [number, number] => [values[j], c]) }));
}

const TIME_PERCENTILES: Array<[number, string]> = [[50, 'p50'], [99, 'p99'], [99.9, 'p99.9']];

function latencyOverTime(inputs: PlotInput[]): Chart {
  const set = new SeriesSet();
  const notes: string[] = [];
  inputs.forEach((input, i) => {
    eachTimelineDirection(input, notes, (job, d, dir, tl) => {
      const lines: Array<[string, Array<number | null>]> = [['p50', dir.clat_p50_ns], ['p99', dir.clat_p99_ns], ['p99.9', dir.clat_p99_9_ns]];
      for (const [name, values] of lines) set.add(i, `${input.label} · ${job} · ${d} clat ${name}`, tl.t_ms.map((t, k) => [seconds(t), values[k]]));
    });
    const log = input.log;
    if (!log) return;
    if (log.kind === 'clat_hist') {
      const rows = histRows(input, log);
      for (const d of DIRECTIONS) {
        const mine = rows.filter((r) => r.dir === d);
        if (mine.length === 0) continue;
        for (const [p, name] of TIME_PERCENTILES) set.add(i, `${logName(input, log)} · ${d} clat ${name}`, mine.map((r) => [seconds(r.t_ms), percentileOf(r.bins, p) ?? null]));
      }
      return;
    }
    if (log.kind !== 'lat' && log.kind !== 'clat' && log.kind !== 'slat') return;
    for (const [d, rows] of byDirection(log.samples)) {
      if (perIo(rows)) {
        const w = perIoWindowMs(rows);
        notes.push(`${input.label}: per-IO ${log.kind} log, percentiles of the logged IOs of each ${w} ms window`);
        // Each window's values sorted once; fio's rule: the first value whose rank reaches p% of the count.
        const groups = windows(rows, w).map(([end, g]): [number, Float64Array] => [end, Float64Array.from(g, (s) => s.value).sort()]);
        const rank = (sorted: Float64Array, p: number) => (sorted.length === 0 ? null : sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]);
        for (const [p, name] of TIME_PERCENTILES) set.add(i, `${logName(input, log)} · ${d} ${log.kind} ${name}`, groups.map(([end, sorted]) => [seconds(end), rank(sorted, p)]));
      } else {
        // Averaged samples: fio's mean of each log_avg_msec window (its maximum with log_max_value).
        set.add(i, `${logName(input, log)} · ${d} ${log.kind} (logged value)`, rows.map((s) => [seconds(s.t_ms), s.value]));
      }
    }
  });
  return {
    id: 'latency-time',
    title: 'Latency percentiles over time',
    x: { label: 'time since the job started', scale: 'linear', unit: 'seconds' },
    y: { label: 'latency', scale: 'log', unit: 'ns' },
    series: set.series,
    empty: 'no latency over time in these inputs: a phyr result needs jobs[].phyr.timeline; for fio, pass a PREFIX_clat.N.log (--write_lat_log) or PREFIX_clat_hist.N.log (--write_hist_log)',
    notes: [...new Set(notes)],
  };
}

/** Series label suffix when a result gives total latency (lat_ns) instead of completion latency. */
const latSuffix = (source: 'clat' | 'lat') => (source === 'lat' ? ' (lat_ns: total latency)' : '');

/**
 * json+ lists only the buckets that counted IOs. Where the values are fio's bucket values,
 * the empty buckets beside each counted one are put back as zeros, so the line falls to
 * zero between two separate peaks instead of bridging them.
 */
export function withEmptyNeighbours(bins: Array<[number, number]>): Array<[number, number]> {
  const idx = bins.map(([v]) => FIO_BUCKET_INDEX.get(v));
  if (idx.some((i) => i === undefined)) return bins;
  const counted = new Map<number, number>();
  bins.forEach(([, c], k) => counted.set(idx[k]!, c));
  const all = new Set<number>();
  for (const i of counted.keys()) for (const j of [i - 1, i, i + 1]) if (j >= 0 && j < FIO_PLAT_NR) all.add(j);
  return [...all].sort((a, b) => a - b).map((j) => [platIdxToVal(j), counted.get(j) ?? 0]);
}

const FIO_BUCKET_INDEX = new Map(Array.from({ length: FIO_PLAT_NR }, (_, i) => [platIdxToVal(i), i]));

function histogramChart(inputs: PlotInput[]): Chart {
  const set = new SeriesSet();
  const notes: string[] = [];
  const add = (i: number, label: string, bins: Array<[number, number]>) => {
    const total = bins.reduce((a, [, c]) => a + c, 0);
    if (total <= 0) return;
    const zero = bins.filter(([v]) => v <= 0).reduce((a, [, c]) => a + c, 0);
    if (zero > 0) notes.push(`${label}: ${zero} IOs in the 0 ns bucket are not drawn on the log axis`);
    set.add(i, label, bins.filter(([v]) => v > 0).map(([v, c]) => [v, (100 * c) / total]));
  };
  inputs.forEach((input, i) => {
    const withIo = input.jobs.filter((j) => Object.keys(j.totals).length > 0);
    if (withIo.length > 0 && withIo.every((j) => DIRECTIONS.every((d) => !j.latency[d]?.bins.length))) notes.push(`${input.label}: no latency bins (json output; --output-format=json+ adds them)`);
    for (const job of input.jobs) {
      for (const d of DIRECTIONS) {
        const lat = job.latency[d];
        if (lat && lat.bins.length > 0) add(i, `${input.label} · ${job.name} · ${d}${latSuffix(lat.source)}`, withEmptyNeighbours(lat.bins));
      }
    }
    const log = input.log;
    if (log?.kind !== 'clat_hist') return;
    const rows = histRows(input, log);
    for (const d of DIRECTIONS) {
      const mine = rows.filter((r) => r.dir === d);
      if (mine.length === 0) continue;
      const sum = mine[0].bins.map(([v], j): [number, number] => [v, mine.reduce((a, r) => a + r.bins[j][1], 0)]);
      add(i, `${logName(input, log)} · ${d}`, sum);
    }
  });
  return {
    id: 'histogram',
    title: 'Completion-latency histogram',
    x: { label: 'completion latency', scale: 'log', unit: 'ns' },
    y: { label: 'share of IOs per bucket', scale: 'linear', unit: 'percent' },
    series: set.series,
    empty: 'no histogram in these inputs: it needs json+ output (--output-format=json+, clat_ns.bins) or a PREFIX_clat_hist.N.log (--write_hist_log)',
    notes: [...new Set(notes)],
  };
}

function percentileChart(inputs: PlotInput[]): Chart {
  const set = new SeriesSet();
  inputs.forEach((input, i) => {
    for (const job of input.jobs) {
      for (const d of DIRECTIONS) {
        const lat = job.latency[d];
        if (lat && lat.percentiles.length > 0) set.add(i, `${input.label} · ${job.name} · ${d}${latSuffix(lat.source)}`, lat.percentiles.filter(([p, v]) => p < 100 && v > 0).map(([p, v]) => [p, v]));
      }
    }
    const log = input.log;
    if (log?.kind !== 'clat_hist') return;
    const rows = histRows(input, log);
    for (const d of DIRECTIONS) {
      const mine = rows.filter((r) => r.dir === d);
      if (mine.length === 0) continue;
      const sum = mine[0].bins.map(([v], j): [number, number] => [v, mine.reduce((a, r) => a + r.bins[j][1], 0)]);
      set.add(i, `${logName(input, log)} · ${d}`, FIO_PERCENTILES.map((p) => [p, percentileOf(sum, p) ?? null]));
    }
  });
  return {
    id: 'percentiles',
    title: 'Completion-latency percentiles',
    x: { label: 'percentile', scale: 'tail', unit: 'percentile' },
    y: { label: 'completion latency', scale: 'log', unit: 'ns' },
    series: set.series,
    empty: 'no percentiles in these inputs: a result needs clat_ns.percentile (fio and phyr write it unless --clat_percentiles=0), or pass a PREFIX_clat_hist.N.log',
    notes: [],
  };
}

/** Every chart of the page, in page order. */
export function buildCharts(inputs: PlotInput[]): Chart[] {
  return [rateChart(inputs, 'iops'), rateChart(inputs, 'bw'), latencyOverTime(inputs), histogramChart(inputs), percentileChart(inputs)];
}

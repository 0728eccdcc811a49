// Lines up the jobs of several result documents against the first (the baseline) and
// checks the `--fail-if` thresholds: the data behind the table and the exit status.
import { CompareUsageError } from './errors';
import { DIRECTIONS, documentMetrics, percentileAt, type Direction, type DirectionMetrics, type JobMetrics, type LatencyKind } from './metrics';
import { breaks, metricName, THRESHOLD_FORMS, type Metric, type Threshold } from './thresholds';
import { writerOf, type Run } from './runs';
import { formatChange, formatMetric } from './format';

/** A figure of one file, with its change against the baseline's. */
export interface Cell {
  value: number | null;
  /** Percent change against the baseline; null for the baseline itself or a baseline of 0 / none. */
  changePercent: number | null;
}

/** One file's figures of one direction of a job. */
export interface DirectionRow {
  file: string;
  direction: Direction;
  ios: number;
  iops: Cell;
  bwBytes: Cell;
  /** Keyed by the percentile as a number string: "50", "99", "99.9". */
  latency: Record<string, Cell>;
}

/** One file's CPU figure of a job. */
export interface CpuRow {
  file: string;
  nsPerIo: Cell;
  /** Computed from usr_cpu + sys_cpu, job_runtime and total IOs (a fio document). */
  derived: boolean;
}

/** A job present in the baseline and in at least one other file. */
export interface JobComparison {
  name: string;
  /** 0: the first entry of this name in each document, 1: the second, ... */
  occurrence: number;
  /** Direction-major: every file's row of the first direction, then of the next. */
  rows: DirectionRow[];
  cpu: CpuRow[];
}

/** A job that is in one file and not in the other. */
export interface UnmatchedJob {
  job: string;
  occurrence: number;
  /** The file that has the job. */
  in: string;
  /** The file that lacks it. */
  missingFrom: string;
}

/** A threshold one job of one file broke. */
export interface BrokenThreshold {
  threshold: string;
  file: string;
  job: string;
  direction?: Direction;
  baseline: number | null;
  value: number | null;
  changePercent: number | null;
  /** One line: what broke and by how much. */
  message: string;
}

/** Everything `phyr compare` prints. */
export interface Comparison {
  baseline: string;
  /** Every file, baseline first, with the program that wrote it. */
  files: Array<{ file: string; writer: string }>;
  latency: LatencyKind;
  /** The latency percentiles shown. */
  percentiles: number[];
  jobs: JobComparison[];
  unmatched: UnmatchedJob[];
  thresholds: Array<{ threshold: string; broken: BrokenThreshold[] }>;
}

/** What to compare and how. */
export interface CompareOptions {
  latency: LatencyKind;
  /** Percentiles shown in the table (the thresholds' percentiles are added). */
  percentiles: number[];
  thresholds: Threshold[];
}

/** The percentiles shown by default: fio's p50, p99 and p99.9. */
export const DEFAULT_PERCENTILES = [50, 99, 99.9];

const key = (j: JobMetrics) => `${j.name}\u0000${j.occurrence}`;

function cell(value: number | null, base: number | null, isBaseline: boolean): Cell {
  const change = !isBaseline && value !== null && base !== null && base !== 0 ? ((value - base) / base) * 100 : null;
  return { value, changePercent: change };
}

function hasIo(d: DirectionMetrics | undefined): d is DirectionMetrics {
  return d !== undefined && d.ios > 0;
}

/** The value of a metric for one direction (or the job, for cpu). */
function valueOf(m: Metric, job: JobMetrics, d: DirectionMetrics | undefined): number | null {
  if (m.kind === 'cpu') return job.cpuNsPerIo;
  if (!hasIo(d)) return m.kind === 'percentile' ? null : 0;
  if (m.kind === 'iops') return d.iops;
  if (m.kind === 'bw') return d.bwBytes;
  return percentileAt(d, m.q) ?? null;
}

function listed(d: DirectionMetrics): string {
  return d.percentiles.length ? d.percentiles.map(([p]) => String(p)).join(', ') : 'none';
}

// A metric a threshold needs and an input lacks is a usage error: the gate cannot be
// checked, and a silent pass would hide it.
function requireMetric(t: Threshold, file: string, job: JobMetrics, dir: Direction | undefined, latency: LatencyKind): void {
  const d = dir ? job.directions[dir] : undefined;
  if (t.metric.kind === 'cpu' && job.ios > 0 && job.cpuNsPerIo === null) {
    throw new CompareUsageError(`--fail-if '${t.text}': ${file}: job '${job.name}' carries no CPU time per IO (neither phyr.cpu_ns_per_io nor usr_cpu, sys_cpu and job_runtime); drop the cpu threshold for it. The accepted forms: ${THRESHOLD_FORMS}`);
  }
  if (t.metric.kind === 'percentile' && hasIo(d) && percentileAt(d, t.metric.q) === undefined) {
    throw new CompareUsageError(`--fail-if '${t.text}': ${file}: job '${job.name}' ${dir} has no ${latency} percentile ${t.metric.q} (it lists: ${listed(d)}); name one the inputs carry, or run them with percentile_list including ${t.metric.q}${latency === 'lat' ? ' and lat_percentiles=1' : ''}`);
  }
}

function checkThreshold(t: Threshold, base: Run, other: Run, bj: JobMetrics, oj: JobMetrics, latency: LatencyKind): BrokenThreshold[] {
  const dirs: Array<Direction | undefined> = t.metric.kind === 'cpu' ? [undefined] : t.direction ? [t.direction] : DIRECTIONS.filter((d) => hasIo(bj.directions[d]));
  if (t.direction && !hasIo(bj.directions[t.direction])) {
    throw new CompareUsageError(`--fail-if '${t.text}': ${base.file}: the baseline's job '${bj.name}' did no ${t.direction} IO, so there is nothing to hold ${other.file} to; name a direction it did IO in, or drop the direction`);
  }
  const out: BrokenThreshold[] = [];
  for (const dir of dirs) {
    requireMetric(t, base.file, bj, dir, latency);
    requireMetric(t, other.file, oj, dir, latency);
    const b = valueOf(t.metric, bj, dir ? bj.directions[dir] : undefined);
    const v = valueOf(t.metric, oj, dir ? oj.directions[dir] : undefined);
    const where = `job '${bj.name}'${dir ? ` ${dir}` : ''}`;
    const name = metricName(t.metric);
    const common = { threshold: t.text, file: other.file, job: bj.name, ...(dir ? { direction: dir } : {}), baseline: b };
    if (b === null || b === 0) continue;
    if (v === null) {
      // The baseline did IO in this direction and this run did none: no latency to compare.
      out.push({ ...common, value: null, changePercent: null, message: `${other.file}: ${where}: no ${name} (the run did no ${dir ? `${dir} ` : ''}IO; the baseline's is ${formatMetric(t.metric, b)}): breaks ${t.text}` });
      continue;
    }
    const change = ((v - b) / b) * 100;
    if (breaks(t, change)) {
      out.push({ ...common, value: v, changePercent: change, message: `${other.file}: ${where}: ${name} ${formatChange(change)} (${formatMetric(t.metric, v)} against the baseline's ${formatMetric(t.metric, b)}) breaks ${t.text}` });
    }
  }
  return out;
}

/** Compares every run against the first; throws CompareUsageError on an unusable threshold. */
export function compareRuns(runs: Run[], options: CompareOptions): Comparison {
  if (runs.length < 2) throw new CompareUsageError(`compare needs at least two result files (a baseline and one to compare), got ${runs.length}`);
  const percentiles = [...new Set([...options.percentiles, ...options.thresholds.flatMap((t) => (t.metric.kind === 'percentile' ? [t.metric.q] : []))])].sort((a, b) => a - b);
  const metrics = runs.map((r) => documentMetrics(r.document.jobs, options.latency));
  if (options.latency === 'lat') {
    runs.forEach((r, i) => {
      for (const j of metrics[i]) {
        for (const d of DIRECTIONS) {
          const m = j.directions[d];
          if (hasIo(m) && m.percentiles.length === 0) throw new CompareUsageError(`--latency lat: ${r.file}: job '${j.name}' ${d} has no lat_ns percentiles; run it with lat_percentiles=1, or compare clat (the default)`);
        }
      }
    });
  }
  const [base, ...others] = runs;
  const baseJobs = metrics[0];
  const byKey = metrics.map((js) => new Map(js.map((j) => [key(j), j])));
  const unmatched: UnmatchedJob[] = [];
  others.forEach((o, i) => {
    for (const j of baseJobs) if (!byKey[i + 1].has(key(j))) unmatched.push({ job: j.name, occurrence: j.occurrence, in: base.file, missingFrom: o.file });
    for (const j of metrics[i + 1]) if (!byKey[0].has(key(j))) unmatched.push({ job: j.name, occurrence: j.occurrence, in: o.file, missingFrom: base.file });
  });
  const thresholds = options.thresholds.map((t) => ({ threshold: t.text, broken: [] as BrokenThreshold[] }));
  const jobs: JobComparison[] = [];
  for (const bj of baseJobs) {
    const present = runs.map((r, i) => ({ run: r, job: byKey[i].get(key(bj)) })).filter((x): x is { run: Run; job: JobMetrics } => x.job !== undefined);
    if (present.length < 2) continue;
    const dirs = DIRECTIONS.filter((d) => present.some((p) => hasIo(p.job.directions[d])));
    const rows: DirectionRow[] = [];
    for (const d of dirs) {
      const b = bj.directions[d];
      for (const [i, p] of present.entries()) {
        const m = p.job.directions[d];
        const latency: Record<string, Cell> = {};
        for (const q of percentiles) latency[String(q)] = cell(hasIo(m) ? (percentileAt(m, q) ?? null) : null, hasIo(b) ? (percentileAt(b, q) ?? null) : null, i === 0);
        rows.push({
          file: p.run.file,
          direction: d,
          ios: m?.ios ?? 0,
          iops: cell(m?.iops ?? 0, hasIo(b) ? b.iops : null, i === 0),
          bwBytes: cell(m?.bwBytes ?? 0, hasIo(b) ? b.bwBytes : null, i === 0),
          latency,
        });
      }
    }
    const cpu = present.map((p, i) => ({ file: p.run.file, nsPerIo: cell(p.job.cpuNsPerIo, bj.cpuNsPerIo, i === 0), derived: p.job.cpuDerived }));
    jobs.push({ name: bj.name, occurrence: bj.occurrence, rows, cpu });
    for (const p of present.slice(1)) {
      options.thresholds.forEach((t, ti) => thresholds[ti].broken.push(...checkThreshold(t, base, p.run, bj, p.job, options.latency)));
    }
  }
  if (options.thresholds.length) {
    others.forEach((o, i) => {
      if (!baseJobs.some((j) => byKey[i + 1].has(key(j)))) {
        throw new CompareUsageError(`${o.file}: none of its jobs has a name of the baseline's (${base.file}: ${baseJobs.map((j) => `'${j.name}'`).join(', ') || 'no jobs'}), so the thresholds cannot be checked; compare runs of the same job file`);
      }
    });
  }
  return { baseline: base.file, files: runs.map((r) => ({ file: r.file, writer: writerOf(r.document) })), latency: options.latency, percentiles, jobs, unmatched, thresholds };
}

/** Every broken threshold, in the order the thresholds were given. */
export function brokenThresholds(c: Comparison): BrokenThreshold[] {
  return c.thresholds.flatMap((t) => t.broken);
}

// The figures compare reads from one job entry of a fio-shaped document: per direction the
// IOPS, bandwidth and latency percentiles, and the job's CPU time per IO.
import type { FioJobEntry } from './runs';

/** The directions a fio document reports (mixed: unified_rw_reporting=mixed or both). */
export const DIRECTIONS = ['read', 'write', 'trim', 'mixed'] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** The latency series whose percentiles compare shows (fio's clat_ns or lat_ns). */
export type LatencyKind = 'clat' | 'lat';

/** One direction's figures. */
export interface DirectionMetrics {
  /** IOs completed (fio's total_ios). */
  ios: number;
  iops: number;
  /** Bytes per second (fio's bw_bytes; from bw, KiB/s, where a document lacks it). */
  bwBytes: number;
  /** [percentile, ns] pairs of the chosen series, as the document lists them; empty without. */
  percentiles: Array<[number, number]>;
}

/** One job entry's figures. */
export interface JobMetrics {
  name: string;
  /** 0 for the first entry of this name in its document, 1 for the second, ... */
  occurrence: number;
  directions: Partial<Record<Direction, DirectionMetrics>>;
  /** IOs of every direction (read + write + trim). */
  ios: number;
  /** CPU (user + system) ns per IO; null when the job did no IO or the document lacks CPU times. */
  cpuNsPerIo: number | null;
  /**
   * True when cpuNsPerIo was computed from usr_cpu + sys_cpu, job_runtime and the IO count
   * (a fio document); false when the document carried it (phyr's jobs[].phyr.cpu_ns_per_io).
   */
  cpuDerived: boolean;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function percentilesOf(series: Record<string, unknown> | undefined): Array<[number, number]> {
  const p = obj(series?.percentile);
  if (!p) return [];
  const out: Array<[number, number]> = [];
  for (const [k, v] of Object.entries(p)) {
    const q = Number(k);
    const ns = num(v);
    if (Number.isFinite(q) && ns !== undefined) out.push([q, ns]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

function directionOf(entry: Record<string, unknown> | undefined, latency: LatencyKind): DirectionMetrics | undefined {
  if (!entry) return undefined;
  const ios = num(entry.total_ios) ?? 0;
  const iops = num(entry.iops) ?? 0;
  const bwBytes = num(entry.bw_bytes) ?? (num(entry.bw) ?? 0) * 1024;
  return { ios, iops, bwBytes, percentiles: percentilesOf(obj(entry[`${latency}_ns`])) };
}

/** The figures of one job entry; `occurrence` counts earlier entries of the same name. */
export function jobMetrics(job: FioJobEntry, occurrence: number, latency: LatencyKind): JobMetrics {
  const directions: JobMetrics['directions'] = {};
  let ios = 0;
  for (const d of DIRECTIONS) {
    const m = directionOf(obj(job[d]), latency);
    if (!m) continue;
    directions[d] = m;
    if (d !== 'mixed') ios += m.ios;
  }
  const phyrCpu = num(obj(job.phyr)?.cpu_ns_per_io);
  if (phyrCpu !== undefined) return { name: job.jobname, occurrence, directions, ios, cpuNsPerIo: ios > 0 ? phyrCpu : null, cpuDerived: false };
  // fio: usr_cpu and sys_cpu are percentages of the job's runtime (job_runtime, ms).
  const usr = num(job.usr_cpu);
  const sys = num(job.sys_cpu);
  const runtimeMs = num(job.job_runtime);
  const cpu = usr !== undefined && sys !== undefined && runtimeMs !== undefined && ios > 0 ? (((usr + sys) / 100) * runtimeMs * 1e6) / ios : null;
  return { name: job.jobname, occurrence, directions, ios, cpuNsPerIo: cpu, cpuDerived: true };
}

/** Every job entry of a document, in order. */
export function documentMetrics(jobs: FioJobEntry[], latency: LatencyKind): JobMetrics[] {
  const seen = new Map<string, number>();
  return jobs.map((j) => {
    const k = seen.get(j.jobname) ?? 0;
    seen.set(j.jobname, k + 1);
    return jobMetrics(j, k, latency);
  });
}

/** The value at percentile `q` (e.g. 99.9), or undefined when the document lists no such percentile. */
export function percentileAt(d: DirectionMetrics, q: number): number | undefined {
  const hit = d.percentiles.find(([p]) => Math.abs(p - q) < 1e-6);
  return hit?.[1];
}

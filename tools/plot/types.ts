// The data `phyr plot` draws, once every input (a fio/phyr JSON result or a fio log file)
// has been read and checked. The loader (inputs.ts) builds these; the series builders
// (series.ts) and the page (page.ts) only read them.

/** The IO directions fio reports, in its order. */
export const DIRECTIONS = ['read', 'write', 'trim'] as const;
/** One of fio's IO directions. */
export type Direction = (typeof DIRECTIONS)[number];

/** One direction of a timeline: per-interval figures, each array as long as `t_ms`. */
export interface TimelineDirection {
  /** IOs per second over each interval. */
  iops: number[];
  /** Bytes per second over each interval. */
  bw_bytes: number[];
  /** Completion-latency percentiles of each interval, ns; null where it had no IO. */
  clat_p50_ns: Array<number | null>;
  clat_p99_ns: Array<number | null>;
  clat_p99_9_ns: Array<number | null>;
}

/** `jobs[i].phyr.timeline` of a phyr result (CONTRACT-14: written by the bench). */
export interface Timeline {
  /** The sampling interval, ms. */
  interval_ms: number;
  /** End of each interval, ms since the job's measured phase began. */
  t_ms: number[];
  /** The directions that saw IO. */
  dirs: Partial<Record<Direction, TimelineDirection>>;
}

/**
 * What one direction of a result job says about latency: completion latency (`clat_ns`),
 * or total latency (`lat_ns`) when only that carries percentiles (--clat_percentiles=0
 * --lat_percentiles=1, as fio moves them).
 */
export interface DirectionLatency {
  /** Which of fio's latencies these are. */
  source: 'clat' | 'lat';
  /** json+ `clat_ns.bins`: [latency ns, IO count], ascending by latency. */
  bins: Array<[number, number]>;
  /** `clat_ns.percentile`: [percentile, latency ns], ascending by percentile. */
  percentiles: Array<[number, number]>;
}

/** One job of a result document. */
export interface ResultJob {
  name: string;
  /** `job options` as written. */
  options: Array<[string, string]>;
  /** Directions with IO, and their latency figures (bins only in json+). */
  latency: Partial<Record<Direction, DirectionLatency>>;
  /** Whole-run figures per direction with IO, as the document gives them. */
  totals: Partial<Record<Direction, { iops: number; bw_bytes: number }>>;
  /** `jobs[i].phyr.timeline` when the document has one. */
  timeline?: Timeline;
  /** The scalar fields of `jobs[i].phyr` (cpu_ns_per_io, ...), for the options table. */
  phyr: Array<[string, string]>;
}

/** Which fio log a log file is, from fio's file name `PREFIX_KIND[.N].log`. */
export type LogKind = 'bw' | 'iops' | 'lat' | 'slat' | 'clat' | 'clat_hist';

/** One line of a bw/iops/lat log (hist logs are read into `LogFile.hist`). */
export interface LogSample {
  t_ms: number;
  value: number;
  dir: Direction;
  /** 0 in fio's averaged samples (log_avg_msec), the IO's size in per-IO samples. */
  bs: number;
}

/** One interval of a clat_hist log: fio's histogram buckets for one direction. */
export interface HistRow {
  t_ms: number;
  dir: Direction;
  /** Bucket counts of this interval, in fio's bucket order (coarsened by log_hist_coarseness). */
  counts: number[];
}

/** A fio log file (written by fio or by phyr bench; the file does not say which). */
export interface LogFile {
  kind: LogKind;
  /** The job number from the name (PREFIX_bw.2.log), or undefined (per_job_logs=0). */
  job?: number;
  samples: LogSample[];
  hist: HistRow[];
  /**
   * Set when the times were Unix epoch ms (fio's log_unix_epoch): the first time, which
   * was subtracted from every time so the chart starts at 0 like the others.
   */
  epochStartMs?: number;
}

/** One input of the page: a result document or a log file. */
export interface PlotInput {
  /** The path as given on the command line. */
  file: string;
  /** Short name for legends: the file's base name. */
  label: string;
  /** What produced it, honestly: "phyr 0.1.0", "fio-3.33", or what a log file can say. */
  producer: string;
  /** Result documents: their jobs (empty for a log file). */
  jobs: ResultJob[];
  /** Log files: the parsed log. */
  log?: LogFile;
  /** Run-level facts for the options table: time, target, machine, global options. */
  meta: Array<[string, string]>;
}

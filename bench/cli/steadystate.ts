// fio's steady-state detection (steadystate / ss, ss_dur, ss_ramp; fio 3.33 steadystate.c):
// once a second a job's IOPS and bandwidth over the last second are sampled; once ss_dur
// samples are in (after ss_ramp), each new sample judges the window: the largest deviation
// from the window's mean (iops, bw) or the least-squares slope (iops_slope, bw_slope), as
// a percentage of the mean or absolute, below the limit. The job then ends early.
//
// Samples come from the progress counters the job thread publishes together with its own
// elapsed time (the engine's timestamps), so a sample's rate is exact over the interval it
// covers, whatever the delay of the JS timer that reads them.

/** fio's four criteria. */
export type SteadyStateCriterion = 'iops' | 'iops_slope' | 'bw' | 'bw_slope';

/** A job's steady-state options (active when durationS > 0). */
export interface SteadyStateSpec {
  criterion: SteadyStateCriterion;
  /** The limit: percent of the window's mean when `percent`, else IOPS or bytes/s (per second for a slope). */
  limit: number;
  percent: boolean;
  /** ss_dur: samples in the window (whole seconds). */
  durationS: number;
  /** ss_ramp: samples count from the first one ending at least this long plus 1 s after the measured phase began. */
  rampNs: number;
}

/** fio's defaults: steadystate=iops_slope:0.01%, no duration (off), no ramp. */
export const DEFAULT_STEADYSTATE: SteadyStateSpec = { criterion: 'iops_slope', limit: 0.01, percent: true, durationS: 0, rampNs: 0 };

/** What a job's steady-state check found (the JSON's "steadystate" block). */
export interface SteadyStateResult {
  spec: SteadyStateSpec;
  attained: boolean;
  /** The last judged value: a deviation or a slope, in percent of the mean when the limit is. */
  criterion: number;
  /** The last window's largest deviation from its mean (deviation criteria; 0 for a slope). */
  maxDeviation: number;
  /** The last window's slope per second (slope criteria; 0 for a deviation). */
  slope: number;
  /** The window's samples, oldest first, durationS entries (0 where none was taken yet). */
  iops: number[];
  bw: number[];
}

const SAMPLE_NS = 1e9;

/**
 * Why a job's steady-state check cannot be judged (undefined: it can). `trims`: the job
 * issues trims, which the progress counters the samples come from do not count.
 */
export function steadyStateProblem(spec: SteadyStateSpec, trims: boolean): string | undefined {
  if (spec.criterion.endsWith('_slope') && spec.durationS < 2) return `steadystate=${spec.criterion} needs steadystate_duration of at least 2 s: a slope takes two samples or more`;
  if (trims) return 'steadystate with trims is not supported: the samples count reads and writes only; drop steadystate or the trims';
  return undefined;
}

/**
 * One window of samples and its judgement, fio's arithmetic: samples are whole IOPS and
 * bytes per second; the slope assumes samples 1 s apart; a percent slope divides by the
 * window's mean rounded down (fio's integer division).
 */
export class SteadyStateWindow {
  private readonly iops: number[] = [];
  private readonly bw: number[] = [];
  private attained = false;
  private criterion = 0;
  private deviation = 0;
  private slope = 0;

  constructor(readonly spec: SteadyStateSpec) {}

  get isAttained(): boolean {
    return this.attained;
  }

  /** Adds one sample; true when the window is now in steady state. */
  add(iops: number, bw: number): boolean {
    if (this.attained) return true;
    const n = this.spec.durationS;
    this.iops.push(iops);
    this.bw.push(bw);
    if (this.iops.length > n) {
      this.iops.shift();
      this.bw.shift();
    }
    if (this.iops.length < n) return false;
    const y = this.spec.criterion.startsWith('iops') ? this.iops : this.bw;
    const sumY = y.reduce((a, b) => a + b, 0);
    if (this.spec.criterion.endsWith('_slope')) {
      const sumX = (n * (n - 1)) / 2;
      const sumXSq = ((n - 1) * n * (2 * n - 1)) / 6;
      const sumXY = y.reduce((a, v, i) => a + i * v, 0);
      this.slope = (sumXY - (sumX * sumY) / n) / (sumXSq - (sumX * sumX) / n);
      this.criterion = this.spec.percent ? (100 * this.slope) / Math.floor(sumY / n) : this.slope;
      this.attained = Math.abs(this.criterion) < this.spec.limit;
    } else {
      const mean = sumY / n;
      this.deviation = Math.max(...y.map((v) => Math.abs(v - mean)));
      this.criterion = this.spec.percent ? (100 * this.deviation) / mean : this.deviation;
      this.attained = this.criterion < this.spec.limit;
    }
    return this.attained;
  }

  result(): SteadyStateResult {
    const pad = (a: number[]) => [...a, ...new Array<number>(this.spec.durationS - a.length).fill(0)];
    return { spec: { ...this.spec }, attained: this.attained, criterion: this.criterion, maxDeviation: this.deviation, slope: this.slope, iops: pad(this.iops), bw: pad(this.bw) };
  }
}

/** Where a clone's counters sit in its progress array. */
export interface SteadyStateFields {
  state: number;
  readIos: number;
  writeIos: number;
  readBytes: number;
  writeBytes: number;
  elapsedNs: number;
}

interface CloneCursor {
  progress: Float64Array;
  lastNs: number;
  lastIos: number;
  lastBytes: number;
}

/**
 * One reporting entry's steady-state watch: the job threads that report as one (a job
 * with group_reporting folds its clones, fio sums their rates) and their window.
 */
export class SteadyStateWatch {
  readonly window: SteadyStateWindow;
  private readonly clones: CloneCursor[];
  /** End of the next sample, in the first clone's engine time. */
  private nextNs = SAMPLE_NS;

  constructor(spec: SteadyStateSpec, progress: Float64Array[], private readonly fields: SteadyStateFields, private readonly running: number) {
    this.window = new SteadyStateWindow(spec);
    this.clones = progress.map((p) => ({ progress: p, lastNs: 0, lastIos: 0, lastBytes: 0 }));
  }

  /**
   * Reads the clones' counters; once the first clone's engine time passed the next
   * second, takes one sample: each running clone's rate over its own interval since its
   * last sample, summed (a clone that has ended counts no more, as in fio). True when the
   * window has just reached steady state.
   */
  poll(): boolean {
    if (this.window.isAttained) return false;
    const f = this.fields;
    const lead = this.clones[0].progress;
    if (lead[f.state] !== this.running) return false;
    const now = lead[f.elapsedNs];
    if (now < this.nextNs) return false;
    // The job threads publish their counters every so many loop passes (about once a second
    // for a job paced near 1000 IOPS): a sample waits until every running thread of the
    // entry has published since the last one, so none is summed from a stale reading.
    const live = this.clones.filter((c) => c.progress[f.state] === this.running);
    if (live.some((c) => c.progress[f.elapsedNs] <= c.lastNs)) return false;
    this.nextNs = (Math.floor(now / SAMPLE_NS) + 1) * SAMPLE_NS;
    let iops = 0;
    let bw = 0;
    for (const c of live) {
      const p = c.progress;
      const t = p[f.elapsedNs];
      const ios = p[f.readIos] + p[f.writeIos];
      const bytes = p[f.readBytes] + p[f.writeBytes];
      const dt = t - c.lastNs;
      iops += Math.floor(((ios - c.lastIos) * SAMPLE_NS) / dt);
      bw += Math.floor(((bytes - c.lastBytes) * SAMPLE_NS) / dt);
      Object.assign(c, { lastNs: t, lastIos: ios, lastBytes: bytes });
    }
    // ss_ramp (fio): samples count from the check at least ramp + 1 s into the job.
    if (now < this.window.spec.rampNs + SAMPLE_NS) return false;
    return this.window.add(iops, bw);
  }
}

function fioFloat(x: number): string {
  // fio prints these with "%f" of a float.
  return Number.isFinite(x) ? Math.fround(x).toFixed(6) : String(x).toLowerCase();
}

/** fio's "steadystate" JSON block of a job. */
export function steadystateJson(r: SteadyStateResult): Record<string, unknown> {
  const pct = r.spec.percent ? '%' : '';
  const mean = (a: number[]) => Math.floor(a.reduce((s, v) => s + v, 0) / r.spec.durationS);
  return {
    ss: `${r.spec.criterion}:${fioFloat(r.spec.limit)}${pct}`,
    duration: r.spec.durationS,
    attained: r.attained ? 1 : 0,
    criterion: `${fioFloat(r.criterion)}${pct}`,
    max_deviation: r.maxDeviation,
    slope: r.slope,
    data: { bw_mean: mean(r.bw), iops_mean: mean(r.iops), iops: r.iops, bw: r.bw },
  };
}

/** fio's "steadystate  :" line of the normal output; the byte and count formatters are the report's. */
export function steadystateLine(r: SteadyStateResult, bytes: (n: number, base: 1024 | 1000) => string, count: (n: number) => string): string {
  const d = r.spec.durationS;
  const bwMean = Math.floor(r.bw.reduce((s, v) => s + v, 0) / d);
  const iopsMean = Math.floor(r.iops.reduce((s, v) => s + v, 0) / d);
  const what = `${r.spec.criterion.startsWith('iops') ? 'iops' : 'bw'}${r.spec.criterion.endsWith('_slope') ? ' slope' : ' mean dev'}`;
  return `  steadystate  : attained=${r.attained ? 'yes' : 'no'}, bw=${bytes(bwMean, 1024)}/s (${bytes(bwMean, 1000)}/s), iops=${count(iopsMean)}, ${what}=${r.criterion.toFixed(3)}${r.spec.percent ? '%' : ''}`;
}

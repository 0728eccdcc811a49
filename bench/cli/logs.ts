// fio's log files (write_lat_log, write_bw_log, write_iops_log with log_avg_msec; and
// write_lat_log per IO with log_avg_msec=0), in fio 3.33's file names and line format, from
// the job thread's interval records (samples.ts) or its per-IO records (IoLogWriter):
//   PREFIX_{lat,slat,clat,bw,iops}.N.log   (per_job_logs=1; N = the job's number from 1)
//   PREFIX_{...}.log                        (per_job_logs=0; every job appends to it)
// Each line is "time_ms, value, ddir, bs, [offset, ]prio" (fio's flush_samples): latencies
// in ns (the window's mean, rounded, or the IO's own), bandwidth in KiB/s, IOPS in IO/s;
// ddir 0 read, 1 write, 2 trim; bs and offset the IO's in per-IO entries, 0 in averaged
// ones, as fio writes them; prio 0, what fio writes
// for a job with no priority set, or 0x0000 with log_prio=1 (phyr sets no IO priorities).
import * as fs from 'fs';
import { BenchConfigError } from './errors';
import { bwRate, INTERVAL_KIND, iopsRate, ofKind, type IntervalSample } from './samples';

/** A job's log options (fio's names in the comments). */
export interface JobLogs {
  /** write_lat_log / write_bw_log / write_iops_log: the file prefix ('' = the job's name); absent: no such log. */
  lat?: string;
  bw?: string;
  iops?: string;
  /** log_avg_msec: the averaging window in ms (0 = per-IO entries, which phyr does not write). */
  avgMsec: number;
  /** log_max_value: the window's largest sample instead of its mean. */
  maxValue: boolean;
  /** per_job_logs: one file per job (.N.log) or one shared file. */
  perJob: boolean;
  /** log_offset: an offset column (0 in averaged entries, as fio). */
  offset: boolean;
  /** log_prio: the prio column as fio's hexadecimal priority value instead of the RT flag. */
  prio: boolean;
  /** write_hist_log: the histogram log's prefix ('' = the job's name); absent: none. */
  hist?: string;
  /** log_hist_msec: its window in ms (0, fio's default: no entries, an empty file). */
  histMsec: number;
  /** log_hist_coarseness 0..6: each entry sums 2^N of fio's bins. */
  histCoarseness: number;
}

/** fio's defaults: no logs. */
export function defaultJobLogs(): JobLogs {
  return { avgMsec: 0, maxValue: false, perJob: true, offset: false, prio: false, histMsec: 0, histCoarseness: 0 };
}

/** Whether the job writes any log. */
export function writesLogs(l: JobLogs): boolean {
  return l.lat !== undefined || l.bw !== undefined || l.iops !== undefined;
}

/**
 * The job's sample intervals as fio 3.33 sets them (init.c): a bandwidth log makes
 * bwavgtime log_avg_msec (or the smaller of the two when bwavgtime is given), an IOPS log
 * the same for iopsavgtime; the latency logs' windows are log_avg_msec. Refuses what phyr
 * does not write (per-IO entries; a latency log's per-window maximum).
 */
export function sampleIntervals(name: string, l: JobLogs, bwAvgMs: number | undefined, iopsAvgMs: number | undefined): { bwMs: number; iopsMs: number; logWindowMs: number; perIo: boolean; histMs: number } {
  return { ...logIntervals(name, l, bwAvgMs, iopsAvgMs), histMs: l.hist !== undefined ? l.histMsec : 0 };
}

function logIntervals(name: string, l: JobLogs, bwAvgMs: number | undefined, iopsAvgMs: number | undefined): { bwMs: number; iopsMs: number; logWindowMs: number; perIo: boolean } {
  const def = 500; // fio's bwavgtime / iopsavgtime default
  if (!writesLogs(l)) return { bwMs: bwAvgMs ?? def, iopsMs: iopsAvgMs ?? def, logWindowMs: 0, perIo: false };
  if (l.avgMsec === 0) {
    // fio's default: one entry per IO. phyr writes those for the latency logs only.
    if (l.bw !== undefined || l.iops !== undefined) {
      // Named with the log that asks for it: a job file that never wrote log_avg_msec gets 0 as fio's default.
      const log = l.bw !== undefined ? 'write_bw_log' : 'write_iops_log';
      throw new BenchConfigError(`job '${name}': log_avg_msec=0 asks for a bandwidth or IOPS entry per IO (for ${log}; 0 is fio's default when log_avg_msec is not given), which phyr does not write; give log_avg_msec=N (entries over N ms windows, e.g. 1000)`, 'PHYR_BENCH_UNSUPPORTED_OPTION');
    }
    return { bwMs: bwAvgMs ?? def, iopsMs: iopsAvgMs ?? def, logWindowMs: 0, perIo: true };
  }
  if (l.maxValue && l.lat !== undefined) {
    throw new BenchConfigError(`job '${name}': log_max_value=1 with write_lat_log: phyr keeps no per-window latency maximum, only the window's mean; drop log_max_value (or write only bw/iops logs, whose windows hold one sample each)`, 'PHYR_BENCH_UNSUPPORTED_OPTION');
  }
  const bwMs = l.bw !== undefined ? (bwAvgMs !== undefined ? Math.min(l.avgMsec, bwAvgMs) : l.avgMsec) : (bwAvgMs ?? def);
  const iopsMs = l.iops !== undefined ? (iopsAvgMs !== undefined ? Math.min(l.avgMsec, iopsAvgMs) : l.avgMsec) : (iopsAvgMs ?? def);
  return { bwMs, iopsMs, logWindowMs: l.lat !== undefined ? l.avgMsec : 0, perIo: false };
}

/** One log file's name, as fio's gen_log_name makes it. */
export function logFileName(prefix: string, jobName: string, type: string, jobNumber: number, perJob: boolean): string {
  const pre = prefix === '' ? jobName : prefix;
  return perJob ? `${pre}_${type}.${jobNumber}.log` : `${pre}_${type}.log`;
}

function line(l: JobLogs, timeMs: number, value: number, ddir: number, bs = 0, offset = 0): string {
  const prio = l.prio ? '0x0000' : '0';
  return l.offset ? `${timeMs}, ${value}, ${ddir}, ${bs}, ${offset}, ${prio}\n` : `${timeMs}, ${value}, ${ddir}, ${bs}, ${prio}\n`;
}

/** Doubles per IO in BenchJob.drainIos: prepared, doorbell, completed (ns), offset, bytes, ddir. */
export const IO_FIELDS = 6;

// Writes a non-negative integer's decimal digits at p; returns the next position. Per-IO
// logs format three lines per IO on the JS thread, which template strings made the limit
// (about 0.5 M IOs/s); digits written straight into a buffer are several times faster.
function putUint(b: Buffer, p: number, v: number): number {
  if (v >= 0x80000000) return p + b.write(String(v), p, 'latin1');
  const start = p;
  let x = v | 0;
  do {
    b[p++] = 48 + (x % 10);
    x = (x / 10) | 0;
  } while (x > 0);
  for (let i = start, j = p - 1; i < j; i++, j--) {
    const t = b[i];
    b[i] = b[j];
    b[j] = t;
  }
  return p;
}

// ", " between the columns.
function putSep(b: Buffer, p: number): number {
  b[p] = 44;
  b[p + 1] = 32;
  return p + 2;
}

// One per-IO line, fio's columns: time, value, ddir, bs, [offset, ]prio.
function putIoLine(b: Buffer, p: number, l: JobLogs, timeMs: number, value: number, ddir: number, bs: number, offset: number): number {
  p = putSep(b, putUint(b, p, timeMs));
  p = putSep(b, putUint(b, p, value));
  p = putSep(b, putUint(b, p, ddir));
  p = putSep(b, putUint(b, p, bs));
  if (l.offset) p = putSep(b, putUint(b, p, offset));
  p += b.write(l.prio ? '0x0000\n' : '0\n', p, 'latin1');
  return p;
}

// The longest line: five 16-digit columns, separators, prio and newline.
const MAX_IO_LINE = 6 * 18 + 8;

/** The per-IO latency lines of drained records, by log type (fio: slat at submission, clat and lat at completion). */
export function formatIoLines(l: JobLogs, ios: Float64Array): { lat: Buffer; slat: Buffer; clat: Buffer } {
  const n = Math.floor(ios.length / IO_FIELDS);
  const lat = Buffer.allocUnsafe(n * MAX_IO_LINE), slat = Buffer.allocUnsafe(n * MAX_IO_LINE), clat = Buffer.allocUnsafe(n * MAX_IO_LINE);
  let pl = 0, ps = 0, pc = 0;
  for (let o = 0; o + IO_FIELDS <= ios.length; o += IO_FIELDS) {
    const prep = ios[o], ring = ios[o + 1], done = ios[o + 2], offset = ios[o + 3], bytes = ios[o + 4], ddir = ios[o + 5];
    const doneMs = Math.floor(done / 1e6);
    ps = putIoLine(slat, ps, l, Math.floor(ring / 1e6), ring - prep, ddir, bytes, offset);
    pc = putIoLine(clat, pc, l, doneMs, done - ring, ddir, bytes, offset);
    pl = putIoLine(lat, pl, l, doneMs, done - prep, ddir, bytes, offset);
  }
  return { lat: lat.subarray(0, pl), slat: slat.subarray(0, ps), clat: clat.subarray(0, pc) };
}

/**
 * A job's per-IO latency logs, written while it runs: the runner hands it each drain of the
 * job thread's records (so a long run never holds its log in memory) and closes it at the end.
 */
export class IoLogWriter {
  private readonly files: Record<'lat' | 'slat' | 'clat', string>;
  constructor(private readonly l: JobLogs, jobName: string, jobNumber: number, written: Set<string>) {
    const name = (type: string) => logFileName(l.lat ?? '', jobName, type, jobNumber, l.perJob);
    this.files = { lat: name('lat'), slat: name('slat'), clat: name('clat') };
    for (const f of Object.values(this.files)) {
      try {
        if (!written.has(f)) fs.writeFileSync(f, '');
      } catch (e) {
        throw new BenchConfigError(`job '${jobName}': cannot write the latency log ${f}: ${(e as Error).message}; give a writable prefix (write_lat_log=DIR/NAME)`);
      }
      written.add(f);
    }
  }
  /** Appends the lines of one drain. */
  append(ios: Float64Array): void {
    if (ios.length === 0) return;
    const text = formatIoLines(this.l, ios);
    for (const type of ['lat', 'slat', 'clat'] as const) fs.appendFileSync(this.files[type], text[type]);
  }
}

/** The text of each log file of one job, by type (lat, slat, clat, bw, iops). */
export function formatJobLogs(l: JobLogs, intervals: IntervalSample[]): Map<string, string> {
  const out = new Map<string, string>();
  const timeOf = (x: IntervalSample) => Math.floor(x.tEndNs / 1e6);
  if (l.lat !== undefined && l.avgMsec > 0) {
    // fio's window mean, rounded (mean + 0.5 truncated); a direction with no sample in the
    // window has no entry.
    const windows = ofKind(intervals, INTERVAL_KIND.logWindow);
    const mean = (sum: number, n: number) => Math.floor(sum / n + 0.5);
    const lat: string[] = [], slat: string[] = [], clat: string[] = [];
    for (const x of windows) {
      for (let d = 0; d < 3; d++) {
        if (x.slatCount[d] > 0) slat.push(line(l, timeOf(x), mean(x.slatSumNs[d], x.slatCount[d]), d));
        if (x.ios[d] > 0) {
          clat.push(line(l, timeOf(x), mean(x.clatSumNs[d], x.ios[d]), d));
          lat.push(line(l, timeOf(x), mean(x.latSumNs[d], x.ios[d]), d));
        }
      }
    }
    out.set('lat', lat.join(''));
    out.set('slat', slat.join(''));
    out.set('clat', clat.join(''));
  }
  // Bandwidth and IOPS entries are fio's samples themselves (one per window).
  const rates = (kind: number, rate: (x: IntervalSample, d: number) => number, moved: (x: IntervalSample, d: number) => boolean) => {
    const lines: string[] = [];
    for (const x of ofKind(intervals, kind)) for (let d = 0; d < 3; d++) if (moved(x, d)) lines.push(line(l, timeOf(x), rate(x, d), d));
    return lines.join('');
  };
  if (l.bw !== undefined) out.set('bw', rates(INTERVAL_KIND.stats, bwRate, (x, d) => x.bytes[d] > 0));
  if (l.iops !== undefined) {
    const kind = intervals.some((x) => x.kind === INTERVAL_KIND.iopsStats) ? INTERVAL_KIND.iopsStats : INTERVAL_KIND.stats;
    out.set('iops', rates(kind, iopsRate, (x, d) => x.ios[d] > 0));
  }
  return out;
}

/**
 * Writes one job's logs. `written` holds the files this run has written: a shared file
 * (per_job_logs=0) is truncated by its first job and appended to by the others.
 */
export function writeJobLogs(l: JobLogs, jobName: string, jobNumber: number, intervals: IntervalSample[], written: Set<string>): string[] {
  const files: string[] = [];
  const prefixOf: Record<string, string | undefined> = { lat: l.lat, slat: l.lat, clat: l.lat, bw: l.bw, iops: l.iops };
  for (const [type, text] of formatJobLogs(l, intervals)) {
    const file = logFileName(prefixOf[type] ?? '', jobName, type, jobNumber, l.perJob);
    try {
      if (written.has(file)) fs.appendFileSync(file, text);
      else fs.writeFileSync(file, text);
    } catch (e) {
      throw new BenchConfigError(`job '${jobName}': cannot write the ${type} log ${file}: ${(e as Error).message}; give a writable prefix (write_${type === 'bw' || type === 'iops' ? type : 'lat'}_log=DIR/NAME)`);
    }
    written.add(file);
    files.push(file);
  }
  return files;
}

/** fio's completion-latency bins per direction in a histogram window (sampler.h kFioPlatNr). */
export const FIO_PLAT_NR = 29 * 64;
/** Doubles per window in BenchJob.drainHist: the end in ns, then read, write, trim bins. */
export const HIST_FIELDS = 1 + 3 * FIO_PLAT_NR;

/**
 * fio's histogram log (write_hist_log, PREFIX_clat_hist.N.log): per window and direction
 * with completions, "time, ddir, bs, " and fio's 1856 clat bins of the window summed 2^c at
 * a time (log_hist_coarseness c), as fio's flush_hist_samples writes them. bs is the
 * direction's block size when it is fixed, else 0.
 */
export function formatHistLog(l: JobLogs, windows: Float64Array[], bs: [number, number, number]): string {
  const stride = 1 << l.histCoarseness;
  const out: string[] = [];
  for (const a of windows) {
    for (let o = 0; o + HIST_FIELDS <= a.length; o += HIST_FIELDS) {
      const timeMs = Math.floor(a[o] / 1e6);
      for (let d = 0; d < 3; d++) {
        const base = o + 1 + d * FIO_PLAT_NR;
        let any = false;
        for (let i = 0; i < FIO_PLAT_NR && !any; i++) any = a[base + i] > 0;
        if (!any) continue;
        const cols: number[] = [];
        for (let j = 0; j < FIO_PLAT_NR; j += stride) {
          let sum = 0;
          for (let i = j; i < j + stride; i++) sum += a[base + i];
          cols.push(sum);
        }
        out.push(`${timeMs}, ${d}, ${bs[d]}, ${cols.join(', ')}\n`);
      }
    }
  }
  return out.join('');
}

/** Writes a job's histogram log (an empty file without log_hist_msec, as fio leaves it). */
export function writeHistLog(l: JobLogs, jobName: string, jobNumber: number, windows: Float64Array[], bs: [number, number, number], written: Set<string>): string {
  const file = logFileName(l.hist ?? '', jobName, 'clat_hist', jobNumber, l.perJob);
  const text = formatHistLog(l, windows, bs);
  try {
    if (written.has(file)) fs.appendFileSync(file, text);
    else fs.writeFileSync(file, text);
  } catch (e) {
    throw new BenchConfigError(`job '${jobName}': cannot write the histogram log ${file}: ${(e as Error).message}; give a writable prefix (write_hist_log=DIR/NAME)`);
  }
  written.add(file);
  return file;
}

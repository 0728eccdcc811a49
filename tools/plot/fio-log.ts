// Reads fio's log files (fio 3.33's formats; phyr bench writes the same), as named by fio:
// PREFIX_{bw,iops,lat,slat,clat}.N.log and PREFIX_clat_hist.N.log (N is the job number;
// no .N with per_job_logs=0). A bw/iops/lat line is
//   time_ms, value, ddir, bs[, offset], prio        (older fio: no prio column)
// value: KiB/s (bw), IOs (iops), ns (latencies); bs is 0 in an averaged sample
// (log_avg_msec) and the IO's size in a per-IO one. A clat_hist line is
//   time_ms, ddir, bs, count0, count1, ...          (fio's latency buckets)
import * as path from 'path';
import { PlotInputError } from './errors';
import { DIRECTIONS, type Direction, type HistRow, type LogFile, type LogKind, type LogSample } from './types';

const NAME = /_(clat_hist|lat|slat|clat|bw|iops)(?:\.(\d+))?\.log$/;

/** The kind and job number a fio log's file name says, or undefined if it is not one. */
export function logKindOf(file: string): { kind: LogKind; job?: number } | undefined {
  const m = NAME.exec(path.basename(file));
  if (!m) return undefined;
  return { kind: m[1] as LogKind, job: m[2] === undefined ? undefined : Number(m[2]) };
}

/** Column counts fio writes on a bw/iops/lat line: without prio (older fio), with it, with log_offset. */
const SAMPLE_COLUMNS = [4, 5, 6];

function direction(text: string, where: () => string): Direction {
  const n = Number(text);
  const d = Number.isInteger(n) ? DIRECTIONS[n] : undefined;
  if (d === undefined) throw new PlotInputError(`${where()}: the direction column is '${text}', not 0 (read), 1 (write) or 2 (trim)`);
  return d;
}

function number(text: string, column: string, where: () => string): number {
  const n = Number(text);
  if (text === '' || !Number.isFinite(n) || n < 0) throw new PlotInputError(`${where()}: the ${column} column is '${text}', not a non-negative number`);
  return n;
}

/** Parses the text of a fio log file named `file`; throws PlotInputError naming file:line. */
export function parseFioLog(file: string, text: string): LogFile {
  const id = logKindOf(file);
  if (!id) {
    throw new PlotInputError(`${file}: not a result document (JSON) and not named like a fio log: fio names them PREFIX_bw.N.log, PREFIX_iops.N.log, PREFIX_lat.N.log, PREFIX_slat.N.log, PREFIX_clat.N.log or PREFIX_clat_hist.N.log; keep that name so the kind of log is known`);
  }
  const samples: LogSample[] = [];
  const hist: HistRow[] = [];
  let columns = 0;
  // Line by line without splitting the whole text: a per-IO log holds millions of lines.
  for (let start = 0, lineNo = 1; start < text.length; lineNo++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (line === '') continue;
    const n = lineNo;
    const where = () => `${file}:${n}`;
    const cols = line.split(',');
    for (let c = 0; c < cols.length; c++) cols[c] = cols[c].trim();
    if (id.kind === 'clat_hist') {
      if (cols.length < 4) throw new PlotInputError(`${where()}: ${cols.length} columns; a clat_hist line has time, direction, bs and at least one bucket count`);
    } else if (!SAMPLE_COLUMNS.includes(cols.length)) {
      throw new PlotInputError(`${where()}: ${cols.length} columns; a fio ${id.kind} log line has 4 to 6 (time, value, direction, bs[, offset], prio)`);
    }
    if (columns === 0) columns = cols.length;
    else if (cols.length !== columns) throw new PlotInputError(`${where()}: ${cols.length} columns where the file's first line has ${columns}; every line of a fio log has the same columns`);
    const t = number(cols[0], 'time', where);
    if (id.kind === 'clat_hist') {
      hist.push({ t_ms: t, dir: direction(cols[1], where), counts: cols.slice(3).map((c) => number(c, 'bucket count', where)) });
    } else {
      samples.push({ t_ms: t, value: number(cols[1], 'value', where), dir: direction(cols[2], where), bs: number(cols[3], 'bs', where) });
    }
  }
  const log: LogFile = { kind: id.kind, job: id.job, samples, hist };
  shiftEpochTimes(log);
  return log;
}

/** Times above this (ms; 1973 as an epoch time, 3 years as a run time) are log_unix_epoch ones. */
const EPOCH_MS = 1e11;

function shiftEpochTimes(log: LogFile): void {
  const rows: Array<{ t_ms: number }> = log.samples.length > 0 ? log.samples : log.hist;
  if (rows.length === 0) return;
  let first = Infinity;
  for (const r of rows) first = Math.min(first, r.t_ms);
  if (first < EPOCH_MS) return;
  log.epochStartMs = first;
  for (const r of rows) r.t_ms -= first;
}

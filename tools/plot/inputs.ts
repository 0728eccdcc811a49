// `loadPlotInputs`: the files given to `phyr plot` (or `phyr compare --plot`), read and
// checked. A file named like a fio log is read as one; anything else must be a fio/phyr
// JSON result. Every refusal is a PlotInputError naming the file (and line).
import * as fs from 'fs';
import * as path from 'path';
import { CliPathError, readBoundedTextFile } from '../../lib/files';
import { PLOT_USAGE, PlotInputError } from './errors';
import { logKindOf, parseFioLog } from './fio-log';
import { readResult } from './result';
import type { PlotInput } from './types';

/** The largest input read: 256 MiB (a per-IO fio log of a long run; give log_avg_msec for less). */
export const PLOT_INPUT_MAX_BYTES = 256 << 20;

function readText(file: string, what: string): string {
  // Size the read buffer from the file's size (readBoundedTextFile allocates its bound).
  let bound = PLOT_INPUT_MAX_BYTES;
  try {
    const st = fs.statSync(file);
    if (st.isFile()) bound = Math.min(PLOT_INPUT_MAX_BYTES, st.size + (1 << 16));
  } catch {
    // readBoundedTextFile names the reason.
  }
  try {
    return readBoundedTextFile(file, what, PLOT_USAGE, bound);
  } catch (err) {
    if (err instanceof CliPathError) throw new PlotInputError(err.message);
    throw err;
  }
}

/** Reads one input; `file` is the path as given. */
export function loadPlotInput(file: string): PlotInput {
  const logId = logKindOf(file);
  if (logId) {
    const log = parseFioLog(file, readText(file, 'fio log file'));
    const job = log.job === undefined ? 'all jobs (per_job_logs=0)' : `job ${log.job}`;
    return {
      file,
      label: path.basename(file),
      producer: 'fio log format (fio or phyr bench: the file does not say)',
      jobs: [],
      log,
      meta: [
        ['log', `${log.kind} log of ${job}, ${log.kind === 'clat_hist' ? `${log.hist.length} histogram rows` : `${log.samples.length} samples`}`],
        ...(log.epochStartMs === undefined ? [] : [['time', `Unix epoch times (log_unix_epoch), drawn from the first, ${new Date(log.epochStartMs).toISOString()}`] as [string, string]]),
      ],
    };
  }
  const text = readText(file, 'result file');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new PlotInputError(`${file}: not JSON (${(err as Error).message}); give a result written with --output-format=json or json+, or a fio log file named PREFIX_KIND.N.log`);
  }
  return resultInput(file, doc);
}

/**
 * A result document already parsed (by `phyr compare`, say) as a plot input; `file` names
 * it in legends and messages. Throws PlotInputError if it is not a fio/phyr result.
 */
export function resultInput(file: string, doc: unknown): PlotInput {
  const result = readResult(file, doc);
  return { file, label: path.basename(file), producer: result.producer, jobs: result.jobs, meta: result.meta };
}

/** Reads every input, in order; throws PlotInputError on the first bad one. */
export function loadPlotInputs(paths: string[]): PlotInput[] {
  if (paths.length === 0) throw new PlotInputError('no input: give at least one RESULT.json or fio log file');
  return paths.map(loadPlotInput);
}

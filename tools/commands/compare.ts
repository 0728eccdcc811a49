// `phyr compare A.json B.json [...]`: the jobs of several bench results side by side, with
// changes against the first, and `--fail-if` thresholds that gate on regressions (exit 1).
import { parseArgs } from 'util';
import { compareRuns, brokenThresholds, DEFAULT_PERCENTILES, type Comparison } from '../compare/compare';
import { CompareUsageError } from '../compare/errors';
import { comparisonJson } from '../compare/json';
import type { LatencyKind } from '../compare/metrics';
import { loadRuns, type Run } from '../compare/runs';
import { formatComparison } from '../compare/table';
import { parseThreshold } from '../compare/thresholds';
import { checkOutputFile, CliPathError } from '../../lib/files';
import { renderPlotPage, resultInput, PlotInputError, PLOT_USAGE, writeAtomically } from '../plot';

export const summary = 'compare bench results (phyr or fio JSON): IOPS, bandwidth, latency percentiles, CPU per IO; --fail-if gates';

const HELP = `usage: phyr compare BASELINE.json OTHER.json [...] [options]

Compares the jobs of result files written by \`phyr bench --output-format=json\` (or json+)
or by \`fio --output-format=json\` against the first file, the baseline. Jobs are matched by
name, in order (the second job of a name with the second); jobs found on one side only are
listed. Per job and direction: IOPS, bandwidth, latency percentiles p50/p99/p99.9 (and any
a threshold names), and CPU ns per IO (phyr's cpu_ns_per_io; for a fio document derived from
usr_cpu + sys_cpu, job_runtime and total IOs, marked *), each with its change in percent.

options:
  --fail-if EXPR         exit 1 when a compared file breaks EXPR for any matched job
                         (repeatable). EXPR is METRIC<CHANGE% or METRIC>CHANGE%:
                           iops<-5%     IOPS more than 5 % below the baseline's
                           bw<-5%       bandwidth likewise
                           p99>+10%     p99 latency more than 10 % above; any percentile
                                        the inputs carry: p50, p99.9, p99.99, ...
                           cpu>+10%     CPU ns per IO more than 10 % above
                         a direction prefix limits it (write.p99>+10%); without one it
                         holds for every direction the baseline's job did IO in
  --latency clat|lat     the latency series of the percentiles (default clat; lat needs
                         runs made with lat_percentiles=1)
  --output-format normal|json
                         the table (default), or the comparison as JSON
  --plot FILE.html       also write the runs overlaid on one phyr plot page (the same
                         page as \`phyr plot A.json B.json ... -o FILE.html\`)
  --help, -h             this help

exit status: 0 when every threshold holds, 1 when one is broken (each broken threshold is
named on stderr with the file, the job and the change), 2 on bad usage: a malformed
threshold, an unreadable or non-fio file, or a metric a threshold needs that a file lacks.`;

/** Output sinks (tests pass their own). */
export interface CompareIo {
  out(text: string): void;
  err(text: string): void;
}

const consoleIo: CompareIo = { out: (s) => console.log(s), err: (s) => console.error(s) };

/** What the command line asked for. */
export interface CompareRequest {
  files: string[];
  latency: LatencyKind;
  failIf: string[];
  format: 'normal' | 'json';
  /** --plot: the page to write the runs to, overlaid. */
  plot?: string;
}

/** Parses the command line; throws CompareUsageError (or parseArgs' error) on bad usage. */
export function parseCompareArgs(argv: string[]): CompareRequest | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'fail-if': { type: 'string', multiple: true },
      latency: { type: 'string' },
      'output-format': { type: 'string' },
      plot: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const latency = values.latency ?? 'clat';
  if (latency !== 'clat' && latency !== 'lat') throw new CompareUsageError(`--latency ${latency}: accepted are clat (completion latency, the default) and lat (total latency)`);
  const format = values['output-format'] ?? 'normal';
  if (format !== 'normal' && format !== 'json') throw new CompareUsageError(`--output-format ${format}: accepted are normal and json`);
  if (positionals.length < 2) throw new CompareUsageError(`needs at least two result files, a baseline and one to compare, got ${positionals.length}`);
  if (values.plot === '') throw new CompareUsageError('--plot needs a file name (FILE.html, or - for standard output)');
  return { files: positionals, latency, failIf: values['fail-if'] ?? [], format, plot: values.plot };
}

/** Loads the files and compares them: the parsed runs (for other readers, e.g. a plot) and the comparison. */
export function compareFiles(req: CompareRequest): { runs: Run[]; comparison: Comparison } {
  const thresholds = req.failIf.map(parseThreshold);
  const runs = loadRuns(req.files);
  return { runs, comparison: compareRuns(runs, { latency: req.latency, percentiles: DEFAULT_PERCENTILES, thresholds }) };
}

export async function run(argv: string[], io: CompareIo = consoleIo): Promise<number> {
  let comparison: Comparison;
  let format: CompareRequest['format'];
  try {
    const req = parseCompareArgs(argv);
    if (req === 'help') {
      io.out(HELP);
      return 0;
    }
    format = req.format;
    // The page's file is checked before anything is read: not one of the inputs, writable.
    if (req.plot !== undefined && req.plot !== '-') {
      try {
        checkOutputFile(req.plot, '--plot', PLOT_USAGE, req.files.map((f) => ({ path: f, what: 'one of the inputs' })));
      } catch (err) {
        if (err instanceof CliPathError) throw new CompareUsageError(err.message);
        throw err;
      }
    }
    const compared = compareFiles(req);
    comparison = compared.comparison;
    if (req.plot !== undefined) {
      // The documents compare read, drawn as `phyr plot` draws them (the baseline first).
      const page = renderPlotPage(compared.runs.map((r) => resultInput(r.file, r.document)), { title: `phyr compare: ${compared.runs.map((r) => r.file).join(' against ')}` });
      if (req.plot === '-') io.out(page);
      else writeAtomically(req.plot, page);
    }
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (e instanceof PlotInputError) {
      io.err(`phyr compare: --plot: ${(e as Error).message}`);
      return 2;
    }
    if (e instanceof CompareUsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      io.err(`phyr compare: ${(e as Error).message}\n(see phyr compare --help)`);
      return 2;
    }
    throw e;
  }
  io.out(format === 'json' ? comparisonJson(comparison) : formatComparison(comparison));
  const broken = brokenThresholds(comparison);
  for (const b of broken) io.err(`phyr compare: threshold broken: ${b.message}`);
  return broken.length ? 1 : 0;
}

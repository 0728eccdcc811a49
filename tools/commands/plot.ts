// `phyr plot INPUT... -o FILE.html`: one self-contained HTML page of charts from fio/phyr
// JSON results and fio log files. See docs/BENCH.md ("Plots").
import * as path from 'path';
import { parseArgs } from 'util';
import { checkOutputFile, CliPathError } from '../../lib/files';
import { loadPlotInputs, PLOT_USAGE, PlotInputError, renderPlotPage, writeAtomically } from '../plot';

export const summary = 'draw a results page (HTML, inline SVG) from fio/phyr JSON results and fio log files';

const HELP = `usage: phyr plot INPUT [INPUT...] -o FILE.html

Draws one self-contained HTML page (inline SVG, no script, no network) from:
  RESULT.json          a phyr bench or fio result (--output-format=json or json+)
  PREFIX_KIND.N.log    a fio log file, fio's or phyr bench's: KIND is bw, iops, lat, slat,
                       clat (--write_bw_log, --write_iops_log, --write_lat_log) or
                       clat_hist (--write_hist_log); keep fio's file name, it says the kind

Charts: IOPS and bandwidth over time per job (jobs[].phyr.timeline, or bw/iops logs),
latency percentiles over time (timeline p50/p99/p99.9, or lat/clat/hist logs), the
completion-latency histogram (json+ clat_ns.bins, or a hist log), the percentile curve on
log axes, and each input's options, target and machine. Several inputs overlay, one colour
per input. A chart with nothing to draw says which input it needs.

options:
  -o, --output FILE   the page to write (written whole, then renamed into place); - for stdout
  --title TEXT        the page's heading (default: phyr plot: and the input names)
  --help, -h          this help

exit status: 0 when the page was written, 2 on bad usage or a bad input (the message
names the file and line).`;

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        output: { type: 'string', short: 'o' },
        title: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new PlotInputError((err as Error).message);
  }
}


export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const out = values.output;
  if (out === undefined) throw new PlotInputError('-o FILE.html is required (or -o - for stdout)');
  if (positionals.length === 0) throw new PlotInputError('no input: give at least one RESULT.json or fio log file');
  if (out !== '-') {
    try {
      checkOutputFile(out, '-o', PLOT_USAGE, positionals.map((p) => ({ path: p, what: 'one of the inputs' })));
    } catch (err) {
      if (err instanceof CliPathError) throw new PlotInputError(err.message);
      throw err;
    }
  }
  const page = renderPlotPage(loadPlotInputs(positionals), { title: values.title });
  if (out === '-' || path.resolve(out) === '/dev/null') {
    if (out === '-') process.stdout.write(page);
    return 0;
  }
  writeAtomically(out, page);
  return 0;
}

// `renderPlotPage`: the whole self-contained HTML page (inline CSS and SVG, no script, no
// network): the inputs and what produced each, the charts, then each input's run details
// (time, target, machine, global and job options, whole-run figures).
import { formatValue } from './format';
import { esc } from './html';
import { buildCharts } from './series';
import { colourOf, renderChart } from './svg';
import { DIRECTIONS, type PlotInput } from './types';

/** Options of the page. */
export interface PlotPageOptions {
  /** The page's heading and <title>; default "phyr plot: " and the input names. */
  title?: string;
}

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:20px;margin:0 0 12px}h2{font-size:17px;margin:28px 0 8px}h3{font-size:15px;margin:16px 0 6px}
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.k{color:#555;white-space:nowrap}
.chart{margin:18px 0;padding:0}.chart figcaption{font-weight:600;margin-bottom:4px}
.chart svg{background:#fff;max-width:100%;height:auto}
.frame{fill:none;stroke:#888}.grid{stroke:#e4e4e4}.tick{font-size:11px;fill:#444}.axis{font-size:12px;fill:#222}
.legend{list-style:none;padding:0;margin:4px 0;columns:2}.legend li{font-size:12px}
.empty{border:1px dashed #aaa;padding:24px;color:#555;background:#fafafa;max-width:700px}
.note{font-size:12px;color:#555;margin:2px 0}.swatch{display:inline-block;width:14px;height:14px;vertical-align:middle}
`;

function kvTable(rows: Array<[string, string]>): string {
  if (rows.length === 0) return '<p class="note">none recorded</p>';
  return `<table>${rows.map(([k, v]) => `<tr><td class="k">${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}</table>`;
}

function inputsTable(inputs: PlotInput[]): string {
  const rows = inputs.map((inp, i) => {
    const what = inp.log ? `${inp.log.kind} log` : `${inp.jobs.length} job(s): ${inp.jobs.map((j) => j.name).join(', ')}`;
    return `<tr><td><span class="swatch" style="background:${colourOf(i)}"></span></td><td>${esc(inp.file)}</td><td>${esc(inp.producer)}</td><td>${esc(what)}</td></tr>`;
  });
  return `<table id="inputs"><tr><th></th><th>file</th><th>produced by</th><th>holds</th></tr>${rows.join('')}</table>`;
}

function details(inp: PlotInput, i: number): string {
  const parts = [`<h3><span class="swatch" style="background:${colourOf(i)}"></span> ${esc(inp.file)}</h3>`, `<p>produced by ${esc(inp.producer)}</p>`, kvTable(inp.meta)];
  for (const job of inp.jobs) {
    const totals: Array<[string, string]> = [];
    for (const d of DIRECTIONS) {
      const t = job.totals[d];
      if (t) totals.push([d, `${formatValue(t.iops, 'iops')} IOPS, ${formatValue(t.bw_bytes, 'bytes_per_s')} (whole run, as the result gives it)`]);
    }
    parts.push(`<h3>job ${esc(job.name)}</h3>`, kvTable([...totals, ...job.options.map(([k, v]): [string, string] => [`option: ${k}`, v]), ...job.phyr.map(([k, v]): [string, string] => [`phyr: ${k}`, v])]));
  }
  return `<section class="input" id="input-${i}">${parts.join('')}</section>`;
}

/** The page for `inputs` (from loadPlotInputs), one colour per input, overlaid on every chart. */
export function renderPlotPage(inputs: PlotInput[], options: PlotPageOptions = {}): string {
  const title = options.title ?? `phyr plot: ${inputs.map((i) => i.label).join(', ')}`;
  const charts = buildCharts(inputs).map(renderChart).join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${CSS}</style></head>
<body><h1>${esc(title)}</h1>
${inputsTable(inputs)}
${charts}
<h2>Runs: options, target and machine</h2>
${inputs.map(details).join('\n')}
</body></html>
`;
}

// One chart as inline SVG inside a <figure>: frame, grid, tick labels, one <path
// class="series"> per series (colour by input, dash by series within the input), an HTML
// legend under it and the chart's notes. No script: everything is visible as written.
import { formatValue } from './format';
import { esc } from './html';
import { fitScale } from './scale';
import type { Chart, Series } from './series';

/** One colour per input, in order (readable on white, distinct in print). */
export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];
const DASHES = ['', '7 3', '2 3', '10 3 2 3', '4 4', '1 2'];

/** The colour of input `i`. */
export const colourOf = (i: number) => PALETTE[i % PALETTE.length];
const dashOf = (style: number) => DASHES[style % DASHES.length];

const W = 760;
const H = 320;
const M = { left: 78, right: 18, top: 14, bottom: 46 };

/** The binary unit (1, KiB, MiB, ...) the largest value is written in. */
function binaryUnit(values: number[]): number {
  let max = 0;
  for (const v of values) if (v > max) max = v;
  let unit = 1;
  while (unit * 1024 <= max && unit < 2 ** 40) unit *= 1024;
  return unit;
}

/** The SVG path of a series: a line through consecutive points, broken at nulls and at points the axes cannot place. */
function pathOf(s: Series, x: (v: number) => number | undefined, y: (v: number) => number | undefined): string {
  const parts: string[] = [];
  let run: string[] = [];
  const flush = () => {
    if (run.length === 1) parts.push(`${run[0].replace('L', 'M')}h0.01`);
    else if (run.length > 1) parts.push(run.join(''));
    run = [];
  };
  for (const [px, py] of s.points) {
    const cx = x(px);
    const cy = py === null ? undefined : y(py);
    if (cx === undefined || cy === undefined) {
      flush();
      continue;
    }
    run.push(`${run.length === 0 ? 'M' : 'L'}${cx.toFixed(1)} ${cy.toFixed(1)}`);
  }
  flush();
  return parts.join('');
}

/** Series with at most this many points also mark each point: a short timeline stays visible. */
const MARK_POINTS = 40;

function markers(s: Series, x: (v: number) => number | undefined, y: (v: number) => number | undefined): string {
  const placed: string[] = [];
  for (const [vx, vy] of s.points) {
    const cx = x(vx);
    const cy = vy === null ? undefined : y(vy);
    if (cx !== undefined && cy !== undefined) placed.push(`<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="2.6"/>`);
  }
  if (placed.length === 0 || placed.length > MARK_POINTS) return '';
  return `<g class="markers" fill="${colourOf(s.input)}">${placed.join('')}</g>`;
}

function legend(chart: Chart): string {
  const items = chart.series.map((s) => {
    const dash = dashOf(s.style);
    const swatch = `<svg width="34" height="10" aria-hidden="true"><line x1="1" y1="5" x2="33" y2="5" stroke="${colourOf(s.input)}" stroke-width="2.5"${dash ? ` stroke-dasharray="${dash}"` : ''}/></svg>`;
    return `<li>${swatch} ${esc(s.label)}</li>`;
  });
  return `<ul class="legend">${items.join('')}</ul>`;
}

/** The chart's <figure>: SVG plus legend, or the reason there is nothing to draw. */
export function renderChart(chart: Chart): string {
  const head = `<figure class="chart" id="chart-${chart.id}" data-series="${chart.series.length}"><figcaption>${esc(chart.title)}</figcaption>`;
  const notes = chart.notes.map((n) => `<p class="note">${esc(n)}</p>`).join('');
  if (chart.series.length === 0) return `${head}<p class="empty">${esc(chart.empty)}</p>${notes}</figure>`;
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of chart.series) {
    for (const [px, py] of s.points) {
      if (py === null) continue;
      xs.push(px);
      ys.push(py);
    }
  }
  const sx = fitScale(chart.x.scale, xs, M.left, W - M.right);
  const sy = fitScale(chart.y.scale, ys, H - M.bottom, M.top, chart.y.unit === 'bytes_per_s' ? binaryUnit(ys) : 1);
  const px = (v: number) => (sx.accepts(v) ? sx.map(v) : undefined);
  const py = (v: number) => (sy.accepts(v) ? sy.map(v) : undefined);
  const grid: string[] = [];
  for (const t of sx.ticks) {
    const x = sx.map(t).toFixed(1);
    grid.push(`<line class="grid" x1="${x}" y1="${M.top}" x2="${x}" y2="${H - M.bottom}"/><text class="tick" x="${x}" y="${H - M.bottom + 16}" text-anchor="middle">${esc(formatValue(t, chart.x.unit))}</text>`);
  }
  for (const t of sy.ticks) {
    const y = sy.map(t).toFixed(1);
    grid.push(`<line class="grid" x1="${M.left}" y1="${y}" x2="${W - M.right}" y2="${y}"/><text class="tick" x="${M.left - 6}" y="${y}" dy="0.35em" text-anchor="end">${esc(formatValue(t, chart.y.unit))}</text>`);
  }
  const lines = chart.series.map((s) => {
    const dash = dashOf(s.style);
    const line = `<path class="series" d="${pathOf(s, px, py)}" fill="none" stroke="${colourOf(s.input)}" stroke-width="1.8" stroke-linejoin="round" stroke-linecap="round"${dash ? ` stroke-dasharray="${dash}"` : ''}><title>${esc(s.label)}</title></path>`;
    return line + markers(s, px, py);
  });
  const axes = `<text class="axis" x="${(M.left + W - M.right) / 2}" y="${H - 8}" text-anchor="middle">${esc(chart.x.label)}</text><text class="axis" transform="translate(14 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(chart.y.label)}</text>`;
  const frame = `<rect class="frame" x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}"/>`;
  const svg = `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(chart.title)}">${frame}${grid.join('')}${lines.join('')}${axes}</svg>`;
  return `${head}${svg}${legend(chart)}${notes}</figure>`;
}

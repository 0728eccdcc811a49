// The page and its charts as text: a chart draws one path per series, broken where an
// interval had no IO; a chart without data says why instead of drawing a frame; every
// string from an input is escaped; nothing on the page reaches the network or needs script.
import t from 'tap';
import { resultInput, renderPlotPage } from '../../tools/plot';
import { renderChart } from '../../tools/plot/svg';
import type { Chart } from '../../tools/plot/series';
import { fioResult, phyrResult } from './fixtures/plot-docs';

const base: Chart = { id: 'c', title: 'T', x: { label: 'x', scale: 'linear', unit: 'seconds' }, y: { label: 'y', scale: 'linear', unit: 'iops' }, series: [], empty: 'nothing <here>', notes: [] };

t.test('a series is one path, broken at nulls; an isolated point still shows', async (t) => {
  const svg = renderChart({ ...base, series: [{ label: 'a', input: 0, style: 0, points: [[0, 1], [1, 2], [2, null], [3, 4], [4, null], [5, 1], [6, 2]] }] });
  const paths = [...svg.matchAll(/<path class="series" d="([^"]*)"/g)].map((m) => m[1]);
  t.equal(paths.length, 1);
  t.equal((paths[0].match(/M/g) ?? []).length, 3, 'three runs: [0,1], [3], [5,6]');
  t.match(paths[0], /M[\d.]+ [\d.]+h0\.01/, 'the lone point is a dot');
  t.equal((svg.match(/<circle /g) ?? []).length, 5, 'a short series marks each of its points');
  const long = renderChart({ ...base, series: [{ label: 'l', input: 0, style: 0, points: Array.from({ length: 41 }, (_, i): [number, number] => [i, i]) }] });
  t.notMatch(long, /<circle /, 'a long one is a line only');
  t.match(svg, /data-series="1"/);
  t.match(svg, /<title>a<\/title>/, 'the series names itself on hover');
  t.match(svg, /<ul class="legend"><li>.*a<\/li><\/ul>/);
});

t.test('colours by input, dashes by series within an input', async (t) => {
  const svg = renderChart({ ...base, series: [
    { label: 'a1', input: 0, style: 0, points: [[0, 1], [1, 1]] },
    { label: 'a2', input: 0, style: 1, points: [[0, 2], [1, 2]] },
    { label: 'b1', input: 1, style: 0, points: [[0, 3], [1, 3]] },
  ] });
  const strokes = [...svg.matchAll(/<path class="series"[^>]*stroke="(#[0-9a-f]+)"[^>]*?(stroke-dasharray="([^"]*)")?>/g)].map((m) => [m[1], m[3] ?? '']);
  t.same(strokes, [['#1f77b4', ''], ['#1f77b4', '7 3'], ['#d62728', '']]);
});

t.test('a chart without data says so, without a frame', async (t) => {
  const html = renderChart(base);
  t.match(html, /<p class="empty">nothing &lt;here&gt;<\/p>/);
  t.notMatch(html, /<svg/);
  t.match(html, /data-series="0"/);
});

t.test('the page: inputs with producers, five charts, run details, escaped, self-contained', async (t) => {
  const evil = phyrResult();
  (evil.jobs as Array<{ jobname: string }>)[0].jobname = '<script>x</script>';
  const page = renderPlotPage([resultInput('dir/a"b.json', evil), resultInput('f.json', fioResult())]);
  t.match(page, /^<!DOCTYPE html>/);
  t.notMatch(page, /<script/i, 'no script: a job name cannot inject one');
  t.match(page, /&lt;script&gt;x&lt;\/script&gt;/);
  t.match(page, /dir\/a&quot;b\.json/);
  t.notMatch(page, /<link\b|<img\b|url\(|@import|https?:\/\//i, 'nothing fetched');
  t.equal((page.match(/<figure class="chart"/g) ?? []).length, 5);
  t.match(page, /<td>phyr-0\.1\.0<\/td>/, 'the phyr document says phyr and its version');
  t.match(page, /<td>fio-3\.33<\/td>/, 'the fio document says fio and its version');
  t.match(page, /<td class="k">target<\/td><td>emu:backend=null<\/td>/);
  t.match(page, /<td class="k">machine<\/td><td>not recorded in this result<\/td>/, 'no machine section: said, not invented');
  t.match(page, /<td class="k">global: runtime<\/td><td>2<\/td>/);
  t.match(page, /<td class="k">option: iodepth<\/td><td>32<\/td>/);
  t.match(page, /<td class="k">phyr: cpu_ns_per_io<\/td><td>512\.5<\/td>/);
  t.match(page, /<td class="k">read<\/td><td>500 IOPS, 1\.95 MiB\/s \(whole run, as the result gives it\)<\/td>/);
  t.match(renderPlotPage([resultInput('f.json', fioResult())], { title: 'T&T' }), /<title>T&amp;T<\/title>/);
});

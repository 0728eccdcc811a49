// phyr plot's series and scales, from hand-written documents and log lines: what each
// chart draws, per input and job, and where its axes put the values.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import t, { type Test } from 'tap';
import { FIO_PLAT_NR, histColumnValues, percentileOf, platIdxToVal } from '../../tools/plot/fio-buckets';
import { formatValue } from '../../tools/plot/format';
import { loadPlotInputs } from '../../tools/plot/inputs';
import { fitScale, niceStep } from '../../tools/plot/scale';
import { buildCharts, perIoWindowMs, type Chart } from '../../tools/plot/series';
import { BW_LOG_AVG, fioResult, perIoIopsLog, phyrResult } from './fixtures/plot-docs';

function inputsDir(t: Test, files: Record<string, string>): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-plot-series-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return Object.entries(files).map(([name, text]) => {
    fs.writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  });
}

const chart = (charts: Chart[], id: string) => {
  const c = charts.find((x) => x.id === id);
  if (!c) throw new Error(`no chart ${id}`);
  return c;
};

t.test('timeline: IOPS, bandwidth and percentiles over time per job and direction, nulls kept as gaps', async (t) => {
  const charts = buildCharts(loadPlotInputs(inputsDir(t, { 'a.json': JSON.stringify(phyrResult()) })));
  const iops = chart(charts, 'iops');
  t.same(iops.series.map((s) => s.label), ['a.json · alpha · read', 'a.json · beta · write']);
  t.same(iops.series[0].points, [[0.5, 400], [1, 600], [1.5, 0], [2, 500]], 't_ms as seconds, iops as written');
  t.same(iops.series.map((s) => [s.input, s.style]), [[0, 0], [0, 1]], 'one input: one colour, a dash per series');
  t.same(iops.notes, ["a.json · alpha: the timeline's intervals of 500 ms, each point at an interval's end", "a.json · beta: the timeline's intervals of 1000 ms, each point at an interval's end"]);
  t.same(chart(charts, 'bw').series[0].points[1], [1, 2457600]);
  const lat = chart(charts, 'latency-time');
  t.same(lat.series.map((s) => s.label), ['a.json · alpha · read clat p50', 'a.json · alpha · read clat p99', 'a.json · alpha · read clat p99.9', 'a.json · beta · write clat p50', 'a.json · beta · write clat p99', 'a.json · beta · write clat p99.9']);
  t.same(lat.series[1].points, [[0.5, 4000], [1, 3000], [1.5, null], [2, 5000]], 'an interval without IO is a gap, not a zero');
});

t.test('json+ bins become the histogram as shares of IOs; percentiles the tail curve', async (t) => {
  const charts = buildCharts(loadPlotInputs(inputsDir(t, { 'a.json': JSON.stringify(phyrResult()), 'f.json': JSON.stringify(fioResult()) })));
  const h = chart(charts, 'histogram');
  t.same(h.series.map((s) => [s.label, s.input]), [['a.json · alpha · read', 0], ['f.json · f1 · read', 1]], 'the write direction without IO has no series');
  t.same(h.series[0].points, [[900, 40], [1000, 50], [4000, 9], [9000, 1]], 'values that are not fio bucket values are drawn as given');
  t.same(h.series[1].points, [[1, 0], [9, 0], [10, 60], [11, 0], [19, 0], [20, 20], [21, 0]], "shares count the 0 ns bucket, which the log axis cannot draw; fio's empty neighbour buckets are zeros");
  t.match(h.notes, [/f\.json · f1 · read: 2 IOs in the 0 ns bucket are not drawn/]);
  const p = chart(charts, 'percentiles');
  t.same(p.series.map((s) => s.label), ['a.json · alpha · read', 'a.json · beta · write', 'f.json · f1 · read']);
  t.same(p.series[2].points, [[50, 10], [90, 20]], 'the 100th percentile is off the tail axis');
  t.same(p.series[0].points.at(-1), [99.99, 20000]);
  t.same(chart(charts, 'iops').series.map((s) => s.input), [0, 0], 'the fio result has no timeline: only the phyr input draws');
});

t.test('fio logs: averaged bw in KiB/s, per-IO iops counted in windows, per direction', async (t) => {
  const files = inputsDir(t, { 'run_bw.1.log': BW_LOG_AVG, 'run_iops.2.log': perIoIopsLog(2000, 1000) });
  const inputs = loadPlotInputs(files);
  t.equal(inputs[0].log?.kind, 'bw');
  t.equal(inputs[1].log?.job, 2);
  const charts = buildCharts(inputs);
  const bw = chart(charts, 'bw');
  t.same(bw.series.map((s) => s.label), ['run_bw.1.log · job 1 · read', 'run_bw.1.log · job 1 · write']);
  t.same(bw.series[0].points, [[0.1, 1024000], [0.2, 2048000]], 'KiB/s times 1024');
  const iops = chart(charts, 'iops');
  t.equal(iops.series.length, 1);
  t.equal(perIoWindowMs(inputs[1].log!.samples), 50, '2000 IOs over 1 s: 50 ms windows hold 100 each');
  t.same(iops.series[0].points.slice(0, 3), [[0.05, 2000], [0.1, 2000], [0.15, 2000]], '100 IOs per 50 ms = 2000 IOPS');
  t.match(iops.notes, [/run_iops\.2\.log: per-IO log, IOs counted over 50 ms windows/]);
  t.match(chart(charts, 'histogram').empty, /json\+/, 'no histogram input: the chart says what it needs');
  t.equal(chart(charts, 'histogram').series.length, 0);
});

t.test('per-IO clat log: percentiles of each window, by rank as fio takes them', async (t) => {
  // 200 IOs over 100 ms: 50 ms windows; latencies 1..100 ns in the first, 101..200 in the second.
  const lines = Array.from({ length: 200 }, (_, i) => `${Math.floor(i / 2)}, ${i + 1}, 0, 4096, 0`);
  const [inp] = loadPlotInputs(inputsDir(t, { 'p_clat.1.log': `${lines.join('\n')}\n` }));
  const lat = chart(buildCharts([inp]), 'latency-time');
  t.same(lat.series.map((s) => s.label), ['p_clat.1.log · job 1 · read clat p50', 'p_clat.1.log · job 1 · read clat p99', 'p_clat.1.log · job 1 · read clat p99.9']);
  t.same(lat.series.map((s) => s.points), [[[0.05, 50], [0.1, 150]], [[0.05, 99], [0.1, 199]], [[0.05, 100], [0.1, 200]]]);
  t.match(lat.notes, [/per-IO clat log, percentiles of the logged IOs of each 50 ms window/]);
});

t.test('log_unix_epoch times are drawn from the first sample, which the input names', async (t) => {
  const [inp] = loadPlotInputs(inputsDir(t, { 'e_iops.1.log': '1764590400100, 10, 0, 0, 0\n1764590400600, 20, 0, 0, 0\n' }));
  t.equal(inp.log?.epochStartMs, 1764590400100);
  t.same(chart(buildCharts([inp]), 'iops').series[0].points, [[0, 10], [0.5, 20]]);
  t.match(inp.meta, [['log', /iops log of job 1, 2 samples/], ['time', /log_unix_epoch.*2025-12-01T12:00:00\.100Z/]]);
});

t.test('clat_hist log: fio buckets to ns, summed for the histogram, percentiles per row', async (t) => {
  const cols = FIO_PLAT_NR >> 4; // log_hist_coarseness=4: 16 buckets per column
  const row = (tm: number, dir: number, hot: number) => [tm, dir, 4096, ...Array.from({ length: cols }, (_, j) => (j === hot ? 10 : 0))].join(', ');
  const files = inputsDir(t, { 'h_clat_hist.1.log': [row(100, 0, 10), row(200, 0, 12), row(200, 1, 12)].join('\n') + '\n' });
  const charts = buildCharts(loadPlotInputs(files));
  const values = histColumnValues(cols, 'x');
  const h = chart(charts, 'histogram');
  t.same(h.series.map((s) => s.label), ['h_clat_hist.1.log · job 1 · read', 'h_clat_hist.1.log · job 1 · write']);
  t.equal(h.series[0].points.length, cols, 'every bucket column, empty ones as zeros (column 0 stands for 7.5 ns here)');
  t.same(h.series[0].points.filter(([, y]) => y! > 0), [[values[10], 50], [values[12], 50]]);
  const lat = chart(charts, 'latency-time');
  t.same(lat.series[0].points, [[0.1, values[10]], [0.2, values[12]]], 'read p50 per row');
  t.equal(lat.series.length, 6, 'p50/p99/p99.9 for read and write');
});

t.test('a json result (no bins) is named under the histogram, which draws the others', async (t) => {
  const plain = fioResult();
  delete ((plain.jobs as Array<{ read: { clat_ns: Record<string, unknown> } }>)[0].read.clat_ns.bins);
  const h = chart(buildCharts(loadPlotInputs(inputsDir(t, { 'plain.json': JSON.stringify(plain), 'a.json': JSON.stringify(phyrResult()) }))), 'histogram');
  t.same(h.series.map((s) => s.label), ['a.json · alpha · read']);
  t.same(h.notes, ['plain.json: no latency bins (json output; --output-format=json+ adds them)']);
});

t.test('a result with lat_ns percentiles only (--clat_percentiles=0 --lat_percentiles=1) draws those, labelled', async (t) => {
  const doc = fioResult();
  const read = (doc.jobs as Array<{ read: Record<string, unknown> }>)[0].read;
  read.lat_ns = read.clat_ns;
  read.clat_ns = { min: 1, max: 40, mean: 12 };
  const charts = buildCharts(loadPlotInputs(inputsDir(t, { 'f.json': JSON.stringify(doc) })));
  t.same(chart(charts, 'percentiles').series.map((s) => s.label), ['f.json · f1 · read (lat_ns: total latency)']);
  t.same(chart(charts, 'histogram').series.map((s) => s.label), ['f.json · f1 · read (lat_ns: total latency)']);
});

t.test("fio's bucket values (plat_idx_to_val)", async (t) => {
  t.equal(platIdxToVal(0), 0);
  t.equal(platIdxToVal(127), 127, 'the first two groups are exact');
  t.equal(platIdxToVal(128), 129, 'group 2: base 128, 2 ns per bucket, the middle');
  t.equal(platIdxToVal(192), 258, 'group 3: base 256, 4 ns per bucket');
  t.equal(FIO_PLAT_NR, 1856);
  t.same(histColumnValues(FIO_PLAT_NR, 'x').slice(0, 3), [0, 1, 2], 'coarseness 0: the buckets themselves');
  t.throws(() => histColumnValues(100, 'f.log'), /f\.log: 100 bucket columns; fio writes 1856 shifted right by log_hist_coarseness/);
  t.equal(percentileOf([[1, 1], [2, 1], [3, 2]], 50), 2);
  t.equal(percentileOf([[1, 1], [2, 1], [3, 2]], 99), 3);
  t.equal(percentileOf([], 50), undefined);
});

t.test('scales: nice linear steps, decades on log axes, the percentile tail axis', async (t) => {
  t.equal(niceStep(10, 5), 2);
  t.equal(niceStep(7_000_000, 5), 2_000_000);
  const lin = fitScale('linear', [0, 7_100_000], 0, 100);
  t.same(lin.ticks, [0, 2e6, 4e6, 6e6, 8e6]);
  t.equal(lin.map(4e6), 50);
  t.same(fitScale('linear', [0, 27.9 * 2 ** 30], 0, 1, 2 ** 30).ticks, [0, 10, 20, 30].map((g) => g * 2 ** 30), 'bytes: steps of whole GiB');
  const log = fitScale('log', [0, 150, 51_670], 0, 300);
  t.same(log.ticks, [100, 1000, 10000, 100000], 'zero is ignored; decades cover the rest');
  t.equal(log.map(1000), 100);
  t.notOk(log.accepts(0), 'a log axis cannot place 0');
  const tail = fitScale('tail', [1, 50, 99.99], 0, 400);
  t.same(tail.ticks, [50, 90, 99, 99.9, 99.99]);
  t.equal(tail.map(90), 100);
  t.equal(Math.round(tail.map(99.9)), 300, '90, 99, 99.9 one step apart');
  t.notOk(tail.accepts(100));
  const many = Array.from({ length: 300_000 }, (_, i) => i);
  t.equal(fitScale('linear', many, 0, 1).ticks.at(-1), 300_000, 'a long series does not overflow the argument list');
});

t.test('labels', async (t) => {
  t.equal(formatValue(1500, 'ns'), '1.5 µs');
  t.equal(formatValue(2_500_000, 'iops'), '2.5M');
  t.equal(formatValue(3 * 2 ** 30, 'bytes_per_s'), '3 GiB/s');
  t.equal(formatValue(99.99, 'percentile'), '99.99');
});

// bench/results: every committed run file validates, bench/RESULTS.md is exactly their
// rendering (so it is never edited by hand), rendering is deterministic, malformed run
// files are refused naming the file and field, and bench/matrix.js's run documents line
// up with the committed ones.
import t from 'tap';
import fs from 'fs';
import os from 'os';
import path from 'path';

/** A run document as bench/results/validate.js checks it (the fields these tests read). */
interface Column { key: string; label: string; unit: string | null; format: string; better?: 'higher' | 'lower' }
interface Row { key: string; label: string; params: Record<string, string | number>; figures: Record<string, unknown> }
interface Run { date: string; seq: number; script: string; columns: Column[]; rows: Row[]; notes: string[]; [field: string]: unknown }

const ROOT = path.resolve(__dirname, '..', '..');
const DIR = path.join(ROOT, 'bench', 'results');
// The modules are plain CommonJS scripts (bench/ runs without a build); typed here.
const store = require(path.join(DIR, 'store.js')) as {
  loadRuns(dir?: string): Run[];
  nextSeq(dir: string, date: string): number;
  runFileName(run: Run): string;
  writeRun(run: Run, dir?: string): string;
};
const { validateRun, RunFileError } = require(path.join(DIR, 'validate.js')) as { validateRun(run: unknown, file: string): Run; RunFileError: new (file: string, field: string, problem: string) => Error };
const { renderResults } = require(path.join(DIR, 'markdown.js')) as { renderResults(runs: Run[]): string };
const { regenerate, RESULTS_MD } = require(path.join(DIR, 'render.js')) as { regenerate(dir?: string, out?: string): string; RESULTS_MD: string };
const { matrixRun, MATRIX_COLUMNS } = require(path.join(DIR, 'matrix-run.js')) as { matrixRun(m: object): Run; MATRIX_COLUMNS: Column[] };
const { matrixRowIdentity } = require(path.join(DIR, 'matrix-rows.js')) as { matrixRowIdentity(label: string): { key: string; params: Record<string, string | number> } };

const runFiles = fs.readdirSync(DIR).filter((n) => n.endsWith('.json')).sort();
const readRun = (name: string): Run => JSON.parse(fs.readFileSync(path.join(DIR, name), 'utf8'));

t.test('every committed run file validates and is named by its date, seq and script', async (t) => {
  t.ok(runFiles.length >= 11, 'the ledger\'s dated sections are all run files');
  for (const name of runFiles) {
    const run = readRun(name);
    t.doesNotThrow(() => validateRun(run, `bench/results/${name}`), name);
    t.equal(store.runFileName(run), name, `${name} is named by its date, seq and script`);
  }
  const runs = store.loadRuns();
  t.equal(runs.length, runFiles.length);
  const order = runs.map((r) => `${r.date}-${String(r.seq).padStart(2, '0')}`);
  t.same(order, [...order].sort(), 'runs are ordered by date, then seq');
});

t.test('the committed bench/RESULTS.md is the rendering of the committed run files', async (t) => {
  const committed = fs.readFileSync(RESULTS_MD, 'utf8');
  t.ok(committed === renderResults(store.loadRuns()), 'bench/RESULTS.md is generated: run `node bench/results/render.js` after changing bench/results/*.json, never edit it');
});

t.test('rendering is deterministic and independent of the order runs are given in', async (t) => {
  const runs = store.loadRuns();
  const once = renderResults(runs);
  t.equal(renderResults(store.loadRuns()), once, 'the same files give the same text');
  t.equal(renderResults([...runs].reverse()), once, 'runs in reverse order give the same text');
  t.equal(renderResults(JSON.parse(JSON.stringify(runs))), once, 'a copy gives the same text');
  t.notMatch(once, /\d{4}-\d{2}-\d{2}T\d{2}:/, 'no generation timestamp in the text');
});

t.test('RESULTS.md holds the latest run, the best figure per row with its run, and a history line per row', async (t) => {
  const text = renderResults(store.loadRuns());
  const latest = store.loadRuns().pop()!;
  const id = `${latest.date}-${String(latest.seq).padStart(2, '0')}`;
  t.match(text, `## Latest run: ${id}`);
  for (const row of latest.rows) t.match(text, `| \`${row.key}\` | ${row.label.replace(/\|/g, '\\|')} |`, `latest run row ${row.key}`);
  // The matrix's QD128 null row: its best IOPS and the run that measured it, and its history.
  const matrix = store.loadRuns().filter((r) => r.script === 'bench/matrix.js');
  const qd128 = matrix.map((r) => ({ r, v: r.rows.find((x) => x.key === 'randread-4k-qd128-null')?.figures.iops as number }));
  const top = qd128.reduce((a, b) => (b.v > a.v ? b : a));
  const topId = `${top.r.date}-${String(top.r.seq).padStart(2, '0')}`;
  t.match(text, new RegExp(`\\| \`randread-4k-qd128-null\` \\| [^|]+ \\| ${top.v.toLocaleString('en-US')} \\| ${topId} \\|`), 'best IOPS with its run');
  const history = text.split('\n').find((l) => l.startsWith('- `randread-4k-qd128-null`:'));
  t.ok(history, 'a history line');
  t.equal(history!.split(' · ').length, matrix.length, 'one figure per matrix run');
});

// A scratch copy of the committed run files, for files made wrong on purpose.
function scratch(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-bench-results-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const name of runFiles) fs.copyFileSync(path.join(DIR, name), path.join(dir, name));
  // The rows' plot pages, which the loader checks are there.
  if (fs.existsSync(path.join(DIR, 'plots'))) fs.cpSync(path.join(DIR, 'plots'), path.join(dir, 'plots'), { recursive: true });
  return dir;
}
const LATEST = runFiles.filter((n) => n.endsWith('-matrix.json')).pop()!;

t.test('malformed run files are refused with the file and the field named', async (t) => {
  const cases: Array<[string, (run: Run) => unknown, RegExp]> = [
    ['a missing field', (r) => { delete r.commit; return r; }, /: commit: missing$/],
    ['an unknown field', (r) => ({ ...r, comit: null }), /: comit: unknown field$/],
    ['a bad date', (r) => ({ ...r, date: '2026-13-01' }), /: date: not a calendar date/],
    ['an invented commit', (r) => ({ ...r, commit: 'abc123' }), /: commit: expected a 40-digit commit id, got "abc123"/],
    ['a figure as text', (r) => { r.rows[2].figures.iops = '8,725,697'; return r; }, /: rows\[2\]\.figures\.iops: expected a finite number, got "8,725,697"/],
    ['a figure of no column', (r) => { r.rows[0].figures.iopz = 1; return r; }, /: rows\[0\]\.figures\.iopz: unknown field$/],
    ['a row without figures', (r) => { r.rows[1].figures = {}; return r; }, /: rows\[1\]\.figures: expected at least one figure$/],
    ['a duplicate row key', (r) => { r.rows[1].key = r.rows[0].key; return r; }, /: rows\[1\]\.key: duplicate row/],
    ['an unknown format', (r) => { r.columns[0].format = 'pretty'; return r; }, /: columns\[0\]\.format: expected one of/],
    ['a list for a compared figure', (r) => { r.rows[0].figures.iops = [1, 2]; return r; }, /: rows\[0\]\.figures\.iops: column 'iops' has a better figure/],
    ['load high below low', (r) => ({ ...r, load: { low: 3, high: 1, when: null, notes: null } }), /: load\.high: below load\.low/],
    ['not an object', () => [], /: \(top level\): expected an object/],
  ];
  for (const [what, spoil, message] of cases) {
    const run = spoil(readRun(LATEST));
    t.throws(() => validateRun(run, `bench/results/${LATEST}`), { name: 'RunFileError', message: new RegExp(`^bench/results/${LATEST}${message.source}`) }, what);
  }
  t.ok(new RunFileError('f', 'x', 'y') instanceof Error);
});

t.test('the loader refuses bad JSON, a misnamed file and one column with two units', async (t) => {
  {
    const dir = scratch(t);
    fs.writeFileSync(path.join(dir, LATEST), '{ "schema": ');
    t.throws(() => store.loadRuns(dir), { name: 'RunFileError', message: new RegExp(`${LATEST}: \\(json\\): `) }, 'bad JSON names the file');
  }
  {
    const dir = scratch(t);
    fs.renameSync(path.join(dir, LATEST), path.join(dir, '2030-01-01-01-matrix.json'));
    t.throws(() => store.loadRuns(dir), { message: new RegExp(`2030-01-01-01-matrix\\.json: date/seq/script: the file must be named ${LATEST}`) }, 'a file named for another run');
  }
  {
    const dir = scratch(t);
    const run = readRun(LATEST);
    run.columns.find((c) => c.key === 'cpuNsPerIo')!.unit = 'µs/IO';
    fs.writeFileSync(path.join(dir, LATEST), JSON.stringify(run));
    t.throws(() => store.loadRuns(dir), { message: /: columns\[8\]\.unit: "µs\/IO" where .*-matrix\.json has "ns\/IO" for column 'cpuNsPerIo' of bench\/matrix\.js/ }, 'units must agree across runs of a script');
  }
  {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-bench-results-'));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    t.throws(() => renderResults(store.loadRuns(dir)), /no run files/, 'nothing to render is an error');
  }
});

// What bench/matrix.js hands over, shaped as its row builders make them.
function fakeMatrix(date: string, seq: number) {
  const device = (label: string, iops: number) => ({
    label, iops, slowest: iops * 0.9, fastest: iops * 1.1, mibps: (iops * 4096) / 2 ** 20, p50: 2334.5, p99: 17812, p999: 64321,
    cpuNsPerIo: 121.4, busyNsPerIo: 120.6, dptr: 'prp', range: 'unused', verify: '',
  });
  return {
    date, seq, time: '13:05:00Z', command: 'node bench/matrix.js', commit: 'a'.repeat(40),
    machine: { cores: 2, cpu: 'AMD EPYC', node: 'v20.20.2' }, load: 1.234, hugepages: '0', repeat: 3, seconds: 3,
    memcpy: { mibps: 19270.4, bytesCopied: 25600 * 2 ** 20, seconds: 1.5 },
    rows: [device('4 KiB randread QD128, null backend, 1 job', 8725697.4), { ...device('4 KiB randread QD1, ram backend, crc32c verify', 466494), verify: '11195864 blocks, 0 errors' }],
    apiRows: [
      { label: '4 KiB randread QD128, null backend, driver batch API from JS (bench/driver-api.js)', iops: 10700501, mibps: 41798.8, cpuNsPerIo: 93, note: 'JS thread CPU ns/IO; process 186, driver work 83' },
      { label: 'batch and promise APIs', note: 'bench/driver-api.js is not present in this tree' },
    ],
    floorRows: [{ label: 'engine alone, null queue, QD128 (no device)', iops: 97720896, cpuNsPerIo: 10.2, note: 'floor: offsets, timestamps, histograms' }],
  };
}

t.test('a matrix run document validates and lines up with the committed matrix runs', async (t) => {
  const run = matrixRun(fakeMatrix('2031-01-02', 1));
  t.doesNotThrow(() => validateRun(run, 'fake'));
  t.same(MATRIX_COLUMNS, readRun(LATEST).columns, 'the same columns as the latest committed matrix run');
  t.same(run.columns, MATRIX_COLUMNS);
  t.same(run.rows.map((r) => r.key), ['randread-4k-qd128-null', 'randread-4k-qd1-ram-crc32c', 'api-batch-randread-4k-qd128-null', 'floor-engine-qd128']);
  t.same(run.rows[0].figures, { iops: 8725697, iopsSlowest: 7.85, iopsFastest: 9.6, mibps: 34084.8, pctMemcpy: 176.9, p50: 2.33, p99: 17.8, p999: 64.3, cpuNsPerIo: 121, busyNsPerIo: 121, dptr: 'prp' }, 'figures rounded as shown, latencies in µs');
  t.equal(run.rows[1].figures.verify, '11195864 blocks, 0 errors');
  t.same(run.notes, ['batch and promise APIs: bench/driver-api.js is not present in this tree'], 'a row without figures becomes a note');
  t.same(run.load, { low: 1.23, high: 1.23, when: 'at the start', notes: null });
  t.equal(run.commit, 'a'.repeat(40));
  t.match(matrixRun({ ...fakeMatrix('2031-01-02', 1), dirty: true }).notes[0], /uncommitted changes/, 'a run of a changed tree says so');
});

t.test('a new run file takes the next seq of its day and RESULTS.md is regenerated with it', async (t) => {
  const dir = scratch(t);
  // The newest day of any run (a VM run may be newer than the newest matrix run).
  const date = runFiles[runFiles.length - 1].slice(0, 10);
  const seq = store.nextSeq(dir, date);
  t.ok(seq >= 2, 'a second run of the latest day');
  t.equal(store.nextSeq(dir, '2031-01-02'), 1, 'the first run of a new day');
  const file = store.writeRun(matrixRun(fakeMatrix(date, seq)), dir);
  t.equal(path.basename(file), `${date}-${String(seq).padStart(2, '0')}-matrix.json`);
  t.throws(() => store.writeRun(matrixRun(fakeMatrix(date, seq)), dir), /exists already/, 'a run file is never overwritten');
  const out = path.join(dir, 'RESULTS.md');
  const text = regenerate(dir, out);
  t.equal(fs.readFileSync(out, 'utf8'), text);
  t.match(text, `## Latest run: ${date}-${String(seq).padStart(2, '0')} — phyr bench matrix (bench/matrix.js)`);
  t.match(text, `- Commit: \`${'a'.repeat(40)}\``);
});

t.test('matrix row keys come from the labels bench/matrix.js writes', async (t) => {
  for (const name of runFiles.filter((n) => n.endsWith('-matrix.json'))) {
    for (const row of readRun(name).rows) t.same(matrixRowIdentity(row.label), { key: row.key, params: row.params }, `${name}: ${row.key}`);
  }
});

t.test("a row's plot page is linked from RESULTS.md, and a missing page is refused", async (t) => {
  const dir = scratch(t);
  const date = '2031-01-03';
  const run = matrixRun(fakeMatrix(date, 1));
  run.rows[0] = { ...run.rows[0], plot: `plots/${date}-01/${run.rows[0].key}.html` } as Row;
  t.throws(() => validateRun({ ...run, rows: [{ ...run.rows[0], plot: '../outside.html' }] }, 'fake'), /rows\[0\]\.plot: expected a plot page under bench\/results\/plots/, 'only a page under plots/');
  store.writeRun(run, dir);
  t.throws(() => store.loadRuns(dir), { message: new RegExp(`rows\\[0\\]\\.plot: plots/${date}-01/randread-4k-qd128-null\\.html is missing next to the run file`) }, 'a dangling link is refused');
  fs.mkdirSync(path.join(dir, 'plots', `${date}-01`), { recursive: true });
  fs.writeFileSync(path.join(dir, 'plots', `${date}-01`, 'randread-4k-qd128-null.html'), '<!DOCTYPE html>');
  const text = renderResults(store.loadRuns(dir));
  t.match(text, `[4 KiB randread QD128, null backend, 1 job](results/plots/${date}-01/randread-4k-qd128-null.html)`);
});

t.test('the nodata backend rows have keys of their own', async (t) => {
  t.same(matrixRowIdentity('4 KiB randread QD1, nodata backend, 1 job'), { key: 'randread-4k-qd1-nodata', params: { rw: 'randread', bs: '4k', iodepth: 1, backend: 'nodata' } });
});


t.test("each script's part keeps its latest run's method and notes when another script ran later", async (t) => {
  const dir = scratch(t);
  const vm = runFiles.filter((n) => n.endsWith('-vm.json')).pop()!;
  const date = '2031-01-04';
  // A VM run, then a matrix run after it: the matrix run is the latest; the VM run's method
  // and notes must still be in the file.
  const vmRun = { ...readRun(vm), date, seq: 1, method: 'VM METHOD: one boot, twin controllers.', notes: ['VM NOTE: nvmet ratio 0.5×.'] };
  store.writeRun(vmRun, dir);
  store.writeRun(matrixRun(fakeMatrix(date, 2)), dir);
  const text = renderResults(store.loadRuns(dir));
  t.match(text, `## Latest run: ${date}-02 — phyr bench matrix (bench/matrix.js)`);
  const part = text.slice(text.indexOf('### bench/vm.js'));
  t.match(part, `Method and notes of this script's latest run, [${date}-01](results/${date}-01-vm.json)`);
  t.match(part, 'VM METHOD: one boot, twin controllers.');
  t.match(part, '- VM NOTE: nvmet ratio 0.5×.');
  const matrixPart = text.slice(text.indexOf('### bench/matrix.js'));
  t.match(matrixPart, `Method and notes: those of [${date}-02](results/${date}-02-matrix.json), the latest run above.`);
  // An older VM run's notes give way to the newer one's of the same script.
  t.notMatch(part.slice(0, part.indexOf('\n### ') > 0 ? part.indexOf('\n### ') : undefined), readRun(vm).notes[0] ?? 'no earlier note', 'only the latest run of the script');
});

// fio's log files from phyr bench, next to real fio's (Debian's fio package, --ioengine=null,
// writes the same logs; the shapes are compared, not the values): the file names, the
// columns of each line (log_offset, log_prio), one entry per direction and window, the
// per_job_logs=0 shared file, per-IO latency logs, histogram logs; the values consistent with the job's
// JSON; what is refused;
// and fio's own tools, fio2gnuplot and fio_generate_plots, read and plot phyr's logs.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'tools', 'phyr.js');
const TARGET = 'emu:backend=null,size=67108864';
const JOB = ['--name=j', '--rw=randrw', '--bs=4k', '--iodepth=4', '--time_based', '--runtime=1'];
const LOGS = ['--write_lat_log=p', '--write_bw_log=p', '--write_iops_log=p', '--log_avg_msec=250'];

let dir = '';

function which(tool: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d && fs.existsSync(path.join(d, tool)));
}

t.before(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:ts first`);
  // The oracle and fio's plotting tools are required (Debian packages fio and gnuplot-nox).
  for (const tool of ['fio', 'fio2gnuplot', 'fio_generate_plots', 'gnuplot']) if (!which(tool)) throw new Error(`${tool} is not installed (Debian packages fio, gnuplot-nox): this test runs it`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-logs-'));
});

t.teardown(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function run(cwd: string, cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  fs.mkdirSync(cwd, { recursive: true });
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function phyr(cwd: string, args: string[]) {
  return run(cwd, process.execPath, [CLI, 'bench', TARGET, '--eta=never', ...args]);
}

function fio(cwd: string, args: string[]) {
  const r = run(cwd, 'fio', ['--ioengine=null', '--size=64m', ...args]);
  if (r.status !== 0) throw new Error(`fio failed: ${r.stderr}`);
  return r;
}

const logsIn = (d: string) => fs.readdirSync(d).filter((f) => f.endsWith('.log')).sort();
const linesOf = (f: string) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean);

// A line's shape: its column count, and the columns that are not measurements (ddir, bs,
// offset, prio) as written.
function shape(l: string): string {
  const c = l.split(', ');
  return [c.length, ...c.slice(2)].join('|');
}

function shapes(file: string): string[] {
  return [...new Set(linesOf(file).map(shape))].sort();
}

for (const [label, extra] of [['plain', []], ['log_offset=1 log_prio=1', ['--log_offset=1', '--log_prio=1']]] as const) {
  t.test(`${label}: fio's file names and line shapes`, async (t) => {
    const mine = path.join(dir, `mine-${extra.length}`), theirs = path.join(dir, `fio-${extra.length}`);
    const r = phyr(mine, [...JOB, ...LOGS, ...extra]);
    t.equal(r.status, 0, r.stderr);
    fio(theirs, [...JOB, ...LOGS, ...extra]);
    t.same(logsIn(mine), logsIn(theirs), 'the same files');
    t.same(logsIn(mine), ['p_bw.1.log', 'p_clat.1.log', 'p_iops.1.log', 'p_lat.1.log', 'p_slat.1.log']);
    for (const f of logsIn(theirs)) t.same(shapes(path.join(mine, f)), shapes(path.join(theirs, f)), `${f}: columns as fio writes them`);
  });
}

t.test('entries: one per direction and window, at the window\'s end, matching the JSON', async (t) => {
  const cwd = path.join(dir, 'values');
  const r = phyr(cwd, [...JOB, ...LOGS, '--output-format=json', '--runtime=2']);
  t.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout).jobs[0];
  const bw = linesOf(path.join(cwd, 'p_bw.1.log')).map((l) => l.split(', ').map(Number));
  // The bw log's entries are the job's bandwidth samples (fio: write_bw_log makes bwavgtime
  // log_avg_msec), so their min, max and count are the JSON's.
  const reads = bw.filter((c) => c[2] === 0).map((c) => c[1]);
  t.equal(reads.length, j.read.bw_samples, 'one read entry per sample');
  t.equal(Math.min(...reads), j.read.bw_min);
  t.equal(Math.max(...reads), j.read.bw_max);
  t.ok(reads.length >= 5 && reads.length <= 8, `2 s at 250 ms: ${reads.length} windows (7 or 8 on an idle machine)`);
  bw.filter((c) => c[2] === 0).forEach((c, i) => t.ok(c[0] >= 250 * (i + 1), `window ${i} ends at ${c[0]} ms`));
  const iops = linesOf(path.join(cwd, 'p_iops.1.log')).map((l) => l.split(', ').map(Number)).filter((c) => c[2] === 1);
  t.equal(iops.length, j.write.iops_samples);
  t.equal(Math.max(...iops.map((c) => c[1])), j.write.iops_max);
  const clat = linesOf(path.join(cwd, 'p_clat.1.log')).map((l) => l.split(', ').map(Number)).filter((c) => c[2] === 0);
  const lat = linesOf(path.join(cwd, 'p_lat.1.log')).map((l) => l.split(', ').map(Number)).filter((c) => c[2] === 0);
  t.ok(clat.length >= 5, 'a clat entry per window');
  clat.forEach((c, i) => t.ok(c[1] >= j.read.clat_ns.min && c[1] <= j.read.clat_ns.max && lat[i][1] >= c[1], `window ${i}: mean clat ${c[1]} ns within the job's range, lat >= clat`));
});

t.test('per_job_logs=0: the jobs share one file', async (t) => {
  const cwd = path.join(dir, 'shared');
  const r = phyr(cwd, [...JOB, '--numjobs=2', '--write_bw_log=s', '--log_avg_msec=250', '--per_job_logs=0']);
  t.equal(r.status, 0, r.stderr);
  t.same(logsIn(cwd), ['s_bw.log']);
  const theirs = path.join(dir, 'shared-fio');
  fio(theirs, [...JOB, '--numjobs=2', '--write_bw_log=s', '--log_avg_msec=250', '--per_job_logs=0']);
  t.same(logsIn(theirs), ['s_bw.log'], 'fio\'s name');
  // Two jobs, reads and writes, 4 windows each (at most).
  const n = linesOf(path.join(cwd, 's_bw.log')).length;
  t.ok(n >= 8 && n <= 16, `both jobs' entries: ${n}`);
});

t.test('per-IO latency logs (log_avg_msec=0, fio\'s default): every IO, fio\'s columns', async (t) => {
  // Paced, so both tools log a few hundred IOs (the shapes are compared, not the values).
  const job = [...JOB, '--rate_iops=200', '--write_lat_log=p', '--log_offset=1'];
  const mine = path.join(dir, 'perio'), theirs = path.join(dir, 'perio-fio');
  const r = phyr(mine, [...job, '--output-format=json']);
  t.equal(r.status, 0, r.stderr);
  fio(theirs, job);
  t.same(logsIn(mine), logsIn(theirs), 'the same files');
  // Columns, directions, bs and prio as fio writes them (the offsets are the IOs' own).
  const ioShape = (f: string) => [...new Set(linesOf(f).map((l) => { const c = l.split(', '); return [c.length, c[2], c[3], c[5]].join('|'); }))].sort();
  for (const f of logsIn(theirs)) t.same(ioShape(path.join(mine, f)), ioShape(path.join(theirs, f)), f);
  const j = JSON.parse(r.stdout).jobs[0];
  const rows = (f: string) => linesOf(path.join(mine, f)).map((l) => l.split(', ').map(Number));
  const lat = rows('p_lat.1.log'), clat = rows('p_clat.1.log'), slat = rows('p_slat.1.log');
  t.equal(lat.length, j.read.total_ios + j.write.total_ios, 'one entry per IO');
  t.equal(clat.filter((c) => c[2] === 1).length, j.write.total_ios, 'writes as ddir 1');
  t.ok(lat.every((c) => c.length === 6 && c[3] === 4096 && c[4] % 4096 === 0 && c[4] < 64 << 20 && c[5] === 0), 'bs, an aligned offset in the namespace, prio 0');
  t.ok(lat.every((c, i) => Math.abs(c[1] - clat[i][1] - slat[i][1]) <= 1 && c[4] === clat[i][4]), 'lat = slat + clat, IO by IO');
  t.ok(clat.every((c) => c[1] >= j.read.clat_ns.min - 1 || c[2] === 1), 'values are the IOs\' own');
  t.ok(lat.every((c, i) => i === 0 || c[0] >= lat[i - 1][0]), 'completion order');
});

t.test('histogram logs: fio\'s name, columns and bins; empty without log_hist_msec, as fio', async (t) => {
  for (const c of [0, 2]) {
    const job = [...JOB, '--write_hist_log=h', '--log_hist_msec=250', `--log_hist_coarseness=${c}`];
    const mine = path.join(dir, `hist-${c}`), theirs = path.join(dir, `hist-fio-${c}`);
    const r = phyr(mine, [...job, '--output-format=json']);
    t.equal(r.status, 0, r.stderr);
    fio(theirs, job);
    t.same(logsIn(mine), logsIn(theirs), 'the same file');
    t.same(logsIn(mine), ['h_clat_hist.1.log']);
    // time, ddir, bs, then fio's 1856 bins summed 2^c at a time.
    const head = (f: string) => [...new Set(linesOf(f).map((l) => { const x = l.split(', '); return [x.length, x[1], x[2]].join('|'); }))].sort();
    t.same(head(path.join(mine, 'h_clat_hist.1.log')), head(path.join(theirs, 'h_clat_hist.1.log')), `coarseness ${c}: columns, directions, bs as fio's`);
    t.equal(linesOf(path.join(mine, 'h_clat_hist.1.log'))[0].split(', ').length, 3 + 1856 / 2 ** c);
    const j = JSON.parse(r.stdout).jobs[0];
    const rows = linesOf(path.join(mine, 'h_clat_hist.1.log')).map((l) => l.split(', ').map(Number));
    const counted = (d: number) => rows.filter((x) => x[1] === d).reduce((a, x) => a + x.slice(3).reduce((b, v) => b + v, 0), 0);
    t.ok(counted(0) > 0 && counted(0) <= j.read.total_ios, `reads binned: ${counted(0)} of ${j.read.total_ios} (the part after the last window is in none)`);
    t.ok(counted(1) > 0 && counted(1) <= j.write.total_ios, 'writes binned');
    t.ok(rows.every((x, i) => i === 0 || x[0] >= rows[i - 1][0]), 'windows in time order');
    if (c === 0) {
      // fio's bins (stat.c plat_val_to_idx): no read lands below the bin of the job's
      // fastest read (less one: a bucket's midpoint stands for its values).
      const idx = (ns: number) => { const msb = ns ? Math.floor(Math.log2(ns)) : 0; if (msb <= 6) return ns; const e = msb - 6; return ((e + 1) << 6) + (Math.floor(ns / 2 ** e) & 63); };
      const lowest = Math.min(...rows.filter((x) => x[1] === 0).map((x) => x.slice(3).findIndex((v) => v > 0)));
      t.ok(lowest >= idx(j.read.clat_ns.min) - 1, `lowest read bin ${lowest}, the fastest read's ${idx(j.read.clat_ns.min)}`);
    }
  }
  const empty = path.join(dir, 'hist-none'), emptyFio = path.join(dir, 'hist-none-fio');
  t.equal(phyr(empty, [...JOB, '--write_hist_log=h']).status, 0);
  fio(emptyFio, [...JOB, '--write_hist_log=h']);
  t.same(logsIn(empty), logsIn(emptyFio));
  t.equal(fs.statSync(path.join(empty, 'h_clat_hist.1.log')).size, 0, 'log_hist_msec=0: an empty file, as fio writes');
});

t.test('refused: per-IO bandwidth entries, a latency window\'s maximum', async (t) => {
  const cwd = path.join(dir, 'refused');
  const perIo = phyr(cwd, [...JOB, '--write_bw_log=x']);
  t.not(perIo.status, 0);
  t.match(perIo.stderr, /log_avg_msec=0 asks for a bandwidth or IOPS entry per IO.*give log_avg_msec=N/);
  const max = phyr(cwd, [...JOB, '--write_lat_log=x', '--log_avg_msec=100', '--log_max_value=1']);
  t.not(max.status, 0);
  t.match(max.stderr, /log_max_value=1 with write_lat_log/);
  t.same(logsIn(cwd), [], 'no file written');
  const coarse = phyr(cwd, [...JOB, '--write_hist_log=x', '--log_hist_msec=100', '--log_hist_coarseness=7']);
  t.not(coarse.status, 0);
  t.match(coarse.stderr, /log_hist_coarseness/);
});

t.test('fio2gnuplot and fio_generate_plots read phyr\'s logs', async (t) => {
  const cwd = path.join(dir, 'plots');
  const r = phyr(cwd, [...JOB, ...LOGS]);
  t.equal(r.status, 0, r.stderr);
  const bwLines = linesOf(path.join(cwd, 'p_bw.1.log')).length;
  // fio2gnuplot: -b selects the bandwidth logs (*_bw.log, then the per-job *_bw.N.log), -k
  // keeps its statistics file, -g renders the traces with gnuplot.
  const f2g = run(cwd, 'fio2gnuplot', ['-b', '-k', '-g', '-d', path.join(cwd, 'f2g')]);
  t.equal(f2g.status, 0, f2g.stderr);
  t.match(f2g.stdout, /p_bw\.1\.log/, 'it found the per-job bandwidth log');
  const global = fs.readFileSync(path.join(cwd, 'f2g', 'result.global'), 'utf8');
  t.match(global, new RegExp(`values_count=${bwLines}\\n`), 'it read every entry');
  const values = linesOf(path.join(cwd, 'p_bw.1.log')).map((l) => Number(l.split(', ')[1]));
  t.match(global, new RegExp(`min=${Math.min(...values)}\\.00\\n`), 'its minimum is the log\'s');
  for (const png of ['p_bw.1-2Draw.png', 'result.average.png']) t.ok(fs.statSync(path.join(cwd, 'f2g', png)).size > 1000, `${png} rendered`);
  // fio_generate_plots: one SVG per log type, each plotting the job's series.
  const gp = run(cwd, 'fio_generate_plots', ['phyr']);
  t.equal(gp.status, 0, gp.stderr);
  for (const type of ['bw', 'iops', 'lat', 'clat', 'slat']) {
    const svg = fs.readFileSync(path.join(cwd, `phyr-${type}.svg`), 'utf8');
    t.match(svg, /Queue depth p\.1/, `${type}: the job's series is in the legend`);
    t.ok((svg.match(/<path/g) ?? []).length > 10, `${type}: lines drawn`);
  }
});

// phyr compare on real runs: a fast and a paced (rate_iops) `phyr bench` run on the embedded
// controller, and two real fio runs (ioengine=null); thresholds hold one way and break the
// other, through the built CLI (exit status and messages as a CI job sees them).
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PHYR_CLI } from '../helpers/fio-oracle';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-compare-cli-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

function spawn(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  if (r.error) throw r.error;
  return r;
}

function bench(file: string, extra: string[]): string {
  const out = path.join(dir, file);
  const r = spawn(process.execPath, [PHYR_CLI, 'bench', 'emu:backend=null,size=64M', '--eta=never', '--name=paced', '--rw=randread', '--bs=4k', '--iodepth=4', '--runtime=600ms', '--time_based', '--output-format=json', `--output=${out}`, ...extra]);
  if (r.status !== 0) throw new Error(`phyr bench: exit ${r.status}: ${r.stderr}`);
  return out;
}

function fio(file: string, extra: string[]): string {
  const out = path.join(dir, file);
  const r = spawn('fio', ['--name=paced', '--ioengine=null', '--rw=randread', '--bs=4k', '--size=16m', '--runtime=600ms', '--time_based', '--output-format=json', `--output=${out}`, ...extra]);
  if (r.status !== 0) throw new Error(`fio: exit ${r.status}: ${r.stderr}`);
  return out;
}

const compare = (...args: string[]) => spawn(process.execPath, [PHYR_CLI, 'compare', ...args]);

t.before(() => {
  if (!fs.existsSync(PHYR_CLI)) throw new Error(`${PHYR_CLI} is missing: run npm run build:ts first`);
});

t.test('phyr bench: a paced run breaks iops<-5% and bw<-5% against a free one; the other way holds', async (t) => {
  const fast = bench('fast.json', []);
  // Paced far below any free run (a free run on a loaded 2-core machine has dropped to ~700 IOPS).
  const slow = bench('slow.json', ['--rate_iops=200']);
  const worse = compare(fast, slow, '--fail-if', 'iops<-5%', '--fail-if', 'bw<-5%', '--fail-if', 'iops<-100%');
  t.equal(worse.status, 1, worse.stderr);
  t.match(worse.stderr, new RegExp(`phyr compare: threshold broken: ${slow.replace(/[.\\/]/g, '\\$&')}: job 'paced' read: iops -\\d+\\.\\d% \\(.+ against the baseline's .+\\) breaks iops<-5%`));
  t.match(worse.stderr, /job 'paced' read: bw -\d+\.\d% .* breaks bw<-5%/);
  t.notMatch(worse.stderr, /breaks iops<-100%/, 'a limit no run can pass below holds');
  t.match(worse.stdout, /job 'paced'\n/);
  t.match(worse.stdout, /iops<-5%: BROKEN/);
  t.match(worse.stdout, /iops<-100%: ok/);
  const better = compare(slow, fast, '--fail-if', 'iops<-5%', '--fail-if', 'bw<-5%');
  t.equal(better.status, 0, better.stderr);
  t.equal(better.stderr, '');
  t.match(better.stdout, /iops<-5%: ok\n\s+bw<-5%: ok/);
  const json = compare(fast, slow, '--output-format=json');
  t.equal(json.status, 0, 'no thresholds: nothing to break');
  const doc = JSON.parse(json.stdout) as { jobs: Array<{ rows: Array<{ iops: { value: number; change_percent: number | null } }>; cpu_ns_per_io: Array<{ derived: boolean }> }> };
  const [a, b] = doc.jobs[0].rows;
  t.equal(a.iops.change_percent, null);
  t.ok(b.iops.value < 210 && b.iops.value > 100, `the paced run's IOPS at most its 200 (a loaded machine keeps it lower): ${b.iops.value}`);
  t.ok((b.iops.change_percent ?? 0) < -5);
  t.same(doc.jobs[0].cpu_ns_per_io.map((c) => c.derived), [false, false], "phyr's own CPU figure");
  const bad = compare(fast, slow, '--fail-if', 'p99.42>+1%');
  t.equal(bad.status, 2);
  t.match(bad.stderr, /has no clat percentile 99\.42 \(it lists: 1, 5, 10, .*99\.99\)/);
});

t.test('real fio (ioengine=null): the same gate on fio documents, CPU per IO derived and marked', async (t) => {
  if (spawnSync('fio', ['--version']).status !== 0) throw new Error('fio is not installed (Debian package fio): this test compares fio runs');
  const fast = fio('fio-fast.json', []);
  const slow = fio('fio-slow.json', ['--rate_iops=2000']);
  const worse = compare(fast, slow, '--fail-if', 'iops<-5%', '--fail-if', 'cpu>+100000000%');
  t.equal(worse.status, 1, worse.stderr);
  t.match(worse.stderr, /job 'paced' read: iops -\d+\.\d% .* breaks iops<-5%/);
  t.match(worse.stdout, /baseline: .*fio-fast\.json \(fio-3\.\d+\)/);
  t.match(worse.stdout, /\* CPU ns per IO derived from usr_cpu \+ sys_cpu, job_runtime and total IOs/);
  const better = compare(slow, fast, '--fail-if', 'iops<-5%');
  t.equal(better.status, 0, better.stderr);
  const lat = compare(fast, slow, '--latency', 'lat');
  t.equal(lat.status, 2, 'fio keeps lat percentiles off by default');
  t.match(lat.stderr, /no lat_ns percentiles; run it with lat_percentiles=1/);
  const both = fio('fio-lat.json', ['--lat_percentiles=1']);
  const withLat = compare(both, both, '--latency', 'lat', '--fail-if', 'p99>+0%');
  t.equal(withLat.status, 0, withLat.stderr);
  t.match(withLat.stdout, /lat p99/);
});

t.test('phyr --help lists compare; compare without files is a usage error', async (t) => {
  const help = spawn(process.execPath, [PHYR_CLI, '--help']);
  t.equal(help.status, 0);
  t.match(help.stdout, /^ {2}compare {4}compare bench results/m);
  const none = compare();
  t.equal(none.status, 2);
  t.match(none.stderr, /phyr compare: needs at least two result files/);
});

t.test('--plot overlays the compared runs on one plot page; a bad --plot target is a usage error', async (t) => {
  const a = bench('plot-a.json', []);
  const b = bench('plot-b.json', ['--rate_iops=200']);
  const page = path.join(dir, 'compare.html');
  const r = compare(a, b, '--plot', page);
  t.equal(r.status, 0, r.stderr);
  const html = fs.readFileSync(page, 'utf8');
  t.match(html, /^<!DOCTYPE html>/);
  t.match(html, /phyr compare: .*plot-a\.json against .*plot-b\.json/, 'the title names the baseline and the compared run');
  t.match(html, /plot-a\.json/);
  t.match(html, /plot-b\.json/);
  t.notMatch(html, /<script/i, 'no script: the page reads without JavaScript');
  const toStdout = compare(a, b, '--plot', '-');
  t.equal(toStdout.status, 0, toStdout.stderr);
  t.match(toStdout.stdout, /<!DOCTYPE html>/);
  const onInput = compare(a, b, '--plot', a);
  t.equal(onInput.status, 2, 'the page may not overwrite an input');
  t.match(onInput.stderr, /phyr compare: .*--plot/);
  t.equal(JSON.parse(fs.readFileSync(a, 'utf8')).jobs.length, 1, 'the input is left as it was');
  const empty = compare(a, b, '--plot=');
  t.equal(empty.status, 2);
  t.match(empty.stderr, /--plot needs a file name/);
});

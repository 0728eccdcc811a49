// phyr bench against real fio on pacing and amounts: rate / rate_iops (linear and
// poisson), rate_min, thinktime, startdelay, loops, io_size and number_ios. fio runs with
// psync on a regular file of the namespace's size (the oracle); phyr runs the built CLI on
// the embedded controller. Counts that do not depend on the device's speed are compared
// exactly; paced counts within the stated tolerance of fio's.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const CLI = path.join(__dirname, '..', '..', 'dist', 'tools', 'phyr.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-fio-pacing-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
const img = path.join(tmp, 'ns.img');
const TARGET = 'emu:backend=ram,size=64M';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
}
interface JsonDir {
  io_bytes: number;
  total_ios: number;
}
interface JsonJob {
  jobname: string;
  error: number;
  job_runtime: number;
  read: JsonDir;
  write: JsonDir;
}

function spawn(cmd: string, args: string[]): Run {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL', cwd: tmp });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, wallMs: Date.now() - t0 };
}

const phyr = (args: string[]): Run => spawn(process.execPath, ['--no-warnings', CLI, 'bench', TARGET, ...args, '--eta=never']);
const fio = (args: string[]): Run => spawn('fio', ['--ioengine=psync', `--filename=${img}`, ...args]);

function job(r: Run): JsonJob {
  const doc = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { jobs: JsonJob[] };
  return doc.jobs[0];
}

/** Both programs' first job for the same options (JSON output). */
function both(args: string[]): { f: JsonJob; p: JsonJob; pRun: Run } {
  const f = fio([...args, '--output-format=json']);
  const pRun = phyr([...args, '--output-format=json']);
  return { f: job(f), p: job(pRun), pRun };
}

const counts = (j: JsonJob) => ({ error: j.error, reads: j.read.total_ios, writes: j.write.total_ios, readBytes: j.read.io_bytes, writeBytes: j.write.io_bytes });

t.before(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:ts first`);
  const v = spawnSync('fio', ['--version'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) throw new Error('fio is not installed: these tests compare phyr with real fio (apt-get install fio)');
  fs.writeFileSync(img, '');
  fs.truncateSync(img, 64 << 20);
});

t.test('amounts: number_ios, io_size (bytes and N% of size), loops and their product are fio\'s exactly', async (t) => {
  const cases: string[][] = [
    ['--name=n', '--rw=read', '--bs=4k', '--size=4m', '--number_ios=100'],
    ['--name=i', '--rw=write', '--bs=4k', '--size=4m', '--io_size=8m'],
    ['--name=p', '--rw=read', '--bs=4k', '--size=4m', '--io_size=25%'],
    ['--name=l', '--rw=write', '--bs=4k', '--size=1m', '--loops=3'],
    ['--name=nl', '--rw=read', '--bs=4k', '--size=1m', '--number_ios=10', '--loops=3'],
    ['--name=rl', '--rw=randread', '--bs=8k', '--size=1m', '--io_limit=3m'],
  ];
  for (const args of cases) {
    const { f, p } = both(args);
    t.same(counts(p), counts(f), args.join(' '));
  }
});

t.test('rate_iops=500 for 1 s does fio\'s ~500 IOs, at depth too (the schedule is by time)', async (t) => {
  for (const depth of ['1', '8']) {
    const { f, p } = both(['--name=r', '--rw=randread', '--bs=4k', '--rate_iops=500', '--runtime=1', '--time_based', `--iodepth=${depth}`]);
    t.ok(Math.abs(f.read.total_ios - 500) <= 5, `fio: ${f.read.total_ios}`);
    t.ok(Math.abs(p.read.total_ios - f.read.total_ios) <= 10, `iodepth=${depth}: phyr ${p.read.total_ios} vs fio ${f.read.total_ios}`);
  }
});

t.test('rate in bytes/s, and rate=,W paces only the writes of a mix (reads take the turns writes are not due)', async (t) => {
  const r = both(['--name=b', '--rw=read', '--bs=4k', '--rate=1m', '--runtime=1', '--time_based']);
  t.ok(Math.abs(r.p.read.io_bytes - r.f.read.io_bytes) <= 16 * 4096, `phyr ${r.p.read.io_bytes} vs fio ${r.f.read.io_bytes} bytes`);
  const mix = both(['--name=m', '--rw=rw', '--bs=4k', '--size=1m', '--rate=,4k']);
  t.same(counts(mix.p), counts(mix.f), 'one write (due at once), the rest reads');
  t.equal(mix.p.write.total_ios, 1);
});

t.test('rate_process=poisson keeps the mean rate', async (t) => {
  const { f, p } = both(['--name=q', '--rw=read', '--bs=4k', '--rate_iops=200', '--rate_process=poisson', '--runtime=2', '--time_based']);
  // 400 expected; a Poisson count's standard deviation is 20: both within 4 of them.
  t.ok(Math.abs(f.read.total_ios - 400) <= 80, `fio: ${f.read.total_ios}`);
  t.ok(Math.abs(p.read.total_ios - 400) <= 80, `phyr: ${p.read.total_ios}`);
});

t.test('thinktime after every thinktime_blocks IOs: fio\'s count in a time-based run', async (t) => {
  const { f, p } = both(['--name=t', '--rw=read', '--bs=4k', '--thinktime=100ms', '--thinktime_blocks=2', '--thinktime_spin=10ms', '--runtime=1', '--time_based']);
  t.equal(f.read.total_ios, 20, 'fio: two IOs per 100 ms');
  t.ok(Math.abs(p.read.total_ios - f.read.total_ios) <= 1, `phyr ${p.read.total_ios} vs fio ${f.read.total_ios}`);
});

t.test('startdelay delays the job without counting in its runtime', async (t) => {
  const { f, p, pRun } = both(['--name=s', '--rw=read', '--bs=4k', '--size=1m', '--startdelay=1']);
  t.same(counts(p), counts(f));
  t.ok(f.job_runtime < 1000 && p.job_runtime < 1000, `runtimes: fio ${f.job_runtime} ms, phyr ${p.job_runtime} ms`);
  t.ok(pRun.wallMs >= 1000, `phyr took ${pRun.wallMs} ms in all`);
});

t.test('rate_min not met fails the job with EIO (5) after the 2 s settle and one ratecycle, as fio', async (t) => {
  const args = ['--name=e', '--rw=read', '--bs=4k', '--rate_min=100g', '--ratecycle=300', '--runtime=5', '--time_based'];
  const { f, p, pRun } = both(args);
  t.equal(f.error, 5);
  t.equal(p.error, 5);
  t.not(pRun.status, 0, 'the run fails');
  for (const [who, j] of [['fio', f], ['phyr', p]] as const) t.ok(j.job_runtime >= 2000 && j.job_runtime < 3500, `${who} stopped at ${j.job_runtime} ms`);
  const normal = phyr([...args.slice(0, -2), '--runtime=3', '--time_based']);
  t.match(normal.stdout + normal.stderr, /rate_min=107374182400B\/s not met, got \d+B\/s/);
});

t.test('a minimum above the cap is refused, as fio refuses it', async (t) => {
  const args = ['--name=x', '--rw=read', '--bs=4k', '--rate_iops=100', '--rate_iops_min=200', '--runtime=1'];
  t.not(fio([...args, '--output-format=json']).status, 0, 'fio refuses');
  const p = phyr(args);
  t.not(p.status, 0);
  t.match(p.stderr, /rate_iops_min \(200\) exceeds rate_iops \(100\)/);
});

t.test('bad pacing values name the option and what to give', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['--rate=1m,2m,3m', /rate.*trim rate limits nothing/],
    ['--rate=,', /rate.*give a read or a write value/],
    ['--rate_process=uniform', /rate_process.*expected linear or poisson/],
    ['--thinktime_blocks=0', /thinktime_blocks/],
    ['--startdelay=1-5', /startdelay.*random delay range/],
    ['--thinktime_blocks_type=both', /thinktime_blocks_type.*expected complete or issue/],
    ['--verify=crc32c', /verify with loops is not supported/],
  ];
  for (const [opt, re] of cases) {
    const p = phyr(['--name=x', '--rw=write', '--bs=4k', '--size=1m', '--loops=2', opt]);
    t.not(p.status, 0, opt);
    t.match(p.stderr, re, opt);
  }
});

// phyr bench against real fio on fsync=N / fdatasync=N / end_fsync: the number of syncs
// (NVMe Flushes) a job issues and where fio reports them. fio runs with psync on a regular
// file of the namespace's size (the oracle); phyr runs the built CLI on the embedded
// controller.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnIn, type Run } from '../helpers/fio-oracle';

const CLI = path.join(__dirname, '..', '..', 'dist', 'tools', 'phyr.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-fio-flush-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
const img = path.join(tmp, 'ns.img');

interface Sync {
  total_ios: number;
  lat_ns: { N: number; min: number; max: number; percentile?: Record<string, number> };
}
interface JsonJob {
  error: number;
  write: { total_ios: number };
  read: { total_ios: number };
  sync: Sync;
}

const spawn = (cmd: string, args: string[]): Run => spawnIn(tmp, cmd, args);
const phyr = (args: string[]): Run => spawn(process.execPath, ['--no-warnings', CLI, 'bench', 'emu:backend=ram,size=64M', ...args, '--eta=never']);
const fio = (args: string[]): Run => spawn('fio', ['--ioengine=psync', `--filename=${img}`, ...args]);
const job = (r: Run): JsonJob => (JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { jobs: JsonJob[] }).jobs[0];

t.before(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:ts first`);
  const v = spawnSync('fio', ['--version'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) throw new Error('fio is not installed: these tests compare phyr with real fio (apt-get install fio)');
  fs.writeFileSync(img, '');
  fs.truncateSync(img, 64 << 20);
});

t.test('fsync=N: a sync after every N writes when more follow, counted as fio counts them', async (t) => {
  const cases: Array<[string[], number]> = [
    [['--rw=write', '--fsync=16'], 15],
    [['--rw=write', '--fsync=10'], 25],
    [['--rw=write', '--fsync=16', '--end_fsync=1'], 15],
    [['--rw=randwrite', '--fsync=16', '--iodepth=8'], 15],
    [['--rw=randrw', '--fsync=8', '--randseed=7'], -1],
    [['--rw=read', '--fsync=16'], 0],
    [['--rw=write', '--end_fsync=1'], 0],
  ];
  for (const [opts, expected] of cases) {
    const args = ['--name=s', '--bs=4k', '--size=1m', ...opts, '--output-format=json'];
    const f = job(fio(args));
    const p = job(phyr(args));
    const what = opts.join(' ');
    if (expected >= 0) t.equal(f.sync.total_ios, expected, `fio: ${what}`);
    if (expected >= 0) t.equal(p.sync.total_ios, f.sync.total_ios, `phyr: ${what}`);
    else {
      // randrw: fio's and phyr's mixes draw differently; each flushes once per 8 of its
      // writes, after the last one only if reads followed it.
      const w = p.write.total_ios;
      t.ok(p.sync.total_ios === Math.floor(w / 8) || p.sync.total_ios === Math.floor((w - 1) / 8), `phyr: ${p.sync.total_ios} syncs for ${w} writes`);
    }
    t.equal(p.sync.lat_ns.N, p.sync.total_ios, `every sync timed: ${what}`);
    if (p.sync.total_ios) {
      t.ok(p.sync.lat_ns.min > 0 && p.sync.lat_ns.max >= p.sync.lat_ns.min, 'measured latencies');
      t.same(Object.keys(p.sync.lat_ns.percentile ?? {}), Object.keys(f.sync.lat_ns.percentile ?? {}), 'fio\'s percentile keys');
    }
  }
});

t.test('fdatasync=N issues the same Flushes; phyr counts them in total_ios (fio 3.33 leaves it 0 but times them)', async (t) => {
  const args = ['--name=s', '--rw=write', '--bs=4k', '--size=1m', '--fdatasync=16', '--output-format=json'];
  const f = job(fio(args));
  const p = job(phyr(args));
  t.equal(f.sync.lat_ns.N, 15);
  t.equal(p.sync.lat_ns.N, 15);
  t.equal(p.sync.total_ios, 15, 'the measured count (an intended difference from fio 3.33)');
});

t.test('the normal output has fio\'s sync block', async (t) => {
  const args = ['--name=s', '--rw=write', '--bs=4k', '--size=1m', '--fsync=32'];
  for (const [who, r] of [['fio', fio(args)], ['phyr', phyr(args)]] as const) {
    t.equal(r.status, 0, `${who}: ${r.stderr}`);
    t.match(r.stdout, /fsync\/fdatasync\/sync_file_range:\n {4}sync \([num]?sec\): min=\d+, max=\d+, avg=/, who);
    t.match(r.stdout, / {4}sync percentiles \([num]?sec\):/, who);
  }
});

t.test('fsync and fdatasync with different counts are refused: NVMe has one Flush', async (t) => {
  const p = phyr(['--name=s', '--rw=write', '--bs=4k', '--size=1m', '--fsync=4', '--fdatasync=8']);
  t.not(p.status, 0);
  t.match(p.stderr, /fsync=4 and fdatasync=8 both ask for NVMe's one Flush: give one/);
});

// phyr bench against real fio on rw=trim and rw=randtrim: trims are Dataset Management
// deallocates, reported in fio's trim direction. fio cannot trim a regular file with psync
// (err 25), so its counts come from the null engine with the namespace's size; phyr runs
// the built CLI on the embedded controller, whose reads of deallocated blocks show that the
// ranges really were deallocated.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnIn, type Run } from '../helpers/fio-oracle';

const CLI = path.join(__dirname, '..', '..', 'dist', 'tools', 'phyr.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-fio-trim-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Dir {
  total_ios: number;
  io_bytes: number;
}
interface JsonJob {
  jobname: string;
  error: number;
  read: Dir;
  write: Dir;
  trim: Dir & { clat_ns: { N: number } };
}

const spawn = (cmd: string, args: string[]): Run => spawnIn(tmp, cmd, args);
const phyr = (args: string[]): Run => spawn(process.execPath, ['--no-warnings', CLI, 'bench', 'emu:backend=ram,size=64M', ...args, '--eta=never']);
const fioNull = (args: string[]): Run => spawn('fio', ['--ioengine=null', ...args]);
const jobs = (r: Run): JsonJob[] => (JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { jobs: JsonJob[] }).jobs;
const counts = (j: JsonJob) => [j.read.total_ios, j.write.total_ios, j.trim.total_ios, j.trim.io_bytes];

t.before(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:ts first`);
  const v = spawnSync('fio', ['--version'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) throw new Error('fio is not installed: these tests compare phyr with real fio (apt-get install fio)');
});

t.test('trim and randtrim issue fio\'s trims, in the trim direction', async (t) => {
  const cases = [
    ['--rw=trim', '--bs=64k', '--size=1m'],
    ['--rw=randtrim', '--bs=4k', '--size=1m'],
    ['--rw=trim', '--bs=128k', '--size=4m', '--offset=1m'],
    ['--rw=trim', '--bs=64k', '--size=1m', '--io_size=3m'],
  ];
  for (const c of cases) {
    const args = ['--name=t', ...c, '--output-format=json'];
    const [f] = jobs(fioNull(args));
    const [p] = jobs(phyr(args));
    t.equal(p.error, 0, c.join(' '));
    t.same(counts(p), counts(f), c.join(' '));
    t.equal(p.trim.clat_ns.N, p.trim.total_ios, 'every trim timed');
  }
  const normal = phyr(['--name=t', '--rw=trim', '--bs=64k', '--size=1m']).stdout;
  t.match(normal, /\n {2}trim: IOPS=/);
  t.match(normal, /issued rwts: total=0,0,16,0/);
  t.match(normal, /\n {3}TRIM: bw=/);
});

t.test('the trimmed ranges are deallocated: their verify headers are gone, the rest stay', async (t) => {
  const file = path.join(tmp, 'trim.fio');
  fs.writeFileSync(file, [
    '[w]', 'rw=write', 'bs=4k', 'size=1m', 'verify=crc32c', 'do_verify=0',
    '[t]', 'stonewall', 'rw=trim', 'bs=64k', 'size=512k',
    '[r]', 'stonewall', 'rw=read', 'bs=4k', 'offset=512k', 'size=512k', 'verify=crc32c',
    '[r0]', 'stonewall', 'rw=read', 'bs=4k', 'size=512k', 'verify=crc32c',
  ].join('\n') + '\n');
  const all = jobs(phyr(['--output-format=json', file]));
  t.same(all.map((j) => [j.jobname, j.error]), [['w', 0], ['t', 0], ['r', 0], ['r0', 84]], 'the untrimmed half verifies, the trimmed half does not');
});

t.test('what trims cannot do is refused, naming why', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--rw=trim', '--verify=crc32c'], /verify with trims is not supported/],
    [['--rw=trimwrite', '--verify=crc32c'], /verify with trims is not supported/],
  ];
  for (const [opts, re] of cases) {
    const p = phyr(['--name=x', '--bs=4k', '--size=1m', ...opts]);
    t.not(p.status, 0, opts.join(' '));
    t.match(p.stderr, re, opts.join(' '));
  }
});

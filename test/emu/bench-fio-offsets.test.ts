// phyr bench against real fio on where clones and percentage offsets start: offset_increment
// (bytes and N%) and offset_align. fio's start offsets come from its --write_iolog on a
// regular file of the namespace's size (the oracle); phyr's layout is read back on the
// embedded controller: the blocks a job wrote carry verify headers, so a verify read of the
// range fio names passes, and of the range just before it fails.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnIn, type Run } from '../helpers/fio-oracle';

const CLI = path.join(__dirname, '..', '..', 'dist', 'tools', 'phyr.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-fio-offsets-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
const img = path.join(tmp, 'ns.img');

const spawn = (cmd: string, args: string[]): Run => spawnIn(tmp, cmd, args);

/**
 * Where fio's last clone starts: fio writes onto a zeroed image, and the last run of
 * written 4 KiB blocks begins there (the clones share one iolog, so its order is not
 * reliable; the data is).
 */
function fioLastCloneStart(args: string[]): number {
  fs.rmSync(img, { force: true });
  fs.writeFileSync(img, '');
  fs.truncateSync(img, 64 << 20);
  const r = spawn('fio', ['--ioengine=psync', `--filename=${img}`, ...args]);
  if (r.status !== 0) throw new Error(`fio failed: ${r.stderr}`);
  const data = fs.readFileSync(img);
  let last = -1;
  let prevWritten = false;
  for (let off = 0; off < data.length; off += 4096) {
    const written = data.subarray(off, off + 4096).some((b) => b !== 0);
    if (written && !prevWritten) last = off;
    prevWritten = written;
  }
  if (last < 0) throw new Error('fio wrote nothing');
  return last;
}

/** phyr writes with the options, then verify-reads `bytes` at `at`: the job error of that read. */
function phyrReadBack(args: string[], at: number, bytes: number): number {
  const file = path.join(tmp, 'layout.fio');
  const opts = args.map((a) => a.replace(/^--/, ''));
  fs.writeFileSync(file, ['[w]', ...opts, 'rw=write', 'verify=crc32c', 'do_verify=0', '[r]', 'stonewall', 'rw=read', 'bs=4k', 'numjobs=1', `offset=${at}`, `size=${bytes}`, 'verify=crc32c'].join('\n') + '\n');
  const r = spawn(process.execPath, ['--no-warnings', CLI, 'bench', 'emu:backend=ram,size=64M', '--eta=never', '--output-format=json', file]);
  if (!r.stdout.includes('{')) throw new Error(`phyr printed no report: ${r.stderr}`);
  const jobs = (JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { jobs: Array<{ jobname: string; error: number }> }).jobs;
  return jobs.find((j) => j.jobname === 'r')!.error;
}

t.before(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:ts first`);
  const v = spawnSync('fio', ['--version'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) throw new Error('fio is not installed: these tests compare phyr with real fio (apt-get install fio)');
  fs.writeFileSync(img, '');
  fs.truncateSync(img, 64 << 20);
});

t.test('clones and percentage offsets start where fio starts them', async (t) => {
  const cases: string[][] = [
    ['--name=w', '--bs=64k', '--size=128k', '--numjobs=3', '--offset_increment=10%'],
    ['--name=w', '--bs=64k', '--size=256k', '--numjobs=2', '--offset=1m', '--offset_increment=8m'],
    ['--name=w', '--bs=64k', '--size=128k', '--offset=33%', '--offset_align=1m'],
    ['--name=w', '--bs=128k', '--size=128k', '--numjobs=2', '--offset=5%', '--offset_increment=3%', '--offset_align=256k'],
  ];
  for (const c of cases) {
    const at = fioLastCloneStart(['--rw=write', ...c]);
    const size = Number(/--size=(\d+)k/.exec(c.join(' '))![1]) * 1024;
    t.equal(phyrReadBack(c.slice(1), at, size), 0, `${c.join(' ')}: phyr wrote the last clone at fio's ${at}`);
    t.equal(phyrReadBack(c.slice(1), at - 65536, 65536), 84, `${c.join(' ')}: and not just before it`);
  }
});

/** Every write offset of fio's iolog for the options. */
function fioOffsets(args: string[]): number[] {
  const log = path.join(tmp, 'io.log');
  fs.rmSync(log, { force: true });
  const r = spawn('fio', ['--ioengine=psync', `--filename=${img}`, ...args, `--write_iolog=${log}`]);
  if (r.status !== 0) throw new Error(`fio failed: ${r.stderr}`);
  return [...fs.readFileSync(log, 'utf8').matchAll(/\swrite (\d+) \d+/g)].map((m) => Number(m[1]));
}

/** The job errors of a phyr job file run on the embedded controller. */
function phyrErrors(lines: string[]): Record<string, number> {
  const file = path.join(tmp, 'jobs.fio');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const r = spawn(process.execPath, ['--no-warnings', CLI, 'bench', 'emu:backend=ram,size=64M', '--eta=never', '--output-format=json', file]);
  if (!r.stdout.includes('{')) throw new Error(`phyr printed no report: ${r.stderr}`);
  const jobs = (JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { jobs: Array<{ jobname: string; error: number }> }).jobs;
  return Object.fromEntries(jobs.map((j) => [j.jobname, j.error]));
}

t.test('blockalign: random offsets on its multiples, as fio\'s', async (t) => {
  const offs = fioOffsets(['--name=w', '--rw=randwrite', '--bs=4k', '--blockalign=64k', '--size=1m', '--number_ios=16']);
  t.equal(offs.length, 16);
  t.ok(offs.every((o) => o % 65536 === 0), 'fio: every offset a multiple of 64k');
  const w = ['[w]', 'rw=randwrite', 'bs=4k', 'blockalign=64k', 'size=1m', 'number_ios=16', 'verify=crc32c', 'do_verify=0'];
  // Reading the 16 aligned 4k blocks (a random map over 16 units) finds 16 headers.
  t.same(phyrErrors([...w, '[r]', 'stonewall', 'rw=randread', 'bs=4k', 'blockalign=64k', 'size=1m', 'number_ios=16', 'verify=crc32c']), { w: 0, r: 0 });
  t.same(phyrErrors([...w, '[r]', 'stonewall', 'rw=read', 'bs=4k', 'size=8k', 'offset=0', 'verify=crc32c']), { w: 0, r: 84 }, 'the 4k after an aligned block was not written');
});

t.test('percentage_random=0 makes a random job sequential, as in fio', async (t) => {
  const offs = fioOffsets(['--name=w', '--rw=randwrite', '--bs=4k', '--percentage_random=0', '--size=1m', '--io_size=512k']);
  t.same(offs, Array.from({ length: 128 }, (_, i) => i * 4096), 'fio: 0, 4k, 8k, ...');
  const w = ['[w]', 'rw=randwrite', 'bs=4k', 'percentage_random=0', 'size=1m', 'io_size=512k', 'verify=crc32c', 'do_verify=0'];
  t.same(phyrErrors([...w, '[a]', 'stonewall', 'rw=read', 'bs=4k', 'size=512k', 'verify=crc32c', '[b]', 'stonewall', 'rw=read', 'bs=4k', 'offset=512k', 'size=4k', 'verify=crc32c']), { w: 0, a: 0, b: 84 });
  // Half random: both kinds of IO, still exactly the bytes asked for.
  const half = ['--name=h', '--rw=randwrite', '--bs=4k', '--percentage_random=50', '--size=1m', '--output-format=json'];
  const r = spawn(process.execPath, ['--no-warnings', CLI, 'bench', 'emu:backend=ram,size=64M', '--eta=never', ...half]);
  const j = (JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { jobs: Array<{ write: { io_bytes: number } }> }).jobs[0];
  t.equal(j.write.io_bytes, 1 << 20);
});

// read_iolog on the embedded controller, against its own write_iolog and against real fio:
// the IOs phyr replays (as its write_iolog of the replay logs them) are the log's, in order,
// with their offsets, lengths and directions — for a log phyr wrote (version 2) and for one
// fio 3.33 wrote on a regular file (version 3, with timestamps). fio's default
// replay_no_stall=0 keeps the log's timing (measured here on a wait line); =1 drops it.
// Sync lines (fio logs its fsync=N syncs) are replayed as NVMe Flushes and logged as fio logs them.
// rw=trimwrite is checked against the sequence fio 3.33 issues on a loop device (a regular
// file cannot be trimmed): trim 0, write 0, trim 4096, write 4096, ...
import t from 'tap';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnIn, PHYR_CLI } from '../helpers/fio-oracle';

let dir = '';
t.before(() => {
  if (!fs.existsSync(PHYR_CLI)) throw new Error(`${PHYR_CLI} is missing: run npm run build:ts first`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-replay-'));
});
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

const TARGET = 'emu:backend=null,size=8M';

function phyr(args: string[]): { status: number | null; stdout: string; stderr: string; job?: Record<string, unknown> & { job_runtime: number; read: { total_ios: number }; write: { total_ios: number }; trim: { total_ios: number; io_bytes: number } } } {
  const r = spawnIn(dir, process.execPath, [PHYR_CLI, 'bench', TARGET, '--eta=never', '--output-format=json', ...args]);
  return { ...r, job: r.status !== 2 && r.stdout ? JSON.parse(r.stdout).jobs[0] : undefined };
}

// The IO lines of a log as [action, offset, length] (version 3's timestamp and the file name dropped).
function ioLines(file: string): string[][] {
  const lines = fs.readFileSync(file, 'utf8').split('\n').slice(1).map((l) => l.trim().split(/\s+/));
  return lines.map((f) => (/^\d+$/.test(f[0]) ? f.slice(1) : f)).filter((f) => f.length === 4).map((f) => f.slice(1));
}

t.test('replaying phyr\'s own log issues the same IOs in the same order', async (t) => {
  const a = path.join(dir, 'a.log'), b = path.join(dir, 'b.log');
  const w = phyr(['--rw=randrw', '--bs=4k', '--bsrange=4k-16k', '--size=1m', '--iodepth=4', `--write_iolog=${a}`]);
  t.equal(w.status, 0, w.stderr);
  const r = phyr([`--read_iolog=${a}`, `--write_iolog=${b}`, '--iodepth=4']);
  t.equal(r.status, 0, r.stderr);
  t.same(ioLines(b), ioLines(a));
  t.ok(ioLines(a).length > 50, `${ioLines(a).length} IOs`);
  t.equal(r.job!.read.total_ios + r.job!.write.total_ios, ioLines(a).length);
});

t.test('replaying a log real fio wrote (version 3) issues fio\'s IOs', async (t) => {
  const img = path.join(dir, 'img'), f = path.join(dir, 'fio.log'), b = path.join(dir, 'fio-replayed.log');
  fs.writeFileSync(img, Buffer.alloc(1 << 20));
  const fio = spawnIn(dir, 'fio', ['--name=x', `--filename=${img}`, '--ioengine=psync', '--rw=randrw', '--bs=4k', '--size=512k', '--randseed=7', `--write_iolog=${f}`, '--output-format=json', `--output=${path.join(dir, 'fio.json')}`]);
  t.equal(fio.status, 0, `fio ran: ${fio.stderr}`);
  t.match(fs.readFileSync(f, 'utf8'), /^fio version 3 iolog\n/, 'fio 3.33 writes version 3');
  const r = phyr([`--read_iolog=${f}`, `--write_iolog=${b}`, '--replay_no_stall=1']);
  t.equal(r.status, 0, r.stderr);
  t.same(ioLines(b), ioLines(f));
  t.equal(ioLines(f).length, 128, '512 KiB of 4 KiB IOs');
});

t.test('the log\'s timing is kept unless replay_no_stall', async (t) => {
  const log = path.join(dir, 'wait.log');
  fs.writeFileSync(log, ['fio version 2 iolog', 'ns1 add', 'ns1 open', 'ns1 read 0 4096', 'ns1 wait 400000 0', 'ns1 read 4096 4096', 'ns1 close', ''].join('\n'));
  const stall = phyr([`--read_iolog=${log}`]);
  t.equal(stall.status, 0, stall.stderr);
  t.ok(stall.job!.job_runtime >= 390, `waited (${stall.job!.job_runtime} ms)`);
  const fast = phyr([`--read_iolog=${log}`, '--replay_no_stall']);
  t.equal(fast.status, 0, fast.stderr);
  t.ok(fast.job!.job_runtime < 200, `did not wait (${fast.job!.job_runtime} ms)`);
  t.equal(fast.job!.read.total_ios, 2);
});

t.test('trims in a log are replayed as Dataset Management deallocates and logged as trims', async (t) => {
  const log = path.join(dir, 'trim.log'), out = path.join(dir, 'trim-out.log');
  fs.writeFileSync(log, ['fio version 2 iolog', 'ns1 add', 'ns1 open', 'ns1 trim 0 8192', 'ns1 write 0 4096', 'ns1 read 8192 4096', 'ns1 trim 16384 4096', 'ns1 close', ''].join('\n'));
  const r = phyr([`--read_iolog=${log}`, `--write_iolog=${out}`]);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.job!.trim.total_ios, 2);
  t.equal(r.job!.trim.io_bytes, 12288);
  t.same(ioLines(out), ioLines(log));
});

t.test('a log phyr cannot replay is refused before any IO, naming the line', async (t) => {
  const log = path.join(dir, 'bad.log');
  fs.writeFileSync(log, 'fio version 2 iolog\nns1 read 0 4096\nns1 read 8388608 4096\n');
  const r = phyr([`--read_iolog=${log}`]);
  t.equal(r.status, 2);
  t.match(r.stderr, /read_iolog=.*bad\.log: IO 2 \(read 8388608 4096\): reaches beyond the namespace \(8MiB\)/);
  const missing = phyr([`--read_iolog=${path.join(dir, 'none.log')}`]);
  t.equal(missing.status, 2);
  t.match(missing.stderr, /cannot read the log/);
  const timed = phyr([`--read_iolog=${log}`, '--time_based', '--runtime=1']);
  t.equal(timed.status, 2);
  t.match(timed.stderr, /with time_based: a replay ends with its log/);
});

t.test('rw=trimwrite: each block trimmed, then written, as fio issues them', async (t) => {
  const out = path.join(dir, 'tw.log');
  const r = phyr(['--rw=trimwrite', '--bs=4k', '--size=64k', `--write_iolog=${out}`]);
  t.equal(r.status, 0, r.stderr);
  const expected = Array.from({ length: 16 }, (_, i) => [['trim', String(4096 * i), '4096'], ['write', String(4096 * i), '4096']]).flat();
  t.same(ioLines(out), expected);
  t.equal(r.job!.trim.total_ios, 16, 'fio: 16 trims and 16 writes of size=64k');
  t.equal(r.job!.write.total_ios, 16);
  t.equal(r.job!.trim.io_bytes, 65536);
});

t.test('syncs: fio logs them (at the last write\'s offset), phyr logs and replays them as Flushes', async (t) => {
  const img = path.join(dir, 'img-sync'), f = path.join(dir, 'fio-sync.log'), own = path.join(dir, 'phyr-sync.log'), b = path.join(dir, 'sync-replayed.log');
  fs.writeFileSync(img, Buffer.alloc(1 << 20));
  const fio = spawnIn(dir, 'fio', ['--name=x', `--filename=${img}`, '--ioengine=psync', '--rw=write', '--bs=4k', '--size=32k', '--fsync=4', `--write_iolog=${f}`, '--output-format=json', `--output=${path.join(dir, 'fio-sync.json')}`]);
  t.equal(fio.status, 0, `fio ran: ${fio.stderr}`);
  t.same(ioLines(f).filter((l) => l[0] === 'sync'), [['sync', '12288', '0']], 'fio: one sync, after the fourth write, none after the last');
  const w = phyr(['--rw=write', '--bs=4k', '--size=32k', '--fsync=4', `--write_iolog=${own}`]);
  t.equal(w.status, 0, w.stderr);
  t.same(ioLines(own), ioLines(f), 'phyr\'s fsync=4 log is fio\'s');
  const r = phyr([`--read_iolog=${f}`, `--write_iolog=${b}`, '--replay_no_stall=1']);
  t.equal(r.status, 0, r.stderr);
  t.same(ioLines(b), ioLines(f), 'the replay issues the sync where the log has it');
  t.equal((r.job as unknown as { sync: { total_ios: number } }).sync.total_ios, 1, 'one Flush');
});

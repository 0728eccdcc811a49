// phyr bench against real fio on the verify shaping options: verify_backlog(_batch) reads
// written blocks back during the write phase in fio's order (write_iolog compared line by
// line), verify_only checks what an earlier run wrote without writing (and fails with 84
// when a block changed since), verify_interval / verify_offset place one header per
// interval, and the bad values are refused naming what to do. fio runs on a regular file
// with psync (the oracle); phyr runs the built CLI on the embedded controller.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PHYR_CLI, spawnIn, type Run } from '../helpers/fio-oracle';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-fio-verify-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
const img = path.join(tmp, 'ns.img');
const NS = 64 << 20;

interface JsonDir { io_bytes: number; total_ios: number; runtime: number }
interface JsonJob { jobname: string; error: number; read: JsonDir; write: JsonDir; 'job options': Record<string, string> }

const spawn = (cmd: string, args: string[]): Run => spawnIn(tmp, cmd, args);
const phyrOn = (target: string, args: string[]): Run => spawn(process.execPath, ['--no-warnings', PHYR_CLI, 'bench', target, ...args, '--eta=never']);
const phyr = (args: string[]): Run => phyrOn('emu:backend=ram,size=64M', args);
const fio = (args: string[]): Run => spawn('fio', ['--ioengine=psync', `--filename=${img}`, ...args]);

// fio may print notices before its JSON document on stdout.
function jobs(r: Run): JsonJob[] {
  if (r.stdout.indexOf('{') < 0) throw new Error(`no JSON report (exit ${r.status}): ${r.stderr}`);
  return (JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { jobs: JsonJob[] }).jobs;
}
const counts = (j: JsonJob) => ({ reads: j.read.total_ios, readBytes: j.read.io_bytes, writes: j.write.total_ios, writeBytes: j.write.io_bytes, error: j.error });

// The reads and writes of an iolog (fio's version 3 lines carry a timestamp first; phyr
// writes version 2), as "w 0 4096" lines in order.
function ioLines(file: string): string[] {
  return fs.readFileSync(file, 'utf8').split('\n').map((l) => l.trim().split(/\s+/)).map((f) => (/^\d+$/.test(f[0]) ? f.slice(1) : f))
    .filter((f) => f[1] === 'read' || f[1] === 'write').map((f) => `${f[1][0]} ${f[2]} ${f[3]}`);
}

function freshImage(): void {
  fs.rmSync(img, { force: true });
  fs.writeFileSync(img, '');
  fs.truncateSync(img, NS);
}

t.before(() => {
  if (!fs.existsSync(PHYR_CLI)) throw new Error(`${PHYR_CLI} is missing: run npm run build:ts first`);
  const v = spawnSync('fio', ['--version'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) throw new Error('fio is not installed: these tests compare phyr with real fio (apt-get install fio)');
  freshImage();
});

t.test('verify_backlog: the writes and read-backs come in fio\'s order', async (t) => {
  const cases = [
    ['--bs=4k', '--size=128k', '--verify_backlog=4'],
    ['--bs=4k', '--size=128k', '--verify_backlog=4', '--verify_backlog_batch=2'],
    ['--bs=4k', '--size=128k', '--verify_backlog=4', '--verify_backlog_batch=6'],
    ['--bs=4k', '--size=128k', '--verify_backlog=5'],
    ['--bs=8k', '--size=256k', '--verify_backlog=3', '--verify_backlog_batch=7', '--verify=md5'],
    ['--bs=4k', '--size=64k', '--verify_backlog=1k'],
  ];
  for (const c of cases) {
    const args = ['--name=b', '--rw=write', '--verify=crc32c', ...c, '--output-format=json'];
    const flog = path.join(tmp, 'fio.log'), plog = path.join(tmp, 'phyr.log');
    fs.rmSync(flog, { force: true });
    fs.rmSync(plog, { force: true });
    freshImage();
    const f = fio([...args, `--write_iolog=${flog}`]);
    const p = phyr([...args, `--write_iolog=${plog}`]);
    t.equal(p.status, 0, p.stderr);
    const fl = ioLines(flog), pl = ioLines(plog);
    t.ok(fl.length > 0 && fl.some((l) => l.startsWith('r')), `${c.join(' ')}: fio read back (${fl.length} IOs)`);
    t.same(pl, fl, `${c.join(' ')}: phyr's IOs are fio's, line by line`);
    const [fj] = jobs(f), [pj] = jobs(p);
    t.same(counts(pj), counts(fj), `${c.join(' ')}: IOs and bytes per direction as fio's`);
    t.same(pj['job options'], Object.fromEntries(Object.entries(fj['job options']).filter(([k]) => !['filename', 'ioengine', 'write_iolog'].includes(k)).concat([['write_iolog', plog]])), `${c.join(' ')}: job options as written`);
  }
});

t.test('verify_backlog at depth and in a random job: every write read back once, as fio', async (t) => {
  for (const c of [['--rw=randwrite', '--bs=4k', '--size=1m', '--verify_backlog=8'], ['--rw=write', '--bs=4k', '--size=1m', '--verify_backlog=3', '--iodepth=4']]) {
    const args = ['--name=b', '--verify=crc32c', ...c, '--output-format=json'];
    freshImage();
    const fioArgs = c.includes('--iodepth=4') ? ['--ioengine=libaio', '--direct=1', ...args] : args;
    const [fj] = jobs(fio(fioArgs));
    const p = phyr(args);
    t.equal(p.status, 0, p.stderr);
    const [pj] = jobs(p);
    t.same(counts(pj), counts(fj), `${c.join(' ')}: IOs and bytes per direction as fio's`);
    t.equal(pj.read.total_ios, pj.write.total_ios, 'each write read back once');
  }
  // do_verify=0: no read-back at all, during the write phase or after it.
  freshImage();
  const off = ['--name=b', '--rw=write', '--bs=4k', '--size=256k', '--verify=crc32c', '--verify_backlog=4', '--do_verify=0', '--output-format=json'];
  t.same(counts(jobs(phyr(off))[0]), counts(jobs(fio(off))[0]), 'do_verify=0: writes only, as fio');
});

t.test('verify_backlog catches a block changed on its way back while the job still writes', async (t) => {
  const p = phyrOn('emu:backend=ram,size=64M,faults=corrupt:lba=9', ['--name=b', '--rw=write', '--bs=4k', '--size=1m', '--verify=crc32c', '--verify_backlog=4', '--verify_fatal=1', '--output-format=json']);
  t.equal(p.status, 1, 'the run fails');
  const [j] = jobs(p);
  t.equal(j.error, 84, 'EILSEQ, as fio reports a verify failure');
  t.equal(j.write.total_ios, 4, 'it stopped at the first backlog\'s read-back, in the write phase');
  t.match(p.stderr, /LBA 9/);
});

t.test('verify_only: no writes, the read-back checks what an earlier run wrote', async (t) => {
  const store = path.join(tmp, 'phyr-ns.img');
  const target = `emu:backend=file:${store},size=64M`;
  for (const rw of ['write', 'randwrite']) {
    const base = ['--name=v', `--rw=${rw}`, '--bs=4k', '--size=1m', '--verify=crc32c'];
    freshImage();
    fs.rmSync(store, { force: true });
    t.equal(fio([...base, '--do_verify=0']).status, 0);
    const w = phyrOn(target, [...base, '--do_verify=0']);
    t.equal(w.status, 0, w.stderr);
    const fj = jobs(fio([...base, '--verify_only', '--output-format=json']))[0];
    const pr = phyrOn(target, [...base, '--verify_only', '--output-format=json']);
    t.equal(pr.status, 0, pr.stderr);
    const pj = jobs(pr)[0];
    t.same(counts(pj), counts(fj), `${rw}: the dry run's writes and the read-back counted as fio counts them`);
    t.equal(pj.write.runtime, 0, 'the dry run took no time, as in fio');
    t.equal(fj.write.runtime, 0);
    // The normal output leaves the write phase out, as fio's does.
    const normal = phyrOn(target, [...base, '--verify_only']);
    t.notMatch(normal.stdout, /^ {2}write: IOPS/m, 'no write block for writes that were not issued');
    t.notMatch(fio([...base, '--verify_only']).stdout, /^ {2}write: IOPS/m, 'fio leaves it out too');
    // time_based: the dry run is still size-bound and the read-back runs (fio's do_dry_run).
    const tb = [...base, '--verify_only', '--time_based', '--runtime=1', '--output-format=json'];
    t.same(counts(jobs(phyrOn(target, tb))[0]), counts(jobs(fio(tb))[0]), `${rw} time_based: as fio`);
  }
  // A block changed since the write: error 84 in both.
  const base = ['--name=v', '--rw=write', '--bs=4k', '--size=1m', '--verify=crc32c'];
  const junk = Buffer.alloc(4096, 0x5a);
  for (const file of [img, store]) {
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, junk, 0, junk.length, 5 * 4096);
    fs.closeSync(fd);
  }
  const f = jobs(fio([...base, '--verify_only', '--output-format=json']))[0];
  const p = phyrOn(target, [...base, '--verify_only', '--output-format=json']);
  t.equal(f.error, 84, 'fio: EILSEQ');
  t.equal(p.status, 1);
  t.equal(jobs(p)[0].error, 84, 'phyr: EILSEQ');
  t.match(p.stderr, /the first at LBA 40/, 'the first block of the changed 4 KiB');
  // Nothing written before: every block fails, as fio's does on an empty file.
  freshImage();
  fs.rmSync(store, { force: true });
  t.equal(jobs(fio([...base, '--verify_only', '--output-format=json']))[0].error, 84);
  t.equal(jobs(phyrOn(target, [...base, '--verify_only', '--output-format=json']))[0].error, 84);
  fs.rmSync(store, { force: true });
});

t.test('verify_interval and verify_offset: the same IOs as fio, one header per interval', async (t) => {
  for (const extra of [['--verify_interval=1k'], ['--verify_interval=8k', '--bs=8k'], ['--verify_interval=4k', '--verify_offset=100'], ['--verify_interval=2k', '--verify_offset=1000', '--verify=md5']]) {
    const args = ['--name=i', '--rw=randwrite', '--bs=4k', '--size=1m', '--verify=crc32c', ...extra, '--output-format=json'];
    freshImage();
    const p = phyr(args);
    t.equal(p.status, 0, p.stderr);
    t.same(counts(jobs(p)[0]), counts(jobs(fio(args))[0]), `${extra.join(' ')}: as fio`);
  }
  // One header per 4 KiB: a block changed in the middle of an interval is reported at the
  // interval's first LBA (its header), and the report counts intervals checked.
  const p = phyrOn('emu:backend=ram,size=64M,faults=corrupt:lba=13', ['--name=i', '--rw=write', '--bs=8k', '--size=64k', '--verify=crc32c', '--verify_interval=4k']);
  t.equal(p.status, 1);
  t.match(p.stderr, /verify failed: 1 verify interval\(s\) of 4096 bytes did not match what was written; the first at LBA 8: crc32c mismatch/);
  t.match(p.stdout, /verify {7}: intervals of 4096 bytes checked=16, errors=1/);
});

t.test('bad verify shaping values are refused, naming what to do', async (t) => {
  const base = ['--name=x', '--rw=write', '--bs=4k', '--size=1m', '--verify=crc32c'];
  const refused: Array<[string[], RegExp, boolean]> = [
    // [options, phyr's error, does fio accept it]
    [['--verify_interval=3k'], /verify_interval=3KiB does not divide the block size 4KiB: each IO must hold whole verify intervals; give a divisor of every block size/, true],
    [['--verify_interval=1000'], /verify_interval=1000B is not a multiple of the namespace's LBA size \(512 bytes\).*use a multiple such as 1KiB/, true],
    [['--verify_interval=8k'], /verify_interval=8KiB does not divide the block size 4KiB/, true],
    [['--verify_interval=1k', '--verify_offset=1000'], /verify_offset=1000 must leave room for the 48-byte header .*48 \.\. 976 for a 1KiB interval/, true],
    [['--verify_offset=20'], /verify_offset=20 must leave room/, false],
    [['--verify=pattern', '--verify_pattern=0xab', '--verify_offset=100'], /verify_offset moves the verify header, and verify=pattern writes none/, true],
    [['--verify_backlog=abc'], /verify_backlog/, false],
    [['--verify_backlog=2m'], /verify_backlog.*at most 1048576/, true],
    [['--verify_only', '--verify_backlog=4'], /verify_only with verify_backlog is not supported/, true],
  ];
  for (const [opts, why, fioAccepts] of refused) {
    const p = phyr([...base, ...opts]);
    t.not(p.status, 0, `${opts.join(' ')}: refused`);
    t.match(p.stderr, why, `${opts.join(' ')}: says why`);
    t.equal(spawnSync('fio', ['--parse-only', ...base, ...opts], { encoding: 'utf8' }).status === 0, fioAccepts, `${opts.join(' ')}: fio ${fioAccepts ? 'accepts' : 'refuses'} it`);
  }
});

t.test('trim verification stays refused, with what fio 3.33 does with it', async (t) => {
  const base = ['--name=x', '--rw=write', '--bs=4k', '--size=64k', '--verify=crc32c'];
  // fio: a write job with trim_percentage trims nothing and says so.
  freshImage();
  const f = fio([...base, '--trim_percentage=50', '--output-format=json']);
  t.match(f.stdout + f.stderr, /trim entries leaked/, 'fio warns that it trimmed nothing');
  t.equal(jobs(f)[0].write.total_ios, 16);
  for (const opt of ['--trim_percentage=50', '--trim_verify_zero=1', '--trim_backlog=4', '--trim_backlog_batch=2']) {
    const p = phyr([...base, opt]);
    t.not(p.status, 0, `${opt}: refused`);
    t.match(p.stderr, /fio's trim verification is not implemented: measured on fio 3\.33, a write job with it trims nothing/, `${opt}: says why`);
  }
});

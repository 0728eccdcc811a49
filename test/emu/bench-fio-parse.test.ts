// What an option means, differentially against real fio: unit suffixes under both kb_base
// values, percentage offsets and sizes, block-aligned percentage offsets, and verify=null.
// fio runs with psync on a regular file of the namespace's size (64 MiB); phyr runs on the
// embedded controller with a 64 MiB RAM namespace. Every expected value below was measured
// on fio 3.33 and is checked against the installed fio again on each run.
import t, { type Test } from 'tap';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { parseBenchArgs } from '../../bench/cli/config';
import { openBenchDevice, type OpenBenchDevice } from '../../bench/cli/device';
import { runJobs } from '../../bench/cli/runner';
import type { JobResult } from '../../bench/cli/results';
import type { EmuFunction } from '../../emu';

const quiet = { isTty: false, write: () => undefined };
const NS_BYTES = 64 << 20;
const TARGET = 'emu:backend=ram,size=64M';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-fio-parse-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

const probe = spawnSync('fio', ['--version'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) throw new Error(`real fio is required for these differential tests (install the fio package): ${probe.error?.message ?? probe.stderr}`);

interface FioRun { json: any; stderr: string; status: number | null; offsets: number[] }

/** Runs real fio on a fresh 64 MiB regular file; `offsets` are the IOs' offsets from its iolog. */
function fio(args: string[]): FioRun {
  const file = path.join(tmp, 'ns.img');
  const log = path.join(tmp, 'iolog.txt');
  fs.rmSync(file, { force: true });
  fs.rmSync(log, { force: true });
  fs.writeFileSync(file, '');
  fs.truncateSync(file, NS_BYTES);
  const r = spawnSync('fio', ['--name=a', `--filename=${file}`, '--ioengine=psync', '--output-format=json', `--write_iolog=${log}`, ...args], { encoding: 'utf8', cwd: tmp });
  let json: any;
  try { json = JSON.parse(r.stdout); } catch { json = undefined; }
  const offsets = fs.existsSync(log)
    ? fs.readFileSync(log, 'utf8').split('\n').map((l) => l.split(' ')).filter((f) => f[2] === 'write' || f[2] === 'read').map((f) => Number(f[3]))
    : [];
  return { json, stderr: r.stderr, status: r.status, offsets };
}

async function withDevice<T>(fn: (d: OpenBenchDevice) => Promise<T>): Promise<T> {
  const d = await openBenchDevice(TARGET, parseBenchArgs([TARGET, '--name=probe']).jobs);
  try {
    return await fn(d);
  } finally {
    await d.close();
  }
}

// Runs one job; `error` is the job error expected (84, EILSEQ, when verification fails).
async function phyr(t: Test, d: OpenBenchDevice, args: string[], error = 0): Promise<JobResult> {
  const cfg = parseBenchArgs(['--name=a', ...args]);
  const [r] = await runJobs(d, cfg.jobs, cfg.run, quiet);
  t.equal(r.error, error, error ? `phyr ${args.join(' ')}: job error ${error}` : (r.errorMessage ?? `phyr ${args.join(' ')} ran`));
  return r;
}

// Measured on fio 3.33 with `--bs=2<suffix> --size=1`, which fio refuses naming the block
// size it parsed ("1 < N"): the suffix table for both kb_base values.
const SUFFIXES: Array<[string, number, number]> = [
  // suffix, value of 1<suffix> under kb_base=1024, under kb_base=1000
  ['', 1, 1], ['b', 1, 1], ['B', 1, 1],
  ['k', 1024, 1000], ['K', 1024, 1000], ['kb', 1024, 1000], ['KB', 1024, 1000], ['kB', 1024, 1000], ['Kb', 1024, 1000],
  ['ki', 1024, 1000], ['Ki', 1024, 1000], ['KI', 1024, 1000],
  ['kib', 1000, 1024], ['KiB', 1000, 1024], ['KIB', 1000, 1024], ['kiB', 1000, 1024],
  ['m', 2 ** 20, 1e6], ['M', 2 ** 20, 1e6], ['mb', 2 ** 20, 1e6], ['MB', 2 ** 20, 1e6], ['mi', 2 ** 20, 1e6], ['Mi', 2 ** 20, 1e6],
  ['mib', 1e6, 2 ** 20], ['MiB', 1e6, 2 ** 20],
  ['g', 2 ** 30, 1e9], ['G', 2 ** 30, 1e9], ['gb', 2 ** 30, 1e9], ['gi', 2 ** 30, 1e9], ['gib', 1e9, 2 ** 30], ['GiB', 1e9, 2 ** 30],
  ['t', 2 ** 40, 1e12], ['tb', 2 ** 40, 1e12], ['ti', 2 ** 40, 1e12], ['tib', 1e12, 2 ** 40],
  ['p', 2 ** 50, 1e15], ['pb', 2 ** 50, 1e15], ['pi', 2 ** 50, 1e15], ['pib', 1e15, 2 ** 50], ['PiB', 1e15, 2 ** 50],
];

t.test('unit suffixes: fio 3.33\'s table under kb_base=1024 and 1000, and phyr reads the same', async (t) => {
  for (const [suffix, v1024, v1000] of SUFFIXES) {
    for (const [kb, want] of [[1024, v1024], [1000, v1000]] as const) {
      const r = spawnSync('fio', ['--name=a', `--filename=${path.join(tmp, 'probe.img')}`, '--ioengine=psync', '--rw=read', `--kb_base=${kb}`, `--bs=2${suffix}`, '--size=1'], { encoding: 'utf8', cwd: tmp });
      const m = /must not be less than minimum block size: 1 < (\d+)/.exec(r.stderr + r.stdout);
      t.ok(m, `fio reports the parsed block size of 2${suffix} (kb_base=${kb})`);
      if (m) t.equal(Number(m[1]), 2 * want, `fio: 2${suffix} under kb_base=${kb}`);
      const job = parseBenchArgs(['--name=a', `--kb_base=${kb}`, `--bs=2${suffix}`]).jobs[0];
      t.equal(job.bs.read.min, 2 * want, `phyr: 2${suffix} under kb_base=${kb}`);
    }
  }
  // fio's order rule: kb_base applies to the options after it.
  t.equal(parseBenchArgs(['--name=a', '--bs=2k', '--kb_base=1000']).jobs[0].bs.read.min, 2048);
  t.equal(parseBenchArgs(['--kb_base=1000', '--name=a', '--bs=2k']).jobs[0].bs.read.min, 2000, 'a global kb_base reaches the job');
  // Intended difference: fio silently reads junk after a number ("2x" = 2, "2e" = 2,
  // "2kk" = 2048); phyr refuses a suffix it does not know rather than guess.
  for (const junk of ['2x', '2e', '2kk']) t.throws(() => parseBenchArgs(['--name=a', `--bs=${junk}`]), /unknown size suffix/, junk);
  t.throws(() => parseBenchArgs(['--name=a', '--kb_base=999']), /expected 1024 or 1000/);
});

t.test('unit suffixes end to end: --size=24mi --bs=4ki, and kb_base=1000 --size=4096k --bs=4kib', async (t) => {
  await withDevice(async (d) => {
    for (const args of [['--rw=write', '--size=24mi', '--bs=4ki'], ['--rw=write', '--kb_base=1000', '--size=4096k', '--bs=4kib']]) {
      const f = fio(args);
      t.equal(f.status, 0, f.stderr);
      const p = await phyr(t, d, args);
      t.equal(p.write.bytes, f.json.jobs[0].write.io_bytes, `${args.join(' ')}: bytes as fio`);
      t.equal(p.write.ios, f.json.jobs[0].write.total_ios, `${args.join(' ')}: IOs as fio`);
    }
    t.equal((await phyr(t, d, ['--rw=write', '--size=24mi', '--bs=4ki'])).write.bytes, 25165824);
  });
});

t.test('--offset=N% --size=N%: both of the whole namespace, the size clamped to what remains', async (t) => {
  await withDevice(async (d) => {
    for (const args of [
      ['--rw=write', '--bs=128k', '--offset=50%', '--size=50%'],
      ['--rw=write', '--bs=4k', '--offset=33%', '--size=50%'],
      ['--rw=write', '--bs=128k', '--offset=33%', '--size=100%'],
      ['--rw=write', '--bs=128k', '--offset=1m', '--size=50%'],
    ]) {
      const f = fio(args);
      t.equal(f.status, 0, f.stderr);
      const p = await phyr(t, d, args);
      t.equal(p.write.bytes, f.json.jobs[0].write.io_bytes, `${args.join(' ')}: bytes as fio`);
    }
  });
});

t.test('--offset=33% starts at fio\'s offset: rounded up to the smallest block size', async (t) => {
  for (const bs of ['128k', '4k']) {
    // A fresh RAM namespace each time: it reads zeros where nothing was written.
    await withDevice(async (d) => {
      const args = ['--rw=write', `--bs=${bs}`, '--offset=33%', '--size=1m'];
      const f = fio(args);
      t.equal(f.status, 0, f.stderr);
      const first = f.offsets[0];
      t.equal(first, bs === '128k' ? 22151168 : 22147072, `fio starts at ${first} with bs=${bs}`);
      // Which blocks phyr wrote: its verify headers name their LBA.
      await phyr(t, d, [...args, '--verify=crc32c', '--do_verify=0']);
      const inside = await phyr(t, d, ['--rw=read', `--offset=${first}`, '--size=1m', '--verify=crc32c']);
      t.equal(inside.verifyErrors, 0, `phyr wrote [${first}, +1 MiB) with bs=${bs}, as fio`);
      const before = await phyr(t, d, ['--rw=read', `--offset=${first - 4096}`, '--size=4k', '--verify=crc32c'], 84);
      t.ok(before.verifyErrors > 0, 'and nothing before it');
    });
  }
  await withDevice(async (d) => {
    const whole = ['--rw=write', '--bs=128k', '--offset=33%'];
    const f = fio(whole);
    t.equal((await phyr(t, d, whole)).write.bytes, f.json.jobs[0].write.io_bytes, 'to the end of the namespace: bytes as fio');
  });
});

t.test('--verify=null reads back what was written without checking it, as fio does', async (t) => {
  await withDevice(async (d) => {
    for (const args of [
      ['--rw=write', '--bs=64k', '--size=4m', '--verify=null'],
      ['--rw=randwrite', '--bs=64k', '--size=4m', '--verify=null'],
      ['--rw=write', '--bs=64k', '--size=4m', '--verify=null', '--do_verify=0'],
      ['--rw=read', '--bs=64k', '--size=4m', '--verify=null'],
    ]) {
      const f = fio(args);
      t.equal(f.status, 0, f.stderr);
      const p = await phyr(t, d, args);
      const fj = f.json.jobs[0];
      t.equal(p.write.bytes, fj.write.io_bytes, `${args.join(' ')}: written bytes as fio`);
      t.equal(p.read.bytes, fj.read.io_bytes, `${args.join(' ')}: read-back bytes as fio`);
      t.equal(p.read.ios, fj.read.total_ios, `${args.join(' ')}: read IOs as fio`);
      t.equal(p.verifyChecked, 0, 'nothing checked');
    }
    // A block the device corrupts on the way back is read and not flagged: nothing is checked.
    const fn = d.controller.fn as EmuFunction;
    fn.inject('corrupt:lba=100:byte=0');
    const before = fn.stats().corruptedReads;
    const p = await phyr(t, d, ['--rw=write', '--bs=64k', '--size=4m', '--verify=null']);
    t.ok(fn.stats().corruptedReads > before, 'the read-back phase read the corrupted block');
    t.equal(p.verifyErrors, 0, 'and verify=null reports no error');
  });
});

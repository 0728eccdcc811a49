// Constructs met in fio's own example job files (bench/fio-job-survey.js runs them), each
// reproduced by a small job file of our own: an engine option before the engine in its
// section, a zoned distribution whose last zone is "the rest", and the engine options
// that job files for libaio, io_uring and sg carry; randrepeat=0, ioengine=null, and the
// refusal of a bandwidth log left at log_avg_msec's default.
import t from 'tap';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { parseBenchArgs } from '../../bench/cli/config';
import { jobSampleIntervals } from '../../bench/cli/options-logs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-fio-examples-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, text: string): string => {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, text);
  return p;
};

t.test('an engine option may come before ioengine= in its section, as fio 3.33 parses engine options last', async (t) => {
  const same = write('engine-after.fio', '[q]\nhipri\nfixedbufs=1\nioengine=io_uring\nrw=randread\nsize=1m\n');
  const cfg = parseBenchArgs(['emu', same, '--parse-only']);
  t.equal(cfg.jobs[0].kernelEngine, 'io_uring');
  t.match(cfg.notices.join('\n'), /--hipri: accepted/);
  t.match(cfg.notices.join('\n'), /--fixedbufs=1: accepted/);
  // The job's options are still reported in the order written.
  t.same(Object.keys(cfg.jobs[0].written), ['fixedbufs', 'ioengine', 'rw', 'size']);
  // Of two ioengine lines the last still wins.
  const twice = write('engine-twice.fio', '[q]\nioengine=io_uring\nrw=read\nioengine=libaio\nsize=1m\n');
  t.equal(parseBenchArgs(['emu', twice, '--parse-only']).jobs[0].kernelEngine, 'libaio');
  // fio refuses an engine option in [global] when the engine is set only in the job.
  const split = write('engine-split.fio', '[global]\nhipri\n[q]\nioengine=io_uring\nrw=read\nsize=1m\n');
  t.throws(() => parseBenchArgs(['emu', split, '--parse-only']), /option of fio's io_uring, io_uring_cmd, pvsync2 engines: as in fio, set ioengine=io_uring before it/);
  // The command line keeps its order, as fio's does (fio: unrecognized option '--hipri').
  t.throws(() => parseBenchArgs(['emu', '--hipri', '--ioengine=io_uring']), /set ioengine=io_uring before it/);
});

const zonesOf = (dist: string) => parseBenchArgs(['emu', '--rw=randread', '--norandommap', `--random_distribution=${dist}`]).jobs[0].randomDistribution.zones;

t.test('zoned: a range left out, empty or 0 is the rest of the region, shared in whole percent (fio\'s split parser)', async (t) => {
  const rest = [{ access: 50, range: 5 }, { access: 30, range: 15 }, { access: 20, range: 80 }];
  t.same(zonesOf('zoned:50/5:30/15:20/'), rest, 'A/ with an empty range');
  t.same(zonesOf('zoned:50/5:30/15:20'), rest, 'A without a range');
  t.same(zonesOf('zoned:50/5:30/15:20/0'), rest, 'A/0');
  t.same(zonesOf('zoned:40/10:30/:30/'), [{ access: 40, range: 10 }, { access: 30, range: 45 }, { access: 30, range: 45 }], 'two rests share what is left');
  t.same(zonesOf('zoned:40/1:30/:30/'), [{ access: 40, range: 1 }, { access: 30, range: 49 }, { access: 30, range: 49 }], 'in whole percent, rounded down');
  t.same(zonesOf('zoned:60/10:40/90:'), [{ access: 60, range: 10 }, { access: 40, range: 90 }], 'a trailing colon ends the list');
  // An empty entry ends the list, so the access percentages after it are not counted.
  t.throws(() => zonesOf('zoned:50/10::50/90'), /the access percentages add up to 50, not 100/);
  t.throws(() => zonesOf('zoned:50/60:50/60'), /range percentages add up to more than 100/);
  // zoned_abs has no rest: every zone needs its size.
  t.throws(() => zonesOf('zoned_abs:50/1m:50/'), /'50\/' is not ACCESS%\/SIZE/);
  t.same(zonesOf('zoned_abs:50/1m:50/2m'), [{ access: 50, range: 1 << 20 }, { access: 50, range: 2 << 20 }]);
});

t.test('engine options of libaio, io_uring and sg are refused with the reason, not as unknown', async (t) => {
  const refused = (opt: string, why: RegExp) => {
    const f = write(`${opt.split('=')[0]}.fio`, `[q]\nioengine=libaio\nrw=randread\nsize=1m\n${opt}\n`);
    t.throws(() => parseBenchArgs(['emu', f, '--parse-only']), { code: 'PHYR_BENCH_UNSUPPORTED_OPTION', message: why }, opt);
  };
  for (const opt of ['cmdprio_bssplit=64k/100:1024k/0', 'cmdprio_class=1', 'cmdprio=0', 'cmdprio_percentage=10']) refused(opt, /per-IO priorities are not implemented: an NVMe command carries no priority/);
  refused('sg_write_mode=verify', /SCSI generic engine/);
  // readfua / writefua (fio's sg engine) set the NVMe FUA bit: accepted (test/emu/bench-fio-fua).
  for (const opt of ['readfua=1', 'writefua=1']) {
    const f = write(`${opt.split('=')[0]}.fio`, `[q]\nioengine=sg\nrw=randread\nsize=1m\n${opt}\n`);
    t.doesNotThrow(() => parseBenchArgs(['emu', f, '--parse-only']), opt);
  }
});

t.test('zonemode other than none is refused: phyr has no zoned command set (ZNS) yet', async (t) => {
  for (const mode of ['zbd', 'strided']) {
    t.throws(() => parseBenchArgs(['emu', '--name=z', `--zonemode=${mode}`, '--parse-only']), { code: 'PHYR_BENCH_UNSUPPORTED_OPTION', message: /no zoned command set \(ZNS/ }, mode);
  }
  t.doesNotThrow(() => parseBenchArgs(['emu', '--name=z', '--zonemode=none', '--parse-only']), 'zonemode=none is fio\'s default');
});

t.test('randrepeat=0 seeds from the system unless a randseed is given (fio 3.33 setup_random_seeds)', async (t) => {
  const seed = (...opts: string[]) => parseBenchArgs(['emu', '--rw=randread', ...opts, '--name=j']).jobs[0].randseed;
  const def = seed();
  t.equal(seed('--randrepeat=1'), def, 'randrepeat=1 is the default seed');
  const a = seed('--randrepeat=0');
  const b = seed('--randrepeat=0');
  t.not(a, b, 'two runs with randrepeat=0 get different seeds');
  t.not(a, def);
  t.ok(Number.isSafeInteger(a) && a >= 0, 'a seed the engine takes');
  t.equal(seed('--randrepeat=0', '--randseed=5'), 5, 'randseed after it wins');
  t.equal(seed('--randseed=5', '--randrepeat=0'), 5, 'randseed before it wins too');
  const f = write('randrepeat.fio', '[global]\nrandrepeat=0\n[r]\nrw=randread\nsize=1m\n');
  t.not(parseBenchArgs(['emu', f]).jobs[0].randseed, def, 'from a job file');
  t.throws(() => seed('--randrepeat=2'), /randrepeat/);
});

t.test('ioengine=null runs on the null TARGET, fio\'s null engine\'s twin; elsewhere it names that TARGET', async (t) => {
  const f = write('null-engine.fio', '[global]\nbs=4k\n[n]\nioengine=null\nrw=randread\nnorandommap\nsize=64m\nrandom_distribution=zipf:0.5\n');
  const cfg = parseBenchArgs(['null', f, '--parse-only']);
  t.equal(cfg.target, 'null');
  t.match(cfg.notices, [/^--ioengine=null: runs on the TARGET null, phyr's twin of fio's null engine/]);
  for (const argv of [['emu', f], [f], ['emu:backend=nodata', f]]) {
    t.throws(() => parseBenchArgs([...argv, '--parse-only']), { code: 'PHYR_BENCH_UNSUPPORTED_OPTION', message: /--ioengine=null \(job 'n'\): fio's null engine does no IO; phyr's twin of it is the TARGET null: phyr bench null FILE/ }, argv.join(' '));
  }
  // A later engine line takes it back, as the last ioengine= wins.
  const back = write('null-then-libaio.fio', '[n]\nioengine=null\nioengine=libaio\nrw=read\nsize=1m\n');
  t.equal(parseBenchArgs(['emu', back, '--parse-only']).jobs[0].kernelEngine, 'libaio');
  // The run: norandommap draws size/bs offsets (16384 of 4 KiB in 64 MiB), as fio's null engine does.
  const cli = path.resolve(__dirname, '../../dist/tools/phyr.js');
  const r = spawnSync(process.execPath, [cli, 'bench', 'null', f, '--output-format=json'], { encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 0, r.stderr);
  t.equal(JSON.parse(r.stdout).jobs[0].read.total_ios, 16384);
});

t.test('a bandwidth log without log_avg_msec: the refusal names the log and says 0 is fio\'s default', async (t) => {
  const f = write('bw-log.fio', `[w]\nrw=randwrite\nsize=1m\nwrite_bw_log=${path.join(tmp, 'steady')}\n`);
  const job = parseBenchArgs(['emu', f]).jobs[0];
  t.throws(() => jobSampleIntervals(job), { code: 'PHYR_BENCH_UNSUPPORTED_OPTION', message: /log_avg_msec=0 asks for a bandwidth or IOPS entry per IO \(for write_bw_log; 0 is fio's default when log_avg_msec is not given\).*give log_avg_msec=N/ });
  const g = write('bw-log-avg.fio', `[w]\nrw=randwrite\nsize=1m\nwrite_bw_log=${path.join(tmp, 'steady')}\nlog_avg_msec=1000\n`);
  t.equal(jobSampleIntervals(parseBenchArgs(['emu', g]).jobs[0]).bwMs, 1000);
});

t.test('filename: `\\:` is a colon in the name, as fio reads it; an unescaped colon is still a list', async (t) => {
  const f = write('escaped-colon.fio', '[b]\nfilename=/dev/bsg/0\\:0\\:0\\:0\nrw=read\nsize=1m\n');
  const cfg = parseBenchArgs(['emu', f, '--parse-only']);
  t.match(cfg.notices, [/^--filename=\/dev\/bsg\/0:0:0:0: replaced by the TARGET emu/]);
  const list = write('file-list.fio', '[b]\nfilename=/tmp/a:/tmp/b\nrw=read\nsize=1m\n');
  t.throws(() => parseBenchArgs(['emu', list, '--parse-only']), /one device per job: phyr drives one namespace, not a list of files \(a colon in a name is written \\:, as in fio\)/);
});

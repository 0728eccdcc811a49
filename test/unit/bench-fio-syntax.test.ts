// fio's job-file syntax beyond plain INI, as fio 3.33 reads it: include, ${VAR} in option
// names, $ncpus/$mb_memory/$pagesize with their arithmetic, --section, --showcmd,
// --parse-only, bs=R,W,T, unit_base; harmless defaults accepted without a word; "did you
// mean" only for close names; job files written for the kernel stack (notices, sysfs).
import t from 'tap';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { parseBenchArgs } from '../../bench/cli/config';
import { evaluate, expandKeywords } from '../../bench/cli/expr';
import { parseJobFile } from '../../bench/cli/jobfile';
import { lookupKernelNamespace } from '../../bench/cli/kernel-node';
import { closestName } from '../../bench/cli/suggest';
import { knownOptionNames } from '../../bench/cli/options';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-fio-syntax-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, text: string): string => {
  const p = path.join(tmp, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
  return p;
};
const host = { ncpus: 2, mbMemory: 24000, pagesize: 4096 };

t.test('include reads a file in place, relative to the including file; cycles are refused', async (t) => {
  write('sub/common.fio', 'bs=8k\niodepth=4\n');
  const main = write('sub/main.fio', '[global]\ninclude common.fio\n[j]\nrw=randread\n');
  const cfg = parseBenchArgs([main]);
  t.equal(cfg.jobs[0].bs.read.min, 8192);
  t.equal(cfg.jobs[0].iodepth, 4);
  write('loop-a.fio', '[j]\ninclude loop-b.fio\n');
  write('loop-b.fio', 'include loop-a.fio\n');
  t.throws(() => parseBenchArgs([path.join(tmp, 'loop-a.fio')]), /includes itself/);
  // Included lines keep their own file and line in errors.
  write('bad-inc.fio', 'bs=4q\n');
  t.throws(() => parseBenchArgs([write('uses-bad.fio', '[j]\ninclude bad-inc.fio\n')]), /unknown size suffix 'q'/);
});

t.test('$ncpus, $mb_memory, $pagesize and fio 3.33\'s arithmetic on them', async (t) => {
  // Each figure below is what fio 3.33 --showcmd printed on a 2-CPU host.
  t.equal(expandKeywords('$ncpus', host, 'x'), '2');
  t.equal(expandKeywords('($ncpus*4096)', host, 'x'), '8192');
  t.equal(expandKeywords('($ncpus+1)', host, 'x'), '3');
  t.equal(expandKeywords('($ncpus*2)+1', host, 'x'), '5');
  t.equal(expandKeywords('( $ncpus * 2 )', host, 'x'), '4');
  t.equal(expandKeywords('($ncpus/3)', host, 'x'), '0');
  t.equal(expandKeywords('(7-$ncpus)/2', host, 'x'), '2');
  t.equal(expandKeywords('($pagesize*2)', host, 'x'), '8192');
  t.equal(expandKeywords('($mb_memory/1000)', host, 'x'), '24');
  t.equal(expandKeywords('x$ncpus', host, 'x'), 'x2'); // not an expression: fio then fails to parse it
  t.throws(() => expandKeywords('($ncpus*1k)', host, 'j.fio:3: size'), /j\.fio:3: size: '\(\$ncpus\*1k\)': 'k' is not allowed/);
  t.throws(() => expandKeywords('(3*$ncpus', host, 'x'), /not closed/);
  t.throws(() => evaluate('(1/0)', 'x'), /division by zero/);
  const s = parseJobFile('[j]\niodepth=$ncpus\nsize=($ncpus*1048576)\n', 'k.fio', {}, { facts: host });
  t.same(s[0].options.map((o) => o.value), ['2', '2097152']);
  // Without a keyword fio 3.33 evaluates nothing: `(4+4)` is refused, so it is here too.
  t.throws(() => parseBenchArgs([write('plain.fio', '[j]\nsize=(4+4)\n')]), /size=\(4\+4\)/);
});

t.test('--section runs the named sections only; an unknown one is an error', async (t) => {
  const f = write('two.fio', '[global]\nbs=4k\n[a]\nrw=read\n[b]\nrw=write\n');
  t.same(parseBenchArgs(['--section=b', f]).jobs.map((j) => j.name), ['b']);
  t.same(parseBenchArgs(['--section=b', '--section=a', f]).jobs.map((j) => j.name), ['a', 'b']);
  t.throws(() => parseBenchArgs(['--section=c', f]), /--section=c: no job section \[c\]/);
});

t.test('--showcmd prints a job file as command-line options, as fio does (under phyr\'s name)', async (t) => {
  const f = write('show.fio', '[global]\nbs=4k\n[j1]\nrw=read\n[j2]\nrw=write\ndescription=two words\n');
  const cfg = parseBenchArgs(['--showcmd', f]);
  t.equal(cfg.run.showcmd, true);
  t.same(cfg.commandLines, ["phyr bench --bs=4k --name=j1 --rw=read --name=j2 --rw=write '--description=two words'"]);
  t.equal(parseBenchArgs(['--parse-only', f]).run.parseOnly, true);
});

t.test('bs=R,W,T: an empty value keeps that direction, a missing trim value follows the write one', async (t) => {
  const bs = (v: string) => {
    const j = parseBenchArgs([`--bs=${v}`]).jobs[0];
    return [j.bs.read.min, j.bs.write.min, j.bs.trim?.min];
  };
  // Read and write sizes as fio 3.33's iolog showed them for rw=rw.
  t.same(bs('8k'), [8192, 8192, 8192]);
  t.same(bs(',8k'), [4096, 8192, 8192]);
  t.same(bs('8k,'), [8192, 4096, undefined]);
  t.same(bs('2k,8k'), [2048, 8192, 8192]);
  t.same(bs('2k,8k,16k'), [2048, 8192, 16384]);
  t.same(bs('2k,,16k'), [2048, 4096, 16384]);
  const j = parseBenchArgs(['--bssplit=4k/50:8k/50,,16k']).jobs[0];
  t.same([j.bs.read.split.length, j.bs.write.min, j.bs.trim?.min], [2, 4096, 16384]);
  t.same(parseBenchArgs(['--bsrange=1k-4k,,8k-16k']).jobs[0].bs.trim, { min: 8192, max: 16384, split: [] });
});

t.test('unit_base: bytes (0 or 8) accepted, bits refused with the reason', async (t) => {
  t.doesNotThrow(() => parseBenchArgs(['--unit_base=8']));
  t.doesNotThrow(() => parseBenchArgs(['--unit_base=0']));
  t.throws(() => parseBenchArgs(['--unit_base=1']), /bytes only/);
  t.throws(() => parseBenchArgs(['--unit_base=2']), /expected 0 \(auto\), 8 \(bytes\) or 1 \(bits\)/);
});

t.test('fio\'s defaults and metadata are accepted without a word; other values keep their reason', async (t) => {
  // fio also takes `threads` (its JSON and help name `thread`; fio's example job files write it).
  t.same(parseBenchArgs(['--threads=1', '--name=j']).notices, []);
  // direct=0 (a job file written for the page cache) runs as direct IO and says so.
  t.match(parseBenchArgs(['--direct=0', '--name=j']).notices, [/^--direct=0: replaced by direct IO: phyr has no page cache/]);
  const cfg = parseBenchArgs(['--randrepeat=1', '--kb_base=1024', '--clat_percentiles=1', '--thread', '--direct=1', '--description=nightly run', '--name=j', '--fsync=0', '--loops=1', '--rate=0,0', '--thinktime=0ms', '--nrfiles=1']);
  t.same(cfg.notices, []);
  t.equal(cfg.jobs[0].name, 'j');
  t.throws(() => parseBenchArgs(['--fsync_on_close=1']), { code: 'PHYR_BENCH_UNSUPPORTED_OPTION', message: /fsync_on_close.*only fio's default fsync_on_close=0 is accepted \(given: 1\)/ });
  t.throws(() => parseBenchArgs(['--disable_slat=1']), /disable_slat.*only fio's default disable_slat=0 is accepted/);
  t.throws(() => parseBenchArgs(['--disable_lat=1']), /disable_lat/);
  t.same(parseBenchArgs(['--clat_percentiles=0', '--name=j']).jobs[0].percentileSeries, { slat: false, clat: false, lat: false }, 'clat_percentiles=0 is taken (no longer default-only)');
});

t.test('options that mean nothing on a raw namespace are refused naming the option and why', async (t) => {
  for (const o of ['nrfiles=2', 'filesize=1m', 'create_only=1', 'fallocate=posix', 'openfiles=2', 'directory=/tmp', 'unlink=1', 'filename_format=f.$jobnum']) {
    const name = o.split('=')[0];
    t.throws(() => parseBenchArgs([`--${o}`]), { code: 'PHYR_BENCH_UNSUPPORTED_OPTION', message: new RegExp(`'${name}'.*no meaning on a raw NVMe namespace`) }, o);
  }
});

t.test('"did you mean" only for names close relative to their length', async (t) => {
  const names = knownOptionNames();
  t.equal(closestName('zoned', names), undefined);
  t.equal(closestName('version', names), undefined);
  t.equal(closestName('iodeph', names), 'iodepth');
  t.equal(closestName('iodpeth', names), 'iodepth');
  t.equal(closestName('ramptime', names), 'ramp_time');
  t.equal(closestName('blocksize_rnage', names), 'blocksize_range');
  t.throws(() => parseBenchArgs(['--zoned']), { message: /unknown option 'zoned'; see/ });
  t.throws(() => parseBenchArgs(['--version=1']), { message: /unknown option 'version'; see/ });
});

t.test('a kernel-stack job file runs on a TARGET, one notice per replaced option', async (t) => {
  const f = write('kernel.fio', [
    '[global]', 'ioengine=io_uring', 'filename=/dev/nvme0n1', 'direct=1', 'hipri', 'fixedbufs', 'registerfiles', 'sqthread_poll',
    'iodepth_batch_submit=8', 'iodepth_batch_complete_min=1', 'iodepth_low=4', '[r]', 'rw=randread', '[w]', 'rw=randwrite',
  ].join('\n'));
  const cfg = parseBenchArgs(['emu', f]);
  t.equal(cfg.target, 'emu');
  t.equal(cfg.jobs.length, 2);
  t.same(cfg.notices.map((n) => n.split(':')[0]), [
    '--ioengine=io_uring', '--hipri', '--fixedbufs', '--registerfiles', '--sqthread_poll', '--filename=/dev/nvme0n1', '--filename=/dev/nvme0n1',
  ]);
  t.match(cfg.notices[5], /replaced by the TARGET emu: job 'r' drives its namespace 1/);
  // The batching options are the native loop's own (no notice): they take effect.
  t.match(cfg.jobs[0], { batchSubmit: 8, batchCompleteMin: 1, iodepthLow: 4 });
  // As in fio, an engine's options need that engine first.
  t.throws(() => parseBenchArgs(['emu', '--hipri']), /option of fio's io_uring, io_uring_cmd, pvsync2 engines: as in fio, set ioengine=io_uring before it/);
  t.throws(() => parseBenchArgs(['emu', '--ioengine=libaio', '--fixedbufs']), /this job's engine is libaio/);
  // With a TARGET, any device or file a job file names gives way to it, with a notice;
  // without one, only a kernel NVMe namespace node can stand.
  const file = parseBenchArgs(['emu', '--filename=/tmp/data.img']);
  t.match(file.notices, [/^--filename=\/tmp\/data\.img: replaced by the TARGET emu: job .* \(not a kernel NVMe namespace node: phyr does its IO on the namespace, never on this path\)$/]);
  t.throws(() => parseBenchArgs(['--filename=/tmp/data.img']), /phyr drives an NVMe namespace, not a file/);
  t.throws(() => parseBenchArgs(['--filename=/dev/sdb']), /phyr drives an NVMe namespace, not a file/);
  t.throws(() => parseBenchArgs(['emu', '--filename=/dev/nvme0n1:/dev/nvme1n1']), /one device per job/);
  t.throws(() => parseBenchArgs(['emu', '--iodepth_low=x']), /iodepth_low=x/);
});

// A fake sysfs: /sys/block/nvme0n1 of controller 0000:01:00.0, bound to `driver`.
function fakeSysfs(name: string, driver: string): string {
  const root = path.join(tmp, name);
  const dev = path.join(root, 'devices', 'pci0000:00', '0000:01:00.0');
  fs.mkdirSync(path.join(dev, 'nvme', 'nvme0', 'nvme0n1'), { recursive: true });
  fs.writeFileSync(path.join(dev, 'nvme', 'nvme0', 'address'), '0000:01:00.0\n');
  fs.writeFileSync(path.join(dev, 'nvme', 'nvme0', 'nvme0n1', 'nsid'), '3\n');
  fs.symlinkSync('..', path.join(dev, 'nvme', 'nvme0', 'nvme0n1', 'device'));
  fs.mkdirSync(path.join(root, 'block'), { recursive: true });
  fs.symlinkSync(path.join(dev, 'nvme', 'nvme0', 'nvme0n1'), path.join(root, 'block', 'nvme0n1'));
  fs.mkdirSync(path.join(root, 'bus', 'pci', 'devices'), { recursive: true });
  fs.symlinkSync(dev, path.join(root, 'bus', 'pci', 'devices', '0000:01:00.0'));
  fs.mkdirSync(path.join(root, 'bus', 'pci', 'drivers', driver), { recursive: true });
  fs.symlinkSync(path.join(root, 'bus', 'pci', 'drivers', driver), path.join(dev, 'driver'));
  return root;
}

t.test('without a TARGET, /dev/nvmeXnY resolves through sysfs; a kernel-driven controller names phyr setup --bind', async (t) => {
  const kernel = fakeSysfs('sys-kernel', 'nvme');
  t.same(lookupKernelNamespace('/dev/nvme0n1', kernel), { node: '/dev/nvme0n1', bdf: '0000:01:00.0', nsid: 3, driver: 'nvme' });
  t.same(lookupKernelNamespace('/dev/ng0n1', kernel).nsid, 3);
  t.throws(() => parseBenchArgs(['--filename=/dev/nvme0n1', '--name=j'], {}, { sysfsRoot: kernel }), {
    code: 'PHYR_BENCH_KERNEL_DRIVEN',
    message: /namespace 3 of the controller 0000:01:00\.0, which the kernel's nvme driver still drives; hand it to phyr with `phyr setup --bind 0000:01:00\.0`/,
  });
  const vfio = fakeSysfs('sys-vfio', 'vfio-pci');
  const cfg = parseBenchArgs(['--filename=/dev/ng0n1', '--name=j'], {}, { sysfsRoot: vfio });
  t.equal(cfg.target, '0000:01:00.0');
  t.equal(cfg.defaultTarget, false);
  t.equal(cfg.jobs[0].nsid, 3);
  t.match(cfg.notices, [/resolved through sysfs to the controller 0000:01:00\.0, namespace 3/]);
  t.throws(() => parseBenchArgs(['--filename=/dev/nvme5n1', '--name=j'], {}, { sysfsRoot: vfio }), /the kernel has no namespace nvme5n1/);
});

t.test('job options are reported under fio\'s own names, not the alias written', async (t) => {
  // fio 3.33 reports `blocksize=8k` as "bs" and `readwrite=` as "rw".
  t.same(parseBenchArgs(['--name=j', '--blocksize=8k', '--readwrite=randread', '--iodepth_low=2']).jobs[0].written, { name: 'j', bs: '8k', rw: 'randread', iodepth_low: '2' });
});

t.test('the command: --parse-only prints the notices and runs nothing; --showcmd prints the command line', async (t) => {
  const cli = path.resolve(__dirname, '../../dist/tools/phyr.js');
  const f = write('cli-kernel.fio', '[global]\nioengine=libaio\nfilename=/dev/nvme0n1\n[r]\nrw=randread\nsize=1m\n');
  const parse = spawnSync(process.execPath, [cli, 'bench', 'emu', '--parse-only', f], { encoding: 'utf8' });
  t.equal(parse.status, 0, parse.stderr);
  t.equal(parse.stdout, '', 'no report: nothing ran');
  t.match(parse.stderr, /phyr bench: notice: --ioengine=libaio: replaced by phyr's native NVMe loop/);
  t.match(parse.stderr, /phyr bench: notice: --filename=\/dev\/nvme0n1: replaced by the TARGET emu/);
  const show = spawnSync(process.execPath, [cli, 'bench', '--showcmd', f], { encoding: 'utf8', env: { ...process.env } });
  t.equal(show.stdout, 'phyr bench --ioengine=libaio --filename=/dev/nvme0n1 --name=r --rw=randread --size=1m\n');
  const bad = spawnSync(process.execPath, [cli, 'bench', '--parse-only', '--rw=sideways'], { encoding: 'utf8' });
  t.equal(bad.status, 2);
});

t.test('--parse-only and --showcmd leave the sysfs lookup of /dev/nvmeXnY to a run', async (t) => {
  const empty = path.join(tmp, 'sys-empty');
  fs.mkdirSync(empty, { recursive: true });
  t.doesNotThrow(() => parseBenchArgs(['--parse-only', '--filename=/dev/nvme0n1', '--name=j'], {}, { sysfsRoot: empty }));
  t.throws(() => parseBenchArgs(['--filename=/dev/nvme0n1', '--name=j'], {}, { sysfsRoot: empty }), /the kernel has no namespace nvme0n1/);
});

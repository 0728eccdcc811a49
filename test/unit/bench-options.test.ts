// The option table against fio's semantics, table-driven: every supported option, the
// defaults, unsupported options rejected by name, unknown options rejected with a hint.
import t from 'tap';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseBenchArgs, checkJob } from '../../bench/cli/config';
import { OPTIONS, UNSUPPORTED, lookupOption } from '../../bench/cli/options';
import { DEFAULT_PERCENTILES, defaultJob, modeTraits, type JobSpec } from '../../bench/cli/job';

function job(...args: string[]): JobSpec {
  const c = parseBenchArgs(['--name=j', ...args]);
  t.equal(c.jobs.length, 1);
  return c.jobs[0];
}

t.test('no arguments: the built-in short default job on the default target', async (t) => {
  const c = parseBenchArgs([]);
  t.equal(c.builtinDefault, true);
  t.equal(c.defaultTarget, true);
  t.equal(c.target, 'emu');
  t.equal(c.jobs[0].rw, 'randread');
  t.equal(c.jobs[0].iodepth, 32);
  t.equal(c.jobs[0].bs.read.min, 4096);
  t.equal(c.jobs[0].runtimeNs, 3e9);
  t.equal(c.jobs[0].timeBased, true);
});

t.test('fio defaults when options are given', async (t) => {
  const j = job();
  t.equal(j.rw, 'read');
  t.equal(j.rwmixread, 50);
  t.equal(j.iodepth, 1);
  t.equal(j.numjobs, 1);
  t.equal(j.bs.read.min, 4096);
  t.equal(j.nsid, 1);
  t.equal(j.verify, 'none');
  t.equal(j.doVerify, true);
  t.same(j.percentileList, DEFAULT_PERCENTILES);
  t.same(j.mem, { kind: 'pool' });
  t.equal(j.dptr, 'auto');
});

t.test('each supported option sets what fio sets', async (t) => {
  const table: Array<[string[], (j: JobSpec) => unknown, unknown]> = [
    [['--rw=randwrite'], (j) => j.rw, 'randwrite'],
    [['--rw=readwrite'], (j) => j.rw, 'rw'],
    [['--readwrite=randrw'], (j) => j.rw, 'randrw'],
    [['--rwmixread=70'], (j) => j.rwmixread, 70],
    [['--rwmixwrite=30'], (j) => j.rwmixread, 70],
    [['--bs=8k'], (j) => [j.bs.read.min, j.bs.write.max], [8192, 8192]],
    [['--blocksize=4k,64k'], (j) => [j.bs.read.max, j.bs.write.max], [4096, 65536]],
    [['--bsrange=4k-16k'], (j) => [j.bs.read.min, j.bs.read.max], [4096, 16384]],
    [['--bsrange=16k:4k'], (j) => [j.bs.read.min, j.bs.read.max], [4096, 16384]],
    [['--bssplit=4k/60:64k/40'], (j) => j.bs.read.split, [{ bytes: 4096, percent: 60 }, { bytes: 65536, percent: 40 }]],
    [['--bssplit=4k/50:8k/:16k/'], (j) => j.bs.write.split.map((e) => e.percent), [50, 25, 25]],
    [['--bssplit=4k/100,64k/100'], (j) => [j.bs.read.max, j.bs.write.max], [4096, 65536]],
    [['--iodepth=128'], (j) => j.iodepth, 128],
    [['--iodepth', '64'], (j) => j.iodepth, 64],
    [['--numjobs=2'], (j) => j.numjobs, 2],
    [['--runtime=10'], (j) => j.runtimeNs, 10e9],
    [['--runtime=250ms'], (j) => j.runtimeNs, 250e6],
    [['--runtime=1', '--time_based'], (j) => j.timeBased, true],
    [['--runtime=1', '--time_based=1'], (j) => j.timeBased, true],
    [['--time_based=0'], (j) => j.timeBased, false],
    [['--runtime=2', '--ramp_time=1'], (j) => j.rampNs, 1e9],
    [['--size=1g'], (j) => j.size, { bytes: 2 ** 30 }],
    [['--size=50%'], (j) => j.size, { percent: 50 }],
    [['--offset=1m'], (j) => j.offset, { bytes: 2 ** 20 }],
    [['--nsid=2'], (j) => j.nsid, 2],
    [['--norandommap'], (j) => j.norandommap, true],
    [['--random_distribution=zipf:1.2'], (j) => j.randomDistribution, { kind: 'zipf', param: 1.2 }],
    [['--random_distribution=pareto:0.3'], (j) => j.randomDistribution, { kind: 'pareto', param: 0.3 }],
    [['--random_distribution=random'], (j) => j.randomDistribution.kind, 'random'],
    [['--random_distribution=zipf'], (j) => j.randomDistribution, { kind: 'zipf', param: 1.1 }],
    [['--random_distribution=pareto'], (j) => j.randomDistribution, { kind: 'pareto', param: 0.2 }],
    [['--random_distribution=normal:10'], (j) => j.randomDistribution, { kind: 'normal', param: 10 }],
    [['--random_distribution=normal'], (j) => j.randomDistribution, { kind: 'normal', param: 0 }],
    [['--random_distribution=zipf:1.2:0.25'], (j) => j.randomDistribution, { kind: 'zipf', param: 1.2, center: 0.25 }],
    [['--rw=write', '--verify=crc32c'], (j) => j.verify, 'crc32c'],
    [['--rw=write', '--verify=crc32c-intel'], (j) => j.verify, 'crc32c'],
    [['--rw=write', '--verify=md5'], (j) => j.verify, 'md5'],
    [['--verify=0'], (j) => j.verify, 'none'],
    [['--verify_fatal=1'], (j) => j.verifyFatal, true],
    [['--do_verify=0'], (j) => j.doVerify, false],
    [['--percentile_list=99.9:50:99'], (j) => j.percentileList, [50, 99, 99.9]],
    [['--mem=cmb'], (j) => j.mem, { kind: 'cmb' }],
    [['--mem=p2p:0000:02:00.0'], (j) => j.mem, { kind: 'p2p', bdf: '0000:02:00.0', bar: 0 }],
    [['--mem=p2p:02:00.0,bar=2'], (j) => j.mem, { kind: 'p2p', bdf: '0000:02:00.0', bar: 2 }],
    [['--iomem=pool'], (j) => j.mem, { kind: 'pool' }],
    [['--mem=p2p:emu'], (j) => j.mem, { kind: 'p2p', bdf: 'emu', bar: 2 }],
    [['--dptr=sgl'], (j) => j.dptr, 'sgl'],
    [['--dptr=prp'], (j) => j.dptr, 'prp'],
    [['--randseed=42'], (j) => j.randseed, 42],
    [['--stonewall'], (j) => j.stonewall, true],
    [['--group_reporting'], (j) => j.groupReporting, true],
    [['--direct=1'], (j) => j.name, 'j'],
    [['--ioengine=phyr'], (j) => j.name, 'j'],
    [['--thread'], (j) => j.name, 'j'],
  ];
  for (const [args, get, want] of table) t.same(get(job(...args)), want, args.join(' '));
});

t.test('run-wide options', async (t) => {
  const c = parseBenchArgs(['--output-format=json+', '--output=/tmp/x.json', '--status-interval=2', '--eta=never', '--name=a']);
  t.same(c.run.outputFormat, ['json+']);
  t.equal(c.run.output, '/tmp/x.json');
  t.equal(c.run.statusIntervalNs, 2e9);
  t.equal(c.run.eta, 'never');
  t.same(parseBenchArgs(['--output-format=normal,json']).run.outputFormat, ['normal', 'json']);
});

t.test('bad values are named with what is accepted', async (t) => {
  const table: Array<[string[], RegExp]> = [
    [['--rw=randread:0'], /in a random mode N is a count of IOs/],
    [['--rw=read:4q'], /unknown size suffix/],
    [['--rwmixread=101'], /between 0 and 100/],
    [['--bs=0'], /must be positive/],
    [['--bs=4k,8k,16k,32k'], /READ,WRITE\[,TRIM\]/],
    [['--bs=,'], /value is required/],
    [['--bsrange=4k'], /MIN-MAX/],
    [['--bssplit=4k/70:8k/40'], /more than 100/],
    [['--bssplit=4k/x'], /BS\/PERCENT/],
    [['--bssplit=4k/30:8k/30'], /not 100/],
    [['--iodepth=0'], /between 1 and 65535/],
    [['--numjobs=x'], /integer/],
    [['--runtime=fast'], /--runtime=fast/],
    [['--random_distribution=zipf:1'], /theta/],
    [['--random_distribution=pareto:1.5'], /between 0 and 1/],
    [['--random_distribution=normal:100'], /normal deviation must be 0 <= dev < 100/],
    [['--random_distribution=zipf:1.2:2'], /center must be 0 <= center <= 1/],
    [['--random_distribution=zipf:1.2:0.5:1'], /at most two parameters/],
    [['--random_distribution=zipf:x'], /theta 'x' is not a number/],
    [['--random_distribution=lognormal'], /expected random/],
    [['--verify=sha256'], /crc32c \(crc32c-intel\) or md5/],
    [['--verify=crc32'], /--verify=crc32/],
    [['--percentile_list=0:50'], /not a percentile/],
    [['--percentile_list=' + Array(21).fill('50').join(':')], /at most 20/],
    [['--mem=malloc'], /pool, cmb, p2p:BDF\[,bar=N\] or p2p:emu/],
    [['--mem=p2p:emu,bar=0'], /embedded peer has its CMB in BAR 2 only/],
    [['--mem=p2p:emu:cmb=1M'], /expected pool, cmb/],
    [['--dptr=both'], /prp, sgl or auto/],
    [['--terse-version=4'], /terse version 3 only/],
    [['--output-format=xml'], /normal, json, json\+ or terse/],
    [['--eta=sometimes'], /auto, always or never/],
    [['--direct=maybe'], /--direct=maybe: expected 0 or 1/],
    [['--ioengine=net'], /network engine.*only stands in for block-IO engines/],
    [['--ioengine=frob'], /not a fio engine phyr knows/],
    [['--thread=0'], /always threads/],
    [['--name'], /value is required/],
    [['--time_based', '--runtime=0'], /time_based needs a runtime/],
    [['--ramp_time=1'], /ramp_time needs a runtime/],
    [['--bsrange=4k-6k'], /multiple of the minimum/],
    [['--rw=randrw', '--verify=crc32c'], /mixed read\/write/],
    [['--rw=write', '--verify=crc32c', '--mem=cmb'], /CPU-visible/],
    [['--rw=write', '--verify=crc32c', '--runtime=2', '--ramp_time=1'], /ramp_time with verify/],
  ];
  for (const [args, re] of table) t.throws(() => parseBenchArgs(['--name=j', ...args]), re, args.join(' '));
});

t.test('fio options phyr does not implement are rejected by name, never ignored', async (t) => {
  t.ok(Object.keys(UNSUPPORTED).length > 50);
  for (const name of ['ioscheduler', 'directory', 'numa_cpu_nodes', 'zonemode', 'cgroup_weight', 'dedupe_global']) {
    t.throws(() => parseBenchArgs([`--${name}=7`]), { code: 'PHYR_BENCH_UNSUPPORTED_OPTION', message: new RegExp(`fio option '${name}' is not supported by phyr bench: .+`) }, name);
  }
  for (const name of ['numa_cpu_nodes', 'directory', 'cgroup_weight']) t.throws(() => lookupOption(name), { code: 'PHYR_BENCH_UNSUPPORTED_OPTION' });
  // No option is both supported and listed as unsupported.
  for (const o of OPTIONS) for (const n of [o.name, ...(o.aliases ?? [])]) t.notOk(n in UNSUPPORTED, n);
});

t.test('unknown options are rejected with the closest match', async (t) => {
  t.throws(() => parseBenchArgs(['--iodpeth=4']), /unknown option 'iodpeth' \(did you mean --iodepth\?\)/);
  t.throws(() => parseBenchArgs(['--frobnicate=4']), /unknown option 'frobnicate'; see/);
  t.throws(() => parseBenchArgs(['-x']), /fio's long options/);
  t.equal(lookupOption('output_format').name, 'output-format'); // fio accepts both spellings
});

t.test('targets and positional arguments', async (t) => {
  t.equal(parseBenchArgs(['emu:backend=null']).target, 'emu:backend=null');
  t.equal(parseBenchArgs(['0000:01:00.0']).target, '0000:01:00.0');
  t.equal(parseBenchArgs(['emu']).defaultTarget, false);
  t.throws(() => parseBenchArgs(['/nonexistent/x.fio']), /neither a target .* nor a job file/);
  t.throws(() => parseBenchArgs(['emu', 'nope.fio']), /'nope.fio' is not a job file/);
});

t.test('options before --name apply to every job; each --name starts a job', async (t) => {
  const c = parseBenchArgs(['--iodepth=8', '--name=a', '--rw=randread', '--name=b', '--bs=8k']);
  t.same(c.jobs.map((j) => [j.name, j.iodepth, j.rw, j.bs.read.min]), [['a', 8, 'randread', 4096], ['b', 8, 'read', 8192]]);
  const anon = parseBenchArgs(['--rw=randwrite']);
  t.equal(anon.builtinDefault, false);
  t.equal(anon.jobs[0].name, 'randwrite');
});

t.test('job files combine with command-line globals', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-bench-'));
  const f = path.join(dir, 'a.fio');
  fs.writeFileSync(f, '[global]\nbs=8k\n[one]\nrw=randread\n[two]\nrw=write\niodepth=4\n');
  const c = parseBenchArgs(['emu:backend=null', '--iodepth=16', f]);
  t.same(c.jobs.map((j) => [j.name, j.rw, j.bs.read.min, j.iodepth]), [['one', 'randread', 8192, 16], ['two', 'write', 8192, 4]]);
  fs.writeFileSync(f, '[global]\nrw=read\n');
  t.throws(() => parseBenchArgs([f]), /no job sections/);
  fs.writeFileSync(f, '[j]\noutput-format=json\n');
  t.throws(() => parseBenchArgs([f]), /command-line option/);
  fs.writeFileSync(f, '[j]\nzonemode=zbd\n');
  t.throws(() => parseBenchArgs([f]), /zonemode/);
  fs.writeFileSync(f, '[j]\nbs\n');
  t.throws(() => parseBenchArgs([f]), /value is required/);
  fs.rmSync(dir, { recursive: true });
});

t.test('mode traits and direct checks', async (t) => {
  t.same(modeTraits('randrw'), { reads: true, writes: true, trims: false, random: true });
  t.same(modeTraits('write'), { reads: false, writes: true, trims: false, random: false });
  t.same(modeTraits('randtrim'), { reads: false, writes: false, trims: true, random: true });
  const j = defaultJob();
  t.doesNotThrow(() => checkJob(j));
});

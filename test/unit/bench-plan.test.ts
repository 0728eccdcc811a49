// Planning a job against a namespace: every impossible combination is refused before any
// IO, with a message naming the option and what to use instead.
import t from 'tap';
import { parseBenchArgs } from '../../bench/cli/config';
import { bsHeader, jobOptions, planJob, queueCapacity, queueSizeFor, verifyPhaseNeverStarts } from '../../bench/cli/plan';
import { mergeResults } from '../../bench/cli/results';
import { groupJobs, toJobResult } from '../../bench/cli/runner';
import type { NativeJobResult } from '../../bench/cli/native';

const ns = { nsid: 1, lbaSize: 4096, blocks: 262144 }; // 1 GiB of 4 KiB blocks
const job = (...a: string[]) => parseBenchArgs(['--name=j', ...a]).jobs[0];

t.test('a plain randread job covers the namespace', async (t) => {
  const p = planJob(job('--rw=randread', '--iodepth=32'), ns);
  t.equal(p.regionLba, 0);
  t.equal(p.regionBytes, 2 ** 30);
  t.equal(p.ioBytes, 2 ** 30);
  t.equal(p.readPercent, 100);
  t.equal(p.random, true);
  t.equal(p.slotBytes, 4096);
  t.equal(p.randomMap, true);
  t.same(p.readBs, { min: 4096, max: 4096, split: [] });
});

t.test('offsets, sizes, percentages, mixes and distributions', async (t) => {
  const p = planJob(job('--rw=randrw', '--rwmixread=70', '--offset=1m', '--size=64m', '--bssplit=4k/25:16k/75', '--random_distribution=zipf:1.1', '--norandommap', '--randseed=7'), ns, 3);
  t.equal(p.regionLba, 256);
  t.equal(p.regionBytes, 64 << 20);
  t.equal(p.readPercent, 70);
  t.same(p.readBs.split, [[4096, 2500], [16384, 10000]]);
  t.equal(p.slotBytes, 16384);
  t.equal(p.distribution, 1);
  t.equal(p.distParam, 1.1);
  t.equal(p.randomMap, false);
  t.equal(p.seed, 7);
  t.equal(p.stream, 3);
  const half = planJob(job('--size=50%', '--offset=50%'), ns);
  t.equal(half.regionLba, 131072);
  t.equal(half.regionBytes, 2 ** 29, 'size=50% is half the namespace, as in fio');
  // fio: offset=N% rounds up to the smallest block size; size=N% is clamped to what remains.
  const third = planJob(job('--offset=33%', '--bs=128k', '--size=50%'), ns);
  t.equal(third.regionLba * 4096, Math.ceil(Math.floor(0.33 * 2 ** 30) / 131072) * 131072);
  t.equal(third.regionBytes, 2 ** 29);
  t.equal(planJob(job('--offset=60%', '--size=50%'), ns).regionBytes, 2 ** 30 - Math.ceil(Math.floor(0.6 * 2 ** 30) / 4096) * 4096);
  t.equal(planJob(job('--rw=write', '--verify=null'), ns).verifyKind, 3, 'verify=null reaches the engine as the null kind');
  t.equal(planJob(job('--rw=write'), ns).readPercent, 0);
  // The verify checksum reaches the engine as its native kind number.
  t.same([planJob(job('--rw=write', '--verify=md5'), ns).verifyKind, planJob(job('--rw=write', '--verify=crc32c'), ns).verifyKind], [2, 1]);
  t.equal(planJob(job('--rw=write', '--verify=md5'), ns).verify, true);
  t.equal(planJob(job('--rw=randread', '--random_distribution=pareto:0.2'), ns).distribution, 2);
  t.equal(planJob(job('--bs=6k'), { nsid: 1, lbaSize: 512, blocks: 1000 }).slotBytes, 8192); // page-rounded slot
});

t.test('impossible combinations are refused before any IO', async (t) => {
  const table: Array<[string[], RegExp]> = [
    [['--bs=512'], /bs=512B is not a multiple of the namespace's LBA size \(4096 bytes\); use a multiple such as 4KiB/],
    [['--rw=write', '--bs=6k'], /bs=6KiB is not a multiple/],
    [['--rw=randrw', '--bssplit=4k/50:2k/50,4k/100'], /bs=2KiB is not a multiple/],
    [['--size=2g'], /size=2GiB at offset=0B reaches beyond namespace 1, which has 262144 blocks of 4096 bytes \(1GiB\); use --size=1GiB or less/],
    [['--offset=1g'], /offset=1GiB is beyond namespace 1/],
    [['--offset=1000'], /offset=1000 is not a multiple of the LBA size/],
    [['--size=3000'], /size=3000 is smaller than one logical block \(4096 bytes\)/],
    [['--size=0'], /size is 0/],
    [['--size=4k', '--bs=8k'], /larger than the region/],
    [['--rw=write', '--verify=crc32c', '--norandommap'], /norandommap/],
  ];
  for (const [args, re] of table) t.throws(() => planJob(job(...args), ns), re, args.join(' '));
  // A size that is not a multiple of the LBA size covers the whole blocks in it, as fio runs it.
  t.equal(planJob(job('--size=9000', '--bs=4k'), ns).regionBytes, 8192, 'size=9000 on 4 KiB blocks: two whole blocks');
  // A random pass of one fixed block size is the whole blocks of size (fio: the random map
  // is full); a sequential job keeps size and ends the block it started past it.
  t.equal(planJob(job('--rw=randread', '--size=40k', '--bs=16k'), ns).ioBytes, 32768, 'randread size=40k bs=16k: two blocks');
  t.equal(planJob(job('--rw=read', '--size=40k', '--bs=16k'), ns).ioBytes, 40960, 'read size=40k bs=16k: size');
  // A direction that is not used does not need a valid block size.
  t.doesNotThrow(() => planJob(job('--rw=read', '--bs=4k,512'), ns));
});

t.test('queue sizes leave the driver its quarter of spare entries', async (t) => {
  for (const d of [1, 2, 3, 31, 32, 96, 128, 129, 768]) {
    const q = queueSizeFor(d);
    t.ok(queueCapacity(q) >= d, `depth ${d} -> ${q}`);
    t.ok(q === 2 || queueCapacity(q / 2) < d, `depth ${d}: ${q} is the smallest power of two`);
  }
});

t.test('queue capacity: a quarter spare, and never the whole ring', async (t) => {
  t.same([2, 4, 64, 1024].map(queueCapacity), [1, 3, 48, 768]);
});

t.test('stonewall starts a new group', async (t) => {
  const c = parseBenchArgs(['--name=a', '--name=b', '--name=c', '--stonewall', '--name=d']);
  t.same(groupJobs(c.jobs).map((g) => g.map((j) => j.name)), [['a', 'b'], ['c', 'd']]);
});

t.test('native results become report results', async (t) => {
  const spec = job('--rw=randread', '--iodepth=4');
  const plan = planJob(spec, ns);
  const s = { count: 2, min: 10, max: 20, sum: 30, sumSquares: 500, bins: new Float64Array([10, 1, 20, 1]) };
  const z = { count: 0, min: 0, max: 0, sum: 0, sumSquares: 0, bins: new Float64Array(0) };
  const n: NativeJobResult = {
    read: { ios: 2, bytes: 8192, slat: s, clat: s, lat: s },
    write: { ios: 0, bytes: 0, slat: z, clat: z, lat: z },
    runtimeNs: 1e6, usrNs: 300, sysNs: 100, ctx: 0, majf: 1, minf: 9, depthHist: [1, 1, 0, 0, 0, 0, 0],
    verifyChecked: 2, verifyErrors: 1, verifyFailures: [{ lba: 5, reason: 'crc32c mismatch', found: { magic: 1, kind: 'crc32c', lba: 5, seq: 2, seed: 0x89 } }],
    driverNsPerIo: 50, busyNs: 150, prpCommands: 2, sglCommands: 0, splitCommands: 0, childCommands: 0, bounces: 0,
    error: 0, errorStatus: 0, errorLba: 0, errorText: '',
  };
  const r = toJobResult(spec, plan, 1, n);
  t.equal(r.groupId, 1);
  t.equal(r.majf, 1);
  t.equal(r.minf, 9);
  t.equal(r.verify, 'none');
  t.same(r.read.clat.bins, [10, 1, 20, 1]);
  t.equal(r.phyr.dptr, 'prp');
  t.equal(r.phyr.cpuNsPerIo, 200);
  t.equal(r.phyr.driverNsPerIo, 50);
  t.equal(r.phyr.busyNsPerIo, 75);
  t.same(r.verifyFailures[0].expected, { lba: 5, seq: null, seed: 0x89, kind: 'crc32c' });
  t.equal(r.verifyFailures[0].found.kind, 'crc32c');
  // A verify failure is the job's error, EILSEQ, as fio reports it (verify_fatal or not).
  t.equal(r.error, 84);
  t.equal(r.errorMessage, 'verify failed: 1 block(s) did not match what was written; the first at LBA 5: crc32c mismatch');
  t.equal(toJobResult(spec, plan, 0, { ...n, verifyErrors: 0, verifyFailures: [] }).error, 0);
  t.equal(toJobResult(spec, plan, 0, { ...n, verifyErrors: 0, verifyFailures: [] }).errorMessage, undefined);
  t.equal(toJobResult(spec, plan, 0, { ...n, error: 110, errorText: 'timed out' }).error, 110, 'an IO error seen first keeps its code');
  t.equal(r.header.bs, '(R) 4096B-4096B, (W) 4096B-4096B, (T) 4096B-4096B');
  t.equal(toJobResult(spec, plan, 0, { ...n, error: 5, errorText: 'boom' }).errorMessage, 'boom');
  t.equal(toJobResult(spec, plan, 0, { ...n, prpCommands: 0 }).phyr.dptr, 'none');
});

t.test('job options are the options as written, globals apart', async (t) => {
  const j = job('--rw=randrw', '--bsrange=4k-8k', '--runtime=2', '--time_based', '--ramp_time=1', '--size=10%', '--random_distribution=zipf:1.2', '--norandommap', '--mem=p2p:01:00.0,bar=4', '--offset=8k', '--randseed=7', '--percentile_list=50:99');
  // Values as written, in the order given; a flag without a value is not listed (fio's way);
  // no defaults (ioengine, iodepth, numjobs, nsid, dptr) nobody gave.
  t.same(jobOptions(j), {
    name: 'j', rw: 'randrw', bsrange: '4k-8k', runtime: '2', ramp_time: '1', size: '10%', random_distribution: 'zipf:1.2', mem: 'p2p:01:00.0,bar=4', offset: '8k', randseed: '7', percentile_list: '50:99',
  });
  t.same(Object.keys(jobOptions(j)), ['name', 'rw', 'bsrange', 'runtime', 'ramp_time', 'size', 'random_distribution', 'mem', 'offset', 'randseed', 'percentile_list']);
  t.equal(jobOptions(job('--size=1m', '--rw=write', '--verify=crc32c')).size, '1m');
  t.equal(jobOptions(job('--bs=4k', '--bs=8k')).bs, '8k', 'the later value replaces the earlier');
  const c = parseBenchArgs(['--bs=4k', '--size=1m', '--time_based', '--runtime=1', '--output-format=json', '--name=a', '--rw=read']);
  t.same(c.globalOptions, { bs: '4k', size: '1m', runtime: '1' }, 'options before the first --name; run-wide options are in neither');
  t.same(jobOptions(c.jobs[0]), { name: 'a', rw: 'read' });
  t.equal(bsHeader(job('--bsrange=4k-8k')), '(R) 4096B-8192B, (W) 4096B-8192B, (T) 4096B-8192B');
});

t.test('time_based write with verify: the read-back is planned out, as fio skips it', async (t) => {
  const timed = job('--rw=randwrite', '--verify=crc32c', '--time_based', '--runtime=1');
  t.equal(verifyPhaseNeverStarts(timed), true);
  t.equal(planJob(timed, ns).doVerify, false);
  for (const args of [['--rw=write', '--verify=crc32c', '--runtime=1'], ['--rw=write', '--time_based', '--runtime=1'], ['--rw=read', '--verify=crc32c', '--time_based', '--runtime=1'], ['--rw=write', '--verify=crc32c', '--do_verify=0', '--time_based', '--runtime=1']]) {
    t.equal(verifyPhaseNeverStarts(job(...args)), false, args.join(' '));
  }
  t.equal(planJob(job('--rw=write', '--verify=crc32c', '--runtime=1'), ns).doVerify, true);
});

t.test('a write job with a verify read-back reports each direction over its own phase', async (t) => {
  const spec = job('--rw=write', '--verify=crc32c');
  const plan = planJob(spec, ns);
  const z = { count: 0, min: 0, max: 0, sum: 0, sumSquares: 0, bins: new Float64Array(0) };
  const d = { ios: 4, bytes: 16384, slat: z, clat: z, lat: z };
  const n: NativeJobResult = {
    read: d, write: d, runtimeNs: 10e6, mainPhaseNs: 7e6, usrNs: 0, sysNs: 0, ctx: 0, depthHist: [4, 0, 0, 0, 0, 0, 0],
    verifyChecked: 4, verifyErrors: 0, verifyFailures: [], driverNsPerIo: 0, busyNs: 0, prpCommands: 8, sglCommands: 0, splitCommands: 0, childCommands: 0, bounces: 0,
    error: 0, errorStatus: 0, errorLba: 0, errorText: '', majf: 0, minf: 0,
  };
  const r = toJobResult(spec, plan, 0, n);
  t.equal(r.write.runtimeNs, 7e6, 'writes over the write phase');
  t.equal(r.read.runtimeNs, 3e6, 'reads over the read-back');
  t.equal(r.runtimeNs, 10e6, 'the job over both');
  const whole = toJobResult(spec, plan, 0, { ...n, mainPhaseNs: 10e6 });
  t.equal(whole.write.runtimeNs, undefined, 'no read-back: the job runtime stands');
  const merged = mergeResults([r, { ...toJobResult(spec, plan, 0, { ...n, mainPhaseNs: 4e6 }), name: 'other' }]);
  t.equal(merged.write.runtimeNs, 7e6, 'a merged direction: its longest member');
  t.equal(merged.read.runtimeNs, 6e6);
  t.same(merged.sections?.map((x) => x.name), ['j', 'other'], 'each job keeps its header line');
});


t.test('rw=MODE:N: the skip goes to the engine, LBA-aligned and within the region', async (t) => {
  t.equal(planJob(job('--rw=read:8k', '--size=1m'), ns).seqSkip, 8192);
  t.equal(planJob(job('--rw=write:-4k', '--size=1m'), ns).seqSkip, -4096);
  t.equal(planJob(job('--rw=read', '--size=1m'), ns).seqSkip, undefined);
  t.throws(() => planJob(job('--rw=read:100', '--size=1m'), ns), /multiple of the LBA size/);
  t.throws(() => planJob(job('--rw=read:2m', '--size=1m'), ns), /larger than the region less one block/);
});

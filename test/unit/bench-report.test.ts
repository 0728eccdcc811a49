// Report formatting: fio's JSON schema fields (json and json+), percentiles, latency
// buckets, the normal text blocks, group summaries and the live status line.
import t from 'tap';
import { formatJson, formatNormal, formatVerifyFailure, scaleBytes, scaleNumber, type RunInfo } from '../../bench/cli/report';
import { emptyDirection, latencyBuckets, mean, mergeResults, mergeSeries, percentile, stddev, type JobResult, type LatencySeries } from '../../bench/cli/results';
import { formatStatusLine, wantLiveLine } from '../../bench/cli/status';

/** A series holding the given samples exactly (one bin per distinct value). */
function series(samples: number[]): LatencySeries {
  const counts = new Map<number, number>();
  for (const s of samples) counts.set(s, (counts.get(s) ?? 0) + 1);
  const bins: number[] = [];
  for (const v of [...counts.keys()].sort((a, b) => a - b)) bins.push(v, counts.get(v)!);
  return { count: samples.length, min: Math.min(...samples), max: Math.max(...samples), sum: samples.reduce((a, b) => a + b, 0), sumSquares: samples.reduce((a, b) => a + b * b, 0), bins };
}

const clatSamples = Array.from({ length: 1000 }, (_, i) => 1000 * (i + 1)); // 1 us .. 1 ms

function result(name = 'j', overrides: Partial<JobResult> = {}): JobResult {
  const read = {
    ios: 1000,
    bytes: 1000 * 4096,
    slat: series(Array(1000).fill(50)),
    clat: series(clatSamples),
    lat: series(clatSamples.map((v) => v + 50)),
  };
  return {
    name, groupId: 0, jobs: 1, error: 0, runtimeNs: 2e9, read, write: emptyDirection(),
    usrNs: 1e9, sysNs: 0.5e9, ctx: 3, majf: 2, minf: 41, depthHist: [0, 0, 0, 0, 0, 1000, 0],
    verify: 'none', verifyChecked: 0, verifyErrors: 0, verifyFailures: [],
    phyr: { dptr: 'prp', prpCommands: 1000, sglCommands: 0, splits: 0, bounces: 0, cpuNsPerIo: 1.5e6, driverNsPerIo: 80, busyNsPerIo: 120 },
    options: { rw: 'randread', bs: '4k' }, header: { rw: 'randread', bs: '(R) 4096B-4096B', iodepth: 32 },
    ...overrides,
  };
}

const info: RunInfo = { target: 'emu:backend=null', targetDescription: 'the embedded emulated controller (not a disk)', startedAt: new Date(0), iommuFaults: 0, version: '0.1.0', memcpyBytesPerSecond: 1e10 };
const pct = () => [1, 50, 99, 99.9];

t.test('series statistics', async (t) => {
  const s = series(clatSamples);
  t.equal(mean(s), 500500);
  t.ok(Math.abs(stddev(s) - 288819.0) < 1);
  t.equal(percentile(s, 50), 500000);
  t.equal(percentile(s, 99), 990000);
  t.equal(percentile(s, 99.9), 999000);
  t.equal(percentile(s, 100), 1000000);
  t.equal(percentile(series([7]), 1), 7);
  t.equal(percentile({ count: 0, min: 0, max: 0, sum: 0, sumSquares: 0, bins: [] }, 50), 0);
  t.equal(stddev(series([5])), 0);
  const m = mergeSeries([series([1, 2]), series([2, 3]), { count: 0, min: 0, max: 0, sum: 0, sumSquares: 0, bins: [] }]);
  t.same(m, series([1, 2, 2, 3]));
});

t.test('fio latency buckets', async (t) => {
  const b = latencyBuckets(series([1, 3, 500, 1500, 30000, 3e6, 5e9]));
  t.equal(b.ns['2'].toFixed(3), (100 / 7).toFixed(3));
  t.equal(b.ns['4'].toFixed(3), (100 / 7).toFixed(3));
  t.equal(b.ns['500'].toFixed(3), (100 / 7).toFixed(3));
  t.equal(b.us['2'].toFixed(3), (100 / 7).toFixed(3));
  t.equal(b.us['50'].toFixed(3), (100 / 7).toFixed(3));
  t.equal(b.ms['4'].toFixed(3), (100 / 7).toFixed(3));
  t.equal(b.ms['>=2000'].toFixed(3), (100 / 7).toFixed(3));
  t.same(Object.keys(b.ns), ['2', '4', '10', '20', '50', '100', '250', '500', '750', '1000']);
  t.same(Object.keys(b.ms), ['2', '4', '10', '20', '50', '100', '250', '500', '750', '1000', '2000', '>=2000']);
});

t.test('JSON carries fio\'s schema fields', async (t) => {
  const doc = JSON.parse(formatJson([result()], pct, info, false));
  // phyr says what produced the report; it does not claim to be fio.
  t.equal(doc['phyr version'], 'phyr-0.1.0');
  t.notOk('fio version' in doc, 'no fio version claimed');
  t.type(doc.timestamp, 'number');
  const j = doc.jobs[0];
  t.equal(j.jobname, 'j');
  t.equal(j.groupid, 0);
  t.equal(j.error, 0);
  for (const d of ['read', 'write', 'trim']) {
    for (const k of ['io_bytes', 'bw', 'iops', 'runtime', 'slat_ns', 'clat_ns', 'lat_ns', 'total_ios', 'bw_bytes', 'io_kbytes']) t.ok(k in j[d], `${d}.${k}`);
  }
  t.equal(j.read.io_bytes, 4096000);
  t.equal(j.read.iops, 500);
  t.equal(j.read.bw, 2000); // KiB/s
  t.equal(j.read.runtime, 2000); // ms
  t.same(Object.keys(j.read.clat_ns), ['min', 'max', 'mean', 'stddev', 'N', 'percentile']);
  t.equal(j.read.clat_ns.min, 1000);
  t.equal(j.read.clat_ns.max, 1000000);
  t.equal(j.read.clat_ns.mean, 500500);
  t.same(j.read.clat_ns.percentile, { '1.000000': 10000, '50.000000': 500000, '99.000000': 990000, '99.900000': 999000 });
  t.equal(j.read.slat_ns.mean, 50);
  t.equal(j.read.lat_ns.min, 1050);
  t.notOk('bins' in j.read.clat_ns, 'json has no bins');
  t.notOk('percentile' in j.write.clat_ns, 'no percentiles for an idle direction');
  t.equal(j.usr_cpu, 50);
  t.equal(j.sys_cpu, 25);
  t.equal(j.iodepth_level['32'], 100);
  for (const k of ['latency_ns', 'latency_us', 'latency_ms']) t.type(j[k], 'object', k);
  t.equal(j.latency_us['1000'] > 0, true);
  t.equal(j.phyr.dptr, 'prp');
  t.equal(j.phyr.cpu_ns_per_io, 1.5e6);
  t.equal(j.phyr.driver_ns_per_io, 80);
  t.equal(j.phyr.busy_ns_per_io, 120);
  t.equal(doc.phyr.target, 'emu:backend=null');
  t.equal(doc.phyr.iommu_faults, 0);
  t.equal(doc.phyr.memcpy_bytes_per_second, 1e10);
});

t.test('json+ adds clat histogram bins', async (t) => {
  const j = JSON.parse(formatJson([result()], pct, info, true)).jobs[0];
  t.equal(Object.keys(j.read.clat_ns.bins).length, 1000);
  t.equal(j.read.clat_ns.bins['1000'], 1);
  t.equal(Object.values(j.read.clat_ns.bins as Record<string, number>).reduce((a, b) => a + b, 0), 1000);
});

t.test('normal output has fio\'s blocks and names the target', async (t) => {
  const text = formatNormal([result('a'), result('b', { groupId: 1, verifyChecked: 5, verifyErrors: 1, verifyFailures: [{ lba: 7, reason: 'crc32c mismatch', expected: { lba: 7, seq: null, seed: 0x89 }, found: { magic: 0, lba: 7, seq: 1, seed: 0x89 } }] })], pct, info);
  t.match(text, /on emu:backend=null: the embedded emulated controller/);
  t.match(text, /a: \(g=0\): rw=randread, bs=\(R\) 4096B-4096B, ioengine=phyr, iodepth=32/);
  t.match(text, /a: \(groupid=0, jobs=1\): err= 0/);
  t.match(text, /  read: IOPS=500, BW=2000KiB\/s \(2048kB\/s\)\(4000KiB\/2000msec\)/);
  t.match(text, /    slat \(nsec\): min=50, max=50, avg=50\.00, stdev= 0\.00/);
  // fio switches to usec only when min > 2000 ns and max > 99999 ns.
  t.match(text, /    clat \(nsec\): min=1000, max=1000000, avg=500500\.00, stdev=288819\.44/);
  t.match(text, /     lat \(nsec\): min=1050, max=1000050/);
  t.match(text, /    clat percentiles \(usec\):\n     \|  1\.00th=\[   10\], 50\.00th=\[  500\], 99\.00th=\[  990\], 99\.90th=\[  999\]/);
  t.match(text, /  lat \(usec\)   : .*1000=/);
  t.match(text, /  cpu          : usr=50\.00%, sys=25\.00%, ctx=3, majf=2, minf=41, per IO=1500000ns/);
  t.match(text, /  IO depths    : 1=0\.0%, 2=0\.0%, 4=0\.0%, 8=0\.0%, 16=0\.0%, 32=100\.0%, >=64=0\.0%/);
  t.match(text, /  phyr         : dptr=prp \(prp=1000, sgl=0\), splits=0, bounces=0/);
  t.match(text, /  phyr per IO  : driver=80ns, loop busy=120ns, thread cpu=1500000ns/);
  t.match(text, /verify error : LBA 7: crc32c mismatch; expected header \{lba=7, seq=any, seed=0x89\}, found \{magic=0x0, lba=7, seq=1, seed=0x89\}/);
  t.match(text, /Run status group 0 \(all jobs\):\n   READ: bw=2000KiB\/s \(2048kB\/s\), 2000KiB\/s-2000KiB\/s .*io=4000KiB \(4096kB\), run=2000-2000msec/);
  t.match(text, /Run status group 1 \(all jobs\)/);
  t.match(text, /iommu faults=0/);
});

t.test('group reporting merges clones', async (t) => {
  const m = mergeResults([result('a'), result('a', { phyr: { dptr: 'sgl', prpCommands: 0, sglCommands: 1000, splits: 2, bounces: 1, cpuNsPerIo: 0, driverNsPerIo: 40, busyNsPerIo: 60 } })]);
  t.equal(m.jobs, 2);
  t.equal(m.read.ios, 2000);
  t.equal(m.read.clat.count, 2000);
  t.equal(m.phyr.dptr, 'prp+sgl');
  t.equal(m.phyr.splits, 2);
  t.equal(m.phyr.cpuNsPerIo, 1.5e6);
  t.equal(m.phyr.driverNsPerIo, 60);
  t.equal(m.phyr.busyNsPerIo, 90);
  t.same(m.depthHist, [0, 0, 0, 0, 0, 2000, 0]);
});

t.test('number formatting like fio', async (t) => {
  t.equal(scaleNumber(9999), '9999');
  t.equal(scaleNumber(1234567), '1235k');
  // fio 3.33's num2str at its default 4 significant figures, and at others (measured).
  t.equal(scaleNumber(52345678), '52.3M');
  t.equal(scaleNumber(10), '10');
  t.equal(scaleBytes(16 << 20, 1024), '16.0MiB');
  t.equal(scaleBytes(16 << 20, 1024, 3), '16MiB');
  t.equal(scaleBytes(16 << 20, 1024, 5), '16384KiB');
  t.equal(scaleBytes(16 << 20, 1000, 5), '16777kB');
  t.equal(scaleBytes(1 << 20, 1024, 3), '1.0MiB');
  t.equal(scaleBytes(512, 1024), '512B');
  t.equal(scaleNumber(512000, 6), '512000');
  t.equal(scaleNumber(512000, 2), '1M');
  t.equal(scaleBytes(2097152000, 1024, 3), '2.0GiB');
  t.equal(scaleBytes(2097152000, 1024, 6), '2000.0MiB');
  t.equal(scaleBytes(2097152000, 1024, 10), '2097152000B');
  t.equal(scaleBytes(4096, 1024), '4096B');
  t.equal(scaleBytes(5055e6, 1024), '4821MiB');
  t.equal(scaleBytes(15.2e9, 1024), '14.2GiB');
  t.equal(formatVerifyFailure({ lba: 1, reason: 'r', expected: { lba: 1, seq: 3, seed: 16 }, found: { magic: 1, lba: 2, seq: 3, seed: 16 } }), 'LBA 1: r; expected header {lba=1, seq=3, seed=0x10}, found {magic=0x1, lba=2, seq=3, seed=0x10}');
  // The checksum kind each side holds, when known (md5 verify over a crc32c-written block).
  t.equal(
    formatVerifyFailure({ lba: 9, reason: 'header mismatch', expected: { lba: 9, seq: null, seed: 16, kind: 'md5' }, found: { magic: 1, lba: 9, seq: 3, seed: 16, kind: 'crc32c' } }),
    'LBA 9: header mismatch; expected header {lba=9, seq=any, seed=0x10, checksum=md5}, found {magic=0x1, lba=9, seq=3, seed=0x10, checksum=crc32c}',
  );
});

t.test('the verify checksum is printed in the normal and JSON output', async (t) => {
  const r = result('v', { verifyChecked: 8, verifyErrors: 0, verify: 'md5', options: { rw: 'write', bs: '4k', verify: 'md5' } });
  t.match(formatNormal([r], pct, info), /  verify       : blocks checked=8, errors=0, checksum=md5/);
  const j = JSON.parse(formatJson([r], pct, info, false)) as { jobs: Array<{ phyr: Record<string, unknown>; 'job options': Record<string, string> }> };
  t.equal(j.jobs[0].phyr.verify, 'md5');
  t.equal(j.jobs[0]['job options'].verify, 'md5');
  const none = JSON.parse(formatJson([result('n')], pct, info, false)) as { jobs: Array<{ phyr: Record<string, unknown> }> };
  t.notOk('verify' in none.jobs[0].phyr);
});

t.test('live status line', async (t) => {
  t.equal(
    formatStatusLine({ running: 1, states: 'r', percent: 45, readBytesPerSec: 5055e6, writeBytesPerSec: 0, readIops: 1234567, writeIops: 0, etaSeconds: 2 }),
    'Jobs: 1 (f=1): [r][45.0%][r=4821MiB/s][r=1235k IOPS][eta 00m:02s]',
  );
  t.match(formatStatusLine({ running: 2, states: 'mm', percent: 10, readBytesPerSec: 1e6, writeBytesPerSec: 2e6, readIops: 10, writeIops: 20, etaSeconds: 3725 }), /\[r=977KiB\/s,w=1953KiB\/s\]\[r=10,w=20 IOPS\]\[eta 1h:02m:05s\]/);
  t.equal(wantLiveLine('auto', true), true);
  t.equal(wantLiveLine('auto', false), false);
  t.equal(wantLiveLine('always', false), true);
  t.equal(wantLiveLine('never', true), false);
});

t.test('percentile units follow fio\'s min/max rule', async (t) => {
  const ns = formatNormal([result('a', { read: { ...result().read, clat: series([100, 200, 300]) } })], pct, info);
  t.match(ns, /clat percentiles \(nsec\):\n     \|  1\.00th=\[  100\]/);
  const ms = formatNormal([result('a', { read: { ...result().read, clat: series([3e6, 2e8]) } })], pct, info);
  t.match(ms, /clat percentiles \(msec\):\n     \|  1\.00th=\[    3\], 50\.00th=\[    3\], 99\.00th=\[  200\]/);
});

t.test('json+ writes no bins for a direction that did no IO (fio leaves them out)', async (t) => {
  const j = JSON.parse(formatJson([result()], pct, info, true)).jobs[0];
  t.ok(Object.keys(j.read.clat_ns.bins).length > 0, 'the read direction has its bins');
  for (const d of ['write', 'trim']) t.same(Object.keys(j[d].clat_ns), ['min', 'max', 'mean', 'stddev', 'N'], `${d}: no bins, no percentiles`);
});

t.test('no samples: fio\'s zero bandwidth and IOPS sample statistics; page faults as measured', async (t) => {
  const j = JSON.parse(formatJson([result()], pct, info, false)).jobs[0];
  for (const d of ['read', 'write', 'trim']) {
    for (const k of ['bw_min', 'bw_max', 'bw_agg', 'bw_mean', 'bw_dev', 'bw_samples', 'iops_min', 'iops_max', 'iops_mean', 'iops_stddev', 'iops_samples']) t.equal(j[d][k], 0, `${d}.${k} = 0, as fio writes it`);
  }
  t.notOk('timeline' in j.phyr, 'no timeline without samples');
  t.equal(j.majf, 2);
  t.equal(j.minf, 41);
  const m = mergeResults([result('a'), result('a', { majf: 1, minf: 9 })]);
  t.equal(m.majf, 3);
  t.equal(m.minf, 50);
});

t.test('global options and job options are reported as given', async (t) => {
  const doc = JSON.parse(formatJson([result()], pct, { ...info, globalOptions: { bs: '4k', size: '1m' } }, false));
  t.same(doc['global options'], { bs: '4k', size: '1m' });
  t.same(doc.jobs[0]['job options'], { rw: 'randread', bs: '4k' });
  t.same(JSON.parse(formatJson([result()], pct, info, false))['global options'], {});
});

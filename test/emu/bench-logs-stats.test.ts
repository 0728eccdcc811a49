// fio's per-sample statistics from interval records, as stat.c computes them: which
// intervals count, the integer KiB/s and IOPS rates, Welford's mean and S, the n - 1
// deviation, group_reporting's pure sums, bw_agg against the group's aggregate, and the
// normal output's "bw (...)" and "iops" lines; plus the timeline of CONTRACT-14.
import t from 'tap';
import { formatJson, formatNormal, type RunInfo } from '../../bench/cli/report';
import { formatTerse } from '../../bench/cli/report-terse';
import { emptyDirection, mergeResults, type JobResult } from '../../bench/cli/results';
import { withSamples } from '../../bench/cli/runner';
import { decodeIntervals, directionSampleStats, statDev, sumStats, timelineOf, type IntervalSample } from '../../bench/cli/samples';
import { formatIoLines } from '../../bench/cli/logs';

function interval(tEndMs: number, spanMs: number, readBytes: number, readIos: number, p50: number | null = 1000): IntervalSample {
  return {
    kind: 0, tEndNs: tEndMs * 1e6, spanNs: spanMs * 1e6, slatSumNs: [0, 0, 0], slatCount: [0, 0, 0], clatSumNs: [0, 0, 0], latSumNs: [0, 0, 0],
    ios: [readIos, 0, 0], bytes: [readBytes, 0, 0],
    clatP50Ns: [p50, null, null], clatP99Ns: [p50 === null ? null : p50 * 2, null, null], clatP999Ns: [p50 === null ? null : p50 * 3, null, null],
  };
}

function base(name = 'j', groupId = 0): JobResult {
  const read = { ...emptyDirection(), ios: 3000, bytes: 3000 * 4096 };
  return {
    name, groupId, jobs: 1, error: 0, runtimeNs: 1.5e9, read, write: emptyDirection(),
    usrNs: 0, sysNs: 0, ctx: 0, majf: 0, minf: 0, depthHist: [0, 0, 0, 0, 0, 0, 0],
    verify: 'none', verifyChecked: 0, verifyErrors: 0, verifyFailures: [],
    phyr: { dptr: 'prp', prpCommands: 0, sglCommands: 0, splits: 0, bounces: 0, cpuNsPerIo: 0, driverNsPerIo: 0, busyNsPerIo: 0 },
    options: {}, header: { rw: 'randread', bs: '4k', iodepth: 1 },
  };
}

const info: RunInfo = { target: 'emu:backend=null', targetDescription: 'test', startedAt: new Date(0), iommuFaults: 0, version: '0.1.0' };

t.test('rates as fio takes them: integer, over whole elapsed ms; an idle interval is no sample', async (t) => {
  // 1000000 bytes over 500.7 ms: 1000000 x 1000 / 500 = 2000000 B/s, / 1024 = 1953 KiB/s.
  const xs = [interval(500.7, 500.7, 1_000_000, 250), interval(1000, 499.3, 0, 0, null), interval(1500, 500, 2_048_000, 500)];
  const s = directionSampleStats(xs, 'read');
  t.equal(s.bw.samples, 2, 'the interval that moved nothing is no sample');
  t.equal(s.bw.min, 1953);
  t.equal(s.bw.max, 4000);
  t.equal(s.bw.mean, (1953 + 4000) / 2);
  t.equal(s.iops.min, 500, '250 IOs over 500 ms');
  t.equal(s.iops.max, 1000);
  // Welford's S of two samples is (a - b)^2 / 2; the deviation uses n - 1.
  t.ok(Math.abs(statDev(s.bw) - Math.abs(4000 - 1953) / Math.SQRT2) < 1e-9);
  t.equal(directionSampleStats(xs, 'write').bw.samples, 0);
  t.equal(statDev({ samples: 1, min: 5, max: 5, mean: 5, S: 0 }), 0, 'one sample: no deviation');
});

t.test('group_reporting adds the statistics up (fio sum_stat, pure_sum)', async (t) => {
  const a = { samples: 2, min: 10, max: 20, mean: 15, S: 50 };
  const b = { samples: 3, min: 1, max: 3, mean: 2, S: 2 };
  t.same(sumStats([a, b, undefined, { samples: 0, min: 0, max: 0, mean: 0, S: 0 }]), { samples: 5, min: 11, max: 23, mean: 17, S: 52 });
  const r1 = withSamples(base('g'), [interval(500, 500, 1_024_000, 250), interval(1000, 500, 2_048_000, 500)], 500);
  const r2 = withSamples(base('g'), [interval(500, 500, 512_000, 125)], 500);
  const m = mergeResults([r1, r2]);
  t.equal(m.read.bwStat!.samples, 3);
  t.equal(m.read.bwStat!.min, 2000 + 1000, 'the sum of the jobs\' minimums');
  t.same(m.timeline!.read!.iops, [250 * 2 + 125 * 2, 1000], 'rates summed interval by interval');
  t.same(m.timeline!.read!.clat_p99_ns, [null, null], 'no merged percentiles');
});

t.test('the timeline: per-second rates, percentiles or null, idle directions left out', async (t) => {
  const xs = [interval(500, 500, 1_024_000, 250, 700), interval(1001, 501, 0, 0, null)];
  const tl = timelineOf(xs, 500)!;
  t.same(tl.t_ms, [500, 1001]);
  t.equal(tl.interval_ms, 500);
  t.same(tl.read!.iops, [500, 0]);
  t.same(tl.read!.bw_bytes, [2_048_000, 0]);
  t.same(tl.read!.clat_p50_ns, [700, null]);
  t.same(tl.read!.clat_p99_9_ns, [2100, null]);
  t.notOk('write' in tl, 'a direction with no IO is left out');
  t.equal(timelineOf([], 500), undefined, 'no samples: no timeline');
  // The engine's records decode field by field (sampler.h order), -1 as null.
  const raw = new Float64Array([500e6, 500e6, 1, 2, 3, 10, 20, 30, 100, -1, -1, 200, -1, -1, 300, -1, -1, 7, 0, 0, 1, 0, 0, 8, 0, 0, 9, 0, 0, 1]);
  const [d] = decodeIntervals([raw]);
  t.equal(d.kind, 1);
  t.same([d.slatSumNs[0], d.slatCount[0], d.clatSumNs[0], d.latSumNs[0]], [7, 1, 8, 9]);
  t.same(d.ios, [1, 2, 3]);
  t.same(d.bytes, [10, 20, 30]);
  t.same(d.clatP99Ns, [200, null, null]);
});

t.test('fio\'s lines and fields: bw (KiB/s or MiB/s), per= of the group aggregate, iops', async (t) => {
  const r = withSamples(base(), [interval(500, 500, 1_024_000, 250), interval(1000, 500, 2_048_000, 500), interval(1500, 500, 3_072_000, 750)], 500);
  const text = formatNormal([r], () => [50], info);
  // In fio's place, after the direction's latency lines. Samples 2000, 4000, 6000 KiB/s: mean 4000, stdev 2000; the aggregate is 3000 x 4096 B
  // over 1500 ms = 8192000 B/s = 8000 KiB/s, so per = 4000 / 8000 = 50 %.
  t.match(text, /\n {5}lat \(nsec\): .*\n {3}bw \( {2}KiB\/s\): min= 2000, max= 6000, per=50\.00%, avg=4000\.00, stdev=2000\.00, samples=3\n {3}iops {8}: min=  500, max= 1500, avg=1000\.00, stdev=500\.00, samples=3\n/);
  const j = JSON.parse(formatJson([r], () => [50], info, false)).jobs[0];
  t.same(
    { min: j.read.bw_min, max: j.read.bw_max, agg: j.read.bw_agg, mean: j.read.bw_mean, dev: j.read.bw_dev, n: j.read.bw_samples },
    { min: 2000, max: 6000, agg: 50, mean: 4000, dev: 2000, n: 3 },
  );
  t.same([j.read.iops_min, j.read.iops_max, j.read.iops_mean, j.read.iops_stddev, j.read.iops_samples], [500, 1500, 1000, 500, 3]);
  t.same(j.phyr.timeline.t_ms, [500, 1000, 1500]);
  // Terse v3: bw_min;bw_max;bw_agg%;bw_mean;bw_dev after the read lat columns.
  t.match(formatTerse([r], () => [50], info), /;2000;6000;50\.000000%;4000\.000000;2000\.000000;/);
  t.match(formatTerse([base()], () => [50], info), /;0;0;0\.000000%;0\.000000;0\.000000;/, 'no samples: fio\'s zeros');
  // Above 1 GiB/s fio prints MiB/s: min and max divided as integers.
  const fast = withSamples(base(), [interval(500, 500, 1_500_000_000, 1000), interval(1000, 500, 1_600_000_000, 1000)], 500);
  t.match(formatNormal([fast], () => [50], info), /\n {3}bw \( {2}MiB\/s\): min= 2861, max= 3051, per=100\.00%, avg=2956\.39, stdev=134\.87, samples=2\n/);
});

t.test('the matrix keeps the logging rows and the sampled floor apart from the rows they repeat', async (t) => {
  const { matrixRowIdentity } = require('../../bench/results/matrix-rows.js') as { matrixRowIdentity(label: string): { key: string; params: Record<string, string | number> } };
  const keys = [
    '4 KiB randread QD32, null backend, 1 job',
    '4 KiB randread QD32, null backend, no log files (same as above, run beside the next)',
    '4 KiB randread QD32, null backend, write_bw_log + write_lat_log, log_avg_msec=1000',
    '4 KiB randread QD32, null backend, write_lat_log per IO (log_avg_msec=0)',
    'engine alone, null queue, QD128 (no device)',
    'engine alone, null queue, QD128, interval samples every 500 ms (no device)',
  ].map((l) => matrixRowIdentity(l).key);
  t.equal(new Set(keys).size, keys.length, keys.join(', '));
  t.equal(matrixRowIdentity('4 KiB randread QD32, null backend, write_bw_log + write_lat_log, log_avg_msec=1000').params.logs, 'bw+lat, log_avg_msec=1000');
  t.equal(matrixRowIdentity('engine alone, null queue, QD128, interval samples every 500 ms (no device)').params.sampleMs, 500);
});

t.test('per-IO lines written digit by digit equal fio\'s printf columns', async (t) => {
  const ios = new Float64Array([
    1_000_000, 1_000_350, 1_021_350, 0, 4096, 0,
    2_999_999_999, 3_000_000_000, 3_000_000_123, 2 ** 40 + 512, 131072, 1,
    5e9, 5e9 + 2 ** 31 + 7, 5e9 + 2 ** 32, 4096 * 7, 512, 2,
  ]);
  for (const [offset, prio] of [[false, false], [true, false], [true, true]]) {
    const l = { lat: '', avgMsec: 0, maxValue: false, perJob: true, offset, prio, histMsec: 0, histCoarseness: 0 };
    const got = formatIoLines(l, ios);
    const want = { lat: '', slat: '', clat: '' };
    for (let o = 0; o < ios.length; o += 6) {
      const [prep, ring, done, off, bs, ddir] = Array.from(ios.subarray(o, o + 6));
      const tail = `${ddir}, ${bs}, ${offset ? `${off}, ` : ''}${prio ? '0x0000' : '0'}\n`;
      want.slat += `${Math.floor(ring / 1e6)}, ${ring - prep}, ${tail}`;
      want.clat += `${Math.floor(done / 1e6)}, ${done - ring}, ${tail}`;
      want.lat += `${Math.floor(done / 1e6)}, ${done - prep}, ${tail}`;
    }
    for (const k of ['lat', 'slat', 'clat'] as const) t.equal(got[k].toString('latin1'), want[k], `${k}, log_offset=${offset}, log_prio=${prio}`);
  }
});

// fio's terse v3 line from known results: fio's integer arithmetic for bandwidth and IOPS,
// latencies in microseconds (min/max truncated), the fixed 20 percentile columns, the
// nanosecond latency buckets folded into the first microsecond one, and the unsampled
// bandwidth statistics printed as fio prints a statistic without samples.
import t from 'tap';
import { formatJobTerse, formatTerse } from '../../bench/cli/report-terse';
import type { RunInfo } from '../../bench/cli/report';
import { emptyDirection, type JobResult, type LatencySeries } from '../../bench/cli/results';

function series(samples: number[]): LatencySeries {
  const counts = new Map<number, number>();
  for (const s of samples) counts.set(s, (counts.get(s) ?? 0) + 1);
  const bins: number[] = [];
  for (const v of [...counts.keys()].sort((a, b) => a - b)) bins.push(v, counts.get(v)!);
  return { count: samples.length, min: Math.min(...samples), max: Math.max(...samples), sum: samples.reduce((a, b) => a + b, 0), sumSquares: samples.reduce((a, b) => a + b * b, 0), bins };
}

// 3 writes: two of 500 ns total latency, one of 2500 ns.
function result(overrides: Partial<JobResult> = {}): JobResult {
  const write = { ios: 3, bytes: 3 * 4096, slat: series([100, 100, 200]), clat: series([400, 400, 2300]), lat: series([500, 500, 2500]) };
  return {
    name: 'w', groupId: 1, jobs: 1, error: 0, runtimeNs: 7e6, read: emptyDirection(), write,
    usrNs: 3.5e6, sysNs: 0, ctx: 5, majf: 0, minf: 7, depthHist: [3, 0, 0, 0, 0, 0, 0],
    verify: 'none', verifyChecked: 0, verifyErrors: 0, verifyFailures: [],
    phyr: { dptr: 'prp', prpCommands: 3, sglCommands: 0, splits: 0, bounces: 0, cpuNsPerIo: 0, driverNsPerIo: 0, busyNsPerIo: 0 },
    options: { rw: 'write' }, header: { rw: 'write', bs: '4k', iodepth: 1 },
    ...overrides,
  };
}

const info: RunInfo = { target: 'emu:backend=null', targetDescription: 'emu', startedAt: new Date(0), iommuFaults: 0, version: '9.9.9' };

t.test('columns of one job', async (t) => {
  const c = formatJobTerse(result(), [50, 99], info).split(';');
  t.equal(c.length, 121, "terse v3's 121 columns (no disk utilisation)");
  t.same(c.slice(0, 5), ['3', 'phyr-9.9.9', 'w', '1', '0'], 'version, producer, name, group, error');
  t.same(c.slice(5, 9), ['0', '0', '0', '0'], 'idle read: kb, bw, iops, runtime');
  t.same(c.slice(17, 37), [...Array(2).fill(0).map((_, i) => `${['50', '99'][i]}.000000%=0`), ...Array(18).fill('0%=0')], 'idle read still lists the percentiles, padded to 20');
  const w = 46; // column 47, 0-based
  // bw = ((1000 * 12288) / 7) / 1024 = 1714 (integer steps), iops = 3000 / 7 = 428.
  t.same(c.slice(w, w + 4), ['12', '1714', '428', '7'], 'write: kb, bw KiB/s, iops, runtime ms');
  t.same(c.slice(w + 4, w + 8), ['0', '0', '0.133333', '0.057735'], 'slat in us: min/max truncated, mean and stddev as fractions');
  t.same(c.slice(w + 8, w + 12), ['0', '2', '1.033333', '1.096966'], 'clat in us');
  t.same(c.slice(w + 12, w + 14), ['50.000000%=0', '99.000000%=2'], 'clat percentiles in whole us');
  t.same(c.slice(w + 32, w + 36), ['0', '2', '1.166667', '1.154701'], 'lat in us');
  t.same(c.slice(w + 36, w + 41), ['0', '0', '0.000000%', '0.000000', '0.000000'], 'bandwidth statistics unsampled: fio\'s no-sample values');
  t.same(c.slice(87, 92), ['50.000000%', '0.000000%', '5', '0', '7'], 'cpu usr, sys, ctx, majf, minf');
  t.same(c.slice(92, 99), ['100.0%', '0.0%', '0.0%', '0.0%', '0.0%', '0.0%', '0.0%'], 'io depths');
  // The two 500 ns IOs are nanosecond-bucket ones: folded into "<=2 us" with nothing else
  // there; the 2500 ns one is in "<=4 us".
  t.same(c.slice(99, 101), ['66.67%', '33.33%'], 'ns buckets folded into the first us bucket');
  t.same(c.slice(109, 121), Array(12).fill('0.00%'), 'ms buckets');
});

t.test('a description is the last column; one line per job', async (t) => {
  const out = formatTerse([result({ options: { description: 'two words' } }), result({ name: 'v' })], () => [50], info);
  const [a, b, end] = out.split('\n');
  t.equal(a.split(';').length, 122);
  t.equal(a.split(';')[121], 'two words');
  t.equal(b.split(';')[2], 'v');
  t.equal(end, '', 'each line ends with a newline');
});

t.test('lat_percentiles puts the total latency in the percentile columns; no percentiles: 0%=0', async (t) => {
  const w = 46 + 12;
  const lat = formatJobTerse(result({ percentileSeries: { slat: false, clat: true, lat: true } }), [50, 99], info).split(';');
  t.same(lat.slice(w, w + 2), ['50.000000%=0', '99.000000%=2'], 'lat: 500, 500, 2500 ns');
  const clatOnly = formatJobTerse(result({ write: { ...result().write, clat: series([400, 400, 1300]) } }), [50, 99], info).split(';');
  t.same(clatOnly.slice(w, w + 2), ['50.000000%=0', '99.000000%=1'], 'clat (the default)');
  const none = formatJobTerse(result({ percentileSeries: { slat: true, clat: false, lat: false } }), [50, 99], info).split(';');
  t.same(none.slice(w, w + 20), Array(20).fill('0%=0'), 'clat_percentiles=0: no percentile columns filled');
  t.equal(none.length, 121, 'still 121 columns');
});

t.test('unified_rw_reporting: mixed in place of read and write; both after them', async (t) => {
  const r = result({ read: { ios: 1, bytes: 4096, slat: series([100]), clat: series([400]), lat: series([500]) } });
  const mixed = formatJobTerse({ ...r, unifiedRw: 'mixed' }, [50], info).split(';');
  t.equal(mixed.length, 80, 'one direction: 121 - 41 columns');
  t.same(mixed.slice(5, 9), ['16', '2285', '571', '7'], 'mixed: 4 IOs, 16 KiB over the job\'s 7 ms');
  const both = formatJobTerse({ ...r, unifiedRw: 'both' }, [50], info).split(';');
  t.equal(both.length, 162, 'three directions');
  t.same([both[5], both[46], both[87]], ['4', '12', '16'], 'read, write, then mixed KiB');
});

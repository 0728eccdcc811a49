// fio's error and CPU options as phyr parses them (continue_on_error, ignore_error,
// max_latency, cpus_allowed, cpumask, cpus_allowed_policy), what the native loop is told,
// and how the reports carry fio's total_err / first_error (fio 3.33's stat.c: JSON between
// latency_ms and latency_depth, an "errors" line after "issued rwts", two terse columns
// before the description).
import t from 'tap';
import { parseBenchArgs } from '../../bench/cli/config';
import type { JobSpec } from '../../bench/cli/job';
import { nativeErrorParams } from '../../bench/cli/options-errors';
import { formatCpuList, parseCpuList, parseCpuMask, processCpus, threadCpus } from '../../bench/cli/options-cpus';
import { planJob } from '../../bench/cli/plan';
import { formatJson, formatNormal, type RunInfo } from '../../bench/cli/report';
import { formatJobTerse } from '../../bench/cli/report-terse';
import { emptyDirection, jobFailed, mergeResults, type JobResult } from '../../bench/cli/results';

function job(...args: string[]): JobSpec {
  const c = parseBenchArgs(['--name=j', ...args]);
  return c.jobs[0];
}

function refused(t: { throws(fn: () => unknown, re: RegExp): unknown }, args: string[], re: RegExp): void {
  t.throws(() => parseBenchArgs(['--name=j', ...args]), re);
}

t.test('continue_on_error: fio\'s values and aliases', async (t) => {
  const bits = { none: 0, read: 1, write: 2, io: 3, verify: 4, all: 7, '0': 0, '1': 7 };
  for (const [v, b] of Object.entries(bits)) t.equal(job(`--continue_on_error=${v}`).continueOnError, b, v);
  // fio 3.33 refuses other numbers (measured: --continue_on_error=2 fails to parse).
  refused(t, ['--continue_on_error=2'], /continue_on_error=2: expected none, read, write, io, verify, all, 0 \(none\) or 1 \(all\)/);
  refused(t, ['--continue_on_error=bogus'], /continue_on_error=bogus/);
  t.equal(job().continueOnError, 0, 'off by default');
});

t.test('ignore_error: lists per type, fio\'s names, and it turns its types on', async (t) => {
  const j = job('--ignore_error=EIO:ENOSPC,,84');
  t.same(j.ignoreError, [[5, 28], undefined, [84]]);
  t.equal(j.continueOnError, 1 | 4, 'read and verify turned on');
  t.same(job('--ignore_error=-5').ignoreError[0], [5], 'a negative number is its magnitude, as fio');
  // fio names errno 1..34 only (measured: EILSEQ, ETIMEDOUT, ENODATA are "Unknown error").
  refused(t, ['--ignore_error=,,EILSEQ'], /unknown error 'EILSEQ'.*84 for EILSEQ/);
  refused(t, ['--ignore_error=ETIMEDOUT'], /unknown error 'ETIMEDOUT'/);
  refused(t, ['--ignore_error=0x1c'], /unknown error '0x1c'/);
  refused(t, ['--ignore_error=EIO,EIO,EIO,EIO'], /at most three lists/);
  // continue_on_error after ignore_error sets the types, keeping the lists.
  t.equal(job('--ignore_error=EIO', '--continue_on_error=none').continueOnError, 0);
});

t.test('what the native loop is told: fio\'s td_non_fatal_error per type', async (t) => {
  t.same(nativeErrorParams(job('--continue_on_error=read')), { errorCountTypes: 1, continueEio: 1, continueTimedOut: 0, continueVerify: false });
  t.same(nativeErrorParams(job('--continue_on_error=all')), { errorCountTypes: 7, continueEio: 3, continueTimedOut: 0, continueVerify: true }, 'ETIMEDOUT is fatal by default');
  t.same(nativeErrorParams(job('--continue_on_error=io', '--ignore_error=110,ENOSPC')), { errorCountTypes: 3, continueEio: 0, continueTimedOut: 1, continueVerify: false }, 'a list replaces EIO/EILSEQ');
  t.same(nativeErrorParams(job('--continue_on_error=io', '--ignore_error=110')), { errorCountTypes: 3, continueEio: 2, continueTimedOut: 1, continueVerify: false }, 'a type without a list keeps EIO');
  const plan = planJob(job('--continue_on_error=write', '--max_latency=2ms,,3', '--rw=randwrite'), { nsid: 1, lbaSize: 512, blocks: 1 << 17 });
  t.equal(plan.errorCountTypes, 2);
  t.same(plan.maxLatencyNs, [2e6, 0, 3e3]);
  const off = planJob(job(), { nsid: 1, lbaSize: 512, blocks: 1 << 17 });
  t.equal(off.errorCountTypes, undefined, 'nothing sent when off');
  t.equal(off.maxLatencyNs, undefined);
});

t.test('max_latency: microseconds unless a unit is given, per direction', async (t) => {
  t.same(job('--max_latency=250').maxLatencyNs, [250e3, 250e3, 250e3]);
  t.same(job('--max_latency=10ms').maxLatencyNs, [10e6, 10e6, 10e6]);
  t.same(job('--max_latency=1ms,2ms').maxLatencyNs, [1e6, 2e6, 2e6], 'a missing trim value follows the write value');
  t.same(job('--max_latency=,5ms').maxLatencyNs, [0, 5e6, 5e6]);
  refused(t, ['--max_latency=1,2,3,4'], /READ,WRITE\[,TRIM\]/);
  refused(t, ['--max_latency=soon'], /max_latency=soon/);
});

t.test('cpus_allowed, cpumask, cpus_allowed_policy', async (t) => {
  t.same(parseCpuList('cpus_allowed', '0,5,8-11'), [0, 5, 8, 9, 10, 11]);
  t.same(job('--cpus_allowed=3,1').cpus, [1, 3]);
  t.same(job('--cpumask=34').cpus, [1, 5], 'fio\'s example: 1 << 1 | 1 << 5');
  t.same(parseCpuMask('cpumask', '0x5'), [0, 2]);
  t.throws(() => parseCpuMask('cpumask', '0x100000000'), /CPUs 0..31 only/);
  t.throws(() => parseCpuMask('cpumask', '0'), /allows no CPU/);
  t.throws(() => parseCpuList('cpus_allowed', '4-2'), /runs backwards/);
  t.throws(() => parseCpuList('cpus_allowed', '1,x'), /'x' is not a CPU/);
  t.throws(() => parseCpuList('cpus_allowed', '1024'), /beyond the 1024 CPUs/);
  refused(t, ['--cpus_allowed_policy=spread'], /expected shared or split/);
  t.equal(formatCpuList([0, 1, 2, 5, 7, 8]), '0-2,5,7-8');
  t.same(processCpus('Name:\tx\nCpus_allowed_list:\t0-2,4\n'), [0, 1, 2, 4]);
});

t.test('each job thread\'s CPUs: shared gets the set, split one CPU round robin by thread number', async (t) => {
  const shared = job('--cpus_allowed=0-1');
  t.same(threadCpus(shared, 1, [0, 1, 2]), [0, 1]);
  const split = job('--cpus_allowed=0-2', '--cpus_allowed_policy=split');
  t.same([1, 2, 3, 4].map((n) => threadCpus(split, n, [0, 1, 2])), [[0], [1], [2], [0]]);
  t.equal(threadCpus(job(), 1, [0]), undefined, 'not pinned');
  t.throws(() => threadCpus(job('--cpus_allowed=1,7'), 1, [0, 1]), /job 'j': cpus_allowed \/ cpumask: CPU 7 is not one this process may run on \(it may run on 0-1\)/);
});

const info: RunInfo = { target: 'emu:backend=null', targetDescription: 'the embedded controller', startedAt: new Date(0), iommuFaults: 0, version: '0.1.0' };

function result(over: Partial<JobResult> = {}): JobResult {
  return {
    name: 'j', groupId: 0, jobs: 1, error: 0, runtimeNs: 1e9, read: { ...emptyDirection(), ios: 10, bytes: 8 * 4096 }, write: emptyDirection(),
    usrNs: 0, sysNs: 0, ctx: 0, majf: 0, minf: 0, depthHist: [10, 0, 0, 0, 0, 0, 0], verify: 'none', verifyChecked: 0, verifyErrors: 0, verifyFailures: [],
    phyr: { dptr: 'prp', prpCommands: 10, sglCommands: 0, splits: 0, bounces: 0, cpuNsPerIo: 0, driverNsPerIo: 0, busyNsPerIo: 0 },
    options: {}, header: { rw: 'read', bs: '(R) 4096B-4096B', iodepth: 1 }, ...over,
  };
}

t.test('the reports carry total_err and first_error where fio puts them, only with continue_on_error', async (t) => {
  const continued = result({ error: 5, errorMessage: '2 error(s) continued past', errorCounts: { total: 2, first: 5, fatal: false } });
  const doc = JSON.parse(formatJson([continued], () => [50], info, false)) as { jobs: Array<Record<string, unknown>> };
  const keys = Object.keys(doc.jobs[0]);
  t.equal(doc.jobs[0].total_err, 2);
  t.equal(doc.jobs[0].first_error, 5);
  t.equal(doc.jobs[0].error, 5, 'error is the first error, as fio');
  t.equal(keys.indexOf('total_err'), keys.indexOf('latency_ms') + 1);
  t.equal(keys.indexOf('first_error'), keys.indexOf('latency_depth') - 1);
  const plain = JSON.parse(formatJson([result()], () => [50], info, false)) as { jobs: Array<Record<string, unknown>> };
  t.notOk('total_err' in plain.jobs[0], 'absent without the option, as fio');
  const text = formatNormal([continued], () => [50], info);
  t.match(text, /     issued rwts: total=10,0,0,0 short=0,0,0,0 dropped=0,0,0,0\n     errors    : total=2, first_error=5\/<Input\/output error>\n/);
  t.notMatch(formatNormal([result()], () => [50], info), /errors    :/);
  const cols = formatJobTerse(result({ errorCounts: { total: 2, first: 5, fatal: false }, options: { description: 'd' } }), [50], info).split(';');
  t.same(cols.slice(-3), ['2', '5', 'd'], 'after the latency columns, before the description');
});

t.test('a job that went on past every error has not failed; merged entries add their counts', async (t) => {
  t.equal(jobFailed(result({ error: 5, errorCounts: { total: 3, first: 5, fatal: false } })), false);
  t.equal(jobFailed(result({ error: 5, errorCounts: { total: 1, first: 5, fatal: true } })), true);
  t.equal(jobFailed(result({ error: 5 })), true);
  t.equal(jobFailed(result({ verifyErrors: 1 })), true);
  const m = mergeResults([result({ errorCounts: { total: 0, first: 0, fatal: false } }), result({ error: 84, errorCounts: { total: 2, first: 84, fatal: false } })]);
  t.same(m.errorCounts, { total: 2, first: 84, fatal: false });
});

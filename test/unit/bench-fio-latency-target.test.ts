// fio's latency target options as phyr parses them (latency_target, latency_window,
// latency_percentile, latency_run: fio 3.33's units and ranges), what the native loop is
// told, and where the reports put fio's latency fields (stat.c: the JSON's latency_depth,
// latency_target in ns, latency_percentile, latency_window in us; the normal output's
// "latency   :" line, printed for every job).
import t from 'tap';
import { parseBenchArgs } from '../../bench/cli/config';
import type { JobSpec } from '../../bench/cli/job';
import { planJob } from '../../bench/cli/plan';
import { formatJson, formatNormal, type RunInfo } from '../../bench/cli/report';
import { emptyDirection, mergeResults, type JobResult } from '../../bench/cli/results';

function job(...args: string[]): JobSpec {
  return parseBenchArgs(['--name=j', ...args]).jobs[0];
}

function refused(t: { throws(fn: () => unknown, re: RegExp): unknown }, args: string[], re: RegExp): void {
  t.throws(() => parseBenchArgs(['--name=j', ...args]), re);
}

const NS = { nsid: 1, lbaSize: 512, blocks: 1 << 17 };

t.test('latency_target and latency_window: microseconds unless a unit is given', async (t) => {
  t.same(job().latency, { targetUs: 0, windowUs: 0, percentile: 100, keepRunning: false }, 'fio\'s defaults');
  t.equal(job('--latency_target=250').latency.targetUs, 250);
  t.equal(job('--latency_target=10ms').latency.targetUs, 10_000);
  t.equal(job('--latency_target=2s').latency.targetUs, 2_000_000);
  t.equal(job('--latency_window=5s').latency.windowUs, 5_000_000);
  t.equal(job('--latency_window=0').latency.windowUs, 0);
  for (const o of ['latency_target', 'latency_window']) {
    refused(t, [`--${o}=soon`], new RegExp(`--${o}=soon: expected a whole number`));
    // fio truncates fractions (1.5ms runs as 1 us); phyr refuses rather than run another target.
    refused(t, [`--${o}=1.5ms`], new RegExp(`--${o}=1.5ms: fractions are not accepted`));
    refused(t, [`--${o}=-5`], new RegExp(`--${o}=-5: must not be negative`));
    refused(t, [`--${o}=99999999999999999999`], new RegExp(`--${o}=99999999999999999999: the time is too long`));
    // fio's time parser reads an ns suffix as microseconds (measured: 1500ns is 1500000 ns).
    refused(t, [`--${o}=1500ns`], new RegExp(`--${o}=1500ns: fio holds this time in whole microseconds and reads an ns suffix as us`));
    refused(t, [`--${o}=`], new RegExp(`--${o}=: a value is required`));
  }
});

t.test('latency_percentile: one percentage 0..100; latency_run: a boolean', async (t) => {
  t.equal(job('--latency_percentile=99.9').latency.percentile, 99.9);
  t.equal(job('--latency_percentile=0').latency.percentile, 0);
  t.equal(job('--latency_percentile=100').latency.percentile, 100);
  // fio 3.33: "value out of range: 101.000000 (range max: 100.000000)", "not a floating point value: abc".
  refused(t, ['--latency_percentile=101'], /latency_percentile=101: out of range: a percentage 0..100/);
  refused(t, ['--latency_percentile=-1'], /latency_percentile=-1: not a number/);
  refused(t, ['--latency_percentile=abc'], /latency_percentile=abc: not a number/);
  refused(t, ['--latency_percentile=1e400'], /latency_percentile=1e400: out of range/);
  refused(t, ['--latency_percentile=99:98'], /latency_percentile=99:98: give one percentage/);
  t.equal(job('--latency_run').latency.keepRunning, true);
  t.equal(job('--latency_run=0').latency.keepRunning, false);
  // fio 3.33: "max value out of range: 2 (1 max)".
  refused(t, ['--latency_run=2'], /latency_run=2: expected 0 or 1/);
});

t.test('the native loop is told the target in ns and the window in us, only with a target', async (t) => {
  const p = planJob(job('--rw=randread', '--iodepth=16', '--latency_target=10ms', '--latency_window=100ms', '--latency_percentile=99.5', '--latency_run'), NS);
  t.equal(p.latencyTargetNs, 10e6);
  t.equal(p.latencyWindowUs, 100e3);
  t.equal(p.latencyPercentile, 99.5);
  t.equal(p.latencyRun, true);
  const off = planJob(job('--rw=randread', '--latency_window=100ms', '--latency_percentile=99'), NS);
  t.equal(off.latencyTargetNs, undefined, 'a window or percentile without a target asks for no search');
  t.equal(off.latencyWindowUs, undefined);
});

const info: RunInfo = { target: 'emu:backend=null', targetDescription: 'the embedded controller', startedAt: new Date(0), iommuFaults: 0, version: '0.1.0' };

function result(over: Partial<JobResult> = {}): JobResult {
  return {
    name: 'j', groupId: 0, jobs: 1, error: 0, runtimeNs: 1e9, read: { ...emptyDirection(), ios: 10, bytes: 8 * 4096 }, write: emptyDirection(),
    usrNs: 0, sysNs: 0, ctx: 0, majf: 0, minf: 0, depthHist: [10, 0, 0, 0, 0, 0, 0], verify: 'none', verifyChecked: 0, verifyErrors: 0, verifyFailures: [],
    phyr: { dptr: 'prp', prpCommands: 10, sglCommands: 0, splits: 0, bounces: 0, cpuNsPerIo: 0, driverNsPerIo: 0, busyNsPerIo: 0 },
    options: {}, header: { rw: 'randread', bs: '(R) 4096B-4096B', iodepth: 8 }, ...over,
  };
}

const SEARCHED = {
  depth: 4, targetNs: 10e6, windowUs: 100e3, percentile: 99.5,
  steps: [{ step: 'up' as const, low: 1, depth: 2, high: 8 }, { step: 'up' as const, low: 2, depth: 4, high: 8 }, { step: 'final' as const, low: 4, depth: 4, high: 8 }],
};

t.test('the reports carry fio\'s latency fields: the depth searched, or iodepth without a target', async (t) => {
  const doc = JSON.parse(formatJson([result({ latency: SEARCHED })], () => [50], info, false)) as { jobs: Array<Record<string, unknown> & { phyr: Record<string, unknown> }> };
  const j = doc.jobs[0];
  t.equal(j.latency_depth, 4);
  t.equal(j.latency_target, 10e6, 'ns, as fio writes it');
  t.equal(j.latency_percentile, 99.5);
  t.equal(j.latency_window, 100e3, 'us, as fio writes it');
  t.same(j.phyr.latency_steps, SEARCHED.steps, 'the decisions in the phyr section');
  const plain = JSON.parse(formatJson([result()], () => [50], info, false)) as { jobs: Array<Record<string, unknown> & { phyr: Record<string, unknown> }> };
  t.equal(plain.jobs[0].latency_depth, 8, 'no target: fio reports iodepth');
  t.equal(plain.jobs[0].latency_target, 0);
  t.notOk('latency_steps' in plain.jobs[0].phyr, 'no search, no steps');

  const text = formatNormal([result({ latency: SEARCHED })], () => [50], info);
  t.match(text, /\n {5}latency {3}: target=10000000, window=100000, percentile=99\.50%, depth=4\n/);
  t.match(text, /phyr latency : search \(low\/depth\/high\) up 1\/2\/8, up 2\/4\/8, final at 4\n/);
  t.match(formatNormal([result()], () => [50], info), /\n {5}latency {3}: target=0, window=0, percentile=100\.00%, depth=8\n/, 'printed for every job, as fio does');
});

t.test('a merged group reports the last job\'s latency fields, as fio sets them job by job', async (t) => {
  const merged = mergeResults([result({ name: 'a', latency: { ...SEARCHED, depth: 2 } }), result({ name: 'b', latency: SEARCHED })]);
  t.equal(merged.latency?.depth, 4);
});

// Steady state in the runner: interval reports (--status-interval) carry each entry's
// findings so far, as fio's do; a job without steadystate has no block; clones without
// group_reporting are judged one by one.
import t from 'tap';
import { parseBenchArgs } from '../../bench/cli/config';
import { openBenchDevice } from '../../bench/cli/device';
import type { JobResult } from '../../bench/cli/results';
import { runJobs } from '../../bench/cli/runner';

t.test('interval reports carry the window so far; the final one the whole window', async (t) => {
  const cfg = parseBenchArgs(['emu:backend=null', '--name=never', '--rw=randread', '--rate_iops=2000', '--runtime=2600ms', '--time_based', '--ss=iops:0%', '--ss_dur=2', '--status-interval=700ms', '--name=plain', '--rw=randread', '--rate_iops=2000', '--runtime=2600ms', '--time_based', '--numjobs=2', '--ss=iops:100%', '--ss_dur=2']);
  const d = await openBenchDevice(cfg.target, cfg.jobs);
  t.teardown(() => d.close());
  const dumps: JobResult[][] = [];
  const final = await runJobs(d, cfg.jobs, cfg.run, { isTty: false, write: () => {}, dump: (r) => void dumps.push(r) });
  t.ok(dumps.length >= 2, `${dumps.length} interval reports`);
  const taken = dumps.map((dump) => dump[0].steadystate?.iops.filter((x) => x > 0).length ?? -1);
  t.ok(taken.every((n) => n >= 0), 'every interval report has the block');
  for (let i = 1; i < taken.length; i++) t.ok(taken[i] >= taken[i - 1], `samples so far only grow: ${taken.join(', ')}`);
  t.equal(final[0].steadystate?.attained, false, 'iops:0% is never met');
  t.equal(final[0].steadystate?.iops.filter((x) => x > 0).length, 2, 'the final window is full');
  t.ok(final[0].runtimeNs >= 2.5e9, 'the job ran its runtime');
  t.same(final.map((r) => r.name), ['never', 'plain', 'plain'], 'clones without group_reporting report apart');
  for (const clone of final.slice(1)) {
    t.equal(clone.steadystate?.attained, true, 'each clone is judged on its own (and attains a wide limit)');
    t.ok(clone.runtimeNs < 2.5e9, `each clone ended early: ${clone.runtimeNs / 1e6} ms`);
    // Its own pace is 2000 IOPS, the sum of both 4000. On a loaded machine a paced thread
    // falls behind and catches up (samples of 927 and 3142 were seen), or never reaches its
    // pace (means near 750 were seen at load 9), so the limit is wide (iops:100%) and the
    // window's mean is held against the rate the clone itself reached (its IOs over its
    // runtime): the sum of both clones would be twice that.
    const samples = clone.steadystate?.iops ?? [];
    const rate = samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length);
    const own = clone.read.ios / (clone.runtimeNs / 1e9);
    t.ok(rate > own * 0.5 && rate < own * 1.5, `a clone's own rate, not the sum: mean of ${samples} against its own ${own.toFixed(0)} IOPS`);
  }
});

t.test('a job without steadystate reports no block', async (t) => {
  const cfg = parseBenchArgs(['emu:backend=null', '--name=a', '--rw=randread', '--runtime=200ms', '--time_based']);
  const d = await openBenchDevice(cfg.target, cfg.jobs);
  t.teardown(() => d.close());
  const [r] = await runJobs(d, cfg.jobs, cfg.run, { isTty: false, write: () => {} });
  t.equal(r.steadystate, undefined);
  t.notOk('steadystate' in r);
});

// Steady state next to real fio (ioengine=null on both sides' workloads, paced by rate_iops
// so the outcome is deterministic): attained or not, the run ending early (and not before
// ss_ramp), the JSON "steadystate" block's shape and settings, the normal-output line, and
// a group_reporting entry judged on its threads' summed rate.
import t from 'tap';
import { fioOracle } from '../helpers/fio-oracle';

const { phyr, fio } = fioOracle(t, 'steadystate', { fioOptions: ['--ioengine=null'] });

interface Job {
  job_runtime: number;
  steadystate?: { ss: string; duration: number; attained: number; criterion: string; data: { iops_mean: number; bw_mean: number; iops: number[]; bw: number[] } };
  'job options': Record<string, string>;
}

const job = (json: string): Job => (JSON.parse(json) as { jobs: Job[] }).jobs[0];

// A value's shape: keys in order, array lengths, value types (never the values).
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return [v.length, ...v.slice(0, 1).map(shape)];
  if (v && typeof v === 'object') return Object.entries(v).map(([k, x]) => [k, shape(x)]);
  return typeof v;
}

const both = (args: string[]) => ({ p: job(phyr(['--output-format=json', ...args])), f: job(fio(['--output-format=json', ...args])) });
const ssOptions = (j: Job) => Object.fromEntries(Object.entries(j['job options']).filter(([k]) => k.startsWith('steadystate')));
const paced = (...extra: string[]) => ['--name=ss', '--rw=randread', '--bs=4k', '--size=16m', '--rate_iops=1000', '--runtime=10', '--time_based', ...extra];

t.test('iops:5% over 2 s: both attain it in about 2 s of a 10 s run; the same block', async (t) => {
  const { p, f } = both(paced('--ss=iops:5%', '--ss_dur=2'));
  for (const [who, j] of [['phyr', p], ['fio', f]] as const) {
    t.equal(j.steadystate?.attained, 1, `${who} attained`);
    t.ok(j.job_runtime > 1500 && j.job_runtime < 6000, `${who} ended early (of 10 s): ${j.job_runtime} ms`);
    // Measured rates of a paced job: near its 1000 IOPS (a loaded machine delays a pass, and the pacing catches up).
    t.ok(Math.abs((j.steadystate?.data.iops_mean ?? 0) - 1000) < 100, `${who} window mean ${j.steadystate?.data.iops_mean} IOPS near the paced 1000`);
    for (const x of j.steadystate?.data.iops ?? []) t.ok(Math.abs(x - 1000) < 250, `${who} sample ${x} IOPS near the paced 1000`);
  }
  t.same(shape(p.steadystate), shape(f.steadystate), 'the block has fio\'s keys, order, types and array lengths');
  t.equal(p.steadystate?.ss, f.steadystate?.ss, 'ss, printed as fio prints it');
  t.equal(p.steadystate?.duration, f.steadystate?.duration);
  t.same(ssOptions(p), ssOptions(f), "job options: the steady-state options under fio's names");
});

t.test('iops_slope:5% with ss_ramp=1: samples count only after the ramp, so both end later', async (t) => {
  const { p, f } = both(paced('--ss=iops_slope:5%', '--ss_dur=3', '--ss_ramp=1'));
  for (const [who, j] of [['phyr', p], ['fio', f]] as const) {
    t.equal(j.steadystate?.attained, 1, `${who} attained`);
    t.ok(j.job_runtime > 3500 && j.job_runtime < 9500, `${who}: 3 samples after 1 s of ramp plus its first second (about 4 s; a loaded machine makes a paced rate wobble longer): ${j.job_runtime} ms`);
  }
  t.same(shape(p.steadystate), shape(f.steadystate));
  t.equal(p.steadystate?.ss, 'iops_slope:5.000000%');
  t.equal(p.steadystate?.ss, f.steadystate?.ss);
});

t.test('a criterion no run meets (iops:0%): not attained, the full runtime, the window still reported', async (t) => {
  const { p, f } = both(paced('--ss=iops:0%', '--ss_dur=2').map((a) => (a === '--runtime=10' ? '--runtime=3' : a)));
  for (const [who, j] of [['phyr', p], ['fio', f]] as const) {
    t.equal(j.steadystate?.attained, 0, `${who} did not attain`);
    t.ok(j.job_runtime >= 2900, `${who} ran its runtime: ${j.job_runtime} ms`);
    t.equal(j.steadystate?.data.iops.length, 2);
  }
  t.same(shape(p.steadystate), shape(f.steadystate));
});

t.test('the normal output carries the steadystate line', async (t) => {
  const line = /^ {2}steadystate {2}: attained=yes, bw=\S+ \(\S+\), iops=\d+, iops mean dev=\d+\.\d{3}%$/m;
  t.match(phyr(paced('--ss=iops:5%', '--ss_dur=2')), line, 'phyr');
  t.match(fio(paced('--ss=iops:5%', '--ss_dur=2')), line, 'fio');
});

t.test('group_reporting: the entry is judged on its threads summed, as fio sums them', async (t) => {
  const { p, f } = both(paced('--ss=iops:5%', '--ss_dur=2', '--numjobs=2', '--group_reporting'));
  for (const [who, j] of [['phyr', p], ['fio', f]] as const) {
    t.equal(j.steadystate?.attained, 1, `${who} attained`);
    // Summed, not one thread's 1000 (a loaded machine may keep paced threads a little below their rate).
    const mean = j.steadystate?.data.iops_mean ?? 0;
    t.ok(mean > 1500 && mean < 2200, `${who}: two threads paced at 1000 IOPS: ${mean}`);
  }
});

t.test('refused before any IO: a slope over one sample, trims, differing options in one group', async (t) => {
  t.throws(() => phyr(paced('--ss=iops_slope:1%', '--ss_dur=1')), { message: /needs steadystate_duration of at least 2 s/ });
  t.throws(() => phyr(['--name=t', '--rw=trim', '--size=1m', '--ss=iops:5%', '--ss_dur=2']), { message: /steadystate with trims is not supported/ });
  t.throws(() => phyr(['--group_reporting', '--name=a', '--rw=read', '--size=1m', '--ss=iops:5%', '--ss_dur=2', '--name=b', '--rw=read', '--size=1m']), { message: /steadystate options must be the same for every job of a group_reporting group/ });
  t.throws(() => phyr(paced('--ss=iops:5%', '--ss_dur=1500ms')), { message: /give whole seconds/ });
  // A later group's check is refused before the first group runs its 4 s.
  const t0 = Date.now();
  t.throws(() => phyr(['--name=first', '--rw=read', '--size=1m', '--runtime=4', '--time_based', '--name=later', '--stonewall', '--rw=trim', '--size=1m', '--ss=iops:5%', '--ss_dur=2']), { message: /job 'later': steadystate with trims is not supported/ });
  t.ok(Date.now() - t0 < 3500, `refused before any IO: ${Date.now() - t0} ms`);
});

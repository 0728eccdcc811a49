// The steady-state arithmetic of fio 3.33 (steadystate.c) on hand-made samples: the window
// fills before it is judged, the deviation and slope criteria in percent and absolute, the
// JSON block's shape and the normal-output line; and the options' bad values.
import t from 'tap';
import { SteadyStateWatch, SteadyStateWindow, steadyStateProblem, steadystateJson, steadystateLine, DEFAULT_STEADYSTATE, type SteadyStateSpec } from '../../bench/cli/steadystate';
import { parseSteadyState } from '../../bench/cli/options-steadystate';
import { defaultJob } from '../../bench/cli/job';
import { lookupOption } from '../../bench/cli/options';

const spec = (s: Partial<SteadyStateSpec>): SteadyStateSpec => ({ ...DEFAULT_STEADYSTATE, durationS: 3, ...s });

t.test('deviation: judged once the window is full; the largest distance from the mean, in percent of it', async (t) => {
  const w = new SteadyStateWindow(spec({ criterion: 'iops', limit: 10, percent: true }));
  t.equal(w.add(1000, 4e6), false, 'one sample of three');
  t.equal(w.add(800, 3e6), false, 'two of three');
  // Window 1000, 800, 1000: mean 933.3, largest deviation 133.3 = 14.3 % > 10 %.
  t.equal(w.add(1000, 4e6), false);
  t.ok(Math.abs(w.result().criterion - 14.2857) < 1e-3);
  // The window slides: 800, 1000, 1000 is still out; 1000, 1000, 950 is in (3.4 %).
  t.equal(w.add(1000, 4e6), false);
  t.equal(w.add(950, 4e6), true);
  const r = w.result();
  t.same(r.iops, [1000, 1000, 950], 'the window, oldest first');
  t.ok(Math.abs(r.maxDeviation - 33.333333) < 1e-5);
  t.equal(r.slope, 0);
  t.equal(r.attained, true);
  t.equal(w.add(1, 1), true, 'once attained it stays so; the window is kept');
  t.same(w.result().iops, [1000, 1000, 950]);
});

t.test('deviation with an absolute limit, and bw instead of iops', async (t) => {
  const w = new SteadyStateWindow(spec({ criterion: 'bw', limit: 100, percent: false, durationS: 2 }));
  w.add(5, 1000);
  t.equal(w.add(5, 1300), false, 'bw deviation 150 >= 100');
  t.equal(w.add(5, 1150), true, 'bw deviation 75 < 100');
  t.equal(w.result().criterion, 75);
});

t.test('slope: least squares over samples 1 s apart; percent of the mean rounded down', async (t) => {
  const w = new SteadyStateWindow(spec({ criterion: 'iops_slope', limit: 5, percent: true, durationS: 3 }));
  w.add(100, 0);
  w.add(110, 0);
  // 100, 110, 120: slope 10 per second, mean 110: 9.09 % (not < 5).
  t.equal(w.add(120, 0), false);
  t.equal(w.result().slope, 10);
  t.ok(Math.abs(w.result().criterion - 9.0909) < 1e-3);
  // 110, 120, 100: slope -5, mean 110: -4.55 %, |.| < 5.
  t.equal(w.add(100, 0), true);
  t.equal(w.result().slope, -5);
  t.ok(Math.abs(w.result().criterion + 4.5454) < 1e-3);
  const abs = new SteadyStateWindow(spec({ criterion: 'bw_slope', limit: 1000, percent: false, durationS: 2 }));
  abs.add(0, 10000);
  t.equal(abs.add(0, 10999), true, 'slope 999 bytes/s per s < 1000');
});

t.test("the JSON block: fio's keys and order; a window not filled is padded with zeros", async (t) => {
  const w = new SteadyStateWindow(spec({ criterion: 'iops', limit: 10, percent: true, durationS: 3 }));
  w.add(1000, 4096000);
  const j = steadystateJson(w.result());
  t.same(Object.keys(j), ['ss', 'duration', 'attained', 'criterion', 'max_deviation', 'slope', 'data']);
  t.same(j, { ss: 'iops:10.000000%', duration: 3, attained: 0, criterion: '0.000000%', max_deviation: 0, slope: 0, data: { bw_mean: 1365333, iops_mean: 333, iops: [1000, 0, 0], bw: [4096000, 0, 0] } });
  t.equal(steadystateJson(new SteadyStateWindow(spec({ criterion: 'bw_slope', limit: 1048576, percent: false })).result()).ss, 'bw_slope:1048576.000000');
  const line = steadystateLine({ ...w.result(), attained: true, criterion: 0.5 }, (n, b) => `${n}@${b}`, (n) => `#${n}`);
  t.equal(line, '  steadystate  : attained=yes, bw=1365333@1024/s (1365333@1000/s), iops=#333, iops mean dev=0.500%');
});

t.test('the watch: rates from the engine-stamped counters, one sample per second of engine time, ss_ramp', async (t) => {
  const f = { state: 0, readIos: 1, writeIos: 2, readBytes: 3, writeBytes: 4, elapsedNs: 5 };
  const RUNNING = 2;
  const p = new Float64Array(6);
  const w = new SteadyStateWatch(spec({ criterion: 'iops', limit: 1, percent: true, durationS: 2, rampNs: 1e9 }), [p], f, RUNNING);
  const at = (ns: number, ios: number, state = RUNNING) => {
    p.set([state, ios, 0, ios * 4096, 0, ns]);
    return w.poll();
  };
  t.equal(at(0.5e9, 500), false, 'before the first second: no sample');
  t.equal(at(1.25e9, 1250), false, 'the first sample (1000/s over 1.25 s) ends inside ss_ramp + 1 s: not counted');
  t.equal(at(1.5e9, 1500), false, 'no second sample before 2 s');
  t.equal(at(2.0e9, 2500), false, 'counted: (2500 - 1250) IOs over 0.75 s = 1666/s; the window is not full');
  t.same(w.window.result().iops, [1666, 0]);
  t.equal(at(3.5e9, 4000, 3), false, 'a job verifying (not running) is not sampled');
  t.equal(at(3.1e9, 4333), true, '(4333 - 2500) over 1.1 s = 1666/s: 1666, 1666 deviate by 0 %');
  t.same(w.window.result().iops, [1666, 1666]);
  t.same(w.window.result().bw, [1666 * 4096 + 2730, Math.floor((1833 * 4096 * 1e9) / 1.1e9)], 'bytes per second, rounded down');
  t.equal(at(4.1e9, 9999), false, 'attained once: no more samples');

  const a = new Float64Array(6);
  const b = new Float64Array(6);
  const group = new SteadyStateWatch(spec({ criterion: 'iops', limit: 1, percent: true, durationS: 1 }), [a, b], f, RUNNING);
  b[f.state] = RUNNING;
  a.set([RUNNING, 1000, 0, 0, 0, 1e9]);
  t.equal(group.poll(), false, 'the second thread has not published yet: the sample waits');
  b.set([RUNNING, 0, 3000, 0, 0, 1.5e9]);
  t.equal(group.poll(), true);
  t.same(group.window.result().iops, [3000], 'a group_reporting entry sums its threads\' rates (1000/s + 2000/s)');
  const [a2, b2] = [new Float64Array(6), new Float64Array(6)];
  const ended = new SteadyStateWatch(spec({ criterion: 'iops', limit: 1, percent: true, durationS: 1 }), [a2, b2], f, RUNNING);
  b2[f.state] = 4;
  a2.set([RUNNING, 1000, 0, 0, 0, 1e9]);
  t.equal(ended.poll(), true, 'a thread that has ended does not hold the sample back');
  t.same(ended.window.result().iops, [1000], 'and counts no more');
});

t.test('options: ss, ss_dur and ss_ramp fill the job; bad values say what is accepted', async (t) => {
  const j = defaultJob('a');
  lookupOption('ss_dur').applyJob!(j, '30', { notice: () => {} });
  t.same(j.steadystate, { ...DEFAULT_STEADYSTATE, durationS: 30 }, "fio's default criterion iops_slope:0.01%");
  lookupOption('ss').applyJob!(j, 'bw:10m', { notice: () => {} });
  lookupOption('ss_ramp').applyJob!(j, '5', { notice: () => {} });
  t.same(j.steadystate, { criterion: 'bw', limit: 10 * 1024 * 1024, percent: false, durationS: 30, rampNs: 5e9 });
  t.same(parseSteadyState('ss', 'iops:2000', 1024), { criterion: 'iops', limit: 2000, percent: false });
  t.same(parseSteadyState('ss', 'iops_slope: 0.1 %', 1024), { criterion: 'iops_slope', limit: 0.1, percent: true });
  for (const [v, why] of [['lat:10%', /unknown criterion 'lat'/], ['iops', /a limit is required/], ['iops:', /a limit is required/], ['iops:ten%', /not a percentage/], ['iops:10k', /not an IOPS limit/]] as const) {
    t.throws(() => parseSteadyState('steadystate', v, 1024), { name: 'BenchOptionError', message: why }, v);
  }
  t.throws(() => lookupOption('ss_dur').applyJob!(defaultJob('b'), '2500ms', { notice: () => {} }), { message: /give whole seconds/ });
  t.match(steadyStateProblem(spec({ criterion: 'iops_slope', durationS: 1 }), false), /needs steadystate_duration of at least 2 s/);
  t.match(steadyStateProblem(spec({ criterion: 'iops', durationS: 1 }), true), /with trims is not supported/);
  t.equal(steadyStateProblem(spec({ criterion: 'iops', durationS: 1 }), false), undefined);
});

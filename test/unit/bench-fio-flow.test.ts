// fio's flow control options as phyr parses them (flow_id, flow 0..1000, flow_sleep in
// microseconds), and the shared counters a run sets up before its jobs start (fio 3.33
// flow.c: the flow's counter starts at 1, its total weight is every job thread's flow=).
import t from 'tap';
import { parseBenchArgs } from '../../bench/cli/config';
import type { JobSpec } from '../../bench/cli/job';
import { flowCounters, nativeFlowParams } from '../../bench/cli/options-flow';

function jobs(...args: string[]): JobSpec[] {
  return parseBenchArgs(args).jobs;
}

function refused(t: { throws(fn: () => unknown, re: RegExp): unknown }, args: string[], re: RegExp): void {
  t.throws(() => parseBenchArgs(['--name=j', ...args]), re);
}

t.test('flow_id, flow and flow_sleep: fio\'s defaults and ranges', async (t) => {
  t.same(jobs('--name=j')[0].flow, { id: 0, weight: 0, sleepUs: 0 }, 'fio\'s defaults: no flow control');
  t.same(jobs('--flow_id=3', '--name=j', '--flow=250', '--flow_sleep=100')[0].flow, { id: 3, weight: 250, sleepUs: 100 });
  t.equal(jobs('--name=j', '--flow=1000')[0].flow.weight, 1000);
  // fio 3.33: "flow: max value out of range: 1001 (1000 max)".
  refused(t, ['--flow=1001'], /--flow=1001: must be between 0 and 1000/);
  refused(t, ['--flow=abc'], /--flow=abc: expected a whole number|--flow=abc: expected/);
  // fio takes a negative weight and a fraction (its integer parse); neither is a weight.
  refused(t, ['--flow=-1'], /--flow=-1: must not be negative/);
  refused(t, ['--flow=1.5'], /--flow=1.5: fractions are not accepted/);
  refused(t, ['--flow_id=-1'], /--flow_id=-1: must not be negative/);
  refused(t, ['--flow_id=4294967296'], /--flow_id=4294967296: must be between 0 and 4294967295/);
  refused(t, ['--flow_sleep=abc'], /--flow_sleep=abc/);
  refused(t, ['--flow_sleep=10ms'], /--flow_sleep=10ms: expected a plain integer/);
  refused(t, ['--flow='], /--flow=: a value is required/);
});

t.test('the counters: one per flow_id, every thread\'s weight in it from the start', async (t) => {
  const js = jobs('--flow_id=1', '--name=a', '--flow=2', '--numjobs=2', '--name=b', '--flow=1', '--name=c', '--flow_id=2', '--flow=5', '--name=d');
  const c = flowCounters(js.map((spec) => ({ spec, count: spec.numjobs })));
  t.same([...c.keys()].sort(), [1, 2]);
  t.same([...c.get(1)!], [1n, 5n], 'flow 1: counter 1, weights 2 x 2 threads + 1');
  t.same([...c.get(2)!], [1n, 5n]);
  const a = nativeFlowParams(js[0], c);
  t.equal(a.flowShared, c.get(1), 'the jobs of a flow share one array');
  t.equal(a.flowWeight, 2);
  t.same(nativeFlowParams(js[3], c), {}, 'no weight: not in any flow');
});

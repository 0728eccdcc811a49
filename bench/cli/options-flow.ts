// fio's flow control between jobs: flow_id, flow and flow_sleep (fio 3.33 flow.c). Jobs
// that share a flow_id and give a weight (flow=1..1000) keep their IO counts in the ratio
// of their weights: before each IO a job compares its share of the flow's IOs with its
// weight's share of the flow's total weight, and while it is ahead it issues nothing (after
// draining its queue and waiting flow_sleep microseconds, if given). Every job's weight is
// in the total from the start of the run, and a job's IOs and weight leave the flow when it
// ends. The counters are shared by the job threads (bench/native/engine.h flowHeld).
import { BenchOptionError } from './errors';
import type { JobSpec } from './job';
import type { PacingOption } from './options-pacing';
import { parseInteger } from './units';

// fio's FLOW_MAX_WEIGHT.
const MAX_WEIGHT = 1000;

function integer(option: string, value: string | undefined, max: number, unit: string): number {
  const v = (value ?? '').trim();
  if (v === '') throw new BenchOptionError(option, '', `a value is required: ${unit}`);
  if (v.startsWith('-')) throw new BenchOptionError(option, v, `must not be negative: ${unit}`);
  return parseInteger(option, v, 0, max);
}

/** The option table's rows for flow control (spread into OPTIONS). */
export const FLOW_OPTIONS: PacingOption[] = [
  {
    name: 'flow_id', scope: 'job',
    help: 'N (default 0): the flow the job\'s flow weight counts in; jobs with the same flow_id keep their IO counts in the ratio of their flow= weights',
    applyJob: (j, v) => { j.flow.id = integer('flow_id', v, 0xffffffff, 'a flow number 0..4294967295'); },
  },
  {
    name: 'flow', scope: 'job',
    help: 'WEIGHT (1..1000; default 0 = no flow control): the job\'s share of its flow_id\'s IOs, as fio: while its share of the flow\'s IOs is above WEIGHT / the flow\'s total weight it issues nothing. Every job\'s weight counts from the start of the run, so a flow\'s jobs should run together',
    applyJob: (j, v) => { j.flow.weight = integer('flow', v, MAX_WEIGHT, `a weight 1..${MAX_WEIGHT} (0 = none)`); },
  },
  {
    name: 'flow_sleep', scope: 'job',
    help: 'MICROSECONDS (default 0): after flow control holds the job back, let its IOs in flight complete and wait this long before trying again (0: try again on the next loop pass)',
    applyJob: (j, v) => { j.flow.sleepUs = integer('flow_sleep', v, Number.MAX_SAFE_INTEGER, 'microseconds'); },
  },
];

/**
 * The shared counters of each flow_id some job has a weight in: [the flow's IOs + 1, the
 * total weight of its job threads], as fio's flow_get and flow_init_job set them up before
 * any job runs. `threads` lists each job with the number of threads (numjobs) it runs.
 */
export function flowCounters(threads: Array<{ spec: JobSpec; count: number }>): Map<number, BigUint64Array> {
  const out = new Map<number, BigUint64Array>();
  for (const { spec, count } of threads) {
    if (!spec.flow.weight) continue;
    let c = out.get(spec.flow.id);
    if (!c) {
      // One backing store all the job threads of the flow update natively (JS only sets it up).
      c = new BigUint64Array(2);
      c[0] = 1n;
      out.set(spec.flow.id, c);
    }
    c[1] += BigInt(spec.flow.weight * count);
  }
  return out;
}

/** A job thread's flow parameters for the native loop (none without a weight). */
export function nativeFlowParams(j: JobSpec, counters: Map<number, BigUint64Array>): { flowShared?: BigUint64Array; flowWeight?: number; flowSleepUs?: number } {
  const shared = j.flow.weight ? counters.get(j.flow.id) : undefined;
  if (!shared) return {};
  return { flowShared: shared, flowWeight: j.flow.weight, ...(j.flow.sleepUs ? { flowSleepUs: j.flow.sleepUs } : {}) };
}

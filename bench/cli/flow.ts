// What a job asks of fio's flow control between jobs (flow_id, flow, flow_sleep; read in
// options-flow.ts). Kept apart from the options so the job description can hold it without
// importing the option table.

/** fio's flow options of a job (JobSpec.flow). */
export interface FlowSpec {
  /** flow_id: the flow the job belongs to (fio's default 0, the global flow). */
  id: number;
  /** flow: the job's weight, 1..1000; 0 = not in any flow (fio's default). */
  weight: number;
  /** flow_sleep: microseconds to wait after being held back (0 = try again at once). */
  sleepUs: number;
}

/** fio's defaults: flow 0 (no flow control). */
export function defaultFlow(): FlowSpec {
  return { id: 0, weight: 0, sleepUs: 0 };
}

// The shape of the option table's rows, and what applying an option may tell the parser.
import type { JobSpec, RunOptions } from './job';

/** Where an option may appear. */
export type OptionScope = 'job' | 'run';

/** What applying an option may do besides setting the job: say what phyr did instead. */
export interface ApplyContext {
  /**
   * One line for an option that phyr replaced or that has no meaning on its loop (a kernel
   * engine, io_uring's hipri, ...): what phyr did with it. Printed once per run on stderr.
   */
  notice(text: string): void;
}

/** How phyr treats an option (docs/BENCH.md's table is generated from it). */
export type OptionTreatment = 'supported' | 'notice' | 'default-only' | 'refused';

/** One row of the option table. */
export interface BenchOption {
  name: string;
  aliases?: string[];
  scope: OptionScope;
  /** True when the option takes no value (`--time_based`); a value of 0/1 is still read. */
  flag?: boolean;
  help: string;
  /** 'notice' for options replaced or without meaning on phyr's loop (default 'supported'). */
  treatment?: OptionTreatment;
  applyJob?(job: JobSpec, value: string | undefined, ctx: ApplyContext): void;
  applyRun?(run: RunOptions, value: string | undefined): void;
}

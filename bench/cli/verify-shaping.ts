// The verify shaping options of a job as given (options-verify.ts parses and plans them);
// apart from the option rows so that the job description can hold them without a cycle.

/** The largest verify_backlog / verify_backlog_batch (the engine's log is allocated up front). */
export const MAX_VERIFY_BACKLOG = 1 << 20;

/** Bytes of phyr's verify header (bench/native/verify.h VerifyHeader). */
export const VERIFY_HEADER_BYTES = 48;

/** The verify options of a job as given (0 / false: not given). */
export interface VerifyShaping {
  /** verify_interval in bytes (0 = one header per logical block). */
  interval: number;
  /** verify_offset in bytes: the header's place inside its interval (0 = at its start). */
  offset: number;
  /** verify_backlog: writes logged before a read-back batch (0 = none). */
  backlog: number;
  /** verify_backlog_batch: read-backs per batch (0 = verify_backlog). */
  backlogBatch: number;
  /** verify_only: no writes, only the read-back of what an earlier run wrote. */
  only: boolean;
  /** verify_dump: a failed block is written to files as received and as expected. */
  dump: boolean;
  /** verify_state_save (fio's default 1): the job's verify state is written when it ends. */
  stateSave: boolean;
}

/** None of them given. */
export function defaultVerifyShaping(): VerifyShaping {
  return { interval: 0, offset: 0, backlog: 0, backlogBatch: 0, only: false, dump: false, stateSave: true };
}


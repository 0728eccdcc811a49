// Layout of the shared request and completion arrays of a queue pair. The layout is
// spec/records.h's, shared with drivers/nvme/native/queue_pair_napi.cc; this module gives
// its generated twin (spec/records.ts) the names the driver exports. Words are u32.

import * as records from '../../spec/records';
import { PHYR_ENTRY } from '../../spec/phyr';

// Bound as constants, not re-exported: TypeScript compiles `export { X } from` to a getter
// on this module's exports, and the queue pair reads these on every IO (a getter per read
// doubled the batch API's CPU per IO).
export const CPL = records.CPL;
export const CPL_FLAG_CANCELLED = records.CPL_FLAG_CANCELLED;
export const CPL_FLAGS_SHIFT = records.CPL_FLAGS_SHIFT;
export const CPL_STATUS_CANCELLED = records.CPL_STATUS_CANCELLED;
export const CPL_STATUS_MASK = records.CPL_STATUS_MASK;
export const CPL_WORDS = records.CPL_WORDS;
export const REQ = records.REQ;
export const REQ_FLAG_RAW_CDW = records.REQ_FLAG_RAW_CDW;
export const REQ_OPCODE_MASK = records.REQ_OPCODE_MASK;
export const REQ_WORDS = records.REQ_WORDS;
export const RESULT_CODE_MASK = records.RESULT_CODE_MASK;
export const RESULT_ERROR_SHIFT = records.RESULT_ERROR_SHIFT;
export const RESULT_FIELD_MASK = records.RESULT_FIELD_MASK;
export const RESULT_REASON_SHIFT = records.RESULT_REASON_SHIFT;
export const SubmitResult = records.SubmitResult;

/** Words per phyr entry in the arena (spec/phyr.h's layout). */
export const ENTRY_WORDS = PHYR_ENTRY.WORDS;

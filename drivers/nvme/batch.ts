// Layout of the shared request and completion arrays of a queue pair. The layout is
// spec/records.h's, shared with drivers/nvme/native/queue_pair_napi.cc; this module gives
// its generated twin (spec/records.ts) the names the driver exports. Words are u32.

export {
  CPL,
  CPL_FLAG_CANCELLED,
  CPL_FLAGS_SHIFT,
  CPL_STATUS_CANCELLED,
  CPL_STATUS_MASK,
  CPL_WORDS,
  REQ,
  REQ_FLAG_RAW_CDW,
  REQ_OPCODE_MASK,
  REQ_WORDS,
  RESULT_CODE_MASK,
  RESULT_ERROR_SHIFT,
  RESULT_FIELD_MASK,
  RESULT_REASON_SHIFT,
  SubmitResult,
} from '../../spec/records';
import { PHYR_ENTRY } from '../../spec/phyr';

/** Words per phyr entry in the arena (spec/phyr.h's layout). */
export const ENTRY_WORDS = PHYR_ENTRY.WORDS;

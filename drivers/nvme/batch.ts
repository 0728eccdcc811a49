// Layout of the shared request and completion arrays of a queue pair (the twin of the
// comment at the top of drivers/nvme/native/queue_pair_napi.cc). Words are u32.

/** Words per request slot. */
export const REQ_WORDS = 16;
/** Word indices inside a request slot. */
export const REQ = {
  OPCODE_FLAGS: 0,
  NSID: 1,
  SLBA_LO: 2,
  SLBA_HI: 3,
  BLOCKS: 4,
  LBA_SIZE: 5,
  PHYR_FIRST: 6,
  PHYR_COUNT: 7,
  CDW12_EXTRA: 8,
  CDW13: 9,
  TAG: 10,
  BUCKET_HEAD: 11,
  BUCKET_TAIL: 12,
  DATA_BYTES: 13,
  RESULT: 14,
  CHILDREN: 15,
} as const;
/** Request flag (bits 15:8 of word 0): words 2-3 are raw CDW10/CDW11. */
export const REQ_FLAG_RAW_CDW = 1 << 8;

/** Words per completion slot. */
export const CPL_WORDS = 4;
/** Word indices inside a completion slot. */
export const CPL = { TAG: 0, STATUS_FLAGS: 1, DW0: 2 } as const;
/** Completion flag: the controller never completed the command (it was reset). */
export const CPL_FLAG_CANCELLED = 1;

/** Submission result codes (word 14, bits 7:0), in native order. */
export const SubmitResult = {
  OK: 0,
  QUEUE_FULL: 1,
  NEED_LIST_PAGES: 2,
  BOUNCE: 3,
  REJECT: 4,
  INVALID: 5,
  EXCLUSIVE: 6,
} as const;

/** Words per phyr entry in the arena. */
export const ENTRY_WORDS = 4;

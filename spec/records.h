// Shared record layouts: the request and completion slots a queue pair's TypeScript side
// (drivers/nvme/queue-pair.ts, drivers/nvme/dispatcher.ts) and its native side
// (drivers/nvme/native/queue_pair_napi.cc) exchange through shared typed arrays, one
// native crossing per batch. Words are u32, little-endian. Phyr entries in the arena use
// spec/phyr.h's layout.
//
// The one source of truth for both sides: C++ includes this header; spec/records.ts is
// generated from the lists below by spec/generate.js at build time and is not committed;
// drivers/nvme/batch.ts re-exports it under the names the driver always used.
// test/unit/spec-parity.test.ts checks the twin against the compiled lists. Add entries
// as X(NAME, integer literal) (format: the top of spec/generate.js).
#pragma once
#include <cstdint>

// ts-twin: BATCH flat -- Sizes, fields and flags of the request and completion slots
#define PHYR_BATCH_RECORDS(X)                                                          \
  /* Words per request slot and per completion slot */                                  \
  X(REQ_WORDS, 16) X(CPL_WORDS, 4)                                                     \
  /* Request word 0: opcode 7:0, request flags 15:8 */                                  \
  X(REQ_OPCODE_MASK, 0xFF) X(REQ_FLAGS_SHIFT, 8)                                       \
  /* Request flag (in word 0): words 2-3 are raw CDW10/CDW11 instead of an SLBA */      \
  X(REQ_FLAG_RAW_CDW, 0x100)                                                           \
  /* Request word 14 (written by the native side): result 7:0, data-pointer format     \
     15:8, policy reason 23:16, data-pointer error 31:24 */                            \
  X(RESULT_CODE_MASK, 0xFF) X(RESULT_FORMAT_SHIFT, 8) X(RESULT_REASON_SHIFT, 16)       \
  X(RESULT_ERROR_SHIFT, 24) X(RESULT_FIELD_MASK, 0xFF)                                 \
  /* Completion word 1: the 15-bit NVMe status 14:0, completion flags 31:16 */          \
  X(CPL_STATUS_MASK, 0x7FFF) X(CPL_FLAGS_SHIFT, 16)                                    \
  /* Completion flag: the controller never completed the command (it was reset) */     \
  X(CPL_FLAG_CANCELLED, 0x1)                                                           \
  /* Status given to commands cancelled without a completion (all status bits set) */  \
  X(CPL_STATUS_CANCELLED, 0x7FFF)

// ts-twin: REQ -- Word indices inside a request slot
#define PHYR_REQ_WORDS(X)                                                              \
  X(OPCODE_FLAGS, 0) X(NSID, 1) X(SLBA_LO, 2) X(SLBA_HI, 3) X(BLOCKS, 4)               \
  X(LBA_SIZE, 5) X(PHYR_FIRST, 6) X(PHYR_COUNT, 7) X(CDW12_EXTRA, 8) X(CDW13, 9)      \
  X(TAG, 10) X(BUCKET_HEAD, 11) X(BUCKET_TAIL, 12)                                     \
  /* 0 = blocks x lbaSize */                                                           \
  X(DATA_BYTES, 13)                                                                    \
  /* Out: the submission result (layout in RESULT_*) */                                \
  X(RESULT, 14)                                                                        \
  /* Out: child commands the IO needs (also on queue-full / need-list-pages: more than \
     the capacity means the IO must be split, it will never fit) */                    \
  X(CHILDREN, 15)

// ts-twin: CPL -- Word indices inside a completion slot (word 3 is reserved)
#define PHYR_CPL_WORDS(X) \
  X(TAG, 0) X(STATUS_FLAGS, 1) X(DW0, 2)

// ts-twin: SubmitResult -- Submission result codes (request word 14, bits 7:0)
#define PHYR_SUBMIT_RESULTS(X)                                                         \
  X(OK, 0) X(QUEUE_FULL, 1) X(NEED_LIST_PAGES, 2) X(BOUNCE, 3) X(REJECT, 4)            \
  X(INVALID, 5) X(EXCLUSIVE, 6)

namespace phyr::records {
#define PHYR_RECORD_CONSTANT(name, value) constexpr uint32_t name = (value);
PHYR_BATCH_RECORDS(PHYR_RECORD_CONSTANT)
namespace req {
PHYR_REQ_WORDS(PHYR_RECORD_CONSTANT)
}  // namespace req
namespace cpl {
PHYR_CPL_WORDS(PHYR_RECORD_CONSTANT)
}  // namespace cpl
namespace submit {
PHYR_SUBMIT_RESULTS(PHYR_RECORD_CONSTANT)
}  // namespace submit
#undef PHYR_RECORD_CONSTANT
static_assert(req::CHILDREN < REQ_WORDS && cpl::DW0 < CPL_WORDS, "fields lie inside their slots");
static_assert(REQ_FLAG_RAW_CDW >> REQ_FLAGS_SHIFT != 0 && (REQ_FLAG_RAW_CDW & REQ_OPCODE_MASK) == 0,
              "request flags lie above the opcode");
}  // namespace phyr::records

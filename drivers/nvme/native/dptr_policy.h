// The per-command data-pointer policy: PRP, SGL, split into child commands, or bounce
// through pool memory — decided from the phyr slice and the controller's capabilities, and
// always reported with its reason.
#pragma once
#include "drivers/nvme/native/dptr_types.h"
#include "drivers/nvme/native/sgl.h"

namespace phyr::nvme {

enum class DptrFormat : uint8_t { Prp = 0, Sgl = 1, Split = 2, Bounce = 3, Reject = 4 };

// X-macro: reason, the format it leads to, and the sentence reported to users.
#define PHYR_DPTR_REASONS(X)                                                                          \
  X(PrpAdmin, "admin commands always use PRP")                                                        \
  X(PrpSglUnsupported, "PRP-able and the controller has no SGL support")                              \
  X(PrpSmallSegments, "PRP-able and the average segment is below the SGL threshold (32 KiB)")          \
  X(PrpSglMisaligned, "PRP-able; SGL would suit (large segments, or requested) but the data is not dword-aligned") \
  X(SglRequested, "SGL requested for every IO command (data-pointer mode 'sgl')")                     \
  X(SglLargeSegments, "SGL supported and the average segment is at least the SGL threshold (32 KiB)") \
  X(SglNotPrpable, "not PRP-able and the controller supports SGL")                                    \
  X(SglBitBucket, "read with discarded bytes: SGL Bit Bucket descriptors")                             \
  X(SplitMdts, "larger than the controller's maximum data transfer size (MDTS)")                       \
  X(SplitNotPrpable, "not PRP-able and no SGL support: split into LBA-multiple children at the PRP-breaking boundaries") \
  X(SplitSglMisaligned, "not PRP-able and not dword-aligned for the controller's SGL: split at the PRP-breaking boundaries") \
  X(SplitCmb, "mixes controller-memory-buffer and host memory: split at the boundary")               \
  X(SglCmbInline, "data in the controller memory buffer in one range: a single inline SGL Data Block") \
  X(SplitCmbNoLists, "data in the controller memory buffer is described without PRP lists or SGL segments: split into commands PRP1 and PRP2 can describe") \
  X(BounceUnalignedBreak, "a PRP-breaking boundary is not on an LBA multiple: bounce through pool memory") \
  X(BounceMisalignedStart, "a child's first byte is not dword-aligned and SGL cannot take it: bounce through pool memory") \
  X(BounceNoBitBucket, "discarded read bytes need SGL Bit Buckets, which the controller lacks: bounce through pool memory") \
  X(BounceBucketMisaligned, "discarded read bytes are not a multiple of 4 and the controller's SGL takes dword-aligned lengths only (SGLS = 10b): bounce through pool memory") \
  X(RejectBouncePeer, "needs a bounce, but the memory is peer-to-peer or CMB and the CPU must not stage it") \
  X(RejectCmbMixUnaligned, "mixes CMB and host memory at a boundary that is not an LBA multiple (Invalid Use of Controller Memory Buffer)") \
  X(RejectAdminNotPrpable, "admin commands use PRP only and the data is not PRP-able")                 \
  X(RejectBucketSplit, "discarded read bytes cannot be combined with a split command") \
  X(RejectMdtsBelowLba, "the maximum data transfer size (MDTS) is smaller than one logical block: no command can carry a block")

enum class DptrReason : uint8_t {
#define PHYR_DPTR_REASON_ENUM(name, text) name,
  PHYR_DPTR_REASONS(PHYR_DPTR_REASON_ENUM)
#undef PHYR_DPTR_REASON_ENUM
      Count
};

const char* dptrReasonName(DptrReason r);
const char* dptrReasonText(DptrReason r);
const char* dptrFormatName(DptrFormat f);

// One command's data as the policy sees it.
struct DptrRequest {
  PhyrSlice data;
  uint32_t lbaSize = 512;  // children of a split are whole multiples of this
  bool admin = false;      // admin commands always use PRP (NVMe 1.4 §4.2)
  SglBuckets buckets{};    // bytes a read discards around the data (SGL Bit Bucket)

  // Where the last child started, and whether the data has CMB entries at all: a cache
  // that makes walking the children in order cost O(entries) in all, not O(entries x
  // children) (100k non-contiguous entries took 43 s). Callers leave it alone; it notices
  // a different `data` and starts over.
  struct Cursor {
    const PhyrEntry* entries = nullptr;
    uint32_t count = 0;
    uint64_t offset = 0;
    uint32_t index = 0;  // first entry not wholly before the last position asked for
    uint64_t base = 0;   // array byte offset where entries[index] starts
    int8_t anyCmb = -1;  // -1 not yet known
  };
  mutable Cursor cursor{};
};

// The extent and format of one child command, bytes [offset, offset + length) of the data.
// format is Prp or Sgl for a submittable child, Bounce or Reject when the request cannot
// be described in place (then offset/length say where the trouble is).
struct DptrChild {
  uint64_t offset;
  uint64_t length;
  DptrFormat format;
  DptrReason reason;
};

// The decision for a whole command: format Prp/Sgl (one command), Split (children > 1),
// Bounce or Reject; reason says why.
struct DptrDecision {
  DptrFormat format;
  DptrReason reason;
  uint32_t children;
};

// The child that starts at byte `pos` of the request's data.
DptrChild nextChild(const DptrRequest& req, const DptrCaps& caps, uint64_t pos);

// The decision for the whole command (walks every child; the request's cursor keeps the
// walk linear in entries plus children).
DptrDecision decide(const DptrRequest& req, const DptrCaps& caps);

}  // namespace phyr::nvme

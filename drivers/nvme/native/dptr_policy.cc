// Data-pointer policy. The rules and their sources:
// - PRP when PRP-able and SGL is not better; SGL when supported and the average segment is
//   at least 32 KiB (Linux nvme-pci's sgl_threshold), and whenever the data is not
//   PRP-able (NVMe 1.4 §4.3 PRP-ability, §4.4 SGL).
// - With preferSgl (the caller's 'sgl' mode), SGL whenever it can describe the data.
// - Otherwise split into child commands at the PRP-breaking boundaries, each a whole
//   number of LBAs; if a boundary falls inside an LBA, bounce through pool memory.
// - MDTS (Identify Controller byte 77) caps each child's size.
// - A command's data is either all in the controller memory buffer or all in host memory
//   (mixing fails with Invalid Use of Controller Memory Buffer, status 12h): split there.
// - Peer-to-peer and CMB memory is never bounced: the CPU must not stage it.
// - Data in the CMB is described without PRP lists or SGL segments: the list pages are host
//   memory, and a command's data pointer may not mix CMB and host addresses (Invalid Use
//   of Controller Memory Buffer). One range takes an inline SGL Data Block; otherwise
//   PRP1 + PRP2 reach at most the end of the second memory page, so split there.
#include "drivers/nvme/native/dptr_policy.h"

#include "spec/nvme.h"
#include "drivers/nvme/native/prp.h"

namespace phyr::nvme {

const char* dptrReasonName(DptrReason r) {
  switch (r) {
#define PHYR_DPTR_REASON_NAME(name, text) \
  case DptrReason::name:                  \
    return #name;
    PHYR_DPTR_REASONS(PHYR_DPTR_REASON_NAME)
#undef PHYR_DPTR_REASON_NAME
    case DptrReason::Count: break;
  }
  return "Unknown";
}

const char* dptrReasonText(DptrReason r) {
  switch (r) {
#define PHYR_DPTR_REASON_TEXT(name, text) \
  case DptrReason::name:                  \
    return text;
    PHYR_DPTR_REASONS(PHYR_DPTR_REASON_TEXT)
#undef PHYR_DPTR_REASON_TEXT
    case DptrReason::Count: break;
  }
  return "unknown reason";
}

const char* dptrFormatName(DptrFormat f) {
  switch (f) {
    case DptrFormat::Prp: return "prp";
    case DptrFormat::Sgl: return "sgl";
    case DptrFormat::Split: return "split";
    case DptrFormat::Bounce: return "bounce";
    case DptrFormat::Reject: return "reject";
  }
  return "unknown";
}

namespace {

// Bytes [pos, pos + len) of the request's data, starting at the entry that holds `pos`
// (found from the cursor: children are asked for in order, so each entry is passed once).
void rekey(const DptrRequest& req) {
  DptrRequest::Cursor& c = req.cursor;
  const PhyrSlice& s = req.data;
  if (c.entries == s.entries && c.count == s.count && c.offset == s.offset) return;
  c = DptrRequest::Cursor{};
  c.entries = s.entries;
  c.count = s.count;
  c.offset = s.offset;
}

PhyrSlice sub(const DptrRequest& req, uint64_t pos, uint64_t len) {
  rekey(req);
  DptrRequest::Cursor& c = req.cursor;
  const PhyrSlice& s = req.data;
  const uint64_t at = s.offset + pos;
  if (at < c.base) {  // asked for an earlier child: walk again from the start
    c.index = 0;
    c.base = 0;
  }
  while (c.index < s.count && c.base + s.entries[c.index].len <= at) c.base += s.entries[c.index++].len;
  return PhyrSlice{s.entries + c.index, s.count - c.index, at - c.base, len};
}

bool anyCmbEntry(const DptrRequest& req) {
  rekey(req);
  if (req.cursor.anyCmb < 0) {
    bool any = false;
    forEachRange(req.data, [&](uint64_t, uint64_t, uint32_t flags) {
      any = (flags & kPhyr_CMB) != 0;
      return !any;
    });
    req.cursor.anyCmb = any ? 1 : 0;
  }
  return req.cursor.anyCmb == 1;
}

// Offset (relative to the sub-slice) where the CMB flag first changes, or s.length.
uint64_t cmbBoundary(const PhyrSlice& s, bool* startsInCmb) {
  uint64_t pos = 0, at = s.length;
  bool first = true, cmb = false;
  forEachRange(s, [&](uint64_t, uint64_t len, uint32_t flags) {
    const bool c = (flags & kPhyr_CMB) != 0;
    if (first) {
      cmb = c;
      first = false;
    } else if (c != cmb) {
      at = pos;
      return false;
    }
    pos += len;
    return true;
  });
  *startsInCmb = cmb;
  return at;
}

bool anyPeerOrCmb(const PhyrSlice& s) {
  bool found = false;
  forEachRange(s, [&](uint64_t, uint64_t, uint32_t flags) {
    found = (flags & (kPhyr_PEER_TO_PEER | kPhyr_CMB)) != 0;
    return !found;
  });
  return found;
}

uint64_t firstAddress(const PhyrSlice& s) {
  uint64_t a = 0;
  forEachRange(s, [&](uint64_t addr, uint64_t, uint32_t) {
    a = addr;
    return false;
  });
  return a;
}

DptrChild bounceOrReject(const DptrRequest& req, uint64_t pos, uint64_t len, DptrReason why) {
  if (anyPeerOrCmb(req.data)) return {pos, len, DptrFormat::Reject, DptrReason::RejectBouncePeer};
  return {pos, len, DptrFormat::Bounce, why};
}

// Format for a piece that fits MDTS and does not mix CMB with host memory. Returns Split
// (with the split reason) when the piece must be cut at its PRP-breaking boundary.
DptrChild choosePiece(const DptrRequest& req, const DptrCaps& caps, uint64_t pos, uint64_t len, bool whole) {
  const PhyrSlice s = sub(req, pos, len);
  const bool prpable = isPrpable(s, caps.pageSize);
  const bool sglOn = caps.sglSupport != 0 && !req.admin;
  const bool sglUsable = sglOn && (caps.sglSupport != SGLS_DWORD_ALIGNED || sglDwordAligned(s));
  if (req.buckets.head | req.buckets.tail) {
    if (!whole) return {pos, len, DptrFormat::Reject, DptrReason::RejectBucketSplit};
    if (!sglUsable || !caps.bitBucket) return bounceOrReject(req, pos, len, DptrReason::BounceNoBitBucket);
    // SGLS = 10b: a Bit Bucket's length is dword-aligned like a Data Block's (NVMe 1.4
    // §4.4, Identify SGLS bits 1:0); buildSgl refuses anything else.
    if (caps.sglSupport == SGLS_DWORD_ALIGNED && ((req.buckets.head | req.buckets.tail) & 3) != 0)
      return bounceOrReject(req, pos, len, DptrReason::BounceBucketMisaligned);
    return {pos, len, DptrFormat::Sgl, DptrReason::SglBitBucket};
  }
  if (prpable) {
    if (req.admin) return {pos, len, DptrFormat::Prp, DptrReason::PrpAdmin};
    if (!sglOn) return {pos, len, DptrFormat::Prp, DptrReason::PrpSglUnsupported};
    if (caps.preferSgl) {
      if (sglUsable) return {pos, len, DptrFormat::Sgl, DptrReason::SglRequested};
      return {pos, len, DptrFormat::Prp, DptrReason::PrpSglMisaligned};
    }
    const uint64_t segs = sglDataDescriptorCount(s);
    const uint64_t avg = (len + segs - 1) / segs;
    if (avg < caps.sglThreshold) return {pos, len, DptrFormat::Prp, DptrReason::PrpSmallSegments};
    if (sglUsable) return {pos, len, DptrFormat::Sgl, DptrReason::SglLargeSegments};
    return {pos, len, DptrFormat::Prp, DptrReason::PrpSglMisaligned};
  }
  if (req.admin) return {pos, len, DptrFormat::Reject, DptrReason::RejectAdminNotPrpable};
  if (sglUsable) return {pos, len, DptrFormat::Sgl, DptrReason::SglNotPrpable};
  return {pos, len, DptrFormat::Split, sglOn ? DptrReason::SplitSglMisaligned : DptrReason::SplitNotPrpable};
}

// The PRP-able child starting at `pos`, cut at the first PRP-breaking boundary when the
// piece is not PRP-able as a whole (bounce or reject when that cut falls inside an LBA).
DptrChild prpChild(const DptrRequest& req, const DptrCaps& caps, uint64_t pos, uint64_t limit, DptrReason reason) {
  const PhyrSlice s = sub(req, pos, limit);
  if ((firstAddress(s) & 3) != 0) return bounceOrReject(req, pos, limit, DptrReason::BounceMisalignedStart);
  const uint64_t cut = isPrpable(s, caps.pageSize) ? limit : prpBreakOffset(s, caps.pageSize);
  if ((pos + cut) % req.lbaSize != 0) return bounceOrReject(req, pos + cut, 0, DptrReason::BounceUnalignedBreak);
  return {pos, cut, DptrFormat::Prp, reason};
}

// A child wholly in the CMB (see the rules above).
DptrChild cmbChild(const DptrRequest& req, const DptrCaps& caps, uint64_t pos, uint64_t limit) {
  const PhyrSlice s = sub(req, pos, limit);
  const bool sglUsable = caps.sglSupport != 0 && (caps.sglSupport != SGLS_DWORD_ALIGNED || sglDwordAligned(s));
  const uint64_t reach = caps.pageSize - firstAddress(s) % caps.pageSize + caps.pageSize;
  const bool wantSgl = caps.preferSgl || limit > reach || !isPrpable(s, caps.pageSize);
  if (req.buckets.head | req.buckets.tail) return {pos, limit, DptrFormat::Reject, DptrReason::RejectBouncePeer};
  if (sglUsable && wantSgl && sglDataDescriptorCount(s) == 1) return {pos, limit, DptrFormat::Sgl, DptrReason::SglCmbInline};
  if (limit <= reach) {
    DptrChild c = prpChild(req, caps, pos, limit, caps.sglSupport ? DptrReason::PrpSmallSegments : DptrReason::PrpSglUnsupported);
    if (c.format == DptrFormat::Prp && c.length < limit) c.reason = DptrReason::SplitCmbNoLists;
    return c;
  }
  const uint64_t cut = reach - (pos + reach) % req.lbaSize;
  if (cut == 0) return {pos, 0, DptrFormat::Reject, DptrReason::RejectCmbMixUnaligned};
  return prpChild(req, caps, pos, cut, DptrReason::SplitCmbNoLists);
}

}  // namespace

DptrChild nextChild(const DptrRequest& req, const DptrCaps& caps, uint64_t pos) {
  const uint64_t remaining = req.data.length - pos;
  uint64_t limit = remaining;
  if (caps.maxTransfer != 0 && limit > caps.maxTransfer) {
    limit = caps.maxTransfer - caps.maxTransfer % req.lbaSize;
    // Children are whole blocks (their NLB is length / lbaSize): a limit below one block
    // leaves no child that is both within MDTS and a block multiple.
    if (limit == 0) return {pos, 0, DptrFormat::Reject, DptrReason::RejectMdtsBelowLba};
  }
  bool inCmb = false;
  const uint64_t cmbCut = anyCmbEntry(req) ? cmbBoundary(sub(req, pos, limit), &inCmb) : limit;
  if (cmbCut < limit) {
    if ((pos + cmbCut) % req.lbaSize != 0) {
      return {pos + cmbCut, 0, DptrFormat::Reject, DptrReason::RejectCmbMixUnaligned};
    }
    limit = cmbCut;
  }
  if (inCmb && !req.admin) return cmbChild(req, caps, pos, limit);
  const bool whole = pos == 0 && limit == remaining;
  DptrChild c = choosePiece(req, caps, pos, limit, whole);
  if (c.format != DptrFormat::Split) return c;
  // Cut at the first PRP-breaking boundary: the piece before it is PRP-able.
  return prpChild(req, caps, pos, limit, c.reason);
}

DptrDecision decide(const DptrRequest& req, const DptrCaps& caps) {
  DptrChild first{};
  uint32_t children = 0;
  bool splitPrp = false, splitCmb = false;
  DptrReason splitPrpReason = DptrReason::SplitNotPrpable;
  for (uint64_t pos = 0; pos < req.data.length;) {
    DptrChild c = nextChild(req, caps, pos);
    if (c.format == DptrFormat::Bounce || c.format == DptrFormat::Reject) return {c.format, c.reason, 0};
    if (c.reason == DptrReason::SplitNotPrpable || c.reason == DptrReason::SplitSglMisaligned || c.reason == DptrReason::SplitCmbNoLists) {
      splitPrp = true;
      splitPrpReason = c.reason;
    }
    bool dummy;
    if (anyCmbEntry(req) && cmbBoundary(sub(req, pos, req.data.length - pos), &dummy) == c.length &&
        pos + c.length < req.data.length) {
      splitCmb = true;
    }
    if (children == 0) first = c;
    children++;
    pos += c.length;
  }
  if (children <= 1) return {first.format, first.reason, children};
  if (splitPrp) return {DptrFormat::Split, splitPrpReason, children};
  if (splitCmb) return {DptrFormat::Split, DptrReason::SplitCmb, children};
  return {DptrFormat::Split, DptrReason::SplitMdts, children};
}

}  // namespace phyr::nvme

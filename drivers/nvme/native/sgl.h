// SGL (Scatter Gather List) data pointers built from a phyr slice (NVMe 1.4 §4.4).
#pragma once
#include "drivers/nvme/native/dptr_types.h"

namespace phyr::nvme {

// Optional Bit Bucket descriptors around the data of a read: the controller discards
// `head` bytes before the first data byte and `tail` bytes after the last (NVMe 1.4
// §4.4, SGL Bit Bucket). Lets a read of whole blocks land only the wanted bytes.
struct SglBuckets {
  uint32_t head = 0;
  uint32_t tail = 0;
};

// Number of Data Block descriptors after merging adjacent ranges: two ranges merge when
// the first ends where the second starts, both lie on the same side of the CMB boundary,
// and the merged length still fits the 32-bit descriptor length.
uint64_t sglDataDescriptorCount(const PhyrSlice& s);

// True when every merged Data Block has a dword-aligned address and length.
bool sglDwordAligned(const PhyrSlice& s);

// Builds SGL1 (returned as its two 64-bit halves, the SQE's DPTR words).
// One descriptor in all: SGL1 is that Data Block. More: SGL1 is a Last Segment descriptor
// pointing at a segment page of descriptors; when they overflow a page, SGL1 is a Segment
// descriptor, each full page ends with a Segment (or, before the final page, a Last
// Segment) descriptor pointing at the next page.
DptrError buildSgl(const PhyrSlice& s, const DptrCaps& caps, SglBuckets buckets, ListPageSource& pages,
                   uint64_t* dptr1, uint64_t* dptr2, uint32_t* pagesUsed);

}  // namespace phyr::nvme

// The phyr entry: one physical (device-address) range. The layout is fixed at 16 bytes,
// little-endian, identical to lib/phyr.ts; test/unit/phyr-parity.test.ts checks both.
//
// The seed thread asked where per-entry flags could live without growing the struct.
// Answer: a 32-bit length (ranges over 4 GiB - 1 are split into several entries) leaves
// 32 bits beside it for flags, so an entry stays two words.
#pragma once
#include <cstddef>
#include <cstdint>

namespace phyr {

struct PhyrEntry {
  uint64_t addr;   // device (IOVA / bus) address of the first byte
  uint32_t len;    // bytes, 1 .. 2^32 - 1
  uint32_t flags;  // PhyrFlag bits
};
static_assert(sizeof(PhyrEntry) == 16, "phyr entry must be 16 bytes");
static_assert(offsetof(PhyrEntry, addr) == 0, "addr at byte 0");
static_assert(offsetof(PhyrEntry, len) == 8, "len at byte 8");
static_assert(offsetof(PhyrEntry, flags) == 12, "flags at byte 12");

// X-macro: the single C++ list of flags (name, bit). Exported to JS for the parity test.
#define PHYR_FLAG_LIST(X)                                                              \
  /* Pinned and IOMMU-mapped only for this IO (an arbitrary caller buffer): unmap and \
     unpin at completion. Pool memory is mapped once and never carries it. This is    \
     the seed's FOLL_PIN question: the duty to unpin rides with the range. */          \
  X(PINNED_FOR_IO, 0)                                                                  \
  /* Another device's BAR (peer-to-peer DMA): the CPU must not treat it as RAM, and it \
     must be mapped in the same IOMMU domain as the controller. The seed's P2PDMA      \
     bus-address question: the address is a bus address, not a struct page. */        \
  X(PEER_TO_PEER, 1)                                                                   \
  /* Lies in the target controller's own Controller Memory Buffer: NVMe forbids        \
     mixing CMB and host memory in some places (status 12h). */                        \
  X(CMB, 2)                                                                            \
  /* Backed by a 2 MiB hugepage: informational, helps splitting and reports. */        \
  X(HUGEPAGE, 3)

enum PhyrFlag : uint32_t {
#define PHYR_FLAG_ENUM(name, bit) kPhyr_##name = 1u << (bit),
  PHYR_FLAG_LIST(PHYR_FLAG_ENUM)
#undef PHYR_FLAG_ENUM
};

constexpr uint32_t kPhyrKnownFlags =
    kPhyr_PINNED_FOR_IO | kPhyr_PEER_TO_PEER | kPhyr_CMB | kPhyr_HUGEPAGE;
constexpr uint64_t kPhyrMaxLen = 0xFFFFFFFFull;

// A read-only view over entries in memory shared with JS (no copy, no conversion).
struct PhyrView {
  const PhyrEntry* entries;
  uint32_t count;
  uint64_t totalBytes() const {
    uint64_t n = 0;
    for (uint32_t i = 0; i < count; i++) n += entries[i].len;
    return n;
  }
};

}  // namespace phyr

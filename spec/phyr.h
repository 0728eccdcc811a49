// The phyr entry: one physical (device-address) range, 16 bytes, little-endian. This header
// is the one source of its layout: C++ reads PhyrEntry and the lists below, TypeScript
// reads spec/phyr.ts, generated from the same lists by spec/generate.js at build time (not
// committed); lib/phyr.ts holds the one TypeScript encoder. test/unit/phyr-parity.test.ts
// checks the generated twin and the compiled struct against each other.
//
// The seed thread asked where per-entry flags could live without growing the struct.
// Answer: a 32-bit length (ranges over 4 GiB - 1 are split into several entries) leaves
// 32 bits beside it for flags, so an entry stays two words.
#pragma once
#include <cstddef>
#include <cstdint>

// The entry layout (name, value): bytes and byte offsets for C++, u32 word indices for
// TypeScript, which writes the address as two words (low, high) to avoid BigInt.
// ts-twin: PHYR_ENTRY -- Layout of one phyr entry: bytes, byte offsets, u32 word indices
#define PHYR_ENTRY_LAYOUT(X)                                                           \
  X(BYTES, 16) X(WORDS, 4)                                                             \
  X(ADDR_OFFSET, 0) X(LEN_OFFSET, 8) X(FLAGS_OFFSET, 12)                               \
  X(ADDR_LO_WORD, 0) X(ADDR_HI_WORD, 1) X(LEN_WORD, 2) X(FLAGS_WORD, 3)                \
  /* Largest length one entry carries: longer ranges are split into several */         \
  X(MAX_LEN, 0xFFFFFFFF)

namespace phyr {

namespace entry {
#define PHYR_ENTRY_CONSTANT(name, value) constexpr uint64_t name = (value);
PHYR_ENTRY_LAYOUT(PHYR_ENTRY_CONSTANT)
#undef PHYR_ENTRY_CONSTANT
}  // namespace entry

struct PhyrEntry {
  uint64_t addr;   // device (IOVA / bus) address of the first byte
  uint32_t len;    // bytes, 1 .. 2^32 - 1
  uint32_t flags;  // PhyrFlag bits
};
static_assert(sizeof(PhyrEntry) == entry::BYTES, "phyr entry must be 16 bytes");
static_assert(sizeof(PhyrEntry) == entry::WORDS * 4, "phyr entry is 4 u32 words");
static_assert(offsetof(PhyrEntry, addr) == entry::ADDR_OFFSET, "addr at byte 0");
static_assert(offsetof(PhyrEntry, len) == entry::LEN_OFFSET, "len at byte 8");
static_assert(offsetof(PhyrEntry, flags) == entry::FLAGS_OFFSET, "flags at byte 12");
static_assert(entry::ADDR_LO_WORD * 4 == entry::ADDR_OFFSET && entry::ADDR_HI_WORD * 4 == entry::ADDR_OFFSET + 4 &&
                  entry::LEN_WORD * 4 == entry::LEN_OFFSET && entry::FLAGS_WORD * 4 == entry::FLAGS_OFFSET,
              "word indices match the byte offsets (little-endian address: low word first)");

// X-macro: the single list of flags (name, bit).
// ts-twin: PhyrFlags bits -- Per-entry flag bits (values are 1 << bit)
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

#define PHYR_FLAG_OR(name, bit) | kPhyr_##name
constexpr uint32_t kPhyrKnownFlags = 0u PHYR_FLAG_LIST(PHYR_FLAG_OR);
#undef PHYR_FLAG_OR
constexpr uint64_t kPhyrMaxLen = entry::MAX_LEN;

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

// The C++ side of the phyr layout (the TS side is checked in test/unit/phyr-parity.test.ts).
#include <cstring>

#include "check.h"
#include "spec/phyr.h"

using phyr::PhyrEntry;

TEST(phyr_entry_bytes_are_little_endian_u64_u32_u32) {
  PhyrEntry e{0x1122334455667788ull, 0xAABBCCDDu, phyr::kPhyr_CMB};
  uint8_t raw[16];
  std::memcpy(raw, &e, sizeof raw);
  const uint8_t expect[16] = {0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
                              0xDD, 0xCC, 0xBB, 0xAA, 0x04, 0x00, 0x00, 0x00};
  CHECK(std::memcmp(raw, expect, 16) == 0);
}

TEST(phyr_known_flags_cover_every_listed_flag) {
  uint32_t all = 0;
#define OR_FLAG(name, bit) all |= 1u << (bit);
  PHYR_FLAG_LIST(OR_FLAG)
#undef OR_FLAG
  CHECK_EQ(all, phyr::kPhyrKnownFlags);
}

TEST(phyr_view_total_bytes) {
  PhyrEntry e[3] = {{0, 10, 0}, {100, 0xFFFFFFFFu, 0}, {1ull << 40, 6, 0}};
  phyr::PhyrView v{e, 3};
  CHECK_EQ(v.totalBytes(), 16ull + 0xFFFFFFFFull);
}

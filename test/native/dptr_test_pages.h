// Test double for list pages: real host memory with made-up, page-aligned device addresses,
// so the exact bytes a builder writes can be compared.
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>

#include "drivers/nvme/native/dptr_types.h"

namespace phyr::test {

class FakePages : public nvme::ListPageSource {
 public:
  static constexpr uint64_t kBase = 0x7770000000ull;
  explicit FakePages(uint32_t limit = 64, uint32_t pageSize = 4096)
      : pageSize_(pageSize), limit_(limit), mem_(static_cast<size_t>(limit) * pageSize, 0xEE) {}

  bool take(nvme::ListPage* out) override {
    if (taken_ == limit_) return false;
    out->cpu = mem_.data() + static_cast<size_t>(taken_) * pageSize_;
    out->iova = kBase + static_cast<uint64_t>(taken_) * pageSize_;
    taken_++;
    return true;
  }
  uint32_t taken() const { return taken_; }
  uint64_t iova(uint32_t page) const { return kBase + static_cast<uint64_t>(page) * pageSize_; }
  uint64_t u64(uint32_t page, uint32_t slot) const {
    uint64_t v;
    std::memcpy(&v, mem_.data() + static_cast<size_t>(page) * pageSize_ + 8 * slot, 8);
    return v;
  }
  uint32_t u32(uint32_t page, uint32_t byteOffset) const {
    uint32_t v;
    std::memcpy(&v, mem_.data() + static_cast<size_t>(page) * pageSize_ + byteOffset, 4);
    return v;
  }
  uint8_t u8(uint32_t page, uint32_t byteOffset) const {
    return mem_[static_cast<size_t>(page) * pageSize_ + byteOffset];
  }

 private:
  uint32_t pageSize_;
  uint32_t limit_;
  uint32_t taken_ = 0;
  std::vector<uint8_t> mem_;
};

inline nvme::PhyrSlice whole(const std::vector<PhyrEntry>& v) {
  uint64_t n = 0;
  for (const auto& e : v) n += e.len;
  return nvme::PhyrSlice{v.data(), static_cast<uint32_t>(v.size()), 0, n};
}

}  // namespace phyr::test

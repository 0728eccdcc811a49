// Reads a fuzz input front to back as small integers. An exhausted input reads as zeros,
// so every input, however short, describes one complete test case.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace phyr::fuzz {

class Input {
 public:
  Input(const uint8_t* data, size_t size) : p_(data), left_(size) {}

  uint8_t u8() {
    if (left_ == 0) return 0;
    left_--;
    return *p_++;
  }
  uint16_t u16() { return static_cast<uint16_t>(u8() | u8() << 8); }
  uint32_t u32() { return static_cast<uint32_t>(u16() | static_cast<uint32_t>(u16()) << 16); }
  uint64_t u64() { return u32() | static_cast<uint64_t>(u32()) << 32; }
  bool flag() { return (u8() & 1) != 0; }
  // A value in [0, n) (n > 0).
  uint32_t below(uint32_t n) { return n <= 256 ? u8() % n : u32() % n; }
  // Copies up to n bytes (the rest zero).
  void bytes(uint8_t* dst, size_t n) {
    size_t take = n < left_ ? n : left_;
    std::memcpy(dst, p_, take);
    std::memset(dst + take, 0, n - take);
    p_ += take;
    left_ -= take;
  }
  size_t left() const { return left_; }

 private:
  const uint8_t* p_;
  size_t left_;
};

// A broken rule ends the run: the message names the target (PHYR_FUZZ_TARGET, defined by
// the including file before this header), the rule and two values; libFuzzer keeps the
// input as a finding.
[[noreturn]] inline void fail(const char* what, uint64_t a = 0, uint64_t b = 0) {
  std::fprintf(stderr, "%s: %s (0x%llx, 0x%llx)\n", PHYR_FUZZ_TARGET, what, static_cast<unsigned long long>(a),
               static_cast<unsigned long long>(b));
  std::abort();
}

}  // namespace phyr::fuzz

// REQUIRE(cond[, a[, b]]): a rule the target checks, failing with the rule's text.
#define REQUIRE(cond, ...)                                                                  \
  do {                                                                                      \
    if (!(cond)) ::phyr::fuzz::fail("violated: " #cond, ##__VA_ARGS__);                   \
  } while (0)

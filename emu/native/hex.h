// Formatting helper for messages and the fault log.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>

namespace phyr::emu {
inline std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}
}  // namespace phyr::emu

// The controller's counters. Single writer (the device thread), bumped with relaxed stores;
// other threads read a copy with relaxed loads (Controller::stats()).
#pragma once
#include <cstdint>

namespace phyr::emu {

/** Counters; read with relaxed loads from other threads (single writer: the device). */
struct EmuStats {
  uint64_t commands = 0;
  uint64_t adminCommands = 0;
  uint64_t ioCommands = 0;
  uint64_t errors = 0;  // completions with a non-zero status
  uint64_t bytesRead = 0;     // device -> host (Read)
  uint64_t bytesWritten = 0;  // host -> device (Write)
  uint64_t interrupts = 0;
  uint64_t invalidDoorbells = 0;
  uint64_t corruptedReads = 0;  // Reads whose data was corrupted by a corrupt:lba=L rule
  uint64_t syncs = 0;
  // IO queue doorbell updates the device saw (sampled at its passes: several writes between
  // two reads count once) in the MMIO registers and in the shadow doorbell page, and the
  // EventIdx entries it wrote (Doorbell Buffer Config). Kept by QueueSet, merged into
  // Controller::stats().
  uint64_t mmioDoorbellUpdates = 0;
  uint64_t shadowDoorbellUpdates = 0;
  uint64_t eventIdxWrites = 0;  // durability points reached on a persistent backend (file: one fdatasync each)
  uint64_t adminOpcodes[256] = {};
  uint64_t ioOpcodes[256] = {};
};

// Single-writer increment: a plain read, a relaxed store (readers never see a torn value).
template <typename T>
inline void bump(T& counter, uint64_t by = 1) {
  __atomic_store_n(&counter, counter + by, __ATOMIC_RELAXED);
}

// A copy of every counter, each read with a relaxed load (any thread).
inline EmuStats snapshot(const EmuStats& stats) {
  EmuStats s;
  const uint64_t* src = reinterpret_cast<const uint64_t*>(&stats);
  uint64_t* dst = reinterpret_cast<uint64_t*>(&s);
  for (size_t i = 0; i < sizeof(EmuStats) / 8; i++) dst[i] = __atomic_load_n(src + i, __ATOMIC_RELAXED);
  return s;
}

}  // namespace phyr::emu

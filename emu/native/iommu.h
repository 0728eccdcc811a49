// The emulated controller's IOMMU: the table of device-address (IOVA) ranges the driver
// mapped with dmaMap, each with its host memory and access rights. Every device access to
// host memory goes through translate(); an access outside the table, or without the right
// permission, is a fault. Two emulated functions may share one table (peer-to-peer).
//
// Ownership: a mapping may carry a keep-alive of the host memory it points at (the Node
// glue passes the ArrayBuffer's backing store, see addon/memory/keep_alive_napi.h). The
// table holds it for exactly as long as the mapping exists, so the device can never reach
// memory that was freed while mapped, whatever JS does to the buffer (transfer, detach,
// drop every reference). Keep-alives are released after the table lock is dropped.
//
// Locking: `mutex` guards the table. The device thread takes it once per batch of commands
// (not once per access) and calls the *Locked methods; map/unmap from the driver's thread
// take it themselves.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace phyr::emu {

/** One mapping: [iova, iova + len) -> host. */
struct IommuMapping {
  uint64_t len;
  uint8_t* host;
  bool read;
  bool write;
  // Owns the memory behind `host` while mapped (may be empty: memory the caller keeps).
  std::shared_ptr<void> keepAlive;
};

class IommuTable {
 public:
  std::mutex mutex;

  // Adds a mapping. Returns an empty string, or why it was refused (zero length, overlap,
  // address overflow). `keepAlive`, when given, is held until the mapping is removed.
  std::string map(uint64_t iova, uint8_t* host, uint64_t len, bool read, bool write,
                  std::shared_ptr<void> keepAlive = {});
  // Removes every mapping inside [iova, iova + len). Refuses (and changes nothing) when a
  // mapping straddles an end of the range, or when the range holds no mapping.
  std::string unmap(uint64_t iova, uint64_t len);
  // Removes everything (function close).
  void clear();
  size_t size();
  // Mappings that hold a keep-alive (leak checks in tests).
  size_t keepAlives();

  // Device side, caller holds `mutex`. Returns the host address of `iova` and stores in
  // *avail how many bytes from there lie in the same mapping (capped at `len`), or nullptr
  // when `iova` is unmapped or lacks the permission (`write` = the device writes memory).
  uint8_t* translateLocked(uint64_t iova, uint64_t len, bool write, uint64_t* avail);
  // Whole-range helper: host address only when [iova, iova + len) lies in ONE mapping.
  uint8_t* translateWholeLocked(uint64_t iova, uint64_t len, bool write) {
    uint64_t avail = 0;
    uint8_t* p = translateLocked(iova, len, write, &avail);
    return p && avail == len ? p : nullptr;
  }

 private:
  std::map<uint64_t, IommuMapping> maps_;  // keyed by iova start
  // The last few mappings hit (a small TLB): a command touches its SQ, its data and its
  // CQ, often three mappings, and a batch repeats them. Replaced round robin; emptied by
  // unmap and clear (map adds a range no cached entry covers).
  static constexpr uint32_t kCacheEntries = 4;
  struct CacheEntry {
    uint64_t start = 0;
    const IommuMapping* m = nullptr;
  };
  CacheEntry cache_[kCacheEntries];
  uint32_t cacheNext_ = 0;
  void dropCache() {
    for (CacheEntry& c : cache_) c.m = nullptr;
  }
};

}  // namespace phyr::emu

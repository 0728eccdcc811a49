#include "emu/native/iommu.h"

#include "emu/native/hex.h"

namespace phyr::emu {

std::string IommuTable::map(uint64_t iova, uint8_t* host, uint64_t len, bool read, bool write,
                            std::shared_ptr<void> keepAlive) {
  if (len == 0) return "length is 0";
  if (iova + len < iova) return "iova + length overflows 64 bits";
  if (!read && !write) return "the mapping grants neither read nor write access";
  std::lock_guard<std::mutex> lock(mutex);
  auto next = maps_.lower_bound(iova);
  if (next != maps_.end() && next->first < iova + len)
    return "overlaps the mapping at iova " + hex(next->first);
  if (next != maps_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second.len > iova) return "overlaps the mapping at iova " + hex(prev->first);
  }
  maps_.emplace(iova, IommuMapping{len, host, read, write, std::move(keepAlive)});
  return {};
}

std::string IommuTable::unmap(uint64_t iova, uint64_t len) {
  if (len == 0) return "length is 0";
  if (iova + len < iova) return "iova + length overflows 64 bits";
  std::unique_lock<std::mutex> lock(mutex);
  auto first = maps_.lower_bound(iova);
  if (first != maps_.begin()) {
    auto prev = std::prev(first);
    if (prev->first + prev->second.len > iova) return "the range starts inside a mapping (it would split it)";
  }
  auto last = first;
  while (last != maps_.end() && last->first < iova + len) {
    if (last->first + last->second.len > iova + len) return "the range ends inside a mapping (it would split it)";
    ++last;
  }
  if (first == last) return "nothing is mapped in that range";
  // Take the keep-alives out first: releasing the last one frees memory (and may run an
  // allocator's deleter), which must not happen under the lock the device thread takes.
  std::vector<std::shared_ptr<void>> released;
  for (auto it = first; it != last; ++it)
    if (it->second.keepAlive) released.push_back(std::move(it->second.keepAlive));
  maps_.erase(first, last);
  dropCache();
  lock.unlock();
  released.clear();
  return {};
}

void IommuTable::clear() {
  std::map<uint64_t, IommuMapping> old;
  {
    std::lock_guard<std::mutex> lock(mutex);
    old.swap(maps_);
    dropCache();
  }
  // `old` (and the memory its keep-alives own) goes here, outside the lock.
}

size_t IommuTable::keepAlives() {
  std::lock_guard<std::mutex> lock(mutex);
  size_t n = 0;
  for (auto& [iova, m] : maps_) n += m.keepAlive ? 1 : 0;
  return n;
}

size_t IommuTable::size() {
  std::lock_guard<std::mutex> lock(mutex);
  return maps_.size();
}

uint8_t* IommuTable::translateLocked(uint64_t iova, uint64_t len, bool write, uint64_t* avail) {
  const IommuMapping* m = nullptr;
  uint64_t start = 0;
  for (const CacheEntry& c : cache_) {
    if (c.m && iova >= c.start && iova - c.start < c.m->len) {
      m = c.m;
      start = c.start;
      break;
    }
  }
  if (!m) {
    auto it = maps_.upper_bound(iova);
    if (it == maps_.begin()) return nullptr;
    --it;
    if (iova - it->first >= it->second.len) return nullptr;
    m = &it->second;
    start = it->first;
    cache_[cacheNext_] = CacheEntry{start, m};
    cacheNext_ = (cacheNext_ + 1) % kCacheEntries;
  }
  if (write ? !m->write : !m->read) return nullptr;
  uint64_t off = iova - start;
  uint64_t left = m->len - off;
  *avail = left < len ? left : len;
  return m->host + off;
}

}  // namespace phyr::emu

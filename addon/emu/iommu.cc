#include "iommu.h"

#include "hex.h"

namespace phyr::emu {

std::string IommuTable::map(uint64_t iova, uint8_t* host, uint64_t len, bool read, bool write) {
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
  maps_.emplace(iova, IommuMapping{len, host, read, write});
  return {};
}

std::string IommuTable::unmap(uint64_t iova, uint64_t len) {
  if (len == 0) return "length is 0";
  if (iova + len < iova) return "iova + length overflows 64 bits";
  std::lock_guard<std::mutex> lock(mutex);
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
  maps_.erase(first, last);
  cache_ = nullptr;
  return {};
}

void IommuTable::clear() {
  std::lock_guard<std::mutex> lock(mutex);
  maps_.clear();
  cache_ = nullptr;
}

size_t IommuTable::size() {
  std::lock_guard<std::mutex> lock(mutex);
  return maps_.size();
}

uint8_t* IommuTable::translateLocked(uint64_t iova, uint64_t len, bool write, uint64_t* avail) {
  const IommuMapping* m = nullptr;
  uint64_t start = 0;
  if (cache_ && iova >= cacheStart_ && iova - cacheStart_ < cache_->len) {
    m = cache_;
    start = cacheStart_;
  } else {
    auto it = maps_.upper_bound(iova);
    if (it == maps_.begin()) return nullptr;
    --it;
    if (iova - it->first >= it->second.len) return nullptr;
    m = &it->second;
    start = it->first;
    cache_ = m;
    cacheStart_ = start;
  }
  if (write ? !m->write : !m->read) return nullptr;
  uint64_t off = iova - start;
  uint64_t left = m->len - off;
  *avail = left < len ? left : len;
  return m->host + off;
}

}  // namespace phyr::emu

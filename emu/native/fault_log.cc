#include "emu/native/fault_log.h"

namespace phyr::emu {

const char* faultSiteName(FaultSite s) {
  switch (s) {
    case FaultSite::SqFetch: return "sq-fetch";
    case FaultSite::CqPost: return "cq-post";
    case FaultSite::PrpList: return "prp-list";
    case FaultSite::SglSegment: return "sgl-segment";
    case FaultSite::Data: return "data";
    case FaultSite::ShadowDoorbell: return "shadow-doorbell";
  }
  return "?";
}

void FaultLog::record(const FaultRecord& f) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (records_.size() == kMax) records_.pop_front();
  records_.push_back(f);
  __atomic_store_n(&total_, total_ + 1, __ATOMIC_RELAXED);
}

std::vector<FaultRecord> FaultLog::records() {
  std::lock_guard<std::mutex> lock(mutex_);
  return {records_.begin(), records_.end()};
}

void FaultLog::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  records_.clear();
  __atomic_store_n(&total_, 0, __ATOMIC_RELAXED);
}

}  // namespace phyr::emu

// Node glue of the DMA memory room: hands locked regions (dma_region.h) to JS as external
// ArrayBuffers. The finalizer of each ArrayBuffer frees its region, so native memory lives
// exactly as long as something in JS refers to it — the pool keeps a reference while the
// region is IOMMU-mapped, and every view the caller holds keeps one too.
#include <napi.h>

#include <cmath>
#include <cstring>
#include <string>

#include "addon/memory/dma_region.h"
#include "addon/napi_args.h"
#include "addon/registry.h"

namespace phyr {
namespace {

using memory::AllocStatus;
using memory::Region;

void finalizeRegion(Napi::Env env, void* /*data*/, Region* region) {
  // Tell V8 the memory is gone, so its GC heuristics stay honest.
  Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(region->size));
  memory::freeRegion(*region);
  delete region;
}

// allocate(size: number, huge: boolean) -> ArrayBuffer | null
// null means "hugepages asked for but not enough reserved" (the pool decides what then);
// every other failure throws an Error whose `code` is PHYR_DMA_ALLOC_FAILED.
Napi::Value allocate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double size;
  if (!args::integerArg(info, 0, "region size", 1, static_cast<double>(memory::kMaxRegionSize), &size) ||
      !args::usage(info, info.Length() >= 2 && info[1].IsBoolean(), "expected (number size, boolean huge)"))
    return env.Undefined();
  bool huge = info[1].As<Napi::Boolean>().Value();
  memory::AllocResult r = memory::allocateRegion(static_cast<size_t>(size), huge);
  if (r.status == AllocStatus::noHugepages) return env.Null();
  if (r.status != AllocStatus::ok) {
    std::string msg = std::string("cannot allocate ") + std::to_string(static_cast<uint64_t>(size)) + " bytes of " +
                      (huge ? "hugepage" : "4 KiB-page") + " DMA memory: " + memory::describe(r.status) +
                      " (" + std::strerror(r.err) + ")";
    Napi::Error e = Napi::Error::New(env, msg);
    e.Set("code", Napi::String::New(env, "PHYR_DMA_ALLOC_FAILED"));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto* hint = new Region(r.region);
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, hint->addr, hint->size, finalizeRegion, hint);
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(hint->size));
  return ab;
}

// pageOffset(memory: ArrayBuffer, byteOffset: number) -> offset of that byte's host
// address within its 4 KiB page. byteOffset may equal byteLength (the end of the range).
Napi::Value pageOffset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!args::usage(info, info.Length() >= 2 && info[0].IsArrayBuffer(), "expected (ArrayBuffer memory, number byteOffset)"))
    return env.Undefined();
  Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
  double off;
  if (!args::integerArg(info, 1, "byteOffset", 0, static_cast<double>(ab.ByteLength()), &off)) return env.Undefined();
  if (ab.Data() == nullptr) {
    Napi::Error::New(env, "the ArrayBuffer has no memory (detached or empty)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const uint8_t* p = static_cast<const uint8_t*>(ab.Data()) + static_cast<size_t>(off);
  return Napi::Number::New(env, static_cast<double>(memory::pageOffset(p)));
}

// stats() -> { liveRegions, liveBytes }: regions not yet freed by a finalizer.
Napi::Value stats(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("liveRegions", static_cast<double>(memory::liveRegions()));
  o.Set("liveBytes", static_cast<double>(memory::liveBytes()));
  return o;
}

void init(Napi::Env env, Napi::Object exports) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("allocate", Napi::Function::New(env, allocate, "allocate"));
  o.Set("pageOffset", Napi::Function::New(env, pageOffset, "pageOffset"));
  o.Set("stats", Napi::Function::New(env, stats, "stats"));
  o.Set("pageSize", static_cast<double>(memory::kPageSize));
  o.Set("hugepageSize", static_cast<double>(memory::kHugepageSize));
  exports.Set("memory", o);
}

}  // namespace
PHYR_REGISTER_EXPORTS("memory", init);
}  // namespace phyr

// Node glue shared by every dmaMap: the one place that reaches below Node-API to V8.
//
// Why: a mapping must keep the MEMORY it maps alive, not the JS object that pointed at it.
// An ArrayBuffer can be detached (structuredClone/postMessage with a transfer list, a
// native detach): its memory then moves to another ArrayBuffer object, and the first one's
// reference — all Node-API can hold (napi_ref) — no longer says anything about that
// memory's lifetime. When the new owner is collected, the memory is freed while the
// IOMMU still maps it, and the device writes into the heap. V8 expresses the lifetime of
// the memory itself as a std::shared_ptr<v8::BackingStore>; Node-API has no call that
// hands it out, so this header converts the napi_value to the v8::Local it is.
//
// The conversion relies on how Node implements Node-API: a napi_value IS the slot of a
// v8::Local<v8::Value> (Node's own js_native_api_v8.h converts them with the same
// memcpy). It is only valid inside the current call, which is the only place it is used.
//
// Core (non-Node) code never sees V8: it gets the keep-alive as an opaque
// std::shared_ptr<void> (the aliasing constructor shares the backing store's ownership),
// so the native test binary builds without Node headers.
#pragma once
#include <napi.h>
#include <v8.h>

#include <cstring>
#include <memory>

namespace phyr::memory {

// Shared ownership of the memory behind `ab` (an empty pointer when it is detached). The
// memory stays allocated while any copy of the result lives, even if `ab` is detached or
// collected and its memory's new owner is collected too.
inline std::shared_ptr<void> backingStoreKeepAlive(Napi::ArrayBuffer ab) {
  napi_value raw = ab;
  v8::Local<v8::Value> local;
  static_assert(sizeof(local) == sizeof(raw), "a napi_value is the slot of a v8::Local<v8::Value>");
  std::memcpy(static_cast<void*>(&local), &raw, sizeof(raw));
  if (local.IsEmpty() || !local->IsArrayBuffer()) return {};
  std::shared_ptr<v8::BackingStore> store = local.As<v8::ArrayBuffer>()->GetBackingStore();
  if (!store || store->Data() == nullptr) return {};
  return std::shared_ptr<void>(store, store->Data());
}

}  // namespace phyr::memory

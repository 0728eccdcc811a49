// Register access to mapped BAR memory: aligned 32- and 64-bit loads and stores, never
// split into bytes (a DataView may be). Stores are release, loads acquire, so a register
// write is ordered after every memory write before it (NVMe doorbell rule, 4.1).
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "addon/napi_args.h"
#include "addon/registry.h"

namespace phyr {
namespace {

// Checks (ArrayBuffer bar, number offset[, value]) and returns the register address.
void* registerAddress(const Napi::CallbackInfo& info, size_t width, size_t argc) {
  Napi::Env env = info.Env();
  if (!args::usage(info,
                   info.Length() >= argc && info[0].IsArrayBuffer() && info[1].IsNumber() &&
                       (argc == 2 || info[2].IsNumber() || info[2].IsBigInt()),
                   argc > 2 ? "expected (ArrayBuffer bar, number offset, number value)" : "expected (ArrayBuffer bar, number offset)"))
    return nullptr;
  Napi::ArrayBuffer bar = info[0].As<Napi::ArrayBuffer>();
  double off = info[1].As<Napi::Number>().DoubleValue();
  // Range first (NaN and Infinity fail it), so the integer conversions below are defined;
  // a detached or empty buffer has length 0 and no offset fits.
  if (!(off >= 0 && off + width <= static_cast<double>(bar.ByteLength())) || off != std::floor(off) ||
      static_cast<uint64_t>(off) % width != 0 || bar.Data() == nullptr) {
    args::rangeError(env, "register offset " + args::numberText(off) + " is not a " + std::to_string(width) +
                              "-byte aligned offset inside the " + std::to_string(bar.ByteLength()) + "-byte BAR");
    return nullptr;
  }
  return static_cast<uint8_t*>(bar.Data()) + static_cast<uint64_t>(off);
}

Napi::Value read32(const Napi::CallbackInfo& info) {
  auto* p = static_cast<uint32_t*>(registerAddress(info, 4, 2));
  if (!p) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), __atomic_load_n(p, __ATOMIC_ACQUIRE));
}

Napi::Value read64(const Napi::CallbackInfo& info) {
  auto* p = static_cast<uint64_t*>(registerAddress(info, 8, 2));
  if (!p) return info.Env().Undefined();
  return Napi::BigInt::New(info.Env(), __atomic_load_n(p, __ATOMIC_ACQUIRE));
}

Napi::Value write32(const Napi::CallbackInfo& info) {
  auto* p = static_cast<uint32_t*>(registerAddress(info, 4, 3));
  uint64_t v;
  if (p && args::u64OrBigIntArg(info, 2, "register value", 0xFFFFFFFFull, &v)) __atomic_store_n(p, static_cast<uint32_t>(v), __ATOMIC_RELEASE);
  return info.Env().Undefined();
}

Napi::Value write64(const Napi::CallbackInfo& info) {
  auto* p = static_cast<uint64_t*>(registerAddress(info, 8, 3));
  uint64_t v;
  if (p && args::u64OrBigIntArg(info, 2, "register value", ~0ull, &v)) __atomic_store_n(p, v, __ATOMIC_RELEASE);
  return info.Env().Undefined();
}

void init(Napi::Env env, Napi::Object exports) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("read32", Napi::Function::New(env, read32, "read32"));
  o.Set("read64", Napi::Function::New(env, read64, "read64"));
  o.Set("write32", Napi::Function::New(env, write32, "write32"));
  o.Set("write64", Napi::Function::New(env, write64, "write64"));
  exports.Set("mmio", o);
}
}  // namespace
PHYR_REGISTER_EXPORTS("mmio", init);
}  // namespace phyr

// Exposes the C++ phyr layout to JS so a test can check it against lib/phyr.ts, and two
// helpers that read and write entries natively for the TS<->C++ round-trip test.
#include <napi.h>

#include <cstring>

#include "spec/phyr.h"
#include "addon/napi_args.h"
#include "addon/registry.h"

namespace phyr {
namespace {

Napi::Value layout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("entrySize", static_cast<double>(sizeof(PhyrEntry)));
  o.Set("addrOffset", static_cast<double>(offsetof(PhyrEntry, addr)));
  o.Set("lenOffset", static_cast<double>(offsetof(PhyrEntry, len)));
  o.Set("flagsOffset", static_cast<double>(offsetof(PhyrEntry, flags)));
  o.Set("maxLen", static_cast<double>(kPhyrMaxLen));
  o.Set("knownFlags", static_cast<double>(kPhyrKnownFlags));
  Napi::Object flags = Napi::Object::New(env);
#define PHYR_FLAG_EXPORT(name, bit) flags.Set(#name, static_cast<double>(1u << (bit)));
  PHYR_FLAG_LIST(PHYR_FLAG_EXPORT)
#undef PHYR_FLAG_EXPORT
  o.Set("flags", flags);
  return o;
}

// Validates (buffer, count) from JS and returns the entries, or throws.
bool entriesArg(const Napi::CallbackInfo& info, PhyrEntry** out, uint32_t* count) {
  if (!args::usage(info, info.Length() >= 2 && info[0].IsArrayBuffer() && info[1].IsNumber(), "expected (ArrayBuffer entries, number count)"))
    return false;
  Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
  double n = info[1].As<Napi::Number>().DoubleValue();
  // Range before the conversion (NaN, Infinity and huge values fail it).
  if (!(n >= 0 && n <= 4294967295.0) || n != static_cast<double>(static_cast<uint32_t>(n)) ||
      n * sizeof(PhyrEntry) > ab.ByteLength() || (n > 0 && ab.Data() == nullptr)) {
    return args::rangeError(info.Env(), "phyr count exceeds the buffer or is not an integer");
  }
  *out = static_cast<PhyrEntry*>(ab.Data());
  *count = static_cast<uint32_t>(n);
  return true;
}

// Reads entries natively: returns [addrHi, addrLo, len, flags] per entry as numbers.
Napi::Value readEntries(const Napi::CallbackInfo& info) {
  PhyrEntry* e;
  uint32_t n;
  if (!entriesArg(info, &e, &n)) return info.Env().Undefined();
  Napi::Array out = Napi::Array::New(info.Env(), n);
  for (uint32_t i = 0; i < n; i++) {
    Napi::Array row = Napi::Array::New(info.Env(), 4);
    row.Set(0u, static_cast<double>(e[i].addr >> 32));
    row.Set(1u, static_cast<double>(e[i].addr & 0xFFFFFFFFu));
    row.Set(2u, static_cast<double>(e[i].len));
    row.Set(3u, static_cast<double>(e[i].flags));
    out.Set(i, row);
  }
  return out;
}

// Writes entry i natively as {addr = base + i * 2^33 + i, len = 4096 * (i+1), flags = i & 15}
// so TS can check what C++ wrote, including addresses above 2^32.
Napi::Value writePattern(const Napi::CallbackInfo& info) {
  PhyrEntry* e;
  uint32_t n;
  if (!entriesArg(info, &e, &n)) return info.Env().Undefined();
  for (uint32_t i = 0; i < n; i++) {
    e[i].addr = (static_cast<uint64_t>(i) << 33) + i;
    e[i].len = 4096u * (i + 1);
    e[i].flags = i & kPhyrKnownFlags;
  }
  return info.Env().Undefined();
}

void init(Napi::Env env, Napi::Object exports) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("layout", Napi::Function::New(env, layout, "layout"));
  o.Set("readEntries", Napi::Function::New(env, readEntries, "readEntries"));
  o.Set("writePattern", Napi::Function::New(env, writePattern, "writePattern"));
  exports.Set("phyr", o);
}

}  // namespace
PHYR_REGISTER_EXPORTS("phyr", init);
}  // namespace phyr

// The argument checks of every *_napi.cc: one set, so a bad value from JavaScript gets the
// same kind of error and the same wording whichever room refuses it.
//   - a missing argument or one of the wrong type: TypeError "NAME must be a number" (an
//     ArrayBuffer, a boolean, ...), or the call's usage text when its shape is wrong;
//   - a number out of its domain: RangeError "NAME must be an integer from MIN to MAX, got V";
//   - a detached (transferred) ArrayBuffer where memory is needed: TypeError.
// Every check throws a pending JS exception and returns false, so a caller writes
// `if (!args::u32Arg(...)) return env.Undefined();`. Numbers are range-checked before any
// conversion, so NaN, Infinity and values past 2^64 never reach a cast.
// Header-only: it is Node glue, included by *_napi.cc files only (the core .cc files are
// also built into the native tests without Node).
#pragma once
#include <napi.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

namespace phyr::args {

// 2^53 - 1: the largest integer a JS number holds exactly (IOVAs, sizes, counters).
constexpr double kMaxSafe = 9007199254740991.0;

// ---- throwing ----

inline bool typeError(Napi::Env env, const std::string& message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return false;
}

inline bool rangeError(Napi::Env env, const std::string& message) {
  Napi::RangeError::New(env, message).ThrowAsJavaScriptException();
  return false;
}

// A number as JavaScript prints it (1.5, NaN, -Infinity, 9007199254740991).
inline std::string numberText(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  // Fixed notation below 1e21, as JavaScript does (1000000, not 1e+06); shortest above.
  auto r = std::fabs(v) < 1e21 ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed)
                               : std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// ---- the call's shape ----

// At least `count` arguments, else TypeError "expected COUNT argument(s): USAGE".
inline bool expectArgs(const Napi::CallbackInfo& info, size_t count, const char* usage) {
  if (info.Length() >= count) return true;
  return typeError(info.Env(), "expected " + std::to_string(count) + " argument(s): " + usage);
}

// `ok`, else TypeError with the call's usage text (for checks of several arguments at once:
// "expected (ArrayBuffer bar, number offset)").
inline bool usage(const Napi::CallbackInfo& info, bool ok, const std::string& text) {
  return ok || typeError(info.Env(), text);
}

// ---- numbers ----

// How a value that is present but not a number is refused. Type is the rule; a few config
// readers refuse it as out of the field's domain, as their callers have always seen it.
enum class NotNumber : uint8_t { TypeError, RangeError };

// `v` is a number that is an integer in [min, max] (min and max are integers and at most
// 2^64). `name` names the value in the message.
inline bool integer(Napi::Env env, Napi::Value v, const std::string& name, double min, double max, double* out,
                    NotNumber notNumber = NotNumber::TypeError) {
  if (!v.IsNumber()) {
    if (notNumber == NotNumber::TypeError) return typeError(env, name + " must be a number");
    return rangeError(env, name + " must be an integer from " + numberText(min) + " to " + numberText(max));
  }
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= min && d <= max) || d != std::floor(d)) {
    return rangeError(env, name + " must be an integer from " + numberText(min) + " to " + numberText(max) + ", got " + numberText(d));
  }
  *out = d;
  return true;
}

// A number in [min, max], fractions allowed (rates, distribution parameters).
inline bool number(Napi::Env env, Napi::Value v, const std::string& name, double min, double max, double* out) {
  if (!v.IsNumber()) return typeError(env, name + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= min && d <= max)) {
    return rangeError(env, name + " must be a number from " + numberText(min) + " to " + numberText(max) + ", got " + numberText(d));
  }
  *out = d;
  return true;
}

// Argument `i` (missing counts as not a number).
inline Napi::Value arg(const Napi::CallbackInfo& info, size_t i) { return i < info.Length() ? info[i] : info.Env().Undefined(); }

inline bool integerArg(const Napi::CallbackInfo& info, size_t i, const std::string& name, double min, double max, double* out) {
  return integer(info.Env(), arg(info, i), name, min, max, out);
}

// Unsigned integer arguments, converted to the type the caller keeps: u32 (counts,
// indexes, tags), u64 (below 2^53: addresses and sizes), int (file descriptors).
inline bool u32Arg(const Napi::CallbackInfo& info, size_t i, const std::string& name, uint32_t* out, uint32_t min = 0,
                   uint32_t max = UINT32_MAX) {
  double d;
  if (!integerArg(info, i, name, min, max, &d)) return false;
  *out = static_cast<uint32_t>(d);
  return true;
}

inline bool u64Arg(const Napi::CallbackInfo& info, size_t i, const std::string& name, uint64_t* out, uint64_t min = 0,
                   uint64_t max = static_cast<uint64_t>(kMaxSafe)) {
  double d;
  if (!integerArg(info, i, name, static_cast<double>(min), static_cast<double>(max < static_cast<uint64_t>(kMaxSafe) ? max : static_cast<uint64_t>(kMaxSafe)), &d)) return false;
  *out = static_cast<uint64_t>(d);
  return true;
}

inline bool intArg(const Napi::CallbackInfo& info, size_t i, const std::string& name, int* out, int min, int max) {
  double d;
  if (!integerArg(info, i, name, min, max, &d)) return false;
  *out = static_cast<int>(d);
  return true;
}

// An unsigned integer up to `max` given as a number or a BigInt (64-bit register values:
// a number holds only 53 bits exactly).
inline bool u64OrBigIntArg(const Napi::CallbackInfo& info, size_t i, const std::string& name, uint64_t max, uint64_t* out) {
  Napi::Value v = arg(info, i);
  std::string got;
  if (v.IsBigInt()) {
    bool lossless = true;
    *out = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (lossless && *out <= max) return true;
    got = v.ToString().Utf8Value() + "n";
  } else if (v.IsNumber()) {
    const double d = v.As<Napi::Number>().DoubleValue();
    // max + 1 is a power of two (or 2^64) and exact as a double; d < it keeps the cast defined.
    if (d >= 0 && d < static_cast<double>(max) + 1.0 && d == std::floor(d)) {
      *out = static_cast<uint64_t>(d);
      return true;
    }
    got = numberText(d);
  } else {
    return typeError(info.Env(), name + " must be a number or a BigInt");
  }
  return rangeError(info.Env(), name + " must be an unsigned integer up to " + std::to_string(max) + ", got " + got);
}

// ---- other kinds ----

inline bool boolArg(const Napi::CallbackInfo& info, size_t i, const std::string& name, bool* out) {
  Napi::Value v = arg(info, i);
  if (!v.IsBoolean()) return typeError(info.Env(), name + " must be a boolean");
  *out = v.As<Napi::Boolean>().Value();
  return true;
}

inline bool stringArg(const Napi::CallbackInfo& info, size_t i, const std::string& name, std::string* out) {
  Napi::Value v = arg(info, i);
  if (!v.IsString()) return typeError(info.Env(), name + " must be a string");
  *out = v.As<Napi::String>().Utf8Value();
  return true;
}

// An object, not an array (option and config objects).
inline bool objectArg(const Napi::CallbackInfo& info, size_t i, const std::string& name, Napi::Object* out) {
  Napi::Value v = arg(info, i);
  if (!v.IsObject() || v.IsArray()) return typeError(info.Env(), name + " must be an object");
  *out = v.As<Napi::Object>();
  return true;
}

// ---- memory ----

inline bool arrayBuffer(Napi::Env env, Napi::Value v, const std::string& name, Napi::ArrayBuffer* out) {
  if (!v.IsArrayBuffer()) return typeError(env, name + " must be an ArrayBuffer");
  *out = v.As<Napi::ArrayBuffer>();
  return true;
}

inline bool arrayBufferArg(const Napi::CallbackInfo& info, size_t i, const std::string& name, Napi::ArrayBuffer* out) {
  return arrayBuffer(info.Env(), arg(info, i), name, out);
}

// The memory behind an ArrayBuffer is gone: it was detached (transferred with
// structuredClone or postMessage, or natively), so its length says nothing any more.
inline bool detachedError(Napi::Env env, const std::string& name) {
  return typeError(env, name + " is a detached (transferred) ArrayBuffer");
}

// [offset, offset + length) lies inside `ab` (length > 0 unless `allowEmpty`).
inline bool byteRange(Napi::Env env, Napi::ArrayBuffer ab, uint64_t offset, uint64_t length, const std::string& name,
                      bool allowEmpty = false) {
  const uint64_t size = ab.ByteLength();
  if ((length > 0 || allowEmpty) && offset <= size && length <= size - offset) return true;
  return rangeError(env, name + ": " + std::to_string(length) + " bytes at offset " + std::to_string(offset) + " do not fit its " +
                             std::to_string(size) + " bytes");
}

// A typed array of `type` with at least `minElements` elements whose buffer is attached.
inline bool typedArrayArg(const Napi::CallbackInfo& info, size_t i, const std::string& name, const char* typeName,
                          napi_typedarray_type type, size_t minElements, Napi::TypedArray* out) {
  Napi::Value v = arg(info, i);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type || v.As<Napi::TypedArray>().ElementLength() < minElements) {
    return typeError(info.Env(), name + " must be a " + typeName + " of at least " + std::to_string(minElements) + " elements");
  }
  *out = v.As<Napi::TypedArray>();
  return true;
}

// ---- object properties ----

// Whether an absent (undefined) property is refused or leaves the caller's default.
enum class Presence : uint8_t { Required, Optional };

// Property `key` of `o` as an integer in [min, max]; `name` names it in the message
// ("option 'qid'", "emu config nsid").
template <typename T>
bool integerProp(Napi::Object o, const char* key, const std::string& name, double min, double max, T* out,
                 Presence presence = Presence::Required, NotNumber notNumber = NotNumber::TypeError) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() && presence == Presence::Optional) return true;
  double d;
  if (!integer(o.Env(), v, name, min, max, &d, notNumber)) return false;
  *out = static_cast<T>(d);
  return true;
}

inline bool boolProp(Napi::Object o, const char* key, const std::string& name, bool* out) {
  Napi::Value v = o.Get(key);
  if (!v.IsBoolean()) return typeError(o.Env(), name + " must be a boolean");
  *out = v.As<Napi::Boolean>().Value();
  return true;
}

// An optional string property: absent leaves `out` as it is.
inline bool optionalStringProp(Napi::Object o, const char* key, const std::string& name, std::string* out) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return true;
  if (!v.IsString()) return typeError(o.Env(), name + " must be a string");
  *out = v.As<Napi::String>().Utf8Value();
  return true;
}

}  // namespace phyr::args

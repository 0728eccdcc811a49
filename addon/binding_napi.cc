// Module entry of the single native addon. Rooms register their exports through
// PHYR_REGISTER_EXPORTS (registry.h); this file only runs them.
#include <napi.h>

#include <vector>

#include "addon/registry.h"

namespace phyr {
namespace {
struct Registered {
  const char* name;
  ExportInit init;
};
std::vector<Registered>& registry() {
  static std::vector<Registered> all;  // function-local: safe against init order
  return all;
}
}  // namespace

bool registerExports(const char* name, ExportInit init) {
  registry().push_back({name, init});
  return true;
}

void initAllExports(Napi::Env env, Napi::Object exports) {
  Napi::Array rooms = Napi::Array::New(env);
  uint32_t i = 0;
  for (const auto& r : registry()) {
    r.init(env, exports);
    rooms.Set(i++, Napi::String::New(env, r.name));
  }
  exports.Set("rooms", rooms);
}

}  // namespace phyr

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  phyr::initAllExports(env, exports);
  return exports;
}

NODE_API_MODULE(phyr, Init)

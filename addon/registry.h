// Each room of the native addon registers its own exports here, so adding a room never
// edits a shared file. binding.cc runs every registered initializer once at load.
#pragma once
#include <napi.h>

namespace phyr {

using ExportInit = void (*)(Napi::Env env, Napi::Object exports);

// Registers `init` under `name`; call through PHYR_REGISTER_EXPORTS at namespace scope.
bool registerExports(const char* name, ExportInit init);

// Runs every registered initializer (called by the module entry).
void initAllExports(Napi::Env env, Napi::Object exports);

// Argument checks are in addon/napi_args.h.

}  // namespace phyr

#define PHYR_REGISTER_EXPORTS(name, fn) \
  static const bool phyr_registered_##fn = ::phyr::registerExports(name, fn)

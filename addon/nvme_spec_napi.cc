// Exports every NVMe constant of nvme_spec.h so test/unit/spec-parity.test.ts can check
// spec/nvme.ts against it name by name.
#include <napi.h>

#include "spec/nvme.h"
#include "addon/registry.h"

namespace phyr {
namespace {
void init(Napi::Env env, Napi::Object exports) {
  Napi::Object o = Napi::Object::New(env);
#define PHYR_NVME_EXPORT(name, value) o.Set(#name, static_cast<double>(value));
  PHYR_NVME_CONSTANTS(PHYR_NVME_EXPORT)
#undef PHYR_NVME_EXPORT
  exports.Set("nvmeSpec", o);
}
}  // namespace
PHYR_REGISTER_EXPORTS("nvmeSpec", init);
}  // namespace phyr

// Exports every list of the spec headers as the compiler read them, so
// test/unit/spec-parity.test.ts can check the generated TypeScript twins (spec/*.ts)
// against them name by name: the generator and the compiler must have read the same
// headers. `nvmeSpec` is the NVMe list alone; `specLists` holds every list by macro name.
#include <napi.h>

#include "spec/nvme.h"
#include "spec/nvmf.h"
#include "spec/pci.h"
#include "spec/phyr.h"
#include "spec/records.h"
#include "addon/registry.h"

namespace phyr {
namespace {
#define PHYR_SPEC_EXPORT(name, value) o.Set(#name, static_cast<double>(value));
#define PHYR_SPEC_EXPORT_BIT(name, bit) o.Set(#name, static_cast<double>(1u << (bit)));

Napi::Object nvmeList(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  PHYR_NVME_CONSTANTS(PHYR_SPEC_EXPORT)
  return o;
}

#define PHYR_SPEC_LIST(macro, each)        \
  {                                        \
    Napi::Object o = Napi::Object::New(env); \
    macro(each)                            \
    lists.Set(#macro, o);                  \
  }

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("nvmeSpec", nvmeList(env));
  Napi::Object lists = Napi::Object::New(env);
  lists.Set("PHYR_NVME_CONSTANTS", nvmeList(env));
  PHYR_SPEC_LIST(PHYR_PCI_CONSTANTS, PHYR_SPEC_EXPORT)
  PHYR_SPEC_LIST(PHYR_NVMF_CONSTANTS, PHYR_SPEC_EXPORT)
  PHYR_SPEC_LIST(PHYR_NVME_TCP_CONSTANTS, PHYR_SPEC_EXPORT)
  PHYR_SPEC_LIST(PHYR_ENTRY_LAYOUT, PHYR_SPEC_EXPORT)
  PHYR_SPEC_LIST(PHYR_FLAG_LIST, PHYR_SPEC_EXPORT_BIT)
  PHYR_SPEC_LIST(PHYR_BATCH_RECORDS, PHYR_SPEC_EXPORT)
  PHYR_SPEC_LIST(PHYR_REQ_WORDS, PHYR_SPEC_EXPORT)
  PHYR_SPEC_LIST(PHYR_CPL_WORDS, PHYR_SPEC_EXPORT)
  PHYR_SPEC_LIST(PHYR_SUBMIT_RESULTS, PHYR_SPEC_EXPORT)
  exports.Set("specLists", lists);
}
#undef PHYR_SPEC_LIST
#undef PHYR_SPEC_EXPORT_BIT
#undef PHYR_SPEC_EXPORT
}  // namespace
PHYR_REGISTER_EXPORTS("spec", init);
}  // namespace phyr

// Adapter handles of the C ABI (slm.h, "adapters").
#include <cstring>
#include <new>
#include <string>

#include "adapter/inspect.h"
#include "adapter/validate.h"
#include "api/handles.h"

using slm::api::Fail;
using slm::api::NullArg;

extern "C" {

slm_status slm_adapter_open_memory(const slm_package* base, const uint8_t* bytes, size_t size,
                                   const char* name, size_t name_len, slm_adapter** out) {
  constexpr const char* kFn = "slm_adapter_open_memory";
  if (base == nullptr) return NullArg(kFn, "base");
  if (out == nullptr) return NullArg(kFn, "out");
  if (bytes == nullptr && size > 0) return NullArg(kFn, "bytes");
  if (name == nullptr && name_len > 0) return NullArg(kFn, "name");
  const std::string n = name_len > 0 ? std::string(name, name_len) : std::string("adapter");
  auto file = slm::ParseAdapterPackage({bytes, size}, n);
  if (!file.ok()) return Fail(file.status());
  slm::Status v = slm::ValidateAdapter(*base->package, file->adapter);
  if (!v.ok()) return Fail(v.WithContext(n));
  std::unique_ptr<slm_adapter> h(new (std::nothrow) slm_adapter);
  if (!h) return Fail(SLM_RESOURCE_EXHAUSTED, std::string(kFn) + ": out of memory");
  h->base = base;
  h->file = std::move(file).value();
  *out = h.release();
  return SLM_OK;
}

void slm_adapter_destroy(slm_adapter* a) { delete a; }

slm_status slm_adapter_describe(const slm_adapter* a, char* buf, size_t cap, size_t* len) {
  constexpr const char* kFn = "slm_adapter_describe";
  if (a == nullptr) return NullArg(kFn, "a");
  return slm::api::PutBytes(kFn, slm::AdapterToJson(a->file).Dump(), buf, cap, len);
}

}  // extern "C"

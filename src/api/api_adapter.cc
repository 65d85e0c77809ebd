// Adapter handles of the C ABI (slm.h, "adapters").
#include <cstring>
#include <new>
#include <string>

#include "adapter/inspect.h"
#include "adapter/load.h"
#include "adapter/validate.h"
#include "api/handles.h"

using slm::api::Fail;
using slm::api::NullArg;

extern "C" {

namespace {
// Validated against the base and wrapped in a handle; `kFn` names the call.
slm_status Wrap(const char* kFn, const slm_package* base, slm::StatusOr<slm::LoadedAdapter> loaded,
                const std::string& name, slm_adapter** out) {
  if (!loaded.ok()) return Fail(loaded.status());
  slm::Status v = slm::ValidateAdapter(*base->package, loaded->adapter);
  if (!v.ok()) return Fail(v.WithContext(name));
  std::unique_ptr<slm_adapter> h(new (std::nothrow) slm_adapter);
  if (!h) return Fail(SLM_RESOURCE_EXHAUSTED, std::string(kFn) + ": out of memory");
  h->base = base;
  h->file = {std::move(loaded->adapter), loaded->digest, loaded->bytes};
  *out = h.release();
  return SLM_OK;
}
}  // namespace

slm_status slm_adapter_open_memory(const slm_package* base, const uint8_t* bytes, size_t size,
                                   const char* name, size_t name_len, slm_adapter** out) {
  constexpr const char* kFn = "slm_adapter_open_memory";
  if (base == nullptr) return NullArg(kFn, "base");
  if (out == nullptr) return NullArg(kFn, "out");
  if (bytes == nullptr && size > 0) return NullArg(kFn, "bytes");
  if (name == nullptr && name_len > 0) return NullArg(kFn, "name");
  const std::string n = name_len > 0 ? std::string(name, name_len) : std::string("adapter");
  return Wrap(kFn, base, slm::LoadAdapterBytes({bytes, size}, n, *base->package), n, out);
}

slm_status slm_adapter_open_peft_memory(const slm_package* base, const uint8_t* config,
                                        size_t config_size, const uint8_t* safetensors,
                                        size_t safetensors_size, const char* name, size_t name_len,
                                        slm_adapter** out) {
  constexpr const char* kFn = "slm_adapter_open_peft_memory";
  if (base == nullptr) return NullArg(kFn, "base");
  if (out == nullptr) return NullArg(kFn, "out");
  if (config == nullptr && config_size > 0) return NullArg(kFn, "config");
  if (safetensors == nullptr && safetensors_size > 0) return NullArg(kFn, "safetensors");
  if (name == nullptr && name_len > 0) return NullArg(kFn, "name");
  const std::string n = name_len > 0 ? std::string(name, name_len) : std::string("peft");
  return Wrap(
      kFn, base,
      slm::LoadPeftBytes({config, config_size}, {safetensors, safetensors_size}, n, *base->package),
      n, out);
}

void slm_adapter_destroy(slm_adapter* a) { delete a; }

slm_status slm_adapter_describe(const slm_adapter* a, char* buf, size_t cap, size_t* len) {
  constexpr const char* kFn = "slm_adapter_describe";
  if (a == nullptr) return NullArg(kFn, "a");
  return slm::api::PutBytes(kFn, slm::AdapterToJson(a->file).Dump(), buf, cap, len);
}

}  // extern "C"

// slm_package_stream_*: the C ABI over slm::PackageStream (verify while
// streaming, package/package_stream.h).
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <string>

#include "api/handles.h"
#include "package/package_stream.h"
#include "slm/slm.h"

using slm::api::Fail;
using slm::api::NullArg;

extern "C" {

slm_status slm_package_stream_begin(const uint8_t* bytes, size_t size, const char* name,
                                    size_t name_len, const slm_open_params* params,
                                    slm_package_stream** out) {
  std::string n;
  const slm_status checked =
      slm::api::CheckMemoryOpen("slm_package_stream_begin", bytes, size, name, name_len, out, &n);
  if (checked != SLM_OK) return checked;
  std::unique_ptr<slm_package_stream> h(new (std::nothrow) slm_package_stream);
  if (!h) return Fail(SLM_RESOURCE_EXHAUSTED, "out of memory creating a package stream");
  h->stream = std::make_unique<slm::PackageStream>(std::span<const uint8_t>(bytes, size),
                                                   std::move(n), slm::api::OpenOptions(params));
  h->bytes = const_cast<uint8_t*>(bytes);
  h->take_ownership = params != nullptr && params->take_ownership != 0;
  *out = h.release();
  return SLM_OK;
}

slm_status slm_package_stream_feed(slm_package_stream* s, size_t bytes_available) {
  if (s == nullptr) return NullArg("slm_package_stream_feed", "s");
  const slm::Status st = s->stream->Feed(bytes_available);
  return st.ok() ? SLM_OK : Fail(st);
}

slm_status slm_package_stream_finish(slm_package_stream* s, slm_package** out) {
  constexpr const char* kFn = "slm_package_stream_finish";
  if (s == nullptr) return NullArg(kFn, "s");
  if (out == nullptr) return NullArg(kFn, "out");
  if (s->finished) {
    return Fail(SLM_INVALID_ARGUMENT, std::string(kFn) + ": the stream already made its package");
  }
  auto p = s->stream->Finish();
  if (!p.ok()) return Fail(p.status());
  slm_package* h = nullptr;
  const slm_status st = slm::api::FinishPackage(std::move(p).value(), &h);
  if (st != SLM_OK) return st;
  if (s->take_ownership) h->owned_bytes = s->bytes;
  s->finished = true;
  *out = h;
  return SLM_OK;
}

void slm_package_stream_destroy(slm_package_stream* s) { delete s; }

}  // extern "C"

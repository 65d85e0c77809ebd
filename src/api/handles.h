// The handles behind the C ABI's opaque types and the helpers every
// src/api/*.cc file uses to report errors (slm.h's error and output rules).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "adapter/adapter_package.h"
#include "adapter/assembly.h"
#include "base/status.h"
#include "package/package.h"
#include "package/package_stream.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "sampler/sampler.h"
#include "slm/slm.h"
#include "tokenizer/tokenizer.h"

struct slm_package {
  std::unique_ptr<slm::Package> package;
  std::unique_ptr<slm::Tokenizer> tokenizer;
  std::unique_ptr<slm::Model> model;
  void* owned_bytes = nullptr;  // from slm_alloc when ownership was taken
  ~slm_package() {
    model.reset();
    tokenizer.reset();
    package.reset();
    slm_free(owned_bytes);
  }
};

struct slm_session {
  const slm_package* pkg = nullptr;
  std::unique_ptr<slm::Session> session;
  std::unique_ptr<slm::Sampler> sampler;
  std::unique_ptr<slm::StreamDecoder> decoder;
  // Generation state (slm_generate_*): mirrors the loop of runtime/generate.cc.
  bool generating = false;
  bool has_pending = false;  // `pending` was emitted but not yet decoded
  int32_t pending = -1;
  int32_t max_new_tokens = 0;
  int32_t decoded = 0;
  bool awaiting_first_token = false;  // diag.time_to_first_token_ms not set yet
  std::string piece;
  slm_diagnostics diag{};
  // The adapters the session computes with (slm_session_set_adapters), in
  // order; the assembly owns copies of what it computes with.
  std::unique_ptr<slm::AdapterAssembly> assembly;
  struct AdapterUse {
    slm::Digest digest{};
    float scale = 1;
    uint64_t bytes = 0;
    std::string package;  // the adapter package (for release packets)
  };
  std::vector<AdapterUse> adapters;
};

// slm_package_stream_*: the verify-while-streaming reader over the caller's
// buffer (package/package_stream.h).
struct slm_package_stream {
  std::unique_ptr<slm::PackageStream> stream;
  uint8_t* bytes = nullptr;  // the buffer (given to the package with take_ownership)
  bool take_ownership = false;
  bool finished = false;  // a package was made (at most one: it may own `bytes`)
};

struct slm_adapter {
  const slm_package* base = nullptr;  // validated against this package
  slm::AdapterFile file;
};

namespace slm::api {

// Records s as the calling thread's last error; returns its code.
slm_status Fail(const slm::Status& s);
slm_status Fail(slm_status code, const std::string& message);
// SLM_INVALID_ARGUMENT "<fn>: <what> is NULL".
slm_status NullArg(const char* fn, const char* what);
// Copies the C params into *c; SLM_INVALID_ARGUMENT for non-zero reserved
// fields (the Sampler checks the values).
slm_status SamplerConfigFrom(const char* fn, const slm_sampler_params* p, slm::SamplerConfig* c);
// Output rule of slm.h: *len is always the full size; copy only if it fits.
slm_status PutBytes(const char* fn, std::string_view s, char* buf, size_t cap, size_t* len);
// The checks slm_package_open_memory and slm_package_stream_begin share:
// out, bytes and name not NULL (unless empty), bytes 64-byte aligned. On
// success *display_name is the name ("<memory>" when none is given).
slm_status CheckMemoryOpen(const char* fn, const uint8_t* bytes, size_t size, const char* name,
                           size_t name_len, const void* out, std::string* display_name);
// slm_open_params (NULL = defaults) as the C++ options.
slm::PackageOpenOptions OpenOptions(const slm_open_params* p);
// Tokenizer + model over an opened package: the handle in *out (set only on
// success).
slm_status FinishPackage(std::unique_ptr<slm::Package> package, slm_package** out);

}  // namespace slm::api

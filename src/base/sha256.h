// SHA-256 (FIPS 180-4). Tested against Python's hashlib on the same inputs.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace slm {

using Digest = std::array<uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  void Update(std::span<const uint8_t> data);
  void Update(std::string_view s) {
    Update(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  }
  Digest Finish();  // the object must not be updated afterwards

 private:
  void Block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

Digest Sha256Of(std::span<const uint8_t> data);
Digest Sha256Of(std::string_view s);
std::string DigestHex(const Digest& d);              // 64 lowercase hex chars
bool ParseDigestHex(std::string_view hex, Digest* d);

}  // namespace slm

// Verify-while-streaming: opening a package whose bytes arrive in order into
// one buffer (the browser streams a download or a file into wasm memory).
// Package::FromMemory with verify_digests hashes every tensor after the last
// byte arrived: one more pass over the whole file (~0.7 s for 117 MB in
// wasm). PackageStream hashes each range while it arrives instead, so after
// the last byte only the parse is left.
//
//   PackageStream ps(buffer /* final size */, "model.slm");
//   for each chunk: copy it to buffer[got..]; got += n; ps.Feed(got);
//   StatusOr<std::unique_ptr<Package>> p = ps.Finish();
//
// What it hashes: once the 64-byte header is in, it is checked (a bad magic
// or version fails right there, with FromMemory's error, so a caller can stop
// reading); once the section directory is in, every section but the tensor
// data becomes a range to hash; once the tensor table is in, every tensor
// does. A range is hashed as far as the bytes have arrived, its SHA-256 state
// kept between Feed calls (bytes arrive in order, so for a well-formed file
// at most one range is partly hashed at a time). The directory and the table
// are read loosely here (just offsets and sizes, all bounds-checked);
// anything odd only means fewer ranges are known.
//
// Finish runs Package::FromMemory with the finished digests as its
// known_digests: the same checks in the same order, a
// digest looked up instead of recomputed only for exactly the same byte
// range, so the result and every error are those of FromMemory on the same
// bytes (a flipped byte is still refused naming the tensor). Cost per Feed:
// the new bytes hashed plus O(ranges inside the new bytes).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "base/status.h"
#include "package/package.h"

namespace slm {

class PackageStream {
 public:
  // `bytes` is the whole buffer at its final size; nothing is read yet. It
  // must outlive the stream (and the Package, as for FromMemory). Bytes that
  // were fed must not change afterwards.
  PackageStream(std::span<const uint8_t> bytes, std::string name, PackageOpenOptions o = {});

  // The first `available` bytes have arrived. InvalidArgument if it is
  // smaller than the last call's or above the buffer size (nothing changes);
  // once the header has arrived and is refused, that error (as FromMemory
  // gives it) from this and every later call.
  Status Feed(uint64_t available);
  // After the last byte: FromMemory(bytes, name, o) using the digests hashed
  // so far. IoError naming both counts if fewer bytes arrived than the
  // buffer holds (a body that ended early), unless the header was refused.
  StatusOr<std::unique_ptr<Package>> Finish() const;

  uint64_t available() const { return available_; }
  // Bytes hashed so far (a range's bytes count once per range) and ranges
  // whose digest is complete; for tests and progress.
  uint64_t hashed_bytes() const { return hashed_; }
  size_t finished_ranges() const;
  size_t ranges() const { return ranges_.size(); }

 private:
  struct Range {
    uint64_t offset = 0, size = 0, done = 0;
    bool finished = false;
    Sha256 sha;
    Digest digest{};
  };
  // Reads the header, directory and tensor table as soon as each is in.
  void Parse();
  void ParseDirectory();
  void ParseTensorTable();
  void AddRanges(std::vector<std::pair<uint64_t, uint64_t>> ranges);
  void HashArrived();

  std::span<const uint8_t> bytes_;
  std::string name_;
  PackageOpenOptions opts_;
  uint64_t available_ = 0, hashed_ = 0;
  Status status_;  // a refused header
  enum class Stage { kHeader, kDirectory, kTable, kDone } stage_ = Stage::kHeader;
  uint32_t section_count_ = 0;
  uint64_t table_offset_ = 0, table_size_ = 0;
  std::vector<Range> ranges_;  // sorted by (offset, size)
  size_t first_open_ = 0;      // ranges_[0, first_open_) are finished
};

}  // namespace slm

// Release packet check (src/eval/release.h CheckPacket, step 1 of
// `slm release verify`). The input describes a packet: parts separated by
// "\n%%slm%%\n" are manifest.json, manifest.sha256, evidence.json,
// cases.jsonl and REPORT.md (absent parts are absent files).
#include <string>
#include <vector>

#include "eval/release.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* kNames[] = {"manifest.json", "manifest.sha256", "evidence.json",
                                 "cases.jsonl", "REPORT.md"};
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto parts = slm::fuzz::SplitParts(in, 5);
  std::vector<std::string> listing;
  for (size_t i = 0; i < parts.size(); ++i) listing.push_back(kNames[i]);
  slm::eval::PacketReader read = [&](const std::string& path) -> slm::StatusOr<std::string> {
    for (size_t i = 0; i < parts.size(); ++i) {
      if (path == kNames[i]) return std::string(parts[i]);
    }
    return slm::NotFound(path + ": not in the packet");
  };
  slm::eval::PacketCheck c = slm::eval::CheckPacket(read, listing);
  if (c.problems.empty() && std::getenv("SLM_FUZZ_VERBOSE")) std::fprintf(stderr, "  packet: ok\n");
  return 0;
}

// Release packets (docs/eval.md, "Release packets"): a directory that carries
// an evaluation's evidence with everything needed to re-check it.
//
//   manifest.json     {"schema_version": 1, "kind": "slm-release-packet",
//                      "base": {package_digest, package_bytes, file_sha256, included},
//                      "adapters": [], "assembly_checksum", "cases_digest",
//                      "fitness": {...summary...},
//                      "files": [{"path", "bytes", "sha256"}, ...]}   (sorted by path)
//   manifest.sha256   "<SHA-256 of manifest.json>  manifest.json\n" (sha256sum -c
//                     format): the packet digest; any changed byte in any file
//                     changes a listed digest or this one
//   evidence.json     the evidence, byte for byte as `slm eval` wrote it
//   cases.jsonl       the cases file, byte for byte
//   adapter-N.slm     the evidence's adapters in order (N = 0, 1, ...), as
//                     adapter packages; the manifest's "adapters" entries name
//                     them ("file") with their digest and scale
//   REPORT.md         human-readable fitness table and per-case results
//   base.slm          only with include_base: the evaluated package
//
// The functions work on bytes (no file system), so the browser can build and
// verify packets too; tools/cli does the directory I/O.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "eval/evidence.h"
#include "eval/runner.h"
#include "package/package.h"

namespace slm::eval {

inline constexpr int kPacketSchemaVersion = 1;
inline constexpr char kManifestName[] = "manifest.json";
inline constexpr char kManifestDigestName[] = "manifest.sha256";
inline constexpr char kBaseName[] = "base.slm";

struct PacketFile {
  std::string path;
  std::string bytes;
};

// Checks the evidence is complete, unsharded, made from these cases, this
// package and these adapters (adapter package bytes, in the evidence's order:
// each content digest must match); returns every file except base.slm (whose
// bytes the caller copies when include_base; its digest and size are listed
// in the manifest).
StatusOr<std::vector<PacketFile>> BuildPacket(const std::string& evidence_text,
                                              const std::string& cases_text, const Package& base,
                                              bool include_base,
                                              const std::vector<std::string>& adapters = {});

// The human-readable summary written as REPORT.md.
std::string RenderReport(const Evidence& e);

// Reads a packet file by its path inside the packet; NotFound if absent.
using PacketReader = std::function<StatusOr<std::string>(const std::string& path)>;

struct PacketCheck {
  std::vector<std::string> problems;  // empty = every digest matches
  std::string packet_digest;          // SHA-256 of manifest.json (hex)
  bool base_included = false;
  std::string base_digest;  // package digest named by the manifest
  Evidence evidence;        // valid when problems is empty
  std::string cases_text;
  std::vector<std::string> adapters;  // adapter package bytes, in the evidence's order
};

// Step 1 of verify: manifest digest, every listed file's size and SHA-256,
// and files present but not listed (`listing`: every path in the packet).
PacketCheck CheckPacket(const PacketReader& read, const std::vector<std::string>& listing);

// Step 2: re-run the recorded cases on `base` plus the packet's adapters (at
// the recorded scales) with the recorded sampling and compare every output,
// token id and log-likelihood bit for bit. Returns the differences (empty =
// identical), each naming the case and the field. n_threads: forward-pass
// threads (0 = default); the results never depend on it.
StatusOr<std::vector<std::string>> ReplayEvidence(
    const Evidence& recorded, const std::string& cases_text, const Package& base,
    const std::vector<std::string>& adapters, int32_t n_threads,
    const std::function<void(const EvalProgress&)>& progress,
    const std::function<bool()>& should_stop);

// The differences between two evidence documents' deterministic parts,
// case by case (used by ReplayEvidence; also handy in tests).
std::vector<std::string> DiffEvidence(const Evidence& recorded, const Evidence& fresh);

}  // namespace slm::eval

// slm eval / eval-compare / release build|verify / evidence merge: the
// candidate-evaluation loop (docs/eval.md). The work is in src/eval so the
// browser can run it too; this file parses flags, reads and writes files and
// draws progress.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "adapter/adapter_package.h"
#include "adapter/load.h"
#include "base/file.h"
#include "base/sha256.h"
#include "commands.h"
#include "eval/archive.h"
#include "eval/compare.h"
#include "eval/evidence.h"
#include "eval/release.h"
#include "eval/runner.h"
#include "package/package.h"
#include "sampling_flags.h"

namespace slm::cli {

const CommandSpec kEvalSpec = {
    "eval",
    "PKG --cases CASES.jsonl -o EVIDENCE.json [--adapter A[:S]]... [sampling flags] "
    "[--shard I/N]",
    "Run eval cases against a package: generate, match, and score the teacher-forced\n"
    "log-likelihood of each expected continuation; write evidence with the fitness vector.\n"
    "Greedy by default. Ctrl-C writes the cases finished so far (complete: false).",
    1,
    1,
    WithSamplingFlags(
        {{"--cases", "FILE", "cases file, one JSON object per line (docs/eval.md)"},
         {"-o", "FILE",
          "evidence output (JSON); the seed must be < 2^53, every case starts from it"},
         {"--kv-budget", "MiB", "KV cache arena; cases sharing a prompt prefix reuse its pages"},
         {"--shard", "I/N", "run only cases with index % N == I (merge with slm evidence merge)"},
         {"--ctx", "N", "context length in tokens (default: the model's)"},
         {"--threads", "N",
          "forward-pass threads (default: the runtime's; results never depend on it)"},
         {"--adapter", "PATH[:S]",
          "apply an adapter with scale S (default 1); repeatable, stacks in order; recorded\n"
          "                        in the evidence identity with the assembly checksum"},
         {"--quiet", nullptr, "no progress on stderr"}})};

const CommandSpec kEvalCompareSpec = {
    "eval-compare",
    "E1.json E2.json ... [--svg OUT.svg]",
    "Compare evidence files: fitness vectors side by side with differences to the first,\n"
    "and the cases whose pass/fail flipped.",
    1,
    64,
    {{"--svg", "FILE", "also write a chart (pass rate per tag, mean log-likelihood)"}}};

const CommandSpec kReleaseSpec = {
    "release",
    "build --evidence E.json --model PKG -o PACKET [--cases CASES.jsonl] [--include-base] | verify "
    "PACKET [--model PKG]",
    "build: write a release packet directory or .tar archive (manifest with every SHA-256, "
    "evidence, cases,\n"
    "REPORT.md, optionally the base). verify: check every digest, then re-run the cases and\n"
    "check outputs, token ids and log-likelihoods are bit-identical to the evidence.",
    1,
    2,
    {{"--evidence", "FILE", "build: the evidence to release (must be complete)"},
     {"--model", "PKG", "build: the evaluated package; verify: the base to replay with"},
     {"--cases", "FILE", "build: the cases file the evidence was made from (digest checked)"},
     {"-o", "DIR|FILE.tar",
      "build: packet directory to create (must not exist), or one ustar archive"},
     {"--include-base", nullptr, "build: copy the base package into the packet"},
     {"--adapter", "A[:S]", "release packets with adapters are not supported yet"},
     {"--threads", "N", "verify: forward-pass threads for the replay"},
     {"--quiet", nullptr, "verify: no progress on stderr"}}};

const CommandSpec kEvidenceSpec = {
    "evidence",
    "merge SHARD1.json SHARD2.json ... -o MERGED.json",
    "merge: combine the evidence of all shards of one evaluation (slm eval --shard I/N)\n"
    "into the evidence a single run writes.",
    2,
    1025,
    {{"-o", "FILE", "merged evidence output"}}};

namespace {

volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void OnSigint(int) { g_interrupted = 1; }

// The --adapter list of `release build` as adapter package bytes, in order
// (imported PEFT / LoRA GGUF adapters are written as .slm adapter packages,
// whose digest is the one `slm eval --adapter` recorded).
StatusOr<std::vector<std::string>> PacketAdapters(const Args& a, const Package& base) {
  std::vector<std::string> out;
  for (const std::string& v : a.GetAll("--adapter")) {
    SLM_ASSIGN_OR_RETURN(AdapterSpec spec, ParseAdapterSpec(v));
    SLM_ASSIGN_OR_RETURN(LoadedAdapter l, LoadAdapter(spec.path, base));
    SLM_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, SerializeAdapter(l.adapter));
    out.emplace_back(bytes.begin(), bytes.end());
  }
  return out;
}

StatusOr<std::pair<int32_t, int32_t>> ParseShard(const std::string& s) {
  size_t slash = s.find('/');
  auto bad = [&] {
    return InvalidArgument("--shard '" + s + "': expected I/N with 0 <= I < N <= 100000");
  };
  if (slash == std::string::npos || slash == 0 || slash + 1 >= s.size()) return bad();
  int64_t i = 0, n = 0;
  for (size_t k = 0; k < s.size(); ++k) {
    if (k == slash) continue;
    if (s[k] < '0' || s[k] > '9' || (k < slash ? i : n) > 100000) return bad();
    (k < slash ? i : n) = (k < slash ? i : n) * 10 + (s[k] - '0');
  }
  if (n < 1 || n > 100000 || i >= n) return bad();
  return std::pair<int32_t, int32_t>{static_cast<int32_t>(i), static_cast<int32_t>(n)};
}

// "[=====>     ] 5/12 cases  3.2s  ETA 4.1s  1234 tok/s" redrawn in place on a
// terminal; otherwise one line after the first case, per 10% and at the end
// (logs stay short).
class ProgressBar {
 public:
  explicit ProgressBar(bool quiet) : quiet_(quiet), tty_(isatty(2)) {}
  void Update(const eval::EvalProgress& p) {
    if (quiet_ || p.total == 0) return;
    int decile = static_cast<int>(p.done * 10 / p.total);
    if (!tty_ && decile == last_decile_ && p.done != 1 && p.done != p.total) return;
    last_decile_ = decile;
    const int width = 24;
    int filled = static_cast<int>(p.done * width / p.total);
    std::string bar(static_cast<size_t>(filled), '=');
    if (filled < width) bar += '>';
    bar.resize(width, ' ');
    double eta = p.done > 0 ? p.elapsed_seconds / static_cast<double>(p.done) *
                                  static_cast<double>(p.total - p.done)
                            : 0;
    double tps = p.elapsed_seconds > 0 ? static_cast<double>(p.tokens) / p.elapsed_seconds : 0;
    std::fprintf(stderr, "%s[%s] %lld/%lld cases  %.1fs  ETA %.1fs  %.0f tok/s%s", tty_ ? "\r" : "",
                 bar.c_str(), static_cast<long long>(p.done), static_cast<long long>(p.total),
                 p.elapsed_seconds, eta, tps, tty_ ? "" : "\n");
    if (tty_ && p.done == p.total) std::fputc('\n', stderr);
  }

 private:
  bool quiet_, tty_;
  int last_decile_ = -1;
};

Status WriteText(const std::string& path, const std::string& text) {
  return WriteFileAtomic(
      path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

StatusOr<eval::Evidence> ReadEvidence(const std::string& path) {
  SLM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return eval::ParseEvidence(text, path);
}

void PrintFitness(const eval::Evidence& e) {
  const eval::Fitness& f = e.fitness;
  std::printf(
      "passed %lld/%lld  weighted pass rate %.4f  mean score %.4f  mean loglik %.4f nats/token  "
      "perplexity %.3f\n",
      static_cast<long long>(f.passed), static_cast<long long>(f.cases), f.weighted_pass_rate,
      f.mean_score, f.mean_loglik, f.perplexity);
}

}  // namespace

Status RunEval(const Args& a) {
  if (!a.Has("--cases")) return InvalidArgument("slm eval needs --cases CASES.jsonl");
  if (!a.Has("-o")) return InvalidArgument("slm eval needs -o EVIDENCE.json");
  eval::EvalRequest req;
  SLM_ASSIGN_OR_RETURN(req.sampling, ParseSamplingFlags(a, (uint64_t{1} << 53) - 1));
  SLM_ASSIGN_OR_RETURN(int64_t ctx, a.GetInt("--ctx", 0));
  if (ctx < 0 || ctx > INT32_MAX)
    return InvalidArgument("--ctx " + std::to_string(ctx) + ": expected >= 0");
  req.n_ctx = static_cast<int32_t>(ctx);
  SLM_ASSIGN_OR_RETURN(int64_t budget, a.GetInt("--kv-budget", 0));
  if (budget < 0 || budget > (int64_t{1} << 30)) {
    return InvalidArgument("--kv-budget " + std::to_string(budget) + ": expected 0..2^30 MiB");
  }
  req.kv_budget_mib = static_cast<int32_t>(budget);
  SLM_ASSIGN_OR_RETURN(int64_t threads, a.GetInt("--threads", 0));
  if (threads < 0 || threads > 1024) {
    return InvalidArgument("--threads " + std::to_string(threads) + ": expected 0..1024");
  }
  req.n_threads = static_cast<int32_t>(threads);
  for (const std::string& v : a.GetAll("--adapter")) {
    SLM_ASSIGN_OR_RETURN(AdapterSpec spec, ParseAdapterSpec(v));
    req.adapters.push_back({spec.path, spec.scale});
  }
  if (a.Has("--shard")) {
    SLM_ASSIGN_OR_RETURN(auto shard, ParseShard(a.Get("--shard")));
    req.shard_index = shard.first;
    req.shard_count = shard.second;
  }
  const std::string cases_path = a.Get("--cases");
  SLM_ASSIGN_OR_RETURN(std::string cases_text, ReadFileToString(cases_path));
  req.cases_text = cases_text;
  req.cases_source = cases_path;
  SLM_ASSIGN_OR_RETURN(auto pkg, Package::Open(a.positional()[0]));

  ProgressBar bar(a.Has("--quiet"));
  g_interrupted = 0;
  auto old = std::signal(SIGINT, OnSigint);
  auto ev = eval::EvaluatePackage(
      *pkg, req, [&](const eval::EvalProgress& p) { bar.Update(p); },
      [] { return g_interrupted != 0; });
  std::signal(SIGINT, old);
  if (!ev.ok()) return ev.status();
  const std::string out = a.Get("-o");
  SLM_RETURN_IF_ERROR(WriteText(out, eval::SerializeEvidence(*ev)));
  if (!ev->complete) {
    return IoError("interrupted (SIGINT): wrote partial evidence (" +
                   std::to_string(ev->cases.size()) + " cases, complete: false) to " + out);
  }
  PrintFitness(*ev);
  std::printf("evidence: %s\n", out.c_str());
  return Status::Ok();
}

Status RunEvalCompare(const Args& a) {
  std::vector<eval::NamedEvidence> all;
  for (const std::string& path : a.positional()) {
    SLM_ASSIGN_OR_RETURN(eval::Evidence e, ReadEvidence(path));
    all.push_back({std::filesystem::path(path).filename().string(), std::move(e)});
  }
  std::fputs(eval::CompareTable(all).c_str(), stdout);
  if (a.Has("--svg")) {
    SLM_RETURN_IF_ERROR(WriteText(a.Get("--svg"), eval::CompareSvg(all)));
    std::printf("chart: %s\n", a.Get("--svg").c_str());
  }
  return Status::Ok();
}

namespace {

// `-o NAME.tar` writes the packet as one archive instead of a directory.
bool IsArchiveName(const std::string& path) {
  return path.size() > 4 && path.compare(path.size() - 4, 4, ".tar") == 0;
}

struct FreeDeleter {
  void operator()(uint8_t* p) const { std::free(p); }
};
using AlignedBytes = std::unique_ptr<uint8_t, FreeDeleter>;
// Packages are read in place and want 64-byte aligned bytes.
AlignedBytes AlignedCopy(const std::string& s) {
  const size_t n = (s.size() + 63) / 64 * 64;
  AlignedBytes p(static_cast<uint8_t*>(std::aligned_alloc(64, n == 0 ? 64 : n)));
  if (p && !s.empty()) std::memcpy(p.get(), s.data(), s.size());
  return p;
}

Status ReleaseBuild(const Args& a) {
  for (const char* f : {"--evidence", "--model", "--cases", "-o"}) {
    if (!a.Has(f)) return InvalidArgument(std::string("slm release build needs ") + f);
  }
  const std::string dir = a.Get("-o");
  std::error_code ec;
  if (std::filesystem::exists(dir, ec))
    return InvalidArgument("-o " + dir + ": already exists (a packet is written once)");
  SLM_ASSIGN_OR_RETURN(std::string evidence, ReadFileToString(a.Get("--evidence")));
  SLM_ASSIGN_OR_RETURN(std::string cases, ReadFileToString(a.Get("--cases")));
  SLM_ASSIGN_OR_RETURN(auto pkg, Package::Open(a.Get("--model")));
  const bool include_base = a.Has("--include-base");
  SLM_ASSIGN_OR_RETURN(std::vector<std::string> adapters, PacketAdapters(a, *pkg));
  SLM_ASSIGN_OR_RETURN(auto files,
                       eval::BuildPacket(evidence, cases, *pkg, include_base, adapters));
  if (IsArchiveName(dir)) {  // one ustar file (src/eval/archive.h)
    std::vector<eval::ArchiveMember> members;
    for (eval::PacketFile& f : files) members.push_back({f.path, std::move(f.bytes)});
    if (include_base) {
      auto b = pkg->bytes();
      members.push_back({eval::kBaseName, std::string(b.begin(), b.end())});
    }
    std::string manifest_digest;
    for (const eval::ArchiveMember& m : members) {
      if (m.name == eval::kManifestName) manifest_digest = DigestHex(Sha256Of(m.bytes));
    }
    SLM_ASSIGN_OR_RETURN(std::string archive, eval::WriteArchive(members));
    SLM_RETURN_IF_ERROR(WriteText(dir, archive));
    std::printf(
        "packet %s: %zu files%s in one archive\npacket digest (SHA-256 of manifest.json) %s\n",
        dir.c_str(), members.size(), include_base ? " (base included)" : "",
        manifest_digest.c_str());
    return Status::Ok();
  }
  if (!std::filesystem::create_directories(dir, ec))
    return IoError(dir + ": cannot create directory: " + ec.message());
  for (const eval::PacketFile& f : files)
    SLM_RETURN_IF_ERROR(WriteText(dir + "/" + f.path, f.bytes));
  if (include_base) {
    auto b = pkg->bytes();
    SLM_RETURN_IF_ERROR(WriteFileAtomic(dir + "/" + eval::kBaseName, b));
  }
  SLM_ASSIGN_OR_RETURN(std::string digest_line,
                       ReadFileToString(dir + "/" + eval::kManifestDigestName));
  std::printf("packet %s: %zu files%s\npacket digest (SHA-256 of manifest.json) %s\n", dir.c_str(),
              files.size() + (include_base ? 1 : 0), include_base ? " (base included)" : "",
              digest_line.substr(0, 64).c_str());
  return Status::Ok();
}

Status ReleaseVerify(const Args& a) {
  if (a.positional().size() != 2)
    return InvalidArgument("usage: slm release verify PACKET [--model PKG]");
  const std::string dir = a.positional()[1];
  std::vector<std::string> listing;
  std::vector<eval::ArchiveMember> members;  // when the packet is one archive file
  const bool archive = FileExists(dir) && !IsDirectory(dir);
  if (archive) {
    SLM_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(dir));
    auto m = eval::ReadArchive({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
    if (!m.ok()) return m.status().WithContext(dir);
    members = std::move(m).value();
    for (const eval::ArchiveMember& f : members) listing.push_back(f.name);
  } else {
    if (!IsDirectory(dir)) return NotFound(dir + ": not a packet directory or archive");
    std::error_code ec;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
      if (entry.is_regular_file())
        listing.push_back(std::filesystem::relative(entry.path(), dir).generic_string());
    }
    if (ec) return IoError(dir + ": cannot list: " + ec.message());
  }
  auto read = [&](const std::string& path) -> StatusOr<std::string> {
    if (archive) {
      for (const eval::ArchiveMember& f : members) {
        if (f.name == path) return f.bytes;
      }
      return NotFound("missing from the packet");
    }
    if (!FileExists(dir + "/" + path)) return NotFound("missing from the packet");
    return ReadFileToString(dir + "/" + path);
  };
  eval::PacketCheck check = eval::CheckPacket(read, listing);
  auto fail = [](const std::vector<std::string>& problems, const std::string& what) {
    for (const std::string& p : problems) std::printf("DIFFERS  %s\n", p.c_str());
    return IntegrityError(what + ": " + std::to_string(problems.size()) +
                          " difference(s), first: " + problems[0]);
  };
  if (!check.problems.empty()) return fail(check.problems, "packet integrity");
  std::printf("packet %s: digest %s, every file matches the manifest\n", dir.c_str(),
              check.packet_digest.c_str());
  std::string base_path = a.Get("--model");
  std::unique_ptr<Package> pkg;
  AlignedBytes inner;  // base.slm from inside an archive, 64-byte aligned
  if (base_path.empty()) {
    if (!check.base_included)
      return InvalidArgument("the packet does not include the base: give --model PKG");
    base_path = dir + "/" + eval::kBaseName;
    if (archive) {
      SLM_ASSIGN_OR_RETURN(std::string b, read(eval::kBaseName));
      inner = AlignedCopy(b);
      if (!inner) return ResourceExhausted("no memory for a copy of the packet's base.slm");
      SLM_ASSIGN_OR_RETURN(pkg, Package::FromMemory({inner.get(), b.size()}, base_path));
    }
  }
  if (pkg == nullptr) {
    SLM_ASSIGN_OR_RETURN(pkg, Package::Open(base_path));
  }
  SLM_ASSIGN_OR_RETURN(int64_t threads, a.GetInt("--threads", 0));
  if (threads < 0 || threads > 1024) {
    return InvalidArgument("--threads " + std::to_string(threads) + ": expected 0..1024");
  }
  ProgressBar bar(a.Has("--quiet"));
  g_interrupted = 0;
  auto old = std::signal(SIGINT, OnSigint);
  auto diffs = eval::ReplayEvidence(
      check.evidence, check.cases_text, *pkg, check.adapters, static_cast<int32_t>(threads),
      [&](const eval::EvalProgress& p) { bar.Update(p); }, [] { return g_interrupted != 0; });
  std::signal(SIGINT, old);
  if (!diffs.ok()) return diffs.status();
  if (!diffs->empty()) return fail(*diffs, "replay");
  std::printf(
      "replayed %zu cases on %s: every output, token id and log-likelihood is bit-identical\n",
      check.evidence.cases.size(), pkg->digest_hex().c_str());
  return Status::Ok();
}

}  // namespace

Status RunRelease(const Args& a) {
  const std::string& sub = a.positional()[0];
  if (sub == "build") {
    if (a.positional().size() != 1)
      return InvalidArgument(
          "usage: slm release build --evidence E.json --model PKG --cases C.jsonl -o PACKET");
    return ReleaseBuild(a);
  }
  if (sub == "verify") return ReleaseVerify(a);
  return InvalidArgument("slm release: expected 'build' or 'verify', found '" + sub + "'");
}

Status RunEvidence(const Args& a) {
  const std::string& sub = a.positional()[0];
  if (sub != "merge") return InvalidArgument("slm evidence: expected 'merge', found '" + sub + "'");
  if (!a.Has("-o")) return InvalidArgument("slm evidence merge needs -o MERGED.json");
  std::vector<eval::Evidence> shards;
  for (size_t i = 1; i < a.positional().size(); ++i) {
    SLM_ASSIGN_OR_RETURN(eval::Evidence e, ReadEvidence(a.positional()[i]));
    shards.push_back(std::move(e));
  }
  SLM_ASSIGN_OR_RETURN(eval::Evidence merged, eval::MergeEvidence(std::move(shards)));
  SLM_RETURN_IF_ERROR(WriteText(a.Get("-o"), eval::SerializeEvidence(merged)));
  PrintFitness(merged);
  std::printf("merged evidence: %s\n", a.Get("-o").c_str());
  return Status::Ok();
}

}  // namespace slm::cli

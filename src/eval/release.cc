#include "eval/release.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>

#include "adapter/adapter_package.h"
#include "base/json.h"
#include "base/sha256.h"

namespace slm::eval {
namespace {

std::string Hex(const std::string& bytes) { return DigestHex(Sha256Of(bytes)); }

JsonValue FileEntry(const std::string& path, uint64_t bytes, const std::string& sha) {
  JsonValue f = JsonValue::Object();
  f.Set("path", JsonValue::String(path));
  f.Set("bytes", JsonValue::Number(static_cast<double>(bytes)));
  f.Set("sha256", JsonValue::String(sha));
  return f;
}

// "%.17g (0x...)" so a one-ulp difference is visible.
std::string Exact(double d) {
  uint64_t bits = 0;
  std::memcpy(&bits, &d, sizeof bits);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g (bits %016llx)", d, static_cast<unsigned long long>(bits));
  return buf;
}

template <typename T>
void DiffIds(const std::string& what, const std::vector<T>& a, const std::vector<T>& b,
             std::vector<std::string>* out) {
  if (a == b) return;
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  std::string ra =
      i < a.size() ? std::to_string(a[i]) : "end (" + std::to_string(a.size()) + " ids)";
  std::string rb =
      i < b.size() ? std::to_string(b[i]) : "end (" + std::to_string(b.size()) + " ids)";
  out->push_back(what + " differ at position " + std::to_string(i) + ": recorded " + ra +
                 ", replay " + rb);
}

// A packet never points outside itself: "a/b.txt" yes; "/etc/x", "../x",
// "a/../../x", "a\\b" and "" no.
bool SafeRelativePath(const std::string& p) {
  if (p.empty() || p[0] == '/' || p.find('\\') != std::string::npos) return false;
  size_t start = 0;
  while (start <= p.size()) {
    size_t slash = p.find('/', start);
    std::string seg =
        p.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return true;
}

}  // namespace

StatusOr<std::vector<PacketFile>> BuildPacket(const std::string& evidence_text,
                                              const std::string& cases_text, const Package& base,
                                              bool include_base,
                                              const std::vector<std::string>& adapters) {
  SLM_ASSIGN_OR_RETURN(Evidence e, ParseEvidence(evidence_text, "evidence"));
  if (!e.complete)
    return InvalidArgument("evidence is partial (complete: false): re-run slm eval to the end");
  if (e.identity.shard_count > 1) {
    return InvalidArgument("evidence is shard " + std::to_string(e.identity.shard_index) + "/" +
                           std::to_string(e.identity.shard_count) +
                           ": merge the shards first (slm evidence merge)");
  }
  const std::string cases_digest = Hex(cases_text);
  if (cases_digest != e.identity.cases_digest) {
    return InvalidArgument("cases file digest " + cases_digest +
                           " differs from the evidence's cases_digest " + e.identity.cases_digest +
                           " (give the cases file the evidence was made from)");
  }
  if (base.digest_hex() != e.identity.package_digest) {
    return InvalidArgument("package digest " + base.digest_hex() +
                           " differs from the evidence's package_digest " +
                           e.identity.package_digest + " (give the package that was evaluated)");
  }
  if (adapters.size() != e.identity.adapters.size()) {
    return InvalidArgument("the evidence names " + std::to_string(e.identity.adapters.size()) +
                           " adapter(s), " + std::to_string(adapters.size()) +
                           " given (give the same --adapter list as slm eval had)");
  }
  std::vector<PacketFile> files = {{"REPORT.md", RenderReport(e)},
                                   {"cases.jsonl", cases_text},
                                   {"evidence.json", evidence_text}};
  JsonValue adapter_list = JsonValue::Array();
  for (size_t i = 0; i < adapters.size(); ++i) {
    const AdapterRef& want = e.identity.adapters[i];
    SLM_ASSIGN_OR_RETURN(AdapterFile f,
                         ParseAdapterPackage({reinterpret_cast<const uint8_t*>(adapters[i].data()),
                                              adapters[i].size()},
                                             "adapter " + std::to_string(i)));
    if (DigestHex(f.digest) != want.digest) {
      return InvalidArgument("adapter " + std::to_string(i) + " has digest " + DigestHex(f.digest) +
                             ", the evidence's adapter " + std::to_string(i) + " is " +
                             want.digest);
    }
    const std::string name = "adapter-" + std::to_string(i) + ".slm";
    files.push_back({name, adapters[i]});
    JsonValue x = JsonValue::Object();
    x.Set("digest", JsonValue::String(want.digest));
    x.Set("scale", JsonValue::Number(want.scale));
    x.Set("bytes", JsonValue::Number(static_cast<double>(adapters[i].size())));
    x.Set("file", JsonValue::String(name));
    adapter_list.Append(std::move(x));
  }
  JsonValue list = JsonValue::Array();
  const std::string base_sha = DigestHex(Sha256Of(base.bytes()));
  std::vector<JsonValue> entries;
  for (const PacketFile& f : files)
    entries.push_back(FileEntry(f.path, f.bytes.size(), Hex(f.bytes)));
  if (include_base) entries.push_back(FileEntry(kBaseName, base.bytes().size(), base_sha));
  std::sort(entries.begin(), entries.end(), [](const JsonValue& a, const JsonValue& b) {
    return a.Find("path")->as_string() < b.Find("path")->as_string();
  });
  for (JsonValue& x : entries) list.Append(std::move(x));

  JsonValue m = JsonValue::Object();
  m.Set("schema_version", JsonValue::Number(kPacketSchemaVersion));
  m.Set("kind", JsonValue::String("slm-release-packet"));
  JsonValue b = JsonValue::Object();
  b.Set("package_digest", JsonValue::String(e.identity.package_digest));
  b.Set("package_bytes", JsonValue::Number(static_cast<double>(base.bytes().size())));
  b.Set("file_sha256", JsonValue::String(base_sha));
  b.Set("included", JsonValue::Bool(include_base));
  m.Set("base", std::move(b));
  m.Set("adapters", std::move(adapter_list));
  m.Set("assembly_checksum", JsonValue::String(e.identity.assembly_checksum));
  m.Set("cases_digest", JsonValue::String(e.identity.cases_digest));
  JsonValue fit = JsonValue::Object();
  fit.Set("cases", JsonValue::Number(static_cast<double>(e.fitness.cases)));
  fit.Set("passed", JsonValue::Number(static_cast<double>(e.fitness.passed)));
  fit.Set("weighted_pass_rate", JsonValue::Number(e.fitness.weighted_pass_rate));
  fit.Set("mean_loglik", JsonValue::Number(e.fitness.mean_loglik));
  fit.Set("perplexity", JsonValue::Number(e.fitness.perplexity));
  m.Set("fitness", std::move(fit));
  m.Set("files", std::move(list));
  std::string manifest = m.DumpPretty() + "\n";
  files.push_back({kManifestDigestName, Hex(manifest) + "  " + kManifestName + "\n"});
  files.push_back({kManifestName, std::move(manifest)});
  return files;
}

PacketCheck CheckPacket(const PacketReader& read, const std::vector<std::string>& listing) {
  PacketCheck c;
  auto problem = [&](std::string s) { c.problems.push_back(std::move(s)); };
  auto manifest = read(kManifestName);
  auto digest_line = read(kManifestDigestName);
  if (!manifest.ok())
    return problem(std::string(kManifestName) + ": " + manifest.status().message()), c;
  if (!digest_line.ok())
    return problem(std::string(kManifestDigestName) + ": " + digest_line.status().message()), c;
  c.packet_digest = Hex(*manifest);
  const std::string want_line = c.packet_digest + "  " + kManifestName + "\n";
  if (*digest_line != want_line) {
    std::string recorded = digest_line->substr(0, std::min<size_t>(64, digest_line->size()));
    problem(std::string(kManifestName) + ": SHA-256 is " + c.packet_digest + ", " +
            kManifestDigestName + " records " + recorded +
            (digest_line->size() != want_line.size() ? " (malformed line)" : ""));
  }
  auto m = ParseJson(*manifest, kManifestName);
  if (!m.ok()) return problem(m.status().message()), c;
  const JsonValue* files = m->Find("files");
  const JsonValue* base = m->Find("base");
  if (files == nullptr || !files->is_array() || base == nullptr || !base->is_object()) {
    return problem(std::string(kManifestName) + ": expected 'files' (array) and 'base' (object)"),
           c;
  }
  if (auto d = base->GetString("package_digest"); d.ok()) c.base_digest = *d;
  if (auto inc = base->GetBool("included"); inc.ok()) c.base_included = *inc;
  std::set<std::string> listed = {kManifestName, kManifestDigestName};
  for (const JsonValue& f : files->items()) {
    auto path = f.GetString("path");
    auto sha = f.GetString("sha256");
    auto bytes = f.GetInt("bytes");
    if (!path.ok() || !sha.ok() || !bytes.ok()) {
      problem(std::string(kManifestName) + ": a files entry lacks path, bytes or sha256");
      continue;
    }
    if (!SafeRelativePath(*path)) {
      problem(std::string(kManifestName) + ": file path '" + *path +
              "' is not a plain relative path inside the packet (no '..', no leading '/')");
      continue;
    }
    listed.insert(*path);
    auto data = read(*path);
    if (!data.ok()) {
      problem(*path + ": listed in the manifest but " + data.status().message());
      continue;
    }
    const std::string got = Hex(*data);
    if (static_cast<int64_t>(data->size()) != *bytes) {
      problem(*path + ": " + std::to_string(data->size()) + " bytes, the manifest records " +
              std::to_string(*bytes));
    }
    if (got != *sha) problem(*path + ": SHA-256 is " + got + ", the manifest records " + *sha);
    if (*path == "evidence.json") {
      auto ev = ParseEvidence(*data, "evidence.json");
      if (ev.ok())
        c.evidence = std::move(ev).value();
      else
        problem(ev.status().message());
    }
    if (*path == "cases.jsonl") c.cases_text = std::move(data).value();
  }
  // The adapters, in order, by the file each manifest entry names.
  if (const JsonValue* ads = m->Find("adapters"); ads != nullptr && ads->is_array()) {
    for (const JsonValue& a : ads->items()) {
      auto file = a.GetString("file");
      if (!file.ok() || !listed.count(*file)) {
        problem(std::string(kManifestName) + ": an adapters entry names no listed file");
        continue;
      }
      auto data = read(*file);
      if (data.ok()) c.adapters.push_back(std::move(data).value());
    }
  }
  for (const char* need : {"evidence.json", "cases.jsonl"}) {
    if (!listed.count(need)) problem(std::string(kManifestName) + ": does not list " + need);
  }
  for (const std::string& p : listing) {
    if (!listed.count(p)) problem(p + ": present in the packet but not listed in the manifest");
  }
  if (c.problems.empty() && c.evidence.identity.package_digest != c.base_digest) {
    problem(std::string(kManifestName) + ": base digest " + c.base_digest +
            " differs from the evidence's " + c.evidence.identity.package_digest);
  }
  return c;
}

std::vector<std::string> DiffEvidence(const Evidence& a, const Evidence& b) {
  std::vector<std::string> out;
  if (a.cases.size() != b.cases.size()) {
    out.push_back("case count: recorded " + std::to_string(a.cases.size()) + ", replay " +
                  std::to_string(b.cases.size()));
  }
  for (size_t i = 0; i < std::min(a.cases.size(), b.cases.size()); ++i) {
    const CaseResult& x = a.cases[i];
    const CaseResult& y = b.cases[i];
    std::vector<std::string> d;
    if (x.id != y.id) d.push_back("id: recorded '" + x.id + "', replay '" + y.id + "'");
    DiffIds("prompt ids", x.prompt_ids, y.prompt_ids, &d);
    DiffIds("output ids", x.output_ids, y.output_ids, &d);
    if (x.output_text != y.output_text) d.push_back("output text differs");
    if (x.stop_reason != y.stop_reason)
      d.push_back("stop reason: recorded " + x.stop_reason + ", replay " + y.stop_reason);
    if (x.pass != y.pass)
      d.push_back(std::string("pass: recorded ") + (x.pass ? "true" : "false") + ", replay " +
                  (y.pass ? "true" : "false"));
    if (x.score != y.score)
      d.push_back("score: recorded " + Exact(x.score) + ", replay " + Exact(y.score));
    if (x.loglik.present != y.loglik.present) {
      d.push_back("log-likelihood present in one run only");
    } else if (x.loglik.present) {
      DiffIds("expected (target) ids", x.loglik.target_ids, y.loglik.target_ids, &d);
      const auto& lx = x.loglik.token_logprobs;
      const auto& ly = y.loglik.token_logprobs;
      for (size_t t = 0; t < std::min(lx.size(), ly.size()); ++t) {
        uint64_t bx, by;
        std::memcpy(&bx, &lx[t], 8);
        std::memcpy(&by, &ly[t], 8);
        if (bx != by) {
          d.push_back("log-prob of expected token " + std::to_string(t) + ": recorded " +
                      Exact(lx[t]) + ", replay " + Exact(ly[t]));
          break;
        }
      }
      if (x.loglik.sum != y.loglik.sum)
        d.push_back("log-likelihood sum: recorded " + Exact(x.loglik.sum) + ", replay " +
                    Exact(y.loglik.sum));
    }
    for (const std::string& s : d)
      out.push_back("case '" + x.id + "' (index " + std::to_string(x.index) + "): " + s);
  }
  if (out.empty() && DeterministicPart(a) != DeterministicPart(b)) {
    out.push_back(
        "identity or fitness differs although every case matches (recorded identity: assembly " +
        a.identity.assembly_checksum + ", replay " + b.identity.assembly_checksum + ")");
  }
  return out;
}

StatusOr<std::vector<std::string>> ReplayEvidence(
    const Evidence& recorded, const std::string& cases_text, const Package& base,
    const std::vector<std::string>& adapters, int32_t n_threads,
    const std::function<void(const EvalProgress&)>& progress,
    const std::function<bool()>& should_stop) {
  if (base.digest_hex() != recorded.identity.package_digest) {
    return std::vector<std::string>{"base package differs: the evidence was made with package " +
                                    recorded.identity.package_digest + ", the given base is " +
                                    base.digest_hex()};
  }
  if (adapters.size() != recorded.identity.adapters.size()) {
    return std::vector<std::string>{"adapters: the evidence names " +
                                    std::to_string(recorded.identity.adapters.size()) +
                                    ", the packet holds " + std::to_string(adapters.size())};
  }
  std::vector<AdapterFile> files;
  std::vector<EvalAdapter> use;
  for (size_t i = 0; i < adapters.size(); ++i) {
    SLM_ASSIGN_OR_RETURN(AdapterFile f,
                         ParseAdapterPackage({reinterpret_cast<const uint8_t*>(adapters[i].data()),
                                              adapters[i].size()},
                                             "adapter-" + std::to_string(i) + ".slm"));
    const AdapterRef& r = recorded.identity.adapters[i];
    if (DigestHex(f.digest) != r.digest) {
      return std::vector<std::string>{"adapter " + std::to_string(i) + ": the evidence names " +
                                      r.digest + ", the packet's file is " + DigestHex(f.digest)};
    }
    files.push_back(std::move(f));
  }
  for (size_t i = 0; i < files.size(); ++i) {
    use.push_back({&files[i].adapter, files[i].digest,
                   static_cast<float>(recorded.identity.adapters[i].scale), files[i].bytes});
  }
  EvalRequest req;
  req.cases_text = cases_text;
  req.cases_source = "cases.jsonl";
  req.sampling = recorded.identity.sampling;
  req.n_ctx = recorded.identity.n_ctx;
  req.n_threads = n_threads;
  SLM_ASSIGN_OR_RETURN(Evidence fresh, EvaluatePackageWith(base, req, use, progress, should_stop));
  if (!fresh.complete) return IoError("replay interrupted");
  return DiffEvidence(recorded, fresh);
}

}  // namespace slm::eval

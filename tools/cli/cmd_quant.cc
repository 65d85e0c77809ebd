// slm quantize / synth / bench: weight formats, random-weight models and speed.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#if !defined(__wasi__)
#include <sys/resource.h>
#endif

#include "base/file.h"
#include "base/json.h"
#include "base/prng.h"
#include "commands.h"
#include "kernels/kernels.h"
#include "package/package.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "tokenizer/tokenizer.h"
#include "tools/gguf_writer.h"
#include "tools/kl.h"
#include "tools/quantize.h"
#include "tools/synth.h"

namespace slm::cli {

const CommandSpec kQuantizeSpec = {
    "quantize", "IN.slm -o OUT.slm --type q8_0|q4_0|q4_k|q6_k|mixed [--kl-text FILE] [--json]",
    "Re-quantize a package's weights (per-tensor policy: src/tools/quantize.h) and report\n"
    "each tensor's type, the sizes, and the KL divergence of next-token distributions from\n"
    "the f32 model over a text: weights-only (decoded to f32) and through the quantized kernels.",
    1, 1,
    {{"-o", "OUT.slm", "output package (required)"},
     {"--type", "T", "q8_0, q4_0, q4_k, q6_k or mixed (like llama.cpp's Q4_K_M)"},
     {"--kl-text", "FILE", "text for the KL figure (default tests/data/kl_text.txt if present)"},
     {"--kl-tokens", "N", "use at most N tokens of it (default: all that fit the context)"},
     {"--no-kl", nullptr, "skip the KL figure"},
     {"--json", nullptr, "print the report as one JSON object"}}};

const CommandSpec kSynthSpec = {
    "synth", "--preset s15m|s110m|tl1b [--type T] [--format slm|gguf] [--seed S] -o FILE",
    "Write a seeded random-weight model in a real llama shape (src/tools/synth.h).", 0, 0,
    {{"--preset", "NAME", "s15m, s110m or tl1b (required)"},
     {"--type", "T", "f32, q8_0, q4_0, q4_k, q6_k or mixed (default f32)"},
     {"--format", "F", "slm (default; the model is built in memory, then written: tl1b f32\n"
                       "                        peaks near 9 GB) or gguf (streamed tensor by tensor)"},
     {"--seed", "S", "weight seed (default 0)"},
     {"-o", "FILE", "output file (required)"}}};

const CommandSpec kBenchSpec = {
    "bench", "PKG [--prompt-tokens N] [--gen N] [--reps R] [--threads N] [--json]",
    "Measure prefill and decode tokens/s, peak RSS and the kernel table used.", 1, 1,
    {{"--prompt-tokens", "N", "prefill test: N pseudo-random prompt tokens (default 128)"},
     {"--gen", "N", "decode test: N greedy tokens from an empty context (default 128)"},
     {"--reps", "R", "repetitions of each test after one warm-up (default 3)"},
     {"--threads", "N", "forward-pass threads (default 1; 0 = the runtime's default)"},
     {"--json", nullptr, "print one JSON object"}}};

namespace {

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string MiB(uint64_t bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f MiB", bytes / 1048576.0);
  return b;
}

StatusOr<tools::QuantScheme> SchemeFlag(const Args& a, const char* fallback) {
  std::string name = a.Get("--type", fallback);
  tools::QuantScheme s;
  if (name.empty() || !tools::ParseQuantScheme(name, &s)) {
    return InvalidArgument("--type '" + name + "': expected f32, q8_0, q4_0, q4_k, q6_k or mixed");
  }
  return s;
}

struct KlOutcome {
  bool done = false;
  std::string note;
  tools::KlReport weights;  // dequantized weights, f32 runtime
  tools::KlReport runtime;  // quantized kernels
};

StatusOr<KlOutcome> QuantKl(const Args& a, const Package& in, const ModelBundle& out) {
  KlOutcome k;
  if (a.Has("--no-kl")) {
    k.note = "skipped (--no-kl)";
    return k;
  }
  std::string path = a.Get("--kl-text", "tests/data/kl_text.txt");
  if (!a.Has("--kl-text") && !FileExists(path)) {
    k.note = "skipped (no --kl-text and no tests/data/kl_text.txt here)";
    return k;
  }
  SLM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  SLM_ASSIGN_OR_RETURN(auto tok, Tokenizer::Create(in.tokenizer()));
  SLM_ASSIGN_OR_RETURN(std::vector<int32_t> ids, tok->Encode(text, tok->data().bos_id >= 0));
  SLM_ASSIGN_OR_RETURN(int64_t limit, a.GetInt("--kl-tokens", in.config().max_seq_len));
  if (limit < 1) return InvalidArgument("--kl-tokens " + std::to_string(limit) + ": expected >= 1");
  limit = std::min<int64_t>(limit, in.config().max_seq_len);
  if (static_cast<int64_t>(ids.size()) > limit) ids.resize(static_cast<size_t>(limit));
  SLM_ASSIGN_OR_RETURN(std::vector<TensorData> ref, tools::DequantizeTensors(in.tensors()));
  {
    SLM_ASSIGN_OR_RETURN(std::vector<TensorData> test, tools::DequantizeTensors(out.tensors));
    SLM_ASSIGN_OR_RETURN(k.weights, tools::KlDivergence(in.config(), ref, test, ids, 0));
  }
  SLM_ASSIGN_OR_RETURN(k.runtime, tools::KlDivergence(in.config(), ref, out.tensors, ids, 0));
  k.done = true;
  k.note = BaseName(path) + ", " + std::to_string(ids.size()) + " tokens, vs the f32 model";
  return k;
}

JsonValue KlJson(const tools::KlReport& r) {
  JsonValue k = JsonValue::Object();
  k.Set("positions", JsonValue::Number(r.positions));
  k.Set("mean", JsonValue::Number(r.mean));
  k.Set("max", JsonValue::Number(r.max));
  k.Set("max_position", JsonValue::Number(r.max_position));
  k.Set("top1_agree", JsonValue::Number(r.top1_agree));
  return k;
}

void PrintKl(const char* what, const char* type, const tools::KlReport& r) {
  std::printf("KL(f32 || %s) %-12s mean %.6g, max %.6g (position %d), top-1 agreement %.1f%%\n", type,
              what, r.mean, r.max, r.max_position, 100.0 * r.top1_agree);
}

}  // namespace

Status RunQuantize(const Args& a) {
  if (!a.Has("-o")) return InvalidArgument("slm quantize needs -o OUT.slm");
  if (!a.Has("--type")) return InvalidArgument("slm quantize needs --type q8_0|q4_0|q4_k|q6_k|mixed");
  SLM_ASSIGN_OR_RETURN(tools::QuantScheme scheme, SchemeFlag(a, ""));
  const std::string in_path = a.positional()[0], out_path = a.Get("-o");
  SLM_ASSIGN_OR_RETURN(auto in, Package::Open(in_path));
  ModelBundle src = PackageToBundle(*in);
  std::vector<tools::TensorPlan> plan;
  SLM_ASSIGN_OR_RETURN(ModelBundle out, tools::QuantizeBundle(src, scheme, in->digest_hex(),
                                                              BaseName(in_path), &plan));
  SLM_RETURN_IF_ERROR(WritePackage(out, out_path));
  SLM_ASSIGN_OR_RETURN(auto written, Package::Open(out_path));
  SLM_ASSIGN_OR_RETURN(KlOutcome kl, QuantKl(a, *in, out));

  if (a.Has("--json")) {
    JsonValue o = JsonValue::Object();
    o.Set("input", JsonValue::String(in_path));
    o.Set("input_digest", JsonValue::String(in->digest_hex()));
    o.Set("input_size", JsonValue::Number(double(in->file_size())));
    o.Set("output", JsonValue::String(out_path));
    o.Set("output_digest", JsonValue::String(written->digest_hex()));
    o.Set("output_size", JsonValue::Number(double(written->file_size())));
    o.Set("type", JsonValue::String(tools::QuantSchemeName(scheme)));
    JsonValue ts = JsonValue::Array();
    for (const tools::TensorPlan& p : plan) {
      JsonValue t = JsonValue::Object();
      t.Set("name", JsonValue::String(p.name));
      t.Set("from", JsonValue::String(DTypeName(p.from)));
      t.Set("to", JsonValue::String(DTypeName(p.to)));
      t.Set("bytes_in", JsonValue::Number(double(p.bytes_in)));
      t.Set("bytes_out", JsonValue::Number(double(p.bytes_out)));
      t.Set("note", JsonValue::String(p.why));
      ts.Append(std::move(t));
    }
    o.Set("tensors", std::move(ts));
    JsonValue k = JsonValue::Object();
    k.Set("computed", JsonValue::Bool(kl.done));
    k.Set("note", JsonValue::String(kl.note));
    if (kl.done) {
      k.Set("weights_only", KlJson(kl.weights));
      k.Set("runtime", KlJson(kl.runtime));
    }
    o.Set("kl", std::move(k));
    std::printf("%s\n", o.Dump().c_str());
    return Status::Ok();
  }
  std::printf("%-28s %-14s %-6s    %-6s %12s  %s\n", "tensor", "shape", "from", "to", "bytes", "note");
  for (const tools::TensorPlan& p : plan) {
    std::printf("%-28s %-14s %-6s -> %-6s %12llu  %s\n", p.name.c_str(), ShapeString(p.shape).c_str(),
                DTypeName(p.from), DTypeName(p.to), static_cast<unsigned long long>(p.bytes_out),
                p.why.c_str());
  }
  std::printf("\n%s: %s -> %s: %s (%.1f%% of the input)\n", tools::QuantSchemeName(scheme),
              MiB(in->file_size()).c_str(), out_path.c_str(), MiB(written->file_size()).c_str(),
              100.0 * double(written->file_size()) / double(in->file_size()));
  std::printf("digest %s\nprovenance: %s\n", written->digest_hex().c_str(),
              written->provenance().notes.c_str());
  if (kl.done) {
    PrintKl("weights-only", tools::QuantSchemeName(scheme), kl.weights);
    PrintKl("runtime", tools::QuantSchemeName(scheme), kl.runtime);
  }
  std::printf("KL over %s. weights-only: the quantized weights decoded to f32, f32 kernels;\n"
              "runtime: the quantized kernels (8-bit activations)\n", kl.note.c_str());
  return Status::Ok();
}

Status RunSynth(const Args& a) {
  if (!a.Has("--preset")) return InvalidArgument("slm synth needs --preset s15m|s110m|tl1b");
  if (!a.Has("-o")) return InvalidArgument("slm synth needs -o FILE");
  tools::SynthSpec s;
  s.label = a.Get("--preset");
  if (!tools::SynthPresetConfig(s.label, &s.config)) {
    return InvalidArgument("--preset '" + s.label + "': expected one of " + tools::SynthPresetNames());
  }
  SLM_ASSIGN_OR_RETURN(s.scheme, SchemeFlag(a, "f32"));
  SLM_ASSIGN_OR_RETURN(int64_t seed, a.GetInt("--seed", 0));
  s.seed = static_cast<uint64_t>(seed);
  const std::string format = a.Get("--format", "slm"), out = a.Get("-o");
  if (format == "gguf") {
    SLM_ASSIGN_OR_RETURN(std::vector<tools::SynthTensorInfo> list, tools::SynthTensorList(s));
    tools::GgufModelInfo info;
    info.config = s.config;
    info.tokenizer = tools::SynthTokenizer(s.config.vocab_size);
    info.name = "synth-" + s.label + "-" + tools::QuantSchemeName(s.scheme);
    std::vector<tools::GgufTensorSpec> specs;
    for (const auto& t : list) specs.push_back({t.name, t.shape, t.dtype});
    SLM_RETURN_IF_ERROR(tools::WriteGgufStreaming(
        info, specs, [&](size_t i) { return tools::SynthTensorBytes(s, list[i]); }, out));
  } else if (format == "slm") {
    SLM_ASSIGN_OR_RETURN(ModelBundle b, tools::SynthBundle(s));
    SLM_RETURN_IF_ERROR(WritePackage(b, out));
  } else {
    return InvalidArgument("--format '" + format + "': expected slm or gguf");
  }
  std::printf("wrote %s (%s, %s, seed %llu)\n", out.c_str(), s.label.c_str(),
              tools::QuantSchemeName(s.scheme), static_cast<unsigned long long>(s.seed));
  return Status::Ok();
}

namespace {

uint64_t PeakRssBytes() {
#if defined(__wasi__)
  return 0;
#else
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;  // Linux: KiB
#endif
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int32_t ArgMax(std::span<const float> x) {
  size_t best = 0;
  for (size_t i = 1; i < x.size(); ++i) best = x[i] > x[best] ? i : best;
  return static_cast<int32_t>(best);
}

struct Stat {
  double mean = 0, sd = 0;
};
Stat Summarize(const std::vector<double>& v) {
  Stat s;
  for (double x : v) s.mean += x;
  s.mean /= double(v.size());
  for (double x : v) s.sd += (x - s.mean) * (x - s.mean);
  s.sd = v.size() > 1 ? std::sqrt(s.sd / double(v.size() - 1)) : 0;
  return s;
}

}  // namespace

Status RunBench(const Args& a) {
  SLM_ASSIGN_OR_RETURN(int64_t n_prompt, a.GetInt("--prompt-tokens", 128));
  SLM_ASSIGN_OR_RETURN(int64_t n_gen, a.GetInt("--gen", 128));
  SLM_ASSIGN_OR_RETURN(int64_t reps, a.GetInt("--reps", 3));
  SLM_ASSIGN_OR_RETURN(int64_t threads, a.GetInt("--threads", 1));
  if (n_prompt < 0 || n_gen < 0 || n_prompt + n_gen == 0 || reps < 1 || reps > 1000 || threads < 0 || threads > 256) {
    return InvalidArgument("bench: need --prompt-tokens/--gen >= 0 (not both 0), --reps 1..1000, --threads 0..256");
  }
  const double t0 = Now();
  PackageOpenOptions po;
  po.verify_digests = false;  // timing run; `slm validate` checks digests
  SLM_ASSIGN_OR_RETURN(auto pkg, Package::Open(a.positional()[0], po));
  const ModelConfig& c = pkg->config();
  const int64_t n_ctx = std::max(n_prompt, n_gen) + 1;
  if (n_ctx > c.max_seq_len) {
    return InvalidArgument("bench: " + std::to_string(n_ctx) + " positions exceed the context " +
                           std::to_string(c.max_seq_len));
  }
  SLM_ASSIGN_OR_RETURN(auto model, Model::Create(c, pkg->tensors()));
  SessionOptions so;
  so.n_ctx = static_cast<int32_t>(n_ctx);
  so.n_threads = static_cast<int32_t>(threads);
  so.prefix_reuse = false;  // every repetition prefills the same prompt: measure all of it
  SLM_ASSIGN_OR_RETURN(auto session, Session::Create(*model, so));
  const double load_s = Now() - t0;

  // Weight bytes read per decoded token: every matrix, except token_embd
  // when it is not also the output (one row of it is read).
  std::map<std::string, uint64_t> by_type;
  uint64_t weight_bytes = 0;
  for (const TensorData& t : pkg->tensors()) {
    if (t.shape.size() >= 2) by_type[DTypeName(t.dtype)] += t.bytes().size();
    if (t.name == "token_embd.weight" && !c.tied_output) continue;
    weight_bytes += t.bytes().size();
  }

  Prng rng(1);
  std::vector<int32_t> prompt(static_cast<size_t>(n_prompt));
  for (int32_t& id : prompt) id = 3 + static_cast<int32_t>(rng.Next() % uint64_t(c.vocab_size - 3));
  const int32_t first = pkg->tokenizer().bos_id >= 0 ? pkg->tokenizer().bos_id : 1;

  std::vector<double> pp, tg;
  for (int64_t r = 0; r <= reps; ++r) {  // r == 0: warm-up
    if (n_prompt > 0) {
      session->Reset();
      const double t = Now();
      SLM_RETURN_IF_ERROR(session->Prefill(prompt));
      const double dt = Now() - t;
      if (r > 0) pp.push_back(double(n_prompt) / dt);
    }
    if (n_gen > 0) {
      session->Reset();
      int32_t id = first;
      const int64_t n = r == 0 ? std::min<int64_t>(n_gen, 16) : n_gen;
      const double t = Now();
      for (int64_t i = 0; i < n; ++i) {
        SLM_RETURN_IF_ERROR(session->Decode(id));
        id = ArgMax(session->logits());
      }
      const double dt = Now() - t;
      if (r > 0) tg.push_back(double(n) / dt);
    }
  }
  Stat pps = pp.empty() ? Stat{} : Summarize(pp), tgs = tg.empty() ? Stat{} : Summarize(tg);
  const uint64_t rss = PeakRssBytes();
  const char* kernels = session->kernels().name;
  const std::string note = KernelSelectionNote();
  const int32_t used_threads = session->n_threads();

  if (a.Has("--json")) {
    JsonValue o = JsonValue::Object();
    o.Set("package", JsonValue::String(a.positional()[0]));
    o.Set("package_digest", JsonValue::String(pkg->digest_hex()));
    o.Set("file_size", JsonValue::Number(double(pkg->file_size())));
    o.Set("weight_bytes_per_token", JsonValue::Number(double(weight_bytes)));
    JsonValue types = JsonValue::Object();
    for (auto& [name, bytes] : by_type) types.Set(name, JsonValue::Number(double(bytes)));
    o.Set("matrix_bytes_by_type", std::move(types));
    o.Set("kernels", JsonValue::String(kernels));
    o.Set("kernel_note", JsonValue::String(note));
    o.Set("threads", JsonValue::Number(used_threads));
    o.Set("prompt_tokens", JsonValue::Number(double(n_prompt)));
    o.Set("gen_tokens", JsonValue::Number(double(n_gen)));
    o.Set("reps", JsonValue::Number(double(reps)));
    o.Set("prefill_tok_s", JsonValue::Number(pps.mean));
    o.Set("prefill_tok_s_sd", JsonValue::Number(pps.sd));
    o.Set("decode_tok_s", JsonValue::Number(tgs.mean));
    o.Set("decode_tok_s_sd", JsonValue::Number(tgs.sd));
    o.Set("load_s", JsonValue::Number(load_s));
    o.Set("peak_rss_bytes", JsonValue::Number(double(rss)));
    std::printf("%s\n", o.Dump().c_str());
    return Status::Ok();
  }
  std::printf("package   %s (%s, digest %.16s...)\n", a.positional()[0].c_str(),
              MiB(pkg->file_size()).c_str(), pkg->digest_hex().c_str());
  std::printf("weights   ");
  for (auto& [name, bytes] : by_type) std::printf("%s %s  ", name.c_str(), MiB(bytes).c_str());
  std::printf("(%s read per token)\n", MiB(weight_bytes).c_str());
  std::printf("kernels   %s (%s)\nthreads   %d\n", kernels, note.c_str(), used_threads);
  if (n_prompt > 0) {
    std::printf("prefill   %lld tokens: %.2f +- %.2f tok/s\n", static_cast<long long>(n_prompt), pps.mean, pps.sd);
  }
  if (n_gen > 0) {
    std::printf("decode    %lld tokens: %.2f +- %.2f tok/s\n", static_cast<long long>(n_gen), tgs.mean, tgs.sd);
  }
  std::printf("load      %.3f s\npeak RSS  %s\n", load_s, MiB(rss).c_str());
  return Status::Ok();
}

}  // namespace slm::cli

// slm tokenize / generate / logits: running a package.
#include <cstdio>
#include <cstring>

#include "adapter/load.h"
#include "base/file.h"
#include "base/json.h"
#include "commands.h"
#include "package/format.h"
#include "package/package.h"
#include "runtime/generate.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "sampler/sampler.h"
#include "sampling_flags.h"
#include "tokenizer/load.h"
#include "tokenizer/tokenizer.h"

namespace slm::cli {

const CommandSpec kTokenizeSpec = {
    "tokenize",
    "PKG|TOKENIZER_FILE --text STR [--bos] [--json]",
    "Encode text to token ids and pieces. TOKENIZER_FILE may be a vocab-only GGUF, a\n"
    "tokenizer.json, a SentencePiece .model or a llama2.c tokenizer .bin.",
    1,
    1,
    {{"--text", "STR", "text to encode (UTF-8)"},
     {"--bos", nullptr, "prepend the BOS token"},
     {"--json", nullptr, "print {\"ids\": [...], \"pieces\": [...]}"}}};

const CommandSpec kGenerateSpec = {
    "generate",
    "PKG [--prompt STR | --prompt-ids 1,2,3] [-n N] [sampling flags] [--stop STR]... [--json]",
    "Generate a continuation, streaming text to stdout. Greedy (temperature 0) by default.",
    1,
    1,
    WithSamplingFlags(
        {{"--prompt", "STR", "prompt text (BOS is prepended when the tokenizer asks for it)"},
         {"--prompt-ids", "IDS", "prompt as comma-separated token ids, used as given"},
         {"-n", "N", "maximum new tokens (default 256)"},
         {"--stop", "STR",
          "stop when the text contains STR (repeatable; STR itself is not printed)"},
         {"--ctx", "N", "context length in tokens (default: the model's)"},
         {"--kv-budget", "MiB", "KV cache arena size (default: one full context)"},
         {"--adapter", "PATH[:S]",
          "apply an adapter (.slm adapter, PEFT folder or LoRA GGUF) with scale S (default 1);\n"
          "                        repeatable: adapters stack in the order given"},
         {"--json", nullptr, "print one JSON object: prompt_ids, ids, text, diagnostics"}})};

const CommandSpec kLogitsSpec = {
    "logits",
    "PKG --prompt-ids 1,2,3 [--json]",
    "Print the final position's logits (all of them) after running the prompt.",
    1,
    1,
    {{"--prompt-ids", "IDS", "prompt as comma-separated token ids (required)"},
     {"--adapter", "PATH[:S]", "apply an adapter with scale S (repeatable, stacks in order)"},
     {"--json", nullptr,
      "print {\"logits\": [...]} (shortest round-trip floats); with --adapter also\n"
      "                        \"assembly_checksum\" and \"adapters\""}}};

namespace {

bool IsPackage(const std::string& path) {
  auto f = MappedFile::Open(path);
  if (!f.ok()) return false;
  auto b = (*f)->bytes();
  return b.size() >= sizeof(pkg::kMagic) &&
         std::memcmp(b.data(), pkg::kMagic, sizeof(pkg::kMagic)) == 0;
}

// Everything needed to run a package; members are destroyed in reverse order.
struct Loaded {
  std::unique_ptr<Package> package;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<Model> model;
  std::vector<LoadedAdapter> adapters;
  std::unique_ptr<AdapterAssembly> assembly;  // null without --adapter
  std::unique_ptr<Session> session;
};

StatusOr<Loaded> Load(const Args& a) {
  Loaded l;
  SLM_ASSIGN_OR_RETURN(l.package, Package::Open(a.positional()[0]));
  SLM_ASSIGN_OR_RETURN(l.tokenizer, Tokenizer::Create(l.package->tokenizer()));
  SLM_ASSIGN_OR_RETURN(l.model, Model::Create(l.package->config(), l.package->tensors()));
  SessionOptions so;
  SLM_ASSIGN_OR_RETURN(int64_t ctx, a.GetInt("--ctx", 0));
  if (ctx < 0 || ctx > l.package->config().max_seq_len) {
    return InvalidArgument("--ctx " + std::to_string(ctx) + ": expected 1.." +
                           std::to_string(l.package->config().max_seq_len) +
                           " (the model's context)");
  }
  so.n_ctx = static_cast<int32_t>(ctx);
  SLM_ASSIGN_OR_RETURN(int64_t budget, a.GetInt("--kv-budget", 0));
  if (budget < 0 || budget > (int64_t{1} << 30)) {
    return InvalidArgument("--kv-budget " + std::to_string(budget) + ": expected 0..2^30 MiB");
  }
  so.kv_budget_mib = static_cast<int32_t>(budget);
  SLM_ASSIGN_OR_RETURN(l.session, Session::Create(*l.model, so));
  std::vector<AdapterSpec> specs;
  for (const std::string& v : a.GetAll("--adapter")) {
    SLM_ASSIGN_OR_RETURN(AdapterSpec spec, ParseAdapterSpec(v));
    specs.push_back(spec);
  }
  if (!specs.empty()) {
    SLM_ASSIGN_OR_RETURN(l.assembly, LoadAssembly(*l.package, specs, &l.adapters));
    l.session->SetDeltas(l.assembly.get());
  }
  return l;
}

// The assembly checksum (the base alone when no adapter is given) and the
// adapters in order, for --json diagnostics.
void AddAssemblyJson(const Loaded& l, JsonValue* o) {
  const Digest checksum =
      l.assembly ? Digest(l.assembly->checksum()) : AssemblyChecksum(l.package->digest(), {}, {});
  o->Set("assembly_checksum", JsonValue::String(DigestHex(checksum)));
  JsonValue arr = JsonValue::Array();
  for (size_t i = 0; i < l.adapters.size(); ++i) {
    JsonValue e = JsonValue::Object();
    e.Set("path", JsonValue::String(l.adapters[i].path));
    e.Set("name", JsonValue::String(l.adapters[i].adapter.name));
    e.Set("format", JsonValue::String(l.adapters[i].format));
    e.Set("digest", JsonValue::String(DigestHex(l.adapters[i].digest)));
    e.Set("scale", JsonValue::Number(l.assembly->scales()[i]));
    e.Set("bytes", JsonValue::Number(static_cast<double>(l.adapters[i].bytes)));
    arr.Append(std::move(e));
  }
  o->Set("adapters", std::move(arr));
}

StatusOr<std::vector<int32_t>> PromptIds(const Args& a, const Tokenizer& tok) {
  if (a.Has("--prompt") && a.Has("--prompt-ids")) {
    return InvalidArgument("give --prompt or --prompt-ids, not both");
  }
  if (a.Has("--prompt-ids")) return ParseIdList(a.Get("--prompt-ids"));
  if (a.Has("--prompt"))
    return tok.Encode(a.Get("--prompt"), tok.data().add_bos && tok.data().bos_id >= 0);
  // No prompt: start from BOS, as llama2.c does.
  if (tok.data().bos_id < 0)
    return InvalidArgument("no prompt given and the tokenizer has no BOS token");
  return std::vector<int32_t>{tok.data().bos_id};
}

JsonValue IdsJson(std::span<const int32_t> ids) {
  JsonValue arr = JsonValue::Array();
  for (int32_t id : ids) arr.Append(JsonValue::Number(id));
  return arr;
}

}  // namespace

Status RunTokenize(const Args& a) {
  if (!a.Has("--text")) return InvalidArgument("slm tokenize needs --text STR");
  const std::string& path = a.positional()[0];
  TokenizerData data;
  if (IsPackage(path)) {
    PackageOpenOptions o;
    o.verify_digests = false;
    SLM_ASSIGN_OR_RETURN(auto p, Package::Open(path, o));
    data = p->tokenizer();
  } else {
    SLM_ASSIGN_OR_RETURN(data, LoadTokenizerFile(path));
  }
  SLM_ASSIGN_OR_RETURN(auto tok, Tokenizer::Create(std::move(data)));
  SLM_ASSIGN_OR_RETURN(auto ids, tok->Encode(a.Get("--text"), a.Has("--bos")));
  if (a.Has("--json")) {
    JsonValue o = JsonValue::Object();
    o.Set("ids", IdsJson(ids));
    JsonValue pieces = JsonValue::Array();
    for (int32_t id : ids) pieces.Append(JsonValue::String(tok->piece(id)));
    o.Set("pieces", std::move(pieces));
    std::printf("%s\n", o.Dump().c_str());
    return Status::Ok();
  }
  for (int32_t id : ids) std::printf("%6d  %s\n", id, tok->piece(id).c_str());
  return Status::Ok();
}

Status RunGenerate(const Args& a) {
  SLM_ASSIGN_OR_RETURN(Loaded l, Load(a));
  SLM_ASSIGN_OR_RETURN(auto prompt, PromptIds(a, *l.tokenizer));
  GenerateOptions go;
  SLM_ASSIGN_OR_RETURN(go.sampling, ParseSamplingFlags(a, INT64_MAX));
  SLM_ASSIGN_OR_RETURN(int64_t n, a.GetInt("-n", 256));
  if (n < 0 || n > (1 << 24))
    return InvalidArgument("-n " + std::to_string(n) + ": expected 0..16777216");
  go.max_new_tokens = static_cast<int32_t>(n);
  go.eos_id = l.tokenizer->data().eos_id;
  go.stop_strings = a.GetAll("--stop");
  go.tokenizer = l.tokenizer.get();
  SLM_ASSIGN_OR_RETURN(auto gen, Generator::Create(l.model->config().vocab_size, go));

  bool json = a.Has("--json");
  std::vector<int32_t> out_ids;
  std::string text;
  auto on_token = [&](int32_t id) {
    out_ids.push_back(id);
    return true;
  };
  auto on_text = [&](std::string_view piece) {
    text += piece;
    if (!json) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    }
  };
  SLM_ASSIGN_OR_RETURN(GenerateStats st, gen->Run(*l.session, prompt, on_token, on_text));
  if (!json) {
    std::printf("\n");
    std::fprintf(stderr,
                 "[%d prompt tokens, %d generated (%s); prefill %.1f tok/s, decode %.1f tok/s]\n",
                 st.prompt_tokens, st.generated_tokens, StopReasonName(st.stop_reason),
                 st.prefill_tok_s, st.decode_tok_s);
    if (l.assembly) {
      std::fprintf(stderr, "[%zu adapter(s), assembly checksum %s]\n", l.adapters.size(),
                   l.assembly->checksum_hex().c_str());
    }
    return Status::Ok();
  }
  JsonValue o = JsonValue::Object();
  o.Set("prompt_ids", IdsJson(prompt));
  o.Set("ids", IdsJson(out_ids));
  o.Set("text", JsonValue::String(text));
  JsonValue d = JsonValue::Object();
  d.Set("prefill_tok_s", JsonValue::Number(st.prefill_tok_s));
  d.Set("decode_tok_s", JsonValue::Number(st.decode_tok_s));
  d.Set("tokens_in_cache", JsonValue::Number(st.tokens_in_cache));
  d.Set("prompt_tokens", JsonValue::Number(st.prompt_tokens));
  d.Set("generated_tokens", JsonValue::Number(st.generated_tokens));
  d.Set("stop_reason", JsonValue::String(StopReasonName(st.stop_reason)));
  d.Set("time_to_first_token_ms", JsonValue::Number(st.time_to_first_token_ms));
  const KvStats kv = l.session->kv_stats();
  JsonValue k = JsonValue::Object();
  k.Set("pages_total", JsonValue::Number(kv.pages_total));
  k.Set("pages_used", JsonValue::Number(kv.pages_used));
  k.Set("pages_shared", JsonValue::Number(kv.pages_shared));
  k.Set("pages_cached", JsonValue::Number(kv.pages_cached));
  k.Set("pages_free", JsonValue::Number(kv.pages_free));
  k.Set("prefix_hit_rate", JsonValue::Number(kv.prefix_hit_rate));
  k.Set("evictions", JsonValue::Number(static_cast<double>(kv.evictions)));
  k.Set("arena_bytes", JsonValue::Number(static_cast<double>(kv.arena_bytes)));
  d.Set("kv_cache", std::move(k));
  d.Set("package_digest", JsonValue::String(l.package->digest_hex()));
  AddAssemblyJson(l, &d);
  o.Set("diagnostics", std::move(d));
  std::printf("%s\n", o.Dump().c_str());
  return Status::Ok();
}

Status RunLogits(const Args& a) {
  if (!a.Has("--prompt-ids")) return InvalidArgument("slm logits needs --prompt-ids 1,2,3");
  SLM_ASSIGN_OR_RETURN(Loaded l, Load(a));
  SLM_ASSIGN_OR_RETURN(auto ids, ParseIdList(a.Get("--prompt-ids")));
  SLM_RETURN_IF_ERROR(l.session->Prefill(ids));
  std::span<const float> logits = l.session->logits();
  if (a.Has("--json")) {
    JsonValue o = JsonValue::Object();
    JsonValue arr = JsonValue::Array();
    for (float v : logits) arr.Append(JsonValue::Number(v));
    o.Set("logits", std::move(arr));
    // Only with adapters: the base alone prints exactly {"logits": [...]}, so
    // two packages with the same weights print the same bytes.
    if (l.assembly) AddAssemblyJson(l, &o);
    std::printf("%s\n", o.Dump().c_str());
    return Status::Ok();
  }
  for (size_t i = 0; i < logits.size(); ++i) std::printf("%zu %.9g\n", i, double(logits[i]));
  return Status::Ok();
}

}  // namespace slm::cli

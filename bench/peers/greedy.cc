// The llama.cpp side of bench/agree.mjs: greedy decoding of a GGUF model
// from given token ids through llama.cpp's public C API (llama.h), printing
// the ids and the logits after the prompt and before the last generated token.
// Built by bench/agree.mjs against the llama.cpp that node-llama-cpp ships
// (static libraries of build/peers/llama.cpp/build); not part of slm.
//
//   greedy MODEL.gguf IDS N THREADS [STEP]
//     IDS: comma-separated prompt ids (used as given, no BOS added)
//   -> {"ids":[...], "logits_first":[...], "logits_last":[...]
//       [, "logits_step":[...]]}
//      ids: the N greedy ids; logits_first: the vocabulary's logits at the
//      prompt's last position (they choose ids[0]); logits_last: at the
//      position that chooses ids[N-1]; logits_step: the one choosing ids[STEP].
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "llama.h"

namespace {

void PrintFloats(const char* name, const float* v, int n) {
  std::printf("\"%s\":[", name);
  for (int i = 0; i < n; ++i) std::printf(i ? ",%.9g" : "%.9g", v[i]);
  std::printf("]");
}

int ArgMax(const float* v, int n) {
  int best = 0;
  for (int i = 1; i < n; ++i) {
    if (v[i] > v[best]) best = i;
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    std::fprintf(stderr, "usage: greedy MODEL.gguf IDS N THREADS [STEP]\n");
    return 2;
  }
  std::vector<llama_token> prompt;
  for (const char* p = argv[2]; *p != '\0';) {
    char* end = nullptr;
    prompt.push_back(static_cast<llama_token>(std::strtol(p, &end, 10)));
    p = *end == ',' ? end + 1 : end;
  }
  const int n_gen = std::atoi(argv[3]), threads = std::atoi(argv[4]);
  const int dump = argc == 6 ? std::atoi(argv[5]) : -1;
  if (prompt.empty() || n_gen < 1 || threads < 1) {
    std::fprintf(stderr, "greedy: need a prompt, N >= 1 and THREADS >= 1\n");
    return 2;
  }
  llama_log_set([](ggml_log_level, const char*, void*) {}, nullptr);
  llama_backend_init();
  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  llama_model* model = llama_model_load_from_file(argv[1], mp);
  if (model == nullptr) {
    std::fprintf(stderr, "greedy: cannot load %s\n", argv[1]);
    return 1;
  }
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = static_cast<uint32_t>(prompt.size() + n_gen + 8);
  cp.n_batch = cp.n_ctx;
  cp.n_threads = cp.n_threads_batch = threads;
  // slm keeps K/V in f32: so does this run, leaving the products' and the
  // activations' rounding as the differences.
  cp.type_k = cp.type_v = GGML_TYPE_F32;
  cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
  llama_context* ctx = llama_init_from_model(model, cp);
  if (ctx == nullptr) {
    std::fprintf(stderr, "greedy: cannot create a context\n");
    return 1;
  }
  const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
  std::vector<llama_token> ids;
  std::vector<float> first, last, at_step;
  llama_token next = 0;
  for (int step = 0; step < n_gen; ++step) {
    llama_batch batch = step == 0 ? llama_batch_get_one(prompt.data(), static_cast<int32_t>(prompt.size()))
                                  : llama_batch_get_one(&next, 1);
    if (llama_decode(ctx, batch) != 0) {
      std::fprintf(stderr, "greedy: llama_decode failed at step %d\n", step);
      return 1;
    }
    const float* logits = llama_get_logits_ith(ctx, -1);
    if (step == 0) first.assign(logits, logits + n_vocab);
    if (step == n_gen - 1) last.assign(logits, logits + n_vocab);
    if (step == dump) at_step.assign(logits, logits + n_vocab);
    next = ArgMax(logits, n_vocab);
    ids.push_back(next);
  }
  std::printf("{\"ids\":[");
  for (size_t i = 0; i < ids.size(); ++i) std::printf(i ? ",%d" : "%d", ids[i]);
  std::printf("],");
  PrintFloats("logits_first", first.data(), n_vocab);
  std::printf(",");
  PrintFloats("logits_last", last.data(), n_vocab);
  if (!at_step.empty()) {
    std::printf(",");
    PrintFloats("logits_step", at_step.data(), n_vocab);
  }
  std::printf("}\n");
  llama_free(ctx);
  llama_model_free(model);
  llama_backend_free();
  return 0;
}

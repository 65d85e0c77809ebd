// REPORT.md of a release packet: the fitness table a person reads first.
#include <cstdio>

#include "eval/release.h"

namespace slm::eval {
namespace {

std::string Fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// Markdown table cell: no newlines or pipes, at most n code points-ish bytes.
std::string Cell(const std::string& s, size_t n = 60) {
  std::string out;
  for (char ch : s) {
    if (ch == '\n')
      out += "\\n";
    else if (ch == '|')
      out += "\\|";
    else if (ch == '`')
      out += "'";
    else
      out += ch;
  }
  if (out.size() > n) {
    size_t cut = n;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80)
      --cut;  // whole UTF-8 characters
    out = out.substr(0, cut) + "...";
  }
  return out;
}

}  // namespace

std::string RenderReport(const Evidence& e) {
  const Identity& id = e.identity;
  const Fitness& f = e.fitness;
  std::string r = "# Release report\n\n";
  r += "Evidence schema " + std::to_string(e.schema_version) + ", slm " + id.runtime_version +
       ". Re-check with\n"
       "`slm release verify <this directory> [--model PKG]`: it re-runs every case and compares "
       "the\n"
       "outputs, token ids and log-likelihoods bit for bit.\n\n";
  r += "## Identity\n\n| | |\n|---|---|\n";
  r += "| package digest | `" + id.package_digest + "` |\n";
  r += "| package bytes | " + std::to_string(id.package_bytes) + " |\n";
  r += "| adapters | " +
       (id.adapters.empty() ? std::string("none") : std::to_string(id.adapters.size())) + " |\n";
  for (const AdapterRef& a : id.adapters)
    r += "| adapter | `" + a.digest + "` scale " + Fmt("%.9g", a.scale) + " |\n";
  r += "| assembly checksum | `" + id.assembly_checksum + "` |\n";
  r += "| cases digest | `" + id.cases_digest + "` (" + std::to_string(id.cases_total) +
       " cases) |\n";
  r += "| sampling | " +
       (id.sampling.temperature == 0
            ? std::string("greedy")
            : "temperature " + Fmt("%.9g", id.sampling.temperature) + ", top-k " +
                  std::to_string(id.sampling.top_k) + ", top-p " + Fmt("%.9g", id.sampling.top_p) +
                  ", min-p " + Fmt("%.9g", id.sampling.min_p)) +
       (id.sampling.repeat_penalty != 1 || id.sampling.presence_penalty != 0 ||
                id.sampling.frequency_penalty != 0
            ? ", penalties repeat " + Fmt("%.9g", id.sampling.repeat_penalty) + " presence " +
                  Fmt("%.9g", id.sampling.presence_penalty) + " frequency " +
                  Fmt("%.9g", id.sampling.frequency_penalty) + " over " +
                  std::to_string(id.sampling.penalty_last_n) + " tokens"
            : std::string()) +
       ", seed " + std::to_string(id.sampling.seed) + ", context " + std::to_string(id.n_ctx) +
       " |\n\n";

  r += "## Fitness\n\n| metric | value |\n|---|---|\n";
  r += "| passed | " + std::to_string(f.passed) + " / " + std::to_string(f.cases) + " |\n";
  r += "| weighted pass rate | " + Fmt("%.4f", f.weighted_pass_rate) + " |\n";
  r += "| mean score (partial credit) | " + Fmt("%.4f", f.mean_score) + " |\n";
  r += "| mean log-likelihood | " + Fmt("%.4f", f.mean_loglik) + " nats/token over " +
       std::to_string(f.loglik_tokens) + " tokens |\n";
  r += "| perplexity | " + Fmt("%.4f", f.perplexity) + " |\n";
  r += "| package + adapter bytes | " + std::to_string(f.package_bytes + f.adapter_bytes) + " |\n";
  for (const auto& [tag, t] : f.tags) {
    r += "| tag `" + Cell(tag, 40) + "` | " + Fmt("%.4f", t.weighted_pass_rate) + " (" +
         std::to_string(t.passed) + "/" + std::to_string(t.cases) + ") |\n";
  }
  r += "\nSpeed and memory of the recorded run (not part of the reproducibility guarantee): "
       "prefill " +
       Fmt("%.0f", e.timing.prefill_tok_s) + " tok/s, decode " +
       Fmt("%.0f", e.timing.decode_tok_s) + " tok/s, peak memory " +
       Fmt("%.1f", static_cast<double>(e.timing.peak_memory_bytes) / 1048576.0) + " MiB, on " +
       e.environment.platform + " with " + e.environment.kernels + " kernels.\n\n";

  r += "## Cases\n\n| # | id | match | expected | pass | score | log-lik (nats/token) | output "
       "|\n|---|---|---|---|---|---|---|---|\n";
  for (const CaseResult& c : e.cases) {
    r += "| " + std::to_string(c.index) + " | " + Cell(c.id, 40) + " | " + c.match + " | `" +
         Cell(c.expected, 40) + "` | " + (c.pass ? "yes" : "**no**") + " | " +
         Fmt("%.3f", c.score) + " | " +
         (c.loglik.present ? Fmt("%.4f", c.loglik.mean) : std::string("-")) + " | `" +
         Cell(c.output_text) + "` |\n";
  }
  return r;
}

}  // namespace slm::eval

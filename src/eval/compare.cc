#include "eval/compare.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace slm::eval {
namespace {

std::string Fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string Pad(std::string s, size_t w) {
  if (s.size() < w) s.resize(w, ' ');
  return s;
}

struct Row {
  std::string label;
  bool timing = false;  // varies between runs; shown, never "flipped"
  double (*get)(const Evidence&, const std::string&);
  const char* fmt;
  std::string tag;
};

std::vector<std::string> AllTags(const std::vector<NamedEvidence>& all) {
  std::set<std::string> tags;
  for (const NamedEvidence& n : all) {
    for (const auto& [t, tf] : n.evidence.fitness.tags) tags.insert(t);
  }
  return {tags.begin(), tags.end()};
}

std::string XmlEscape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '&')
      o += "&amp;";
    else if (c == '"')
      o += "&quot;";
    else
      o += c;
  }
  return o;
}

}  // namespace

std::string CompareTable(const std::vector<NamedEvidence>& all) {
  std::vector<Row> rows = {
      {"cases", false,
       [](const Evidence& e, const std::string&) { return double(e.fitness.cases); }, "%.0f", ""},
      {"passed", false,
       [](const Evidence& e, const std::string&) { return double(e.fitness.passed); }, "%.0f", ""},
      {"weighted pass rate", false,
       [](const Evidence& e, const std::string&) { return e.fitness.weighted_pass_rate; }, "%.4f",
       ""},
      {"mean score", false,
       [](const Evidence& e, const std::string&) { return e.fitness.mean_score; }, "%.4f", ""},
      {"mean loglik (nats/tok)", false,
       [](const Evidence& e, const std::string&) { return e.fitness.mean_loglik; }, "%.4f", ""},
      {"perplexity", false,
       [](const Evidence& e, const std::string&) { return e.fitness.perplexity; }, "%.4f", ""},
  };
  for (const std::string& t : AllTags(all)) {
    rows.push_back({"tag " + t + " pass rate", false,
                    [](const Evidence& e, const std::string& tag) {
                      auto it = e.fitness.tags.find(tag);
                      return it == e.fitness.tags.end() ? 0.0 : it->second.weighted_pass_rate;
                    },
                    "%.4f", t});
  }
  rows.push_back({"package+adapter MiB", false,
                  [](const Evidence& e, const std::string&) {
                    return double(e.fitness.package_bytes + e.fitness.adapter_bytes) / 1048576.0;
                  },
                  "%.3f", ""});
  rows.push_back({"prefill tok/s (timing)", true,
                  [](const Evidence& e, const std::string&) { return e.timing.prefill_tok_s; },
                  "%.0f", ""});
  rows.push_back({"decode tok/s (timing)", true,
                  [](const Evidence& e, const std::string&) { return e.timing.decode_tok_s; },
                  "%.0f", ""});
  rows.push_back({"peak memory MiB (timing)", true,
                  [](const Evidence& e, const std::string&) {
                    return double(e.timing.peak_memory_bytes) / 1048576.0;
                  },
                  "%.1f", ""});

  const size_t lw = 26, cw = 24;
  std::string out = Pad("metric", lw);
  for (size_t i = 0; i < all.size(); ++i) {
    std::string name = "[";
    name += std::to_string(i + 1);
    name += "] ";
    name += all[i].name;
    if (name.size() > cw - 2) name = name.substr(0, cw - 5) + "...";
    out += Pad(name, cw);
  }
  out += "\n";
  for (const Row& r : rows) {
    std::string line = Pad(r.label, lw);
    const double base = r.get(all[0].evidence, r.tag);
    for (size_t i = 0; i < all.size(); ++i) {
      const double v = r.get(all[i].evidence, r.tag);
      std::string cell = Fmt(r.fmt, v);
      if (i > 0 && v != base)
        cell += " (" + std::string(v > base ? "+" : "") + Fmt(r.fmt, v - base) + ")";
      line += Pad(cell, cw);
    }
    out += line + "\n";
  }
  // Flipped cases, by id, relative to the first evidence.
  std::map<std::string, bool> first;
  for (const CaseResult& c : all[0].evidence.cases) first[c.id] = c.pass;
  for (size_t i = 1; i < all.size(); ++i) {
    std::string flips;
    int n = 0;
    int unmatched = 0;
    for (const CaseResult& c : all[i].evidence.cases) {
      auto it = first.find(c.id);
      unmatched += it == first.end();
      if (it == first.end() || it->second == c.pass) continue;
      flips += std::string("  ") + (c.pass ? "+ " : "- ") + c.id +
               (c.pass ? "  (fail -> pass)\n" : "  (pass -> fail)\n");
      ++n;
    }
    out += "\nflipped [1] -> [" + std::to_string(i + 1) + "]: " + std::to_string(n) +
           (n ? "\n" + flips : "\n");
    if (unmatched > 0) {
      out += "note: " + std::to_string(unmatched) + " case id(s) of [" + std::to_string(i + 1) +
             "] are not in [1]\n";
    }
  }
  for (size_t i = 1; i < all.size(); ++i) {
    if (all[i].evidence.identity.cases_digest != all[0].evidence.identity.cases_digest) {
      out += "warning: [" + std::to_string(i + 1) +
             "] was evaluated on a different cases file than [1]\n";
    }
  }
  for (size_t i = 0; i < all.size(); ++i) {
    if (!all[i].evidence.complete)
      out += "warning: [" + std::to_string(i + 1) + "] is partial (complete: false)\n";
    if (all[i].evidence.identity.shard_count > 1)
      out += "warning: [" + std::to_string(i + 1) + "] is one shard; merge first\n";
  }
  return out;
}

std::string CompareSvg(const std::vector<NamedEvidence>& all) {
  static const char* kColors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759",
                                  "#76b7b2", "#edc948", "#b07aa1", "#ff9da7"};
  std::vector<std::string> groups = {"overall"};
  for (const std::string& t : AllTags(all)) groups.push_back(t);
  const double bar = 14, gap = 18, left = 60, top = 40, h = 200;
  const double group_w = bar * static_cast<double>(all.size()) + gap;
  const double chart_w = group_w * static_cast<double>(groups.size());
  const double ll_step = 46;  // wide enough for a "-1.507" label under each bar
  const double ll_left = left + chart_w + 70,
               ll_w = std::max(240.0, ll_step * static_cast<double>(all.size()) + 20);
  const double width = ll_left + ll_w + 40,
               height = top + h + 70 + 18 * static_cast<double>(all.size());
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Fmt("%.0f", width) +
                  "\" height=\"" + Fmt("%.0f", height) +
                  "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s += "<text x=\"" + Fmt("%.0f", left) +
       "\" y=\"20\" font-size=\"13\">weighted pass rate (overall and per tag)</text>\n";
  for (int k = 0; k <= 4; ++k) {
    double y = top + h - h * k / 4.0;
    s += "<line x1=\"" + Fmt("%.0f", left) + "\" x2=\"" + Fmt("%.0f", left + chart_w) + "\" y1=\"" +
         Fmt("%.1f", y) + "\" y2=\"" + Fmt("%.1f", y) + "\" stroke=\"#ddd\"/>\n";
    s += "<text x=\"" + Fmt("%.0f", left - 6) + "\" y=\"" + Fmt("%.1f", y + 4) +
         "\" text-anchor=\"end\">" + Fmt("%.2f", k / 4.0) + "</text>\n";
  }
  for (size_t g = 0; g < groups.size(); ++g) {
    const double gx = left + group_w * static_cast<double>(g) + gap / 2;
    for (size_t i = 0; i < all.size(); ++i) {
      const Fitness& f = all[i].evidence.fitness;
      double v = f.weighted_pass_rate;
      if (g > 0) {
        auto it = f.tags.find(groups[g]);
        v = it == f.tags.end() ? 0 : it->second.weighted_pass_rate;
      }
      const double bh = h * v;
      s += "<rect x=\"" + Fmt("%.1f", gx + bar * static_cast<double>(i)) + "\" y=\"" +
           Fmt("%.1f", top + h - bh) + "\" width=\"" + Fmt("%.0f", bar - 1) + "\" height=\"" +
           Fmt("%.1f", bh) + "\" fill=\"" + kColors[i % 8] + "\"><title>" +
           XmlEscape(all[i].name + " " + groups[g] + ": " + Fmt("%.4f", v)) + "</title></rect>\n";
    }
    s += "<text x=\"" + Fmt("%.1f", gx + bar * static_cast<double>(all.size()) / 2) + "\" y=\"" +
         Fmt("%.0f", top + h + 14) + "\" text-anchor=\"middle\">" + XmlEscape(groups[g]) +
         "</text>\n";
  }
  // Mean log-likelihood: bars hang down from 0 (values are <= 0).
  double lo = 0;
  for (const NamedEvidence& n : all) lo = std::min(lo, n.evidence.fitness.mean_loglik);
  if (lo == 0) lo = -1;
  s += "<text x=\"" + Fmt("%.0f", ll_left) +
       "\" y=\"20\" font-size=\"13\">mean log-likelihood (nats/token)</text>\n";
  s += "<line x1=\"" + Fmt("%.0f", ll_left) + "\" x2=\"" + Fmt("%.0f", ll_left + ll_w) +
       "\" y1=\"" + Fmt("%.0f", top) + "\" y2=\"" + Fmt("%.0f", top) + "\" stroke=\"#888\"/>\n";
  for (size_t i = 0; i < all.size(); ++i) {
    const double v = all[i].evidence.fitness.mean_loglik;
    const double bh = h * v / lo;
    const double x = ll_left + 10 + ll_step * static_cast<double>(i);
    s += "<rect x=\"" + Fmt("%.1f", x) + "\" y=\"" + Fmt("%.0f", top) + "\" width=\"" +
         Fmt("%.0f", bar) + "\" height=\"" + Fmt("%.1f", bh) + "\" fill=\"" + kColors[i % 8] +
         "\"/>\n";
    s += "<text x=\"" + Fmt("%.1f", x + bar / 2) + "\" y=\"" + Fmt("%.1f", top + bh + 12) +
         "\" text-anchor=\"middle\">" + Fmt("%.3f", v) + "</text>\n";
  }
  for (size_t i = 0; i < all.size(); ++i) {
    const double y = top + h + 36 + 18 * static_cast<double>(i);
    s += "<rect x=\"" + Fmt("%.0f", left) + "\" y=\"" + Fmt("%.0f", y - 10) +
         "\" width=\"12\" height=\"12\" fill=\"" + kColors[i % 8] + "\"/><text x=\"" +
         Fmt("%.0f", left + 18) + "\" y=\"" + Fmt("%.0f", y) + "\">[" + std::to_string(i + 1) +
         "] " + XmlEscape(all[i].name) + "</text>\n";
  }
  return s + "</svg>\n";
}

}  // namespace slm::eval

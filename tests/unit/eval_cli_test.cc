// End-to-end tests of slm eval / evidence merge / release build+verify /
// eval-compare on stories260K with the bundled cases (tests/data/eval).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/json.h"
#include "eval/evidence.h"
#include "kernels/kernels.h"
#include "test_util.h"

namespace slm {
namespace {

struct CliRun {
  int code;
  std::string out;
};

CliRun Slm(const std::string& args, const std::string& env = "") {
  CliRun r;
  r.code = test::RunCommand(env + test::CliPath() + " " + args, &r.out, true);
  return r;
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, const std::string& s) {
  std::ofstream f(path, std::ios::binary);
  f << s;
}

// The evidence JSON without the named top-level sections, compact.
std::string Without(const std::string& text, std::initializer_list<const char*> drop) {
  auto v = ParseJson(text, "evidence");
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  if (!v.ok()) return "";
  JsonValue out = JsonValue::Object();
  for (const auto& [k, m] : v->members()) {
    bool skip = false;
    for (const char* d : drop) skip = skip || k == d;
    if (!skip) out.Set(k, m);
  }
  return out.Dump();
}

eval::Evidence Parse(const std::string& path) {
  auto e = eval::ParseEvidence(ReadAll(path), path);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? *e : eval::Evidence{};
}

class EvalCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string bin = test::ModelPath("stories260K.bin");
    std::string tok = test::ModelPath("tok512.bin");
    std::string gguf = test::ModelPath("stories260K.gguf");
    if (bin.empty() || tok.empty() || gguf.empty()) return;
    pkg_ = test::TempPath("eval_stories.slm");
    other_pkg_ = test::TempPath("eval_stories_gguf.slm");
    cases_ = test::SourceDir() + "/tests/data/eval/stories260K.jsonl";
    convert_ = Slm("convert " + bin + " --tokenizer " + tok + " -o " + pkg_);
    Slm("convert " + gguf + " -o " + other_pkg_);
    ev1_ = test::TempPath("ev1.json");
    ev2_ = test::TempPath("ev2.json");
    run1_ = Slm("eval " + pkg_ + " --cases " + cases_ + " -o " + ev1_);
    run2_ = Slm("eval " + pkg_ + " --cases " + cases_ + " -o " + ev2_ + " --quiet");
  }
  void SetUp() override {
    ASSERT_EQ(convert_.code, 0) << convert_.out;
    ASSERT_EQ(run1_.code, 0) << run1_.out;
    ASSERT_EQ(run2_.code, 0) << run2_.out;
  }
  // A fresh packet of ev1 (optionally with the base).
  std::string BuildPacket(const std::string& name, bool include_base) {
    std::string dir = test::TempPath(name);
    CliRun b = Slm("release build --evidence " + ev1_ + " --model " + pkg_ + " --cases " + cases_ +
                   " -o " + dir + (include_base ? " --include-base" : ""));
    EXPECT_EQ(b.code, 0) << b.out;
    return dir;
  }
  static std::string pkg_, other_pkg_, cases_, ev1_, ev2_;
  static CliRun convert_, run1_, run2_;
};
std::string EvalCliTest::pkg_, EvalCliTest::other_pkg_, EvalCliTest::cases_, EvalCliTest::ev1_,
    EvalCliTest::ev2_;
CliRun EvalCliTest::convert_, EvalCliTest::run1_, EvalCliTest::run2_;

TEST_F(EvalCliTest, BundledCasesGiveTheDocumentedResults) {
  eval::Evidence e = Parse(ev1_);
  EXPECT_TRUE(e.complete);
  ASSERT_EQ(e.cases.size(), 11u);
  EXPECT_EQ(e.fitness.passed, 6);
  const char* passing[] = {"lily", "from-bos", "park", "dog-names", "where-lily-went", "mom-says"};
  for (const eval::CaseResult& c : e.cases) {
    bool want = false;
    for (const char* p : passing) want = want || c.id == p;
    EXPECT_EQ(c.pass, want) << c.id << ": " << c.output_text;
  }
  // The continuation tokenization scores exactly the ids the model emitted.
  const eval::CaseResult& lily = e.cases[0];
  ASSERT_TRUE(lily.loglik.present);
  std::vector<int32_t> head(lily.output_ids.begin(),
                            lily.output_ids.begin() + lily.loglik.target_ids.size());
  EXPECT_EQ(head, lily.loglik.target_ids);
  EXPECT_EQ(lily.output_text.rfind(", there was a little girl named Lily.", 0), 0u);
  EXPECT_FALSE(e.cases[8].loglik.present);  // regex without reference
  EXPECT_LT(e.fitness.mean_loglik, 0);
  EXPECT_GT(e.fitness.perplexity, 1);
  EXPECT_EQ(e.identity.package_digest.size(), 64u);
  EXPECT_GT(e.timing.peak_memory_bytes, 0u);
  EXPECT_NE(run1_.out.find("11/11 cases"), std::string::npos) << run1_.out;
}

TEST_F(EvalCliTest, TwoRunsAreByteIdenticalOutsideTiming) {
  std::string a = ReadAll(ev1_), b = ReadAll(ev2_);
  EXPECT_EQ(Without(a, {"timing"}), Without(b, {"timing"}));
  // And the file text itself up to the timing section.
  size_t ta = a.find("\"timing\""), tb = b.find("\"timing\"");
  ASSERT_NE(ta, std::string::npos);
  EXPECT_EQ(a.substr(0, ta), b.substr(0, tb));
}

TEST_F(EvalCliTest, EvidenceDoesNotDependOnThreadsOrKernels) {
  std::string t1 = test::TempPath("threads1.json"), t3 = test::TempPath("threads3.json");
  std::string scalar = test::TempPath("scalar.json");
  CliRun r1 = Slm("eval " + pkg_ + " --cases " + cases_ + " --quiet --threads 1 -o " + t1);
  CliRun r3 = Slm("eval " + pkg_ + " --cases " + cases_ + " --quiet --threads 3 -o " + t3);
  CliRun rs =
      Slm("eval " + pkg_ + " --cases " + cases_ + " --quiet -o " + scalar, "SLM_KERNELS=scalar ");
  ASSERT_EQ(r1.code, 0) << r1.out;
  ASSERT_EQ(r3.code, 0) << r3.out;
  ASSERT_EQ(rs.code, 0) << rs.out;
  const std::string want = Without(ReadAll(ev1_), {"timing", "environment"});
  EXPECT_EQ(Without(ReadAll(t1), {"timing", "environment"}), want);
  EXPECT_EQ(Without(ReadAll(t3), {"timing", "environment"}), want);
  EXPECT_EQ(Without(ReadAll(scalar), {"timing", "environment"}), want);
  EXPECT_EQ(Parse(t3).environment.threads, 3);
  EXPECT_EQ(Parse(scalar).environment.kernels, "scalar");
  // The contract travels with the evidence (read back from the file).
  EXPECT_EQ(Parse(scalar).environment.kernel_contract, kKernelContract);
  EXPECT_EQ(Parse(t3).environment.kernel_contract, kKernelContract);
}

TEST_F(EvalCliTest, ShardsInParallelProcessesMergeToTheSingleRun) {
  std::string cmd;
  std::vector<std::string> parts;
  for (int i = 0; i < 3; ++i) {
    parts.push_back(test::TempPath("shard" + std::to_string(i) + ".json"));
    cmd += test::CliPath() + " eval " + pkg_ + " --cases " + cases_ + " --quiet --shard " +
           std::to_string(i) + "/3 -o " + parts.back() + " & ";
  }
  std::string out;
  ASSERT_EQ(test::RunCommand("(" + cmd + "wait)", &out, true), 0) << out;
  eval::Evidence s1 = Parse(parts[1]);
  EXPECT_EQ(s1.identity.shard_index, 1);
  EXPECT_EQ(s1.cases.size(), 4u);  // indexes 1, 4, 7, 10
  std::string merged = test::TempPath("merged.json");
  CliRun m = Slm("evidence merge " + parts[2] + " " + parts[0] + " " + parts[1] + " -o " + merged);
  ASSERT_EQ(m.code, 0) << m.out;
  EXPECT_EQ(Without(ReadAll(merged), {"timing", "environment"}),
            Without(ReadAll(ev1_), {"timing", "environment"}));

  CliRun missing = Slm("evidence merge " + parts[0] + " " + parts[1] + " -o " + merged);
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.out.find("split into 3 shards, 2 given"), std::string::npos) << missing.out;
  CliRun dup =
      Slm("evidence merge " + parts[0] + " " + parts[1] + " " + parts[1] + " -o " + merged);
  EXPECT_EQ(dup.code, 1);
  EXPECT_NE(dup.out.find("exactly once"), std::string::npos) << dup.out;
  std::string other = test::TempPath("shard2_seed.json");
  ASSERT_EQ(
      Slm("eval " + pkg_ + " --cases " + cases_ + " --quiet --seed 5 --shard 2/3 -o " + other).code,
      0);
  CliRun mixed = Slm("evidence merge " + parts[0] + " " + parts[1] + " " + other + " -o " + merged);
  EXPECT_EQ(mixed.code, 1);
  EXPECT_NE(mixed.out.find("identity differs from shard 0"), std::string::npos) << mixed.out;
}

// deploy/run-local.sh drives the same scripts as the Kubernetes and Slurm
// jobs: 2 candidates x 2 shards, merged and compared.
TEST_F(EvalCliTest, DeployScriptsEvaluateAPopulation) {
  std::string cands = test::TempPath("cands.txt"), out = test::TempPath("population");
  WriteAll(cands, pkg_ + "\n" + other_pkg_ + "\n");
  std::string log;
  int rc = test::RunCommand("CANDIDATES=" + cands + " CASES=" + cases_ + " SHARDS=2 OUT=" + out +
                                " SLM=" + test::CliPath() + " PARALLEL=2 " + test::SourceDir() +
                                "/deploy/run-local.sh",
                            &log, true);
  ASSERT_EQ(rc, 0) << log;
  std::string base_name = "c0-eval_stories";
  EXPECT_EQ(Without(ReadAll(out + "/" + base_name + ".json"), {"timing", "environment"}),
            Without(ReadAll(ev1_), {"timing", "environment"}));
  EXPECT_NE(ReadAll(out + "/compare.txt").find("weighted pass rate"), std::string::npos);
  EXPECT_NE(ReadAll(out + "/compare.svg").find("</svg>"), std::string::npos);
}

TEST_F(EvalCliTest, SigintLeavesValidPartialEvidence) {
  // Many slow cases, so the run is still going when the signal arrives.
  std::string cases = test::TempPath("many.jsonl"), ev = test::TempPath("partial.json"),
              log = test::TempPath("partial.log");
  std::string text;
  for (int i = 0; i < 2000; ++i) {
    text += "{\"id\":\"c" + std::to_string(i) +
            "\",\"prompt\":\"Once upon a time\",\"expected\":\" there\",\"max_new_tokens\":200}\n";
  }
  WriteAll(cases, text);
  std::string out;
  ASSERT_EQ(test::RunCommand(test::CliPath() + " eval " + pkg_ + " --cases " + cases + " -o " + ev +
                                 " > " + log + " 2>&1 & echo $!",
                             &out),
            0);
  int pid = std::stoi(out);
  // Wait for the first progress line (the handler is installed by then).
  for (int i = 0; i < 600 && ReadAll(log).find("cases") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_NE(ReadAll(log).find("cases"), std::string::npos) << ReadAll(log);
  ASSERT_EQ(test::RunCommand("kill -INT " + std::to_string(pid), &out), 0);
  for (int i = 0; i < 600 && ReadAll(log).find("interrupted") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(ReadAll(log).find("interrupted (SIGINT): wrote partial evidence"), std::string::npos)
      << ReadAll(log);
  eval::Evidence e = Parse(ev);
  EXPECT_FALSE(e.complete);
  EXPECT_GE(e.cases.size(), 1u);
  EXPECT_LT(e.cases.size(), 2000u);
  for (size_t i = 0; i < e.cases.size(); ++i) EXPECT_EQ(e.cases[i].index, static_cast<int32_t>(i));
  // A partial run cannot be released.
  CliRun b = Slm("release build --evidence " + ev + " --model " + pkg_ + " --cases " + cases +
                 " -o " + test::TempPath("partial_packet"));
  EXPECT_EQ(b.code, 1);
  EXPECT_NE(b.out.find("partial"), std::string::npos) << b.out;
}

TEST_F(EvalCliTest, ReleaseVerifyPassesOnAnIntactPacket) {
  std::string dir = BuildPacket("packet_ok", true);
  CliRun v = Slm("release verify " + dir + " --quiet");  // base from the packet
  EXPECT_EQ(v.code, 0) << v.out;
  EXPECT_NE(v.out.find("bit-identical"), std::string::npos) << v.out;
  CliRun v2 = Slm("release verify " + dir + " --model " + pkg_ + " --quiet --threads 2");
  EXPECT_EQ(v2.code, 0) << v2.out;
  EXPECT_NE(ReadAll(dir + "/REPORT.md").find("| weighted pass rate | 0.6087 |"), std::string::npos);
  std::string sums;
  EXPECT_EQ(test::RunCommand("cd " + dir + " && sha256sum -c manifest.sha256", &sums, true), 0)
      << sums;
}

TEST_F(EvalCliTest, ReleaseVerifyDetectsAFlippedByteInEveryFile) {
  for (const char* file : {"manifest.json", "manifest.sha256", "evidence.json", "cases.jsonl",
                           "REPORT.md", "base.slm"}) {
    std::string dir = BuildPacket(std::string("packet_flip_") + file, true);
    std::string bytes = ReadAll(dir + "/" + file);
    ASSERT_GT(bytes.size(), 40u);
    bytes[bytes.size() / 2] ^= 0x01;
    WriteAll(dir + "/" + file, bytes);
    CliRun v = Slm("release verify " + dir + " --model " + pkg_ + " --quiet");
    EXPECT_EQ(v.code, 1) << file << "\n" << v.out;
    EXPECT_NE(v.out.find("integrity error"), std::string::npos) << file << "\n" << v.out;
    std::string named = std::string(file) == "manifest.sha256" ? "manifest.json" : file;
    EXPECT_NE(v.out.find("DIFFERS  " + named), std::string::npos) << file << "\n" << v.out;
  }
  std::string dir = BuildPacket("packet_extra", false);
  WriteAll(dir + "/extra.txt", "hi");
  CliRun v = Slm("release verify " + dir + " --model " + pkg_ + " --quiet");
  EXPECT_EQ(v.code, 1);
  EXPECT_NE(v.out.find("extra.txt: present in the packet but not listed"), std::string::npos)
      << v.out;
}

TEST_F(EvalCliTest, ReleaseVerifyDetectsADifferentBase) {
  std::string dir = BuildPacket("packet_base", false);
  CliRun v = Slm("release verify " + dir + " --model " + other_pkg_ + " --quiet");
  EXPECT_EQ(v.code, 1) << v.out;
  EXPECT_NE(v.out.find("base package differs"), std::string::npos) << v.out;
  CliRun none = Slm("release verify " + dir);
  EXPECT_EQ(none.code, 1);
  EXPECT_NE(none.out.find("does not include the base: give --model"), std::string::npos)
      << none.out;
}

TEST_F(EvalCliTest, ReleaseVerifyReportsExactlyWhatDiffersOnReplay) {
  // Evidence whose digests are all consistent but whose recorded results do
  // not match what the model does: one log-prob one ulp off, one token id.
  std::string text = ReadAll(ev1_);
  auto doc = ParseJson(text, "ev");
  ASSERT_TRUE(doc.ok());
  eval::Evidence e = Parse(ev1_);
  double lp = e.cases[2].loglik.token_logprobs[1];
  double nudged = std::nextafter(lp, 0.0);
  e.cases[2].loglik.token_logprobs[1] = nudged;
  e.cases[9].output_ids[3] += 1;
  std::string forged = test::TempPath("forged.json");
  WriteAll(forged, eval::SerializeEvidence(e));
  std::string dir = test::TempPath("packet_forged");
  CliRun b = Slm("release build --evidence " + forged + " --model " + pkg_ + " --cases " + cases_ +
                 " -o " + dir);
  ASSERT_EQ(b.code, 0) << b.out;
  CliRun v = Slm("release verify " + dir + " --model " + pkg_ + " --quiet");
  EXPECT_EQ(v.code, 1) << v.out;
  EXPECT_NE(v.out.find("case 'park' (index 2): log-prob of expected token 1: recorded"),
            std::string::npos)
      << v.out;
  EXPECT_NE(v.out.find("case 'tree-bird' (index 9): output ids differ at position 3"),
            std::string::npos)
      << v.out;
}

TEST_F(EvalCliTest, CompareShowsDifferencesFlipsAndChart) {
  std::string sampled = test::TempPath("sampled.json"), svg = test::TempPath("cmp.svg");
  ASSERT_EQ(
      Slm("eval " + pkg_ + " --cases " + cases_ + " --quiet --temp 1 --seed 3 -o " + sampled).code,
      0);
  CliRun c = Slm("eval-compare " + ev1_ + " " + sampled + " --svg " + svg);
  ASSERT_EQ(c.code, 0) << c.out;
  EXPECT_NE(c.out.find("weighted pass rate"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("tag story pass rate"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("flipped [1] -> [2]"), std::string::npos) << c.out;
  std::string chart = ReadAll(svg);
  EXPECT_EQ(chart.rfind("<svg", 0), 0u);
  EXPECT_NE(chart.find("</svg>"), std::string::npos);
  EXPECT_NE(chart.find("weather"), std::string::npos);
}

TEST_F(EvalCliTest, BadInputsAreRefusedWithLineNumbers) {
  std::string bad = test::TempPath("bad.jsonl");
  WriteAll(bad,
           "{\"id\":\"a\",\"prompt\":\"x\",\"expected\":\"y\",\"max_new_tokens\":3}\n"
           "{\"id\":\"b\",\"prompt\":\"x\",\"expected\":\"y\",\"max_new_tokens\":3,\"match\":"
           "\"near\"}\n");
  CliRun r = Slm("eval " + pkg_ + " --cases " + bad + " -o " + test::TempPath("bad.json"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("line 2: field 'match'"), std::string::npos) << r.out;
  WriteAll(bad,
           "{\"id\":\"a\",\"prompt\":\"x\",\"expected\":\"(y\",\"max_new_tokens\":3,\"match\":"
           "\"regex\"}\n");
  r = Slm("eval " + pkg_ + " --cases " + bad + " -o " + test::TempPath("bad.json"));
  EXPECT_NE(r.out.find("line 1: field 'expected': bad regex: regex at offset 0: unclosed '('"),
            std::string::npos)
      << r.out;
  r = Slm("eval " + pkg_ + " --cases " + cases_ + " --adapter a.slma -o " +
          test::TempPath("x.json"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("no such file 'a.slma'"), std::string::npos) << r.out;
  r = Slm("eval " + pkg_ + " --cases " + cases_ + " --shard 3/3 -o " + test::TempPath("x.json"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("expected I/N with 0 <= I < N"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace slm

// src/eval library: EvaluatePackage in-process, evidence serialization round
// trip and reader errors, merge rules, assembly checksum, and release packets
// built and checked in memory (every byte of every file flipped in turn).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "base/file.h"
#include "base/sha256.h"
#include "eval/evidence.h"
#include "eval/release.h"
#include "eval/runner.h"
#include "package/package.h"
#include "test_util.h"

namespace slm::eval {
namespace {

class EvalEvidenceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string bin = test::ModelPath("stories260K.bin");
    std::string tok = test::ModelPath("tok512.bin");
    if (bin.empty() || tok.empty()) return;
    pkg_path_ = test::TempPath("evidence_stories.slm");
    std::string out;
    if (test::RunCommand(
            test::CliPath() + " convert " + bin + " --tokenizer " + tok + " -o " + pkg_path_, &out,
            true) != 0) {
      pkg_path_.clear();
      return;
    }
    auto cases = ReadFileToString(test::SourceDir() + "/tests/data/eval/stories260K.jsonl");
    if (cases.ok()) cases_ = *cases;
  }
  void SetUp() override {
    ASSERT_FALSE(pkg_path_.empty()) << "converting stories260K failed";
    ASSERT_FALSE(cases_.empty());
    auto p = Package::Open(pkg_path_);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    pkg_ = std::move(p).value();
  }
  Evidence Run(int32_t shard = 0, int32_t shards = 1, uint64_t seed = 0) {
    EvalRequest req;
    req.cases_text = cases_;
    req.sampling.seed = seed;
    req.shard_index = shard;
    req.shard_count = shards;
    auto e = EvaluatePackage(*pkg_, req, nullptr, nullptr);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? *e : Evidence{};
  }
  static std::string pkg_path_, cases_;
  std::unique_ptr<Package> pkg_;
};
std::string EvalEvidenceTest::pkg_path_, EvalEvidenceTest::cases_;

TEST_F(EvalEvidenceTest, SerializeParseSerializeIsTheIdentity) {
  Evidence e = Run();
  ASSERT_TRUE(e.complete);
  std::string text = SerializeEvidence(e);
  auto back = ParseEvidence(text, "e.json");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(SerializeEvidence(*back), text);
  EXPECT_EQ(DeterministicPart(*back), DeterministicPart(e));
}

TEST_F(EvalEvidenceTest, ReaderErrorsNameThePath) {
  std::string text = SerializeEvidence(Run());
  struct Edit {
    std::string from, to, msg;
  } edits[] = {
      {"\"schema_version\": 1", "\"schema_version\": 2",
       "e.json: schema_version: expected 1, found 2"},
      {"\"output_ids\"", "\"output_idz\"", "e.json: cases[0].output_ids: missing"},
      {"\"pass\": false", "\"pass\": true", "fitness: does not match the fitness recomputed"},
      {"\"seed\": 0", "\"seed\": \"0\"", "identity.sampling.seed: expected number, found string"},
      {"\"kind\": \"slm-evidence\"", "\"kind\": \"other\"", "kind: expected 'slm-evidence'"},
  };
  for (const Edit& ed : edits) {
    std::string t = text;
    size_t at = t.find(ed.from);
    ASSERT_NE(at, std::string::npos) << ed.from;
    t.replace(at, ed.from.size(), ed.to);
    auto e = ParseEvidence(t, "e.json");
    ASSERT_FALSE(e.ok()) << ed.to;
    EXPECT_NE(e.status().message().find(ed.msg), std::string::npos) << e.status().message();
  }
}

// Timing counts are informational but typed: a count out of range, negative
// or fractional is refused, never cast (4.4e19 was undefined behaviour; found
// by the eval_evidence fuzzer). Missing counts read as 0.
TEST_F(EvalEvidenceTest, TimingCountsOutOfRangeAreRefused) {
  const std::string text = SerializeEvidence(Run());
  const std::string key = "\"generated_tokens\": ";
  const size_t at = text.find(key);
  ASSERT_NE(at, std::string::npos);
  const size_t v0 = at + key.size();
  const size_t v1 = text.find_first_of(",\n}", v0);
  for (const char* bad : {"4.4e19", "-3", "1.5"}) {
    std::string t = text;
    t.replace(v0, v1 - v0, bad);
    auto e = ParseEvidence(t, "e.json");
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_NE(e.status().message().find("timing.generated_tokens"), std::string::npos)
        << e.status().message();
  }
  std::string t = text;
  t.replace(at, v1 - at, "\"generated_tokenz\": 1");
  auto e = ParseEvidence(t, "e.json");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->timing.generated_tokens, 0);
}

TEST_F(EvalEvidenceTest, ShardsMergeInProcessAndBadSetsAreRefused) {
  Evidence single = Run();
  std::vector<Evidence> shards = {Run(1, 2), Run(0, 2)};
  EXPECT_EQ(shards[0].cases.size(), 5u);
  auto merged = MergeEvidence(shards);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(DeterministicPart(*merged), DeterministicPart(single));

  std::vector<Evidence> partial = shards;
  partial[1].complete = false;
  auto p = MergeEvidence(partial);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("shard 0/2 is incomplete"), std::string::npos)
      << p.status().message();
  std::vector<Evidence> mixed = {Run(1, 2), Run(0, 2, 9)};
  auto m = MergeEvidence(mixed);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("identity differs"), std::string::npos);
  EXPECT_FALSE(MergeEvidence({}).ok());
}

TEST(EvalAssembly, ChecksumChangesWithEveryAdapterAndScale) {
  const std::string base(64, 'a');
  std::string none = AssemblyChecksum(base, {});
  std::string one = AssemblyChecksum(base, {{std::string(64, 'b'), 1.0, 10}});
  std::string half = AssemblyChecksum(base, {{std::string(64, 'b'), 0.5, 10}});
  std::string two =
      AssemblyChecksum(base, {{std::string(64, 'b'), 1.0, 10}, {std::string(64, 'c'), 1.0, 10}});
  std::string swapped =
      AssemblyChecksum(base, {{std::string(64, 'c'), 1.0, 10}, {std::string(64, 'b'), 1.0, 10}});
  std::set<std::string> all = {none, one, half, two, swapped};
  EXPECT_EQ(all.size(), 5u);
  EXPECT_NE(AssemblyChecksum(std::string(64, 'd'), {}), none);
  EXPECT_EQ(none.size(), 64u);
}

TEST_F(EvalEvidenceTest, PacketCheckCatchesEveryFlippedByte) {
  Evidence e = Run();
  const std::string evidence = SerializeEvidence(e);
  auto files = BuildPacket(evidence, cases_, *pkg_, /*include_base=*/false);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  std::map<std::string, std::string> fs;
  std::vector<std::string> listing;
  for (const PacketFile& f : *files) {
    fs[f.path] = f.bytes;
    listing.push_back(f.path);
  }
  auto reader = [&](const std::string& p) -> StatusOr<std::string> {
    auto it = fs.find(p);
    if (it == fs.end()) return NotFound("missing from the packet");
    return it->second;
  };
  PacketCheck ok = CheckPacket(reader, listing);
  ASSERT_TRUE(ok.problems.empty()) << ok.problems[0];
  EXPECT_EQ(ok.evidence.cases.size(), 11u);
  EXPECT_EQ(ok.cases_text, cases_);
  EXPECT_FALSE(ok.base_included);
  // Flip one bit at up to 97 evenly spread positions of every file.
  int checked = 0;
  for (const std::string& name : listing) {
    const std::string original = fs[name];
    const size_t step = std::max<size_t>(1, original.size() / 97);
    for (size_t at = 0; at < original.size(); at += step) {
      fs[name][at] ^= 0x20;
      PacketCheck c = CheckPacket(reader, listing);
      EXPECT_FALSE(c.problems.empty()) << name << " byte " << at;
      fs[name] = original;
      ++checked;
    }
  }
  EXPECT_GT(checked, 300);
  // A manifest naming a file outside the packet is refused, even when its
  // digest line is consistent.
  {
    auto saved = fs;
    std::string& m = fs["manifest.json"];
    const std::string from = "\"path\": \"cases.jsonl\"";
    m.replace(m.find(from), from.size(), "\"path\": \"../cases.jsonl\"");
    fs["manifest.sha256"] = DigestHex(Sha256Of(m)) + "  manifest.json\n";
    PacketCheck c = CheckPacket(reader, listing);
    ASSERT_FALSE(c.problems.empty());
    EXPECT_NE(c.problems[0].find("'../cases.jsonl' is not a plain relative path"),
              std::string::npos)
        << c.problems[0];
    fs = saved;
  }
  // A missing file is named.
  fs.erase("cases.jsonl");
  PacketCheck missing = CheckPacket(reader, listing);
  ASSERT_FALSE(missing.problems.empty());
  EXPECT_NE(missing.problems[0].find("cases.jsonl: listed in the manifest but missing"),
            std::string::npos)
      << missing.problems[0];
}

TEST_F(EvalEvidenceTest, BuildRefusesMismatchedInputs) {
  Evidence e = Run();
  std::string ev = SerializeEvidence(e);
  auto wrong_cases = BuildPacket(ev, cases_ + "\n", *pkg_, false);
  ASSERT_FALSE(wrong_cases.ok());
  EXPECT_NE(wrong_cases.status().message().find("cases file digest"), std::string::npos);
  Evidence shard = Run(0, 2);
  auto sharded = BuildPacket(SerializeEvidence(shard), cases_, *pkg_, false);
  ASSERT_FALSE(sharded.ok());
  EXPECT_NE(sharded.status().message().find("merge the shards first"), std::string::npos);
}

TEST_F(EvalEvidenceTest, ReplayComparesBitsAndNamesTheBase) {
  Evidence e = Run();
  auto same = ReplayEvidence(e, cases_, *pkg_, {}, 1, nullptr, nullptr);
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_TRUE(same->empty()) << (*same)[0];
  Evidence off = e;
  off.cases[0].loglik.token_logprobs[0] =
      std::nextafter(off.cases[0].loglik.token_logprobs[0], 0.0);
  off.cases[4].output_ids.pop_back();
  auto diff = ReplayEvidence(off, cases_, *pkg_, {}, 2, nullptr, nullptr);
  ASSERT_TRUE(diff.ok());
  ASSERT_EQ(diff->size(), 2u);
  EXPECT_NE((*diff)[0].find("case 'lily' (index 0): log-prob of expected token 0: recorded"),
            std::string::npos)
      << (*diff)[0];
  EXPECT_NE((*diff)[1].find("output ids differ at position"), std::string::npos) << (*diff)[1];
  Evidence other = e;
  other.identity.package_digest = std::string(64, '0');
  auto base = ReplayEvidence(other, cases_, *pkg_, {}, 0, nullptr, nullptr);
  ASSERT_TRUE(base.ok());
  ASSERT_EQ(base->size(), 1u);
  EXPECT_NE((*base)[0].find("base package differs"), std::string::npos);
}

}  // namespace
}  // namespace slm::eval

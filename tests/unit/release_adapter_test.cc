// Release packets that carry adapters (src/eval/release.h): the packet holds
// the adapter packages, verification replays base + adapters bit for bit, and
// a changed scale, a different base or a damaged adapter file is reported.
#include <gtest/gtest.h>

#include "adapter/adapter_package.h"
#include "adapter/diff.h"
#include "base/file.h"
#include "eval/evidence.h"
#include "eval/release.h"
#include "eval/runner.h"
#include "import/import.h"
#include "package/package.h"
#include "test_util.h"

namespace slm::eval {
namespace {

ModelBundle Import(const std::string& path) {
  ImportOptions o;
  o.tokenizer_path = test::ModelPath("tok512.bin");
  auto b = ImportModel(path, o);
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  return b.ok() ? std::move(b).value() : ModelBundle{};
}

class ReleaseAdapter : public ::testing::Test {
 protected:
  void SetUp() override {
    auto base = SerializePackage(Import(test::ModelPath("stories260K.bin")));
    ASSERT_TRUE(base.ok()) << base.status().ToString();
    base_bytes_ = std::move(base).value();
    auto pkg = Package::FromMemory(base_bytes_, "base.slm");
    ASSERT_TRUE(pkg.ok()) << pkg.status().ToString();
    pkg_ = std::move(pkg).value();
    // A rank-4 child adapter from the fine-tune fixture (tests/adapter).
    ModelBundle base_bundle = Import(test::ModelPath("stories260K.bin"));
    ModelBundle child = Import(test::SourceDir() + "/tests/adapter/child.bin");
    DiffOptions o;
    o.kind = DeltaKind::kLowRank;
    o.rank = 4;
    auto d = DiffModels(base_bundle, child, o);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    auto bytes = SerializeAdapter(d->adapter);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    adapter_.assign(bytes->begin(), bytes->end());
    auto file = ParseAdapterPackage(*bytes, "child");
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    file_ = std::move(file).value();
    auto cases = ReadFileToString(test::SourceDir() + "/tests/data/eval/stories260K.jsonl");
    ASSERT_TRUE(cases.ok());
    cases_ = *cases;
  }
  std::string Evaluate(float scale) {
    EvalRequest req;
    req.cases_text = cases_;
    EvalAdapter a{&file_.adapter, file_.digest, scale, file_.bytes};
    auto e = EvaluatePackageWith(*pkg_, req, {&a, 1}, nullptr, nullptr);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? SerializeEvidence(*e) : "";
  }
  std::vector<std::string> Replay(const std::vector<PacketFile>& files, const Package& base) {
    std::vector<std::string> listing;
    for (const PacketFile& f : files) listing.push_back(f.path);
    PacketReader read = [&](const std::string& path) -> StatusOr<std::string> {
      for (const PacketFile& f : files) {
        if (f.path == path) return f.bytes;
      }
      return NotFound("missing");
    };
    PacketCheck c = CheckPacket(read, listing);
    if (!c.problems.empty()) return c.problems;
    EXPECT_EQ(c.adapters.size(), 1u);
    auto d = ReplayEvidence(c.evidence, c.cases_text, base, c.adapters, 1, nullptr, nullptr);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : std::vector<std::string>{"replay failed"};
  }
  std::vector<uint8_t> base_bytes_;
  std::unique_ptr<Package> pkg_;
  std::string adapter_;
  AdapterFile file_;
  std::string cases_;
};

TEST_F(ReleaseAdapter, PacketWithAnAdapterReplaysBitForBit) {
  const std::string ev = Evaluate(1.0f);
  auto files = BuildPacket(ev, cases_, *pkg_, false, {adapter_});
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  bool has_adapter = false;
  for (const PacketFile& f : *files)
    has_adapter |= f.path == "adapter-0.slm" && f.bytes == adapter_;
  EXPECT_TRUE(has_adapter);
  EXPECT_EQ(Replay(*files, *pkg_), std::vector<std::string>{});
  // Without the adapter, or with another one, the packet is not built.
  EXPECT_FALSE(BuildPacket(ev, cases_, *pkg_, false, {}).ok());
  std::string other = adapter_;
  other[other.size() - 1] ^= 1;
  EXPECT_FALSE(BuildPacket(ev, cases_, *pkg_, false, {other}).ok());
}

TEST_F(ReleaseAdapter, ChangedScaleIsDetected) {
  // Evidence claiming scale 0.5 for outputs made at scale 1 (the packet is
  // otherwise consistent: every digest re-made) fails the replay.
  std::string ev = Evaluate(1.0f);
  const std::string from = "\"scale\": 1", to = "\"scale\": 0.5";
  const size_t at = ev.find(from);
  ASSERT_NE(at, std::string::npos);
  ev.replace(at, from.size(), to);
  auto files = BuildPacket(ev, cases_, *pkg_, false, {adapter_});
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  const auto diffs = Replay(*files, *pkg_);
  ASSERT_FALSE(diffs.empty());
  std::string all;
  for (const std::string& d : diffs) all += d + "\n";
  EXPECT_NE(all.find("case '"), std::string::npos) << all;  // outputs / log-likelihoods differ
}

TEST_F(ReleaseAdapter, DifferentBaseAndDamagedAdapterAreDetected) {
  auto files = BuildPacket(Evaluate(1.0f), cases_, *pkg_, false, {adapter_});
  ASSERT_TRUE(files.ok());
  auto q8 = SerializePackage(Import(test::ModelPath("stories260K-q8.bin")));
  ASSERT_TRUE(q8.ok());
  auto other = Package::FromMemory(*q8, "q8.slm");
  ASSERT_TRUE(other.ok());
  const auto d = Replay(*files, **other);
  ASSERT_FALSE(d.empty());
  EXPECT_NE(d[0].find("base package differs"), std::string::npos) << d[0];

  std::vector<PacketFile> damaged = *files;
  for (PacketFile& f : damaged) {
    if (f.path == "adapter-0.slm") f.bytes[f.bytes.size() / 2] ^= 1;
  }
  const auto p = Replay(damaged, *pkg_);
  ASSERT_FALSE(p.empty());
  EXPECT_NE(p[0].find("adapter-0.slm"), std::string::npos) << p[0];
}

}  // namespace
}  // namespace slm::eval

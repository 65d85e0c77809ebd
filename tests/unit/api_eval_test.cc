// The evaluation / release-packet part of the C ABI on stories260K: the
// stepped run writes the evidence one `slm eval` run writes, its packet
// archive verifies, and tampering or a different base is reported.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/file.h"
#include "eval/archive.h"
#include "eval/evidence.h"
#include "eval/runner.h"
#include "import/import.h"
#include "package/package.h"
#include "slm/slm.h"
#include "test_util.h"

namespace slm {
namespace {

std::vector<uint8_t> Convert(const std::string& model) {
  ImportOptions o;
  o.tokenizer_path = test::ModelPath("tok512.bin");
  auto b = ImportModel(test::ModelPath(model), o);
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  if (!b.ok()) return {};
  auto s = SerializePackage(*b);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : std::vector<uint8_t>{};
}

std::string Cases() {
  auto t = ReadFileToString(test::SourceDir() + "/tests/data/eval/stories260K.jsonl");
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : "";
}

class ApiEval : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { bytes_ = new std::vector<uint8_t>(Convert("stories260K.bin")); }
  void SetUp() override {
    ASSERT_FALSE(bytes_->empty());
    pkg_ = test::OpenPackageBytes(*bytes_, "pkg");
    ASSERT_NE(pkg_, nullptr);
    ASSERT_EQ(slm_session_create(pkg_, nullptr, &session_), SLM_OK) << slm_last_error();
  }
  void TearDown() override {
    slm_session_destroy(session_);
    slm_package_destroy(pkg_);
  }
  // Runs every case through the stepped API; returns the evaluation.
  slm_eval* RunAll(const std::string& cases) {
    slm_eval* e = nullptr;
    EXPECT_EQ(slm_eval_begin(session_, cases.data(), cases.size(), nullptr, &e), SLM_OK)
        << slm_last_error();
    int32_t done = 0, total = -1, steps = 0;
    while (e != nullptr && done != total) {
      EXPECT_EQ(slm_eval_step(e, &done, &total), SLM_OK) << slm_last_error();
      size_t len = 0;
      EXPECT_NE(slm_eval_last_case(e, &len), nullptr);
      EXPECT_GT(len, 0u);
      if (++steps > 1000) break;
    }
    return e;
  }
  static std::vector<uint8_t>* bytes_;
  slm_package* pkg_ = nullptr;
  slm_session* session_ = nullptr;
};
std::vector<uint8_t>* ApiEval::bytes_ = nullptr;

TEST_F(ApiEval, SteppedRunWritesTheEvidenceOfOneRun) {
  const std::string cases = Cases();
  slm_eval* e = RunAll(cases);
  ASSERT_NE(e, nullptr);
  size_t len = 0;
  const char* text = slm_eval_evidence(e, &len);
  ASSERT_NE(text, nullptr) << slm_last_error();
  auto stepped = eval::ParseEvidence(std::string_view(text, len), "stepped");
  ASSERT_TRUE(stepped.ok()) << stepped.status().ToString();
  EXPECT_TRUE(stepped->complete);

  auto pkg = Package::FromMemory(*bytes_, "pkg");
  ASSERT_TRUE(pkg.ok());
  eval::EvalRequest req;
  req.cases_text = cases;
  req.cases_source = "cases";
  auto single = eval::EvaluatePackage(**pkg, req, nullptr, nullptr);
  ASSERT_TRUE(single.ok()) << single.status().ToString();
  EXPECT_EQ(eval::DeterministicPart(*stepped), eval::DeterministicPart(*single));
  EXPECT_GT(stepped->cases.size(), 3u);
  slm_eval_destroy(e);
}

TEST_F(ApiEval, PacketArchiveVerifiesAndTamperingIsReported) {
  slm_eval* e = RunAll(Cases());
  ASSERT_NE(e, nullptr);
  size_t len = 0;
  const uint8_t* a = slm_eval_release(e, 0, &len);
  ASSERT_NE(a, nullptr) << slm_last_error();
  const std::string archive(reinterpret_cast<const char*>(a), len);
  slm_eval_destroy(e);

  slm_verify* v = nullptr;
  ASSERT_EQ(slm_release_verify(
                pkg_, a == nullptr ? nullptr : reinterpret_cast<const uint8_t*>(archive.data()),
                archive.size(), &v),
            SLM_OK)
      << slm_last_error();
  size_t rlen = 0;
  std::string report(slm_verify_report(v, &rlen), rlen);
  EXPECT_EQ(slm_verify_ok(v), 1) << report;
  slm_verify_destroy(v);

  // Without a base and without base.slm inside: refused, naming what is missing.
  EXPECT_EQ(slm_release_verify(nullptr, reinterpret_cast<const uint8_t*>(archive.data()),
                               archive.size(), &v),
            SLM_INVALID_ARGUMENT);
  EXPECT_NE(std::string(slm_last_error()).find("does not include the base"), std::string::npos);

  // One changed byte inside evidence.json (checksum of the tar header intact):
  // the manifest digest no longer matches.
  auto members =
      eval::ReadArchive({reinterpret_cast<const uint8_t*>(archive.data()), archive.size()});
  ASSERT_TRUE(members.ok());
  for (auto& m : *members) {
    if (m.name == "evidence.json") m.bytes[m.bytes.size() / 2] ^= 1;
  }
  const std::string tampered = *eval::WriteArchive(*members);
  ASSERT_EQ(slm_release_verify(pkg_, reinterpret_cast<const uint8_t*>(tampered.data()),
                               tampered.size(), &v),
            SLM_OK);
  report.assign(slm_verify_report(v, &rlen), rlen);
  EXPECT_EQ(slm_verify_ok(v), 0);
  EXPECT_NE(report.find("evidence.json"), std::string::npos) << report;
  slm_verify_destroy(v);

  // A truncated archive is a format error, not a crash.
  EXPECT_EQ(slm_release_verify(pkg_, reinterpret_cast<const uint8_t*>(archive.data()), 700, &v),
            SLM_FORMAT_ERROR);
}

TEST_F(ApiEval, IncludedBaseVerifiesAloneAndADifferentBaseDiffers) {
  slm_eval* e = RunAll(Cases());
  ASSERT_NE(e, nullptr);
  size_t len = 0;
  const uint8_t* a = slm_eval_release(e, 1, &len);
  ASSERT_NE(a, nullptr) << slm_last_error();
  const std::string archive(reinterpret_cast<const char*>(a), len);
  slm_eval_destroy(e);
  EXPECT_GT(archive.size(), bytes_->size());

  slm_verify* v = nullptr;
  ASSERT_EQ(slm_release_verify(nullptr, reinterpret_cast<const uint8_t*>(archive.data()),
                               archive.size(), &v),
            SLM_OK)
      << slm_last_error();
  size_t rlen = 0;
  EXPECT_EQ(slm_verify_ok(v), 1) << std::string(slm_verify_report(v, &rlen), rlen);
  slm_verify_destroy(v);

  // The int8 export of the same model: another base, so the replay differs
  // (or is refused) — never a silent pass.
  slm_package* other = test::OpenPackageBytes(Convert("stories260K-q8.bin"), "pkg");
  ASSERT_NE(other, nullptr);
  const slm_status st = slm_release_verify(other, reinterpret_cast<const uint8_t*>(archive.data()),
                                           archive.size(), &v);
  if (st == SLM_OK) {
    std::string report(slm_verify_report(v, &rlen), rlen);
    EXPECT_EQ(slm_verify_ok(v), 0) << report;
    slm_verify_destroy(v);
  } else {
    EXPECT_NE(std::string(slm_last_error()).find("digest"), std::string::npos) << slm_last_error();
  }
  slm_package_destroy(other);
}

TEST_F(ApiEval, BadCasesAreRefusedWithTheLine) {
  const std::string bad =
      "{\"id\": \"a\", \"prompt\": \"x\", \"expected\": \"y\", \"max_new_tokens\": 4}\n"
      "{\"id\": \"b\"}\n";
  slm_eval* e = nullptr;
  EXPECT_NE(slm_eval_begin(session_, bad.data(), bad.size(), nullptr, &e), SLM_OK);
  EXPECT_EQ(e, nullptr);
  EXPECT_NE(std::string(slm_last_error()).find("line 2"), std::string::npos) << slm_last_error();
  size_t len = 1;
  EXPECT_EQ(slm_eval_evidence(nullptr, &len), nullptr);
  EXPECT_EQ(len, 0u);
}

}  // namespace
}  // namespace slm

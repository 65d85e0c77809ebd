// End to end through the slm binary on stories260K and the committed
// fine-tune (tests/adapter/child.bin): adapter diff -> inspect -> validate ->
// generate --adapter == the child; merge == the child; wrong base refused;
// scale 0 == base; eval evidence records adapter digest, scale and the same
// assembly checksum the runtime reports; PEFT / LoRA GGUF detection.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "base/json.h"
#include "test_util.h"

namespace slm {
namespace {

struct CliRun {
  int code;
  std::string out;
};

CliRun Slm(const std::string& args) {
  CliRun r;
  r.code = test::RunCommand(test::CliPath() + " " + args, &r.out, true);
  return r;
}

JsonValue Json(const std::string& text) {
  auto v = ParseJson(text, "output");
  EXPECT_TRUE(v.ok()) << v.status().ToString() << "\n" << text;
  return v.ok() ? *v : JsonValue();
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const char kPrompt[] = " --prompt-ids 1,403,407,261,378,309,417 -n 24 --json";

class AdapterCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string tok = test::ModelPath("tok512.bin");
    const std::string model = test::ModelPath("stories260K.bin");
    ASSERT_FALSE(tok.empty() || model.empty());
    base_ = new std::string(test::TempPath("adapter_cli_base.slm"));
    child_ = new std::string(test::TempPath("adapter_cli_child.slm"));
    raw_ = new std::string(test::TempPath("adapter_cli_raw.slm"));
    CliRun r = Slm("convert " + model + " --tokenizer " + tok + " -o " + *base_);
    ASSERT_EQ(r.code, 0) << r.out;
    r = Slm("convert " + test::SourceDir() + "/tests/adapter/child.bin --tokenizer " + tok +
            " -o " + *child_);
    ASSERT_EQ(r.code, 0) << r.out;
    r = Slm("adapter diff " + *base_ + " " + *child_ + " --kind raw -o " + *raw_);
    ASSERT_EQ(r.code, 0) << r.out;
  }
  static void TearDownTestSuite() {
    delete base_;
    delete child_;
    delete raw_;
  }
  static std::vector<double> Ids(const std::string& out) {
    std::vector<double> ids;
    JsonValue j = Json(out);
    if (const JsonValue* a = j.Find("ids"))
      for (const JsonValue& v : a->items()) ids.push_back(v.as_number());
    return ids;
  }
  static std::string *base_, *child_, *raw_;
};
std::string* AdapterCli::base_ = nullptr;
std::string* AdapterCli::child_ = nullptr;
std::string* AdapterCli::raw_ = nullptr;

TEST_F(AdapterCli, RawDiffAppliedAtRuntimeReproducesTheChild) {
  CliRun child = Slm("generate " + *child_ + kPrompt);
  CliRun base = Slm("generate " + *base_ + kPrompt);
  CliRun applied = Slm("generate " + *base_ + " --adapter " + *raw_ + kPrompt);
  ASSERT_EQ(applied.code, 0) << applied.out;
  EXPECT_NE(Ids(base.out), Ids(child.out));
  EXPECT_EQ(Ids(applied.out), Ids(child.out));
  JsonValue d = *Json(applied.out).Find("diagnostics");
  ASSERT_EQ(d.Find("adapters")->size(), 1u);
  const JsonValue& a = d.Find("adapters")->items()[0];
  EXPECT_EQ(a.Find("format")->as_string(), "slm");
  EXPECT_EQ(a.Find("scale")->as_number(), 1.0);

  // inspect and validate agree on the digest; validate's checksum = runtime's.
  CliRun inspect = Slm("adapter inspect " + *raw_ + " --json");
  ASSERT_EQ(inspect.code, 0) << inspect.out;
  JsonValue info = Json(inspect.out);
  EXPECT_EQ(info.Find("digest")->as_string(), a.Find("digest")->as_string());
  EXPECT_GT(info.Find("deltas")->size(), 10u);
  EXPECT_EQ(info.Find("lineage")->Find("method")->as_string(), "diff raw f32");
  CliRun validate = Slm("adapter validate " + *base_ + " " + *raw_ + " --json");
  ASSERT_EQ(validate.code, 0) << validate.out;
  EXPECT_EQ(Json(validate.out).Find("assembly_checksum")->as_string(),
            d.Find("assembly_checksum")->as_string());
  CliRun text = Slm("adapter inspect " + *raw_);
  EXPECT_NE(text.out.find("blk.0.attn_q.weight"), std::string::npos) << text.out;

  // logits --json with the adapter carries the same checksum.
  CliRun logits = Slm("logits " + *base_ + " --adapter " + *raw_ + " --prompt-ids 1,403 --json");
  ASSERT_EQ(logits.code, 0) << logits.out;
  EXPECT_EQ(Json(logits.out).Find("assembly_checksum")->as_string(),
            d.Find("assembly_checksum")->as_string());
}

TEST_F(AdapterCli, MergeScaleZeroAndStacking) {
  const std::string merged = test::TempPath("adapter_cli_merged.slm");
  CliRun m = Slm("adapter merge " + *base_ + " " + *raw_ + " -o " + merged);
  ASSERT_EQ(m.code, 0) << m.out;
  CliRun child = Slm("generate " + *child_ + kPrompt);
  EXPECT_EQ(Ids(Slm("generate " + merged + kPrompt).out), Ids(child.out));
  // Scale 0: the base's tokens, a different checksum.
  CliRun base = Slm("generate " + *base_ + kPrompt);
  CliRun zero = Slm("generate " + *base_ + " --adapter " + *raw_ + ":0" + kPrompt);
  ASSERT_EQ(zero.code, 0) << zero.out;
  EXPECT_EQ(Ids(zero.out), Ids(base.out));
  // Half + half = the whole delta (stacked in order).
  CliRun halves = Slm("generate " + *base_ + " --adapter " + *raw_ + ":0.5 --adapter " + *raw_ +
                      ":0.5" + kPrompt);
  ASSERT_EQ(halves.code, 0) << halves.out;
  EXPECT_EQ(Ids(halves.out), Ids(child.out));
  EXPECT_EQ(Json(halves.out).Find("diagnostics")->Find("adapters")->size(), 2u);
  EXPECT_NE(Json(halves.out).Find("diagnostics")->Find("assembly_checksum")->as_string(),
            Json(zero.out).Find("diagnostics")->Find("assembly_checksum")->as_string());
  // Re-quantized merge.
  const std::string q8 = test::TempPath("adapter_cli_merged_q8.slm");
  m = Slm("adapter merge " + *base_ + " " + *raw_ + ":1 -o " + q8 + " --type q8_0");
  ASSERT_EQ(m.code, 0) << m.out;
  CliRun inspect = Slm("inspect " + q8);
  EXPECT_NE(inspect.out.find("q8_0"), std::string::npos) << inspect.out;
}

TEST_F(AdapterCli, WrongBaseAndNonAdaptersAreRefused) {
  // The child has the same shapes but other weights.
  CliRun r = Slm("adapter validate " + *child_ + " " + *raw_);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("wrong base"), std::string::npos) << r.out;
  JsonValue info = Json(Slm("adapter inspect " + *raw_ + " --json").out);
  EXPECT_NE(r.out.find(info.Find("base_compat_digest")->as_string()), std::string::npos) << r.out;
  r = Slm("generate " + *child_ + " --adapter " + *raw_ + kPrompt);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("wrong base"), std::string::npos) << r.out;
  r = Slm("generate " + *base_ + " --adapter " + *child_ + kPrompt);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("is a model package"), std::string::npos) << r.out;
  r = Slm("adapter inspect " + *base_);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("expected 1 (adapter)"), std::string::npos) << r.out;
  r = Slm("adapter frobnicate x y");
  EXPECT_EQ(r.code, 1);
}

TEST_F(AdapterCli, ImportedAdaptersAreDetected) {
  const std::string dir = test::SourceDir() + "/tests/adapter/";
  CliRun peft = Slm("generate " + *base_ + " --adapter " + dir + "peft" + kPrompt);
  ASSERT_EQ(peft.code, 0) << peft.out;
  CliRun gguf = Slm("generate " + *base_ + " --adapter " + dir + "lora.gguf" + kPrompt);
  ASSERT_EQ(gguf.code, 0) << gguf.out;
  EXPECT_EQ(
      Json(peft.out).Find("diagnostics")->Find("adapters")->items()[0].Find("format")->as_string(),
      "peft");
  EXPECT_EQ(
      Json(gguf.out).Find("diagnostics")->Find("adapters")->items()[0].Find("format")->as_string(),
      "lora-gguf");
  // Same LoRA, two containers: same greedy tokens.
  EXPECT_EQ(Ids(peft.out), Ids(gguf.out));
  CliRun v = Slm("adapter validate " + *base_ + " " + dir + "peft");
  EXPECT_EQ(v.code, 0) << v.out;
  CliRun ins = Slm("adapter inspect " + dir + "peft --base " + *base_ + " --json");
  ASSERT_EQ(ins.code, 0) << ins.out;
  JsonValue info = Json(ins.out);
  EXPECT_EQ(info.Find("deltas")->items()[0].Find("kind")->as_string(), "lowrank");
  EXPECT_EQ(
      info.Find("digest")->as_string(),
      Json(peft.out).Find("diagnostics")->Find("adapters")->items()[0].Find("digest")->as_string());
}

TEST_F(AdapterCli, EvalEvidenceRecordsAdaptersAndChecksum) {
  const std::string cases = test::TempPath("adapter_cli_cases.jsonl");
  {
    std::ofstream f(cases);
    f << "{\"id\":\"a\",\"prompt\":\"Once upon a time\",\"expected\":\" there\","
         "\"max_new_tokens\":8}\n";
  }
  const std::string ev = test::TempPath("adapter_cli_evidence.json");
  CliRun r =
      Slm("eval " + *base_ + " --cases " + cases + " --adapter " + *raw_ + ":0.5 --quiet -o " + ev);
  ASSERT_EQ(r.code, 0) << r.out;
  JsonValue e = Json(ReadAll(ev));
  const JsonValue& id = *e.Find("identity");
  ASSERT_EQ(id.Find("adapters")->size(), 1u);
  const JsonValue& a = id.Find("adapters")->items()[0];
  JsonValue info = Json(Slm("adapter inspect " + *raw_ + " --json").out);
  EXPECT_EQ(a.Find("digest")->as_string(), info.Find("digest")->as_string());
  EXPECT_EQ(a.Find("scale")->as_number(), 0.5);
  EXPECT_EQ(a.Find("bytes")->as_number(), info.Find("bytes")->as_number());
  CliRun g = Slm("generate " + *base_ + " --adapter " + *raw_ + ":0.5" + kPrompt);
  EXPECT_EQ(id.Find("assembly_checksum")->as_string(),
            Json(g.out).Find("diagnostics")->Find("assembly_checksum")->as_string());
  // Without adapters the evidence checksum is the base-only assembly checksum.
  const std::string ev0 = test::TempPath("adapter_cli_evidence0.json");
  r = Slm("eval " + *base_ + " --cases " + cases + " --quiet -o " + ev0);
  ASSERT_EQ(r.code, 0) << r.out;
  CliRun g0 = Slm("generate " + *base_ + kPrompt);
  EXPECT_EQ(Json(ReadAll(ev0)).Find("identity")->Find("assembly_checksum")->as_string(),
            Json(g0.out).Find("diagnostics")->Find("assembly_checksum")->as_string());
}

}  // namespace
}  // namespace slm

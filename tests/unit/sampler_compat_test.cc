// Existing sampler configurations draw exactly the tokens they drew before the
// penalty / min-p / stream / stop-string work (recorded on stories260K with
// the pre-change build, commit eca816d): evidence files and other tests
// depend on these draws.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "import/llama2c.h"
#include "runtime/generate.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "sampler/sampler.h"
#include "test_util.h"

namespace slm {
namespace {

struct Recorded {
  SamplerConfig config;
  std::vector<int32_t> prompt;
  std::vector<int32_t> ids;  // 48 tokens (or fewer on EOS)
};

const std::vector<int32_t> kStory = {1, 403, 407, 261, 378, 309, 417};

std::vector<Recorded> Cases() {
  return {
      {{0.0f, 0, 1.0f, 0}, {1}, {403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421,
                                 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292,
                                 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394,
                                 261, 370, 432, 352, 266, 268, 388, 426, 338, 391, 266, 267}},
      {{1.0f, 0, 1.0f, 42}, {1}, {385, 328, 432, 261, 410, 449, 414, 428, 428, 422, 395, 326,
                                  343, 263, 377, 387, 261, 273, 421, 433, 322, 265, 282, 295,
                                  433, 426, 346, 394, 261, 281, 421, 427, 431, 425, 421, 334,
                                  427, 285, 412, 426, 346, 391, 266, 267, 352, 292, 411, 312}},
      {{0.8f, 40, 1.0f, 7}, kStory, {289, 286, 273, 421, 433, 299, 322, 265, 282, 295, 433, 426,
                                     385, 328, 432, 358, 394, 261, 370, 432, 262, 429, 295, 422,
                                     259, 276, 411, 322, 265, 262, 433, 422, 426, 313, 434, 415,
                                     293, 410, 293, 278, 333, 415, 413, 443, 436, 358, 336, 432}},
      {{0.9f, 0, 0.9f, 1234}, {1}, {403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421,
                                    395, 317, 426, 338, 401, 396, 267, 279, 303, 331, 269, 337,
                                    410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385,
                                    328, 432, 358, 272, 277, 264, 261, 268, 412, 428, 373, 282}},
      {{1.2f, 20, 0.95f, 1234567890123ull},
       kStory,
       {429, 417, 303, 280, 314, 411, 410, 408, 322, 265, 352, 412, 271, 426, 410, 459,
        363, 413, 415, 299, 261, 420, 325, 396, 397, 354, 419, 426, 359, 413, 286, 261,
        262, 424, 411, 316, 352, 412, 271, 322, 311, 270, 277, 372, 426, 392, 412, 444}},
      {{1.5f, 0, 1.0f, 99}, kStory, {289, 336, 312, 410, 435, 293, 275, 266, 426, 359, 413, 282,
                                     277, 420, 266, 286, 265, 410, 304, 416, 314, 377, 426, 359,
                                     413, 268, 325, 428, 415, 413, 261, 259, 276, 412, 419, 425,
                                     276, 467, 263, 424, 432, 436, 336, 374, 432, 301, 429, 412}},
  };
}

TEST(SamplerCompat, ExistingConfigsDrawTheRecordedTokens) {
  const std::string path = test::ModelPath("stories260K.bin");
  ASSERT_FALSE(path.empty());
  auto b = ImportLlama2c(path, "");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  auto m = Model::Create(b->config, b->tensors);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  for (const Recorded& c : Cases()) {
    auto s = Session::Create(**m);
    auto sampler = Sampler::Create(b->config.vocab_size, c.config);
    ASSERT_TRUE(s.ok() && sampler.ok());
    std::vector<int32_t> got;
    auto st = Generate(**s, **sampler, c.prompt, 48, 2, [&](int32_t id) {
      got.push_back(id);
      return true;
    });
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    EXPECT_EQ(got, c.ids);
  }
}

}  // namespace
}  // namespace slm

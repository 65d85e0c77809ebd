// Stop strings (sampler/stop_strings.h) on the real stories260K tokenizer
// (tok512) and text, across two and three token boundaries, and the
// Generator loop (runtime/generate.h) on stories260K: stop reasons, the text
// it emits, the new statistics, seeded replay with every sampler step on, and
// option validation.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "import/llama2c.h"
#include "runtime/generate.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "sampler/sampler.h"
#include "sampler/stop_strings.h"
#include "test_util.h"
#include "tokenizer/load.h"
#include "tokenizer/tokenizer.h"

namespace slm {
namespace {

const char kText[] =
    "Once upon a time, there was a little girl named Lily. She loved to play outside.";

class Stop : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = test::ModelPath("tok512.bin");
    ASSERT_FALSE(path.empty());
    auto d = LoadTokenizerFile(path);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    auto t = Tokenizer::Create(std::move(d).value());
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    tok_ = std::move(t).value();
    auto ids = tok_->Encode(kText, false);
    ASSERT_TRUE(ids.ok());
    ids_ = *ids;
    // ends_[i]: decoded length after tokens 0..i.
    StreamDecoder dec(*tok_);
    std::string text;
    for (int32_t id : ids_) {
      text += dec.Feed(id);
      ends_.push_back(text.size());
    }
    ASSERT_EQ(text, kText);  // the stream decoder reproduces the text exactly
  }

  std::unique_ptr<StopMatcher> Matcher(std::vector<std::string> stops) {
    auto m = StopMatcher::Create(*tok_, std::move(stops));
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? std::move(m).value() : nullptr;
  }

  // Feeds ids_ until the matcher stops; returns the released text and sets
  // *stopped_at to the index of the token that completed a stop string (-1).
  std::string Run(StopMatcher& m, int* stopped_at) {
    m.Reset();
    std::string out;
    *stopped_at = -1;
    for (size_t i = 0; i < ids_.size(); ++i) {
      out += m.Feed(ids_[i]);
      // Released text is always a prefix of the decoded text.
      EXPECT_EQ(std::string(kText).compare(0, out.size(), out), 0) << out;
      if (m.stopped()) {
        *stopped_at = static_cast<int>(i);
        return out;
      }
    }
    out += m.Flush();
    return out;
  }

  std::unique_ptr<Tokenizer> tok_;
  std::vector<int32_t> ids_;
  std::vector<size_t> ends_;
};

TEST_F(Stop, StringSplitOverTwoAndThreeTokensStops) {
  const std::string text = kText;
  int checked2 = 0, checked3 = 0;
  // Every window starting 1 byte into token i and ending 1 byte into token
  // i + span (so it crosses span boundaries), for tokens at least 2 bytes.
  for (int span : {1, 2}) {
    for (size_t i = 1; i + span < ids_.size(); ++i) {
      const size_t begin = ends_[i - 1] + 1, end = ends_[i + span - 1] + 1;
      if (begin >= ends_[i] || end >= ends_[i + span]) continue;  // a 1-byte token
      const std::string stop = text.substr(begin, end - begin);
      if (text.find(stop) != begin) continue;  // occurs earlier: not this window
      auto m = Matcher({"never here", stop});
      int at = -1;
      const std::string out = Run(*m, &at);
      EXPECT_EQ(at, static_cast<int>(i + span)) << "'" << stop << "'";
      EXPECT_EQ(out, text.substr(0, begin)) << "'" << stop << "'";
      EXPECT_EQ(m->matched(), 1);
      ++(span == 1 ? checked2 : checked3);
    }
  }
  EXPECT_GE(checked2, 5);
  EXPECT_GE(checked3, 5);
}

TEST_F(Stop, NamedExamples) {
  int at = -1;
  // " Lily" is one token ("▁Lily"); "Lily. She" spans three (Lily . ▁She).
  auto m = Matcher({"Lily. She"});
  EXPECT_EQ(Run(*m, &at), "Once upon a time, there was a little girl named ");
  EXPECT_EQ(tok_->piece(ids_[at]), "\xE2\x96\x81She");  // "▁She" completes it
  // "girl" spans "▁g", "ir", "l".
  auto g = Matcher({"girl"});
  EXPECT_EQ(Run(*g, &at), "Once upon a time, there was a little ");
  EXPECT_EQ(tok_->piece(ids_[at]), "l");
  // Inside one token.
  auto u = Matcher({"pon"});
  EXPECT_EQ(Run(*u, &at), "Once u");
  EXPECT_EQ(at, 1);
  // The earliest occurrence wins, whatever the list order.
  auto two = Matcher({"play", "little"});
  EXPECT_EQ(Run(*two, &at), "Once upon a time, there was a ");
  EXPECT_EQ(two->matched(), 1);
  // Nothing after a stop.
  EXPECT_TRUE(two->Feed(ids_[0]).empty());
  EXPECT_TRUE(two->Flush().empty());
}

TEST_F(Stop, PossibleStartsAreHeldBackThenReleased) {
  // "Lily!" never occurs; "Lily" is held until "." rules it out.
  auto m = Matcher({"Lily!"});
  m->Reset();
  std::string out;
  size_t lily = 0;
  for (size_t i = 0; i < ids_.size(); ++i) {
    const std::string_view piece = m->Feed(ids_[i]);
    out += piece;
    if (tok_->piece(ids_[i]) == "\xE2\x96\x81Lily") {
      lily = i;
      EXPECT_EQ(out, "Once upon a time, there was a little girl named ");  // " Lily" waits
    }
    if (lily != 0 && i == lily + 1) {
      EXPECT_EQ(out, std::string(kText).substr(0, ends_[i]));  // "." rules "Lily!" out
    }
  }
  ASSERT_NE(lily, 0u);
  out += m->Flush();
  EXPECT_EQ(out, kText);
  EXPECT_FALSE(m->stopped());
  // A possible start at the very end is flushed.
  auto tail = Matcher({".X"});
  int at = -1;
  EXPECT_EQ(Run(*tail, &at), kText);
  EXPECT_EQ(at, -1);
}

TEST_F(Stop, IncompleteUtf8WaitsAndFlushesAsReplacement) {
  // <0xE2> <0x96> alone: an incomplete 3-byte sequence.
  const int32_t e2 = tok_->Find("<0xE2>"), x96 = tok_->Find("<0x96>");
  ASSERT_GE(e2, 0);
  ASSERT_GE(x96, 0);
  auto m = Matcher({"zz"});
  EXPECT_EQ(m->Feed(ids_[0]), "Once");
  EXPECT_EQ(m->Feed(e2), "");
  EXPECT_EQ(m->Feed(x96), "");
  EXPECT_EQ(m->Flush(), "\xEF\xBF\xBD\xEF\xBF\xBD");  // two U+FFFD
}

TEST_F(Stop, BadStopStringsAreRefusedByIndex) {
  auto expect = [&](std::vector<std::string> s, const char* text) {
    auto m = StopMatcher::Create(*tok_, std::move(s));
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(m.status().message().find(text), std::string::npos) << m.status().message();
  };
  expect({"ok", ""}, "stop string 1 is empty");
  expect({"\xC3"}, "stop string 0");
  expect({std::string(StopMatcher::kMaxStringBytes + 1, 'a')}, "1025 bytes, expected at most 1024");
  expect(std::vector<std::string>(StopMatcher::kMaxStrings + 1, "a"), "65 stop strings");
  EXPECT_TRUE(StopMatcher::Create(*tok_, {}).ok());
}

// --- The Generator on stories260K ---------------------------------------------

class Gen : public Stop {
 protected:
  void SetUp() override {
    Stop::SetUp();
    const std::string path = test::ModelPath("stories260K.bin");
    ASSERT_FALSE(path.empty());
    auto b = ImportLlama2c(path, "");
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    bundle_ = std::move(b).value();
    auto m = Model::Create(bundle_.config, bundle_.tensors);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(m).value();
    auto s = Session::Create(*model_);
    ASSERT_TRUE(s.ok());
    session_ = std::move(s).value();
  }
  std::unique_ptr<Generator> Make(GenerateOptions o) {
    o.tokenizer = tok_.get();
    auto g = Generator::Create(512, std::move(o));
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    return g.ok() ? std::move(g).value() : nullptr;
  }
  struct Out {
    std::vector<int32_t> ids;
    std::string text;
    GenerateStats stats;
  };
  Out RunFresh(Generator& g, std::vector<int32_t> prompt) {
    session_->Reset();
    g.sampler().Reset();
    Out o;
    auto st = g.Run(
        *session_, prompt,
        [&](int32_t id) {
          o.ids.push_back(id);
          return true;
        },
        [&](std::string_view t) { o.text += t; });
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    if (st.ok()) o.stats = *st;
    return o;
  }
  ModelBundle bundle_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<Session> session_;
};

GenerateOptions Sampling(uint64_t seed) {
  GenerateOptions o;
  o.sampling.temperature = 0.9f;
  o.sampling.top_k = 40;
  o.sampling.top_p = 0.95f;
  o.sampling.min_p = 0.05f;
  o.sampling.repeat_penalty = 1.3f;
  o.sampling.presence_penalty = 0.2f;
  o.sampling.frequency_penalty = 0.1f;
  o.sampling.penalty_last_n = 32;
  o.sampling.seed = seed;
  o.max_new_tokens = 64;
  o.eos_id = -1;
  return o;
}

TEST_F(Gen, StopStringFromTheGeneratedTextStopsThere) {
  auto plain = Make(Sampling(31));
  const Out full = RunFresh(*plain, {1});
  ASSERT_EQ(full.ids.size(), 64u);
  EXPECT_EQ(full.stats.stop_reason, StopReason::kMaxTokens);
  EXPECT_EQ(full.text, tok_->Decode(full.ids));  // text stream = whole decode
  // A stop string crossing a token boundary somewhere in the middle.
  StreamDecoder dec(*tok_);
  std::vector<size_t> ends;
  std::string text;
  for (int32_t id : full.ids) {
    text += dec.Feed(id);
    ends.push_back(text.size());
  }
  size_t k = 20;
  while (k + 1 < ends.size() && (ends[k] - ends[k - 1] < 2 || ends[k + 1] - ends[k] < 2)) ++k;
  ASSERT_LT(k + 1, ends.size());
  const size_t begin = ends[k] - 2, end = ends[k] + 2;
  const std::string stop = text.substr(begin, end - begin);
  const size_t first = text.find(stop);
  size_t completes = 0;  // the token whose text ends the first occurrence
  while (ends[completes] < first + stop.size()) ++completes;

  GenerateOptions o = Sampling(31);
  o.stop_strings = {"\xE2\x82\xAC\xE2\x82\xAC", stop};  // "€€" never occurs
  auto g = Make(o);
  const Out cut = RunFresh(*g, {1});
  EXPECT_EQ(cut.stats.stop_reason, StopReason::kStopString);
  EXPECT_STREQ(StopReasonName(cut.stats.stop_reason), "stop_string");
  EXPECT_EQ(cut.stats.stop_string, 1);
  EXPECT_EQ(cut.text, text.substr(0, first)) << "stop '" << stop << "'";
  // The ids are those sampled, up to and including the one completing the stop.
  ASSERT_EQ(cut.ids.size(), completes + 1);
  EXPECT_EQ(cut.ids, std::vector<int32_t>(full.ids.begin(), full.ids.begin() + completes + 1));
  EXPECT_EQ(cut.stats.generated_tokens, static_cast<int32_t>(completes + 1));
}

TEST_F(Gen, SeededReplayWithTopKTopPMinPAndPenalties) {
  auto a = Make(Sampling(7));
  auto b = Make(Sampling(7));
  auto c = Make(Sampling(8));
  const Out x = RunFresh(*a, {1, 403, 407});
  EXPECT_EQ(RunFresh(*b, {1, 403, 407}).ids, x.ids);
  EXPECT_EQ(RunFresh(*a, {1, 403, 407}).ids, x.ids);  // Reset replays
  EXPECT_NE(RunFresh(*c, {1, 403, 407}).ids, x.ids);
  // Penalties act: the same seed without them draws differently.
  GenerateOptions off = Sampling(7);
  off.sampling.repeat_penalty = 1;
  off.sampling.presence_penalty = 0;
  off.sampling.frequency_penalty = 0;
  auto d = Make(off);
  EXPECT_NE(RunFresh(*d, {1, 403, 407}).ids, x.ids);
}

TEST_F(Gen, StatsAndOtherStopReasons) {
  GenerateOptions o = Sampling(3);
  o.max_new_tokens = 10;
  auto g = Make(o);
  const Out r = RunFresh(*g, {1, 403, 407, 261});
  EXPECT_EQ(r.stats.stop_reason, StopReason::kMaxTokens);
  EXPECT_EQ(r.stats.prompt_tokens, 4);
  EXPECT_EQ(r.stats.generated_tokens, 10);
  EXPECT_EQ(r.stats.decoded_tokens, 9);  // the last token is not run
  EXPECT_EQ(r.stats.tokens_in_cache, 13);
  EXPECT_EQ(r.stats.stop_string, -1);
  EXPECT_GT(r.stats.prefill_ms, 0);
  EXPECT_GT(r.stats.decode_ms, 0);
  EXPECT_GT(r.stats.time_to_first_token_ms, r.stats.prefill_ms);  // prefill + one sample
  EXPECT_GT(r.stats.prefill_tok_s, 0);
  EXPECT_GT(r.stats.decode_tok_s, 0);
  // The prompt is in the penalty window (accept_prompt), then the output.
  EXPECT_EQ(g->sampler().window_size(), 14);
  EXPECT_GE(g->sampler().window_count(403), 1);
  o.accept_prompt = false;
  auto h = Make(o);
  RunFresh(*h, {1, 403, 407, 261});
  EXPECT_EQ(h->sampler().window_size(), 10);

  // Callback stop: text up to then is still flushed.
  session_->Reset();
  g->sampler().Reset();
  std::string text;
  int n = 0;
  auto st = g->Run(
      *session_, std::vector<int32_t>{1}, [&](int32_t) { return ++n < 3; },
      [&](std::string_view t) { text += t; });
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->stop_reason, StopReason::kCallback);
  EXPECT_EQ(st->generated_tokens, 3);
  EXPECT_FALSE(text.empty());
  // Context full.
  auto small = Session::Create(*model_, {6});
  ASSERT_TRUE(small.ok());
  auto full = g->Run(**small, std::vector<int32_t>{1, 403, 407}, {}, {});
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->stop_reason, StopReason::kContextFull);
  EXPECT_EQ(full->generated_tokens, 4);  // tokens 1-3 run at positions 3-5; the 4th has no room
  // EOS: whatever greedy picks first, made the EOS.
  GenerateOptions e;
  e.max_new_tokens = 5;
  auto greedy = Make(e);
  const Out first = RunFresh(*greedy, {1});
  e.eos_id = first.ids[0];
  auto eos = Make(e);
  const Out stopped = RunFresh(*eos, {1});
  EXPECT_EQ(stopped.stats.stop_reason, StopReason::kEos);
  EXPECT_TRUE(stopped.ids.empty());
  EXPECT_TRUE(stopped.text.empty());
  EXPECT_GT(stopped.stats.time_to_first_token_ms, 0);
}

TEST_F(Gen, OptionsValidated) {
  GenerateOptions o;
  o.max_new_tokens = -1;
  EXPECT_EQ(Generator::Create(512, o).status().code(), StatusCode::kInvalidArgument);
  GenerateOptions s;
  s.stop_strings = {"x"};
  auto no_tok = Generator::Create(512, s);
  EXPECT_EQ(no_tok.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_tok.status().message().find("no tokenizer"), std::string::npos);
  GenerateOptions v;
  v.tokenizer = tok_.get();
  auto vocab = Generator::Create(600, v);
  EXPECT_EQ(vocab.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(vocab.status().message().find("tokenizer vocab 512, expected the model's 600"),
            std::string::npos)
      << vocab.status().message();
  GenerateOptions bad = v;
  bad.sampling.min_p = 2;
  EXPECT_NE(Generator::Create(512, bad).status().message().find("min_p"), std::string::npos);
  GenerateOptions empty = v;
  empty.stop_strings = {""};
  EXPECT_EQ(Generator::Create(512, empty).status().code(), StatusCode::kInvalidArgument);
  // A prompt id the model has but a smaller sampler lacks is refused before
  // the session moves.
  auto g = Make({});
  auto tiny = Sampler::Create(300, {});
  ASSERT_TRUE(tiny.ok());
  session_->Reset();
  auto st = g->Run(*session_, **tiny, std::vector<int32_t>{1, 403}, {}, {});
  EXPECT_EQ(st.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(session_->position(), 0);
}

}  // namespace
}  // namespace slm

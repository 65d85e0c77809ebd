// Stop strings on decoded text (issue 6): generation ends when the text
// decoded so far contains any of a list of strings, even when one is split
// across two, three or more tokens. The text released to the caller never
// contains a stop string or anything after it.
//
// Per generated token, Feed:
//   1. decodes it with a StreamDecoder (tokenizer/tokenizer.h: an incomplete
//      UTF-8 sequence waits for the next token; the SentencePiece dummy-prefix
//      space of the first token is dropped) and appends the result to the
//      held text H;
//   2. if some stop string occurs in H, the earliest occurrence wins (ties:
//      the lowest index in the list): the text before it is released, the
//      rest is discarded and stopped() becomes true;
//   3. otherwise the longest suffix of H that is a proper prefix of some stop
//      string is held back (it may still become a stop string), the rest is
//      released.
// So text is delayed only while it could still start a stop string (and while
// a UTF-8 character is incomplete); Flush() releases what is held when the
// generation ends for another reason. Released text is whole UTF-8
// characters (stop strings must be valid UTF-8).
//
// The buffer is sized at Create for the longest stop string plus the longest
// token, so Feed does not allocate (StreamDecoder's own strings stay in their
// small-string buffers for tokens up to 15 bytes with libstdc++/libc++).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tokenizer/tokenizer.h"

namespace slm {

class StopMatcher {
 public:
  static constexpr size_t kMaxStrings = 64;
  static constexpr size_t kMaxStringBytes = 1024;

  // InvalidArgument for more than kMaxStrings strings, an empty string, one
  // longer than kMaxStringBytes or invalid UTF-8 (naming its index). `t` must
  // outlive the matcher. An empty list is allowed (only streaming decode).
  static StatusOr<std::unique_ptr<StopMatcher>> Create(const Tokenizer& t,
                                                       std::vector<std::string> stops);

  // Starts a new generation (empties the held text and the decoder).
  void Reset();
  // Decodes one generated token; returns the text released by it (possibly
  // empty), valid until the next call. Nothing after stopped().
  std::string_view Feed(int32_t id);
  // At the end of a generation that did not stop on a string: the held text,
  // with an incomplete UTF-8 tail as U+FFFD per byte. Valid until the next call.
  std::string_view Flush();

  bool stopped() const { return matched_ >= 0; }
  // Index of the stop string that matched, or -1.
  int32_t matched() const { return matched_; }
  const std::vector<std::string>& strings() const { return stops_; }

 private:
  StopMatcher(const Tokenizer& t, std::vector<std::string> stops)
      : tok_(t), stops_(std::move(stops)) {}
  // Drops the text released by the previous call from the front of held_.
  void Consume();

  const Tokenizer& tok_;
  std::vector<std::string> stops_;
  std::optional<StreamDecoder> decoder_;
  std::string held_;     // released prefix (released_ bytes) + held text
  size_t released_ = 0;  // bytes at the front of held_ returned by the last call
  int32_t matched_ = -1;
};

}  // namespace slm

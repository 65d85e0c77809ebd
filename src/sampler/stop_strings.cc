#include "sampler/stop_strings.h"

#include <algorithm>

#include "base/utf8.h"

namespace slm {

StatusOr<std::unique_ptr<StopMatcher>> StopMatcher::Create(const Tokenizer& t,
                                                           std::vector<std::string> stops) {
  if (stops.size() > kMaxStrings) {
    return InvalidArgument(std::to_string(stops.size()) + " stop strings, expected at most " +
                           std::to_string(kMaxStrings));
  }
  size_t longest = 0;
  for (size_t i = 0; i < stops.size(); ++i) {
    const std::string& s = stops[i];
    if (s.empty()) return InvalidArgument("stop string " + std::to_string(i) + " is empty");
    if (s.size() > kMaxStringBytes) {
      return InvalidArgument("stop string " + std::to_string(i) + " is " +
                             std::to_string(s.size()) + " bytes, expected at most " +
                             std::to_string(kMaxStringBytes));
    }
    Status u = ValidateUtf8(s);
    if (!u.ok()) return u.WithContext("stop string " + std::to_string(i));
    longest = std::max(longest, s.size());
  }
  size_t piece = 0;
  for (int32_t id = 0; id < t.vocab_size(); ++id) piece = std::max(piece, t.TokenBytes(id).size());
  std::unique_ptr<StopMatcher> m(new StopMatcher(t, std::move(stops)));
  // Held text (< longest) + one token's decoded bytes: its piece and up to 3
  // held-back bytes, each possibly expanded to a 3-byte U+FFFD.
  m->held_.reserve(longest + 3 * (piece + 3) + 16);
  m->Reset();
  return m;
}

void StopMatcher::Reset() {
  decoder_.emplace(tok_);
  held_.clear();
  released_ = 0;
  matched_ = -1;
}

void StopMatcher::Consume() {
  held_.erase(0, released_);
  released_ = 0;
}

std::string_view StopMatcher::Feed(int32_t id) {
  Consume();
  if (matched_ >= 0) return {};
  held_ += decoder_->Feed(id);
  const std::string_view h = held_;
  size_t first = std::string_view::npos;
  for (size_t i = 0; i < stops_.size(); ++i) {
    const size_t pos = h.find(stops_[i]);
    if (pos < first) {
      first = pos;
      matched_ = static_cast<int32_t>(i);
    }
  }
  if (matched_ >= 0) {
    held_.resize(first);
    released_ = first;
    return std::string_view(held_.data(), released_);
  }
  // Longest suffix of h that is a proper prefix of a stop string.
  size_t hold = 0;
  for (const std::string& s : stops_) {
    for (size_t len = std::min(s.size() - 1, h.size()); len > hold; --len) {
      if (h.substr(h.size() - len) == std::string_view(s).substr(0, len)) {
        hold = len;
        break;
      }
    }
  }
  released_ = h.size() - hold;
  return std::string_view(held_.data(), released_);
}

std::string_view StopMatcher::Flush() {
  Consume();
  if (matched_ >= 0) return {};
  held_ += decoder_->Flush();
  released_ = held_.size();
  return held_;
}

}  // namespace slm

// SPDX-License-Identifier: GPL-2.0-only
// Where an oracle puts one operation's objections. The first kPerRule of each rule are kept whole;
// the rest become one "N more RULE objections in this operation". An objection past its rule's
// limit is never written out: add_lazy() formats the line only when it will be kept, because an
// operation over a large range can object thousands of times, and formatting lines that are then
// dropped was a seventh of the fuzz loop's time.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "oracles/objection.h"

namespace mmudiff {

class ObjectionSink {
 public:
  static constexpr size_t kPerRule = 8;

  ObjectionSink() = default;
  ObjectionSink(const ObjectionSink&) = delete;  // it points into its own tallies
  ObjectionSink& operator=(const ObjectionSink&) = delete;

  void add(Objection o) {
    Tally& t = tally(o.rule, o.severity);
    if (++t.seen <= kPerRule) kept_.push_back(std::move(o));
  }
  // WHAT() makes the line; it runs only when the objection is kept.
  template <class What>
  void add_lazy(Severity severity, std::string_view rule, std::optional<uint64_t> ipa,
                What&& what) {
    Tally& t = tally(rule, severity);
    if (++t.seen <= kPerRule) kept_.push_back({severity, std::string(rule), what(), ipa});
  }

  // The kept objections in the order they came, then one count per rule that overflowed.
  std::vector<Objection> finish() && {
    for (const auto& [rule, t] : tallies_)
      if (t.seen > kPerRule)
        kept_.push_back({t.severity, rule,
                         std::to_string(t.seen - kPerRule) + " more " + rule +
                             " objections in this operation"});
    return std::move(kept_);
  }

 private:
  struct Tally {
    Severity severity;
    size_t seen = 0;
  };
  Tally& tally(std::string_view rule, Severity severity) {
    // An operation over a large range objects under one rule again and again.
    if (!last_ || last_->first != rule) {
      auto it = tallies_.find(rule);
      if (it == tallies_.end()) it = tallies_.emplace(std::string(rule), Tally{severity}).first;
      last_ = &*it;
    }
    last_->second.severity = severity;  // the count says the last one's, as it always has
    return last_->second;
  }

  std::vector<Objection> kept_;
  std::map<std::string, Tally, std::less<>> tallies_;
  std::pair<const std::string, Tally>* last_ = nullptr;  // map nodes stay where they are
};

}  // namespace mmudiff

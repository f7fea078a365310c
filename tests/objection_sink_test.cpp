// SPDX-License-Identifier: GPL-2.0-only
// An operation's objections: the first of each rule kept whole, the rest counted, and a line past
// the limit never formatted.
#include "oracles/objection_sink.h"

#include <gtest/gtest.h>

namespace mmudiff {
namespace {

TEST(ObjectionSink, KeepsTheFirstOfEachRuleAndCountsTheRestWithoutFormattingThem) {
  ObjectionSink sink;
  size_t formatted = 0;
  const size_t n = ObjectionSink::kPerRule + 5;
  for (size_t i = 0; i < n; ++i) {
    sink.add_lazy(Severity::HardwareEffects, "cmo-unjustified", i, [&] {
      ++formatted;
      return "range " + std::to_string(i);
    });
    if (i < 2) sink.add({Severity::Security, "tlb-staleness", "stale " + std::to_string(i)});
  }
  std::vector<Objection> out = std::move(sink).finish();
  EXPECT_EQ(formatted, ObjectionSink::kPerRule);
  ASSERT_EQ(out.size(), ObjectionSink::kPerRule + 2 + 1);
  // In the order they came, each kept whole with its address.
  EXPECT_EQ(out[0].what, "range 0");
  EXPECT_EQ(out[0].ipa, 0u);
  EXPECT_EQ(out[1].rule, "tlb-staleness");
  EXPECT_EQ(out[1].severity, Severity::Security);
  const Objection& more = out.back();
  EXPECT_EQ(more.rule, "cmo-unjustified");
  EXPECT_EQ(more.severity, Severity::HardwareEffects);
  EXPECT_EQ(more.what, "5 more cmo-unjustified objections in this operation");
}

TEST(ObjectionSink, ARuleWithinItsLimitGetsNoCount) {
  ObjectionSink sink;
  for (size_t i = 0; i < ObjectionSink::kPerRule; ++i)
    sink.add({Severity::Functional, "refcount", "r"});
  std::vector<Objection> out = std::move(sink).finish();
  EXPECT_EQ(out.size(), ObjectionSink::kPerRule);
  for (const auto& o : out) EXPECT_EQ(o.what, "r");
}

}  // namespace
}  // namespace mmudiff

// SPDX-License-Identifier: GPL-2.0-only
// The fuzz target's stop functions (fuzz/finding_stop.h): one per oracle, distinct and named after
// it, so a crash's stack tells the oracles apart. tests/fuzz_target_stack_test.cpp checks the
// stacks of the real libFuzzer builds.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "fuzz/finding_stop.h"
#include "mmu/ops/text_format.h"
#include "oracles/harness.h"

namespace mmudiff {
namespace {

std::string expected_symbol(std::string name) {
  for (char& c : name)
    if (c == '-') c = '_';
  return "mmudiff_found_" + name;
}

std::vector<std::string> known_oracles() {
  std::vector<std::string> names;
  for (const OracleInfo& o : oracle_list()) names.push_back(o.name);
  // Findings of the isolated replay, which the harness's list does not name.
  for (const char* extra : {"effects-trace", "hang"})
    if (std::find(names.begin(), names.end(), extra) == names.end()) names.push_back(extra);
  return names;
}

TEST(FindingStop, EveryOracleStopsThroughItsOwnNamedFunction) {
  std::set<std::string_view> symbols;
  std::set<FindingStopFn> functions;
  std::vector<std::string> names = known_oracles();
  for (const std::string& name : names) {
    EXPECT_EQ(finding_stop_symbol(name), expected_symbol(name)) << name;
    symbols.insert(finding_stop_symbol(name));
    functions.insert(finding_stop_function(name));
  }
  symbols.insert(finding_stop_symbol("no-such-oracle"));
  functions.insert(finding_stop_function("no-such-oracle"));
  // Distinct addresses: this release build folded none of them into another.
  EXPECT_EQ(symbols.size(), names.size() + 1);
  EXPECT_EQ(functions.size(), names.size() + 1);
  EXPECT_GE(names.size(), 10u);
}

TEST(FindingStop, AnOracleThisBuildDoesNotKnowStopsInTheFallback) {
  EXPECT_EQ(finding_stop_symbol("sanitizer"), "mmudiff_found_other_oracle");
  EXPECT_EQ(finding_stop_symbol(""), "mmudiff_found_other_oracle");
  EXPECT_EQ(finding_stop_function("x"), finding_stop_function("y"));
}

TEST(FindingStopDeathTest, PrintsTheFindingTheStreamAndTheStopFunctionThenAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Finding f{Severity::HardwareEffects, "effects", 1, "unmap", "no TLBI after unmap", {"walker: x"}};
  f.rule = "tlb-stale";
  f.backend = "walker";
  Stream s = parse_text("map 0x40000000 4K pa=0x80000000 prot=rw\nunmap 0x40000000 4K\n", "s");
  EXPECT_DEATH(stop_on_finding(f, s),
               "MMUDIFF FINDING \\[hardware-effects/effects/unmap/tlb-stale/walker\\] at operation "
               "#1: no TLBI after unmap\n    walker: x\nstream:\n(.|\n)*unmap 0x40000000(.|\n)*"
               "MMUDIFF STOP in mmudiff_found_effects\n");
}

}  // namespace
}  // namespace mmudiff

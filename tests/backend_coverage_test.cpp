// SPDX-License-Identifier: GPL-2.0-only
// Coverage by backend from libFuzzer's -print_coverage=1 list: lines attributed by their source
// file, sums per backend, unreadable lines named, and coverage.json meeting its schema.
#include <gtest/gtest.h>

#include <string>

#include "mmu/ops/text_format.h"
#include "reports/backend_coverage.h"
#include "reports/json_schema.h"

namespace mmudiff {
namespace {

// As libFuzzer 14 prints it (lines taken from a real replay, shortened).
constexpr const char* kOutput =
    "INFO: Seed: 1\n"
    "COVERAGE:\n"
    "UNCOVERED_FUNC: hits: 0 edges: 0/8 mmudiff::(anonymous namespace)::WalkerBackend::"
    "~WalkerBackend() /src/mmudiff/mmu/walker/walker_backend.cpp:15\n"
    "COVERED_FUNC: hits: 13 edges: 3/8 mmudiff::(anonymous namespace)::WalkerBackend::"
    "~WalkerBackend() /src/mmudiff/mmu/walker/walker_backend.cpp:15\n"
    "  UNCOVERED_PC: /src/mmudiff/mmu/walker/walker_backend.cpp:20\n"
    "COVERED_FUNC: hits: 2 edges: 5/7 mmudiff::ShadowMmu::map(unsigned long) const "
    "/src/mmudiff/mmu/legacy/map.cpp:40\n"
    "COVERED_FUNC: hits: 12 edges: 4/6 kvm_pgtable_get_leaf /b/fuzz/mmu/linux61/kernel/"
    "linux-source-6.1/arch/arm64/kvm/hyp/pgtable.c:308\n"
    "COVERED_FUNC: hits: 12 edges: 1/1 linux61_map /src/mmudiff/mmu/linux61/linux61_adapter.c:77\n"
    "COVERED_FUNC: hits: 9 edges: 2/3 std::vector<int>::push_back(int const&) "
    "/usr/include/c++/12/bits/stl_vector.h:1280\n"
    "Done 13 runs in 0 second(s)\n";

TEST(BackendCoverage, SourcesBelongToTheirBackend) {
  EXPECT_EQ(backend_of_source("/x/mmu/walker/map.cpp"), "walker");
  EXPECT_EQ(backend_of_source("/x/mmu/legacy/shadow_hash.h"), "legacy");
  EXPECT_EQ(backend_of_source("/x/mmu/linux61/linux61_adapter.c"), "linux61");
  EXPECT_EQ(backend_of_source("/b/kernel/linux-source-6.1/arch/arm64/kvm/hyp/pgtable.c"),
            "linux61");
  EXPECT_EQ(backend_of_source("/x/mmu/linux612/linux612_adapter.c"), "linux612");
  EXPECT_EQ(
      backend_of_source("/b/mmu/linux612/kernel/linux-source-6.12/arch/arm64/kvm/hyp/pgtable.c"),
      "linux612");
  EXPECT_EQ(backend_of_source("/b/kernel/linux-source-6.12/arch/arm64/kvm/hyp/pgtable.c"),
            "linux612");
  EXPECT_EQ(backend_of_source("/home/dev/linux/arch/arm64/kvm/hyp/pgtable.c"), "your trees");
  EXPECT_EQ(backend_of_source("/x/mmu/walker_x86/fault.cpp"), "x86-ept/walker");
  EXPECT_EQ(backend_of_source("/x/mmu/legacy_x86/rmap.cpp"), "x86-ept/legacy");
  EXPECT_EQ(backend_of_source("/x/mmu/linux612_tdp/linux612_services.c"), "x86-ept/linux612-tdp");
  EXPECT_EQ(backend_of_source("/b/kernel/linux-source-6.12/arch/x86/kvm/mmu/tdp_mmu.c"),
            "x86-ept/linux612-tdp");
  EXPECT_EQ(backend_of_source("/usr/include/c++/12/bits/stl_tree.h"), "");
  EXPECT_EQ(backend_of_source("/x/oracles/harness.cpp"), "");
}

TEST(BackendCoverage, SumsFunctionsAndEdgesPerBackend) {
  auto c = parse_libfuzzer_coverage(kOutput, "replay.log");
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c["walker"].functions, 2u);
  EXPECT_EQ(c["walker"].functions_covered, 1u);
  EXPECT_EQ(c["walker"].edges, 16u);
  EXPECT_EQ(c["walker"].edges_covered, 3u);
  EXPECT_EQ(c["legacy"].edges, 7u);
  EXPECT_EQ(c["legacy"].edges_covered, 5u);
  EXPECT_EQ(c["linux61"].functions, 2u);
  EXPECT_EQ(c["linux61"].edges, 7u);
  EXPECT_EQ(c["linux61"].edges_covered, 5u);
  EXPECT_EQ(c[""].edges, 3u);
}

TEST(BackendCoverage, AnUnreadableFunctionLineIsNamedByLine) {
  for (const char* bad : {"COVERED_FUNC: hits: x edges: 1/2 f /a/mmu/walker/a.cpp:1\n",
                          "COVERED_FUNC: hits: 1 edges: 3/2 f /a/mmu/walker/a.cpp:1\n",
                          "COVERED_FUNC: hits: 1 edges: 1/2\n"}) {
    std::string text = std::string("COVERAGE:\n") + bad;
    try {
      parse_libfuzzer_coverage(text, "replay.log");
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("replay.log:2: ", 0), 0u) << e.what();
    }
  }
}

TEST(BackendCoverage, CoverageJsonMeetsItsSchema) {
  auto j = coverage_json(parse_libfuzzer_coverage(kOutput, "replay.log"), 13, "stream_fuzzer");
  auto errors = schema::builtin_schemas().validate(j, schema::kCoverage);
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(j["backends"].size(), 3u);
  EXPECT_EQ(j["backends"]["walker"]["edges_covered"], 3);
  EXPECT_EQ(j["unattributed"]["edges"], 3);
  // Schema violations are caught: a covered count that is not a count.
  j["backends"]["walker"]["edges_covered"] = "many";
  EXPECT_FALSE(schema::builtin_schemas().validate(j, schema::kCoverage).empty());
}

}  // namespace
}  // namespace mmudiff

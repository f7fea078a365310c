// SPDX-License-Identifier: GPL-2.0-only
// The real libFuzzer builds of the fuzz target (preset fuzz, or $MMUDIFF_LIBFUZZER_DIR) stop on
// a finding through the oracle's own function (fuzz/finding_stop.h): each planted bug's
// reproducer, encoded as `mmudiff encode` does, crashes the target with a stack, and a
// DEDUP_TOKEN, that name the function of the oracle in the finding's signature, so crash
// deduplication by stack keeps unrelated findings apart.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include <fmt/format.h>

#include "fuzz/finding_stop.h"
#include "tests/cli_runner.h"
#include "tests/temp_dir.h"

namespace mmudiff {
namespace {

namespace fs = std::filesystem;

fs::path fuzz_dir() {
  const char* env = std::getenv("MMUDIFF_LIBFUZZER_DIR");
  return env && *env ? fs::path(env) : fs::path(MMUDIFF_LIBFUZZER_BUILD_DIR);
}

// "MMUDIFF FINDING [security/invariants/map] at ..." -> "invariants"
std::string oracle_of(const std::string& out) {
  size_t at = out.find("MMUDIFF FINDING [");
  if (at == std::string::npos) return "";
  size_t begin = out.find('/', at) + 1;
  return out.substr(begin, out.find('/', begin) - begin);
}

class FuzzTargetStack : public mmudiff::testing::ScratchTest {
 protected:
  // The target's report for a plant's reproducer; the test fails if the target did not crash.
  std::string crash(const std::string& target, const std::string& plant) {
    fs::path bin = dir_ / (plant + ".bin");
    fs::path mmu =
        fs::path(MMUDIFF_SOURCE_DIR) / "corpus/regressions" / ("plant-" + plant + ".mmu");
    testing::CliResult enc =
        testing::run_cli(fmt::format("encode {} -o {}", mmu.string(), bin.string()));
    EXPECT_EQ(enc.status, 0) << enc.out;
    // dedup_token_length: the token libFuzzer's -minimize_crash and fork mode compare.
    testing::CliResult r = testing::shell(
        fmt::format("MMUDIFF_PLANT={} ASAN_OPTIONS=dedup_token_length=3:detect_leaks=0 "
                    "UBSAN_OPTIONS=dedup_token_length=3 {} {} 2>&1",
                    plant, (fuzz_dir() / target).string(), bin.string()));
    EXPECT_NE(r.status, 0) << r.out;
    return r.out;
  }
};

TEST_F(FuzzTargetStack, EachOraclesFindingCrashesInItsOwnFunction) {
  for (const char* target : {"stream_fuzzer", "stream_fuzzer_asan"})
    ASSERT_TRUE(fs::exists(fuzz_dir() / target))
        << (fuzz_dir() / target) << " is missing: build the fuzz preset (tools/setup.sh fuzz)";
  // Planted bugs whose findings come from four different oracles.
  const char* plants[] = {"walker-reserved-bit", "walker-no-tlbi-table-to-block",
                          "legacy-relax-wrong-level", "walker-leak-nonleaf-on-zap"};
  for (const char* target : {"stream_fuzzer", "stream_fuzzer_asan"}) {
    std::map<std::string, std::string> token_by_oracle;
    for (const char* plant : plants) {
      std::string out = crash(target, plant);
      std::string oracle = oracle_of(out);
      ASSERT_FALSE(oracle.empty()) << target << " " << plant << "\n" << out;
      std::string symbol(finding_stop_symbol(oracle));
      EXPECT_NE(symbol, "mmudiff_found_other_oracle") << oracle;
      // The symbolised frame, and the token built from the first stack's top frames.
      EXPECT_NE(out.find(" in " + symbol + " "), std::string::npos) << target << "\n" << out;
      size_t token = out.find("DEDUP_TOKEN: ");
      ASSERT_NE(token, std::string::npos) << out;
      std::string line = out.substr(token, out.find('\n', token) - token);
      EXPECT_NE(line.find(symbol), std::string::npos) << line;
      token_by_oracle[oracle] = line;
    }
    // Different oracles, different tokens: a stack-deduplicating cluster keeps them apart.
    std::set<std::string> tokens;
    for (const auto& [oracle, line] : token_by_oracle) tokens.insert(line);
    EXPECT_GE(token_by_oracle.size(), 3u);
    EXPECT_EQ(tokens.size(), token_by_oracle.size());
  }
}

}  // namespace
}  // namespace mmudiff

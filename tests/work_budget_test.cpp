// SPDX-License-Identifier: GPL-2.0-only
// The one work budget (mmu/ops/work_budget.h): the harness refuses a stream over it before any
// backend runs, whatever command brought it; everything mmudiff ships or generates fits it.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "mmu/ops/random_stream.h"
#include "mmu/ops/text_format.h"
#include "mmu/ops/work_budget.h"
#include "oracles/harness.h"
#include "tests/cli_runner.h"
#include "tests/files.h"
#include "tests/temp_dir.h"

namespace {

using namespace mmudiff;
namespace fs = std::filesystem;

// Found by a careless user: minutes and gigabytes in every backend before the budget.
const char* const kSixteenGigabytesOfPages =
    "init ia=36 force_pte=always\n"
    "map 0 16G pa=0 prot=rw mc=4096\n"
    "unmap 0 32G\n";

TEST(WorkBudget, AStreamOverItIsRefusedBeforeAnyBackendRuns) {
  if (registered_backends().empty()) GTEST_SKIP() << "no backend in this build";
  Stream s = parse_text(kSixteenGigabytesOfPages, "t");
  StreamReport r = run_stream(s, HarnessOptions{});
  EXPECT_TRUE(r.bound_reached);
  EXPECT_FALSE(r.equivalent());
  EXPECT_EQ(r.bound_op, 1u);
  EXPECT_NE(r.refusal.find("work budget of 1536 leaves"), std::string::npos) << r.refusal;
  EXPECT_NE(r.refusal.find("map 0x0 16G"), std::string::npos) << r.refusal;
  ASSERT_EQ(r.results.size(), r.backends.size());
  for (const auto& lane : r.results) EXPECT_TRUE(lane.empty()) << "an operation ran";
  EXPECT_TRUE(r.findings.empty());
}

TEST(WorkBudget, TheBudgetIsExactAtItsEdge) {
  // 6 MiB of pages is exactly kLeafBudget leaves; one page more is over.
  Stream at = parse_text("init ia=40 force_pte=always\nmap 0 6M pa=0 prot=rw mc=64\n", "at");
  EXPECT_EQ(stream_leaf_cost(at), kLeafBudget);
  EXPECT_FALSE(work_budget_excess(at).has_value());
  Stream over = at;
  over.push_back(parse_text("map 0x40000000 4K pa=0 prot=rw mc=64\n", "one").front());
  auto excess = work_budget_excess(over);
  ASSERT_TRUE(excess.has_value());
  EXPECT_EQ(excess->op, 2u);
  // Blocks cost one leaf each: the same 6 MiB without force_pte is three.
  Stream blocks = parse_text("init ia=40\nmap 0 6M pa=0 prot=rw mc=64\n", "blocks");
  EXPECT_EQ(stream_leaf_cost(blocks), 3u);
}

TEST(WorkBudget, MoreOperationsThanAStreamHoldsAreOverIt) {
  Stream s(kMaxStreamOps + 1);
  auto excess = work_budget_excess(s);
  ASSERT_TRUE(excess.has_value());
  EXPECT_NE(excess->why.find("operations"), std::string::npos) << excess->why;
  EXPECT_FALSE(fit_work_budget(&s));
}

TEST(WorkBudget, FittingShrinksTheCostliestOperationUntilTheStreamRuns) {
  Stream s = parse_text(kSixteenGigabytesOfPages, "t");
  ASSERT_TRUE(fit_work_budget(&s));
  EXPECT_TRUE(within_work_budget(s));
  EXPECT_EQ(s[1].kind, OpKind::Map);
  EXPECT_LT(s[1].size, uint64_t{16} << 30);
  EXPECT_EQ(s[2].size, uint64_t{32} << 30) << "an unmap costs no leaves and is left alone";
}

TEST(WorkBudget, EverythingMmudiffShipsOrGeneratesFitsIt) {
  for (const char* dir : {"corpus/seeds", "corpus/regressions"})
    for (const auto& e : fs::directory_iterator(fs::path(MMUDIFF_SOURCE_DIR) / dir)) {
      if (e.path().extension() != ".mmu") continue;
      Stream s = parse_text(mmudiff::testing::slurp(e.path()), e.path().string());
      auto excess = work_budget_excess(s);
      EXPECT_FALSE(excess.has_value()) << e.path() << ": " << excess->why;
    }
  std::mt19937_64 rng(1);
  RandomStreamOptions big;
  big.max_ops = kMaxStreamOps;
  for (int i = 0; i < 500; ++i) {
    Stream s = random_stream(rng, i % 2 ? big : RandomStreamOptions{});
    auto excess = work_budget_excess(s);
    EXPECT_FALSE(excess.has_value()) << "stream " << i << ": " << excess->why;
  }
}

TEST(WorkBudget, RunRefusesItWithOneLineAndExitTwo) {
  if (registered_backends().empty()) GTEST_SKIP() << "no backend in this build";
  mmudiff::testing::TempDir dir;
  fs::path f = dir.write("sixteen.mmu", kSixteenGigabytesOfPages);
  mmudiff::testing::CliResult r = mmudiff::testing::run_cli_stderr("run -q " + f.string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_EQ(r.out, "mmudiff: " + f.string() +
                       ": refused: operation #1 map 0x0 16G pa=0x0 prot=rw sw=0 mc=4096 takes the "
                       "stream over the work budget of 1536 leaves\n");
}

}  // namespace

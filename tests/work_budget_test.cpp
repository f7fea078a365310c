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

// x86: a fault installs one leaf; an eager split of a 1 GiB leaf down to 4 KiB installs 262144.
const char* const kX86Init =
    "init arch=x86-ept maxphyaddr=46 levels=4 max_level=3 host_level=3 slot_base=0 slot_size=4G\n";

TEST(WorkBudget, AnX86SplitCostsTheLeavesItMakesOfTheHugePagesFaultsLeft) {
  Stream split_1g = parse_text(std::string(kX86Init) +
                                   "fault 0x40000000 level=3 access=rw\n"
                                   "split 0x0 4G level=1\n",
                               "t");
  auto excess = work_budget_excess(split_1g);
  ASSERT_TRUE(excess.has_value());
  EXPECT_EQ(excess->op, 2u);
  EXPECT_NE(excess->why.find("split 0x0 4G"), std::string::npos) << excess->why;

  // To 2 MiB: 512 leaves; then one of those 2 MiB leaves to 4 KiB: 512 more.
  Stream twice = parse_text(std::string(kX86Init) +
                                "fault 0x40000000 level=3 access=rw\n"
                                "split 0x0 4G level=2\n"
                                "split 0x40200000 2M level=1\n",
                            "t");
  EXPECT_EQ(stream_leaf_cost(twice), 1u + 512 + 512);
  // A zap between the fault and the split leaves nothing to split.
  Stream zapped = parse_text(std::string(kX86Init) +
                                 "fault 0x40000000 level=3 access=rw\n"
                                 "zap_leafs 0x40000000 4K\n"
                                 "split 0x0 4G level=1\n",
                             "t");
  EXPECT_EQ(stream_leaf_cost(zapped), 1u);
  // The VM's max_level caps the leaf a fault can install: 2 MiB, split to 512 pages.
  Stream capped = parse_text(
      "init arch=x86-ept max_level=2 host_level=3\nfault 0x40000000 level=3 access=rw\n"
      "split 0x0 4G level=1\n",
      "t");
  EXPECT_EQ(stream_leaf_cost(capped), 1u + 512);
  // A split of part of a 1 GiB leaf: its 512 2 MiB pieces, and the one in range down to 4K.
  Stream partial = parse_text(std::string(kX86Init) +
                                  "fault 0x40000000 level=3 access=rw\n"
                                  "split 0x40000000 2M level=1\n",
                              "t");
  EXPECT_EQ(stream_leaf_cost(partial), 1u + 512 + 512);
  // An instruction fetch under the NX huge page mitigation, and a fault with dirty logging on,
  // map 4K: nothing for a split to do.
  for (const char* fault : {"fault 0x40000000 level=3 access=rwx\n",
                            "fault 0x40000000 level=3 access=rw dirty_log=1\n"}) {
    Stream small = parse_text("init arch=x86-ept nx_huge_pages=1 max_level=3 host_level=3\n" +
                                  std::string(fault) + "split 0x0 4G level=1\n",
                              "t");
    EXPECT_EQ(stream_leaf_cost(small), 1u) << fault;
  }
}

TEST(WorkBudget, FittingAnX86SplitMakesItShallowerFirst) {
  Stream s = parse_text(std::string(kX86Init) +
                            "fault 0x40000000 level=3 access=rw\n"
                            "split 0x0 4G level=1\n",
                        "t");
  ASSERT_TRUE(fit_work_budget(&s));
  EXPECT_TRUE(within_work_budget(s));
  EXPECT_EQ(s[2].level, 2u);
  EXPECT_EQ(s[2].size, uint64_t{4} << 30);

  // Two 1 GiB leaves split to 2 MiB fit (1026); three 1 GiB leaves (1539) do not: the last split
  // gives up its range.
  Stream three = parse_text(std::string(kX86Init) +
                                "fault 0x0 level=3 access=rw\nfault 0x40000000 level=3 "
                                "access=rw\nfault 0x80000000 level=3 access=rw\n"
                                "split 0x0 4G level=2\n",
                            "t");
  EXPECT_FALSE(within_work_budget(three));
  ASSERT_TRUE(fit_work_budget(&three));
  EXPECT_EQ(three[4].size, 0u);
}

// An arm64-6.12 split costs 512 leaves per page it could take: its cache, bounded by the blocks
// maps left in its range (513 for a 1 GiB block, 1 for a 2 MiB one). Fitting shrinks the cache.
TEST(WorkBudget, AnArm64SplitCosts512LeavesPerPageItCouldTake) {
  auto cost = [](const char* text) { return stream_leaf_cost(parse_text(text, "t"), 1u << 30); };
  // No block in the range: nothing to take, whatever the cache.
  EXPECT_EQ(cost("init kernel=6.12\nmap 0 4K pa=0 prot=rw\nsplit 0 1G mc=600"), 1u);
  // A 2 MiB block: one page at most.
  EXPECT_EQ(cost("init kernel=6.12\nmap 2M 2M pa=0 prot=rw\nsplit 0 1G mc=600"), 1u + 512);
  // A 1 GiB block: the cache's pages, up to 513 and what a shallow split's pieces take.
  EXPECT_EQ(cost("init kernel=6.12\nmap 1G 1G pa=0 prot=rw\nsplit 1G 4K mc=2"), 1u + 2 * 512);
  EXPECT_EQ(cost("init kernel=6.12\nmap 1G 1G pa=0 prot=rw\nsplit 1G 4K mc=600"), 1u + 514 * 512);
  Stream s = parse_text("init kernel=6.12\nmap 1G 1G pa=0 prot=rw\nsplit 1G 4K mc=600", "t");
  EXPECT_FALSE(within_work_budget(s));
  ASSERT_TRUE(fit_work_budget(&s));
  EXPECT_EQ(s[2].kind, OpKind::Arm64Split);
  EXPECT_EQ(s[2].memcache, 2);  // (1536 - 1) / 512
}

// create_unlinked: 512 leaves per page it can take; with force_pte a level-1 table would take 513
// pages, which the budget cuts to the cache it can pay for (the build then runs dry: -ENOMEM).
TEST(WorkBudget, ACreateUnlinkedCosts512LeavesPerPageItCanTake) {
  auto cost = [](const char* text) { return stream_leaf_cost(parse_text(text, "t"), 1u << 30); };
  EXPECT_EQ(cost("init kernel=6.12\ncreate_unlinked pa=1G level=1 prot=rw mc=600"), 512u);
  EXPECT_EQ(cost("init kernel=6.12\ncreate_unlinked pa=1G level=1 prot=rw force_pte=1 mc=2"),
            2 * 512u);
  EXPECT_EQ(cost("init kernel=6.12\ncreate_unlinked pa=1G level=1 prot=rw force_pte=1 mc=600"),
            513 * 512u);
  // Not aligned to its granule: -EINVAL before a page is taken.
  EXPECT_EQ(cost("init kernel=6.12\ncreate_unlinked pa=2M level=1 prot=rw force_pte=1 mc=600"), 0u);
  Stream s =
      parse_text("init kernel=6.12\ncreate_unlinked pa=1G level=1 prot=rw force_pte=1 mc=513", "t");
  EXPECT_FALSE(within_work_budget(s));
  ASSERT_TRUE(fit_work_budget(&s));
  EXPECT_EQ(s[1].memcache, 3);  // 1536 / 512
}

// 6.12's test_clear_young installs nothing, however large its range; a map's walk flags and
// NORMAL_NC cost what the map costs without them.
TEST(WorkBudget, RangeAgingCostsNothingAndWalkFlagsChangeNoMapsCost) {
  auto cost = [](const char* text) { return stream_leaf_cost(parse_text(text, "t"), 1u << 30); };
  EXPECT_EQ(cost("init kernel=6.12\nmap 0 1G pa=0 prot=rw\ntest_clear_young 0 1T mkold=1"), 1u);
  EXPECT_EQ(cost("init kernel=6.12\nmap 0x1000 2M pa=0x1000 prot=rwn flags=shared,fault"),
            cost("init kernel=6.12\nmap 0x1000 2M pa=0x1000 prot=rw"));
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
  for (int i = 0; i < 1000; ++i) {
    RandomStreamOptions options = i % 2 ? big : RandomStreamOptions{};
    options.arch = i % 4 >= 2 ? Arch::X86Ept : Arch::Arm64S2;
    Stream s = random_stream(rng, options);
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

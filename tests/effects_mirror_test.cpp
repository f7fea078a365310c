// SPDX-License-Identifier: GPL-2.0-only
// The effects mirror: on hand-made tables, the same stores on pages elsewhere are followed and
// every kind of difference parts it from the reference, even one the masked traces cannot tell;
// through the harness, a run that judges the reference alone reports what a run that judges each
// backend on its own reports, on random streams of both architectures and on every plant.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "mmu/ops/random_stream.h"
#include "mmu/ops/text_format.h"
#include "mmu/plants.h"
#include "oracles/effects_check.h"
#include "oracles/effects_mirror.h"
#include "oracles/harness.h"
#include "oracles/isolated_run.h"
#include "tests/findings_text.h"
#include "tests/sanitizer_scale.h"
#include "tests/table_builder.h"

namespace mmudiff {
namespace {

using namespace mmudiff::testing;

// The reference's table and another backend's, the same but for where their pages are.
class EffectsMirrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    checker.reset(ref.root());
    ASSERT_TRUE(mirror.reset(ref.root(), mine.root()));
    ASSERT_NE(ref.root().pgd_pa, mine.root().pgd_pa);
  }

  // Checks what both builders recorded since the last call as one operation: does the mirror
  // follow the reference?
  bool op(OpKind kind = OpKind::Map) {
    Op o;
    o.kind = kind;
    checker.check(ref.log().events(), o, ref.log().frees());
    bool followed = mirror.follow(ref.log().events(), checker, mine.log().events(),
                                  ref.log().frees(), mine.log().frees());
    ref.log().clear();
    mine.log().clear();
    return followed;
  }

  // The same stores into both tables.
  void page_both(uint64_t ipa, uint64_t pa) {
    ref.page(ipa, pa);
    mine.page(ipa, pa);
  }

  TableBuilder ref;
  TableBuilder mine{TableBuilder::Options{.pad_pages = 3}};
  EffectsChecker checker;
  EffectsMirror mirror;
};

TEST_F(EffectsMirrorTest, TheSameEffectsOnPagesElsewhereAreFollowed) {
  page_both(0x1000, 0x1000);
  ref.block(k2M, 2, k2M);
  mine.block(k2M, 2, k2M);
  ASSERT_NE(ref.table_pa(0x1000, 3), mine.table_pa(0x1000, 3));
  EXPECT_TRUE(op());
  // Unmapping the page and the table above it, with its invalidations.
  for (TableBuilder* b : {&ref, &mine}) {
    b->set(0x1000, 3, 0);
    b->set(0, 2, 0);
    b->log().tlbi_ipa(0x1000, 0);
    b->log().dsb(Barrier::Ish);
  }
  EXPECT_TRUE(op(OpKind::Unmap));
}

// Where a table page is freed among the effects is judged (freed-before-flush): freed at another
// point, or another page freed, the reference's verdict does not hold for it.
// Unmaps the one page of the level-3 table at IPA 0 and that table, in B, and frees the table
// before or after its flush.
void unmap_and_free_table(TableBuilder& b, bool free_before_flush) {
  const uint64_t table = b.table_pa(0x1000, 3);
  b.set(0x1000, 3, 0);
  b.set(0, 2, 0);
  if (free_before_flush) b.log().page_freed(table);
  b.log().tlbi_ipa(0x1000, 0);
  if (!free_before_flush) b.log().page_freed(table);
}

TEST_F(EffectsMirrorTest, AFreeOfTheCorrespondingPageAtTheSamePointIsFollowed) {
  page_both(0x1000, 0x1000);
  EXPECT_TRUE(op());
  unmap_and_free_table(ref, false);
  unmap_and_free_table(mine, false);
  EXPECT_TRUE(op(OpKind::Unmap));
}

TEST_F(EffectsMirrorTest, AFreeAtAnotherPointPartsIt) {
  page_both(0x1000, 0x1000);
  EXPECT_TRUE(op());
  unmap_and_free_table(ref, false);
  unmap_and_free_table(mine, true);
  EXPECT_FALSE(op(OpKind::Unmap));
}

TEST_F(EffectsMirrorTest, AFreeOfAPageThatCorrespondsToAnotherPartsIt) {
  page_both(0x1000, 0x1000);
  page_both(k2M + 0x1000, 0x2000);
  EXPECT_TRUE(op());
  for (TableBuilder* b : {&ref, &mine}) {
    b->set(0x1000, 3, 0);
    b->log().tlbi_ipa(0x1000, 3);
  }
  // The reference frees the first table; the other backend the second, still linked.
  ref.log().page_freed(ref.table_pa(0x1000, 3));
  mine.log().page_freed(mine.table_pa(k2M + 0x1000, 3));
  EXPECT_FALSE(op(OpKind::Unmap));
}

TEST_F(EffectsMirrorTest, ALeafWithAnotherValuePartsIt) {
  ref.page(0x1000, 0x1000);
  mine.page(0x1000, 0x2000);
  EXPECT_FALSE(op());
}

TEST_F(EffectsMirrorTest, AStoreIntoAnotherEntryPartsIt) {
  ref.page(0x1000, 0x1000);
  mine.page(0x2000, 0x1000);
  EXPECT_FALSE(op());
}

TEST_F(EffectsMirrorTest, AMissingOrDifferentInvalidationPartsIt) {
  page_both(0x1000, 0x1000);
  ASSERT_TRUE(op());
  ref.set(0x1000, 3, 0);
  mine.set(0x1000, 3, 0);
  ref.log().tlbi_ipa(0x1000, 3);
  EXPECT_FALSE(op(OpKind::Unmap));

  EffectsMirrorTest::SetUp();
  ref.log().tlbi_ipa(0x1000, 3);
  mine.log().tlbi_ipa(0x1000, 2);
  EXPECT_FALSE(op(OpKind::Unmap));
}

// Two pages filled while unlinked, and the other one linked: EffectsChecker traces the stores of
// a page no table reaches by their index alone, so the two traces are equal; the tables, and what
// the checker would judge next, are not. The mirror tells them apart.
TEST_F(EffectsMirrorTest, APreparedPageLinkedInTheOthersPlaceIsNotFollowed) {
  EffectsChecker mine_checker;
  mine_checker.reset(mine.root());
  auto check_both = [&](OpKind kind) {
    Op o;
    o.kind = kind;
    mine_checker.check(mine.log().events(), o);
    return op(kind);
  };
  // The tables down to level 2 over IPA 0, alike.
  ref.entry_pa(0, 2);
  mine.entry_pa(0, 2);
  ASSERT_TRUE(check_both(OpKind::Map));
  const uint64_t a = leaf(3, 0x1000), b = leaf(3, 0x2000);
  const uint64_t ref_first = ref.new_table_page(), ref_second = ref.new_table_page();
  const uint64_t mine_first = mine.new_table_page(), mine_second = mine.new_table_page();
  ref.store(ref_first, a);
  ref.store(ref_second, b);
  mine.store(mine_first, a);
  mine.store(mine_second, b);
  ref.set(0, 2, s2::make_table(ref_first));
  mine.set(0, 2, s2::make_table(mine_second));
  EXPECT_FALSE(check_both(OpKind::Map));
  EXPECT_EQ(mine_checker.trace(), checker.trace());
}

// A page the reference takes out of reach is a new page to it when it comes back; the other
// backend may use another page in its place.
TEST_F(EffectsMirrorTest, APageTakenOutOfReachMayComeBackAsAnotherOne) {
  page_both(0x1000, 0x1000);
  ASSERT_TRUE(op());
  const uint64_t ref_page = ref.table_pa(0x1000, 3);
  for (TableBuilder* b : {&ref, &mine}) {
    b->set(0, 2, 0);
    b->log().tlbi_vmid();
  }
  ASSERT_TRUE(op(OpKind::Unmap));
  ref.set(k2M, 2, s2::make_table(ref_page));
  mine.set(k2M, 2, s2::make_table(mine.new_table_page()));
  EXPECT_TRUE(op());
}

TEST_F(EffectsMirrorTest, RootsOfAnotherShapeAreNotFollowed) {
  TableBuilder narrow{TableBuilder::Options{.ia_bits = 40}};
  EXPECT_FALSE(mirror.reset(ref.root(), narrow.root()));
}

// ---- Through the harness ----------------------------------------------------------------------

// In a child process: some plants crash their backend.
StreamReport expect_alike(const Stream& stream, HarnessOptions options, const std::string& what) {
  options.mirror_effects = true;
  StreamReport mirrored = run_isolated(stream, options).report;
  options.mirror_effects = false;
  StreamReport judged = run_isolated(stream, options).report;
  EXPECT_EQ(describe_report(mirrored), describe_report(judged)) << what << "\n"
                                                                << format_stream(stream);
  EXPECT_TRUE(mirrored.results == judged.results) << what;
  return mirrored;
}

class MirroredRuns : public ::testing::TestWithParam<Arch> {};

TEST_P(MirroredRuns, ReportWhatRunsJudgingEveryBackendReportOnRandomStreams) {
  std::mt19937_64 rng(17);
  RandomStreamOptions o;
  o.arch = GetParam();
  size_t with_notes = 0;
  const size_t n = sanitizer_scaled(300);
  for (size_t i = 0; i < n; ++i) {
    Stream s = random_stream(rng, o);
    expect_alike(s, HarnessOptions{}, "stream " + std::to_string(i));
    with_notes += !run_stream(s, HarnessOptions{}).notes.empty();
  }
  // What the reference objects to (notes) is shared with the backends that follow it.
  if (GetParam() == Arch::Arm64S2) {
    EXPECT_GT(with_notes, n / 4);
  }
}

INSTANTIATE_TEST_SUITE_P(BothArchitectures, MirroredRuns,
                         ::testing::Values(Arch::Arm64S2, Arch::X86Ept), [](const auto& info) {
                           return info.param == Arch::Arm64S2 ? "Arm64" : "X86";
                         });

// A plant's effects part from the reference's: the run judging every backend on its own takes
// over, and reports what it always did.
TEST(MirroredRunsOfPlants, ReportWhatRunsJudgingEveryBackendReport) {
  for (const PlantInfo& p : planted_bugs()) {
    std::ifstream in(std::string(MMUDIFF_SOURCE_DIR) + "/corpus/regressions/plant-" +
                     std::string(p.name) + ".mmu");
    std::stringstream text;
    text << in.rdbuf();
    Stream s = parse_text(text.str(), p.name);
    HarnessOptions options;
    options.plant = p.id;
    EXPECT_FALSE(expect_alike(s, options, std::string(p.name)).equivalent()) << p.name;
  }
}

}  // namespace
}  // namespace mmudiff

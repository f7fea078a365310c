// SPDX-License-Identifier: GPL-2.0-only
// The hardware-effects checker on hand-made effect traces: each table is built from empty through
// recorded stores (which must be quiet), then one operation's stores and TLBIs are written by hand
// — the right sequence stays quiet, each wrong one fires the right rule.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "oracles/effects_check.h"
#include "tests/findings_text.h"
#include "tests/table_builder.h"

namespace mmudiff {
namespace {

using namespace mmudiff::testing;
namespace s2 = mmudiff::arm64s2;

class EffectsCheck : public ::testing::Test {
 protected:
  void SetUp() override { checker.reset(b.root()); }

  // Checks what the builder recorded since the last call, as one operation of this kind.
  std::vector<Objection> op(OpKind kind, uint64_t addr = 0, uint64_t size = 0) {
    Op o;
    o.kind = kind;
    o.addr = addr;
    o.size = size;
    auto v = checker.check(b.log().events(), o, b.log().frees());
    b.log().clear();
    std::erase_if(v, [&](const Objection& x) { return !checks_maintenance && is_cmo_rule(x); });
    return v;
  }
  // The table built so far: building from empty never needs an invalidation.
  void built() {
    auto v = op(OpKind::Map);
    ASSERT_TRUE(v.empty()) << describe_objections(v);
  }
  void tlbi_ipa(uint64_t ipa, unsigned level) { b.log().tlbi_ipa(ipa, level); }
  // The level-3 table at IPA 0 once its one page (IPA 0x1000) is unmapped and invalidated: empty,
  // ready to be unlinked and freed. Its page.
  uint64_t emptied_table() {
    b.page(0x1000, 0x1000);
    built();
    b.set(0x1000, 3, 0);
    tlbi_ipa(0x1000, 3);
    return b.table_pa(0x1000, 3);
  }
  void tlbi_vmid() { b.log().tlbi_vmid(); }
  // A range TLBI (TLBI RIPAS2E1IS, no level hint), as 6.12 records one.
  void tlbi_range(uint64_t ipa, uint64_t size) { b.log().tlb_flush_range(ipa, size, 0); }

  // Exactly one violation, of this rule, whose text mentions `what`.
  static void expect_one(const std::vector<Objection>& v, const char* rule, const char* what) {
    ASSERT_EQ(v.size(), 1u) << describe_objections(v);
    EXPECT_EQ(v[0].rule, rule) << describe_objections(v);
    EXPECT_NE(v[0].what.find(what), std::string::npos) << describe_objections(v);
  }

  static bool is_cmo_rule(const Objection& x) {
    return x.rule == "poc-clean-missing" || x.rule == "icache-inval-missing" ||
           x.rule == "cmo-unjustified";
  }

  TableBuilder b;
  EffectsChecker checker;
  // The TLB and break-before-make tests build their tables without cache maintenance; the
  // CacheMaintenance tests below check it.
  bool checks_maintenance = false;
};

TEST_F(EffectsCheck, BuildingATableFromEmptyIsQuiet) {
  b.page(0x1000, 0x1000);
  b.block(k2M, 2, k2M);
  b.block(k1G, 1, k1G);
  b.set(0x3000, 3, s2::make_owner_annotation(1));
  EXPECT_TRUE(op(OpKind::Map).empty());
  b.log().dsb(Barrier::Ish);
  b.log().dcache_clean_inval(0x1000, k4K);
  b.log().isb();
  EXPECT_TRUE(op(OpKind::Flush).empty());
}

TEST_F(EffectsCheck, UnmappingAPageWithATlbiAtItsLevelIsQuiet) {
  b.page(0x1000, 0x1000);
  built();
  b.set(0x1000, 3, 0);
  tlbi_ipa(0x1000, 3);
  auto v = op(OpKind::Unmap);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

TEST_F(EffectsCheck, UnmappingAPageWithATlbiWithoutLevelHintIsQuiet) {
  b.page(0x1000, 0x1000);
  built();
  b.set(0x1000, 3, 0);
  tlbi_ipa(0x1000, 0);
  auto v = op(OpKind::Unmap);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

TEST_F(EffectsCheck, UnmappingWithAVmidWideTlbiIsQuiet) {
  b.page(0x1000, 0x1000);
  b.block(k1G, 1, k1G);
  built();
  b.set(0x1000, 3, 0);
  b.set(k1G, 1, 0);
  tlbi_vmid();
  auto v = op(OpKind::Unmap);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

TEST_F(EffectsCheck, ATlbiAnywhereInsideABlockCoversIt) {
  b.block(k2M, 2, 0x8000'0000);
  built();
  b.set(k2M, 2, 0);
  tlbi_ipa(k2M + 0x5'4000, 2);
  auto v = op(OpKind::Unmap);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

TEST_F(EffectsCheck, UnmappingAPageWithoutATlbiLeavesItStale) {
  b.page(0x1000, 0x1000);
  built();
  b.set(0x1000, 3, 0);
  expect_one(op(OpKind::Unmap), "tlb-staleness", "IPA 0x1000 level 3");
}

TEST_F(EffectsCheck, ATlbiWithTheWrongLevelHintLeavesTheLeafStale) {
  // Arm ARM, TLBI IPAS2E1IS: a TTL hint naming another level than the cached entry's need not
  // remove it.
  b.page(0x1000, 0x1000);
  b.block(k2M, 2, k2M);
  built();
  b.set(0x1000, 3, 0);
  tlbi_ipa(0x1000, 2);  // a page is a level-3 entry
  b.set(k2M, 2, 0);
  tlbi_ipa(k2M, 3);  // a 2 MiB block is a level-2 entry
  auto v = op(OpKind::Unmap);
  ASSERT_EQ(v.size(), 2u) << describe_objections(v);
  std::string all = describe_objections(v);
  EXPECT_EQ(v[0].rule, "tlb-staleness");
  EXPECT_EQ(v[1].rule, "tlb-staleness");
  EXPECT_EQ(v[0].severity, Severity::Security);
  EXPECT_NE(all.find("IPA 0x1000 level 3"), std::string::npos) << all;
  EXPECT_NE(all.find("IPA 0x200000 level 2"), std::string::npos) << all;
}

TEST_F(EffectsCheck, ATlbiForAnotherIpaLeavesTheLeafStale) {
  b.page(0x1000, 0x1000);
  built();
  b.set(0x1000, 3, 0);
  tlbi_ipa(0x2000, 3);
  expect_one(op(OpKind::Unmap), "tlb-staleness", "IPA 0x1000");
}

TEST_F(EffectsCheck, ATlbiBeforeTheStoreDoesNotCoverIt) {
  b.page(0x1000, 0x1000);
  built();
  tlbi_ipa(0x1000, 3);
  b.set(0x1000, 3, 0);
  expect_one(op(OpKind::Unmap), "tlb-staleness", "IPA 0x1000");
}

TEST_F(EffectsCheck, ATlbiInTheNextOperationIsTooLate) {
  b.page(0x1000, 0x1000);
  built();
  b.set(0x1000, 3, 0);
  expect_one(op(OpKind::Unmap), "tlb-staleness", "IPA 0x1000");
  tlbi_ipa(0x1000, 3);
  EXPECT_TRUE(op(OpKind::Flush).empty());
}

TEST_F(EffectsCheck, ReplacingAValidLeafWithAnotherOutputAddressBreaksBreakBeforeMake) {
  b.page(0x1000, 0x1000);
  built();
  b.set(0x1000, 3, leaf(3, 0x2000));
  tlbi_ipa(0x1000, 3);  // a TLBI afterwards does not make up for the missing break
  expect_one(op(OpKind::Map), "break-before-make", "without going through invalid");
}

TEST_F(EffectsCheck, ReplacingAValidLeafWithAnotherMemoryTypeOrShareabilityBreaksBreakBeforeMake) {
  b.page(0x1000, 0x1000);
  b.page(0x2000, 0x2000);
  built();
  b.set(0x1000, 3, leaf(3, 0x1000, {.device = true}));
  b.set(0x2000, 3, b.get(0x2000, 3) & ~s2::kShMask);  // non-shareable
  tlbi_vmid();
  auto v = op(OpKind::Map);
  ASSERT_EQ(v.size(), 2u) << describe_objections(v);
  EXPECT_EQ(v[0].rule, "break-before-make");
  EXPECT_EQ(v[1].rule, "break-before-make");
}

TEST_F(EffectsCheck, ReplacingABlockDirectlyWithATableBreaksBreakBeforeMake) {
  b.block(k2M, 2, k2M);
  built();
  uint64_t table = b.new_table_page();
  b.set(k2M, 2, s2::make_table(table));
  tlbi_ipa(k2M, 2);
  expect_one(op(OpKind::Map), "break-before-make", "IPA 0x200000 level 2");
}

TEST_F(EffectsCheck, BreakBeforeMakeInOrderIsQuiet) {
  b.page(0x1000, 0x1000);
  b.block(k2M, 2, k2M);
  built();
  // Another output address for the page; the block broken for an empty table, as 6.1 does.
  b.set(0x1000, 3, 0);
  tlbi_ipa(0x1000, 3);
  b.set(0x1000, 3, leaf(3, 0x5000));
  b.set(k2M, 2, 0);
  tlbi_ipa(k2M, 2);
  b.set(k2M, 2, s2::make_table(b.new_table_page()));
  b.page(k2M + 0x3000, 0x9000);
  auto v = op(OpKind::Map);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

TEST_F(EffectsCheck, RevalidatingAnEntryBeforeTheTlbiForItsClearBreaksBreakBeforeMake) {
  b.page(0x1000, 0x1000);
  built();
  b.set(0x1000, 3, 0);
  b.set(0x1000, 3, leaf(3, 0x5000));
  tlbi_ipa(0x1000, 3);
  expect_one(op(OpKind::Map), "break-before-make", "written before the TLBI");
}

TEST_F(EffectsCheck, LosingWritePermissionOutsideWrprotectNeedsATlbi) {
  b.page(0x1000, 0x1000);
  built();
  b.set(0x1000, 3, leaf(3, 0x1000, {.w = false}));
  expect_one(op(OpKind::RelaxPerms), "tlb-staleness", "lost permission");
  b.set(0x1000, 3, leaf(3, 0x1000, {.r = false, .w = false}));
  tlbi_ipa(0x1000, 3);
  auto v = op(OpKind::Map);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

TEST_F(EffectsCheck, LosingExecutePermissionNeedsATlbi) {
  b.page(0x1000, 0x1000, {.x = true});
  built();
  b.set(0x1000, 3, leaf(3, 0x1000, {.x = false}));
  expect_one(op(OpKind::Map), "tlb-staleness", "lost permission");
}

TEST_F(EffectsCheck, LosingExecutionAtElOneThroughXnZeroNeedsATlbi) {
  // XN[1:0] 00 -> 01: with FEAT_XNX EL1 may no longer execute, though XN[1] did not change.
  b.page(0x1000, 0x1000, {.x = true});
  built();
  b.set(0x1000, 3, b.get(0x1000, 3) | s2::bit(53));
  expect_one(op(OpKind::Map), "tlb-staleness", "lost permission");
}

TEST_F(EffectsCheck, GainingPermissionsOrTheAccessFlagNeedsNoTlbiOutsideRelax) {
  b.page(0x1000, 0x1000, {.r = false, .w = false, .af = false});
  built();
  b.set(0x1000, 3, leaf(3, 0x1000, {.x = true}));
  auto v = op(OpKind::Mkyoung);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

TEST_F(EffectsCheck, RelaxWithoutATlbiLeavesTheOldEntryAndTheGuestFaultsAgain) {
  // relax_perms's contract is to flush: the kernel's caller retries the faulting access.
  b.page(0x1000, 0x1000, {.w = false});
  built();
  b.set(0x1000, 3, leaf(3, 0x1000));
  auto v = op(OpKind::RelaxPerms);
  expect_one(v, "relax-not-flushed", "faults on it again");
  EXPECT_EQ(v[0].severity, Severity::Functional);
  b.set(0x1000, 3, leaf(3, 0x1000, {.x = true}));
  tlbi_ipa(0x1000, 3);
  v = op(OpKind::RelaxPerms);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

TEST_F(EffectsCheck, RelaxOfABlockFlushedAtThePageLevelLeavesItCached) {
  b.block(k2M, 2, k2M, {.w = false});
  built();
  b.set(k2M, 2, leaf(2, k2M));
  tlbi_ipa(k2M, 3);
  expect_one(op(OpKind::RelaxPerms), "relax-not-flushed", "IPA 0x200000 level 2");
}

TEST_F(EffectsCheck, WrprotectClearingWriteNeedsNoTlbi) {
  b.page(0x1000, 0x1000);
  b.block(k2M, 2, k2M);
  built();
  b.set(0x1000, 3, leaf(3, 0x1000, {.w = false}));
  b.set(k2M, 2, leaf(2, k2M, {.w = false}));
  auto v = op(OpKind::Wrprotect);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

TEST_F(EffectsCheck, WrprotectClearingMoreThanWriteNeedsATlbi) {
  b.page(0x1000, 0x1000);
  built();
  b.set(0x1000, 3, leaf(3, 0x1000, {.r = false, .w = false}));
  expect_one(op(OpKind::Wrprotect), "tlb-staleness", "lost permission");
}

TEST_F(EffectsCheck, MkoldClearingTheAccessFlagNeedsNoTlbi) {
  b.block(k2M, 2, k2M);
  built();
  b.set(k2M, 2, leaf(2, k2M, {.af = false}));
  auto v = op(OpKind::Mkold);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

TEST_F(EffectsCheck, ATableRemovedWithValidLeavesAndOnlyAnIpaTlbiLeavesThemStale) {
  b.page(0x1000, 0x1000);
  b.page(0x2000, 0x2000);
  built();
  b.set(0, 2, 0);  // the level-3 table goes, both pages still valid in it
  tlbi_ipa(0, 0);  // removes the walk-cache entry, not the level-3 leaves at other IPAs
  auto v = op(OpKind::Unmap);
  ASSERT_EQ(v.size(), 2u) << describe_objections(v);
  for (const auto& x : v) {
    EXPECT_EQ(x.rule, "tlb-staleness") << describe_objections(v);
    EXPECT_NE(x.what.find("level 3"), std::string::npos) << describe_objections(v);
  }
}

TEST_F(EffectsCheck, ATableReplacedByABlockAfterAVmidTlbiIsQuiet) {
  // Linux 6.1's stage2_map_walk_table_pre: clear the table entry, flush the VMID, and install
  // the block when the walk comes back up.
  b.page(0x1000, 0x1000);
  b.page(0x2000, 0x2000);
  built();
  b.set(0, 2, 0);
  tlbi_vmid();
  b.set(0, 2, leaf(2, 0x4000'0000));
  auto v = op(OpKind::Map);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

TEST_F(EffectsCheck, ABlockWrittenOverATableWithLeavesBeforeTheVmidTlbiBreaksBreakBeforeMake) {
  // A TLBI by IPA invalidates one leaf of the old table, not all of them: the block conflicts in
  // the TLB with the others until the VMID-wide TLBI.
  b.page(0x1000, 0x1000);
  b.page(0x2000, 0x2000);
  built();
  b.set(0, 2, 0);
  tlbi_ipa(0, 2);
  b.set(0, 2, leaf(2, 0x4000'0000));
  tlbi_vmid();
  expect_one(op(OpKind::Map), "break-before-make", "written before the TLBI");
}

TEST_F(EffectsCheck, AnEmptyTableRemovedWithoutATlbiMayStayInTheWalkCache) {
  b.page(0x1000, 0x1000);
  built();
  b.set(0x1000, 3, 0);
  tlbi_ipa(0x1000, 3);
  b.set(0, 2, 0);  // the now empty level-3 table is unlinked (and would be freed)
  auto v = op(OpKind::Unmap);
  expect_one(v, "walk-cache-staleness", "may still follow page");
  EXPECT_EQ(v[0].severity, Severity::Security);
}

TEST_F(EffectsCheck, ATableTeardownFlushedAtTheLeafLevelStaysInTheWalkCache) {
  b.page(0x1000, 0x1000);
  built();
  b.set(0x1000, 3, 0);
  tlbi_ipa(0x1000, 3);
  b.set(0, 2, 0);
  tlbi_ipa(0x1000, 3);  // names the level of the leaves, not the table's
  expect_one(op(OpKind::Unmap), "walk-cache-staleness", "IPA 0x0 level 2");
}

// ---- Range TLBIs (FEAT_TLBIRANGE): [ipa, ipa + size) at every level, nothing else --------------
// Arm ARM, TLBI RIPAS2E1IS: an entry goes when it would be used to translate an IPA in the range.
// A block may be cached in pieces, and the pieces outside the range are not used for it: an
// entry is removed only when the range holds all of it.

TEST_F(EffectsCheck, ARangeTlbiOverAWholeUnmappedBlockIsQuiet) {
  b.block(k2M, 2, k2M);
  built();
  b.set(k2M, 2, 0);
  tlbi_range(k2M, k2M);
  auto v = op(OpKind::Unmap, k2M, k2M);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

TEST_F(EffectsCheck, ARangeTlbiMissingTheLastPageOfAnUnmappedBlockLeavesItStale) {
  b.block(k2M, 2, k2M);
  built();
  b.set(k2M, 2, 0);
  tlbi_range(k2M, k2M - k4K);
  auto v = op(OpKind::Unmap, k2M, k2M);
  expect_one(v, "tlb-staleness", "IPA 0x200000 level 2");
  EXPECT_EQ(v[0].severity, Severity::Security);
}

TEST_F(EffectsCheck, ARangeTlbiMissingTheLastUnmappedPageLeavesThatPageStale) {
  b.page(0x1000, 0x1000);
  b.page(0x2000, 0x2000);
  built();
  b.set(0x1000, 3, 0);
  b.set(0x2000, 3, 0);
  tlbi_range(0x1000, k4K);
  expect_one(op(OpKind::Unmap, 0x1000, 2 * k4K), "tlb-staleness", "IPA 0x2000 level 3");
}

TEST_F(EffectsCheck, ARangeTlbiStartsAtThePageOfItsAddress) {
  b.page(0x1000, 0x1000);
  built();
  b.set(0x1000, 3, 0);
  tlbi_range(0x1800, k4K);  // BaseADDR is a page number: [0x1000, 0x2000)
  auto v = op(OpKind::Unmap, 0x1000, k4K);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

TEST_F(EffectsCheck, ARangeTlbiStartingPastTheFirstPageOfABlockLeavesItStale) {
  b.block(k2M, 2, k2M);
  built();
  b.set(k2M, 2, 0);
  tlbi_range(k2M + k4K, k2M);
  expect_one(op(OpKind::Unmap, k2M, k2M), "tlb-staleness", "IPA 0x200000 level 2");
}

// 6.12's break of a table entry: the entry is locked, its granule flushed as a range, and the
// block installed. The range takes the walk-cache copy of the table entry and the leaves below.
TEST_F(EffectsCheck, ATableReplacedByABlockAfterARangeTlbiOverItsSpanIsQuiet) {
  b.page(0x1000, 0x1000);
  b.page(k2M - k4K, 0x2000);
  built();
  b.set(0, 2, s2::bit(10));
  tlbi_range(0, k2M);
  b.set(0, 2, leaf(2, 0x4000'0000));
  auto v = op(OpKind::Map);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

TEST_F(EffectsCheck, ARangeTlbiMissingTheLastPageOfATablesSpanLeavesItAndItsLastLeafCached) {
  b.page(0x1000, 0x1000);
  b.page(k2M - k4K, 0x2000);
  built();
  b.set(0, 2, s2::bit(10));
  tlbi_range(0, k2M - k4K);
  b.set(0, 2, 0);
  auto v = op(OpKind::Unmap);
  ASSERT_EQ(v.size(), 2u) << describe_objections(v);
  auto has = [&](const char* rule, const char* what) {
    return std::any_of(v.begin(), v.end(), [&](const Objection& x) {
      return x.rule == rule && x.what.find(what) != std::string::npos;
    });
  };
  EXPECT_TRUE(has("tlb-staleness", "IPA 0x1ff000 level 3")) << describe_objections(v);
  EXPECT_TRUE(has("walk-cache-staleness", "IPA 0x0 level 2")) << describe_objections(v);
}

TEST_F(EffectsCheck, ARangeTlbiWritingABlockBeforeItBreaksBreakBeforeMake) {
  b.page(0x1000, 0x1000);
  built();
  b.set(0, 2, 0);
  b.set(0, 2, leaf(2, 0x4000'0000));
  tlbi_range(0, k2M);
  expect_one(op(OpKind::Map), "break-before-make", "written before the TLBI");
}

// A range the instruction cannot encode in one goes in chunks (MAX_TLBI_RANGE_PAGES): chunks that
// meet act as one range, so an entry across their boundary is covered.
TEST_F(EffectsCheck, RangeTlbisThatMeetCoverAnEntryAcrossTheirBoundary) {
  b.block(k1G, 1, k1G);
  built();
  b.set(k1G, 1, 0);
  tlbi_range(k1G - k2M, k1G / 2 + k2M);
  tlbi_range(k1G + k1G / 2, k1G);
  auto v = op(OpKind::Unmap, k1G, k1G);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

TEST_F(EffectsCheck, RangeTlbisWithAGapBetweenThemLeaveAnEntryAcrossItStale) {
  b.block(k1G, 1, k1G);
  built();
  b.set(k1G, 1, 0);
  tlbi_range(k1G, k1G / 2);
  tlbi_range(k1G + k1G / 2 + k4K, k1G);
  expect_one(op(OpKind::Unmap, k1G, k1G), "tlb-staleness", "level 1");
}

// Linux 6.12's unmap with FEAT_TLBIRANGE and FWB: the leaves' TLBIs are one range flush over the
// range the caller named, after the walk. It owes those pages: the rest of a block it dropped
// whole may stay cached, but every page the caller named must be covered.
TEST_F(EffectsCheck, ADeferringUnmapOwesThePagesItsCallerNamed) {
  checker.reset(b.root(), Arch::Arm64S2, /*unmap_defers_tlbi=*/true);
  b.block(k2M, 2, k2M);
  built();
  b.set(k2M, 2, 0);
  tlbi_range(k2M + k4K, k4K);
  auto v = op(OpKind::Unmap, k2M + k4K, k4K);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

TEST_F(EffectsCheck, AnUnmapThatDoesNotDeferOwesTheWholeLeafItDropped) {
  b.block(k2M, 2, k2M);
  built();
  b.set(k2M, 2, 0);
  tlbi_range(k2M + k4K, k4K);
  expect_one(op(OpKind::Unmap, k2M + k4K, k4K), "tlb-staleness", "IPA 0x200000 level 2");
}

TEST_F(EffectsCheck, ADeferringUnmapWhoseRangeMissesTheLastNamedPageIsReported) {
  checker.reset(b.root(), Arch::Arm64S2, /*unmap_defers_tlbi=*/true);
  b.block(k2M, 2, k2M);
  built();
  b.set(k2M, 2, 0);
  tlbi_range(k2M, k2M - k4K);
  expect_one(op(OpKind::Unmap, k2M, k2M), "tlb-staleness", "IPA 0x200000 level 2");
  // A page named and never flushed at all.
  b.page(0x1000, 0x1000);
  built();
  b.set(0x1000, 3, 0);
  expect_one(op(OpKind::Unmap, 0x1000, k4K), "tlb-staleness", "IPA 0x1000 level 3");
}

TEST_F(EffectsCheck, AStaleEntryWithMoreAccessIsSecurity) {
  b.page(0x1000, 0x1000, {.x = true});
  built();
  b.set(0x1000, 3, leaf(3, 0x1000, {.w = false, .x = true}));
  auto v = op(OpKind::RelaxPerms);
  expect_one(v, "tlb-staleness", "lost permission W");
  EXPECT_EQ(v[0].severity, Severity::Security);
}

TEST_F(EffectsCheck, APageWrittenUnderABrokenBlockBeforeItsTlbiBreaksBreakBeforeMake) {
  b.block(k2M, 2, 0x4000'0000);
  built();
  b.set(k2M, 2, 0);
  b.set(k2M, 2, s2::make_table(b.new_table_page()));
  b.page(k2M + 0x3000, 0x9000);  // the block may still be cached over this page
  tlbi_ipa(k2M, 2);
  auto v = op(OpKind::Map);
  ASSERT_FALSE(v.empty());
  EXPECT_EQ(v[0].rule, "break-before-make") << describe_objections(v);
  EXPECT_NE(describe_objections(v).find("which overlaps it"), std::string::npos)
      << describe_objections(v);
}

TEST_F(EffectsCheck, AnEmptyTableRemovedWithATlbiWithoutLevelHintIsQuiet) {
  // Debian's 6.1.192 stage2_put_pte: a table entry is invalidated with level 0 ("any level").
  b.page(0x1000, 0x1000);
  built();
  b.set(0x1000, 3, 0);
  tlbi_ipa(0x1000, 3);
  b.set(0, 2, 0);
  tlbi_ipa(0x1000, 0);
  auto v = op(OpKind::Unmap);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

// Linux 6.12 frees an unlinked table after the TLBI of its break-before-make (seed 004: the
// page goes to free_unlinked_table once no walker can reach it).
TEST_F(EffectsCheck, AnUnlinkedTableFreedAfterItsFlushIsQuiet) {
  const uint64_t table = emptied_table();
  b.set(0, 2, 0);
  tlbi_ipa(0x1000, 0);
  b.log().page_freed(table);
  auto v = op(OpKind::Unmap);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

TEST_F(EffectsCheck, AnUnlinkedTableFreedBeforeItsFlushMayBeFollowedAfterReuse) {
  const uint64_t table = emptied_table();
  b.set(0, 2, 0);
  b.log().page_freed(table);
  tlbi_ipa(0x1000, 0);  // the flush comes, but after the free
  auto v = op(OpKind::Unmap);
  expect_one(v, "freed-before-flush", "freed while the walk cache may still hold IPA 0x0 level 2");
  EXPECT_EQ(v[0].severity, Severity::Security);
  EXPECT_NE(v[0].what.find(fmt::format("table page {:#x}", table)), std::string::npos)
      << describe_objections(v);
}

// Below the unlinked table, a table it linked is just as reachable through the walk cache until
// the flush: the whole subtree must outlive it.
TEST_F(EffectsCheck, ATableBelowAnUnlinkedOneFreedBeforeTheFlushIsReported) {
  const uint64_t l3 = emptied_table();
  b.set(0, 1, 0);  // unlinks the level-2 table, and with it the level-3 one
  b.log().page_freed(l3);
  tlbi_vmid();
  expect_one(op(OpKind::Map), "freed-before-flush", "IPA 0x0 level 2");
}

TEST_F(EffectsCheck, ATableFreedWhileStillLinkedIsReported) {
  b.page(0x1000, 0x1000);
  built();
  const uint64_t table = b.table_pa(0x1000, 3);
  b.log().page_freed(table);  // before anything unlinks it
  b.set(0, 2, 0);
  tlbi_vmid();
  auto v = op(OpKind::Map);
  expect_one(v, "freed-before-flush", "freed while still linked");
  EXPECT_NE(v[0].what.find("level 3, IPA 0x0"), std::string::npos) << describe_objections(v);
}

TEST_F(EffectsCheck, ATableTeardownFlushedWithTheTablesOwnLevelStaysInTheWalkCache) {
  // The hint names the level of a leaf; a table entry at that level is none, so the hint is
  // wrong for it and the architecture need not invalidate anything (Linux before "KVM: arm64:
  // Use TLBI level 0 for table entries", fixed in Debian's 6.1 by a backport).
  b.page(0x1000, 0x1000);
  built();
  b.set(0x1000, 3, 0);
  tlbi_ipa(0x1000, 3);
  b.set(0, 2, 0);
  tlbi_ipa(0x1000, 2);
  expect_one(op(OpKind::Unmap), "walk-cache-staleness", "IPA 0x0 level 2");
}

TEST_F(EffectsCheck, ZeroingAnOwnerAnnotationNeedsNoTlbi) {
  b.set(0x1000, 3, s2::make_owner_annotation(1));
  built();
  b.set(0x1000, 3, 0);
  auto v = op(OpKind::Unmap);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

TEST_F(EffectsCheck, AStoreWhoseOldValueDisagreesWithTheRecordIsUnrecorded) {
  b.page(0x1000, 0x1000);
  built();
  b.poke(0x1000, 3, leaf(3, 0x1000, {.w = false}));  // written behind the record's back
  b.set(0x1000, 3, 0);
  tlbi_ipa(0x1000, 3);
  expect_one(op(OpKind::Unmap), "unrecorded-store", "by the record");
}

TEST_F(EffectsCheck, StoresIntoATableBeforeItIsLinkedAreFollowed) {
  b.page(0x1000, 0x1000);  // the level-2 table exists
  built();
  uint64_t table = b.new_table_page();
  b.store(table + 5 * 8, leaf(3, 0x5000));  // filled while unlinked: IPA 2 MiB + 0x5000
  b.set(k2M, 2, s2::make_table(table));
  built();
  b.set(k2M + 0x5000, 3, 0);  // the shadow knows the page was valid
  expect_one(op(OpKind::Unmap), "tlb-staleness", "IPA 0x205000 level 3");
}

TEST_F(EffectsCheck, StoresIntoADetachedTableAreNotUnrecorded) {
  b.page(0x1000, 0x1000);
  built();
  uint64_t entry = b.entry_pa(0x1000, 3);
  b.set(0, 2, 0);
  tlbi_vmid();
  b.store(entry, 0);  // a zap list clearing the old table after unlinking it
  auto v = op(OpKind::Unmap);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

// ---- Cache maintenance ---------------------------------------------------------------------

class CacheMaintenance : public EffectsCheck {
 protected:
  void SetUp() override {
    EffectsCheck::SetUp();
    checks_maintenance = true;
    // The table that translates the pages below, built from empty before the operations.
    b.log().dcache_clean_inval(0x10'0000, k4K);
    b.page(0x10'0000, 0x10'0000);
    built();
  }
  void clean(uint64_t pa, uint64_t size) { b.log().dcache_clean_inval(pa, size); }
  void icache(uint64_t pa, uint64_t size) { b.log().icache_inval(pa, size); }
};

TEST_F(CacheMaintenance, MappingCacheableMemoryCleanedFirstIsQuiet) {
  clean(0x8000'0000, k2M);
  b.block(k2M, 2, 0x8000'0000);
  clean(0x5000, k4K);
  icache(0x5000, k4K);
  b.page(0x1000, 0x5000, {.x = true});
  auto v = op(OpKind::Map);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

TEST_F(CacheMaintenance, MappingCacheableMemoryWithoutACleanIsReported) {
  b.block(k2M, 2, 0x8000'0000);
  auto v = op(OpKind::Map);
  expect_one(v, "poc-clean-missing", "before it was stored");
  EXPECT_EQ(v[0].severity, Severity::HardwareEffects);
}

TEST_F(CacheMaintenance, ACleanAfterTheStoreIsTooLate) {
  b.page(0x1000, 0x5000);
  clean(0x5000, k4K);
  expect_one(op(OpKind::Map), "poc-clean-missing", "PA [0x5000, 0x6000)");
}

TEST_F(CacheMaintenance, ACleanShorterThanTheLeafIsReported) {
  clean(0x8000'0000, k4K);  // a page of a 2 MiB block
  b.block(k2M, 2, 0x8000'0000);
  expect_one(op(OpKind::Map), "poc-clean-missing", "[0x80000000, 0x80200000)");
}

TEST_F(CacheMaintenance, ACleanBeyondTheLeafServesNothing) {
  clean(0x5000, 2 * k4K);  // covers the page, and the next one, which nothing maps
  b.page(0x1000, 0x5000);
  expect_one(op(OpKind::Map), "cmo-unjustified", "[0x5000, 0x7000)");
}

TEST_F(CacheMaintenance, CleaningDeviceMemoryServesNothing) {
  clean(0x9000'0000, k4K);
  b.page(0x1000, 0x9000'0000, {.device = true});
  expect_one(op(OpKind::Map), "cmo-unjustified", "device memory");
}

// Normal non-cacheable memory (Linux 6.12's NORMAL_NC, MemAttr 0x5) has no lines in any cache:
// mapping or unmapping it needs no clean to PoC, and a clean of it serves nothing.
TEST_F(CacheMaintenance, NonCacheableMemoryNeedsNoClean) {
  b.page(0x1000, 0x5000, {.non_cacheable = true});
  auto v = op(OpKind::Map);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
  b.set(0x1000, 3, 0);
  tlbi_ipa(0x1000, 3);
  v = op(OpKind::Unmap);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
  clean(0x6000, k4K);
  b.page(0x2000, 0x6000, {.non_cacheable = true});
  expect_one(op(OpKind::Map), "cmo-unjustified", "non-cacheable memory");
}

TEST_F(CacheMaintenance, WithFwbNoCleanIsNeeded) {
  TableBuilder fwb_table(TableBuilder::Options{.fwb = true});
  EffectsChecker c;
  c.reset(fwb_table.root());
  fwb_table.set(0x1000, 3, leaf(3, 0x5000, {}, /*fwb=*/true));
  Op map;
  map.kind = OpKind::Map;
  auto v = c.check(fwb_table.log().events(), map);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

TEST_F(CacheMaintenance, AnExecutableMappingNeedsTheInstructionCacheInvalidatedFirst) {
  clean(0x5000, k4K);
  b.page(0x1000, 0x5000, {.x = true});
  expect_one(op(OpKind::Map), "icache-inval-missing", "executable");
}

TEST_F(CacheMaintenance, RelaxAddingExecutionNeedsTheInstructionCacheInvalidated) {
  b.set(0x10'0000, 3, leaf(3, 0x10'0000, {.x = true}));
  tlbi_ipa(0x10'0000, 3);
  expect_one(op(OpKind::RelaxPerms), "icache-inval-missing", "PA [0x100000, 0x101000)");
  // Already executable at the same address: nothing more to invalidate.
  b.set(0x10'0000, 3, leaf(3, 0x10'0000, {.w = false, .x = true}));
  tlbi_ipa(0x10'0000, 3);
  auto v = op(OpKind::Wrprotect);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

TEST_F(CacheMaintenance, UnmapCleansTheLeafAfterItsInvalidation) {
  b.set(0x10'0000, 3, 0);
  tlbi_ipa(0x10'0000, 3);
  clean(0x10'0000, k4K);
  auto v = op(OpKind::Unmap);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

TEST_F(CacheMaintenance, UnmapWithoutTheCleanIsReported) {
  b.set(0x10'0000, 3, 0);
  tlbi_ipa(0x10'0000, 3);
  expect_one(op(OpKind::Unmap), "poc-clean-missing", "followed its invalidation");
}

TEST_F(CacheMaintenance, UnmapCleaningBeforeTheInvalidationIsReported) {
  b.set(0x10'0000, 3, 0);
  clean(0x10'0000, k4K);  // the guest can still write the line through the TLB
  tlbi_ipa(0x10'0000, 3);
  expect_one(op(OpKind::Unmap), "poc-clean-missing", "followed its invalidation");
}

TEST_F(CacheMaintenance, FlushCleansEveryCacheableLeafInItsRange) {
  clean(0x8000'0000, k2M);
  b.block(k2M, 2, 0x8000'0000);
  b.page(0x20'0000 - k4K, 0x7000, {.device = true});
  built();
  clean(0x10'0000, k4K);
  clean(0x8000'0000, k2M);
  auto v = op(OpKind::Flush, 0, 4 * k2M);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
  clean(0x10'0000, k4K);
  expect_one(op(OpKind::Flush, 0, 4 * k2M), "poc-clean-missing", "flush left cacheable");
  clean(0x10'0000, k4K);
  clean(0x8000'0000, k2M);
  clean(0x7000, k4K);  // the device page
  expect_one(op(OpKind::Flush, 0, 4 * k2M), "cmo-unjustified", "[0x7000, 0x8000)");
}

TEST_F(CacheMaintenance, FlushOutsideTheIpaSpaceCleansNothing) {
  // 6.1's walker returns -ERANGE before visiting anything.
  auto v = op(OpKind::Flush, 0, uint64_t{1} << 49);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

}  // namespace
}  // namespace mmudiff

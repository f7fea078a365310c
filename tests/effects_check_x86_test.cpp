// SPDX-License-Identifier: GPL-2.0-only
// The effects checker's x86 EPT rules on hand-made effect traces: a table is built from empty
// through recorded stores (quietly), then one operation's stores and ranged flushes are written by
// hand — the sequence the TDP MMU's contracts ask for stays quiet, each wrong one fires its rule.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>

#include "mmu/format/x86_ept.h"
#include "mmu/format/x86_ept_format.h"
#include "oracles/effects_check.h"
#include "tests/findings_text.h"

namespace mmudiff {
namespace {

using namespace mmudiff::testing;
namespace ept = mmudiff::x86ept;

constexpr uint64_t kRoot = 0x10000, kPdpt = 0x11000, kPd = 0x12000, kPt = 0x13000, kPt2 = 0x14000;
constexpr uint64_t k4K = 0x1000, k2M = 0x200000;

class EffectsCheckX86 : public ::testing::Test {
 protected:
  void SetUp() override { start(format_ad); }

  // A 4-level table whose first PD covers GPA [0, 1G).
  void start(const DescriptorFormat& f) {
    TableRoot root;
    root.ia_bits = 48;
    root.start_level = 0;
    root.pgd_pa = kRoot;
    root.pgd_pages = 1;
    root.format = &f;
    checker.reset(root, Arch::X86Ept);
    entries.clear();
    log.clear();
    fresh(kPdpt);
    link(kRoot, 0, kPdpt);
    fresh(kPd);
    link(kPdpt, 0, kPd);
    built();
  }

  uint64_t entry(uint64_t pa) const {
    auto it = entries.find(pa);
    return it == entries.end() ? ept::kNonPresent : it->second;
  }
  void store(uint64_t pa, uint64_t value) {
    log.store(pa, pa / k4K == kRoot / k4K || entries.count(pa) ? entry(pa) : 0, value);
    entries[pa] = value;
  }
  // A new table page, filled with the non-present value as the backends record it.
  void fresh(uint64_t page) {
    for (unsigned i = 0; i < ept::kEntriesPerTable; ++i) store(page + 8 * i, ept::kNonPresent);
  }
  void link(uint64_t table, unsigned index, uint64_t child) {
    store(table + 8 * index, child | ept::kRwxMask | ept::kMmuPresent | ept::kAccessed);
  }
  // A present leaf as make_spte builds it, write-back, at the SDM's level.
  static uint64_t leaf(uint64_t pa, unsigned level, uint64_t rwx = ept::kRwxMask,
                       bool dirty = false) {
    uint64_t d = pa | rwx | (uint64_t{ept::kMemTypeWb} << ept::kMemTypeShift) | ept::kIgnorePat |
                 ept::kMmuPresent | ept::kAccessed | ept::kHostWritable;
    if (rwx & ept::kWrite) d |= ept::kMmuWritable;
    if (dirty) d |= ept::kDirty;
    if (level > 1) d |= ept::kLargePage;
    return d;
  }
  // A PT under PD entry 1 (GPA [2M, 4M)) with one writable page at GPA 0x203000.
  void page_table_with_one_page(bool dirty = false) {
    fresh(kPt);
    store(kPt + 8 * 3, leaf(0x8000'3000, 1, ept::kRwxMask, dirty));
    link(kPd, 1, kPt);
    built();
  }
  // A 2M leaf under PD entry 2: GPA [4M, 6M) -> PA [0x80400000, ...).
  void huge_page() {
    store(kPd + 8 * 2, leaf(0x8040'0000, 2));
    built();
  }

  std::vector<Objection> op(OpKind kind) {
    Op o;
    o.kind = kind;
    auto v = checker.check(log.events(), o);
    log.clear();
    return v;
  }
  void built() {
    auto v = op(OpKind::Fault);
    ASSERT_TRUE(v.empty()) << describe_objections(v);
  }
  static bool fired(const std::vector<Objection>& v, const std::string& rule) {
    return std::any_of(v.begin(), v.end(), [&](const Objection& o) { return o.rule == rule; });
  }

  const DescriptorFormat& format_ad = x86_ept_format({46, 4, true, true});
  EffectsChecker checker;
  EffectLog log;
  std::map<uint64_t, uint64_t> entries;
};

TEST_F(EffectsCheckX86, AZappedPageNeedsAFlushThatCoversIt) {
  page_table_with_one_page();
  store(kPt + 8 * 3, ept::kNonPresent);
  auto v = op(OpKind::ZapLeafs);
  ASSERT_TRUE(fired(v, "tlb-staleness")) << describe_objections(v);
  EXPECT_NE(v.front().what.find("no longer mapped"), std::string::npos) << v.front().what;
  EXPECT_EQ(v.front().severity, Severity::Security);

  // The zap undone and redone: a flush of the next page does not cover it.
  store(kPt + 8 * 3, leaf(0x8000'3000, 1));
  built();
  store(kPt + 8 * 3, ept::kNonPresent);
  log.tlb_flush_range(0x204000, k4K, 1);
  EXPECT_TRUE(fired(op(OpKind::ZapLeafs), "tlb-staleness"));

  for (bool vmid : {false, true}) {
    store(kPt + 8 * 3, leaf(0x8000'3000, 1));
    built();
    store(kPt + 8 * 3, ept::kNonPresent);
    if (vmid)
      log.tlbi_vmid();
    else
      log.tlb_flush_range(0x203000, k4K, 1);
    auto quiet = op(OpKind::ZapLeafs);
    EXPECT_TRUE(quiet.empty()) << describe_objections(quiet);
  }
}

TEST_F(EffectsCheckX86, LosingAPermissionNeedsAFlushGainingOneDoesNot) {
  page_table_with_one_page();
  store(kPt + 8 * 3, leaf(0x8000'3000, 1, ept::kRead | ept::kExec));
  auto v = op(OpKind::WrprotSlot);
  ASSERT_TRUE(fired(v, "tlb-staleness")) << describe_objections(v);
  EXPECT_NE(v.front().what.find("lost W"), std::string::npos) << v.front().what;

  store(kPt + 8 * 3, leaf(0x8000'3000, 1));
  auto gained = op(OpKind::Fault);
  EXPECT_TRUE(gained.empty()) << describe_objections(gained);
}

TEST_F(EffectsCheckX86, ADirtyBitClearedOnAWritablePageNeedsAFlush) {
  page_table_with_one_page(/*dirty=*/true);
  store(kPt + 8 * 3, leaf(0x8000'3000, 1));
  auto v = op(OpKind::ClearDirty);
  ASSERT_TRUE(fired(v, "dirty-staleness")) << describe_objections(v);

  store(kPt + 8 * 3, leaf(0x8000'3000, 1, ept::kRwxMask, true));
  built();
  store(kPt + 8 * 3, leaf(0x8000'3000, 1));
  log.tlb_flush_range(0x203000, k4K, 1);
  EXPECT_TRUE(op(OpKind::ClearDirty).empty());
}

TEST_F(EffectsCheckX86, WithoutAccessedAndDirtyBitsThereIsNoDirtyRule) {
  start(x86_ept_format({46, 4, false, true}));
  page_table_with_one_page(/*dirty=*/true);
  store(kPt + 8 * 3, leaf(0x8000'3000, 1));
  auto v = op(OpKind::ClearDirty);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

TEST_F(EffectsCheckX86, AnEagerSplitThatKeepsEveryPageNeedsNoFlush) {
  huge_page();
  fresh(kPt2);
  for (unsigned i = 0; i < ept::kEntriesPerTable; ++i)
    store(kPt2 + 8 * i, leaf(0x8040'0000 + i * k4K, 1));
  link(kPd, 2, kPt2);
  auto v = op(OpKind::Split);
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

TEST_F(EffectsCheckX86, ASplitPieceThatMovesOrLosesAccessLeavesTheHugeLeafStale) {
  for (uint64_t wrong : {leaf(0x9000'0000, 1), leaf(0x8040'0000 + 7 * k4K, 1, ept::kRead)}) {
    start(format_ad);
    huge_page();
    fresh(kPt2);
    for (unsigned i = 0; i < ept::kEntriesPerTable; ++i)
      store(kPt2 + 8 * i, i == 7 ? wrong : leaf(0x8040'0000 + i * k4K, 1));
    link(kPd, 2, kPt2);
    auto v = op(OpKind::Split);
    ASSERT_TRUE(fired(v, "tlb-staleness")) << describe_objections(v);
    EXPECT_NE(v.front().what.find("GPA 0x407000"), std::string::npos) << v.front().what;
  }
}

TEST_F(EffectsCheckX86, AHugeLeafOverATableNeedsTheTablesRangeFlushed) {
  page_table_with_one_page();
  store(kPd + 8 * 1, leaf(0x8000'0000, 2));
  auto v = op(OpKind::Fault);
  ASSERT_TRUE(fired(v, "walk-cache-staleness")) << describe_objections(v);

  // tdp_mmu_map_handle_target_level: the huge leaf's gfn at its level.
  start(format_ad);
  page_table_with_one_page();
  store(kPd + 8 * 1, leaf(0x8000'0000, 2));
  log.tlb_flush_range(k2M, k2M, 2);
  auto quiet = op(OpKind::Fault);
  EXPECT_TRUE(quiet.empty()) << describe_objections(quiet);
}

TEST_F(EffectsCheckX86, AFlushOfOneAddressDropsThePagingStructuresForItButNotOtherPages) {
  // A flush of GPA 0x300000 drops the cached PDE for [2M, 4M) but not the page at 0x203000,
  // which the huge leaf now maps elsewhere.
  page_table_with_one_page();
  store(kPd + 8 * 1, leaf(0x9000'0000, 2));
  log.tlb_flush_range(0x300000, k4K, 1);
  auto v = op(OpKind::Fault);
  EXPECT_FALSE(fired(v, "walk-cache-staleness")) << describe_objections(v);
  ASSERT_TRUE(fired(v, "tlb-staleness")) << describe_objections(v);
  EXPECT_NE(v.front().what.find("now maps PA 0x90003000"), std::string::npos) << v.front().what;
}

TEST_F(EffectsCheckX86, AgingAndZapAllFlushNothingByContract) {
  for (OpKind kind : {OpKind::Age, OpKind::ZapAll}) {
    start(format_ad);
    page_table_with_one_page();
    store(kPt + 8 * 3, ept::kNonPresent);
    auto v = op(kind);
    EXPECT_TRUE(v.empty()) << op_kind_name(kind) << ": " << describe_objections(v);
  }
}

TEST_F(EffectsCheckX86, AStoreWhoseOldValueTheRecordDoesNotHoldIsReported) {
  page_table_with_one_page();
  log.store(kPt + 8 * 3, leaf(0x8000'4000, 1), ept::kNonPresent);
  entries[kPt + 8 * 3] = ept::kNonPresent;
  log.tlbi_vmid();
  EXPECT_TRUE(fired(op(OpKind::ZapLeafs), "unrecorded-store"));
}

TEST_F(EffectsCheckX86, TheTraceNamesARangedFlushByItsRange) {
  log.tlb_flush_range(k2M, k2M, 2);
  op(OpKind::ZapLeafs);
  ASSERT_EQ(checker.trace().size(), 1u);
  EXPECT_EQ(checker.trace()[0].describe(), "TLB flush GPA [0x200000, 0x400000) (level 2)");
}

}  // namespace
}  // namespace mmudiff

// SPDX-License-Identifier: GPL-2.0-only
// The x86 walker backend (mmu/walker_x86): every TdpApi operation with the SPTEs it must write,
// and random x86 streams run on it and on linux612-tdp, Linux 6.12's own tdp_mmu.c, which must
// agree on return values, every effect (stores with their old values, flushes), page
// allocations and frees, and the final tables.
#include <cerrno>
#include <cstdint>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mmu/backend.h"
#include "mmu/format/x86_ept.h"
#include "mmu/memory/sim_memory.h"
#include "mmu/ops/random_stream.h"
#include "mmu/walker/ept_geometry.h"
#include "mmu/walker/table_walk.h"
#include "mmu/walker_x86/ept_spte.h"
#include "mmu/walker_x86/walker_x86_backend.h"
#include "mmu/x86/tdp_api.h"
#include "tests/effects_of_kind.h"
#include "tests/env_knob.h"
#include "tests/sanitizer_scale.h"
#ifdef WALKER_X86_TEST_LINUX612
#include "mmu/linux612_tdp/linux612_tdp_backend.h"
#endif

namespace mmudiff {
namespace {

using namespace x86ept;

constexpr uint64_t kPagesPer2M = 512;
constexpr uint64_t kPagesPer1G = 512 * 512;
constexpr uint64_t kPresentBits = kMmuPresent | kSuppressVe;
constexpr uint64_t kWbIpat = (uint64_t{kMemTypeWb} << kMemTypeShift) | kIgnorePat;
constexpr uint64_t kLeafRwx = kRead | kWrite | kExec;

// What a fault on writable RAM installs with A/D bits and without the NX mitigation.
constexpr uint64_t leaf_for(uint64_t pfn, unsigned level, bool dirty = true) {
  return kPresentBits | kLeafRwx | kWbIpat | kAccessed | (dirty ? kDirty : 0) | kHostWritable |
         kMmuWritable | (level > 1 ? kLargePage : 0) | (pfn << kPageShift);
}
constexpr uint64_t kTableBits = kPresentBits | kRwxMask | kAccessed;

struct Found {
  uint64_t spte = 0;
  unsigned level = 0;
  uint64_t entry_pa = 0;
};

// The hardware's walk of a table for one gfn: the last entry it reads.
Found hw_walk(const SimMemory& memory, const TableRoot& root, unsigned levels, uint64_t gfn) {
  uint64_t table = root.pgd_pa;
  const uint64_t gpa = gfn << kPageShift;
  for (unsigned level = levels; level >= 1; --level) {
    const uint64_t* entries = memory.table_page(table);
    if (!entries) return {};
    const uint64_t spte = entries[table_index(gpa, level)];
    const uint64_t entry_pa = table + 8 * table_index(gpa, level);
    if (level == 1 || !(spte & kRwxMask) || (spte & kLargePage)) return {spte, level, entry_pa};
    table = spte & kAddrMask;
  }
  return {};
}

// A table's contents as text, table addresses masked: two tables print the same when they hold
// the same entries in the same shape, wherever their pages are.
void describe_table(const SimMemory& memory, uint64_t pa, unsigned level, std::ostream& out) {
  const uint64_t* entries = memory.table_page(pa);
  if (!entries) {
    out << "<not a live page>";
    return;
  }
  for (unsigned i = 0; i < kEntriesPerTable; ++i) {
    const uint64_t spte = entries[i];
    if (spte == kNonPresent) continue;
    const bool table = level > 1 && (spte & kRwxMask) && !(spte & kLargePage);
    out << "L" << level << "[" << i << "]=" << std::hex << (table ? spte & ~kAddrMask : spte)
        << std::dec;
    if (table) {
      out << "{";
      describe_table(memory, spte & kAddrMask, level - 1, out);
      out << "}";
    }
    out << " ";
  }
}

std::string table_text(const SimMemory& memory, const TableRoot& root, unsigned levels) {
  if (!root.live()) return "<none>";
  std::ostringstream out;
  describe_table(memory, root.pgd_pa, levels, out);
  return out.str();
}

// ---- The generic walk over EPT ---------------------------------------------------------------

TEST(WalkerX86Walk, EptGeometryWalksTablesTopDownAndLeavesOnce) {
  Machine machine{MemoryLimits{.phys_base = kLowTablePhysBase}};
  WalkerX86Backend b(machine);
  ASSERT_EQ(b.init({}), 0);
  ASSERT_EQ(b.fault({.gfn = 0x200, .pfn = 0x40200, .max_level = 1}), kRetPfFixed);
  ASSERT_EQ(b.fault({.gfn = 0x40000, .pfn = 0x80000, .max_level = 3}), kRetPfFixed);
  walker::MmOps mm(machine.memory, machine.effects);
  auto* root = static_cast<walker::Pte*>(machine.memory.phys_to_virt(b.root().pgd_pa));
  std::vector<std::pair<unsigned, walker::Visit>> seen;
  int ret =
      walker::walk_range(walker::EptGeometry(root, 4), mm, 0, uint64_t{2} << 30,
                         walker::Visit::Leaf | walker::Visit::TablePre | walker::Visit::TablePost,
                         walker::WalkFlags{}, [&](const walker::VisitedEntry& e) {
                           if (*e.ptep != kNonPresent) seen.emplace_back(e.level, e.visit);
                           return 0;
                         });
  EXPECT_EQ(ret, 0);
  using walker::Visit;
  const std::vector<std::pair<unsigned, Visit>> expected = {
      {4, Visit::TablePre},  {3, Visit::TablePre},  {2, Visit::TablePre}, {1, Visit::Leaf},
      {2, Visit::TablePost}, {3, Visit::TablePost}, {3, Visit::Leaf},     {4, Visit::TablePost}};
  EXPECT_EQ(seen, expected);
  // A floor stops the descent: the level-3 table is visited but not entered.
  seen.clear();
  walker::walk_range(walker::EptGeometry(root, 4), mm, 0, uint64_t{2} << 30,
                     walker::Visit::Leaf | walker::Visit::TablePre, walker::tdp_iter_flags(3),
                     [&](const walker::VisitedEntry& e) {
                       if (*e.ptep != kNonPresent) seen.emplace_back(e.level, e.visit);
                       return 0;
                     });
  EXPECT_EQ(seen, (std::vector<std::pair<unsigned, Visit>>{
                      {4, Visit::TablePre}, {3, Visit::TablePre}, {3, Visit::Leaf}}));
  b.destroy();
  EXPECT_EQ(machine.memory.live_pages(), 0u);
}

TEST(WalkerX86Walk, TdpIterRangeIsByEntryStartAndEndsAtTheFirstEntryPastIt) {
  Machine machine{MemoryLimits{.phys_base = kLowTablePhysBase}};
  WalkerX86Backend b(machine);
  ASSERT_EQ(b.init({}), 0);
  ASSERT_EQ(b.fault({.gfn = 0x200, .pfn = 0x40200, .max_level = 2}), kRetPfFixed);
  ASSERT_EQ(b.fault({.gfn = 0x400, .pfn = 0x40400, .max_level = 1}), kRetPfFixed);
  walker::MmOps mm(machine.memory, machine.effects);
  auto* root = static_cast<walker::Pte*>(machine.memory.phys_to_virt(b.root().pgd_pa));
  std::vector<unsigned> leaves;
  // Starting past the end inside a 2M leaf: tdp_iter still visits the leaf holding the start.
  walker::walk_range(walker::EptGeometry(root, 4), mm, 0x3ffull << 12, 0x201ull << 12,
                     walker::Visit::Leaf | walker::Visit::TablePre, walker::tdp_iter_flags(1),
                     [&](const walker::VisitedEntry& e) {
                       if (e.visit == walker::Visit::Leaf && *e.ptep != kNonPresent)
                         leaves.push_back(e.level);
                       return 0;
                     });
  EXPECT_EQ(leaves, std::vector<unsigned>{2});
  b.destroy();
}

// ---- Every operation, with its SPTEs ---------------------------------------------------------

class WalkerX86 : public ::testing::Test {
 protected:
  void start(const x86::EptConfig& config = {}) {
    config_ = config;
    ASSERT_EQ(b_.init(config), 0);
  }
  void TearDown() override {
    b_.destroy();
    EXPECT_EQ(machine_.memory.live_pages(), 0u);
    EXPECT_TRUE(machine_.memory.faults().empty());
    if (!expect_warnings_) {
      EXPECT_EQ(b_.take_warnings(), std::vector<std::string>{});
    }
  }
  int fault(uint64_t gfn, uint64_t pfn, bool write = false, bool exec = false,
            uint8_t max_level = 3) {
    return b_.fault({.gfn = gfn, .pfn = pfn, .max_level = max_level, .write = write, .exec = exec});
  }
  Found at(uint64_t gfn) const { return hw_walk(machine_.memory, b_.root(), config_.levels, gfn); }
  std::vector<Effect> effects_of(EffectKind kind) const {
    return mmudiff::testing::effects_of_kind(machine_.effects, kind);
  }

  Machine machine_{MemoryLimits{.phys_base = kLowTablePhysBase}};
  WalkerX86Backend b_{machine_};
  x86::EptConfig config_;
  bool expect_warnings_ = false;
};

TEST_F(WalkerX86, InitLoadsARootOfNonPresentEntries) {
  start();
  TableRoot r = b_.root();
  ASSERT_TRUE(r.live());
  EXPECT_EQ(r.ia_bits, 48u);
  EXPECT_EQ(r.pgd_pages, 1u);
  EXPECT_LT(r.pgd_pa, uint64_t{1} << 46);
  const uint64_t* root = machine_.memory.table_page(r.pgd_pa);
  for (unsigned i = 0; i < kEntriesPerTable; ++i) ASSERT_EQ(root[i], kNonPresent);
  // The cache's fill is in the log (one store per entry), and the four unused pages went back.
  EXPECT_EQ(effects_of(EffectKind::Store).size(), 512u);
  EXPECT_EQ(machine_.memory.live_pages(), 1u);
  EXPECT_EQ(machine_.memory.total_allocations(), 5u);
}

TEST_F(WalkerX86, RejectsConfigurationsKvmCannotHave) {
  EXPECT_EQ(b_.init({.maxphyaddr = 35}), -EINVAL);
  EXPECT_EQ(b_.init({.levels = 3}), -EINVAL);
  EXPECT_EQ(b_.init({.max_level = 4}), -EINVAL);
  EXPECT_EQ(b_.init({.slot_base = 0x800}), -EINVAL);
  EXPECT_FALSE(b_.root().live());
}

TEST_F(WalkerX86, ReadFaultMaps4KWritableAccessedAndDirty) {
  start();
  EXPECT_EQ(fault(0x200, 0x40200, false, false, 1), kRetPfFixed);
  Found f = at(0x200);
  EXPECT_EQ(f.level, 1u);
  EXPECT_EQ(f.spte, 0x8600000040200b77ull);
  EXPECT_EQ(f.spte, leaf_for(0x40200, 1));
  // The same fault again rebuilds the leaf without the dirty bit (make_spte does not dirty a
  // writable leaf again: the D bit has gone to the page), and then once more changes nothing.
  EXPECT_EQ(fault(0x200, 0x40200, false, false, 1), kRetPfFixed);
  EXPECT_EQ(at(0x200).spte, leaf_for(0x40200, 1, false));
  EXPECT_EQ(fault(0x200, 0x40200, false, false, 1), kRetPfSpurious);
}

TEST_F(WalkerX86, ReadOnlyHostAndPrefetchFaults) {
  start();
  EXPECT_EQ(b_.fault({.gfn = 0x10, .pfn = 0x50, .max_level = 1, .map_writable = false}),
            kRetPfFixed);
  EXPECT_EQ(at(0x10).spte, kPresentBits | kRead | kExec | kWbIpat | kAccessed | (0x50ull << 12));
  EXPECT_EQ(b_.fault({.gfn = 0x11, .pfn = 0x51, .max_level = 1, .prefetch = true}), kRetPfFixed);
  EXPECT_EQ(at(0x11).spte, leaf_for(0x51, 1) & ~kAccessed);
}

TEST_F(WalkerX86, HugeFaultsAndTheirLimits) {
  start({.host_level = 2});
  EXPECT_EQ(fault(kPagesPer1G + 3, 0x80003, true), kRetPfFixed);
  EXPECT_EQ(at(kPagesPer1G + 3).level, 2u);
  EXPECT_EQ(at(kPagesPer1G + 3).spte, leaf_for(0x80000, 2));
  b_.destroy();
  start();
  EXPECT_EQ(fault(kPagesPer1G, 0x40000, true), kRetPfFixed);
  EXPECT_EQ(at(kPagesPer1G).spte, leaf_for(0x40000, 3));
  // Dirty logging forces 4K.
  EXPECT_EQ(b_.fault({.gfn = 2 * kPagesPer1G, .pfn = 0x80000, .dirty_logging = true}), kRetPfFixed);
  EXPECT_EQ(at(2 * kPagesPer1G).level, 1u);
}

TEST_F(WalkerX86, MisalignedSlotHeadIsNotHuge) {
  start({.slot_base = (kPagesPer1G + 1) << 12, .slot_size = kPagesPer1G << 12});
  EXPECT_EQ(fault(kPagesPer1G + 1, 0x40001), kRetPfFixed);
  EXPECT_EQ(at(kPagesPer1G + 1).level, 1u);
  EXPECT_EQ(fault(kPagesPer1G + kPagesPer2M, 0x40200), kRetPfFixed);
  EXPECT_EQ(at(kPagesPer1G + kPagesPer2M).level, 2u);
}

TEST_F(WalkerX86, NxHugePagesExecFaultIs4KAndHugeLeavesAreNotExecutable) {
  start({.nx_huge_pages = true});
  EXPECT_EQ(fault(0x200, 0x40200, false, true), kRetPfFixed);
  EXPECT_EQ(at(0x200).spte, leaf_for(0x40200, 1));
  EXPECT_EQ(fault(kPagesPer1G, 0x80000, false, false), kRetPfFixed);
  EXPECT_EQ(at(kPagesPer1G).spte, leaf_for(0x80000, 3) & ~kExec);
  // A table an NX-refused fault built stays: the next huge fault maps one level lower.
  EXPECT_EQ(fault(0x400, 0x40400, false, false), kRetPfFixed);
  EXPECT_EQ(at(0x400).level, 2u);
}

TEST_F(WalkerX86, MmioFaultOutsideTheSlot) {
  start({.slot_size = uint64_t{1} << 30});
  EXPECT_EQ(fault(kPagesPer1G + 5, 0), kRetPfEmulate);
  EXPECT_EQ(at(kPagesPer1G + 5).spte, kMmioValue | ((kPagesPer1G + 5) << 12));
  // Beyond MAXPHYADDR: emulated with no SPTE.
  const size_t stores = machine_.effects.size();
  EXPECT_EQ(fault(uint64_t{1} << 40, 0), kRetPfEmulate);
  EXPECT_EQ(machine_.effects.size(), stores);
}

TEST_F(WalkerX86, HostMmioPfnIsUncachedWithoutIgnorePat) {
  start({.host_mmio_pfn = 0x100000});
  EXPECT_EQ(fault(0x7, 0x100007, false, false, 1), kRetPfFixed);
  EXPECT_EQ(at(0x7).spte, leaf_for(0x100007, 1) & ~kWbIpat);
}

TEST_F(WalkerX86, AccessTrackingWithoutAdBits) {
  start({.ad = false});
  EXPECT_EQ(fault(0x9, 0x99, false, false, 1), kRetPfFixed);
  const uint64_t leaf = kPresentBits | kAdDisabled | kLeafRwx | kWbIpat | kHostWritable |
                        kMmuWritable | (0x99ull << 12);
  EXPECT_EQ(at(0x9).spte, leaf);
  EXPECT_TRUE(b_.age_gfn_range(0, 0x10));
  EXPECT_EQ(at(0x9).spte, (leaf & ~kRwxMask) | ((kRead | kExec) << kAccTrackSavedShift));
  EXPECT_FALSE(b_.test_age_gfn(0x9));
  EXPECT_FALSE(b_.age_gfn_range(0, 0x10));
}

TEST_F(WalkerX86, HugePageOverATableFlushesAtItsLevelAndFreesTheTable) {
  start();
  EXPECT_EQ(fault(0x200, 0x40200, false, false, 1), kRetPfFixed);
  const size_t live = machine_.memory.live_pages();
  EXPECT_EQ(fault(0x200, 0x40200, false, false, 2), kRetPfFixed);
  EXPECT_EQ(at(0x200).spte, leaf_for(0x40200, 2));
  EXPECT_EQ(machine_.memory.live_pages(), live - 1);
  auto flushes = effects_of(EffectKind::TlbiIpa);
  ASSERT_EQ(flushes.size(), 1u);
  EXPECT_EQ(flushes[0].addr, 0x200000u);
  EXPECT_EQ(flushes[0].level, 2u);
}

TEST_F(WalkerX86, FaultStoresTheFillBeforeTheLinkWithExactOldValues) {
  start();
  machine_.effects.clear();
  EXPECT_EQ(fault(0x200, 0x40200, false, false, 1), kRetPfFixed);
  auto stores = effects_of(EffectKind::Store);
  // Three new tables: 512 fill stores each, then its link; then the leaf.
  ASSERT_EQ(stores.size(), 3 * 513u + 1);
  for (unsigned t = 0; t < 3; ++t) {
    for (unsigned i = 0; i < 512; ++i) {
      EXPECT_EQ(stores[t * 513 + i].old_value, 0u);
      EXPECT_EQ(stores[t * 513 + i].new_value, kNonPresent);
    }
    EXPECT_EQ(stores[t * 513 + 512].old_value, kNonPresent);
    EXPECT_EQ(stores[t * 513 + 512].new_value & ~kAddrMask, kTableBits);
  }
  EXPECT_EQ(stores.back().old_value, kNonPresent);
  EXPECT_EQ(stores.back().new_value, leaf_for(0x40200, 1));
}

TEST_F(WalkerX86, OutOfMemoryFaultIsEnomemAndLeaksNothing) {
  Machine small{MemoryLimits{.max_pages = 3, .phys_base = kLowTablePhysBase}};
  WalkerX86Backend b(small);
  EXPECT_EQ(b.init({}), -ENOMEM);
  EXPECT_EQ(small.memory.live_pages(), 0u);
  EXPECT_FALSE(b.root().live());
  start();
}

TEST_F(WalkerX86, ZapLeafsClearsOnlyTheRange) {
  start();
  fault(0x10, 0x10, false, false, 1);
  fault(0x11, 0x11, false, false, 1);
  EXPECT_TRUE(b_.zap_leafs(0x10, 0x11));
  EXPECT_EQ(at(0x10).spte, kNonPresent);
  EXPECT_EQ(at(0x11).spte, leaf_for(0x11, 1));
  EXPECT_FALSE(b_.zap_leafs(0x10, 0x11));
}

TEST_F(WalkerX86, ZapAllLeavesOnlyTheRoot) {
  start();
  fault(0x10, 0x10, false, false, 1);
  fault(kPagesPer1G, 0x40000);
  b_.zap_all();
  EXPECT_EQ(machine_.memory.live_pages(), 1u);
  EXPECT_EQ(at(0x10).spte, kNonPresent);
  EXPECT_EQ(effects_of(EffectKind::TlbiVmid).size(), 0u);
}

TEST_F(WalkerX86, WrprotSlotClearsWritableKeepsMmuWritable) {
  start();
  fault(0x10, 0x10, true, false, 1);
  fault(kPagesPer2M, 0x200, true, false, 2);
  EXPECT_TRUE(b_.wrprot_slot(0, kPagesPer1G, 2));
  EXPECT_EQ(at(0x10).spte, leaf_for(0x10, 1));
  EXPECT_EQ(at(kPagesPer2M).spte, leaf_for(0x200, 2) & ~kWrite);
  EXPECT_TRUE(b_.wrprot_slot(0, kPagesPer1G, 1));
  EXPECT_EQ(at(0x10).spte, leaf_for(0x10, 1) & ~kWrite);
  EXPECT_FALSE(b_.wrprot_slot(0, kPagesPer1G, 1));
}

TEST_F(WalkerX86, ClearDirtySlotClearsDOrWriteProtectsWithoutAd) {
  start();
  fault(0x10, 0x10, true, false, 1);
  EXPECT_TRUE(b_.clear_dirty_slot(0, 0x20));
  EXPECT_EQ(at(0x10).spte, leaf_for(0x10, 1, false));
  EXPECT_FALSE(b_.clear_dirty_slot(0, 0x20));
  // A write fault on a writable leaf does not set D again (make_spte keeps its state).
  EXPECT_EQ(fault(0x10, 0x10, true, false, 1), kRetPfSpurious);
  b_.destroy();
  start({.ad = false});
  fault(0x10, 0x10, true, false, 1);
  EXPECT_TRUE(b_.clear_dirty_slot(0, 0x20));
  EXPECT_FALSE(at(0x10).spte & kWrite);
}

TEST_F(WalkerX86, ClearDirtyMaskedTouchesOnlyTheMaskedPages) {
  start();
  for (uint64_t g = 0x40; g < 0x44; ++g) fault(g, g, true, false, 1);
  b_.clear_dirty_masked(0, kPagesPer1G, 0x40, 0b0101, false);
  EXPECT_EQ(at(0x40).spte, leaf_for(0x40, 1, false));
  EXPECT_EQ(at(0x41).spte, leaf_for(0x41, 1));
  EXPECT_EQ(at(0x42).spte, leaf_for(0x42, 1, false));
  b_.clear_dirty_masked(0, kPagesPer1G, 0x40, 0b1000, true);
  EXPECT_EQ(at(0x43).spte, leaf_for(0x43, 1) & ~kWrite);
}

TEST_F(WalkerX86, AgeClearsAccessedAndTestAgeSeesIt) {
  start();
  fault(0x10, 0x10, false, false, 1);
  EXPECT_TRUE(b_.test_age_gfn(0x10));
  EXPECT_TRUE(b_.age_gfn_range(0x10, 0x11));
  EXPECT_EQ(at(0x10).spte, leaf_for(0x10, 1) & ~kAccessed);
  EXPECT_FALSE(b_.test_age_gfn(0x10));
  EXPECT_FALSE(b_.age_gfn_range(0x10, 0x11));
}

TEST_F(WalkerX86, Split1GInto4KAnd2MStopsThere) {
  start();
  fault(kPagesPer1G, 0x40000, true);
  b_.split_huge_pages(kPagesPer1G, kPagesPer1G, kPagesPer1G, 2 * kPagesPer1G, 2);
  EXPECT_EQ(at(kPagesPer1G + kPagesPer2M).spte, leaf_for(0x40200, 2));
  b_.split_huge_pages(kPagesPer1G, kPagesPer1G, kPagesPer1G, 2 * kPagesPer1G, 1);
  EXPECT_EQ(at(kPagesPer1G + kPagesPer2M + 7).spte, leaf_for(0x40207, 1));
  EXPECT_EQ(machine_.memory.live_pages(), 1u + 1 + 1 + 512);
}

TEST_F(WalkerX86, NxSplitChildrenBecomeExecutable) {
  start({.nx_huge_pages = true});
  fault(0, 0x40000, false, false, 2);
  EXPECT_FALSE(at(0).spte & kExec);
  b_.split_huge_pages(0, kPagesPer2M, 0, kPagesPer2M, 1);
  EXPECT_EQ(at(5).spte, leaf_for(0x40005, 1));
}

TEST_F(WalkerX86, ZapCollapsibleRecoversHugePagesTheSlotAllows) {
  start();
  fault(0x200, 0x40200, false, false, 1);
  const size_t live = machine_.memory.live_pages();
  b_.zap_collapsible(0, kPagesPer1G);
  EXPECT_EQ(at(0x200).spte, kNonPresent);
  EXPECT_EQ(at(0x200).level, 3u);
  EXPECT_EQ(machine_.memory.live_pages(), live - 2);
  // The frozen value went in, the flush followed, then the non-present value.
  auto flushes = effects_of(EffectKind::TlbiIpa);
  ASSERT_EQ(flushes.size(), 1u);
  EXPECT_EQ(flushes[0].level, 3u);
}

TEST_F(WalkerX86, WriteProtectGfnClearsWritableAndMmuWritable) {
  start();
  fault(0x10, 0x10, true, false, 1);
  EXPECT_TRUE(b_.write_protect_gfn(0, kPagesPer1G, 0x10, 1));
  EXPECT_EQ(at(0x10).spte, leaf_for(0x10, 1) & ~(kWrite | kMmuWritable));
  EXPECT_FALSE(b_.write_protect_gfn(0, kPagesPer1G, 0x10, 1));
}

TEST_F(WalkerX86, FiveLevelRootTranslates57Bits) {
  start({.maxphyaddr = 52, .levels = 5, .slot_base = uint64_t{1} << 50});
  EXPECT_EQ(b_.root().ia_bits, 57u);
  const uint64_t gfn = (uint64_t{1} << 38) + 3;
  EXPECT_EQ(fault(gfn, 0x7, false, false, 1), kRetPfFixed);
  EXPECT_EQ(at(gfn).spte, leaf_for(0x7, 1));
}

TEST(WalkerX86Spte, ConstructorsAreTheKernelsFormulas) {
  const walker_x86::EptMasks m{.ad = true, .execonly = false, .nx_huge_pages = false};
  walker::IntegerBits d;
  EXPECT_EQ(walker_x86::make_table_spte(d, m, 0x1234000),
            kMmuPresent | kSuppressVe | kRwxMask | kAccessed | 0x1234000);
  EXPECT_EQ(walker_x86::make_mmio_spte(d, 0x5), kMmioValue | 0x5000);
  const uint64_t leaf = walker_x86::make_leaf_spte(d, m, 1, 0x42, kNonPresent, false, true, false);
  EXPECT_EQ(leaf, leaf_for(0x42, 1));
  // Rewritten writable over a writable leaf, the dirty bit is not added again.
  EXPECT_EQ(walker_x86::make_leaf_spte(d, m, 1, 0x42, leaf & ~kDirty, false, true, false),
            leaf & ~kDirty);
  const uint64_t huge = leaf_for(0x40000, 2);
  EXPECT_EQ(walker_x86::make_split_child_spte(d, m, huge, 1, 3), leaf_for(0x40003, 1));
  EXPECT_TRUE(walker_x86::spte_frozen(d, kFrozen));
  EXPECT_FALSE(walker_x86::spte_present(d, kFrozen));
  EXPECT_TRUE(walker_x86::spte_mmio(d, kMmioValue | 0x5000));
}

// ---- Differential: the walker against Linux 6.12 ---------------------------------------------

#ifdef WALKER_X86_TEST_LINUX612

struct Side {
  explicit Side(size_t max_pages)
      : machine(MemoryLimits{.max_pages = max_pages, .phys_base = kLowTablePhysBase}) {}
  Machine machine;
};

std::string describe(const Effect& e) {
  return describe_effect(e);
}

// Runs STREAM on both backends; the first divergence, or "".
std::string run_both(const Stream& stream, size_t max_pages) {
  Side ws(max_pages), rs(max_pages);
  WalkerX86Backend w(ws.machine);
  Linux612TdpBackend r(rs.machine);
  Config current;
  current.arch = Arch::X86Ept;
  for (size_t i = 0; i < stream.size(); ++i) {
    const Op& op = stream[i];
    if (op.kind == OpKind::Init) current = op.config;
    const size_t we = ws.machine.effects.size(), re = rs.machine.effects.size();
    const OpResult a = apply_op(w, ws.machine, op, current);
    const OpResult b = apply_op(r, rs.machine, op, current);
    std::ostringstream where;
    where << "op " << i << " " << op_kind_name(op.kind) << " addr=" << std::hex << op.addr
          << " size=" << op.size << " phys=" << op.phys << " prot=" << op.prot << std::dec
          << " level=" << unsigned{op.level} << ": ";
    if (!(a == b))
      return where.str() + "result " + std::to_string(a.ret) + " vs " + std::to_string(b.ret);
    const auto& wev = ws.machine.effects.events();
    const auto& rev = rs.machine.effects.events();
    const size_t wn = wev.size() - we, rn = rev.size() - re;
    for (size_t k = 0; k < std::min(wn, rn); ++k) {
      const Effect& x = wev[we + k];
      const Effect& y = rev[re + k];
      if (x == y) continue;
      return where.str() + "effect " + std::to_string(k) + ": " + describe(x) + " vs " +
             describe(y);
    }
    if (wn != rn) return where.str() + std::to_string(wn) + " effects vs " + std::to_string(rn);
    if (ws.machine.memory.live_pages() != rs.machine.memory.live_pages() ||
        ws.machine.memory.total_allocations() != rs.machine.memory.total_allocations())
      return where.str() + "pages " + std::to_string(ws.machine.memory.live_pages()) + "/" +
             std::to_string(ws.machine.memory.total_allocations()) + " vs " +
             std::to_string(rs.machine.memory.live_pages()) + "/" +
             std::to_string(rs.machine.memory.total_allocations());
    // The same warnings, by count (the texts differ: the kernel's name file and line). The
    // walker leaves out one: make_spte's reserved-bit self-check (see the README).
    const auto ww = w.take_warnings();
    size_t rw = 0;
    for (const std::string& text : r.take_warnings())
      rw += text.find("is_rsvd_spte") == std::string::npos;
    if (ww.size() != rw)
      return where.str() + std::to_string(ww.size()) + " warnings vs " + std::to_string(rw);
    const TableRoot wr = w.root(), rr = r.root();
    if (wr.live() != rr.live() || wr.pgd_pa != rr.pgd_pa || wr.ia_bits != rr.ia_bits)
      return where.str() + "roots differ";
  }
  const TableRoot wr = w.root(), rr = r.root();
  const std::string wt = table_text(ws.machine.memory, wr, current.x86.levels);
  const std::string rt = table_text(rs.machine.memory, rr, current.x86.levels);
  if (wt != rt) return "final tables differ";
  w.destroy();
  r.destroy();
  if (ws.machine.memory.live_pages() != 0) return "walker leaked pages";
  if (rs.machine.memory.live_pages() != 0) return "reference leaked pages";
  if (!ws.machine.memory.faults().empty()) return "walker memory faults";
  return "";
}

TEST(WalkerX86Differential, RandomStreamsMatchLinux612Tdp) {
  const uint64_t streams = testing::env_u64("WALKER_X86_STREAMS", testing::sanitizer_scaled(2000));
  std::mt19937_64 rng(0x86e7);
  uint64_t divergent = 0;
  std::vector<uint64_t> kinds(kOpKindCount);
  for (uint64_t s = 0; s < streams; ++s) {
    Stream stream = random_stream(rng, {.min_ops = 20, .max_ops = 120, .arch = Arch::X86Ept});
    // Every tenth stream runs short of pages, so -ENOMEM paths are compared too.
    const size_t max_pages = s % 10 == 9 ? 4 + s % 40 : 8192;
    for (const Op& op : stream) ++kinds[static_cast<size_t>(op.kind)];
    std::string d = run_both(stream, max_pages);
    if (!d.empty()) {
      ++divergent;
      ADD_FAILURE() << "stream " << s << ": " << d;
      if (divergent >= 5) break;
    }
  }
  EXPECT_EQ(divergent, 0u);
  // Every x86 operation was compared.
  for (size_t k = 0; k < kOpKindCount; ++k) {
    if (op_in_arch(static_cast<OpKind>(k), Arch::X86Ept)) {
      EXPECT_GT(kinds[k], 0u) << op_kind_name(static_cast<OpKind>(k));
    }
  }
}

// Aging a 4K SPTE that is accessed and write-protected but MMU-writable: it has volatile bits,
// so the kernel clears A with atomic64_fetch_and(~A). The reference's shim once kept only A
// there (the mask negated twice); both backends must store the same, correct value.
TEST(WalkerX86Differential, AgingAVolatileSpteClearsOnlyTheAccessedBit) {
  Side ws(8192), rs(8192);
  WalkerX86Backend w(ws.machine);
  Linux612TdpBackend r(rs.machine);
  for (x86::TdpApi* b : {static_cast<x86::TdpApi*>(&w), static_cast<x86::TdpApi*>(&r)}) {
    ASSERT_EQ(b->init({}), 0);
    ASSERT_EQ(b->fault({.gfn = 0x10, .pfn = 0x10, .max_level = 1, .write = true}), kRetPfFixed);
    ASSERT_TRUE(b->wrprot_slot(0, 0x100, 1));
  }
  const size_t we = ws.machine.effects.size(), re = rs.machine.effects.size();
  EXPECT_TRUE(w.age_gfn_range(0, 0x100));
  EXPECT_TRUE(r.age_gfn_range(0, 0x100));
  ASSERT_EQ(ws.machine.effects.size(), we + 1);
  ASSERT_EQ(rs.machine.effects.size(), re + 1);
  const Effect& x = ws.machine.effects.events()[we];
  const Effect& y = rs.machine.effects.events()[re];
  EXPECT_EQ(x.new_value, leaf_for(0x10, 1) & ~(kWrite | kAccessed));
  EXPECT_EQ(x, y) << describe(x) << " vs " << describe(y);
  w.destroy();
  r.destroy();
  EXPECT_EQ(ws.machine.memory.live_pages(), 0u);
}

TEST(WalkerX86Differential, WildOperationsMatchLinux612Tdp) {
  std::mt19937_64 rng(0xd1ff);
  const uint64_t streams =
      testing::env_u64("WALKER_X86_WILD_STREAMS", testing::sanitizer_scaled(300));
  uint64_t divergent = 0;
  for (uint64_t s = 0; s < streams; ++s) {
    Stream stream = random_stream(rng, {.min_ops = 10, .max_ops = 40, .arch = Arch::X86Ept});
    for (int k = 0; k < 5; ++k) {
      Op op = random_wild_op(rng, Arch::X86Ept);
      if (op.kind == OpKind::Init || op.kind == OpKind::Destroy) continue;
      // A memslot holds at most KVM_MEM_MAX_NR_PAGES (2^31 - 1) pages: the harness refuses
      // larger slot ranges (run_stream), as KVM refuses such a memslot.
      if (op.size >> (31 + kPageShift)) continue;
      if (op.kind == OpKind::ClearDirtyMasked && op.prot == 0) continue;  // refused likewise
      stream.insert(stream.begin() + 1 + static_cast<long>(rng() % stream.size()), op);
    }
    std::string d = run_both(stream, 8192);
    if (!d.empty()) {
      ++divergent;
      ADD_FAILURE() << "wild stream " << s << ": " << d;
      if (divergent >= 5) break;
    }
  }
  EXPECT_EQ(divergent, 0u);
}

#endif

}  // namespace
}  // namespace mmudiff

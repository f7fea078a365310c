// SPDX-License-Identifier: GPL-2.0-only
// Tests of the legacy x86 backend: every TDP operation with the SPTE values, stores, flushes and
// pages Linux 6.12's TDP MMU produces (spelled out bit by bit from spte.c and tdp_mmu.c), the
// self-check after every operation of random streams, no page left after destroy, and each
// planted bug changing the behaviour its name says.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <z3++.h>

#include "mmu/backend.h"
#include "mmu/format/x86_ept.h"
#include "mmu/legacy_x86/legacy_x86_backend.h"
#include "mmu/legacy_x86/spte_ops.h"
#include "mmu/plants.h"
#include "models/symbolic_bits.h"
#include "tests/effects_of_kind.h"
#include "tests/sanitizer_scale.h"

namespace mmudiff {
namespace {

using namespace x86ept;
using legacy_x86::LegacyX86Backend;
using x86::EptConfig;
using x86::TdpFault;

// The fixed parts of the SPTEs the TDP MMU writes on EPT with execute-only support.
constexpr uint64_t kWbIpat = (uint64_t{kMemTypeWb} << kMemTypeShift) | kIgnorePat;
// make_spte, ACC_ALL, host-writable, RAM, A/D on, not a prefetch.
constexpr uint64_t kLeaf4K = kSuppressVe | kMmuPresent | kAccessed | kDirty | kExec | kRead |
                             kWrite | kWbIpat | kHostWritable | kMmuWritable;
constexpr uint64_t kLeafHuge = kLeaf4K | kLargePage;
// make_nonleaf_spte with A/D on.
constexpr uint64_t kNonLeaf = kSuppressVe | kMmuPresent | kRwxMask | kAccessed;
constexpr uint64_t k2M = 512;  // gfns
constexpr uint64_t k1G = 512 * 512;

static_assert(kLeaf4K == 0x8600'0000'0000'0b77ULL);
static_assert(kNonLeaf == 0x8000'0000'0000'0907ULL);

TdpFault make_fault(uint64_t gfn, uint64_t pfn, uint8_t max_level = 3) {
  TdpFault f;
  f.gfn = gfn;
  f.pfn = pfn;
  f.max_level = max_level;
  return f;
}

struct Walked {
  uint64_t spte = 0;
  unsigned level = 0;
  uint64_t entry_pa = 0;
};

class LegacyX86 : public ::testing::Test {
 protected:
  LegacyX86() : machine_(MemoryLimits{.phys_base = kLowTablePhysBase}) {}
  ~LegacyX86() override {
    if (backend_) backend_->destroy();
  }

  void start(const EptConfig& config = EptConfig{}, Plant plant = Plant::kNone) {
    backend_ = std::make_unique<LegacyX86Backend>(machine_, plant);
    config_ = config;
    ASSERT_EQ(backend_->init(config), 0);
  }

  // The tables read straight from memory, following table SPTEs: nothing of the backend's.
  Walked walk(uint64_t gfn) const {
    uint64_t pa = backend_->root().pgd_pa;
    for (unsigned level = config_.levels;; --level) {
      const uint64_t* table = machine_.memory.table_page(pa);
      EXPECT_NE(table, nullptr) << fmt::format("table {:#x} is not live", pa);
      if (!table) return {};
      const unsigned index = table_index(gfn << kPageShift, level);
      const uint64_t spte = table[index];
      if (level == 1 || !(spte & kMmuPresent) || (spte & kLargePage))
        return {spte, level, pa + index * 8};
      pa = spte & addr_mask(config_.maxphyaddr);
    }
  }

  int fault(const TdpFault& f) {
    machine_.effects.clear();
    return backend_->fault(f);
  }

  std::vector<Effect> effects(EffectKind kind) const {
    return mmudiff::testing::effects_of_kind(machine_.effects, kind);
  }
  // Stores into the table: everything but a new table's publication, the only stores from 0
  // (a present or non-present SPTE is never 0).
  std::vector<Effect> stores() const {
    std::vector<Effect> out;
    for (const Effect& e : effects(EffectKind::Store))
      if (e.old_value != 0) out.push_back(e);
    return out;
  }
  std::vector<Effect> publications() const {
    std::vector<Effect> out;
    for (const Effect& e : effects(EffectKind::Store))
      if (e.old_value == 0) out.push_back(e);
    return out;
  }

  // kvm_flush_remote_tlbs_gfn, the only flush the operation issued.
  void expect_one_gfn_flush(uint64_t gpa, unsigned level) const {
    auto tlbi = effects(EffectKind::TlbiIpa);
    ASSERT_EQ(tlbi.size(), 1u);
    EXPECT_EQ(tlbi[0].addr, gpa);
    EXPECT_EQ(tlbi[0].level, level);
    EXPECT_TRUE(effects(EffectKind::TlbiVmid).empty());
  }

  void expect_consistent() {
    std::vector<std::string> warnings = backend_->take_warnings();
    EXPECT_TRUE(warnings.empty()) << fmt::format("{}", fmt::join(warnings, "\n"));
  }

  Machine machine_;
  EptConfig config_;
  std::unique_ptr<LegacyX86Backend> backend_;
};

// ---- init / destroy -----------------------------------------------------------------------

TEST_F(LegacyX86, InitFillsTheRootWithTheNonPresentValue) {
  start();
  TableRoot root = backend_->root();
  EXPECT_EQ(root.ia_bits, 48u);
  EXPECT_EQ(root.start_level, 0u);
  EXPECT_EQ(root.pgd_pages, 1u);
  EXPECT_FALSE(root.fwb);
  const uint64_t* table = machine_.memory.table_page(root.pgd_pa);
  ASSERT_NE(table, nullptr);
  EXPECT_TRUE(std::all_of(table, table + 512, [](uint64_t s) { return s == kNonPresent; }));
  EXPECT_EQ(machine_.memory.live_pages(), 1u);
  EXPECT_LT(root.pgd_pa, uint64_t{1} << 36);
  // The fill is published as the root comes into use.
  EXPECT_EQ(publications().size(), 512u);
  EXPECT_EQ(publications()[511].addr, root.pgd_pa + 511 * 8);
  expect_consistent();
}

TEST_F(LegacyX86, InitRefusesAConfigurationOutsideItsRanges) {
  backend_ = std::make_unique<LegacyX86Backend>(machine_, Plant::kNone);
  EptConfig bad;
  bad.levels = 3;
  EXPECT_EQ(backend_->init(bad), -EINVAL);
  bad = {};
  bad.maxphyaddr = 53;
  EXPECT_EQ(backend_->init(bad), -EINVAL);
  EXPECT_EQ(machine_.memory.live_pages(), 0u);
}

TEST_F(LegacyX86, FiveLevelRootTranslates57Bits) {
  EptConfig c;
  c.levels = 5;
  c.maxphyaddr = 52;
  start(c);
  EXPECT_EQ(backend_->root().ia_bits, 57u);
  EXPECT_EQ(fault(make_fault(0x1234, 0x5678, 1)), kRetPfFixed);
  EXPECT_EQ(stores().size(), 5u);  // four tables linked, one leaf
  EXPECT_EQ(walk(0x1234).spte, kLeaf4K | 0x5678ULL << 12);
  EXPECT_EQ(machine_.memory.live_pages(), 5u);
  expect_consistent();
}

TEST_F(LegacyX86, DestroyFreesEveryPage) {
  start();
  for (uint64_t gfn : {0x0ULL, 0x200ULL, 0x40000ULL, 0x123456ULL}) fault(make_fault(gfn, gfn, 1));
  fault(make_fault(0x80000, 0x80000));
  EXPECT_GT(machine_.memory.live_pages(), 6u);
  machine_.effects.clear();
  backend_->destroy();
  EXPECT_EQ(machine_.memory.live_pages(), 0u);
  EXPECT_EQ(backend_->root().pgd_pages, 0u);
  // kvm_mmu_zap_all first (the MMU notifier's release), level by level: the three 4K leaves,
  // the four 4K tables, the three 2M tables and the 1G leaf, the 1G table. The MMIO SPTE is not
  // present and goes with its table, unwritten; the removed tables hold nothing present.
  auto s = stores();
  ASSERT_EQ(s.size(), 12u);
  for (const Effect& e : s) EXPECT_EQ(e.new_value, kNonPresent);
  EXPECT_EQ(s[0].old_value, kLeaf4K | 0x0ULL << 12);
  EXPECT_EQ(s[2].old_value, kLeaf4K | 0x40000ULL << 12);
  EXPECT_EQ(s[9].old_value, kLeafHuge | 0x80000ULL << 12);
  EXPECT_TRUE(effects(EffectKind::TlbiVmid).empty());
  EXPECT_TRUE(effects(EffectKind::TlbiIpa).empty());
  backend_.reset();
}

// ---- faults ----------------------------------------------------------------------------------

TEST_F(LegacyX86, AFaultTopsUpFivePagesAndGivesBackWhatItDidNotUse) {
  start();
  // The root came from a cache of five: four went back.
  EXPECT_EQ(machine_.memory.total_allocations(), 5u);
  EXPECT_EQ(machine_.memory.live_pages(), 1u);
  fault(make_fault(0x10, 0x10, 1));
  EXPECT_EQ(machine_.memory.total_allocations(), 10u);
  EXPECT_EQ(machine_.memory.live_pages(), 4u);
  // A fault that needs no table still tops the cache up.
  fault(make_fault(0x11, 0x11, 1));
  EXPECT_EQ(machine_.memory.total_allocations(), 15u);
  EXPECT_EQ(machine_.memory.live_pages(), 4u);
  // Splitting allocates one zeroed page per huge page, no cache.
  fault(make_fault(0x40000, 0x40000, 2));
  const size_t before = machine_.memory.total_allocations();
  backend_->split_huge_pages(0, 0x100000, 0, 0x100000, 1);
  EXPECT_EQ(machine_.memory.total_allocations(), before + 1);
}

TEST_F(LegacyX86, AFaultThatCannotFillItsCacheIsENomemAndTouchesNothing) {
  Machine small(MemoryLimits{.max_pages = 6, .phys_base = kLowTablePhysBase});
  LegacyX86Backend b(small, Plant::kNone);
  ASSERT_EQ(b.init(EptConfig{}), 0);
  EXPECT_EQ(b.fault(make_fault(0x10, 0x10, 1)), kRetPfFixed);  // 1 + 5 pages fit
  EXPECT_EQ(small.memory.live_pages(), 4u);
  small.effects.clear();
  // Two pages free: the cache cannot reach five, whatever the fault needs.
  EXPECT_EQ(b.fault(make_fault(0x40000, 0x40000, 1)), -ENOMEM);
  EXPECT_EQ(b.fault(make_fault(0x11, 0x11, 1)), -ENOMEM);
  EXPECT_TRUE(small.effects.events().empty());
  EXPECT_EQ(small.memory.live_pages(), 4u);
  EXPECT_TRUE(b.take_warnings().empty());
  b.destroy();
  EXPECT_EQ(small.memory.live_pages(), 0u);
  // Without five pages for the cache there is no root either.
  Machine tiny(MemoryLimits{.max_pages = 4, .phys_base = kLowTablePhysBase});
  LegacyX86Backend t(tiny, Plant::kNone);
  EXPECT_EQ(t.init(EptConfig{}), -ENOMEM);
  EXPECT_EQ(tiny.memory.live_pages(), 0u);
}

TEST_F(LegacyX86, ImpossibleGfnsAreEmulatedAndFaultsWithoutARootRefused) {
  EptConfig c;
  c.maxphyaddr = 39;
  start(c);
  machine_.effects.clear();
  EXPECT_EQ(fault(make_fault(uint64_t{1} << 27, 0)), kRetPfEmulate);
  EXPECT_TRUE(machine_.effects.events().empty());
  EXPECT_EQ(machine_.memory.live_pages(), 1u);
  backend_->destroy();
  EXPECT_EQ(backend_->fault(make_fault(0x10, 0x10)), -EINVAL);
}

TEST_F(LegacyX86, A4KFaultLinksThreeTablesAndSetsAccessedAndDirty) {
  start();
  EXPECT_EQ(fault(make_fault(0x1234, 0x5678, 1)), kRetPfFixed);
  auto s = stores();
  ASSERT_EQ(s.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(s[i].old_value, kNonPresent);
    EXPECT_EQ(s[i].new_value & ~kAddrMask, kNonLeaf) << i;
  }
  EXPECT_EQ(s[3].old_value, kNonPresent);
  EXPECT_EQ(s[3].new_value, 0x8600'0000'0567'8b77ULL);
  // Each new table is published before its link: the non-present fill, as stores from the
  // zeroed page's 0, right before the SPTE that makes it reachable.
  auto all = effects(EffectKind::Store);
  ASSERT_EQ(all.size(), 3u * 513 + 1);
  for (unsigned t = 0; t < 3; ++t) {
    for (unsigned i = 0; i < 512; ++i) {
      const Effect& e = all[t * 513 + i];
      EXPECT_EQ(e.old_value, 0u);
      EXPECT_EQ(e.new_value, kNonPresent);
      EXPECT_EQ(e.addr, (all[t * 513 + 512].new_value & kAddrMask) + i * 8);
    }
  }
  EXPECT_EQ(publications().size(), 3u * 512);
  Walked w = walk(0x1234);
  EXPECT_EQ(w.level, 1u);
  EXPECT_EQ(w.spte, s[3].new_value);
  EXPECT_EQ(w.entry_pa, s[3].addr);
  EXPECT_EQ(machine_.memory.live_pages(), 4u);
  EXPECT_TRUE(effects(EffectKind::TlbiIpa).empty());
  // The same fault again: make_spte leaves D to the old, writable SPTE, so the new one is the
  // old without D -- a store, RET_PF_FIXED (KERNELS.md's trap) -- and only then nothing changes.
  EXPECT_EQ(fault(make_fault(0x1234, 0x5678, 1)), kRetPfFixed);
  ASSERT_EQ(stores().size(), 1u);
  EXPECT_EQ(stores()[0].old_value, 0x8600'0000'0567'8b77ULL);
  EXPECT_EQ(stores()[0].new_value, 0x8600'0000'0567'8977ULL);
  EXPECT_EQ(fault(make_fault(0x1234, 0x5678, 1)), kRetPfSpurious);
  EXPECT_TRUE(stores().empty());
  expect_consistent();
}

TEST_F(LegacyX86, HugePagesTakeTheSmallestLevelAllowed) {
  EptConfig c;
  c.host_level = 2;
  start(c);
  // max_level 3, host 2: a 2M page, the pfn aligned down.
  EXPECT_EQ(fault(make_fault(0x40123, 0x80123)), kRetPfFixed);
  Walked w = walk(0x40123);
  EXPECT_EQ(w.level, 2u);
  EXPECT_EQ(w.spte, kLeafHuge | 0x80000ULL << 12);
  // max_level of the fault wins when smaller.
  EXPECT_EQ(fault(make_fault(0x80007, 0x80007, 1)), kRetPfFixed);
  EXPECT_EQ(walk(0x80007).level, 1u);
  backend_->destroy();

  c.host_level = 3;
  start(c);
  EXPECT_EQ(fault(make_fault(0x40123, 0x40123)), kRetPfFixed);
  w = walk(0x40123);
  EXPECT_EQ(w.level, 3u);
  EXPECT_EQ(w.spte, kLeafHuge | 0x40000ULL << 12);
  EXPECT_EQ(machine_.memory.live_pages(), 2u);
  backend_->destroy();

  c.max_level = 2;  // tdp_huge_page_level
  start(c);
  fault(make_fault(0x40123, 0x40123));
  EXPECT_EQ(walk(0x40123).level, 2u);
  expect_consistent();
}

TEST_F(LegacyX86, TheMemslotsAlignmentLimitsHugePagesAtItsEnds) {
  EptConfig c;
  c.slot_base = 0x1000'0000 + 0x1000;  // starts one page into a 2M page
  c.slot_size = uint64_t{64} << 20;
  start(c);
  const uint64_t base = c.slot_base >> 12;
  fault(make_fault(base, base));
  EXPECT_EQ(walk(base).level, 1u);  // the first 2M page is partial
  fault(make_fault(base + 0x3ff, base + 0x3ff));
  EXPECT_EQ(walk(base + 0x3ff).level, 2u);  // a whole 2M page inside the slot
  const uint64_t last = ((c.slot_base + c.slot_size) >> 12) - 1;
  fault(make_fault(last, last));
  EXPECT_EQ(walk(last).level, 1u);  // so is the last
  expect_consistent();
}

TEST_F(LegacyX86, DirtyLoggingMapsOnly4K) {
  start();
  TdpFault f = make_fault(0x200, 0x200);
  f.dirty_logging = true;
  EXPECT_EQ(fault(f), kRetPfFixed);
  EXPECT_EQ(walk(0x200).level, 1u);
}

TEST_F(LegacyX86, HostMmioIsUncachedAndReadOnlyHostsAreNotWritable) {
  EptConfig c;
  c.host_mmio_pfn = 0x100000;
  start(c);
  fault(make_fault(0x10, 0x100010, 1));
  EXPECT_EQ(walk(0x10).spte, (kLeaf4K & ~kWbIpat) | 0x100010ULL << 12);
  TdpFault ro = make_fault(0x11, 0x11, 1);
  ro.map_writable = false;
  ro.write = true;
  EXPECT_EQ(fault(ro), kRetPfFixed);
  EXPECT_EQ(walk(0x11).spte,
            (kLeaf4K & ~(kWrite | kDirty | kHostWritable | kMmuWritable)) | 0x11ULL << 12);
  expect_consistent();
}

TEST_F(LegacyX86, APrefetchLeavesAccessedClear) {
  start();
  TdpFault f = make_fault(0x10, 0x10, 1);
  f.prefetch = true;
  EXPECT_EQ(fault(f), kRetPfFixed);
  EXPECT_EQ(walk(0x10).spte, (kLeaf4K & ~kAccessed) | 0x10ULL << 12);
}

TEST_F(LegacyX86, WithoutAccessDirtyBitsPrefetchesAreAccessTracked) {
  EptConfig c;
  c.ad = false;
  start(c);
  constexpr uint64_t kLeafNoAd = (kLeaf4K & ~(kAccessed | kDirty)) | kAdDisabled;
  fault(make_fault(0x10, 0x10, 1));
  EXPECT_EQ(walk(0x10).spte, kLeafNoAd | 0x10ULL << 12);
  // The tables above say "A/D disabled" instead of A.
  EXPECT_EQ(stores()[0].new_value & ~kAddrMask, (kNonLeaf & ~kAccessed) | kAdDisabled);
  TdpFault f = make_fault(0x11, 0x11, 1);
  f.prefetch = true;
  fault(f);
  // R and X saved in bits 54 and 56, RWX cleared; W is not saved.
  EXPECT_EQ(walk(0x11).spte, (kLeafNoAd & ~kRwxMask) | bit(54) | bit(56) | 0x11ULL << 12);
  expect_consistent();
}

TEST_F(LegacyX86, WithoutExecuteOnlySupportThePresentMaskCarriesR) {
  EptConfig c;
  c.execonly = false;
  start(c);
  fault(make_fault(0x10, 0x10, 1));
  // R is in shadow_present_mask now, and ACC_USER_MASK sets it too: the same SPTE.
  EXPECT_EQ(walk(0x10).spte, kLeaf4K | 0x10ULL << 12);
}

TEST_F(LegacyX86, AFaultOutsideTheSlotInstallsAnMmioSpte) {
  EptConfig c;
  c.slot_size = uint64_t{1} << 30;
  start(c);
  const uint64_t gfn = 0x50000;  // 1.25 GiB
  EXPECT_EQ(fault(make_fault(gfn, 0x1234)), kRetPfEmulate);
  Walked w = walk(gfn);
  EXPECT_EQ(w.level, 1u);  // never huge
  EXPECT_EQ(w.spte, gfn << 12 | kWrite | kExec);
  EXPECT_EQ(fault(make_fault(gfn, 0x1234)), kRetPfEmulate);
  EXPECT_TRUE(stores().empty());
  // MMIO SPTEs are not present: zapping leaves skips them.
  machine_.effects.clear();
  EXPECT_FALSE(backend_->zap_leafs(0, uint64_t{1} << 36));
  EXPECT_EQ(walk(gfn).spte, gfn << 12 | kWrite | kExec);
  expect_consistent();
}

TEST_F(LegacyX86, NxHugePagesMapExecutableFaultsAt4KAndHugePagesWithoutX) {
  EptConfig c;
  c.nx_huge_pages = true;
  start(c);
  fault(make_fault(0x40200, 0x40200));
  EXPECT_EQ(walk(0x40200).spte, (kLeafHuge & ~kExec) | 0x40000ULL << 12);
  EXPECT_EQ(walk(0x40200).level, 3u);  // 1G: a read fault may be huge

  TdpFault exec = make_fault(0x80005, 0x80005);
  exec.exec = true;
  EXPECT_EQ(fault(exec), kRetPfFixed);
  EXPECT_EQ(walk(0x80005).level, 1u);
  EXPECT_EQ(walk(0x80005).spte, kLeaf4K | 0x80005ULL << 12);
  // A read fault next door may not replace the table the exec fault needed: 4K too.
  EXPECT_EQ(fault(make_fault(0x80006, 0x80006)), kRetPfFixed);
  EXPECT_EQ(walk(0x80006).level, 1u);
  EXPECT_EQ(walk(0x80006).spte, kLeaf4K | 0x80006ULL << 12);
  expect_consistent();
}

TEST_F(LegacyX86, AnExecFaultUnderNxSplitsTheHugePageAndDropsTheCopiedDirtyBit) {
  EptConfig c;
  c.nx_huge_pages = true;
  c.host_level = 2;
  start(c);
  fault(make_fault(0x400, 0x400));
  const uint64_t huge = walk(0x400).spte;
  ASSERT_EQ(huge, (kLeafHuge & ~kExec) | 0x400ULL << 12);
  TdpFault exec = make_fault(0x401, 0x401);
  exec.exec = true;
  EXPECT_EQ(fault(exec), kRetPfFixed);
  auto s = stores();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].old_value, huge);  // the link, no flush
  EXPECT_EQ(s[0].new_value & ~kAddrMask, kNonLeaf);
  EXPECT_TRUE(effects(EffectKind::TlbiIpa).empty());
  // The split child regained X (a 4K page under NX); make_spte sees a writable leaf and leaves
  // D to the old SPTE, so the new SPTE differs from the child by D alone.
  EXPECT_EQ(s[1].old_value, kLeaf4K | 0x401ULL << 12);
  EXPECT_EQ(s[1].new_value, (kLeaf4K & ~kDirty) | 0x401ULL << 12);
  EXPECT_EQ(walk(0x402).spte, kLeaf4K | 0x402ULL << 12);
  expect_consistent();
}

TEST_F(LegacyX86, AWriteRefaultOnAWritableLeafLeavesDirtyClear) {
  start();
  fault(make_fault(0x10, 0x10, 1));
  EXPECT_TRUE(backend_->clear_dirty_slot(0, 0x100));
  const uint64_t clean = (kLeaf4K & ~kDirty) | 0x10ULL << 12;
  EXPECT_EQ(walk(0x10).spte, clean);
  TdpFault w = make_fault(0x10, 0x10, 1);
  w.write = true;
  EXPECT_EQ(fault(w), kRetPfSpurious);  // nothing to change: D is not set again
  EXPECT_TRUE(backend_->age_gfn_range(0x10, 0x11));
  EXPECT_EQ(fault(w), kRetPfFixed);  // A comes back, D still clear
  EXPECT_EQ(walk(0x10).spte, clean);
}

TEST_F(LegacyX86, AHugeFaultOverAnEmptiedTableFreesItAndFlushesTheGfn) {
  EptConfig c;
  c.host_level = 2;
  start(c);
  fault(make_fault(0x205, 0x205, 1));
  EXPECT_EQ(machine_.memory.live_pages(), 4u);
  EXPECT_TRUE(backend_->zap_leafs(0x205, 0x206));
  EXPECT_EQ(fault(make_fault(0x205, 0x205)), kRetPfFixed);
  auto s = stores();
  ASSERT_EQ(s.size(), 1u + 512);
  EXPECT_EQ(s[0].new_value, kLeafHuge | 0x200ULL << 12);
  for (size_t i = 1; i < s.size(); ++i) {
    EXPECT_EQ(s[i].old_value, kNonPresent);
    EXPECT_EQ(s[i].new_value, kFrozen);
  }
  expect_one_gfn_flush(0x200000, 2);
  EXPECT_EQ(machine_.memory.live_pages(), 3u);
  expect_consistent();
}

// ---- zapping ----------------------------------------------------------------------------------

TEST_F(LegacyX86, ZapLeafsClearsLeavesInTheRangeAndOwesAFlush) {
  start();
  for (uint64_t gfn : {0x10ULL, 0x11ULL, 0x12ULL}) fault(make_fault(gfn, gfn, 1));
  machine_.effects.clear();
  EXPECT_TRUE(backend_->zap_leafs(0x11, 0x13));
  auto s = stores();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].old_value, kLeaf4K | 0x11ULL << 12);
  EXPECT_EQ(s[0].new_value, kNonPresent);
  EXPECT_EQ(s[1].old_value, kLeaf4K | 0x12ULL << 12);
  EXPECT_TRUE(effects(EffectKind::TlbiIpa).empty());  // the caller flushes
  EXPECT_EQ(walk(0x10).spte & kMmuPresent, kMmuPresent);
  EXPECT_EQ(walk(0x11).spte, kNonPresent);
  EXPECT_FALSE(backend_->zap_leafs(0x11, 0x13));
  expect_consistent();
}

TEST_F(LegacyX86, AnEmptyRangeStillMeetsTheHugePageHoldingItsStart) {
  EptConfig c;
  c.host_level = 2;
  start(c);
  fault(make_fault(0x400, 0x400));
  fault(make_fault(0x600, 0x600, 1));
  // The TDP iterator visits the SPTE holding `start` while it begins before `end`.
  EXPECT_FALSE(backend_->zap_leafs(0x600, 0x600));  // a 4K page at start: not before end
  EXPECT_TRUE(backend_->zap_leafs(0x404, 0x404));
  EXPECT_EQ(walk(0x400).spte, kNonPresent);
  EXPECT_EQ(walk(0x600).spte & kMmuPresent, kMmuPresent);
  expect_consistent();
}

TEST_F(LegacyX86, ZapLeafsTakesAHugePageTheRangeStartsInside) {
  start();
  fault(make_fault(0x40000, 0x40000));
  ASSERT_EQ(walk(0x40000).level, 3u);
  EXPECT_TRUE(backend_->zap_leafs(0x40005, 0x40006));
  EXPECT_EQ(walk(0x40000).spte, kNonPresent);
  // Tables stay: zap_leafs frees nothing.
  EXPECT_EQ(machine_.memory.live_pages(), 2u);
}

TEST_F(LegacyX86, ZapAllGoesLevelByLevelWithoutAFlush) {
  start();
  fault(make_fault(0x10, 0x10, 1));
  fault(make_fault(0x400, 0x400, 2));
  fault(make_fault(0x80000, 0x80000, 3));
  EXPECT_EQ(machine_.memory.live_pages(), 4u);
  machine_.effects.clear();
  backend_->zap_all();
  auto s = stores();
  // Pass 4K: the 4K leaf. Pass 2M: the 4K table's SPTE and the 2M leaf. Pass 1G: the 2M table's
  // SPTE and the 1G leaf. Pass root: the 1G table's SPTE. Removed tables had nothing present.
  ASSERT_EQ(s.size(), 6u);
  EXPECT_EQ(s[0].old_value, kLeaf4K | 0x10ULL << 12);
  EXPECT_EQ(s[1].old_value & ~kAddrMask, kNonLeaf);
  EXPECT_EQ(s[2].old_value, kLeafHuge | 0x400ULL << 12);
  EXPECT_EQ(s[3].old_value & ~kAddrMask, kNonLeaf);
  EXPECT_EQ(s[4].old_value, kLeafHuge | 0x80000ULL << 12);
  EXPECT_EQ(s[5].old_value & ~kAddrMask, kNonLeaf);
  for (const Effect& e : s) EXPECT_EQ(e.new_value, kNonPresent);
  EXPECT_TRUE(effects(EffectKind::TlbiVmid).empty());
  EXPECT_TRUE(effects(EffectKind::TlbiIpa).empty());
  EXPECT_EQ(machine_.memory.live_pages(), 1u);
  expect_consistent();
}

TEST_F(LegacyX86, ZapCollapsibleReplacesTablesAHugePageCouldMap) {
  EptConfig c;
  c.host_level = 2;
  start(c);
  TdpFault f = make_fault(0x200, 0x200);
  f.dirty_logging = true;
  fault(f);
  f.gfn = f.pfn = 0x201;
  fault(f);
  EXPECT_EQ(machine_.memory.live_pages(), 4u);
  machine_.effects.clear();
  backend_->zap_collapsible(0, 0x100000);
  auto s = stores();
  ASSERT_EQ(s.size(), 2u + 512);
  EXPECT_EQ(s[0].old_value & ~kAddrMask, kNonLeaf);
  EXPECT_EQ(s[0].new_value, kFrozen);
  EXPECT_EQ(s[1].old_value, kFrozen);
  EXPECT_EQ(s[1].new_value, kNonPresent);
  EXPECT_EQ(s[2].old_value, kLeaf4K | 0x200ULL << 12);
  EXPECT_EQ(s[2].new_value, kFrozen);
  expect_one_gfn_flush(0x200000, 2);
  // The L2 table of the same 1G stays: host_level 2 allows no 1G page.
  EXPECT_EQ(machine_.memory.live_pages(), 3u);
  expect_consistent();
}

TEST_F(LegacyX86, ZapCollapsibleLeavesTablesThatAPartialHugePageNeeds) {
  EptConfig c;
  c.slot_base = 0x1000;
  c.slot_size = uint64_t{1} << 30;
  start(c);
  fault(make_fault(0x1, 0x1));
  EXPECT_EQ(walk(0x1).level, 1u);
  machine_.effects.clear();
  backend_->zap_collapsible(1, (uint64_t{1} << 30) >> 12);
  EXPECT_TRUE(stores().empty());
}

// ---- dirty logging ----------------------------------------------------------------------------

TEST_F(LegacyX86, WrprotSlotClearsWFromLeavesAtOrAboveMinLevel) {
  start();
  fault(make_fault(0x10, 0x10, 1));
  fault(make_fault(0x400, 0x400, 2));
  machine_.effects.clear();
  EXPECT_TRUE(backend_->wrprot_slot(0, 0x1000, 2));
  ASSERT_EQ(stores().size(), 1u);
  EXPECT_EQ(walk(0x400).spte, (kLeafHuge & ~kWrite) | 0x400ULL << 12);
  EXPECT_EQ(walk(0x10).spte, kLeaf4K | 0x10ULL << 12);
  EXPECT_TRUE(backend_->wrprot_slot(0, 0x1000, 1));
  EXPECT_EQ(walk(0x10).spte, (kLeaf4K & ~kWrite) | 0x10ULL << 12);
  EXPECT_FALSE(backend_->wrprot_slot(0, 0x1000, 1));
  EXPECT_TRUE(effects(EffectKind::TlbiIpa).empty());
  expect_consistent();
}

TEST_F(LegacyX86, ClearDirtyClearsDWithAccessDirtyBitsAndWWithout) {
  start();
  fault(make_fault(0x10, 0x10, 1));
  EXPECT_TRUE(backend_->clear_dirty_slot(0, 0x100));
  EXPECT_EQ(walk(0x10).spte, (kLeaf4K & ~kDirty) | 0x10ULL << 12);
  EXPECT_FALSE(backend_->clear_dirty_slot(0, 0x100));
  backend_->destroy();

  EptConfig c;
  c.ad = false;
  start(c);
  fault(make_fault(0x10, 0x10, 1));
  EXPECT_TRUE(backend_->clear_dirty_slot(0, 0x100));
  EXPECT_EQ(walk(0x10).spte,
            (kLeaf4K & ~(kAccessed | kDirty | kWrite)) | kAdDisabled | 0x10ULL << 12);
}

TEST_F(LegacyX86, ClearDirtyMaskedTouchesOnly4KLeavesOfTheMask) {
  start();
  for (uint64_t gfn = 0x40; gfn < 0x48; ++gfn) fault(make_fault(gfn, gfn, 1));
  machine_.effects.clear();
  backend_->clear_dirty_masked(0, 0x1000, 0x40, 0b1010'0100, false);
  auto s = stores();
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].old_value, kLeaf4K | 0x42ULL << 12);
  EXPECT_EQ(s[0].new_value, (kLeaf4K & ~kDirty) | 0x42ULL << 12);
  EXPECT_EQ(walk(0x45).spte, (kLeaf4K & ~kDirty) | 0x45ULL << 12);
  EXPECT_EQ(walk(0x47).spte, (kLeaf4K & ~kDirty) | 0x47ULL << 12);
  EXPECT_EQ(walk(0x43).spte, kLeaf4K | 0x43ULL << 12);
  backend_->clear_dirty_masked(0, 0x1000, 0x40, 0b1, true);  // wrprot: W instead of D
  EXPECT_EQ(walk(0x40).spte, (kLeaf4K & ~kWrite) | 0x40ULL << 12);
  machine_.effects.clear();
  backend_->clear_dirty_masked(0, 0x1000, 0x40, 0, false);
  EXPECT_TRUE(stores().empty());
  expect_consistent();
}

TEST_F(LegacyX86, WriteProtectGfnClearsMmuWritableToo) {
  start();
  fault(make_fault(0x10, 0x10, 1));
  fault(make_fault(0x400, 0x400, 2));
  EXPECT_FALSE(backend_->write_protect_gfn(0, 0x1000, 0x10, 2));
  EXPECT_TRUE(backend_->write_protect_gfn(0, 0x1000, 0x10, 1));
  EXPECT_EQ(walk(0x10).spte, (kLeaf4K & ~(kWrite | kMmuWritable)) | 0x10ULL << 12);
  EXPECT_FALSE(backend_->write_protect_gfn(0, 0x1000, 0x10, 1));
  EXPECT_TRUE(backend_->write_protect_gfn(0, 0x1000, 0x5ff, 2));
  EXPECT_EQ(walk(0x400).spte, (kLeafHuge & ~(kWrite | kMmuWritable)) | 0x400ULL << 12);
  expect_consistent();
}

// ---- aging ------------------------------------------------------------------------------------

TEST_F(LegacyX86, AgingClearsAccessedOrAccessTracks) {
  start();
  fault(make_fault(0x10, 0x10, 1));
  EXPECT_TRUE(backend_->test_age_gfn(0x10));
  machine_.effects.clear();
  EXPECT_TRUE(backend_->age_gfn_range(0, 0x100));
  EXPECT_EQ(stores().size(), 1u);
  EXPECT_EQ(walk(0x10).spte, (kLeaf4K & ~kAccessed) | 0x10ULL << 12);
  EXPECT_FALSE(backend_->test_age_gfn(0x10));
  EXPECT_FALSE(backend_->age_gfn_range(0, 0x100));
  EXPECT_TRUE(effects(EffectKind::TlbiIpa).empty());
  backend_->destroy();

  EptConfig c;
  c.ad = false;
  start(c);
  fault(make_fault(0x10, 0x10, 1));
  EXPECT_TRUE(backend_->age_gfn_range(0, 0x100));
  constexpr uint64_t kLeafNoAd = (kLeaf4K & ~(kAccessed | kDirty)) | kAdDisabled;
  EXPECT_EQ(walk(0x10).spte, (kLeafNoAd & ~kRwxMask) | bit(54) | bit(56) | 0x10ULL << 12);
  EXPECT_FALSE(backend_->test_age_gfn(0x10));
  // A fault restores it, W included.
  EXPECT_EQ(fault(make_fault(0x10, 0x10, 1)), kRetPfFixed);
  EXPECT_EQ(walk(0x10).spte, kLeafNoAd | 0x10ULL << 12);
  expect_consistent();
}

// ---- splitting --------------------------------------------------------------------------------

TEST_F(LegacyX86, SplitKeepsAccessDirtyAndHostWritableAndLinksWithoutAFlush) {
  EptConfig c;
  c.host_level = 2;
  start(c);
  fault(make_fault(0x400, 0x400));
  EXPECT_TRUE(backend_->age_gfn_range(0x400, 0x401));  // A clear, D set: both must survive
  const uint64_t huge = walk(0x400).spte;
  machine_.effects.clear();
  backend_->split_huge_pages(0, 0x100000, 0, 0x100000, 1);
  auto s = stores();
  ASSERT_EQ(s.size(), 1u);  // the pieces are written before the table is linked
  EXPECT_EQ(s[0].old_value, huge);
  // ...and published just before it, from the zeroed page.
  auto p = publications();
  ASSERT_EQ(p.size(), 512u);
  EXPECT_EQ(p[1].new_value, (kLeaf4K & ~kAccessed) | 0x401ULL << 12);
  EXPECT_EQ(machine_.effects.events().back().old_value, huge);
  EXPECT_EQ(s[0].new_value & ~kAddrMask, kNonLeaf);
  EXPECT_TRUE(effects(EffectKind::TlbiIpa).empty());
  for (uint64_t i : {0ULL, 1ULL, 511ULL}) {
    Walked w = walk(0x400 + i);
    EXPECT_EQ(w.level, 1u);
    EXPECT_EQ(w.spte, (kLeaf4K & ~kAccessed) | (0x400 + i) << 12) << i;
  }
  EXPECT_EQ(machine_.memory.live_pages(), 4u);
  expect_consistent();
}

TEST_F(LegacyX86, SplittingA1GPageTo4KSplitsOnlyThe2MPiecesInTheRange) {
  start();
  fault(make_fault(0x40000, 0x40000));
  ASSERT_EQ(walk(0x40000).level, 3u);
  machine_.effects.clear();
  backend_->split_huge_pages(0, 0x100000, 0x40401, 0x40402, 1);
  EXPECT_EQ(stores().size(), 2u);  // 1G -> 2M pieces, then the piece holding 0x40401
  EXPECT_EQ(walk(0x40401).level, 1u);
  EXPECT_EQ(walk(0x40401).spte, kLeaf4K | 0x40401ULL << 12);
  EXPECT_EQ(walk(0x40600).level, 2u);
  EXPECT_EQ(walk(0x40600).spte, kLeafHuge | 0x40600ULL << 12);
  // Target 2M: 2M pieces are left alone.
  machine_.effects.clear();
  backend_->split_huge_pages(0, 0x100000, 0x40000, 0x80000, 2);
  EXPECT_TRUE(stores().empty());
  expect_consistent();
}

TEST_F(LegacyX86, UnderNxSplitting2MTo4KMakesThePiecesExecutable) {
  EptConfig c;
  c.nx_huge_pages = true;
  c.host_level = 2;
  c.ad = false;
  start(c);
  TdpFault f = make_fault(0x400, 0x400);
  f.prefetch = true;  // access-tracked: X is restored in the saved bits
  fault(f);
  const uint64_t huge = walk(0x400).spte;
  ASSERT_EQ(huge & kRwxMask, 0u);
  ASSERT_EQ(huge & bit(56), 0u);  // no X to save: the huge page is not executable
  backend_->split_huge_pages(0, 0x100000, 0, 0x100000, 1);
  EXPECT_EQ(walk(0x400).spte, (huge & ~kLargePage) | bit(56));
}

// ---- random streams: self-check after every operation ---------------------------------------

TEST_F(LegacyX86, RandomStreamsKeepShadowPagesHashAndRmapsConsistent) {
  std::mt19937_64 rng(20261205);
  const size_t streams = mmudiff::testing::sanitizer_scaled(40);
  for (size_t n = 0; n < streams; ++n) {
    EptConfig c;
    c.ad = rng() & 1;
    c.execonly = rng() & 1;
    c.nx_huge_pages = rng() & 1;
    c.host_level = 1 + rng() % 3;
    c.max_level = 1 + rng() % 3;
    c.levels = (rng() & 3) == 0 ? 5 : 4;
    c.maxphyaddr = c.levels == 5 ? 52 : 46;
    c.slot_base = (rng() % 8) << 12;
    c.slot_size = uint64_t{3} << 30;
    start(c);
    // gfns in 4 GiB, clustered so operations meet; pfn = gfn keeps them congruent.
    auto gfn = [&] { return (rng() % 4) * k1G + (rng() % 4) * k2M + rng() % 8; };
    for (int op = 0; op < 120; ++op) {
      const uint64_t g = gfn();
      switch (rng() % 11) {
        case 0:
        case 1:
        case 2: {
          TdpFault f = make_fault(g, g, 1 + rng() % 3);
          f.write = rng() & 1;
          f.exec = rng() & 1;
          f.prefetch = (rng() & 7) == 0;
          f.map_writable = (rng() & 7) != 0;
          f.dirty_logging = (rng() & 7) == 0;
          int r = backend_->fault(f);
          EXPECT_TRUE(r == kRetPfFixed || r == kRetPfSpurious || r == kRetPfEmulate) << r;
          break;
        }
        case 3:
          backend_->zap_leafs(g, g + rng() % (2 * k2M));
          break;
        case 4:
          backend_->wrprot_slot(0, 0x100000, 1 + rng() % 3);
          break;
        case 5:
          backend_->clear_dirty_slot(0, 0x100000);
          break;
        case 6:
          backend_->clear_dirty_masked(0, 0x100000, g & ~63ULL, rng(), rng() & 1);
          break;
        case 7:
          backend_->age_gfn_range(g, g + rng() % k2M);
          break;
        case 8:
          backend_->split_huge_pages(0, 0x100000, g, g + rng() % k1G, 1 + rng() % 2);
          break;
        case 9:
          backend_->zap_collapsible(0, 0x100000);
          break;
        case 10:
          if ((rng() & 7) == 0)
            backend_->zap_all();
          else
            backend_->write_protect_gfn(0, 0x100000, g, 1 + rng() % 3);
          break;
      }
      // The incremental check take_warnings runs, and the whole one.
      std::vector<std::string> w = backend_->take_warnings();
      ASSERT_TRUE(w.empty()) << "stream " << n << " op " << op << ":\n"
                             << fmt::format("{}", fmt::join(w, "\n"));
      w = backend_->self_check();
      ASSERT_TRUE(w.empty()) << "stream " << n << " op " << op << ":\n"
                             << fmt::format("{}", fmt::join(w, "\n"));
    }
    backend_->destroy();
    ASSERT_EQ(machine_.memory.live_pages(), 0u) << "stream " << n;
    ASSERT_TRUE(backend_->take_warnings().empty());
  }
}

// ---- planted bugs -----------------------------------------------------------------------------

TEST(LegacyX86Plants, EveryX86PlantIsCarriedByThisBackendAndFoundByName) {
  size_t x86 = 0;
  for (const PlantInfo& p : planted_bugs()) {
    // Every legacy-x86-* plant is this backend's, and only those.
    bool ours = p.name.rfind("legacy-x86-", 0) == 0;
    EXPECT_EQ(ours, p.arch == Arch::X86Ept && p.backend == "legacy") << p.name;
    if (!ours) continue;
    ++x86;
    EXPECT_EQ(find_plant(p.name), &p);
    EXPECT_EQ(plant_info(p.id), &p);
  }
  EXPECT_GE(x86, 8u);
}

TEST_F(LegacyX86, PlantReservedAboveMaxPhyAddrSetsTheBitAndWarns) {
  start({}, Plant::kLegacyX86ReservedAboveMaxPhyAddr);
  fault(make_fault(0x10, 0x10, 1));
  EXPECT_EQ(walk(0x10).spte, kLeaf4K | 0x10ULL << 12 | bit(46));
  // make_spte's WARN and the self-check's finding; the bad SPTE is not reported again while it
  // stays, whatever else changes in its table, and is when it comes back.
  EXPECT_EQ(backend_->take_warnings().size(), 2u);
  EXPECT_TRUE(backend_->take_warnings().empty());
  backend_->clear_dirty_slot(0, 0x100);
  EXPECT_TRUE(backend_->take_warnings().empty());
  EXPECT_FALSE(backend_->self_check().empty());
  backend_->zap_leafs(0, 0x100);
  EXPECT_TRUE(backend_->take_warnings().empty());
  fault(make_fault(0x10, 0x10, 1));
  EXPECT_EQ(backend_->take_warnings().size(), 2u);
}

TEST_F(LegacyX86, PlantWriteWithoutReadLeavesWAfterAccessTracking) {
  EptConfig c;
  c.ad = false;
  start(c, Plant::kLegacyX86WriteWithoutRead);
  fault(make_fault(0x10, 0x10, 1));
  backend_->age_gfn_range(0, 0x100);
  EXPECT_EQ(walk(0x10).spte & kRwxMask, kWrite);
  EXPECT_FALSE(backend_->take_warnings().empty());
}

TEST_F(LegacyX86, PlantExecOnlyWithoutSupportLeavesXAfterAccessTracking) {
  EptConfig c;
  c.ad = false;
  c.execonly = false;
  start(c, Plant::kLegacyX86ExecOnlyWithoutSupport);
  fault(make_fault(0x10, 0x10, 1));
  backend_->age_gfn_range(0, 0x100);
  EXPECT_EQ(walk(0x10).spte & kRwxMask, kExec);
  EXPECT_FALSE(backend_->take_warnings().empty());
}

TEST_F(LegacyX86, PlantZapLeafsNoFlushOwesNoFlushAfterZapping) {
  start({}, Plant::kLegacyX86ZapLeafsNoFlush);
  fault(make_fault(0x10, 0x10, 1));
  EXPECT_FALSE(backend_->zap_leafs(0, 0x100));
  EXPECT_EQ(walk(0x10).spte, kNonPresent);
}

TEST_F(LegacyX86, PlantHugeOverTableNoFlushSkipsTheGfnFlush) {
  EptConfig c;
  c.host_level = 2;
  start(c, Plant::kLegacyX86HugeOverTableNoFlush);
  fault(make_fault(0x205, 0x205, 1));
  backend_->zap_leafs(0x205, 0x206);
  EXPECT_EQ(fault(make_fault(0x205, 0x205)), kRetPfFixed);
  EXPECT_EQ(walk(0x205).level, 2u);
  EXPECT_TRUE(effects(EffectKind::TlbiIpa).empty());
}

TEST_F(LegacyX86, PlantLeakShadowPageOnZapLeaves4KTablesAllocated) {
  start({}, Plant::kLegacyX86LeakShadowPageOnZap);
  fault(make_fault(0x10, 0x10, 1));
  fault(make_fault(0x400, 0x400, 1));
  backend_->zap_all();
  EXPECT_EQ(machine_.memory.live_pages(), 3u);  // the root and two 4K tables
  backend_->destroy();
  EXPECT_EQ(machine_.memory.live_pages(), 2u);
}

TEST_F(LegacyX86, PlantRmapLeftAfterZapMakesTheNextZapStoreAgain) {
  start({}, Plant::kLegacyX86RmapLeftAfterZap);
  fault(make_fault(0x10, 0x10, 1));
  EXPECT_TRUE(backend_->zap_leafs(0, 0x100));
  EXPECT_FALSE(backend_->take_warnings().empty());  // the rmap points at a non-present SPTE
  machine_.effects.clear();
  EXPECT_TRUE(backend_->zap_leafs(0, 0x100));  // the kernel returns false, and stores nothing
  ASSERT_EQ(stores().size(), 1u);
  EXPECT_EQ(stores()[0].old_value, kNonPresent);
}

TEST_F(LegacyX86, PlantWrprotMissesHugePageLeavesItWritable) {
  start({}, Plant::kLegacyX86WrprotMissesHugePage);
  fault(make_fault(0x400, 0x400, 2));
  EXPECT_FALSE(backend_->wrprot_slot(0, 0x1000, 1));
  EXPECT_EQ(walk(0x400).spte & kWrite, kWrite);
}

TEST_F(LegacyX86, PlantSplitLosesAccessDirtyClearsThemInThePieces) {
  EptConfig c;
  c.host_level = 2;
  start(c, Plant::kLegacyX86SplitLosesAccessDirty);
  fault(make_fault(0x400, 0x400));
  backend_->split_huge_pages(0, 0x100000, 0, 0x100000, 1);
  EXPECT_EQ(walk(0x401).spte, (kLeaf4K & ~(kAccessed | kDirty)) | 0x401ULL << 12);
}

TEST_F(LegacyX86, PlantSplitLosesHostWritableBreaksTheWritableInvariant) {
  EptConfig c;
  c.host_level = 2;
  start(c, Plant::kLegacyX86SplitLosesHostWritable);
  fault(make_fault(0x400, 0x400));
  backend_->split_huge_pages(0, 0x100000, 0, 0x100000, 1);
  EXPECT_EQ(walk(0x401).spte, (kLeaf4K & ~kHostWritable) | 0x401ULL << 12);
  EXPECT_FALSE(backend_->take_warnings().empty());
}

// With no plant none of those differences shows: the same scenarios, as the kernel runs them.
TEST_F(LegacyX86, WithoutAPlantTheSameScenariosBehave) {
  EptConfig c;
  c.host_level = 2;
  start(c);
  fault(make_fault(0x10, 0x10, 1));
  EXPECT_TRUE(backend_->zap_leafs(0, 0x100));
  EXPECT_FALSE(backend_->zap_leafs(0, 0x100));
  fault(make_fault(0x400, 0x400));
  EXPECT_TRUE(backend_->wrprot_slot(0, 0x1000, 1));
  EXPECT_EQ(walk(0x400).spte & kWrite, 0u);
  expect_consistent();
}

// ---- The SPTE constructors on Z3 bit-vectors: the very source, for all inputs ------------------

// spte_ops.h's domain also wants equality and a right shift.
struct X86Symbolic : models::SymbolicBits {
  Bool eq(const Word& a, const Word& b) const { return a == b; }
  Word shr(const Word& w, unsigned n) const { return z3::lshr(w, lit(n)); }
};

class SpteProofs : public ::testing::Test {
 protected:
  SpteProofs() : solver_(ctx_), d_{{&ctx_}} {}

  // Proven: no input makes the property false.
  bool proven(const z3::expr& property) {
    solver_.push();
    solver_.add(!property);
    const z3::check_result r = solver_.check();
    solver_.pop();
    EXPECT_NE(r, z3::unknown);
    return r == z3::unsat;
  }
  z3::expr word(const char* name) { return ctx_.bv_const(name, 64); }
  z3::expr lit(uint64_t v) { return d_.lit(v); }
  z3::expr bits(const z3::expr& w, uint64_t mask) { return (w & lit(mask)); }

  // What __reset_rsvds_bits_mask_ept and bad_mt_xwr forbid, and the writable invariants.
  z3::expr acceptable(const z3::expr& spte, unsigned level, unsigned maxphyaddr, bool leaf = true) {
    const uint64_t shape = leaf && level > 1 ? kLargePage : 0;
    const z3::expr xwr = bits(spte, kRwxMask), mt = bits(spte, kMemTypeMask);
    z3::expr ok = bits(spte, legacy_x86::reserved_bits(maxphyaddr, 3, shape, level)) == lit(0) &&
                  xwr != lit(kWrite) && xwr != lit(kWrite | kExec) && xwr != lit(kExec) &&
                  mt != lit(2 << kMemTypeShift) && mt != lit(3 << kMemTypeShift) &&
                  mt != lit(7 << kMemTypeShift);
    if (!leaf) return ok;  // the writable invariants are about leaves
    return ok &&
           z3::implies(bits(spte, kMmuWritable) != lit(0), bits(spte, kHostWritable) != lit(0)) &&
           z3::implies(bits(spte, kWrite) != lit(0), bits(spte, kMmuWritable) != lit(0));
  }

  // A frame below MAXPHYADDR, aligned to the leaf's size.
  z3::expr valid_pfn(const z3::expr& pfn, unsigned level, unsigned maxphyaddr) {
    return z3::ult(pfn, lit(uint64_t{1} << (maxphyaddr - 12))) &&
           bits(pfn, legacy_x86::pages_per_level(level) - 1) == lit(0);
  }

  // Every leaf make_spte can build, for every configuration: acceptable, its frame in place.
  bool leaves_are_acceptable(Plant plant) {
    bool all = true;
    for (unsigned maxphyaddr : {36u, 46u, 52u})
      for (unsigned combo = 0; combo < 64; ++combo)
        for (unsigned level = 1; level <= 3; ++level) {
          legacy_x86::SpteConfig c{maxphyaddr, bool(combo & 1), bool(combo & 2), bool(combo & 4),
                                   plant};
          legacy_x86::LeafRequest r{level, bool(combo & 8), bool(combo & 16), bool(combo & 32)};
          const z3::expr pfn = word("pfn"), old = word("old");
          const z3::expr spte = legacy_x86::make_leaf_spte(d_, c, r, pfn, old);
          const z3::expr property =
              z3::implies(valid_pfn(pfn, level, maxphyaddr),
                          acceptable(spte, level, maxphyaddr) &&
                              bits(spte, kAddrMask) == z3::shl(pfn, lit(12)) &&
                              bits(spte, kMmuPresent) != lit(0));
          all = all && proven(property);
        }
    return all;
  }

  // Every piece of every huge leaf: acceptable, A/D, writability and the frame carried over,
  // and executable again at 4K under the NX mitigation.
  bool splits_keep_what_they_must(Plant plant) {
    bool all = true;
    for (unsigned combo = 0; combo < 64; ++combo)
      for (unsigned level = 2; level <= 3; ++level)
        for (unsigned index : {0u, 1u, 511u}) {
          legacy_x86::SpteConfig c{46, bool(combo & 1), bool(combo & 2), bool(combo & 4), plant};
          legacy_x86::LeafRequest r{level, bool(combo & 8), bool(combo & 16), bool(combo & 32)};
          const z3::expr pfn = word("pfn"), old = word("old");
          const z3::expr huge = legacy_x86::make_leaf_spte(d_, c, r, pfn, old);
          const z3::expr child = legacy_x86::split_child_spte(d_, c, huge, level - 1, index);
          const bool regains_exec = level - 1 == 1 && c.nx_huge_pages;
          // Under NX a 4K piece gains X, or, access-tracked, the saved X.
          const uint64_t kept = (kAccessed | kDirty | kWrite | kHostWritable | kMmuWritable |
                                 kRead | kAdStateMask | kAccTrackSavedMask) &
                                ~(regains_exec ? bit(56) : 0);
          z3::expr property =
              acceptable(child, level - 1, 46) && bits(child, kept) == bits(huge, kept) &&
              bits(child, kAddrMask) ==
                  bits(huge, kAddrMask) +
                      lit(uint64_t{index} * legacy_x86::pages_per_level(level - 1) << 12);
          if (regains_exec)
            property = property && (bits(child, kExec | bit(56)) != lit(0));
          else
            property = property && bits(child, kExec) == bits(huge, kExec);
          all = all && proven(z3::implies(valid_pfn(pfn, level, 46), property));
        }
    return all;
  }

  // Without A/D bits, aging makes a leaf inaccessible (RWX clear) and a fault's restore brings
  // R and X back -- not W, which dirty tracking must see again.
  bool access_tracking_round_trips(Plant plant) {
    bool all = true;
    for (unsigned combo = 0; combo < 16; ++combo)
      for (unsigned level = 1; level <= 3; ++level) {
        legacy_x86::SpteConfig c{46, false, bool(combo & 1), bool(combo & 2), plant};
        legacy_x86::LeafRequest r{level, false, bool(combo & 4), bool(combo & 8)};
        const z3::expr pfn = word("pfn"), old = word("old");
        const z3::expr spte = legacy_x86::make_leaf_spte(d_, c, r, pfn, old);
        const z3::expr aged = legacy_x86::age_spte(d_, c, spte);
        const z3::expr back = legacy_x86::restore_access_track(d_, c, aged);
        all = all &&
              proven(z3::implies(valid_pfn(pfn, level, 46),
                                 bits(aged, kRwxMask) == lit(0) && acceptable(aged, level, 46) &&
                                     back == (spte & lit(~kWrite)) &&
                                     !legacy_x86::is_access_tracked(d_, c, spte) &&
                                     legacy_x86::is_access_tracked(d_, c, aged)));
      }
    return all;
  }

  z3::context ctx_;
  z3::solver solver_;
  X86Symbolic d_;
};

TEST_F(SpteProofs, EveryLeafMakeSpteBuildsIsAcceptableAndMapsItsFrame) {
  EXPECT_TRUE(leaves_are_acceptable(Plant::kNone));
}

TEST_F(SpteProofs, SplitPiecesKeepAccessDirtyWritabilityAndRegainExecutionUnderNx) {
  EXPECT_TRUE(splits_keep_what_they_must(Plant::kNone));
}

TEST_F(SpteProofs, AccessTrackingClearsRwxAndRestoresAllButW) {
  EXPECT_TRUE(access_tracking_round_trips(Plant::kNone));
}

TEST_F(SpteProofs, NonLeafAndMmioSptesAreWhatTheKernelWrites) {
  for (bool ad : {false, true})
    for (bool execonly : {false, true}) {
      legacy_x86::SpteConfig c{46, ad, execonly, false, Plant::kNone};
      const z3::expr pa = word("pa");
      const z3::expr table = legacy_x86::make_nonleaf_spte(d_, c, pa);
      EXPECT_TRUE(proven(z3::implies(
          z3::ult(pa, lit(uint64_t{1} << 46)) && bits(pa, 0xfff) == lit(0),
          acceptable(table, 4, 46, false) && acceptable(table, 2, 46, false) &&
              bits(table, kAddrMask) == pa && bits(table, kRwxMask) == lit(kRwxMask) &&
              bits(table, kAccessed | kAdStateMask) == lit(ad ? kAccessed : kAdDisabled))));
    }
  const z3::expr gfn = word("gfn");
  const z3::expr mmio = legacy_x86::make_mmio_spte(d_, gfn);
  // An MMIO SPTE is never MMU-present and always an EPT misconfiguration (W+X without R).
  EXPECT_TRUE(proven(z3::implies(z3::ult(gfn, lit(uint64_t{1} << 40)),
                                 bits(mmio, kMmuPresent | kSuppressVe) == lit(0) &&
                                     bits(mmio, kRwxMask) == lit(kWrite | kExec))));
}

// The proofs catch the plants that live in spte_ops.h: each gets a counterexample.
TEST_F(SpteProofs, ThePlantedSpteBugsHaveCounterexamples) {
  EXPECT_FALSE(leaves_are_acceptable(Plant::kLegacyX86ReservedAboveMaxPhyAddr));
  EXPECT_FALSE(access_tracking_round_trips(Plant::kLegacyX86WriteWithoutRead));
  EXPECT_FALSE(access_tracking_round_trips(Plant::kLegacyX86ExecOnlyWithoutSupport));
  EXPECT_FALSE(splits_keep_what_they_must(Plant::kLegacyX86SplitLosesAccessDirty));
  EXPECT_FALSE(splits_keep_what_they_must(Plant::kLegacyX86SplitLosesHostWritable));
}

}  // namespace
}  // namespace mmudiff

// SPDX-License-Identifier: GPL-2.0-only
// The linux612-tdp backend: where its kernel code came from, what Linux 6.12's TDP MMU writes for
// each operation (decoded with the x86_ept.h constants, never with the kernel's own macros), and
// the shim's promises: every SPTE store recorded with its exact old value, flushes as effects,
// warnings returned rather than fatal, the knobs of EptConfig honoured, nothing leaked.
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "mmu/backend.h"
#include "mmu/format/x86_ept.h"
#include "mmu/x86/tdp_api.h"
#include "tests/effects_of_kind.h"
#include "tests/sanitizer_scale.h"

#ifdef MMUDIFF_HAVE_LINUX612_TDP
#include "mmu/linux612_tdp/linux612_source_info.h"
#include "mmu/linux612_tdp/linux612_spte_check.h"
#include "mmu/linux612_tdp/linux612_tdp_backend.h"
#endif

namespace mmudiff {
namespace {

#ifndef MMUDIFF_HAVE_LINUX612_TDP

TEST(Linux612Tdp, NotBuilt) {
  GTEST_SKIP() << "configured with -DMMUDIFF_LINUX612=OFF";
}

#else

using namespace x86ept;

constexpr uint64_t kPagesPer2M = 512;
constexpr uint64_t kPagesPer1G = 512 * 512;
// What every present SPTE the TDP MMU writes on an execute-only-capable CPU carries: the
// MMU-present bit and "suppress #VE" (shadow_present_mask); R comes from shadow_user_mask.
constexpr uint64_t kPresentBits = kMmuPresent | kSuppressVe;
// vmx_get_mt_mask() for RAM without non-coherent DMA: WB, ignore guest PAT.
constexpr uint64_t kWbIpat = (uint64_t{kMemTypeWb} << kMemTypeShift) | kIgnorePat;
constexpr uint64_t kLeafRwx = kRead | kWrite | kExec;

x86::EptConfig default_config() {
  return {};
}

struct Leaf {
  uint64_t spte = 0;
  unsigned level = 0;
  uint64_t entry_pa = 0;
  bool present = false;
};

class Linux612Tdp : public ::testing::Test {
 protected:
  void start(const x86::EptConfig& config = default_config()) {
    config_ = config;
    ASSERT_EQ(backend_.init(config), 0);
  }

  void TearDown() override {
    backend_.destroy();
    EXPECT_EQ(machine_.memory.live_pages(), 0u);
    EXPECT_TRUE(machine_.memory.faults().empty());
    if (!expect_warnings_) {
      EXPECT_EQ(backend_.take_warnings(), std::vector<std::string>{});
    }
  }

  int fault(uint64_t gfn, uint64_t pfn, bool write = false, bool exec = false,
            uint8_t max_level = 3) {
    return backend_.fault(
        {.gfn = gfn, .pfn = pfn, .max_level = max_level, .write = write, .exec = exec});
  }

  const uint64_t* page(uint64_t pa) const {
    const uint64_t* p = machine_.memory.table_page(pa);
    EXPECT_NE(p, nullptr) << std::hex << pa;
    return p;
  }

  // The hardware walk of the table for one gpa: the last entry it reads.
  Leaf walk(uint64_t gfn) const {
    TableRoot r = backend_.root();
    uint64_t gpa = gfn << kPageShift;
    uint64_t table = r.pgd_pa;
    for (unsigned level = config_.levels; level >= 1; --level) {
      const uint64_t* entries = page(table);
      if (!entries) return {};
      uint64_t spte = entries[table_index(gpa, level)];
      uint64_t entry_pa = table + 8 * table_index(gpa, level);
      if (!(spte & kMmuPresent)) return {spte, level, entry_pa, false};
      if (level == 1 || (spte & kLargePage)) return {spte, level, entry_pa, true};
      table = spte & addr_mask(config_.maxphyaddr);
    }
    return {};
  }

  // Every present entry of the live table, with its level.
  std::vector<std::pair<uint64_t, unsigned> > all_present_sptes() const {
    std::vector<std::pair<uint64_t, unsigned> > out;
    std::vector<std::pair<uint64_t, unsigned> > tables{{backend_.root().pgd_pa, config_.levels}};
    while (!tables.empty()) {
      auto [pa, level] = tables.back();
      tables.pop_back();
      const uint64_t* entries = page(pa);
      if (!entries) continue;
      for (unsigned i = 0; i < kEntriesPerTable; ++i) {
        uint64_t spte = entries[i];
        if (!(spte & kMmuPresent)) continue;
        out.emplace_back(spte, level);
        if (level > 1 && !(spte & kLargePage))
          tables.emplace_back(spte & addr_mask(config_.maxphyaddr), level - 1);
      }
    }
    return out;
  }

  std::vector<Effect> effects_of(EffectKind kind) const {
    return mmudiff::testing::effects_of_kind(machine_.effects, kind);
  }

  Machine machine_{MemoryLimits{.phys_base = kLowTablePhysBase}};
  Linux612TdpBackend backend_{machine_};
  x86::EptConfig config_;
  bool expect_warnings_ = false;
};

uint64_t leaf_for(uint64_t pfn, unsigned level, bool dirty) {
  return kPresentBits | kLeafRwx | kWbIpat | kAccessed | (dirty ? kDirty : 0) | kHostWritable |
         kMmuWritable | (level > 1 ? kLargePage : 0) | (pfn << kPageShift);
}

// ---- Source
// ---------------------------------------------------------------------------------------

TEST(Linux612TdpSource, RecordsPackageVersionAndHashesOfTheCompiledFiles) {
  const KernelSourceInfo& info = linux612_source_info();
  EXPECT_EQ(info.package, "linux-source-6.12");
  EXPECT_FALSE(info.package_version.empty());
  ASSERT_EQ(info.files.size(), 13u);
  std::vector<std::string_view> paths;
  for (const auto& f : info.files) {
    paths.push_back(f.path);
    EXPECT_EQ(f.sha256.size(), 64u) << f.path;
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(info.tree) / f.path)) << f.path;
  }
  for (std::string_view want : {"arch/x86/kvm/mmu/tdp_mmu.c", "arch/x86/kvm/mmu/tdp_iter.c",
                                "arch/x86/kvm/mmu/spte.c", "arch/x86/kvm/mmu/mmu.c"})
    EXPECT_NE(std::find(paths.begin(), paths.end(), want), paths.end()) << want;
  EXPECT_NE(info.summary().find("tdp_mmu.c:"), std::string::npos) << info.summary();
  if (!info.matches_tested()) GTEST_SKIP() << "kernel files differ from the tested ones";
}

TEST(Linux612TdpSource, NoKernelFileIsInTheSourceTree) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(MMUDIFF_SOURCE_DIR) / "mmu" / "linux612_tdp";
  ASSERT_TRUE(fs::exists(dir));
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    for (const char* kernel : {"tdp_mmu.c", "tdp_iter.c", "spte.c", "mmu.c", "spte.h",
                               "mmu_internal.h", "tdp_iter.h", "tdp_mmu.h", "vmx.h"})
      EXPECT_NE(name, kernel) << e.path();
  }
}

// ---- Faults
// ---------------------------------------------------------------------------------------

TEST_F(Linux612Tdp, WriteFaultMaps4KWithEveryPermissionAndTheDirtyBit) {
  start();
  EXPECT_EQ(fault(0x1234, 0x5678, /*write=*/true, false, /*max_level=*/1), kRetPfFixed);
  Leaf l = walk(0x1234);
  ASSERT_TRUE(l.present);
  EXPECT_EQ(l.level, 1u);
  EXPECT_EQ(l.spte, leaf_for(0x5678, 1, true)) << std::hex << l.spte;
  EXPECT_EQ(backend_.stats().leaf_pages[0], 1);
  // Root -> 512G -> 1G -> 2M tables: three linked tables below the root.
  EXPECT_EQ(backend_.stats().table_pages, 3);
  EXPECT_EQ(machine_.memory.live_pages(), 4u);
  // Non-leaf entries: RWX, A (EPT A/D on), no memory type, no page size bit.
  uint64_t root_entry = page(backend_.root().pgd_pa)[table_index(0x1234ull << 12, 4)];
  EXPECT_EQ(root_entry & ~addr_mask(46), kPresentBits | kLeafRwx | kAccessed)
      << std::hex << root_entry;
}

TEST_F(Linux612Tdp, ReadFaultOnWritableMemoryIsWritableAndDirtyAlready) {
  start();
  EXPECT_EQ(fault(0x10, 0x20, /*write=*/false, false, 1), kRetPfFixed);
  // make_spte sets D whenever it makes the SPTE writable, whatever the access.
  EXPECT_EQ(walk(0x10).spte, leaf_for(0x20, 1, true)) << std::hex << walk(0x10).spte;
}

TEST_F(Linux612Tdp, ReadOnlyHostMappingGivesNoWriteAndNoHostWritable) {
  start();
  EXPECT_EQ(backend_.fault({.gfn = 0x10, .pfn = 0x20, .max_level = 1, .map_writable = false}),
            kRetPfFixed);
  EXPECT_EQ(walk(0x10).spte,
            kPresentBits | kRead | kExec | kWbIpat | kAccessed | (uint64_t{0x20} << 12));
}

TEST_F(Linux612Tdp, PrefetchLeavesTheAccessedBitClear) {
  start();
  EXPECT_EQ(backend_.fault({.gfn = 0x10, .pfn = 0x20, .max_level = 1, .prefetch = true}),
            kRetPfFixed);
  EXPECT_EQ(walk(0x10).spte, leaf_for(0x20, 1, true) & ~kAccessed);
}

TEST_F(Linux612Tdp, HugeFaultsFollowTheHostMappingLevel) {
  x86::EptConfig c = default_config();
  c.host_level = 2;
  start(c);
  EXPECT_EQ(fault(0x400 + 5, 0x80000 + 5, true), kRetPfFixed);
  Leaf l = walk(0x405);
  EXPECT_EQ(l.level, 2u);
  EXPECT_EQ(l.spte, leaf_for(0x80000, 2, true)) << std::hex << l.spte;
  EXPECT_EQ(backend_.stats().leaf_pages[1], 1);
}

TEST_F(Linux612Tdp, OneGigabyteFault) {
  start();  // host_level 3, max_level 3
  EXPECT_EQ(fault(kPagesPer1G + 7, 3 * kPagesPer1G + 7, false, false), kRetPfFixed);
  Leaf l = walk(kPagesPer1G + 7);
  EXPECT_EQ(l.level, 3u);
  EXPECT_EQ(l.spte, leaf_for(3 * kPagesPer1G, 3, true)) << std::hex << l.spte;
  EXPECT_EQ(backend_.stats().leaf_pages[2], 1);
}

TEST_F(Linux612Tdp, MaxLevelKnobCapsHugePages) {
  x86::EptConfig c = default_config();
  c.max_level = 2;  // tdp_huge_page_level: no 1G pages
  start(c);
  EXPECT_EQ(fault(kPagesPer1G, kPagesPer1G, false, false, 3), kRetPfFixed);
  EXPECT_EQ(walk(kPagesPer1G).level, 2u);
}

TEST_F(Linux612Tdp, DirtyLoggingForces4K) {
  start();
  EXPECT_EQ(backend_.fault(
                {.gfn = kPagesPer1G, .pfn = kPagesPer1G, .write = true, .dirty_logging = true}),
            kRetPfFixed);
  EXPECT_EQ(walk(kPagesPer1G).level, 1u);
  EXPECT_EQ(backend_.stats().page_dirty, 1u);  // mark_page_dirty_in_slot
}

TEST_F(Linux612Tdp, MisalignedSlotHeadIsNotHuge) {
  x86::EptConfig c = default_config();
  c.slot_base = 0x1000;  // the first 2M (and 1G) of the slot is partial: lpage_info disallows it
  start(c);
  EXPECT_EQ(fault(0x10, 0x10), kRetPfFixed);
  EXPECT_EQ(walk(0x10).level, 1u);
  EXPECT_EQ(fault(kPagesPer2M, kPagesPer2M), kRetPfFixed);
  EXPECT_EQ(walk(kPagesPer2M).level, 2u);  // 2M-aligned, inside the first (partial) 1G
}

TEST_F(Linux612Tdp, NxHugePagesExecFaultIs4KAndTracked) {
  x86::EptConfig c = default_config();
  c.nx_huge_pages = true;
  start(c);
  // pfn congruent with gfn modulo 1G: the host could map it with a 1G page.
  EXPECT_EQ(fault(0x200, 0x200 + kPagesPer1G, false, /*exec=*/true), kRetPfFixed);
  Leaf l = walk(0x200);
  EXPECT_EQ(l.level, 1u);
  EXPECT_TRUE(l.spte & kExec);
  // Both new tables (below the 1G and the 2M entry) stand where a huge page could: tracked.
  EXPECT_EQ(backend_.stats().nx_lpage_splits, 2u);
  // A read fault elsewhere in that 2M stays 4K: the table is NX-huge-page-disallowed.
  EXPECT_EQ(fault(0x201, 0x201 + kPagesPer1G), kRetPfFixed);
  EXPECT_EQ(walk(0x201).level, 1u);
  EXPECT_EQ(backend_.stats().nx_lpage_splits, 2u);
}

TEST_F(Linux612Tdp, NxHugePagesHugeLeafIsNotExecutableAndSplitsOnExec) {
  x86::EptConfig c = default_config();
  c.nx_huge_pages = true;
  c.host_level = 2;
  start(c);
  EXPECT_EQ(fault(0x400, 0x800), kRetPfFixed);
  Leaf huge = walk(0x400);
  EXPECT_EQ(huge.level, 2u);
  EXPECT_EQ(huge.spte, leaf_for(0x800, 2, true) & ~kExec) << std::hex << huge.spte;
  EXPECT_EQ(fault(0x405, 0x805, false, /*exec=*/true), kRetPfFixed);
  // The 2M page was split in place: every 4K child executable again, same pfns.
  for (uint64_t i : {uint64_t{0}, uint64_t{5}, uint64_t{511}}) {
    Leaf l = walk(0x400 + i);
    EXPECT_EQ(l.level, 1u);
    EXPECT_EQ(l.spte & ~(kAccessed | kDirty), leaf_for(0x800 + i, 1, false) & ~kAccessed)
        << i << " " << std::hex << l.spte;
  }
}

TEST_F(Linux612Tdp, MmioFaultOutsideTheSlotInstallsAnMmioSpte) {
  x86::EptConfig c = default_config();
  c.slot_size = uint64_t{1} << 30;
  start(c);
  uint64_t gfn = (uint64_t{2} << 30) >> kPageShift;
  EXPECT_EQ(fault(gfn, 0, true), kRetPfEmulate);
  Leaf l = walk(gfn);
  EXPECT_FALSE(l.present);
  EXPECT_EQ(l.level, 1u);
  // W+X without R (an EPT misconfiguration), the gpa, generation 0, no "suppress #VE".
  EXPECT_EQ(l.spte, kMmioValue | (gfn << kPageShift)) << std::hex << l.spte;
  EXPECT_EQ(l.spte & kMmioMask, kMmioValue);
  EXPECT_EQ(backend_.stats().mmio_sptes, 1u);
  // The same fault again finds the MMIO SPTE already there: nothing stored, still emulated.
  size_t stores = effects_of(EffectKind::Store).size();
  EXPECT_EQ(fault(gfn, 0, true), kRetPfEmulate);
  EXPECT_EQ(effects_of(EffectKind::Store).size(), stores);
}

TEST_F(Linux612Tdp, HostMmioPfnIsUncachedWithoutIgnorePat) {
  x86::EptConfig c = default_config();
  c.host_mmio_pfn = 0x100000;
  start(c);
  EXPECT_EQ(fault(0x10, 0x100010, false, false, 1), kRetPfFixed);
  EXPECT_EQ(walk(0x10).spte & (kMemTypeMask | kIgnorePat), uint64_t{kMemTypeUc} << kMemTypeShift);
  EXPECT_EQ(fault(0x11, 0x10, false, false, 1), kRetPfFixed);
  EXPECT_EQ(walk(0x11).spte & (kMemTypeMask | kIgnorePat), kWbIpat);
}

TEST_F(Linux612Tdp, AccessTrackingWithoutAdBits) {
  x86::EptConfig c = default_config();
  c.ad = false;
  start(c);
  EXPECT_EQ(fault(0x10, 0x20, true, false, 1), kRetPfFixed);
  uint64_t spte = walk(0x10).spte;
  EXPECT_EQ(spte, (leaf_for(0x20, 1, false) & ~kAccessed) | kAdDisabled) << std::hex << spte;
  EXPECT_TRUE(backend_.test_age_gfn(0x10));
  EXPECT_TRUE(backend_.age_gfn_range(0x10, 0x11));
  // mark_spte_for_access_track: RWX cleared, R and X saved in bits 54 and 56.
  uint64_t aged = walk(0x10).spte;
  EXPECT_EQ(aged, (spte & ~kRwxMask) | ((kRead | kExec) << kAccTrackSavedShift))
      << std::hex << aged;
  EXPECT_FALSE(backend_.test_age_gfn(0x10));
}

TEST_F(Linux612Tdp, HugePageOverATableFlushesAtItsLevel) {
  x86::EptConfig c = default_config();
  c.host_level = 2;
  start(c);
  EXPECT_EQ(fault(0x400, 0x800, false, false, 1), kRetPfFixed);
  ASSERT_EQ(walk(0x400).level, 1u);
  machine_.effects.clear();
  EXPECT_EQ(fault(0x401, 0x801), kRetPfFixed);
  EXPECT_EQ(walk(0x401).level, 2u);
  auto flushes = effects_of(EffectKind::TlbiIpa);
  ASSERT_EQ(flushes.size(), 1u);
  EXPECT_EQ(flushes[0].addr, uint64_t{0x400} << kPageShift);
  EXPECT_EQ(flushes[0].level, 2u);
  // The 4K table went to RCU and was freed once the fault returned.
  EXPECT_EQ(backend_.stats().table_pages, 2);
  EXPECT_EQ(machine_.memory.live_pages(), 3u);
}

TEST_F(Linux612Tdp, GfnAndPfnNotCongruentIsAWarningNotACrash) {
  x86::EptConfig c = default_config();
  c.host_level = 2;
  start(c);
  expect_warnings_ = true;
  (void)fault(0x400, 0x801);  // VM_BUG_ON((gfn & mask) != (pfn & mask))
  auto warnings = backend_.take_warnings();
  ASSERT_FALSE(warnings.empty());
  EXPECT_NE(warnings[0].find("BUG_ON"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("mmu.c"), std::string::npos) << warnings[0];
}

TEST_F(Linux612Tdp, OutOfMemoryFaultIsEnomemAndLeaksNothing) {
  // kvm_mmu_load tops the caches up too: init needs PT64_ROOT_MAX_LEVEL (5) free pages, keeps
  // the root; the fault then finds 4.
  Machine small{MemoryLimits{.max_pages = 5, .phys_base = kLowTablePhysBase}};
  Linux612TdpBackend b{small};
  config_ = default_config();
  ASSERT_EQ(b.init(config_), 0);
  EXPECT_EQ(small.memory.live_pages(), 1u);
  EXPECT_EQ(b.fault(x86::TdpFault{.gfn = 1, .pfn = 1}), -ENOMEM);
  EXPECT_EQ(small.memory.live_pages(), 1u);
  b.destroy();
  EXPECT_EQ(small.memory.live_pages(), 0u);
  EXPECT_TRUE(b.take_warnings().empty());
  Machine tiny{MemoryLimits{.max_pages = 4, .phys_base = kLowTablePhysBase}};
  Linux612TdpBackend t{tiny};
  EXPECT_EQ(t.init(config_), -ENOMEM);
  EXPECT_FALSE(t.root().live());
  EXPECT_EQ(tiny.memory.live_pages(), 0u);
  start();
}

TEST_F(Linux612Tdp, SplitOutOfMemorySplitsWhatItCanAndLeaksNothing) {
  Machine small{MemoryLimits{.max_pages = 40, .phys_base = kLowTablePhysBase}};
  Linux612TdpBackend b{small};
  ASSERT_EQ(b.init(default_config()), 0);
  ASSERT_EQ(b.fault(x86::TdpFault{.gfn = 0, .pfn = kPagesPer1G, .write = true}), kRetPfFixed);
  // A full 1G split needs 513 tables; 40 pages hold the root, two tables and 37 more.
  b.split_huge_pages(0, kPagesPer1G, 0, kPagesPer1G, 1);
  EXPECT_TRUE(small.memory.bound_reached());
  Linux612TdpStats st = b.stats();
  EXPECT_EQ(st.leaf_pages[2], 0);
  EXPECT_GT(st.leaf_pages[0], 0);
  EXPECT_GT(st.leaf_pages[1], 0);
  EXPECT_EQ(st.leaf_pages[0] + 512 * st.leaf_pages[1], int64_t(kPagesPer1G));
  EXPECT_TRUE(b.take_warnings().empty());
  b.destroy();
  EXPECT_EQ(small.memory.live_pages(), 0u);
  EXPECT_TRUE(small.memory.faults().empty());
  start();
}

TEST_F(Linux612Tdp, ReinitReplacesTheTable) {
  start();
  ASSERT_EQ(fault(0x10, 0x20, true, false, 1), kRetPfFixed);
  x86::EptConfig c = default_config();
  c.levels = 5;
  c.maxphyaddr = 52;
  start(c);
  EXPECT_EQ(machine_.memory.live_pages(), 1u);
  EXPECT_EQ(backend_.root().ia_bits, 57u);
  EXPECT_FALSE(walk(0x10).present);
}

TEST_F(Linux612Tdp, InstancesWithDifferentConfigurationsInterleave) {
  // The kernel's MMU configuration is global; each call re-establishes its VM's.
  start();  // A/D on
  Machine other_machine{MemoryLimits{.phys_base = kLowTablePhysBase}};
  Linux612TdpBackend other{other_machine};
  x86::EptConfig no_ad = default_config();
  no_ad.ad = false;
  no_ad.execonly = false;
  ASSERT_EQ(other.init(no_ad), 0);
  for (uint64_t g = 0x10; g < 0x14; ++g) {
    ASSERT_EQ(fault(g, g, true, false, 1), kRetPfFixed);
    ASSERT_EQ(other.fault(x86::TdpFault{.gfn = g, .pfn = g, .max_level = 1, .write = true}),
              kRetPfFixed);
    EXPECT_EQ(walk(g).spte, leaf_for(g, 1, true));
    const Effect& last = other_machine.effects.events().back();
    ASSERT_EQ(last.kind, EffectKind::Store);
    EXPECT_EQ(last.new_value, (leaf_for(g, 1, false) & ~kAccessed) | kAdDisabled)
        << std::hex << last.new_value;
  }
  EXPECT_TRUE(other.age_gfn_range(0, 0x100));
  EXPECT_TRUE(backend_.test_age_gfn(0x10));
  other.destroy();
  EXPECT_EQ(other_machine.memory.live_pages(), 0u);
  EXPECT_TRUE(other.take_warnings().empty());
}

// One VM's run: its configuration, a fixed stream of faults, splits, ages and zaps, and what
// it leaves in memory and in the log.
struct RunResult {
  std::vector<uint64_t> table;  // every live page's entries, in address order
  size_t stores = 0;
  std::vector<std::string> warnings;

  bool operator==(const RunResult&) const = default;
};

RunResult run_vm(unsigned variant) {
  Machine machine{MemoryLimits{.phys_base = kLowTablePhysBase}};
  Linux612TdpBackend b{machine};
  x86::EptConfig c;
  c.ad = variant & 1;
  c.execonly = variant & 2;
  c.nx_huge_pages = variant & 4;
  c.maxphyaddr = (variant & 8) ? 52 : 39;
  c.levels = (variant & 8) ? 5 : 4;
  c.host_level = 2;
  RunResult r;
  if (b.init(c) != 0) return r;
  for (uint64_t i = 0; i < 200; ++i) {
    uint64_t gfn = (i * 0x2d3) % 0x4000;
    (void)b.fault({.gfn = gfn, .pfn = gfn + kPagesPer1G, .write = i % 3 == 0, .exec = i % 5 == 0});
    if (i % 17 == 0) b.split_huge_pages(0, 1 << 20, gfn, gfn + 0x400, 1);
    if (i % 23 == 0) (void)b.age_gfn_range(0, 0x4000);
    if (i % 41 == 0) (void)b.zap_leafs(gfn, gfn + 0x300);
  }
  for (uint64_t pa : machine.memory.live_page_list()) {
    const uint64_t* entries = machine.memory.table_page(pa);
    r.table.insert(r.table.end(), entries, entries + kEntriesPerTable);
  }
  r.stores = machine.effects.size();
  r.warnings = b.take_warnings();
  b.destroy();
  return r;
}

TEST(Linux612TdpThreads, VmsOnSeveralThreadsBehaveAsAlone) {
  // KVM's MMU configuration is global in the kernel and per thread here: four VMs with four
  // configurations, run at once, end exactly as each does alone.
  constexpr unsigned kVariants[] = {0, 7, 9, 14};
  std::vector<RunResult> alone;
  for (unsigned v : kVariants) alone.push_back(run_vm(v));
  for (size_t i = 1; i < alone.size(); ++i) EXPECT_NE(alone[i].table, alone[0].table) << i;
  for (int round = 0; round < 3; ++round) {
    std::vector<RunResult> together(std::size(kVariants));
    std::vector<std::thread> threads;
    for (size_t i = 0; i < std::size(kVariants); ++i)
      threads.emplace_back([&, i] { together[i] = run_vm(kVariants[i]); });
    for (auto& t : threads) t.join();
    for (size_t i = 0; i < alone.size(); ++i) {
      EXPECT_FALSE(alone[i].table.empty());
      EXPECT_TRUE(alone[i].warnings.empty()) << i;
      EXPECT_TRUE(together[i] == alone[i]) << "variant " << kVariants[i] << " round " << round;
    }
  }
}

TEST_F(Linux612Tdp, RejectsConfigurationsKvmCannotHave) {
  for (auto bad : {x86::EptConfig{.maxphyaddr = 35}, x86::EptConfig{.levels = 3},
                   x86::EptConfig{.max_level = 4}, x86::EptConfig{.host_level = 0},
                   x86::EptConfig{.slot_base = 0x800}})
    EXPECT_EQ(backend_.init(bad), -EINVAL);
  EXPECT_FALSE(backend_.root().live());
  start();
}

// ---- Zaps ---------------------------------------------------------------------------------------

TEST_F(Linux612Tdp, ZapLeafsClearsOnlyTheRange) {
  start();
  for (uint64_t g : {0x10, 0x11, 0x12}) ASSERT_EQ(fault(g, g + 0x100, true, false, 1), kRetPfFixed);
  machine_.effects.clear();
  EXPECT_TRUE(backend_.zap_leafs(0x10, 0x12));
  EXPECT_EQ(walk(0x10).spte, kNonPresent);
  EXPECT_EQ(walk(0x11).spte, kNonPresent);
  EXPECT_TRUE(walk(0x12).present);
  // The caller flushes: zap_leafs(flush=false) issues none itself.
  EXPECT_TRUE(effects_of(EffectKind::TlbiIpa).empty());
  EXPECT_TRUE(effects_of(EffectKind::TlbiVmid).empty());
  EXPECT_EQ(backend_.stats().pfn_dirty, 2u);  // dirty leaves zapped: kvm_set_pfn_dirty
  EXPECT_FALSE(backend_.zap_leafs(0x10, 0x12));
}

TEST_F(Linux612Tdp, ZapAllLeavesOnlyTheRoot) {
  start();
  ASSERT_EQ(fault(0x10, 0x20, true, false, 1), kRetPfFixed);
  ASSERT_EQ(fault(kPagesPer1G, kPagesPer1G, true), kRetPfFixed);
  machine_.effects.clear();
  backend_.zap_all();
  EXPECT_EQ(machine_.memory.live_pages(), 1u);
  // No flush: KVM zaps everything only when no vCPU can run again (tdp_mmu.c says so).
  EXPECT_TRUE(effects_of(EffectKind::TlbiVmid).empty());
  EXPECT_TRUE(effects_of(EffectKind::TlbiIpa).empty());
  const uint64_t* root = page(backend_.root().pgd_pa);
  for (unsigned i = 0; i < kEntriesPerTable; ++i) EXPECT_EQ(root[i], kNonPresent) << i;
  EXPECT_EQ(backend_.stats().table_pages, 0);
  // The root stays in use.
  EXPECT_EQ(fault(0x10, 0x20, true, false, 1), kRetPfFixed);
  EXPECT_TRUE(walk(0x10).present);
}

// ---- Dirty logging
// ---------------------------------------------------------------------------------

TEST_F(Linux612Tdp, WrprotSlotClearsWritableKeepsMmuWritable) {
  x86::EptConfig c = default_config();
  c.host_level = 2;
  start(c);
  ASSERT_EQ(fault(0x10, 0x20, true, false, 1), kRetPfFixed);
  ASSERT_EQ(fault(0x400, 0x800, true), kRetPfFixed);
  EXPECT_TRUE(backend_.wrprot_slot(0, 0x1000, 1));
  EXPECT_EQ(walk(0x10).spte, leaf_for(0x20, 1, true) & ~kWrite);
  EXPECT_EQ(walk(0x400).spte, leaf_for(0x800, 2, true) & ~kWrite);
  EXPECT_FALSE(backend_.wrprot_slot(0, 0x1000, 1));
  // A write fault makes it writable again (fast_page_fault's job in KVM; the map path here).
  EXPECT_EQ(fault(0x10, 0x20, true, false, 1), kRetPfFixed);
  EXPECT_TRUE(walk(0x10).spte & kWrite);
}

TEST_F(Linux612Tdp, WrprotSlotAtMinLevel2LeavesSmallPages) {
  x86::EptConfig c = default_config();
  c.host_level = 2;
  start(c);
  ASSERT_EQ(fault(0x10, 0x20, true, false, 1), kRetPfFixed);
  ASSERT_EQ(fault(0x400, 0x800, true), kRetPfFixed);
  EXPECT_TRUE(backend_.wrprot_slot(0, 0x1000, 2));
  EXPECT_TRUE(walk(0x10).spte & kWrite);
  EXPECT_FALSE(walk(0x400).spte & kWrite);
}

TEST_F(Linux612Tdp, ClearDirtySlotClearsDAndAWriteRefaultLeavesItClear) {
  start();
  ASSERT_EQ(fault(0x10, 0x20, true, false, 1), kRetPfFixed);
  EXPECT_TRUE(backend_.clear_dirty_slot(0, 0x100));
  uint64_t clean = leaf_for(0x20, 1, false);
  EXPECT_EQ(walk(0x10).spte, clean);
  EXPECT_FALSE(backend_.clear_dirty_slot(0, 0x100));
  // make_spte keeps a writable SPTE as it is: nothing to change, D stays clear (KVM relies on
  // the CPU setting D on the next write).
  EXPECT_EQ(fault(0x10, 0x20, true, false, 1), kRetPfSpurious);
  EXPECT_EQ(walk(0x10).spte, clean);
}

TEST_F(Linux612Tdp, ClearDirtySlotWithoutAdBitsWriteProtects) {
  x86::EptConfig c = default_config();
  c.ad = false;
  start(c);
  ASSERT_EQ(fault(0x10, 0x20, true, false, 1), kRetPfFixed);
  uint64_t before = walk(0x10).spte;
  EXPECT_TRUE(backend_.clear_dirty_slot(0, 0x100));
  EXPECT_EQ(walk(0x10).spte, before & ~kWrite);
}

TEST_F(Linux612Tdp, ClearDirtyMaskedTouchesOnlyTheMaskedPages) {
  start();
  for (uint64_t i = 0; i < 4; ++i)
    ASSERT_EQ(fault(0x40 + i, 0x80 + i, true, false, 1), kRetPfFixed);
  backend_.clear_dirty_masked(0, 0x100, 0x40, 0b0101, /*wrprot=*/false);
  EXPECT_EQ(walk(0x40).spte, leaf_for(0x80, 1, false));
  EXPECT_EQ(walk(0x41).spte, leaf_for(0x81, 1, true));
  EXPECT_EQ(walk(0x42).spte, leaf_for(0x82, 1, false));
  EXPECT_EQ(walk(0x43).spte, leaf_for(0x83, 1, true));
  backend_.clear_dirty_masked(0, 0x100, 0x40, 0b1000, /*wrprot=*/true);
  EXPECT_EQ(walk(0x43).spte, leaf_for(0x83, 1, true) & ~kWrite);
  EXPECT_EQ(backend_.stats().pfn_dirty, 3u);
}

// ---- Aging
// ---------------------------------------------------------------------------------------

TEST_F(Linux612Tdp, AgeClearsAccessedAndTestAgeSeesIt) {
  start();
  ASSERT_EQ(fault(0x10, 0x20, true, false, 1), kRetPfFixed);
  ASSERT_EQ(fault(0x11, 0x21, true, false, 1), kRetPfFixed);
  EXPECT_TRUE(backend_.test_age_gfn(0x10));
  EXPECT_TRUE(backend_.age_gfn_range(0x10, 0x11));
  EXPECT_EQ(walk(0x10).spte, leaf_for(0x20, 1, true) & ~kAccessed);
  EXPECT_TRUE(walk(0x11).spte & kAccessed);
  EXPECT_FALSE(backend_.test_age_gfn(0x10));
  EXPECT_TRUE(backend_.test_age_gfn(0x11));
  EXPECT_FALSE(backend_.age_gfn_range(0x10, 0x11));
  // Aging issues no TLB flush on x86 (the notifier's caller decides).
  EXPECT_TRUE(effects_of(EffectKind::TlbiIpa).empty());
}

// ---- Splits and recovery
// -------------------------------------------------------------------------

TEST_F(Linux612Tdp, Split2MInto4K) {
  x86::EptConfig c = default_config();
  c.host_level = 2;
  start(c);
  ASSERT_EQ(fault(0x400, 0x800, true), kRetPfFixed);
  backend_.split_huge_pages(0, 0x1000, 0x400, 0x600, 1);
  for (uint64_t i = 0; i < kPagesPer2M; ++i) {
    Leaf l = walk(0x400 + i);
    ASSERT_EQ(l.level, 1u) << i;
    ASSERT_EQ(l.spte, leaf_for(0x800 + i, 1, true)) << i << std::hex << " " << l.spte;
  }
  EXPECT_EQ(backend_.stats().leaf_pages[0], 512);
  EXPECT_EQ(backend_.stats().leaf_pages[1], 0);
}

TEST_F(Linux612Tdp, Split1GInto4K) {
  start();
  ASSERT_EQ(fault(kPagesPer1G, 2 * kPagesPer1G, true), kRetPfFixed);
  backend_.split_huge_pages(0, 4 * kPagesPer1G, kPagesPer1G, 2 * kPagesPer1G, 1);
  for (uint64_t i :
       {uint64_t{0}, uint64_t{1}, uint64_t{511}, uint64_t{512}, uint64_t{12345}, kPagesPer1G - 1}) {
    Leaf l = walk(kPagesPer1G + i);
    ASSERT_EQ(l.level, 1u) << i;
    EXPECT_EQ(l.spte, leaf_for(2 * kPagesPer1G + i, 1, true)) << i;
  }
  // root, 512G table, 1G table, 512 2M tables.
  EXPECT_EQ(machine_.memory.live_pages(), 3u + 512u);
  EXPECT_EQ(backend_.stats().leaf_pages[0], int64_t(kPagesPer1G));
}

TEST_F(Linux612Tdp, SplitTo2MStopsThere) {
  start();
  ASSERT_EQ(fault(0, 0, true), kRetPfFixed);
  backend_.split_huge_pages(0, kPagesPer1G, 0, kPagesPer1G, 2);
  EXPECT_EQ(walk(0).level, 2u);
  EXPECT_EQ(walk(kPagesPer1G - 1).spte, leaf_for(kPagesPer1G - kPagesPer2M, 2, true));
}

TEST_F(Linux612Tdp, ZapCollapsibleRecoversHugePagesTheSlotAllows) {
  x86::EptConfig c = default_config();
  c.host_level = 2;
  start(c);
  ASSERT_EQ(fault(0x400, 0x800, true), kRetPfFixed);
  backend_.split_huge_pages(0, 0x1000, 0x400, 0x600, 1);
  ASSERT_EQ(walk(0x400).level, 1u);
  // A slot whose head 2M is partial keeps it small.
  backend_.zap_collapsible(0x401, 0x1000);
  EXPECT_TRUE(walk(0x400).present);
  machine_.effects.clear();
  backend_.zap_collapsible(0, 0x1000);
  Leaf l = walk(0x400);
  EXPECT_FALSE(l.present);
  EXPECT_EQ(l.level, 2u);
  auto flushes = effects_of(EffectKind::TlbiIpa);
  ASSERT_EQ(flushes.size(), 1u);
  EXPECT_EQ(flushes[0].addr, uint64_t{0x400} << kPageShift);
  EXPECT_EQ(flushes[0].level, 2u);
  EXPECT_EQ(fault(0x400, 0x800, true), kRetPfFixed);
  EXPECT_EQ(walk(0x400).level, 2u);
}

TEST_F(Linux612Tdp, WriteProtectGfnClearsWritableAndMmuWritable) {
  start();
  ASSERT_EQ(fault(0x10, 0x20, true, false, 1), kRetPfFixed);
  EXPECT_TRUE(backend_.write_protect_gfn(0, 0x100, 0x10, 1));
  EXPECT_EQ(walk(0x10).spte, leaf_for(0x20, 1, true) & ~(kWrite | kMmuWritable));
  EXPECT_FALSE(backend_.write_protect_gfn(0, 0x100, 0x10, 1));
}

// ---- Roots
// -------------------------------------------------------------------------------------------

TEST_F(Linux612Tdp, FiveLevelRootTranslates57Bits) {
  x86::EptConfig c = default_config();
  c.levels = 5;
  c.maxphyaddr = 52;
  c.slot_base = uint64_t{1} << 50;
  c.slot_size = uint64_t{1} << 30;
  start(c);
  TableRoot r = backend_.root();
  EXPECT_EQ(r.ia_bits, 57u);
  EXPECT_EQ(r.start_level, 0u);
  EXPECT_EQ(r.pgd_pages, 1u);
  EXPECT_FALSE(r.fwb);
  EXPECT_EQ(r.format, &linux612_tdp_table_format(c));
  uint64_t gfn = (uint64_t{1} << 50 >> kPageShift) + 3;
  EXPECT_EQ(fault(gfn, 0x1003, true, false, 1), kRetPfFixed);
  Leaf l = walk(gfn);
  EXPECT_EQ(l.level, 1u);
  EXPECT_EQ(l.spte, leaf_for(0x1003, 1, true));
  EXPECT_EQ(backend_.stats().table_pages, 4);
}

TEST_F(Linux612Tdp, FourLevelRoot) {
  start();
  TableRoot r = backend_.root();
  EXPECT_EQ(r.ia_bits, 48u);
  EXPECT_EQ(r.pgd_pa, machine_.memory.live_page_list().front());
  EXPECT_LT(r.pgd_pa, uint64_t{1} << 46);
  const uint64_t* root = page(r.pgd_pa);
  for (unsigned i = 0; i < kEntriesPerTable; ++i) ASSERT_EQ(root[i], kNonPresent) << i;
}

// ---- The effect log
// -------------------------------------------------------------------------------

// Replays the store log over zeroed memory: each store's old value must be what the log says
// the entry held, and the result must be the live table.
void expect_log_replays(const Machine& machine, bool check_old) {
  std::map<uint64_t, uint64_t> replay;
  size_t stores = 0;
  for (const Effect& e : machine.effects.events()) {
    if (e.kind != EffectKind::Store) continue;
    ++stores;
    uint64_t& v = replay[e.addr];
    if (check_old) {
      ASSERT_EQ(e.old_value, v) << std::hex << e.addr << " store " << std::dec << stores;
    }
    v = e.new_value;
  }
  ASSERT_GT(stores, 0u);
  for (uint64_t pa : machine.memory.live_page_list()) {
    const uint64_t* entries = machine.memory.table_page(pa);
    for (unsigned i = 0; i < kEntriesPerTable; ++i) {
      auto it = replay.find(pa + 8 * i);
      ASSERT_EQ(entries[i], it == replay.end() ? 0 : it->second) << std::hex << pa + 8 * i;
    }
  }
}

TEST_F(Linux612Tdp, StoreLogHasExactOldValuesAndReplaysToTheTable) {
  x86::EptConfig c = default_config();
  c.host_level = 2;
  start(c);
  ASSERT_EQ(fault(0x10, 0x20, true, false, 1), kRetPfFixed);
  ASSERT_EQ(fault(0x400, 0x800, true), kRetPfFixed);
  ASSERT_EQ(fault(0x600, 0xa00), kRetPfFixed);
  backend_.split_huge_pages(0, 0x1000, 0x400, 0x600, 1);
  EXPECT_TRUE(backend_.wrprot_slot(0, 0x1000, 1));
  EXPECT_TRUE(backend_.age_gfn_range(0, 0x1000));
  ASSERT_EQ(fault(0x11, 0x21, true, false, 1), kRetPfFixed);
  EXPECT_TRUE(backend_.clear_dirty_slot(0, 0x1000));
  backend_.clear_dirty_masked(0, 0x1000, 0x400, 0xff, true);
  EXPECT_TRUE(backend_.write_protect_gfn(0, 0x1000, 0x11, 1));
  uint64_t mmio = (uint64_t{8} << 30) >> kPageShift;
  ASSERT_EQ(fault(mmio, 0), kRetPfEmulate);
  expect_log_replays(machine_, /*check_old=*/true);
}

TEST_F(Linux612Tdp, StoreLogReplaysAcrossZapsAndFreedTables) {
  x86::EptConfig c = default_config();
  c.host_level = 2;
  start(c);
  ASSERT_EQ(fault(0x400, 0x800, true), kRetPfFixed);
  backend_.split_huge_pages(0, 0x1000, 0x400, 0x600, 1);
  backend_.zap_collapsible(0, 0x1000);
  ASSERT_EQ(fault(0x10, 0x20, true, false, 1), kRetPfFixed);
  EXPECT_TRUE(backend_.zap_leafs(0, 0x20));
  backend_.zap_all();
  ASSERT_EQ(fault(0x410, 0x810, true, false, 1), kRetPfFixed);
  ASSERT_EQ(fault(kPagesPer1G, kPagesPer1G, true), kRetPfFixed);
  // Table pages were freed and reused: their first store after reuse starts from zero, so only
  // the end state is compared.
  expect_log_replays(machine_, /*check_old=*/false);
  // A zapped table's entries are frozen before it is freed, each recorded.
  bool frozen = false;
  for (const Effect& e : effects_of(EffectKind::Store)) frozen |= e.new_value == kFrozen;
  EXPECT_TRUE(frozen);
}

// ---- The kernel's reserved-bit check
// ---------------------------------------------------------------

TEST(Linux612SpteCheck, MaskIsTheKernelsForTheConfiguration) {
  auto check = linux612::ept_shadow_zero_check(46, false, 4, 3);
  uint64_t high = genmask(51, 46);
  EXPECT_EQ(check.rsvd_bits_mask[0][0], high);                    // 4K leaf
  EXPECT_EQ(check.rsvd_bits_mask[0][3], high | genmask(7, 3));    // PML4E
  EXPECT_EQ(check.rsvd_bits_mask[1][1], high | genmask(20, 12));  // 2M leaf
  EXPECT_EQ(check.rsvd_bits_mask[1][2], high | genmask(29, 12));  // 1G leaf
  EXPECT_TRUE(check.bad_mt_xwr & bit(0b100));                     // X only: no execonly
  EXPECT_FALSE(linux612::ept_shadow_zero_check(46, true, 4, 3).bad_mt_xwr & bit(0b100));
  // Without 1G pages, bit 7 in a PDPTE is reserved.
  EXPECT_TRUE(linux612::ept_shadow_zero_check(46, false, 4, 2).rsvd_bits_mask[1][2] & kLargePage);
  EXPECT_EQ(linux612::ept_shadow_zero_check(52, false, 5, 3).rsvd_bits_mask[0][0], 0u);
  EXPECT_THROW(linux612::ept_shadow_zero_check(46, false, 3, 3), std::invalid_argument);
}

TEST(Linux612SpteCheck, CatchesBadSptes) {
  auto check = linux612::ept_shadow_zero_check(40, false, 4, 3);
  uint64_t good = leaf_for(0x20, 1, true);
  EXPECT_FALSE(linux612::is_rsvd_spte(check, good, 1));
  EXPECT_TRUE(linux612::is_rsvd_spte(check, good | bit(45), 1));  // above MAXPHYADDR
  EXPECT_TRUE(linux612::is_rsvd_spte(check, (good & ~kMemTypeMask) | (2u << 3), 1));  // MT 2
  EXPECT_TRUE(linux612::is_rsvd_spte(check, (good & ~kRwxMask) | kWrite, 1));         // W without R
  EXPECT_TRUE(linux612::is_rsvd_spte(check, leaf_for(0x201, 2, true), 2));  // unaligned 2M
  EXPECT_FALSE(linux612::is_rsvd_spte(check, leaf_for(0x200, 2, true), 2));
}

TEST_F(Linux612Tdp, EverySpteTheKernelWroteHasNoReservedBit) {
  x86::EptConfig c = default_config();
  c.maxphyaddr = 36;  // table pages at 4 GiB are still below 2^36
  c.slot_size = uint64_t{16} << 30;
  start(c);
  auto check = linux612::ept_shadow_zero_check(c.maxphyaddr, false, c.levels, c.max_level);
  ASSERT_EQ(fault(0x10, 0x20, true, false, 1), kRetPfFixed);
  ASSERT_EQ(fault(kPagesPer1G, kPagesPer1G, true), kRetPfFixed);
  ASSERT_EQ(fault(2 * kPagesPer1G, 2 * kPagesPer1G), kRetPfFixed);
  backend_.split_huge_pages(0, 4 * kPagesPer1G, 2 * kPagesPer1G, 2 * kPagesPer1G + 1024, 1);
  EXPECT_TRUE(backend_.age_gfn_range(0, 4 * kPagesPer1G));
  auto sptes = all_present_sptes();
  ASSERT_GT(sptes.size(), 1000u);
  for (auto [spte, level] : sptes)
    ASSERT_FALSE(linux612::is_rsvd_spte(check, spte, level)) << std::hex << spte << " " << level;
  // The kernel's own WARN in make_spte (is_rsvd_spte against shadow_zero_check) never fired:
  // TearDown checks that no warning was reported.
}

// ---- Random streams
// ----------------------------------------------------------------------------------

// Random configurations and operation streams: the kernel never warns, every SPTE it writes
// passes its own reserved-bit check, the store log replays to the table, and teardown frees
// every page. Guest memory maps gfn to gfn + 1G, so pfns are congruent with gfns at every size
// and a gfn never changes pfn (both would be BUGs in KVM's callers, not in the TDP MMU).
TEST_F(Linux612Tdp, RandomStreamsKeepEveryInvariant) {
  const size_t streams = testing::sanitizer_scaled(200);
  std::mt19937_64 rng(612);
  auto pick = [&](uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng); };
  constexpr unsigned kPhysBits[] = {36, 40, 46, 52};
  std::map<int, size_t> results;
  size_t stores = 0, peak_pages = 0, huge_leaves = 0;
  for (size_t stream = 0; stream < streams; ++stream) {
    x86::EptConfig c;
    c.maxphyaddr = kPhysBits[pick(4)];
    c.levels = c.maxphyaddr > 48 && pick(2) ? 5 : 4;
    c.ad = pick(2);
    c.execonly = pick(2);
    c.nx_huge_pages = pick(2);
    c.max_level = static_cast<uint8_t>(1 + pick(3));
    c.host_level = static_cast<uint8_t>(1 + pick(3));
    c.slot_base = pick(2) ? 0 : 0x20'0000 * pick(3) + 0x1000 * pick(2);
    c.slot_size = (uint64_t{2} << 30) - c.slot_base;
    machine_.effects.clear();
    ASSERT_EQ(backend_.init(c), 0);
    config_ = c;
    const uint64_t slot_gfn = c.slot_base >> kPageShift;
    const uint64_t slot_pages = c.slot_size >> kPageShift;
    // A few hot 4 MiB windows, so operations meet each other's pages; one of them is MMIO.
    auto gfn = [&] {
      static constexpr uint64_t kWindows[] = {0, kPagesPer1G - 1024, kPagesPer1G, 2 * kPagesPer1G};
      return kWindows[pick(4)] + pick(1024);
    };
    for (int op = 0; op < 120; ++op) {
      uint64_t g = gfn();
      switch (pick(12)) {
        case 0:
        case 1:
        case 2: {
          x86::TdpFault f{.gfn = g,
                          .pfn = g + kPagesPer1G,
                          .max_level = static_cast<uint8_t>(1 + pick(3)),
                          .write = bool(pick(2)),
                          .exec = bool(pick(2)),
                          .prefetch = pick(5) == 0,
                          .map_writable = pick(4) != 0,
                          .dirty_logging = pick(5) == 0};
          int r = backend_.fault(f);
          ++results[r];
          ASSERT_TRUE(r == kRetPfFixed || r == kRetPfSpurious || r == kRetPfEmulate) << r;
          break;
        }
        case 3:
          (void)backend_.zap_leafs(g, g + 1 + pick(kPagesPer2M));
          break;
        case 4:
          if (pick(4) == 0) backend_.zap_all();
          break;
        case 5:
          (void)backend_.wrprot_slot(slot_gfn, slot_pages, 1 + pick(3));
          break;
        case 6:
          (void)backend_.clear_dirty_slot(slot_gfn, slot_pages);
          break;
        case 7:
          backend_.clear_dirty_masked(slot_gfn, slot_pages, g & ~uint64_t{63}, rng(), pick(2));
          break;
        case 8:
          (void)backend_.age_gfn_range(g, g + 1 + pick(kPagesPer2M));
          (void)backend_.test_age_gfn(g);
          break;
        case 9:
          backend_.split_huge_pages(slot_gfn, slot_pages, g, g + 1 + pick(1024), 1 + pick(2));
          break;
        case 10:
          backend_.zap_collapsible(slot_gfn, slot_pages);
          break;
        case 11:
          (void)backend_.write_protect_gfn(slot_gfn, slot_pages, g, 1 + pick(3));
          break;
      }
      ASSERT_EQ(backend_.take_warnings(), std::vector<std::string>{})
          << "stream " << stream << " op " << op;
    }
    auto check = linux612::ept_shadow_zero_check(c.maxphyaddr, false, c.levels, c.max_level);
    stores += effects_of(EffectKind::Store).size();
    peak_pages = std::max(peak_pages, machine_.memory.peak_pages());
    huge_leaves += backend_.stats().leaf_pages[1] + backend_.stats().leaf_pages[2];
    for (auto [spte, level] : all_present_sptes())
      ASSERT_FALSE(linux612::is_rsvd_spte(check, spte, level)) << std::hex << spte;
    expect_log_replays(machine_, /*check_old=*/false);
    backend_.destroy();
    ASSERT_EQ(machine_.memory.live_pages(), 0u) << "stream " << stream;
    ASSERT_TRUE(machine_.memory.faults().empty()) << "stream " << stream;
  }
  // The streams did reach what they are for: new SPTEs, MMIO, no-ops, huge pages, tables.
  EXPECT_GT(results[kRetPfFixed], streams * 10);
  EXPECT_GT(results[kRetPfEmulate], 0u);
  EXPECT_GT(results[kRetPfSpurious], 0u);
  EXPECT_GT(huge_leaves, 0u);
  EXPECT_GT(peak_pages, 10u);
  RecordProperty("stores", std::to_string(stores));
  std::printf("faults fixed %zu emulate %zu spurious %zu, %zu stores, peak %zu pages\n",
              results[kRetPfFixed], results[kRetPfEmulate], results[kRetPfSpurious], stores,
              peak_pages);
}

#endif  // MMUDIFF_HAVE_LINUX612_TDP

}  // namespace
}  // namespace mmudiff

// SPDX-License-Identifier: GPL-2.0-only
// The linux612 backend, Linux 6.12's arm64 pgtable.c: where its kernel code came from; what each
// operation leaves in the table, read back both through the kernel's own get_leaf and through the
// oracles' architectural walk; and the differential run against linux61 on random streams of the
// operations 6.1 and 6.12 do alike (KERNELS.md), with the places where they differ checked as
// 6.12 behaves.
//
// The differential run takes its size from the environment, as linux61_test's does:
//   MMUDIFF_DIFF_STREAMS=20000 MMUDIFF_DIFF_SEED=2 linux612_test --gtest_filter='*Differential*'
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "mmu/backend.h"
#include "mmu/format/arm64_s2.h"
#include "mmu/ops/random_stream.h"
#include "mmu/ops/text_format.h"
#include "oracles/arch_walk.h"
#include "oracles/table_hash.h"
#include "tests/effects_of_kind.h"
#include "tests/env_knob.h"
#include "tests/kernel_backend_checks.h"
#include "tests/kernel_source_check.h"
#include "tests/sanitizer_scale.h"
#include "tests/table_reader.h"

#ifdef MMUDIFF_HAVE_LINUX612
#include "mmu/linux612/linux612_adapter.h"
#include "mmu/linux612/linux612_backend.h"
#endif
#ifdef MMUDIFF_HAVE_LINUX61
#include "mmu/linux61/linux61_backend.h"
#endif

namespace mmudiff {
namespace {

#ifndef MMUDIFF_HAVE_LINUX612

TEST(Linux612, NotBuilt) {
  GTEST_SKIP() << "configured with -DMMUDIFF_LINUX612_ARM64=OFF";
}

#else

using namespace arm64s2;
using mmudiff::testing::env_u64;

constexpr uint64_t K4 = 0x1000;
constexpr uint64_t M2 = 0x20'0000;
constexpr uint64_t G1 = 0x4000'0000;
constexpr uint64_t kProtRW = prot::kR | prot::kW;
constexpr uint64_t kProtRWX = prot::kR | prot::kW | prot::kX;
// What every leaf 6.12 writes for normal memory carries besides OA and S2AP (without FWB):
// valid, MemAttr normal, SH inner-shareable, AF.
constexpr uint64_t kNormalLeafBits =
    kValid | (kMemAttrNormal << kMemAttrShift) | (kShInner << kShShift) | kAf;

// ---- Where the code came from ----------------------------------------------------------------

TEST(Linux612Source, RecordsPackageVersionAndHashesOfTheCompiledFiles) {
  const KernelSourceInfo& info = linux612_arm64_source_info();
  EXPECT_EQ(info.package, "linux-source-6.12");
  EXPECT_FALSE(info.package_version.empty());
  EXPECT_NE(info.package_version, "unknown");
  ASSERT_EQ(info.files.size(), 5u);
  std::set<std::string_view> paths;
  for (const KernelSourceFile& f : info.files) {
    paths.insert(f.path);
    ASSERT_EQ(f.sha256.size(), 64u) << f.path;
    // The recorded hash is the hash of the file that was compiled.
    EXPECT_EQ(mmudiff::testing::sha256_of_file(std::string(info.tree) + "/" + std::string(f.path)),
              f.sha256)
        << f.path;
  }
  EXPECT_EQ(paths, (std::set<std::string_view>{
                       "arch/arm64/kvm/hyp/pgtable.c", "arch/arm64/include/asm/kvm_pgtable.h",
                       "arch/arm64/include/asm/kvm_arm.h", "arch/arm64/include/asm/pgtable-hwdef.h",
                       "arch/arm64/include/asm/stage2_pgtable.h"}));
  EXPECT_NE(info.tree.find("linux-source-6.12"), std::string_view::npos) << info.tree;
  EXPECT_NE(info.summary().find("pgtable.c:"), std::string::npos) << info.summary();
#ifdef MMUDIFF_HAVE_LINUX61
  // Another kernel's file, not 6.1's again.
  EXPECT_NE(info.files[0].sha256, linux61_source_info().files[0].sha256);
#endif
  if (!info.matches_tested())
    GTEST_SKIP() << "kernel files differ from the tested ones: " << info.summary();
}

TEST(Linux612Source, NoKernelFileIsInTheRepository) {
  auto tracked = mmudiff::testing::git_lines("ls-files");
  auto untracked = mmudiff::testing::git_lines("ls-files --others --exclude-standard");
  if (!tracked || !untracked) GTEST_SKIP() << "no git repository at " << MMUDIFF_SOURCE_DIR;
  EXPECT_FALSE(tracked->empty());
  const std::set<std::string> kernel_names = {"pgtable.c", "kvm_pgtable.h", "kvm_arm.h",
                                              "pgtable-hwdef.h", "stage2_pgtable.h"};
  for (const auto* list : {&*tracked, &*untracked}) {
    for (const std::string& path : *list) {
      EXPECT_FALSE(kernel_names.count(path.substr(path.rfind('/') + 1)))
          << path << " looks like a kernel file";
      EXPECT_EQ(path.find("linux-source-6.12/"), std::string::npos) << path;
    }
  }
  std::string tree(linux612_arm64_source_info().tree);
  if (tree.rfind(MMUDIFF_SOURCE_DIR, 0) == 0) {
    EXPECT_TRUE(mmudiff::testing::git_lines(fmt::format("check-ignore -q '{}'", tree)).has_value())
        << tree;
  }
}

// ---- One table, read back two ways -----------------------------------------------------------

Arm64S2Config config_with(uint8_t ia_bits, bool fwb = false, bool tlb_range = false) {
  Arm64S2Config c;
  c.ia_bits = ia_bits;
  c.fwb = fwb;
  c.kernel = Arm64Kernel::Linux612;
  c.tlb_range = tlb_range;
  return c;
}

class Linux612 : public ::testing::Test {
 protected:
  void start(const Arm64S2Config& config = config_with(40)) {
    backend_ = make_linux612_backend(machine_, Plant::kNone);
    ASSERT_EQ(backend_->init(config), 0);
  }

  void TearDown() override {
    if (!backend_) return;
    EXPECT_EQ(backend_->take_warnings(), std::vector<std::string>{});
    backend_->destroy();
    machine_.memory.report_leaks();
    machine_.memory.check_freed_pages();
    EXPECT_EQ(machine_.memory.live_pages(), 0u);
    for (const MemoryFault& f : machine_.memory.faults())
      ADD_FAILURE() << memory_fault_name(f.kind) << ": " << f.detail;
  }

  int map(uint64_t addr, uint64_t size, uint64_t pa, uint64_t prot) {
    Memcache mc(machine_.memory, 16);
    return backend_->map(addr, size, pa, prot, &mc);
  }

  struct Leaf {
    int ret = -1;
    uint64_t pte = 0;
    uint32_t level = 0;
  };
  Leaf leaf(uint64_t addr) {
    Leaf l;
    l.ret = backend_->get_leaf(addr, &l.pte, &l.level);
    return l;
  }

  // What the architecture translates, from the table alone.
  std::vector<Mapping> translation() {
    ArchWalk w = arch_walk(backend_->root(), machine_.memory);
    EXPECT_EQ(w.anomalies, std::vector<std::string>{});
    return w.translation.mappings;
  }

  std::vector<Effect> effects_of(EffectKind kind) const {
    return mmudiff::testing::effects_of_kind(machine_.effects, kind);
  }

  Machine machine_;
  std::unique_ptr<Arm64S2Backend> backend_;
};

TEST_F(Linux612, InitTakesItsGeometryFromTheKernelsVtcr) {
  for (unsigned ia = kMinIaBits; ia <= kMaxIaBits; ++ia) {
    SCOPED_TRACE(fmt::format("ia_bits {}", ia));
    const uint64_t vtcr = l612a_api()->vtcr_for(ia, false);
    EXPECT_EQ(vtcr & 0x3f, 64 - ia);  // T0SZ
    EXPECT_EQ((vtcr >> 16) & 7, 5u);  // PS: 48 bits
    EXPECT_EQ((vtcr >> 32) & 1, 0u);  // DS: no LPA2
    // With FEAT_LPA2: PARange 52 bits and DS, the same levels and start level.
    const uint64_t lpa2_vtcr = l612a_api()->vtcr_for(ia, true);
    EXPECT_EQ((lpa2_vtcr >> 16) & 7, 6u);  // PS: 52 bits
    EXPECT_EQ((lpa2_vtcr >> 32) & 1, 1u);  // DS
    EXPECT_EQ(lpa2_vtcr & ~(uint64_t{7} << 16) & ~(uint64_t{1} << 32), vtcr & ~(uint64_t{7} << 16));
    start(config_with(static_cast<uint8_t>(ia)));
    const TableRoot r = backend_->root();
    const Geometry g = geometry_for(ia);
    EXPECT_EQ(r.ia_bits, ia);
    EXPECT_EQ(r.start_level, 2 - ((vtcr >> 6) & 3));  // SL0, 4 KiB granule
    EXPECT_EQ(r.start_level, g.start_level);
    EXPECT_EQ(r.pgd_pages, g.pgd_pages);
    EXPECT_EQ(machine_.memory.live_pages(), g.pgd_pages);
    backend_->destroy();
    EXPECT_EQ(machine_.memory.live_pages(), 0u);
  }
  EXPECT_EQ(backend_->init(config_with(31)), -EINVAL);
  EXPECT_EQ(backend_->init(config_with(49)), -EINVAL);
}

// Every descriptor write, the new cmpxchg of shared walks (mkyoung, relax_perms) and the locked
// entries of break-before-make included, is a Store with the old value that was really there.
TEST(Linux612Shim, EveryDescriptorWriteIsRecorded) {
  std::mt19937_64 rng(env_u64("MMUDIFF_DIFF_SEED", 1) ^ 0x612);
  size_t stores = 0;
  for (size_t s = 0; s < mmudiff::testing::sanitizer_scaled(300); ++s) {
    const Stream stream = random_stream(rng);
    Machine m;
    auto b = make_linux612_backend(m, Plant::kNone);
    const std::string problem = mmudiff::testing::first_unrecorded_write(*b, m, stream, &stores);
    ASSERT_EQ(problem, "") << "stream " << s << "\n" << format_stream(stream);
    const std::vector<std::string> faults = mmudiff::testing::destroy_and_check(*b, m);
    ASSERT_TRUE(faults.empty()) << faults.front() << "\n" << format_stream(stream);
  }
  EXPECT_GT(stores, mmudiff::testing::sanitizer_scaled(1000));
}

// Instances are independent, interleaved or on threads (the RCU read-side count is per thread).
std::unique_ptr<Arm64S2Backend> make_linux612(Machine& m) {
  return make_linux612_backend(m, Plant::kNone);
}

TEST(Linux612Shim, InstancesInterleavedBehaveAsAlone) {
  const std::vector<Stream> streams = mmudiff::testing::some_streams(7, 24);
  const std::vector<size_t> differ =
      mmudiff::testing::interleaved_differences(make_linux612, streams);
  EXPECT_EQ(differ, std::vector<size_t>{});
  if (!differ.empty()) ADD_FAILURE() << format_stream(streams[differ[0]]);
}

TEST(Linux612Shim, InstancesOnSeveralThreadsBehaveAsAlone) {
  const std::vector<Stream> streams = mmudiff::testing::some_streams(11, 64);
  EXPECT_EQ(mmudiff::testing::threaded_differences(make_linux612, streams, 4),
            std::vector<size_t>{});
}

// Random streams of every operation: the refcounts stay the kernel's (1 + non-zero entries), no
// page is live that the table does not reach, and destroy leaves no leak or fault. The only
// WARN_ONs are test_clear_young's, for aging beyond the IPA space, and the IDMAP check of map.
TEST(Linux612Shim, RandomStreamsLeaveNoLeakOrFault) {
  std::mt19937_64 rng(3);
  size_t live_tables = 0;
  for (size_t s = 0; s < mmudiff::testing::sanitizer_scaled(500); ++s) {
    const Stream stream = random_stream(rng);
    Machine m;
    auto b = make_linux612_backend(m, Plant::kNone);
    for (const Op& op : stream) apply_op(*b, m, op);
    const mmudiff::testing::Walked w = mmudiff::testing::walk(*b, m.memory);
    live_tables += w.pages;
    EXPECT_TRUE(w.problems.empty()) << "stream " << s << ": " << w.problems.front() << "\n"
                                    << format_stream(stream);
    for (const std::string& warning : b->take_warnings())
      EXPECT_TRUE(warning.find("kvm_pgtable_walk(pgt, addr, size, &walker)") != std::string::npos ||
                  warning.find("KVM_PGTABLE_S2_IDMAP") != std::string::npos)
          << warning << "\n"
          << format_stream(stream);
    const std::vector<std::string> faults = mmudiff::testing::destroy_and_check(*b, m);
    ASSERT_TRUE(faults.empty()) << faults.front() << "\n" << format_stream(stream);
    EXPECT_EQ(m.memory.live_pages(), 0u);
  }
  EXPECT_GT(live_tables, mmudiff::testing::sanitizer_scaled(500));
}

TEST_F(Linux612, MapWritesBlocksAndPagesAtTheirOutputAddresses) {
  start();
  const uint64_t pa = 0x8000'0000;
  // 2 MiB + 8 KiB from a 2 MiB-aligned IPA and PA: one level-2 block, then two level-3 pages.
  ASSERT_EQ(map(G1, M2 + 2 * K4, pa, kProtRW), 0);
  Leaf block = leaf(G1 + 0x1234);
  EXPECT_EQ(block.ret, 0);
  EXPECT_EQ(block.level, 2u);
  EXPECT_EQ(block.pte, pa | kNormalLeafBits | kS2apR | kS2apW | kXn) << std::hex << block.pte;
  Leaf page = leaf(G1 + M2 + K4);
  EXPECT_EQ(page.level, 3u);
  EXPECT_EQ(page.pte, (pa + M2 + K4) | kTypeBit | kNormalLeafBits | kS2apR | kS2apW | kXn)
      << std::hex << page.pte;
  const uint64_t attrs = (kNormalLeafBits | kS2apR | kS2apW | kXn) & kTranslationAttrMask;
  EXPECT_EQ(translation(), (std::vector<Mapping>{{G1, M2 + 2 * K4, pa, attrs}}));

  // A PA that is not 2 MiB aligned gets pages only, each at its offset from the start.
  ASSERT_EQ(map(4 * G1, M2, pa + K4, prot::kR | prot::kX), 0);
  EXPECT_EQ(leaf(4 * G1).level, 3u);
  Leaf last = leaf(4 * G1 + M2 - K4);
  EXPECT_EQ(last.level, 3u);
  EXPECT_EQ(output_address(last.pte), pa + M2);
  EXPECT_EQ(last.pte & (kS2apW | kXn), 0u);
  const std::vector<Mapping> t = translation();
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[1],
            (Mapping{4 * G1, M2, pa + K4, (kNormalLeafBits | kS2apR) & kTranslationAttrMask}));
}

TEST_F(Linux612, DeviceMemoryAndFwbChooseTheMemAttr) {
  start(config_with(40, /*fwb=*/true));
  ASSERT_EQ(map(G1, K4, G1, kProtRW), 0);
  ASSERT_EQ(map(2 * G1, K4, 2 * G1, kProtRW | prot::kDevice), 0);
  EXPECT_EQ((leaf(G1).pte & kMemAttrMask) >> kMemAttrShift, kMemAttrNormalFwb);
  EXPECT_EQ((leaf(2 * G1).pte & kMemAttrMask) >> kMemAttrShift, kMemAttrDeviceFwb);
  // Device memory is never executable; normal non-cacheable (prot bit 4) with X is refused too.
  EXPECT_EQ(map(3 * G1, K4, 3 * G1, kProtRWX | prot::kDevice), -EINVAL);
  EXPECT_EQ(map(3 * G1, K4, 3 * G1, kProtRWX | bit(4)), -EINVAL);
  EXPECT_EQ(leaf(3 * G1).pte, 0u);
}

TEST_F(Linux612, UnmapDropsEveryOverlappedLeafWholeAndFreesEmptyTables) {
  start();
  ASSERT_EQ(map(G1, 2 * M2, G1, kProtRW), 0);
  ASSERT_EQ(map(G1 + 2 * M2, K4, 0x1234'5000, kProtRW), 0);
  const size_t pages_mapped = machine_.memory.live_pages();
  // A 4 KiB unmap inside the first block drops the whole block, not just the page.
  ASSERT_EQ(backend_->unmap(G1 + M2 - K4, K4), 0);
  EXPECT_EQ(leaf(G1).pte, 0u);
  EXPECT_EQ(translation().size(), 2u);  // the other block, the page
  EXPECT_EQ(translation()[0],
            (Mapping{G1 + M2, M2, G1 + M2,
                     (kNormalLeafBits | kS2apR | kS2apW | kXn) & kTranslationAttrMask}));
  // Unmapping the rest empties the level-2 and level-3 tables, which are freed.
  ASSERT_EQ(backend_->unmap(G1, G1), 0);
  EXPECT_TRUE(translation().empty());
  // The level-2 and level-3 tables are freed; the level-1 PGD pages stay.
  EXPECT_EQ(pages_mapped, backend_->root().pgd_pages + 2u);
  EXPECT_EQ(machine_.memory.live_pages(), backend_->root().pgd_pages);
  EXPECT_EQ(backend_->unmap(bit(40), K4), -ERANGE);
}

TEST_F(Linux612, WrprotectAndRelaxPermsChangeWholeLeavesInPlace) {
  start();
  ASSERT_EQ(map(G1, M2, G1, kProtRWX), 0);
  ASSERT_EQ(backend_->wrprotect(G1 + 5 * K4, K4), 0);
  Leaf ro = leaf(G1);
  EXPECT_EQ(ro.level, 2u);
  EXPECT_EQ(ro.pte, G1 | kNormalLeafBits | kS2apR) << std::hex << ro.pte;
  EXPECT_EQ(
      translation(),
      (std::vector<Mapping>{{G1, M2, G1, (kNormalLeafBits | kS2apR) & kTranslationAttrMask}}));
  // A store over the same entry, no break-before-make.
  EXPECT_EQ(effects_of(EffectKind::Store).back().old_value, ro.pte | kS2apW);
  EXPECT_TRUE(effects_of(EffectKind::TlbiIpa).empty());

  machine_.effects.clear();
  ASSERT_EQ(backend_->relax_perms(G1 + 7 * K4, prot::kW), 0);
  EXPECT_EQ(leaf(G1).pte, ro.pte | kS2apW);
  // relax_perms ends with a (non-broadcast) TLBI by IPA at the level of the leaf.
  ASSERT_EQ(effects_of(EffectKind::TlbiIpa).size(), 1u);
  EXPECT_EQ(effects_of(EffectKind::TlbiIpa)[0].addr, G1 + 7 * K4);
  EXPECT_EQ(effects_of(EffectKind::TlbiIpa)[0].level, 2u);
  EXPECT_EQ(backend_->relax_perms(G1, prot::kSwMask & bit(55)), -EINVAL);

  // Removing execute permission is not relaxing: a map with only X dropped is -EAGAIN in the
  // visitor and the leaf stays as it is.
  ASSERT_EQ(map(G1, M2, G1, kProtRW), 0);
  EXPECT_EQ(leaf(G1).pte, ro.pte | kS2apW);
}

TEST_F(Linux612, AgingClearsAndSetsTheAccessFlagOfTheWholeLeaf) {
  start();
  ASSERT_EQ(map(G1, M2, 0x4020'0000, kProtRW), 0);
  ASSERT_EQ(map(2 * G1, K4, 0x5000, kProtRW), 0);
  const uint64_t block = leaf(G1).pte;
  ASSERT_TRUE(block & kAf);
  EXPECT_TRUE(backend_->is_young(G1 + M2 - K4));
  // mkold over one page of a block ages the block, with no TLBI.
  machine_.effects.clear();
  EXPECT_EQ(backend_->mkold(G1 + 3 * K4), block);
  EXPECT_EQ(leaf(G1).pte, block & ~kAf);
  EXPECT_TRUE(effects_of(EffectKind::TlbiIpa).empty());
  EXPECT_FALSE(backend_->is_young(G1));
  EXPECT_TRUE(backend_->is_young(2 * G1));  // the page elsewhere is left young
  // The translation now carries the cleared AF.
  const std::vector<Mapping> t = translation();
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].attrs & kAf, 0u);
  EXPECT_EQ(t[1].attrs & kAf, kAf);
  // mkold of an old leaf returns it unchanged and stores nothing.
  machine_.effects.clear();
  EXPECT_EQ(backend_->mkold(G1), block & ~kAf);
  EXPECT_TRUE(effects_of(EffectKind::Store).empty());
  // mkyoung sets it back, returning the old descriptor, then issues dsb(ishst).
  EXPECT_EQ(backend_->mkyoung(G1 + 9 * K4), block & ~kAf);
  EXPECT_EQ(leaf(G1).pte, block);
  EXPECT_TRUE(backend_->is_young(G1));
  ASSERT_FALSE(effects_of(EffectKind::Dsb).empty());
  EXPECT_EQ(effects_of(EffectKind::Dsb).back().barrier, Barrier::IshSt);
  // Nothing mapped: nothing young, and mkold returns 0.
  EXPECT_FALSE(backend_->is_young(3 * G1));
  EXPECT_EQ(backend_->mkold(3 * G1), 0u);
}

TEST_F(Linux612, ABlockOverATableGoesThroughFreeUnlinkedTable) {
  start();
  ASSERT_EQ(map(G1, K4, G1, kProtRW), 0);
  ASSERT_EQ(map(G1 + 8 * K4, K4, G1 + 8 * K4, kProtRW), 0);
  const size_t with_tables = machine_.memory.live_pages();
  machine_.effects.clear();
  ASSERT_EQ(map(G1, M2, 0x8000'0000, kProtRW), 0);
  Leaf l = leaf(G1 + 8 * K4);
  EXPECT_EQ(l.level, 2u);
  EXPECT_EQ(output_address(l.pte), 0x8000'0000u);
  // The level-3 table went to free_unlinked_table, which freed it at once.
  EXPECT_EQ(machine_.memory.live_pages(), with_tables - 1);
  // Without FEAT_TLBIRANGE the range flush over the table's granule is a whole-VMID flush.
  EXPECT_EQ(effects_of(EffectKind::TlbiVmid).size(), 1u);
  EXPECT_EQ(
      translation(),
      (std::vector<Mapping>{{G1, M2, 0x8000'0000,
                             (kNormalLeafBits | kS2apR | kS2apW | kXn) & kTranslationAttrMask}}));
}

TEST_F(Linux612, WithTlbRangeABlockOverATableFlushesTheTablesRange) {
  start(config_with(40, /*fwb=*/false, /*tlb_range=*/true));
  ASSERT_EQ(map(G1 + M2, K4, G1, kProtRW), 0);
  machine_.effects.clear();
  ASSERT_EQ(map(G1 + M2, M2, 0x8000'0000, kProtRW), 0);
  EXPECT_TRUE(effects_of(EffectKind::TlbiVmid).empty());
  const std::vector<Effect> tlbi = effects_of(EffectKind::TlbiIpa);
  ASSERT_EQ(tlbi.size(), 1u);
  EXPECT_EQ(tlbi[0].addr, G1 + M2);
  EXPECT_EQ(tlbi[0].size, M2);
}

// Break-before-make in 6.12 stores a locked invalid entry (bit 10) where 6.1 stored 0, and takes
// the reference before publishing the new entry.
TEST_F(Linux612, BreakBeforeMakeGoesThroughTheLockedEntry) {
  start();
  ASSERT_EQ(map(G1, K4, 0x1000'0000, kProtRW), 0);
  const uint64_t old = leaf(G1).pte;
  machine_.effects.clear();
  ASSERT_EQ(map(G1, K4, 0x2000'0000, kProtRW), 0);  // another PA: break, flush, make
  const std::vector<Effect> stores = effects_of(EffectKind::Store);
  ASSERT_EQ(stores.size(), 2u);
  EXPECT_EQ(stores[0].old_value, old);
  EXPECT_EQ(stores[0].new_value, kAf);  // KVM_INVALID_PTE_LOCKED
  EXPECT_EQ(stores[1].old_value, kAf);
  EXPECT_EQ(output_address(stores[1].new_value), 0x2000'0000u);
  const std::vector<Effect> tlbi = effects_of(EffectKind::TlbiIpa);
  ASSERT_EQ(tlbi.size(), 1u);
  EXPECT_EQ(tlbi[0].addr, G1);
  EXPECT_EQ(tlbi[0].level, 3u);
  EXPECT_EQ(translation().front().pa, 0x2000'0000u);
}

#ifdef MMUDIFF_HAVE_LINUX61

// ---- linux612 against linux61 ----------------------------------------------------------------

// One table of each, side by side on machines of their own.
struct Pair {
  Pair() : a(make_linux61_backend(ma, Plant::kNone)), b(make_linux612_backend(mb, Plant::kNone)) {}
  Machine ma, mb;
  std::unique_ptr<Arm64S2Backend> a, b;
};

// Empty when the two tables are the same up to where their pages live (the masked hash), else
// where they first differ.
std::string compare_tables(const Pair& p) {
  const SipKey key{};
  const TableRoot ra = p.a->root(), rb = p.b->root();
  if (ra.live() != rb.live() || (ra.live() && !ra.same_shape(rb)))
    return fmt::format("roots differ: live {} / {}, ia {} / {}, pgd pages {} / {}", ra.live(),
                       rb.live(), ra.ia_bits, rb.ia_bits, ra.pgd_pages, rb.pgd_pages);
  const HashedTable ha = hash_table(ra, p.ma.memory, key), hb = hash_table(rb, p.mb.memory, key);
  if (ha.root_hash == hb.root_hash) return "";
  const std::optional<DivergingEntry> d = first_divergence(ha, p.ma.memory, hb, p.mb.memory);
  if (!d) return "root hashes differ, but no diverging entry was found";
  return fmt::format("tables differ at ipa {:#x} level {}: linux61 {:#018x}, linux612 {:#018x}",
                     d->ipa, d->level, d->a, d->b);
}

bool overlaps(const std::vector<Mapping>& mappings, uint64_t start, uint64_t end) {
  return std::any_of(mappings.begin(), mappings.end(),
                     [&](const Mapping& m) { return m.ipa < end && start < m.ipa + m.size; });
}

bool mapped(const std::vector<Mapping>& mappings, uint64_t addr) {
  return overlaps(mappings, addr & ~(K4 - 1), (addr & ~(K4 - 1)) + K4);
}

// Whether 6.1 and 6.12 do the same with op on a table that translates `now` (KERNELS.md): maps of
// ranges with no valid leaf in them (a leaf differing only in permissions is 6.1's abort with
// -EAGAIN, 6.12's skip), unmaps, wrprotects, flushes and get_leaf anywhere, aging within the IPA
// space (6.12 WARNs beyond it), mkyoung anywhere (only its barrier differs), relax_perms where a
// leaf is (6.12 returns -EAGAIN where none is) or with software bits (-EINVAL in both).
// Unrestricted, any operation of those kinds goes.
bool same_in_both(const Op& op, const Config& config, const std::vector<Mapping>& now,
                  bool restricted = true) {
  const uint64_t limit = bit(config.arm64.ia_bits);
  switch (op.kind) {
    case OpKind::Map: {
      if (!restricted) return true;
      const uint64_t start = op.addr & ~(K4 - 1);
      const uint64_t end = (op.addr + op.size + K4 - 1) & ~(K4 - 1);
      return end < start || !overlaps(now, start, end);
    }
    case OpKind::Unmap:
    case OpKind::Wrprotect:
    case OpKind::Flush:
    case OpKind::GetLeaf:
    case OpKind::Mkyoung:
      return true;
    case OpKind::Mkold:
    case OpKind::IsYoung:
      return !restricted || op.addr < limit;
    case OpKind::RelaxPerms:
      return !restricted || (op.prot & prot::kSwMask) || (op.addr < limit && mapped(now, op.addr));
    default:
      return false;
  }
}

struct DiffTally {
  uint64_t ops = 0;
  uint64_t maps_done = 0;    // maps that returned 0 and changed the table
  uint64_t blocks_seen = 0;  // block leaves in final tables
  std::set<OpKind> kinds;
};

// Runs one stream of the shared operations through both; "" when they agree throughout.
std::string run_differential(std::mt19937_64& rng, size_t length, DiffTally* tally, Stream* ran,
                             bool restricted = true) {
  Pair p;
  Config config = random_config(rng);
  ran->push_back(init_op(config));
  OpResult ia = apply_op(*p.a, p.ma, ran->back()), ib = apply_op(*p.b, p.mb, ran->back());
  if (!(ia == ib)) return fmt::format("init: {} / {}", ia.ret, ib.ret);
  for (size_t i = 0; i < length; ++i) {
    const std::vector<Mapping> now = arch_walk(p.a->root(), p.ma.memory).translation.mappings;
    Op op;
    do op = random_op(rng, config, /*allow_destroy=*/false);
    while (!same_in_both(op, config, now, restricted));
    ran->push_back(op);
    const OpResult ra = apply_op(*p.a, p.ma, op), rb = apply_op(*p.b, p.mb, op);
    ++tally->ops;
    tally->kinds.insert(op.kind);
    if (!(ra == rb))
      return fmt::format(
          "op {} ({}): linux61 ret {} value {:#x} level {}; linux612 ret {} value "
          "{:#x} level {}",
          i + 1, format_op(op), ra.ret, ra.value, ra.level, rb.ret, rb.value, rb.level);
    if (op.kind == OpKind::Map && ra.ret == 0 &&
        arch_walk(p.a->root(), p.ma.memory).translation.mappings != now)
      ++tally->maps_done;
    const size_t wa = p.a->take_warnings().size(), wb = p.b->take_warnings().size();
    if (wa != wb)
      return fmt::format("op {} ({}): {} WARN_ONs in linux61, {} in linux612", i + 1, format_op(op),
                         wa, wb);
    std::string diff = compare_tables(p);
    if (!diff.empty()) return fmt::format("after op {} ({}): {}", i + 1, format_op(op), diff);
  }
  mmudiff::testing::walk_tables(
      p.mb.memory, p.b->root(), [](const auto&) {},
      [&](const mmudiff::testing::TableEntry& e) {
        tally->blocks_seen += e.kind == DescriptorKind::Block;
      });
  p.b->destroy();
  p.mb.memory.report_leaks();
  p.mb.memory.check_freed_pages();
  if (!p.mb.memory.faults().empty())
    return fmt::format("linux612 after destroy: {}", p.mb.memory.faults().front().detail);
  return "";
}

TEST(Linux612Differential, ComparisonSeesADifferentTable) {
  Pair p;
  ASSERT_EQ(p.a->init(config_with(40)), 0);
  ASSERT_EQ(p.b->init(config_with(40)), 0);
  EXPECT_EQ(compare_tables(p), "");
  Memcache ma(p.ma.memory, 8), mb(p.mb.memory, 8);
  ASSERT_EQ(p.a->map(G1, K4, G1, kProtRW, &ma), 0);
  ASSERT_EQ(p.b->map(G1, K4, G1, kProtRW, &mb), 0);
  EXPECT_EQ(compare_tables(p), "");  // the same, with table pages at other addresses
  ASSERT_EQ(p.b->wrprotect(G1, K4), 0);
  EXPECT_NE(compare_tables(p).find("tables differ at ipa 0x40000000 level 3"), std::string::npos)
      << compare_tables(p);
}

// The restriction is what makes them agree: without it, the same generator soon finds a place
// where 6.1 and 6.12 differ.
TEST(Linux612Differential, WithoutTheRestrictionTheyDisagree) {
  DiffTally tally;
  uint64_t disagreements = 0;
  for (uint64_t i = 0; i < 200; ++i) {
    std::mt19937_64 rng(0x612 + i);
    Stream ran;
    disagreements += !run_differential(rng, 30, &tally, &ran, /*restricted=*/false).empty();
  }
  EXPECT_GT(disagreements, 10u);
}

TEST(Linux612Differential, RandomStreamsOfTheSharedOperationsAgreeWithLinux61) {
  const uint64_t seed = env_u64("MMUDIFF_DIFF_SEED", 1);
  const uint64_t streams =
      env_u64("MMUDIFF_DIFF_STREAMS", mmudiff::testing::sanitizer_scaled(1500));
  DiffTally tally;
  uint64_t disagreements = 0;
  for (uint64_t i = 0; i < streams; ++i) {
    std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ULL + i);
    Stream ran;
    const std::string diff = run_differential(rng, 4 + i % 40, &tally, &ran);
    if (diff.empty()) continue;
    if (++disagreements <= 5)
      ADD_FAILURE() << "seed " << seed << " stream " << i << ": " << diff << "\n--- stream ---\n"
                    << format_stream(ran);
  }
  std::printf(
      "linux612 vs linux61: %llu streams, %llu operations, %llu maps, %llu blocks: %llu "
      "disagreements\n",
      static_cast<unsigned long long>(streams), static_cast<unsigned long long>(tally.ops),
      static_cast<unsigned long long>(tally.maps_done),
      static_cast<unsigned long long>(tally.blocks_seen),
      static_cast<unsigned long long>(disagreements));
  EXPECT_EQ(disagreements, 0u);
  // The run exercised what it claims to: every shared kind, and tables with blocks in them.
  EXPECT_EQ(tally.kinds.size(), 9u);
  EXPECT_GT(tally.maps_done, streams);
  EXPECT_GT(tally.blocks_seen, streams / 10);
}

// ---- Where 6.12 differs from 6.1 -----------------------------------------------------------
// Each case runs on both kernels and checks both: what 6.1 does (the contract the registered
// backends are held to) and what 6.12 does instead, which an arm64-6.12 profile has to model.

class Linux612Differs : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(p_.a->init(config_with(40)), 0);
    ASSERT_EQ(p_.b->init(config_with(40)), 0);
  }
  void TearDown() override {
    for (Arm64S2Backend* b : {p_.a.get(), p_.b.get()})
      EXPECT_EQ(b->take_warnings(), std::vector<std::string>{}) << b->name();
  }
  // Runs f on each backend with its machine's effects cleared first; returns the two results.
  template <class F>
  std::pair<int64_t, int64_t> both(F&& f) {
    p_.ma.effects.clear();
    p_.mb.effects.clear();
    const int64_t ra = f(*p_.a, p_.ma), rb = f(*p_.b, p_.mb);
    return {ra, rb};
  }
  std::pair<int64_t, int64_t> map(uint64_t addr, uint64_t size, uint64_t pa, uint64_t prot) {
    return both([&](Arm64S2Backend& b, Machine& m) {
      Memcache mc(m.memory, 16);
      return b.map(addr, size, pa, prot, &mc);
    });
  }
  static uint64_t leaf(Arm64S2Backend& b, uint64_t addr) {
    uint64_t pte = 0;
    uint32_t level = 0;
    EXPECT_EQ(b.get_leaf(addr, &pte, &level), 0);
    return pte;
  }
  static std::vector<Effect> of_kind(const Machine& m, EffectKind kind) {
    return mmudiff::testing::effects_of_kind(m.effects, kind);
  }
  static std::vector<uint64_t> stored_values(const Machine& m) {
    std::vector<uint64_t> out;
    for (const Effect& e : of_kind(m, EffectKind::Store)) out.push_back(e.new_value);
    return out;
  }

  Pair p_;
};

// 6.1: -EAGAIN. 6.12: the visitor's -EAGAIN is swallowed by a walk without
// KVM_PGTABLE_WALK_HANDLE_FAULT (this backend maps with walk flags 0), so the map returns 0.
TEST_F(Linux612Differs, MapOfTheSameMappingAgainReturnsZero) {
  ASSERT_EQ(map(G1, K4, G1, kProtRW), (std::pair<int64_t, int64_t>{0, 0}));
  const uint64_t before = leaf(*p_.b, G1);
  EXPECT_EQ(map(G1, K4, G1, kProtRW), (std::pair<int64_t, int64_t>{-EAGAIN, 0}));
  EXPECT_EQ(leaf(*p_.b, G1), before);
  EXPECT_TRUE(of_kind(p_.mb, EffectKind::Store).empty());
  EXPECT_EQ(compare_tables(p_), "");
}

// 6.1: a leaf that differs only in permissions aborts the whole walk with -EAGAIN, so the rest of
// the range stays unmapped. 6.12: that leaf is skipped (its permissions unchanged) and the walk
// goes on to map the rest, returning 0.
TEST_F(Linux612Differs, APermissionOnlyChangeSkipsTheLeafAndMapsTheRest) {
  ASSERT_EQ(map(G1, K4, G1, kProtRW), (std::pair<int64_t, int64_t>{0, 0}));
  const uint64_t rw = leaf(*p_.a, G1);
  EXPECT_EQ(map(G1, 2 * K4, G1, prot::kR), (std::pair<int64_t, int64_t>{-EAGAIN, 0}));
  EXPECT_EQ(leaf(*p_.a, G1), rw);
  EXPECT_EQ(leaf(*p_.b, G1), rw);
  EXPECT_EQ(leaf(*p_.a, G1 + K4), 0u);
  const uint64_t next = leaf(*p_.b, G1 + K4);
  EXPECT_EQ(output_address(next), G1 + K4);
  EXPECT_EQ(next & (kS2apR | kS2apW), kS2apR);
  EXPECT_NE(compare_tables(p_), "");
}

// Break-before-make: 6.1 stores old -> 0 -> new; 6.12 old -> KVM_INVALID_PTE_LOCKED (bit 10)
// -> new, with the same TLBI in between.
TEST_F(Linux612Differs, BreakBeforeMakeStoresTheLockedEntryWhere61StoredZero) {
  ASSERT_EQ(map(G1, K4, G1, kProtRW), (std::pair<int64_t, int64_t>{0, 0}));
  const uint64_t old = leaf(*p_.a, G1);
  ASSERT_EQ(map(G1, K4, 2 * G1, kProtRW), (std::pair<int64_t, int64_t>{0, 0}));
  const uint64_t now = leaf(*p_.a, G1);
  EXPECT_EQ(output_address(now), 2 * G1);
  EXPECT_EQ(stored_values(p_.ma), (std::vector<uint64_t>{0, now}));
  EXPECT_EQ(stored_values(p_.mb), (std::vector<uint64_t>{kAf, now}));
  EXPECT_EQ(of_kind(p_.ma, EffectKind::Store).front().old_value, old);
  EXPECT_EQ(of_kind(p_.mb, EffectKind::Store).front().old_value, old);
  EXPECT_EQ(of_kind(p_.ma, EffectKind::TlbiIpa), of_kind(p_.mb, EffectKind::TlbiIpa));
  EXPECT_EQ(compare_tables(p_), "");
}

// A block over a table: both flush the whole VMID (6.12 through kvm_tlb_flush_vmid_range without
// FEAT_TLBIRANGE), but the table entry goes through the locked value in 6.12.
TEST_F(Linux612Differs, ABlockOverATableStoresTheLockedEntryToo) {
  ASSERT_EQ(map(G1, K4, G1, kProtRW), (std::pair<int64_t, int64_t>{0, 0}));
  ASSERT_EQ(map(G1, M2, G1, kProtRW), (std::pair<int64_t, int64_t>{0, 0}));
  const uint64_t block = leaf(*p_.a, G1);
  EXPECT_EQ(stored_values(p_.ma), (std::vector<uint64_t>{0, block}));
  EXPECT_EQ(stored_values(p_.mb), (std::vector<uint64_t>{kAf, block}));
  EXPECT_EQ(of_kind(p_.ma, EffectKind::TlbiVmid).size(), 1u);
  EXPECT_EQ(of_kind(p_.mb, EffectKind::TlbiVmid).size(), 1u);
  EXPECT_EQ(p_.ma.memory.live_pages(), p_.mb.memory.live_pages());
  EXPECT_EQ(compare_tables(p_), "");
}

// A map that changes only software bits: 6.1 breaks before making; 6.12, on a non-shared walk,
// stores the new value over the old with no TLBI.
TEST_F(Linux612Differs, ASoftwareBitsOnlyChangeIsOneStore) {
  ASSERT_EQ(map(G1, K4, G1, kProtRW), (std::pair<int64_t, int64_t>{0, 0}));
  ASSERT_EQ(map(G1, K4, G1, kProtRW | bit(55)), (std::pair<int64_t, int64_t>{0, 0}));
  const uint64_t now = leaf(*p_.b, G1);
  EXPECT_EQ(now & kSwMask, bit(55));
  EXPECT_EQ(stored_values(p_.ma), (std::vector<uint64_t>{0, now}));
  EXPECT_EQ(stored_values(p_.mb), (std::vector<uint64_t>{now}));
  EXPECT_EQ(of_kind(p_.ma, EffectKind::TlbiIpa).size(), 1u);
  EXPECT_TRUE(of_kind(p_.mb, EffectKind::TlbiIpa).empty());
  EXPECT_EQ(compare_tables(p_), "");
}

// relax_perms where nothing is mapped: 6.1 returns 0, 6.12 -EAGAIN (the attribute walker's, with
// HANDLE_FAULT); both end with a TLBI by IPA with no level (6.12's is the non-broadcast one).
TEST_F(Linux612Differs, RelaxPermsWhereNothingIsMappedIsEagain) {
  EXPECT_EQ(both([](Arm64S2Backend& b, Machine&) { return b.relax_perms(3 * G1 + 5, prot::kW); }),
            (std::pair<int64_t, int64_t>{0, -EAGAIN}));
  const std::vector<Effect> expect{{EffectKind::TlbiIpa, 0, Barrier::None, 3 * G1 + 5}};
  EXPECT_EQ(p_.ma.effects.events(), expect);
  EXPECT_EQ(p_.mb.effects.events(), expect);
}

// mkyoung where nothing is mapped returns 0 in both; 6.1 issues dsb(ishst) anyway, 6.12 only
// when the walk succeeded.
TEST_F(Linux612Differs, MkyoungWhereNothingIsMappedIssuesNoBarrier) {
  EXPECT_EQ(both([](Arm64S2Backend& b, Machine&) { return b.mkyoung(3 * G1); }),
            (std::pair<int64_t, int64_t>{0, 0}));
  EXPECT_EQ(p_.ma.effects.events(), (std::vector<Effect>{{EffectKind::Dsb, 0, Barrier::IshSt}}));
  EXPECT_TRUE(p_.mb.effects.events().empty());
}

// Aging beyond the IPA space: both answer 0, but 6.12's test_clear_young WARNs on the walk's
// -ERANGE.
TEST_F(Linux612Differs, AgingBeyondTheIpaSpaceWarns) {
  EXPECT_EQ(both([](Arm64S2Backend& b, Machine&) { return b.is_young(bit(41)); }),
            (std::pair<int64_t, int64_t>{0, 0}));
  EXPECT_EQ(both([](Arm64S2Backend& b, Machine&) { return b.mkold(bit(41)); }),
            (std::pair<int64_t, int64_t>{0, 0}));
  EXPECT_TRUE(p_.a->take_warnings().empty());
  const std::vector<std::string> w = p_.b->take_warnings();
  ASSERT_EQ(w.size(), 2u);
  EXPECT_NE(w[0].find("WARN_ON(kvm_pgtable_walk(pgt, addr, size, &walker))"), std::string::npos)
      << w[0];
}

// Unmap with FWB on a CPU with FEAT_TLBIRANGE: 6.12 defers the leaves' TLBIs into range TLBIs
// over the whole unmapped range after the walk.
TEST(Linux612Unmap, WithFwbAndTlbRangeTheLeafFlushesAreOneRangeTlbi) {
  Machine m;
  auto b = make_linux612_backend(m, Plant::kNone);
  ASSERT_EQ(b->init(config_with(40, /*fwb=*/true, /*tlb_range=*/true)), 0);
  Memcache mc(m.memory, 8);
  ASSERT_EQ(b->map(G1, 4 * K4, G1, kProtRW, &mc), 0);
  m.effects.clear();
  ASSERT_EQ(b->unmap(G1, M2), 0);
  std::vector<Effect> tlbi;
  for (const Effect& e : m.effects.events())
    if (e.kind == EffectKind::TlbiIpa) tlbi.push_back(e);
  // No TLBI per leaf: the entries of the emptied level-3 and level-2 tables (by IPA, no level
  // hint), then the deferred range over [G1, G1 + 2M).
  EXPECT_EQ(tlbi, (std::vector<Effect>{{EffectKind::TlbiIpa, 0, Barrier::None, G1},
                                       {EffectKind::TlbiIpa, 0, Barrier::None, G1},
                                       {EffectKind::TlbiIpa, 0, Barrier::None, G1, M2}}));
  EXPECT_EQ(m.memory.live_pages(), b->root().pgd_pages);
  EXPECT_TRUE(b->take_warnings().empty());
}

#endif  // MMUDIFF_HAVE_LINUX61

#endif  // MMUDIFF_HAVE_LINUX612

}  // namespace
}  // namespace mmudiff

// SPDX-License-Identifier: GPL-2.0-only
// The stage-2 semantics of Linux 6.1, one rule per test (docs/semantics.md names them), run
// against every backend of profile arm64-6.1. Expected descriptors are written out bit by bit
// (tests/arm64_semantics.h) rather than built with any backend's helpers, and tables are read
// straight from simulated memory.
#include <random>

#include "mmu/ops/random_stream.h"
#include "tests/arm64_semantics.h"

namespace mmudiff {
namespace {

using namespace semantics;

std::vector<std::string> backend_names() {
  std::vector<std::string> names;
  for (const BackendInfo& b : backends_of(ProfileId::Arm64Linux61)) names.emplace_back(b.name);
  return names;
}

// ---- init and destroy -------------------------------------------------------------------------

TEST_P(Semantics, InitAllocatesTheStartLevelAndConcatenatedPagesThatVtcrGives) {
  struct Expected {
    unsigned start_level, pgd_pages;
  };
  // ia_bits 32..48: levels = max(2, (ia_bits - 8) / 9), up to 16 concatenated start pages.
  const Expected expected[] = {
      {2, 4}, {2, 8}, {2, 16},                   // 32, 33, 34
      {1, 1}, {1, 1}, {1, 1},  {1, 1},  {1, 1},  // 35..39
      {1, 2}, {1, 4}, {1, 8},  {1, 16},          // 40..43
      {0, 1}, {0, 1}, {0, 1},  {0, 1},  {0, 1},  // 44..48
  };
  for (unsigned ia = 32; ia <= 48; ++ia) {
    SCOPED_TRACE(ia);
    ASSERT_EQ(backend_->init(config_with(static_cast<uint8_t>(ia))), 0);
    const TableRoot r = backend_->root();
    EXPECT_EQ(r.ia_bits, ia);
    EXPECT_EQ(r.start_level, expected[ia - 32].start_level);
    EXPECT_EQ(r.pgd_pages, expected[ia - 32].pgd_pages);
    EXPECT_EQ(machine_.memory.live_pages(), r.pgd_pages);
    for (unsigned i = 0; i < r.pgd_pages; ++i) EXPECT_EQ(count(r.pgd_pa + i * K4), 1);
    EXPECT_EQ(effects(), Effects{dsb_ishst()});
    forget_effects();
    backend_->destroy();
    EXPECT_EQ(machine_.memory.live_pages(), 0u);
    EXPECT_FALSE(backend_->root().live());
  }
}

TEST_P(Semantics, InitRefusesAnIpaSizeOutside32To48Bits) {
  EXPECT_EQ(backend_->init(config_with(31)), -EINVAL);
  EXPECT_EQ(backend_->init(config_with(49)), -EINVAL);
  EXPECT_FALSE(backend_->root().live());
  EXPECT_EQ(machine_.memory.live_pages(), 0u);
  EXPECT_EQ(effects(), Effects{});
}

TEST_P(Semantics, DestroyFreesEveryTablePageAndWritesNoDescriptor) {
  init(config_with(48));
  ASSERT_EQ(map(0x1000, K4, 0x1000, kRW), 0);
  ASSERT_EQ(map(G512 + M2, M2, 0, kRW), 0);
  ASSERT_EQ(set_owner(5 * G512, K4, 1), 0);
  ASSERT_GT(machine_.memory.live_pages(), 5u);
  forget_effects();
  backend_->destroy();
  EXPECT_EQ(machine_.memory.live_pages(), 0u);
  EXPECT_EQ(effects(), Effects{});
}

// ---- ranges -----------------------------------------------------------------------------------

TEST_P(Semantics, RangeEndIsRoundedUpFromTheAlignedDownStart) {
  init();
  // The end is PAGE_ALIGN(ALIGN_DOWN(addr) + size), not PAGE_ALIGN(addr + size): [0x1800, 0x2800)
  // becomes [0x1000, 0x2000) and leaves out the page at 0x2000 that it touches.
  ASSERT_EQ(map(0x1800, 0x1000, 0x9800, kRW), 0);
  EXPECT_EQ(desc(0x0000, 3), 0u);
  EXPECT_EQ(desc(0x1000, 3), page(0x9000, kAttrRW)) << "phys is aligned down the same way";
  EXPECT_EQ(desc(0x2000, 3), 0u);
  ASSERT_EQ(map(0x5800, 0x1001, 0x9800, kRW), 0);
  EXPECT_EQ(desc(0x5000, 3), page(0x9000, kAttrRW));
  EXPECT_EQ(desc(0x6000, 3), page(0xa000, kAttrRW));
  EXPECT_EQ(desc(0x7000, 3), 0u);
  // One byte past a page boundary takes the whole next page.
  ASSERT_EQ(map(0x10000, K4 + 1, 0x20000, kRW), 0);
  EXPECT_EQ(desc(0x11000, 3), page(0x21000, kAttrRW));
  EXPECT_EQ(desc(0x12000, 3), 0u);
}

TEST_P(Semantics, EmptyAndWrappingRangesTouchNothing) {
  init();
  EXPECT_EQ(map(0x5000, 0, 0x5000, kRW), 0);
  EXPECT_EQ(effects(), Effects{dsb_ishst()});
  forget_effects();
  // addr + size wraps past 2^64 to below addr: the range is empty, not out of range.
  EXPECT_EQ(map(0x10000, ~uint64_t{0} - 0x7fff, 0x10000, kRW), 0);
  EXPECT_EQ(backend_->unmap(0x10000, ~uint64_t{0} - 0x7fff), 0);
  EXPECT_EQ(effects(), Effects{dsb_ishst()});
  EXPECT_EQ(machine_.memory.live_pages(), 2u);
}

TEST_P(Semantics, AddressOrEndBeyondTheIpaSizeIsERangeAndChangesNothing) {
  init();
  const uint64_t limit = uint64_t{1} << 40;
  EXPECT_EQ(map(limit - K4, 2 * K4, 0, kRW), -ERANGE);
  EXPECT_EQ(map(limit + K4, 0, 0, kRW), -ERANGE);
  EXPECT_EQ(backend_->unmap(limit - K4, 2 * K4), -ERANGE);
  EXPECT_EQ(backend_->wrprotect(limit, K4), -ERANGE);
  EXPECT_EQ(set_owner(limit, 1, 1), -ERANGE);
  uint64_t pte = 7;
  uint32_t level = 7;
  EXPECT_EQ(backend_->get_leaf(limit, &pte, &level), -ERANGE);
  EXPECT_EQ(pte, 7u) << "get_leaf leaves its outputs alone on error";
  EXPECT_EQ(level, 7u);
  // Only map's closing barrier happened: nothing was written.
  EXPECT_EQ(effects(), (Effects{dsb_ishst(), dsb_ishst()}));
  EXPECT_EQ(machine_.memory.live_pages(), 2u);
  // The limit itself is a valid end, and an empty range may start there.
  EXPECT_EQ(map(limit - K4, K4, 0, kRW), 0);
  EXPECT_EQ(map(limit, 0, 0, kRW), 0);
}

// ---- block choice -----------------------------------------------------------------------------

TEST_P(Semantics, MapChoosesTheLargestBlockBothAddressesAreAlignedTo) {
  init();
  ASSERT_EQ(map(G1, G1, 2 * G1, kRW), 0);
  EXPECT_EQ(desc(G1, 1), block(2 * G1, kAttrRW));
  ASSERT_EQ(map(4 * G1 + M2, M2, 8 * G1 + M2, kRW), 0);
  EXPECT_EQ(desc(4 * G1 + M2, 2), block(8 * G1 + M2, kAttrRW));
  // The IPA is 2 MiB aligned but the PA is not: pages, the PA following the IPA.
  ASSERT_EQ(map(6 * G1, M2, 6 * G1 + K4, kRW), 0);
  EXPECT_EQ(desc(6 * G1, 2), table(table_page(6 * G1, 3)));
  EXPECT_EQ(desc(6 * G1, 3), page(6 * G1 + K4, kAttrRW));
  EXPECT_EQ(desc(6 * G1 + M2 - K4, 3), page(6 * G1 + M2, kAttrRW));
  EXPECT_EQ(count(table_page(6 * G1, 3)), 1 + 512);
  // One range, three sizes: a 1 GiB block, a 2 MiB block, then a page.
  ASSERT_EQ(map(8 * G1, G1 + M2 + K4, 16 * G1, kRW), 0);
  EXPECT_EQ(desc(8 * G1, 1), block(16 * G1, kAttrRW));
  EXPECT_EQ(desc(9 * G1, 2), block(17 * G1, kAttrRW));
  EXPECT_EQ(desc(9 * G1 + M2, 3), page(17 * G1 + M2, kAttrRW));
  EXPECT_EQ(desc(9 * G1 + M2 + K4, 3), 0u);
}

TEST_P(Semantics, TheStartLevelHoldsNoBlockAtLevelZero) {
  init(config_with(48));
  ASSERT_EQ(map(0, G512, 0, kRW), 0);
  EXPECT_EQ(desc(0, 0), table(table_page(0, 1)));
  EXPECT_EQ(desc(0, 1), block(0, kAttrRW));
  EXPECT_EQ(desc(G512 - G1, 1), block(G512 - G1, kAttrRW));
  EXPECT_EQ(count(table_page(0, 1)), 1 + 512);
  EXPECT_EQ(machine_.memory.live_pages(), 2u);
}

TEST_P(Semantics, ForcePteAlwaysMapsEvenAnAlignedBlockAsPages) {
  init(config_with(40, false, ForcePte::Always));
  ASSERT_EQ(map(M2, M2, M2, kRW), 0);
  EXPECT_EQ(desc(M2, 3), page(M2, kAttrRW));
  EXPECT_EQ(desc(2 * M2 - K4, 3), page(2 * M2 - K4, kAttrRW));
  EXPECT_EQ(count(table_page(M2, 3)), 1 + 512);
}

TEST_P(Semantics, ForcePteDeviceMapsOnlyDeviceMemoryAsPages) {
  init(config_with(40, false, ForcePte::Device));
  ASSERT_EQ(map(M2, M2, M2, kRW), 0);
  EXPECT_EQ(desc(M2, 2), block(M2, kAttrRW));
  ASSERT_EQ(map(2 * M2, M2, 2 * M2, kRW | kDevice), 0);
  EXPECT_EQ(desc(2 * M2, 3), page(2 * M2, kAttrRWDevice));
  EXPECT_EQ(count(table_page(2 * M2, 3)), 1 + 512);
}

// ---- attributes -------------------------------------------------------------------------------

TEST_P(Semantics, MapBuildsLeafAttributesFromProtAndFwb) {
  struct Case {
    uint64_t prot;
    bool fwb, nofwb;
    uint64_t attrs;
  };
  const uint64_t sw = uint64_t{0xf} << 55;
  const Case cases[] = {
      {kRW, false, false, kAttrRW},
      {kR, false, false, kAttrR},
      {0, false, false, kAttrNone},
      {kRW | kX, false, false, kAttrRWX},
      {kR | kX, false, false, kAttrRX},
      {kRW | kDevice, false, false, kAttrRWDevice},
      {kRW, true, false, kAttrRWFwb},
      {kRW | kDevice, true, false, kAttrRWDeviceFwb},
      {kRW, true, true, kAttrRW},  // NOFWB: the table keeps the non-FWB encoding
      {kRW | sw, false, false, kAttrRW | sw},
      // Bits that are not prot bits do not reach the descriptor.
      {kRW | (uint64_t{1} << 20) | (uint64_t{1} << 60), false, false, kAttrRW},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message()
                 << std::hex << "prot " << c.prot << " fwb " << c.fwb << " nofwb " << c.nofwb);
    Arm64S2Config config = config_with(40, c.fwb);
    config.nofwb = c.nofwb;
    ASSERT_EQ(backend_->init(config), 0);
    EXPECT_EQ(backend_->root().fwb, c.fwb && !c.nofwb);
    ASSERT_EQ(map(0x3000, K4, 0x7000, c.prot), 0);
    EXPECT_EQ(desc(0x3000, 3), page(0x7000, c.attrs));
    ASSERT_EQ(map(M2, M2, 4 * M2, c.prot), 0);
    EXPECT_EQ(desc(M2, 2), block(4 * M2, c.attrs));
    backend_->destroy();
  }
}

TEST_P(Semantics, ExecutableDeviceMemoryIsEInvalBeforeAnythingHappens) {
  init();
  EXPECT_EQ(map(0, K4, 0, kR | kX | kDevice), -EINVAL);
  EXPECT_EQ(effects(), Effects{});
  EXPECT_EQ(machine_.memory.live_pages(), 2u);
}

// Linux 6.1 has neither map walk flags from its caller nor test_clear_young over a range (they
// are Linux 6.12's): asked anyway, a backend of 6.1 says -EOPNOTSUPP and changes nothing; the
// NORMAL_NC prot bit means nothing to 6.1's map, which maps normal cacheable memory.
TEST_P(Semantics, Linux612CallsAreEopnotsuppAndNormalNcIsIgnored) {
  init();
  Memcache mc(machine_.memory, kDefaultMemcache);
  EXPECT_EQ(backend_->map_with_walk_flags(0x1000, K4, 0x5000, kRW, &mc, walk_flag::kShared),
            -EOPNOTSUPP);
  EXPECT_EQ(backend_->test_clear_young(0x1000, K4, /*mkold=*/true), -EOPNOTSUPP);
  EXPECT_EQ(effects(), Effects{});
  EXPECT_EQ(map(0x1000, K4, 0x5000, kRW | (uint64_t{1} << 4)), 0);
  EXPECT_EQ(desc(0x1000, 3), page(0x5000, kAttrRW));
}

TEST_P(Semantics, IdmapTableRefusesAMapWhoseAddressIsNotItsPhysicalAddress) {
  Arm64S2Config config = config_with(40);
  config.idmap = true;
  init(config);
  EXPECT_EQ(map(0x1000, K4, 0x2000, kRW), -EINVAL);
  // The comparison is on the unaligned arguments.
  EXPECT_EQ(map(0x1000, K4, 0x1800, kRW), -EINVAL);
  EXPECT_EQ(effects(), Effects{});
  backend_->take_warnings();
  EXPECT_EQ(map(0x1800, K4, 0x1800, kRW), 0);
  EXPECT_EQ(desc(0x1000, 3), page(0x1000, kAttrRW));
}

TEST_P(Semantics, MapRoundsAnUnalignedPhysicalAddressDownToAPage) {
  init();
  ASSERT_EQ(map(0x4000, 2 * K4, 0x12345, kRW), 0);
  EXPECT_EQ(desc(0x4000, 3), page(0x12000, kAttrRW));
  EXPECT_EQ(desc(0x5000, 3), page(0x13000, kAttrRW));
}

// ---- physical addresses beyond the PA size ----------------------------------------------------

TEST_P(Semantics, MapOfAPhysicalAddressBeyondTheFortyEightBitPaSizeWritesZeroDescriptors) {
  init();
  ASSERT_EQ(map(M2, K4, kPa48, kRW), 0);
  const uint64_t l1 = entry_pa(M2, 1), l2 = entry_pa(M2, 2), l3 = entry_pa(M2, 3);
  // The "leaf" has no XN bit, so it reads as executable: the icache is invalidated at PA 0.
  EXPECT_EQ(effects(),
            (Effects{store(l1, 0, table(table_page(M2, 2))), store(l2, 0, table(table_page(M2, 3))),
                     icache(0, K4), store(l3, 0, 0), dsb_ishst()}));
  EXPECT_EQ(count(table_page(M2, 3)), 1) << "a zero entry is not counted";
  forget_effects();

  // The PA does not advance, and its alignment does not stop a block.
  ASSERT_EQ(map(G1, G1, kPa48 + K4, kRW), 0);
  EXPECT_EQ(effects(), (Effects{icache(0, G1), store(entry_pa(G1, 1), 0, 0), dsb_ishst()}));
  forget_effects();
  ASSERT_EQ(map(4 * M2, 2 * K4, kPa48 + 5 * K4, kRW), 0);
  const uint64_t p0 = entry_pa(4 * M2, 3), p1 = entry_pa(4 * M2 + K4, 3);
  EXPECT_EQ(effects(),
            (Effects{store(entry_pa(4 * M2, 2), 0, table(table_page(4 * M2, 3))), icache(0, K4),
                     store(p0, 0, 0), icache(0, K4), store(p1, 0, 0), dsb_ishst()}));

  // A range that runs off the top of the PA space: valid pages, then zero descriptors.
  ASSERT_EQ(map(6 * M2, 3 * K4, kPa48 - K4, kRW), 0);
  EXPECT_EQ(desc(6 * M2, 3), page(kPa48 - K4, kAttrRW));
  EXPECT_EQ(desc(6 * M2 + K4, 3), 0u);
  EXPECT_EQ(desc(6 * M2 + 2 * K4, 3), 0u);
}

TEST_P(Semantics, MapOfAnInvalidPhysicalAddressOverALeafUnmapsIt) {
  init();
  ASSERT_EQ(map(0x3000, K4, 0x8000, kRW), 0);
  const uint64_t e = entry_pa(0x3000, 3), t = table_page(0x3000, 3);
  forget_effects();
  ASSERT_EQ(map(0x3000, K4, kPa48, kRW), 0);
  EXPECT_EQ(effects(), (Effects{store(e, page(0x8000, kAttrRW), 0), tlbi(0x3000, 3), icache(0, K4),
                                store(e, 0, 0), dsb_ishst()}));
  EXPECT_EQ(count(t), 1);
}

// ---- map over existing entries ----------------------------------------------------------------

TEST_P(Semantics, MapOverALeafDifferingOnlyInPermissionsIsEAgainAndAbortsTheWalk) {
  init();
  ASSERT_EQ(map(0x2000, K4, 0xa000, kR), 0);
  forget_effects();
  // Pages 0 and 1 are new, page 2 differs from what is there only in W: the walk stops there.
  EXPECT_EQ(map(0, 4 * K4, 0x8000, kRW), -EAGAIN);
  EXPECT_EQ(desc(0x0000, 3), page(0x8000, kAttrRW));
  EXPECT_EQ(desc(0x1000, 3), page(0x9000, kAttrRW));
  EXPECT_EQ(desc(0x2000, 3), page(0xa000, kAttrR));
  EXPECT_EQ(desc(0x3000, 3), 0u);
  EXPECT_EQ(effects(), (Effects{dcache(0x8000, K4), store(entry_pa(0, 3), 0, page(0x8000, kAttrRW)),
                                dcache(0x9000, K4),
                                store(entry_pa(K4, 3), 0, page(0x9000, kAttrRW)), dsb_ishst()}));
  EXPECT_EQ(count(table_page(0, 3)), 1 + 3);
  // X alone, and no change at all, are permission-only too.
  EXPECT_EQ(map(0x2000, K4, 0xa000, kR | kX), -EAGAIN);
  EXPECT_EQ(map(0x2000, K4, 0xa000, kR), -EAGAIN);
  EXPECT_EQ(desc(0x2000, 3), page(0xa000, kAttrR));
}

TEST_P(Semantics, MapOverALeafWithAnotherAddressOrTypeBreaksBeforeMaking) {
  init();
  ASSERT_EQ(map(0x2000, K4, 0xa000, kRW), 0);
  const uint64_t e = entry_pa(0x2000, 3), t = table_page(0x2000, 3);
  forget_effects();
  ASSERT_EQ(map(0x2000, K4, 0xb000, kRW | kX), 0);
  EXPECT_EQ(effects(),
            (Effects{store(e, page(0xa000, kAttrRW), 0), tlbi(0x2000, 3), dcache(0xb000, K4),
                     icache(0xb000, K4), store(e, 0, page(0xb000, kAttrRWX)), dsb_ishst()}));
  EXPECT_EQ(count(t), 2);
  forget_effects();
  // Same address, device instead of normal: not a permission change either. No cache
  // maintenance for device memory.
  ASSERT_EQ(map(0x2000, K4, 0xb000, kRW | kDevice), 0);
  EXPECT_EQ(effects(), (Effects{store(e, page(0xb000, kAttrRWX), 0), tlbi(0x2000, 3),
                                store(e, 0, page(0xb000, kAttrRWDevice)), dsb_ishst()}));
  EXPECT_EQ(count(t), 2);
  // Software bits are not permissions.
  EXPECT_EQ(map(0x2000, K4, 0xb000, kRW | kDevice | (uint64_t{1} << 56)), 0);
}

TEST_P(Semantics, MapOverAnOwnerAnnotationReplacesItWithoutATlbi) {
  init();
  ASSERT_EQ(set_owner(0x2000, K4, 1), 0);
  const uint64_t e = entry_pa(0x2000, 3), t = table_page(0x2000, 3);
  forget_effects();
  ASSERT_EQ(map(0x2000, K4, 0xa000, kRW), 0);
  EXPECT_EQ(effects(),
            (Effects{dcache(0xa000, K4), store(e, kOwner1, page(0xa000, kAttrRW)), dsb_ishst()}));
  EXPECT_EQ(count(t), 2);
}

TEST_P(Semantics, MapInsideABlockInstallsAnEmptyTableDroppingTheRestOfTheBlock) {
  init();
  ASSERT_EQ(map(M2, M2, M2, kRW), 0);
  const uint64_t e2 = entry_pa(M2, 2), t2 = table_page(M2, 2);
  const size_t pages_before = machine_.memory.live_pages();
  forget_effects();
  ASSERT_EQ(map(M2 + 2 * K4, K4, 0x5000, kRW), 0);
  const uint64_t t3 = table_page(M2, 3);
  // The TLBI names the page the walk had reached, not the block's start.
  EXPECT_EQ(effects(),
            (Effects{store(e2, block(M2, kAttrRW), 0), tlbi(M2 + 2 * K4, 2),
                     store(e2, 0, table(t3)), dcache(0x5000, K4),
                     store(entry_pa(M2 + 2 * K4, 3), 0, page(0x5000, kAttrRW)), dsb_ishst()}));
  for (unsigned i = 0; i < 512; ++i) {
    EXPECT_EQ(desc(M2 + i * K4, 3), i == 2 ? page(0x5000, kAttrRW) : 0u) << i;
  }
  EXPECT_EQ(count(t3), 2);
  EXPECT_EQ(count(t2), 2);
  EXPECT_EQ(machine_.memory.live_pages(), pages_before + 1);
}

TEST_P(Semantics, MapThatNeedsATableWithoutAMemcacheIsENomem) {
  init();
  ASSERT_EQ(map(M2, M2, M2, kRW), 0);
  forget_effects();
  EXPECT_EQ(map(M2, K4, 0x5000, kRW, kNoMemcache), -ENOMEM);
  EXPECT_EQ(map(M2, K4, 0x5000, kRW, 0), -ENOMEM) << "a dry memcache";
  EXPECT_EQ(desc(M2, 2), block(M2, kAttrRW)) << "the block is checked for a page before it breaks";
  EXPECT_EQ(effects(), (Effects{dsb_ishst(), dsb_ishst()}));
  // A cache that runs dry halfway leaves the tables it did install.
  ASSERT_EQ(map(G1 + K4, K4, 0x5000, kRW, 1), -ENOMEM);
  EXPECT_EQ(desc(G1, 1), table(table_page(G1, 2)));
  EXPECT_EQ(desc(G1, 2), 0u);
  EXPECT_EQ(count(table_page(G1, 2)), 1);
  // Blocks over empty entries need no page.
  EXPECT_EQ(map(4 * M2, M2, 4 * M2, kRW, kNoMemcache), 0);
}

TEST_P(Semantics, MapOfABlockOverATableFlushesTheVmidOnceAndFreesTheSubtables) {
  init();
  ASSERT_EQ(map(M2, K4, 0x5000, kRW), 0);
  ASSERT_EQ(map(M2 + K4, K4, 0x6000, kRW), 0);
  const uint64_t e2 = entry_pa(M2, 2), t2 = table_page(M2, 2), t3 = table_page(M2, 3);
  const size_t pages_before = machine_.memory.live_pages();
  forget_effects();
  ASSERT_EQ(map(M2, M2, 4 * M2, kRW), 0);
  EXPECT_EQ(effects(), (Effects{store(e2, table(t3), 0), tlbi_vmid(), dcache(4 * M2, M2),
                                store(e2, 0, block(4 * M2, kAttrRW)), dsb_ishst()}));
  EXPECT_FALSE(live(t3));
  EXPECT_EQ(count(t2), 2);
  EXPECT_EQ(machine_.memory.live_pages(), pages_before - 1);
}

TEST_P(Semantics, MapOfABlockOverNestedTablesFreesThemAllWithOneVmidFlushEach) {
  init();
  ASSERT_EQ(map(G1 + K4, K4, 0x5000, kRW), 0);
  ASSERT_EQ(map(G1 + M2, M2, 0, kRW), 0);
  ASSERT_EQ(set_owner(G1 + 2 * M2, K4, 1), 0);
  ASSERT_EQ(map(2 * G1 + K4, K4, 0x5000, kRW), 0);
  const uint64_t e1a = entry_pa(G1, 1), e1b = entry_pa(2 * G1, 1);
  const uint64_t t2a = table_page(G1, 2), t2b = table_page(2 * G1, 2);
  const uint64_t t3a = table_page(G1, 3), t3c = table_page(G1 + 2 * M2, 3);
  const uint64_t t3b = table_page(2 * G1, 3);
  const int pgd_count = count(table_page(G1, 1));
  forget_effects();
  ASSERT_EQ(map(G1, 2 * G1, 4 * G1, kRW | kX), 0);
  EXPECT_EQ(effects(),
            (Effects{store(e1a, table(t2a), 0), tlbi_vmid(), dcache(4 * G1, G1), icache(4 * G1, G1),
                     store(e1a, 0, block(4 * G1, kAttrRWX)), store(e1b, table(t2b), 0), tlbi_vmid(),
                     dcache(5 * G1, G1), icache(5 * G1, G1), store(e1b, 0, block(5 * G1, kAttrRWX)),
                     dsb_ishst()}));
  for (uint64_t t : {t2a, t2b, t3a, t3b, t3c}) EXPECT_FALSE(live(t)) << std::hex << t;
  EXPECT_EQ(count(table_page(G1, 1)), pgd_count);
  EXPECT_EQ(machine_.memory.live_pages(), 2u);
}

TEST_P(Semantics, MapIssuesItsBarrierAfterTheWalkEvenWhenTheWalkFails) {
  init();
  ASSERT_EQ(map(0, K4, 0, kR), 0);
  forget_effects();
  EXPECT_EQ(map(0, K4, 0, kR), -EAGAIN);
  EXPECT_EQ(map(M2, K4, 0, kR, kNoMemcache), -ENOMEM);
  EXPECT_EQ(map(uint64_t{1} << 40, K4, 0, kR), -ERANGE);
  EXPECT_EQ(effects(), (Effects{dsb_ishst(), dsb_ishst(), dsb_ishst()}));
}

// ---- unmap ------------------------------------------------------------------------------------

TEST_P(Semantics, UnmapInsideABlockRemovesTheWholeBlock) {
  init();
  ASSERT_EQ(map(M2, M2, 4 * M2, kRW), 0);
  ASSERT_EQ(map(0, K4, 0x5000, kRW), 0);
  const uint64_t e = entry_pa(M2, 2), t2 = table_page(M2, 2);
  forget_effects();
  // The TLBI names the page the walk reached, at the block's level.
  ASSERT_EQ(backend_->unmap(M2 + 2 * K4, K4), 0);
  EXPECT_EQ(effects(), (Effects{store(e, block(4 * M2, kAttrRW), 0), tlbi(M2 + 2 * K4, 2),
                                dcache(4 * M2, M2)}));
  EXPECT_EQ(desc(M2, 2), 0u);
  EXPECT_EQ(desc(M2 + M2 - K4, 2), 0u);
  EXPECT_EQ(count(t2), 2);
}

TEST_P(Semantics, UnmapCleansTheCacheOnlyForNormalMemoryWithoutFwb) {
  for (bool fwb : {false, true}) {
    SCOPED_TRACE(fwb);
    init(config_with(40, fwb));
    ASSERT_EQ(map(0x1000, K4, 0x8000, kRW), 0);
    ASSERT_EQ(map(0x2000, K4, 0x9000, kRW | kDevice), 0);
    ASSERT_EQ(map(0x3000, K4, 0xa000, kRW), 0);
    const uint64_t e1 = entry_pa(0x1000, 3), e2 = entry_pa(0x2000, 3);
    const uint64_t normal = fwb ? kAttrRWFwb : kAttrRW;
    const uint64_t device = fwb ? kAttrRWDeviceFwb : kAttrRWDevice;
    forget_effects();
    ASSERT_EQ(backend_->unmap(0x1000, 2 * K4), 0);
    Effects expected{store(e1, page(0x8000, normal), 0), tlbi(0x1000, 3)};
    if (!fwb) expected.push_back(dcache(0x8000, K4));
    expected.push_back(store(e2, page(0x9000, device), 0));
    expected.push_back(tlbi(0x2000, 3));
    EXPECT_EQ(effects(), expected);
    backend_->destroy();
  }
}

TEST_P(Semantics, UnmapFreesEveryTableItLeavesEmptyInvalidatingThemAtLevelZero) {
  init();
  ASSERT_EQ(map(M2 + K4, K4, 0x5000, kRW), 0);
  const uint64_t e1 = entry_pa(M2, 1), e2 = entry_pa(M2, 2), e3 = entry_pa(M2 + K4, 3);
  const uint64_t t2 = table_page(M2, 2), t3 = table_page(M2, 3);
  forget_effects();
  ASSERT_EQ(backend_->unmap(M2 + K4, K4), 0);
  EXPECT_EQ(effects(), (Effects{store(e3, page(0x5000, kAttrRW), 0), tlbi(M2 + K4, 3),
                                dcache(0x5000, K4), store(e2, table(t3), 0), tlbi(M2 + K4, 0),
                                store(e1, table(t2), 0), tlbi(M2 + K4, 0)}));
  EXPECT_FALSE(live(t2));
  EXPECT_FALSE(live(t3));
  EXPECT_EQ(machine_.memory.live_pages(), 2u);
  EXPECT_EQ(count(backend_->root().pgd_pa), 1);
}

TEST_P(Semantics, UnmapKeepsTablesThatStillHaveEntries) {
  init();
  ASSERT_EQ(map(0x1000, 2 * K4, 0x5000, kRW), 0);
  const uint64_t t3 = table_page(0x1000, 3);
  ASSERT_EQ(backend_->unmap(0x1000, K4), 0);
  EXPECT_TRUE(live(t3));
  EXPECT_EQ(count(t3), 2);
  EXPECT_EQ(desc(0x2000, 3), page(0x6000, kAttrRW));
}

TEST_P(Semantics, UnmapFreesEmptyTablesLeftBehindByAFailedMap) {
  init();
  ASSERT_EQ(map(0x1000, K4, 0x1000, kRW, 1), -ENOMEM);
  const uint64_t e1 = entry_pa(0, 1), t2 = table_page(0, 2);
  ASSERT_EQ(count(t2), 1);
  forget_effects();
  ASSERT_EQ(backend_->unmap(0x1000, K4), 0);
  EXPECT_EQ(effects(), (Effects{store(e1, table(t2), 0), tlbi(0x1000, 0)}));
  EXPECT_FALSE(live(t2));
}

TEST_P(Semantics, UnmapZeroesOwnerAnnotationsWithoutATlbi) {
  init();
  ASSERT_EQ(set_owner(0x3000, K4, 1), 0);
  ASSERT_EQ(map(0x4000, K4, 0x4000, kRW), 0);
  const uint64_t e = entry_pa(0x3000, 3), t3 = table_page(0x3000, 3);
  forget_effects();
  ASSERT_EQ(backend_->unmap(0x3000, K4), 0);
  EXPECT_EQ(effects(), (Effects{store(e, kOwner1, 0)}));
  EXPECT_EQ(count(t3), 2);
  // Zero entries are not written at all.
  forget_effects();
  ASSERT_EQ(backend_->unmap(0x5000, 3 * K4), 0);
  EXPECT_EQ(effects(), Effects{});
}

// ---- reference counts -------------------------------------------------------------------------

TEST_P(Semantics, PgdPagesAreCountedIndividually) {
  init();  // 40 bits: two concatenated level-1 pages of 512 GiB each
  const uint64_t pgd = backend_->root().pgd_pa;
  ASSERT_EQ(map(0, K4, 0, kRW), 0);
  ASSERT_EQ(map(G512, G1, 0, kRW), 0);
  ASSERT_EQ(map(G512 + G1, G1, G1, kRW), 0);
  EXPECT_EQ(count(pgd), 2);
  EXPECT_EQ(count(pgd + K4), 3);
  ASSERT_EQ(backend_->unmap(G512, 2 * G1), 0);
  EXPECT_EQ(count(pgd + K4), 1);
}

TEST_P(Semantics, EveryTablePageCountsOnePlusItsNonZeroEntriesAfterRandomOperations) {
  std::mt19937_64 rng(0x5e3a171c5);
  RandomStreamOptions options;
  options.max_ops = 48;
  for (int stream = 0; stream < 60; ++stream) {
    for (const Op& op : random_stream(rng, options)) {
      apply_op(*backend_, machine_, op);
      machine_.effects.clear();
      ASSERT_NO_FATAL_FAILURE(check_table_invariants(
          *backend_, machine_.memory,
          "stream " + std::to_string(stream) + " after " + std::string(op_kind_name(op.kind))));
      ASSERT_FALSE(machine_.memory.bound_reached());
    }
    backend_->destroy();
    ASSERT_EQ(machine_.memory.live_pages(), 0u);
    backend_->take_warnings();
  }
}

// ---- set_owner --------------------------------------------------------------------------------

TEST_P(Semantics, SetOwnerWritesOwnerAnnotationsOnePageAtATime) {
  init();
  ASSERT_EQ(set_owner(M2, M2, 1), 0);
  const uint64_t t2 = table_page(M2, 2), t3 = table_page(M2, 3);
  Effects expected{store(entry_pa(M2, 1), 0, table(t2)), store(entry_pa(M2, 2), 0, table(t3))};
  for (unsigned i = 0; i < 512; ++i) {
    // Owner bits sit where MemAttr would, XN is clear: the annotation "is executable".
    expected.push_back(icache(0, K4));
    expected.push_back(store(t3 + i * 8, 0, kOwner1));
  }
  EXPECT_EQ(effects(), expected) << "no barrier after set_owner";
  EXPECT_EQ(count(t3), 1 + 512);
}

TEST_P(Semantics, SetOwnerAboveOneIsEInval) {
  init();
  EXPECT_EQ(set_owner(0, K4, 2), -EINVAL);
  EXPECT_EQ(set_owner(0, K4, 255), -EINVAL);
  EXPECT_EQ(effects(), Effects{});
}

TEST_P(Semantics, SetOwnerZeroWritesZeroButLeavesTheTablesAllocated) {
  init();
  ASSERT_EQ(set_owner(0x1000, K4, 1), 0);
  const uint64_t e = entry_pa(0x1000, 3), t3 = table_page(0x1000, 3);
  const size_t pages_before = machine_.memory.live_pages();
  forget_effects();
  // The same owner again is not a no-op: the entry is rewritten.
  ASSERT_EQ(set_owner(0x1000, K4, 1), 0);
  EXPECT_EQ(effects(), (Effects{icache(0, K4), store(e, kOwner1, kOwner1)}));
  EXPECT_EQ(count(t3), 2);
  forget_effects();
  ASSERT_EQ(set_owner(0x1000, K4, 0), 0);
  EXPECT_EQ(effects(), (Effects{icache(0, K4), store(e, kOwner1, 0)}));
  EXPECT_EQ(count(t3), 1);
  EXPECT_EQ(machine_.memory.live_pages(), pages_before);
}

TEST_P(Semantics, SetOwnerOverAMappingBreaksBeforeMaking) {
  init();
  ASSERT_EQ(map(0x1000, K4, 0x9000, kRW), 0);
  const uint64_t e = entry_pa(0x1000, 3);
  forget_effects();
  ASSERT_EQ(set_owner(0x1000, K4, 1), 0);
  EXPECT_EQ(effects(), (Effects{store(e, page(0x9000, kAttrRW), 0), tlbi(0x1000, 3), icache(0, K4),
                                store(e, 0, kOwner1)}));
  EXPECT_EQ(count(table_page(0x1000, 3)), 2);
}

TEST_P(Semantics, SetOwnerInsideABlockBreaksItIntoAnEmptyTable) {
  init();
  ASSERT_EQ(map(M2, M2, M2, kRW), 0);
  const uint64_t e2 = entry_pa(M2, 2);
  forget_effects();
  EXPECT_EQ(set_owner(M2 + K4, K4, 1, kNoMemcache), -ENOMEM);
  EXPECT_EQ(effects(), Effects{});
  ASSERT_EQ(set_owner(M2 + K4, K4, 1), 0);
  const uint64_t t3 = table_page(M2, 3);
  EXPECT_EQ(effects(),
            (Effects{store(e2, block(M2, kAttrRW), 0), tlbi(M2 + K4, 2), store(e2, 0, table(t3)),
                     icache(0, K4), store(t3 + 8, 0, kOwner1)}));
  EXPECT_EQ(count(t3), 2);
}

// ---- relax_perms ------------------------------------------------------------------------------

TEST_P(Semantics, RelaxPermsOnlyAddsPermissions) {
  init();
  ASSERT_EQ(map(0x1000, K4, 0x9000, kR), 0);
  const uint64_t e = entry_pa(0x1000, 3);
  forget_effects();
  ASSERT_EQ(backend_->relax_perms(0x1000, kW), 0);
  EXPECT_EQ(desc(0x1000, 3), page(0x9000, kAttrRW));
  // Nothing is taken away: R alone keeps W.
  ASSERT_EQ(backend_->relax_perms(0x1000, kR), 0);
  EXPECT_EQ(desc(0x1000, 3), page(0x9000, kAttrRW));
  // X clears XN, invalidating the icache first.
  ASSERT_EQ(backend_->relax_perms(0x1000, kX), 0);
  EXPECT_EQ(desc(0x1000, 3), page(0x9000, kAttrRWX));
  EXPECT_EQ(effects(),
            (Effects{store(e, page(0x9000, kAttrR), page(0x9000, kAttrRW)), tlbi(0x1000, 3),
                     tlbi(0x1000, 3), icache(0x9000, K4),
                     store(e, page(0x9000, kAttrRW), page(0x9000, kAttrRWX)), tlbi(0x1000, 3)}));
  // The device bit and other non-permission bits are ignored.
  forget_effects();
  ASSERT_EQ(backend_->relax_perms(0x1000, kDevice | (uint64_t{1} << 20)), 0);
  EXPECT_EQ(effects(), Effects{tlbi(0x1000, 3)});
}

TEST_P(Semantics, RelaxPermsWithSoftwareBitsIsEInval) {
  init();
  ASSERT_EQ(map(0x1000, K4, 0x9000, kR), 0);
  forget_effects();
  EXPECT_EQ(backend_->relax_perms(0x1000, kW | (uint64_t{1} << 55)), -EINVAL);
  EXPECT_EQ(backend_->relax_perms(0x1000, uint64_t{1} << 58), -EINVAL);
  EXPECT_EQ(effects(), Effects{});
}

TEST_P(Semantics, RelaxPermsInvalidatesAtTheLevelFoundEvenWhenNothingChangesOrIsMapped) {
  init();
  // Nothing mapped: level 0, and the caller's address exactly as given.
  EXPECT_EQ(backend_->relax_perms(0x123456, kRW), 0);
  EXPECT_EQ(effects(), Effects{tlbi(0x123456, 0)});
  ASSERT_EQ(map(M2, M2, M2, kRW), 0);
  forget_effects();
  EXPECT_EQ(backend_->relax_perms(M2 + 0x1234, kW), 0);
  EXPECT_EQ(effects(), Effects{tlbi(M2 + 0x1234, 2)});
  forget_effects();
  // Out of range: the walk fails and there is no TLBI.
  EXPECT_EQ(backend_->relax_perms(uint64_t{1} << 40, kW), -ERANGE);
  EXPECT_EQ(effects(), Effects{});
}

TEST_P(Semantics, RelaxPermsOnABlockChangesTheWholeBlockInPlace) {
  init();
  ASSERT_EQ(map(M2, M2, 4 * M2, kR), 0);
  const uint64_t e = entry_pa(M2, 2);
  forget_effects();
  ASSERT_EQ(backend_->relax_perms(M2 + 3 * K4, kW | kX), 0);
  EXPECT_EQ(effects(),
            (Effects{icache(4 * M2, M2), store(e, block(4 * M2, kAttrR), block(4 * M2, kAttrRWX)),
                     tlbi(M2 + 3 * K4, 2)}));
}

// ---- wrprotect and the access flag ------------------------------------------------------------

TEST_P(Semantics, WrprotectClearsWriteOnEveryValidLeafInPlace) {
  init();
  ASSERT_EQ(map(M2, M2, 4 * M2, kRW), 0);
  ASSERT_EQ(map(2 * M2, K4, 0x5000, kRW), 0);
  ASSERT_EQ(map(2 * M2 + K4, K4, 0x6000, kR), 0);
  ASSERT_EQ(set_owner(2 * M2 + 2 * K4, K4, 1), 0);
  const uint64_t eb = entry_pa(M2, 2), ep = entry_pa(2 * M2, 3);
  forget_effects();
  ASSERT_EQ(backend_->wrprotect(M2 + K4, 2 * M2), 0);
  // No break-before-make, no TLBI, no barrier; read-only leaves and annotations stay untouched.
  EXPECT_EQ(effects(), (Effects{store(eb, block(4 * M2, kAttrRW), block(4 * M2, kAttrR)),
                                store(ep, page(0x5000, kAttrRW), page(0x5000, kAttrR))}));
  EXPECT_EQ(desc(2 * M2 + 2 * K4, 3), kOwner1);
}

TEST_P(Semantics, MkoldClearsTheAccessFlagWithoutATlbiAndReturnsTheOldDescriptor) {
  init();
  ASSERT_EQ(map(M2, M2, 4 * M2, kRW), 0);
  const uint64_t e = entry_pa(M2, 2);
  forget_effects();
  EXPECT_EQ(backend_->mkold(M2 + 5 * K4), block(4 * M2, kAttrRW));
  EXPECT_EQ(effects(),
            (Effects{store(e, block(4 * M2, kAttrRW), block(4 * M2, kAttrRW & ~kAfBit))}));
  EXPECT_FALSE(backend_->is_young(M2));
  forget_effects();
  EXPECT_EQ(backend_->mkold(M2), block(4 * M2, kAttrRW & ~kAfBit));
  EXPECT_EQ(effects(), Effects{}) << "already old: nothing written";
}

TEST_P(Semantics, MkyoungSetsTheAccessFlagReturnsTheOldDescriptorAndIssuesABarrier) {
  init();
  ASSERT_EQ(map(0x1000, K4, 0x9000, kRW), 0);
  const uint64_t e = entry_pa(0x1000, 3);
  backend_->mkold(0x1000);
  forget_effects();
  EXPECT_EQ(backend_->mkyoung(0x1234), page(0x9000, kAttrRW & ~kAfBit));
  EXPECT_EQ(effects(), (Effects{store(e, page(0x9000, kAttrRW & ~kAfBit), page(0x9000, kAttrRW)),
                                dsb_ishst()}));
  EXPECT_TRUE(backend_->is_young(0x1000));
  forget_effects();
  EXPECT_EQ(backend_->mkyoung(0x1000), page(0x9000, kAttrRW));
  EXPECT_EQ(effects(), Effects{dsb_ishst()});
}

TEST_P(Semantics, AgingAnUnmappedOrOutOfRangeAddressReturnsZero) {
  init();
  ASSERT_EQ(set_owner(0x1000, K4, 1), 0);
  forget_effects();
  EXPECT_EQ(backend_->mkyoung(0x1000), 0u) << "owner annotations are not leaves to age";
  EXPECT_EQ(backend_->mkyoung(0x7000), 0u);
  EXPECT_EQ(backend_->mkyoung(uint64_t{1} << 40), 0u);
  EXPECT_EQ(backend_->mkold(0x1000), 0u);
  EXPECT_EQ(backend_->mkold(uint64_t{1} << 40), 0u);
  EXPECT_FALSE(backend_->is_young(0x1000));
  EXPECT_FALSE(backend_->is_young(uint64_t{1} << 40));
  // mkyoung's barrier is unconditional; mkold and is_young have none.
  EXPECT_EQ(effects(), (Effects{dsb_ishst(), dsb_ishst(), dsb_ishst()}));
}

// ---- flush ------------------------------------------------------------------------------------

TEST_P(Semantics, FlushCleansEveryCacheableLeafWithoutFwb) {
  init();
  ASSERT_EQ(map(M2, M2, 4 * M2, kRW), 0);
  ASSERT_EQ(map(2 * M2, K4, 0x5000, kRW | kDevice), 0);
  ASSERT_EQ(map(2 * M2 + K4, K4, 0x6000, kR), 0);
  ASSERT_EQ(set_owner(2 * M2 + 2 * K4, K4, 1), 0);
  forget_effects();
  EXPECT_EQ(backend_->flush(M2 + K4, 2 * M2), 0);
  EXPECT_EQ(effects(), (Effects{dcache(4 * M2, M2), dcache(0x6000, K4)}));
  forget_effects();
  EXPECT_EQ(backend_->flush(uint64_t{1} << 40, K4), -ERANGE);
  EXPECT_EQ(effects(), Effects{});
}

TEST_P(Semantics, FlushIsANoOpWithFwbEvenOutOfRange) {
  init(config_with(40, true));
  ASSERT_EQ(map(M2, M2, 4 * M2, kRW), 0);
  forget_effects();
  EXPECT_EQ(backend_->flush(M2, M2), 0);
  EXPECT_EQ(backend_->flush(uint64_t{1} << 40, K4), 0);
  EXPECT_EQ(effects(), Effects{});
  // NOFWB turns it back on.
  backend_->destroy();
  Arm64S2Config config = config_with(40, true);
  config.nofwb = true;
  init(config);
  ASSERT_EQ(map(M2, M2, 4 * M2, kRW), 0);
  forget_effects();
  EXPECT_EQ(backend_->flush(M2, M2), 0);
  EXPECT_EQ(effects(), (Effects{dcache(4 * M2, M2)}));
  EXPECT_EQ(backend_->flush(uint64_t{1} << 40, K4), -ERANGE);
}

// ---- get_leaf ---------------------------------------------------------------------------------

TEST_P(Semantics, GetLeafReturnsTheDeepestEntryAndItsLevelValidOrNot) {
  init();
  uint64_t pte = 1;
  uint32_t level = 9;
  ASSERT_EQ(backend_->get_leaf(0x5000, &pte, &level), 0);
  EXPECT_EQ(pte, 0u);
  EXPECT_EQ(level, 1u) << "an empty table stops the walk at the start level";
  ASSERT_EQ(map(M2 + K4, K4, 0x5000, kRW), 0);
  ASSERT_EQ(backend_->get_leaf(M2 + K4 + 0x123, &pte, &level), 0);
  EXPECT_EQ(pte, page(0x5000, kAttrRW));
  EXPECT_EQ(level, 3u);
  ASSERT_EQ(backend_->get_leaf(4 * M2, &pte, &level), 0);
  EXPECT_EQ(pte, 0u);
  EXPECT_EQ(level, 2u);
  ASSERT_EQ(map(G1, G1, G1, kRW), 0);
  ASSERT_EQ(backend_->get_leaf(G1 + 12345, &pte, &level), 0);
  EXPECT_EQ(pte, block(G1, kAttrRW));
  EXPECT_EQ(level, 1u);
  ASSERT_EQ(set_owner(0x7000, K4, 1), 0);
  ASSERT_EQ(backend_->get_leaf(0x7000, &pte, &level), 0);
  EXPECT_EQ(pte, kOwner1);
  EXPECT_EQ(level, 3u);
  forget_effects();
  ASSERT_EQ(backend_->get_leaf(G1, &pte, &level), 0);
  EXPECT_EQ(effects(), Effects{}) << "get_leaf changes nothing";
}

// ---- descriptor hygiene -----------------------------------------------------------------------

TEST_P(Semantics, EveryDescriptorStoredUsesOnlyBitsTheKernelWrites) {
  std::mt19937_64 rng(0xdecafbad);
  RandomStreamOptions options;
  options.max_ops = 64;
  for (int stream = 0; stream < 60; ++stream) {
    for (const Op& op : random_stream(rng, options)) {
      apply_op(*backend_, machine_, op);
      for (const Effect& e : machine_.effects.events()) {
        if (e.kind != EffectKind::Store) continue;
        const uint64_t d = e.new_value;
        // Without the level at hand: a table is PA|0b11, a leaf never sets bit 11, OA[51:48],
        // DBM, contiguous, XN[0] or bits 59-63, and an invalid entry is 0 or owner 1.
        if (!(d & 1)) {
          EXPECT_TRUE(d == 0 || d == kOwner1) << std::hex << d;
        } else {
          EXPECT_EQ(d & arm64s2::leaf_reserved_mask(arm64s2::kLastLevel), 0u) << std::hex << d;
          EXPECT_LT(d & arm64s2::kOaMask, kPa48);
        }
      }
      machine_.effects.clear();
    }
    ASSERT_NO_FATAL_FAILURE(check_table_invariants(*backend_, machine_.memory, "end of stream"));
    backend_->destroy();
    backend_->take_warnings();
  }
}

INSTANTIATE_TEST_SUITE_P(AllBackends, Semantics, ::testing::ValuesIn(backend_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace mmudiff

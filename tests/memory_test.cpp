// SPDX-License-Identifier: GPL-2.0-only
// Simulated physical memory: kvm_pgtable_mm_ops semantics (zeroed pages with a reference count
// of one, get/put/page_count, exact multi-page allocations, phys<->virt), deterministic physical
// addresses, misuse recorded as faults (double free, get of a free page, foreign addresses, bad
// free_pages_exact), the leak report, write-after-free detection through poison, the memory bound,
// the memcache running dry, and the hardware-effect log.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "mmu/memory/effects.h"
#include "mmu/memory/sim_memory.h"

#if defined(__SANITIZE_ADDRESS__)
#define MMUDIFF_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MMUDIFF_TEST_ASAN 1
#endif
#endif

namespace mmudiff {
namespace {

constexpr uint64_t kPage = 4096;

MemoryLimits small_limits(size_t pages, size_t quarantine = 4) {
  MemoryLimits l;
  l.max_pages = pages;
  l.quarantine = quarantine;
  return l;
}

size_t count_faults(const SimMemory& m, MemoryFaultKind kind) {
  size_t n = 0;
  for (const auto& f : m.faults()) n += f.kind == kind;
  return n;
}

bool all_zero(const void* p) {
  auto* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < kPage; ++i)
    if (b[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// mm_ops semantics.

TEST(SimMemoryAlloc, ZallocPageGivesAZeroedAlignedPageWithOneReference) {
  SimMemory m;
  void* p = m.zalloc_page();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % kPage, 0u);
  EXPECT_TRUE(all_zero(p));
  EXPECT_EQ(m.page_count(p), 1);
  EXPECT_EQ(m.live_pages(), 1u);
  EXPECT_EQ(m.total_allocations(), 1u);
  EXPECT_TRUE(m.faults().empty());
}

TEST(SimMemoryAlloc, GetAndPutCountReferencesAndTheLastPutFreesThePage) {
  SimMemory m;
  void* p = m.zalloc_page();
  m.get_page(p);
  m.get_page(p);
  EXPECT_EQ(m.page_count(p), 3);
  m.put_page(p);
  EXPECT_EQ(m.page_count(p), 2);
  m.put_page(p);
  m.put_page(p);
  EXPECT_EQ(m.page_count(p), 0);
  EXPECT_EQ(m.live_pages(), 0u);
  EXPECT_FALSE(m.is_live(m.virt_to_phys(p)));
  EXPECT_TRUE(m.faults().empty());
}

TEST(SimMemoryAlloc, ReferenceCountCallsAcceptAnyAddressInsideThePage) {
  SimMemory m;
  auto* p = static_cast<uint64_t*>(m.zalloc_page());
  m.get_page(p + 17);  // a descriptor in the page, as the kernel passes ptep
  EXPECT_EQ(m.page_count(p), 2);
  EXPECT_EQ(m.page_count(p + 511), 2);
  m.put_page(p + 511);
  EXPECT_EQ(m.page_count(p), 1);
}

TEST(SimMemoryAlloc, PagesAreZeroedAgainWhenReused) {
  SimMemory m(small_limits(8, /*quarantine=*/0));
  auto* p = static_cast<uint64_t*>(m.zalloc_page());
  p[3] = 0x1234;
  m.put_page(p);
  auto* q = static_cast<uint64_t*>(m.zalloc_page());
  EXPECT_EQ(q, p) << "with no quarantine the freed page comes straight back";
  EXPECT_TRUE(all_zero(q));
  EXPECT_TRUE(m.faults().empty());
}

TEST(SimMemoryAlloc, FreedPagesWaitOutTheQuarantineBeforeReuse) {
  SimMemory m(small_limits(64, /*quarantine=*/3));
  void* first = m.zalloc_page();
  uint64_t first_pa = m.virt_to_phys(first);
  m.put_page(first);
  // Three more pages freed after it: still quarantined.
  std::vector<void*> later;
  for (int i = 0; i < 3; ++i) later.push_back(m.zalloc_page());
  for (void* p : later) EXPECT_NE(m.virt_to_phys(p), first_pa);
  for (void* p : later) m.put_page(p);
  // Now four pages wait, one more than the quarantine: the oldest is reused.
  void* again = m.zalloc_page();
  EXPECT_EQ(m.virt_to_phys(again), first_pa);
}

TEST(SimMemoryAlloc, APageReusedByAnExactAllocationIsNotHandedOutAgainAheadOfItsTurn) {
  // Each 4-page PGD reuses the run freed two rounds before (the one freed last is still within
  // the quarantine of 2): the rounds alternate between pages 0-3 and 4-7, and the nineteenth
  // takes pages 0-3 and frees them again, leaving queue entries for them from every round.
  SimMemory m(small_limits(4, /*quarantine=*/2));
  for (int round = 0; round < 19; ++round) {
    void* pgd = m.zalloc_pages_exact(4 * kPage);
    ASSERT_NE(pgd, nullptr) << round;
    EXPECT_EQ(m.virt_to_phys(pgd), SimMemory::kPhysBase + (round % 2) * 4 * kPage) << round;
    m.free_pages_exact(pgd, 4 * kPage);
  }
  // Pages 0-3 were freed last: the oldest free page is page 4, whatever the queue held for
  // pages 0-3 from their first free.
  void* p = m.zalloc_page();
  EXPECT_EQ(m.virt_to_phys(p), SimMemory::kPhysBase + 4 * kPage);
  EXPECT_TRUE(m.faults().empty());
}

// A stream that makes and destroys a thousand tables uses the memory of a few: an exact run (a
// concatenated PGD) freed long enough ago is reused, as single pages are. Before, every PGD took
// fresh pages, and a 4,000-operation stream reached 2,500 pages, faulted in again on every reset.
TEST(SimMemoryAlloc, ExactRunsFreedLongAgoAreReusedSoTheFootprintFollowsTheLiveTables) {
  SimMemory m(small_limits(4096, /*quarantine=*/64));
  uint64_t highest = 0;
  for (int table = 0; table < 1000; ++table) {
    std::vector<void*> pages{m.zalloc_pages_exact(16 * kPage)};
    for (int i = 0; i < 20; ++i) pages.push_back(m.zalloc_page());
    for (void* p : pages) {
      ASSERT_NE(p, nullptr) << table;
      highest = std::max(highest, m.virt_to_phys(p));
    }
    m.free_pages_exact(pages.front(), 16 * kPage);
    for (size_t i = 1; i < pages.size(); ++i) m.put_page(pages[i]);
  }
  // What is live at once (36 pages) and the quarantine behind it, a few times over: not 16,000.
  EXPECT_LT((highest - SimMemory::kPhysBase) / kPage, 4u * (36 + 64));
  EXPECT_TRUE(m.faults().empty());
}

TEST(SimMemoryAlloc, ExactAllocationsAreContiguousAndEachPageIsCountedOnItsOwn) {
  SimMemory m;
  auto* pgd = static_cast<uint8_t*>(m.zalloc_pages_exact(16 * kPage));
  ASSERT_NE(pgd, nullptr);
  EXPECT_EQ(m.live_pages(), 16u);
  uint64_t pa = m.virt_to_phys(pgd);
  for (unsigned i = 0; i < 16; ++i) {
    EXPECT_EQ(m.virt_to_phys(pgd + i * kPage), pa + i * kPage);
    EXPECT_EQ(m.page_count(pgd + i * kPage), 1);
    EXPECT_TRUE(all_zero(pgd + i * kPage));
  }
  // The PGD of a stage-2 table: a child entry in page 2 takes a reference on page 2 only.
  m.get_page(pgd + 2 * kPage);
  EXPECT_EQ(m.page_count(pgd + 2 * kPage), 2);
  m.put_page(pgd + 2 * kPage);
  m.free_pages_exact(pgd, 16 * kPage);
  EXPECT_EQ(m.live_pages(), 0u);
  EXPECT_TRUE(m.faults().empty());
}

TEST(SimMemoryAlloc, FreePagesExactOnlyDropsOneReferenceFromEachPage) {
  SimMemory m;
  auto* pgd = static_cast<uint8_t*>(m.zalloc_pages_exact(2 * kPage));
  m.get_page(pgd + kPage);  // a child still referencing the second page
  m.free_pages_exact(pgd, 2 * kPage);
  EXPECT_EQ(m.live_pages(), 1u);
  EXPECT_EQ(m.page_count(pgd + kPage), 1);
  EXPECT_EQ(m.report_leaks(), 1u) << "which destroy would then report as a leak";
}

TEST(SimMemoryAlloc, ZeroByteExactAllocationReturnsNothingWithoutReachingTheBound) {
  SimMemory m;
  EXPECT_EQ(m.zalloc_pages_exact(0), nullptr);
  EXPECT_FALSE(m.bound_reached());
  EXPECT_EQ(m.live_pages(), 0u);
}

TEST(SimMemoryAlloc, PeakCountsTheMostPagesLiveAtOnce) {
  SimMemory m;
  std::vector<void*> pages;
  for (int i = 0; i < 5; ++i) pages.push_back(m.zalloc_page());
  for (void* p : pages) m.put_page(p);
  m.zalloc_page();
  EXPECT_EQ(m.peak_pages(), 5u);
  EXPECT_EQ(m.live_pages(), 1u);
  EXPECT_EQ(m.total_allocations(), 6u);
}

// ---------------------------------------------------------------------------------------------
// Addresses.

TEST(SimMemoryAddresses, PhysicalAddressesStartAtTheBaseAndFitADescriptor) {
  SimMemory m;
  void* a = m.zalloc_page();
  void* b = m.zalloc_page();
  EXPECT_EQ(m.virt_to_phys(a), SimMemory::kPhysBase);
  EXPECT_EQ(m.virt_to_phys(b), SimMemory::kPhysBase + kPage);
  EXPECT_EQ(m.virt_to_phys(b) & ~0x0000'ffff'ffff'f000ULL, 0u) << "within OA [47:12]";
}

TEST(SimMemoryAddresses, TwoInstancesGivenTheSameCallsReturnTheSamePhysicalAddresses) {
  auto run = [] {
    SimMemory m(small_limits(256, 8));
    std::vector<uint64_t> pas;
    std::vector<void*> live;
    for (int round = 0; round < 50; ++round) {
      void* p = round % 7 == 3 ? m.zalloc_pages_exact(4 * kPage) : m.zalloc_page();
      pas.push_back(m.virt_to_phys(p));
      if (round % 7 != 3) live.push_back(p);
      if (round % 3 == 2) {
        m.put_page(live[live.size() / 2]);
        live.erase(live.begin() + static_cast<long>(live.size() / 2));
      }
    }
    return pas;
  };
  std::vector<uint64_t> first = run();
  std::vector<uint64_t> second = run();
  EXPECT_EQ(first, second);
  EXPECT_EQ(first.size(), 50u);
}

// A reset memory is a new one: the same calls give the same addresses, every page it hands out is
// zero, and nothing of before (faults, counts, bound, generations, freed pages) is left.
TEST(SimMemoryReset, AResetMemoryBehavesAsANewOne) {
  for (size_t resident : {size_t{8}, SimMemory::kResidentAfterReset + 8}) {
    SimMemory fresh(small_limits(4096, 8));
    SimMemory reused(small_limits(4096, 8));
    std::vector<void*> pages;
    for (size_t i = 0; i < resident; ++i) {
      void* p = reused.zalloc_page();
      ASSERT_NE(p, nullptr);
      std::memset(p, 0xa5, kPage);
      pages.push_back(p);
    }
    reused.put_page(pages[1]);
    reused.put_page(pages[1]);  // a double free: a fault
    ASSERT_FALSE(reused.faults().empty());
    reused.reset();
    EXPECT_TRUE(reused.faults().empty());
    EXPECT_EQ(reused.live_pages(), 0u);
    EXPECT_EQ(reused.peak_pages(), 0u);
    EXPECT_EQ(reused.total_allocations(), 0u);
    EXPECT_EQ(reused.change_clock(), 0u);
    EXPECT_FALSE(reused.is_live(reused.virt_to_phys(pages[0])));
    EXPECT_EQ(reused.check_freed_pages(), 0u);  // page 1's poison is gone with it
    EXPECT_EQ(reused.report_leaks(), 0u);
    for (int i = 0; i < 20; ++i) {
      void* a = fresh.zalloc_page();
      void* b = reused.zalloc_page();
      EXPECT_EQ(fresh.virt_to_phys(a), reused.virt_to_phys(b));
      EXPECT_TRUE(all_zero(b));
    }
    // Pages past the ones handed out again are zero too: a backend reading memory it never
    // allocated reads what it would have read in a new process.
    EXPECT_TRUE(all_zero(pages.back())) << resident;
  }
}

// A page a backend reached by address without allocating it (a leaf followed as a table) and
// wrote is zero again for the next stream, when it is handed out.
TEST(SimMemoryReset, APageWrittenWithoutBeingAllocatedIsZeroAfterReset) {
  SimMemory m(small_limits(64, 4));
  void* first = m.zalloc_page();
  uint64_t beyond = m.virt_to_phys(first) + 5 * kPage;
  std::memset(m.phys_to_virt(beyond), 0x5a, kPage);
  m.reset();
  void* p = nullptr;
  for (int i = 0; i < 6; ++i) p = m.zalloc_page();
  ASSERT_EQ(m.virt_to_phys(p), beyond);
  EXPECT_TRUE(all_zero(p));
}

TEST(SimMemoryAddresses, PhysToVirtAndVirtToPhysRoundTripInsideTheArena) {
  SimMemory m;
  auto* p = static_cast<uint8_t*>(m.zalloc_page());
  uint64_t pa = m.virt_to_phys(p);
  EXPECT_EQ(m.phys_to_virt(pa), p);
  EXPECT_EQ(m.phys_to_virt(pa + 0x18), p + 0x18);
  EXPECT_EQ(m.virt_to_phys(p + 0x18), pa + 0x18);
  EXPECT_EQ(m.entry_pa(p + 8), pa + 8);
}

TEST(SimMemoryAddresses, ForeignPhysicalAddressesBecomeTaggedPointersThatConvertBack) {
  SimMemory m;
  // A guest page the table maps, never table memory: it must never be dereferenced.
  uint64_t guest_pa = 0x8000'0000;
  void* va = m.phys_to_virt(guest_pa);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(va) & SimMemory::kForeignTag, SimMemory::kForeignTag);
  EXPECT_EQ(m.virt_to_phys(va), guest_pa);
  EXPECT_EQ(m.virt_to_phys(m.phys_to_virt(0)), 0u);
  EXPECT_EQ(m.virt_to_phys(m.phys_to_virt(0x0000'ffff'ffff'f000)), 0x0000'ffff'ffff'f000u);
  EXPECT_FALSE(m.is_live(guest_pa));
  EXPECT_EQ(m.table_page(guest_pa), nullptr);
  EXPECT_EQ(m.page_count(va), 0);
}

TEST(SimMemoryAddresses, TablePageGivesTheEntriesOfALivePageOnly) {
  SimMemory m;
  auto* p = static_cast<uint64_t*>(m.zalloc_page());
  p[5] = 0x4000'0000'3003;
  uint64_t pa = m.virt_to_phys(p);
  ASSERT_EQ(m.table_page(pa), p);
  EXPECT_EQ(m.table_page(pa + 0x28), p) << "any address in the page";
  EXPECT_EQ(m.table_page(pa)[5], 0x4000'0000'3003u);
  EXPECT_EQ(m.live_page_list(), std::vector<uint64_t>{pa});
  m.put_page(p);
  EXPECT_EQ(m.table_page(pa), nullptr);
  EXPECT_TRUE(m.live_page_list().empty());
}

TEST(SimMemoryAddresses, ABoundSoLargeThatPagesWouldPassTwoToTheFortyEightIsRefused) {
  MemoryLimits huge;
  huge.max_pages = size_t{1} << 36;
  EXPECT_THROW(SimMemory{huge}, std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Misuse is recorded, never a crash.

TEST(SimMemoryMisuse, PutOfAFreePageIsADoubleFree) {
  SimMemory m;
  void* p = m.zalloc_page();
  uint64_t pa = m.virt_to_phys(p);
  m.put_page(p);
  m.put_page(p);
  ASSERT_EQ(m.faults().size(), 1u);
  EXPECT_EQ(m.faults()[0].kind, MemoryFaultKind::PutOfFreePage);
  EXPECT_EQ(m.faults()[0].pa, pa);
  EXPECT_EQ(m.faults()[0].detail, "put_page");
  EXPECT_EQ(m.live_pages(), 0u) << "the double free changed nothing";
}

TEST(SimMemoryMisuse, GetOfAFreePageIsRecordedAndDoesNotResurrectIt) {
  SimMemory m;
  void* p = m.zalloc_page();
  m.put_page(p);
  m.get_page(p);
  ASSERT_EQ(m.faults().size(), 1u);
  EXPECT_EQ(m.faults()[0].kind, MemoryFaultKind::GetOfFreePage);
  EXPECT_EQ(m.faults()[0].pa, SimMemory::kPhysBase);
  EXPECT_EQ(m.page_count(p), 0);
  EXPECT_FALSE(m.is_live(SimMemory::kPhysBase));
}

TEST(SimMemoryMisuse, GetOfANeverAllocatedArenaPageIsRecorded) {
  SimMemory m;
  void* never = m.phys_to_virt(SimMemory::kPhysBase + 10 * kPage);
  m.get_page(never);
  m.put_page(never);
  EXPECT_EQ(count_faults(m, MemoryFaultKind::GetOfFreePage), 1u);
  EXPECT_EQ(count_faults(m, MemoryFaultKind::PutOfFreePage), 1u);
}

TEST(SimMemoryMisuse, ReferenceCountCallsOnForeignAddressesAreRecordedWithTheirAddress) {
  SimMemory m;
  void* guest = m.phys_to_virt(0x8000'0000);
  m.get_page(guest);
  m.put_page(guest);
  int on_stack = 0;
  m.put_page(&on_stack);
  ASSERT_EQ(m.faults().size(), 3u);
  EXPECT_EQ(m.faults()[0].kind, MemoryFaultKind::ForeignAddress);
  EXPECT_EQ(m.faults()[0].pa, 0x8000'0000u);
  EXPECT_EQ(m.faults()[0].detail, "get_page");
  EXPECT_EQ(m.faults()[1].kind, MemoryFaultKind::ForeignAddress);
  EXPECT_EQ(m.faults()[1].detail, "put_page");
  EXPECT_EQ(m.faults()[2].kind, MemoryFaultKind::ForeignAddress);
  m.clear_faults();
  EXPECT_TRUE(m.faults().empty());
}

TEST(SimMemoryMisuse, FreePagesExactOfTheWrongSizeOrAddressIsRecorded) {
  SimMemory m;
  auto* pgd = static_cast<uint8_t*>(m.zalloc_pages_exact(4 * kPage));
  uint64_t pa = m.virt_to_phys(pgd);
  m.free_pages_exact(pgd, 2 * kPage);                      // wrong size
  m.free_pages_exact(pgd + kPage, 3 * kPage);              // not the start of the run
  m.free_pages_exact(pgd + 8, 4 * kPage);                  // not page aligned
  m.free_pages_exact(m.phys_to_virt(0x8000'0000), kPage);  // foreign
  void* single = m.zalloc_page();
  m.free_pages_exact(single, kPage);  // zalloc_page, not zalloc_pages_exact
  ASSERT_EQ(count_faults(m, MemoryFaultKind::BadFreeExact), 5u);
  EXPECT_EQ(m.faults()[0].pa, pa);
  EXPECT_EQ(m.faults()[0].detail,
            "free_pages_exact(0x400000000000, 0x2000) does not match an allocation");
  EXPECT_EQ(m.faults()[3].pa, 0x8000'0000u);
  EXPECT_EQ(m.live_pages(), 5u) << "nothing was freed";
  // The right call still works, once.
  m.free_pages_exact(pgd, 4 * kPage);
  EXPECT_EQ(m.live_pages(), 1u);
  m.free_pages_exact(pgd, 4 * kPage);
  EXPECT_EQ(count_faults(m, MemoryFaultKind::BadFreeExact), 6u) << "a second free is caught";
}

TEST(SimMemoryMisuse, FaultKindsHaveNames) {
  EXPECT_STREQ(memory_fault_name(MemoryFaultKind::GetOfFreePage), "get_page of a free page");
  EXPECT_STREQ(memory_fault_name(MemoryFaultKind::PutOfFreePage), "put_page of a free page");
  EXPECT_STREQ(memory_fault_name(MemoryFaultKind::ForeignAddress), "address outside table memory");
  EXPECT_STREQ(memory_fault_name(MemoryFaultKind::WriteAfterFree), "write to a freed page");
  EXPECT_STREQ(memory_fault_name(MemoryFaultKind::LeakedPage), "page leaked");
  EXPECT_STREQ(memory_fault_name(MemoryFaultKind::BadFreeExact), "bad free_pages_exact");
}

// ---------------------------------------------------------------------------------------------
// Leaks.

TEST(SimMemoryLeaks, PagesLeftAllocatedAreReportedWithTheirAddressAndCount) {
  SimMemory m;
  void* a = m.zalloc_page();
  void* b = m.zalloc_page();
  void* c = m.zalloc_page();
  m.get_page(c);
  m.put_page(a);
  EXPECT_EQ(m.report_leaks(), 2u);
  ASSERT_EQ(m.faults().size(), 2u);
  EXPECT_EQ(m.faults()[0].kind, MemoryFaultKind::LeakedPage);
  EXPECT_EQ(m.faults()[0].pa, m.virt_to_phys(b));
  EXPECT_EQ(m.faults()[0].detail, "page 0x400000001000 still allocated, refcount 1");
  EXPECT_EQ(m.faults()[1].pa, m.virt_to_phys(c));
  EXPECT_EQ(m.faults()[1].detail, "page 0x400000002000 still allocated, refcount 2");
}

TEST(SimMemoryLeaks, NothingIsReportedWhenEveryPageWasFreed) {
  SimMemory m;
  void* a = m.zalloc_page();
  void* pgd = m.zalloc_pages_exact(2 * kPage);
  m.put_page(a);
  m.free_pages_exact(pgd, 2 * kPage);
  EXPECT_EQ(m.report_leaks(), 0u);
  EXPECT_TRUE(m.faults().empty());
}

// ---------------------------------------------------------------------------------------------
// Write-after-free. Without ASan, freed pages are filled with poison that is checked on reuse
// and on demand; with ASan, freed pages are ASan-poisoned and the write itself is the report.

#ifndef MMUDIFF_TEST_ASAN

TEST(SimMemoryPoison, FreedPagesHoldThePoisonPattern) {
  SimMemory m;
  auto* p = static_cast<uint64_t*>(m.zalloc_page());
  m.put_page(p);
  for (size_t i = 0; i < kPage / 8; ++i) ASSERT_EQ(p[i], SimMemory::kPoison) << i;
  EXPECT_EQ(m.check_freed_pages(), 0u);
}

TEST(SimMemoryPoison, AWriteToAFreedPageIsFoundByCheckFreedPages) {
  SimMemory m;
  auto* p = static_cast<uint64_t*>(m.zalloc_page());
  auto* q = static_cast<uint64_t*>(m.zalloc_page());
  m.put_page(p);
  m.put_page(q);
  q[7] = 0x0040'0000'4000'07fd;  // a late descriptor store into a freed table
  EXPECT_EQ(m.check_freed_pages(), 1u);
  ASSERT_EQ(m.faults().size(), 1u);
  EXPECT_EQ(m.faults()[0].kind, MemoryFaultKind::WriteAfterFree);
  EXPECT_EQ(m.faults()[0].pa, SimMemory::kPhysBase + kPage + 7 * 8);
  EXPECT_EQ(m.faults()[0].detail, "freed page 0x400000001000 word 7 is 0x00400000400007fd");
}

TEST(SimMemoryPoison, AWriteToAFreedPageIsFoundWhenThePageIsReused) {
  SimMemory m(small_limits(16, /*quarantine=*/0));
  auto* p = static_cast<uint64_t*>(m.zalloc_page());
  m.put_page(p);
  p[0] = 0;  // clearing an entry of a table that was already freed
  auto* again = static_cast<uint64_t*>(m.zalloc_page());
  ASSERT_EQ(again, p);
  ASSERT_EQ(m.faults().size(), 1u);
  EXPECT_EQ(m.faults()[0].kind, MemoryFaultKind::WriteAfterFree);
  EXPECT_EQ(m.faults()[0].pa, SimMemory::kPhysBase);
  EXPECT_EQ(m.faults()[0].detail,
            "freed page 0x400000000000 word 0 is 0x0000000000000000 on reuse");
  EXPECT_TRUE(all_zero(again)) << "the reused page is zeroed all the same";
}

#else  // MMUDIFF_TEST_ASAN

TEST(SimMemoryPoisonDeathTest, AWriteToAFreedPageIsAnAsanReport) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        SimMemory m;
        auto* p = static_cast<volatile uint64_t*>(m.zalloc_page());
        m.put_page(const_cast<uint64_t*>(p));
        p[7] = 1;
      },
      "use-after-poison");
}

TEST(SimMemoryPoison, CheckFreedPagesStillWorksWhenNothingWasWritten) {
  SimMemory m;
  void* p = m.zalloc_page();
  m.put_page(p);
  EXPECT_EQ(m.check_freed_pages(), 0u);
  EXPECT_TRUE(m.faults().empty());
  void* again = m.zalloc_page();
  EXPECT_TRUE(all_zero(again));
}

#endif  // MMUDIFF_TEST_ASAN

// ---------------------------------------------------------------------------------------------
// The bound.

TEST(SimMemoryBound, ZallocPageRefusesOnceMaxPagesAreLive) {
  SimMemory m(small_limits(8));
  std::vector<void*> pages;
  for (int i = 0; i < 8; ++i) {
    pages.push_back(m.zalloc_page());
    ASSERT_NE(pages.back(), nullptr) << i;
  }
  EXPECT_FALSE(m.bound_reached());
  EXPECT_EQ(m.zalloc_page(), nullptr);
  EXPECT_TRUE(m.bound_reached());
  EXPECT_EQ(m.live_pages(), 8u);
  // Freeing makes room again, but the bound stays recorded: the input was refused.
  m.put_page(pages[0]);
  EXPECT_NE(m.zalloc_page(), nullptr);
  EXPECT_TRUE(m.bound_reached());
}

TEST(SimMemoryBound, ExactAllocationsCountAgainstTheBound) {
  SimMemory m(small_limits(16));
  ASSERT_NE(m.zalloc_pages_exact(16 * kPage), nullptr);
  EXPECT_EQ(m.zalloc_page(), nullptr);
  EXPECT_TRUE(m.bound_reached());
  SimMemory n(small_limits(15));
  EXPECT_EQ(n.zalloc_pages_exact(16 * kPage), nullptr);
  EXPECT_TRUE(n.bound_reached());
  EXPECT_EQ(n.live_pages(), 0u);
}

TEST(SimMemoryBound, AnOversizedInputIsRefusedHoweverItChurnsMemory) {
  // Allocate and free in a pattern that keeps growing the live set, as a fuzzer input mapping
  // page after page would: the bound stops it at max_pages, never later.
  SimMemory m(small_limits(100, 16));
  std::vector<void*> live;
  size_t refused = 0;
  for (int i = 0; i < 1000; ++i) {
    void* p = m.zalloc_page();
    if (!p) {
      ++refused;
      continue;
    }
    live.push_back(p);
    if (i % 4 == 0) {
      m.put_page(live.front());
      live.erase(live.begin());
    }
    ASSERT_LE(m.live_pages(), 100u);
  }
  EXPECT_TRUE(m.bound_reached());
  EXPECT_GT(refused, 0u);
  EXPECT_EQ(m.peak_pages(), 100u);
  EXPECT_TRUE(m.faults().empty());
}

// ---------------------------------------------------------------------------------------------
// The memcache.

TEST(Memcache, HandsOutItsPagesThenRunsDry) {
  SimMemory m;
  Memcache mc(m, 2);
  EXPECT_EQ(mc.remaining(), 2u);
  void* a = mc.pop();
  void* b = mc.pop();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a, b);
  EXPECT_EQ(m.page_count(a), 1);
  EXPECT_TRUE(all_zero(b));
  EXPECT_EQ(mc.remaining(), 0u);
  EXPECT_EQ(mc.pop(), nullptr);
  EXPECT_EQ(mc.pop(), nullptr);
  EXPECT_EQ(m.live_pages(), 2u);
  EXPECT_FALSE(m.bound_reached()) << "running dry is not the memory bound";
}

TEST(Memcache, AnEmptyMemcacheGivesNothing) {
  SimMemory m;
  Memcache mc(m, 0);
  EXPECT_EQ(mc.pop(), nullptr);
  EXPECT_EQ(m.live_pages(), 0u);
  EXPECT_EQ(m.total_allocations(), 0u);
}

TEST(Memcache, TakesPagesOnlyWhenPoppedSoAnUnusedCacheCostsNothing) {
  SimMemory m;
  {
    Memcache mc(m, 4096);
    EXPECT_EQ(m.live_pages(), 0u);
    mc.pop();
  }
  EXPECT_EQ(m.live_pages(), 1u);
  EXPECT_EQ(m.total_allocations(), 1u);
}

TEST(Memcache, RunsDryEarlyWhenTheMemoryBoundIsReached) {
  SimMemory m(small_limits(1));
  Memcache mc(m, 3);
  EXPECT_NE(mc.pop(), nullptr);
  EXPECT_EQ(mc.pop(), nullptr);
  EXPECT_TRUE(m.bound_reached());
}

// ---------------------------------------------------------------------------------------------
// The hardware-effect log.

TEST(EffectLog, RecordsEveryEffectInProgramOrder) {
  EffectLog log;
  log.store(0x4000'0000'1008, 0, 0x4000'0000'3003);
  log.dsb(Barrier::IshSt);
  log.tlbi_ipa(0x20'0000, 2);
  log.tlbi_vmid();
  log.isb();
  log.dcache_clean_inval(0x8000'0000, 2u << 20);
  log.icache_inval(0x8000'0000, 4096);
  ASSERT_EQ(log.size(), 7u);
  const auto& e = log.events();
  EXPECT_EQ(e[0], (Effect{EffectKind::Store, 0, Barrier::None, 0x4000'0000'1008, 0, 0,
                          0x4000'0000'3003}));
  EXPECT_EQ(e[1].kind, EffectKind::Dsb);
  EXPECT_EQ(e[1].barrier, Barrier::IshSt);
  EXPECT_EQ(e[2], (Effect{EffectKind::TlbiIpa, 2, Barrier::None, 0x20'0000}));
  EXPECT_EQ(e[3].kind, EffectKind::TlbiVmid);
  EXPECT_EQ(e[4].kind, EffectKind::Isb);
  EXPECT_EQ(e[5], (Effect{EffectKind::DcacheCleanInval, 0, Barrier::None, 0x8000'0000, 2u << 20}));
  EXPECT_EQ(e[6].size, 4096u);
  log.clear();
  EXPECT_EQ(log.size(), 0u);
}

TEST(EffectLog, DescribesEachEffectOnOneLine) {
  EXPECT_EQ(describe_effect({EffectKind::Store, 0, Barrier::None, 0x1008, 0, 0, 0x3003}),
            "store [0x1008] 0x0000000000000000 -> 0x0000000000003003");
  EXPECT_EQ(describe_effect({EffectKind::TlbiIpa, 3, Barrier::None, 0x5000}),
            "tlbi-ipa 0x5000 level 3");
  EXPECT_EQ(describe_effect({EffectKind::TlbiVmid}), "tlbi-vmid");
  EXPECT_EQ(describe_effect({EffectKind::Dsb, 0, Barrier::Ish}), "dsb ish");
  EXPECT_EQ(describe_effect({EffectKind::Dsb, 0, Barrier::IshSt}), "dsb ishst");
  EXPECT_EQ(describe_effect({EffectKind::Dsb, 0, Barrier::Nsh}), "dsb nsh");
  EXPECT_EQ(describe_effect({EffectKind::Dsb, 0, Barrier::Sy}), "dsb sy");
  EXPECT_EQ(describe_effect({EffectKind::Isb}), "isb");
  EXPECT_EQ(describe_effect({EffectKind::DcacheCleanInval, 0, Barrier::None, 0x8000, 0x1000}),
            "dcache-clean-inval 0x8000 +0x1000");
  EXPECT_EQ(describe_effect({EffectKind::IcacheInval, 0, Barrier::None, 0x8000, 0x1000}),
            "icache-inval 0x8000 +0x1000");
}

}  // namespace
}  // namespace mmudiff

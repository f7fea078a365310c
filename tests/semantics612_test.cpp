// SPDX-License-Identifier: GPL-2.0-only
// The stage-2 semantics of Linux 6.12 where they differ from 6.1, one rule per test
// (docs/semantics.md, "Linux 6.12"), run against every backend of profile arm64-6.12 — the
// kernel's own code (linux612) included, so each rule is first of all a fact about 6.12 — and,
// for the results and tables, against the reference model. Expected descriptors and effects are
// spelled out bit by bit (tests/arm64_semantics.h).
#include <algorithm>

#include "mmu/ops/text_format.h"
#include "oracles/arch_walk.h"
#include "oracles/arm64_reference_model.h"
#include "tests/arm64_semantics.h"

namespace mmudiff {
namespace {

using namespace semantics;

// KVM_INVALID_PTE_LOCKED: what break-before-make leaves an entry holding while it is broken.
constexpr uint64_t kLocked = 0x400;
constexpr uint64_t kSw0 = uint64_t{1} << 55;  // KVM_PGTABLE_PROT_SW0, as prot and as descriptor

std::vector<std::string> backend_names() {
  std::vector<std::string> names;
  for (const BackendInfo& b : backends_of(ProfileId::Arm64Linux612)) names.emplace_back(b.name);
  return names;
}

class Semantics612 : public Semantics {
 protected:
  Semantics612() : Semantics(Arm64Kernel::Linux612) {}

  // kvm_pgtable_stage2_split with a split cache of `pages` pages; *left: the pages it did not take.
  int split(uint64_t addr, uint64_t size, size_t pages, size_t* left = nullptr) {
    Memcache mc(machine_.memory, pages);
    const int ret = backend_->split(addr, size, &mc);
    if (left) *left = mc.remaining();
    return ret;
  }
  // kvm_pgtable_stage2_create_unlinked from a cache of `pages` pages; *left: those it did not take.
  int create_unlinked(uint64_t phys, unsigned level, uint64_t prot, size_t pages, bool force_pte,
                      size_t* left = nullptr) {
    Memcache mc(machine_.memory, pages);
    const int ret = backend_->create_unlinked(phys, level, prot, &mc, force_pte);
    if (left) *left = mc.remaining();
    return ret;
  }
  // Entry i of the table page at pa.
  uint64_t entry(uint64_t table_pa, unsigned i) const {
    return machine_.memory.table_page(table_pa)[i];
  }
  // kvm_pgtable_stage2_map with walk flags (walk_flag bits) and a memcache of kDefaultMemcache.
  int map_with(uint8_t walk_flags, uint64_t addr, uint64_t size, uint64_t phys, uint64_t prot) {
    Memcache mc(machine_.memory, kDefaultMemcache);
    return backend_->map_with_walk_flags(addr, size, phys, prot, &mc, walk_flags);
  }
  // The effects of the first map into an empty table, of page 0x1000 to PA 0x5000 read-write:
  // three levels of tables and the page, each entry locked first.
  Effects first_page_mapped_rw_at_0x5000() const {
    const uint64_t l1 = entry_pa(0x1000, 1), l2 = entry_pa(0x1000, 2), l3 = entry_pa(0x1000, 3);
    const uint64_t l2_page = table_page(0x1000, 2), l3_page = table_page(0x1000, 3);
    return {store(l1, 0, kLocked),
            store(l1, kLocked, table(l2_page)),
            store(l2, 0, kLocked),
            store(l2, kLocked, table(l3_page)),
            store(l3, 0, kLocked),
            dcache(0x5000, K4),
            store(l3, kLocked, page(0x5000, kAttrRW)),
            dsb_ishst()};
  }
  // The TLBIs among the effects.
  Effects tlbis() const {
    Effects out;
    for (const Effect& e : effects())
      if (e.kind == EffectKind::TlbiIpa || e.kind == EffectKind::TlbiVmid) out.push_back(e);
    return out;
  }
};

// The model of 6.12 predicts the same results: the last operation of TEXT (.mmu lines after
// INIT, a 6.12 init), applied to the model after the ones before it.
OpResult model_result(const std::string& text, const std::string& init = "init kernel=6.12") {
  ReferenceModel model;
  OpResult last;
  for (const Op& op : parse_text(init + "\n" + text, "semantics612")) last = model.apply(op);
  return last;
}

// Every descriptor installed goes through the locked invalid entry first, a new table's too and
// one over an empty entry: old -> 0x400 -> new (6.1: old -> new, or old -> 0 -> new).
TEST_P(Semantics612, EveryInstalledDescriptorIsStoredLockedFirst) {
  init();
  ASSERT_EQ(map(0x1000, K4, 0x5000, kRW), 0);
  EXPECT_EQ(effects(), first_page_mapped_rw_at_0x5000());
  check_table_invariants(*backend_, machine_.memory, "after the map");
}

// A leaf replaced by another PA: the locked entry, the leaf's TLBI by IPA at its level, the CMO,
// then the new leaf.
TEST_P(Semantics612, ReplacingALeafLocksItFlushesItAndInstallsTheNewOne) {
  init();
  ASSERT_EQ(map(0x1000, K4, 0x5000, kRW), 0);
  const uint64_t l3 = entry_pa(0x1000, 3);
  forget_effects();
  ASSERT_EQ(map(0x1000, K4, 0x9000, kRW), 0);
  EXPECT_EQ(effects(),
            (Effects{store(l3, page(0x5000, kAttrRW), kLocked), tlbi(0x1000, 3), dcache(0x9000, K4),
                     store(l3, kLocked, page(0x9000, kAttrRW)), dsb_ishst()}));
}

// A change of software bits alone is one store: no break, no TLBI, no CMO (a walk that is not
// shared, as map's is here).
TEST_P(Semantics612, ChangingOnlySoftwareBitsIsOneStore) {
  init();
  ASSERT_EQ(map(0x1000, K4, 0x5000, kRW), 0);
  const uint64_t l3 = entry_pa(0x1000, 3);
  forget_effects();
  ASSERT_EQ(map(0x1000, K4, 0x5000, kRW | kSw0), 0);
  EXPECT_EQ(effects(),
            (Effects{store(l3, page(0x5000, kAttrRW), page(0x5000, kAttrRW | kSw0)), dsb_ishst()}));
}

// The same mapping again is nothing to do: 0 (6.1: -EAGAIN), and nothing stored.
TEST_P(Semantics612, MappingTheSameAgainReturnsZeroAndStoresNothing) {
  init();
  ASSERT_EQ(map(0x1000, K4, 0x5000, kRW), 0);
  forget_effects();
  EXPECT_EQ(map(0x1000, K4, 0x5000, kRW), 0);
  EXPECT_EQ(effects(), Effects{dsb_ishst()});
  EXPECT_EQ(model_result("map 0x1000 4K pa=0x5000 prot=rw\nmap 0x1000 4K pa=0x5000 prot=rw").ret,
            0);
}

// A leaf that differs only in its permissions is left as it is, and the map goes on with the rest
// of its range: 0, the next page mapped at the map's PA plus its offset (6.1: -EAGAIN, the rest
// left unmapped).
TEST_P(Semantics612, ALeafDifferingOnlyInPermissionsIsLeftAndTheRestMapped) {
  init();
  ASSERT_EQ(map(0x1000, K4, 0x5000, kR), 0);
  EXPECT_EQ(map(0x1000, 2 * K4, 0x5000, kRW), 0);
  EXPECT_EQ(desc(0x1000, 3), page(0x5000, kAttrR));
  EXPECT_EQ(desc(0x2000, 3), page(0x6000, kAttrRW));
  EXPECT_EQ(model_result("map 0x1000 4K pa=0x5000 prot=r\nmap 0x1000 8K pa=0x5000 prot=rw").ret, 0);
  check_table_invariants(*backend_, machine_.memory, "after the second map");
}

// relax_perms of an entry that is not a valid leaf: the walk (HANDLE_FAULT) fails with -EAGAIN
// (6.1: 0), and the local flush is done anyway, at an unknown level (recorded as level 0).
TEST_P(Semantics612, RelaxPermsOfNothingIsEagainAndStillFlushes) {
  init();
  EXPECT_EQ(backend_->relax_perms(0x7000, kRW), -EAGAIN);
  EXPECT_EQ(effects(), Effects{tlbi(0x7000, 0)});
  EXPECT_EQ(model_result("relax_perms 0x7000 prot=rw").ret, -EAGAIN);
  // On a valid leaf it is 0, with the flush at the leaf's level.
  ASSERT_EQ(map(0x1000, K4, 0x5000, kR), 0);
  const uint64_t l3 = entry_pa(0x1000, 3);
  forget_effects();
  EXPECT_EQ(backend_->relax_perms(0x1000, kRW), 0);
  EXPECT_EQ(effects(),
            (Effects{store(l3, page(0x5000, kAttrR), page(0x5000, kAttrRW)), tlbi(0x1000, 3)}));
}

// mkyoung of nothing returns 0 and issues no barrier (6.1: dsb ishst whatever it found).
TEST_P(Semantics612, MkyoungOfNothingIssuesNoBarrier) {
  init();
  EXPECT_EQ(backend_->mkyoung(0x7000), 0u);
  EXPECT_EQ(effects(), Effects{});
}

// An owner annotation is not executable: no instruction-cache maintenance for it (6.1's
// stage2_pte_executable looked at XN alone, which an invalid entry does not have).
TEST_P(Semantics612, OwnerAnnotationsTakeNoCacheMaintenance) {
  init();
  ASSERT_EQ(set_owner(0x1000, K4, 1), 0);
  const uint64_t l3 = entry_pa(0x1000, 3);
  ASSERT_GE(effects().size(), 2u);
  const Effects last(effects().end() - 2, effects().end());
  EXPECT_EQ(last, (Effects{store(l3, 0, kLocked), store(l3, kLocked, kOwner1)}));
  for (const Effect& e : effects()) {
    EXPECT_NE(e.kind, EffectKind::IcacheInval) << describe_effect(e);
    EXPECT_NE(e.kind, EffectKind::DcacheCleanInval) << describe_effect(e);
  }
}

// A block over a table: the table entry is locked, the block's whole range flushed (without
// FEAT_TLBIRANGE: the whole VMID), the CMO done, the block installed, and only then the old
// subtree freed (6.1 flushed and freed it on the way back up).
TEST_P(Semantics612, ABlockOverATableFlushesTheRangeThenFreesTheSubtree) {
  init();
  ASSERT_EQ(map(0x1000, K4, 0x5000, kRW), 0);
  const uint64_t l2 = entry_pa(0, 2), l3_page = table_page(0, 3);
  forget_effects();
  ASSERT_EQ(map(0, M2, 0x4000'0000, kRW), 0);
  EXPECT_EQ(effects(),
            (Effects{store(l2, table(l3_page), kLocked), tlbi_vmid(), dcache(0x4000'0000, M2),
                     store(l2, kLocked, block(0x4000'0000, kAttrRW)), dsb_ishst()}));
  EXPECT_FALSE(live(l3_page));
  check_table_invariants(*backend_, machine_.memory, "after the block");
}

// ---- split (kvm_pgtable_stage2_split) ---------------------------------------------------------

// A 2 MiB block takes one page of the split cache and becomes a table of 512 pages mapping the
// same PA range with the same attributes; the whole block goes, however little of it the range
// covers. The new table is filled while unlinked (each entry locked first, no TLBI, no CMO), then
// the block is locked, invalidated by IPA at its level where the walk met it, and replaced by the
// table; a dsb(ishst) ends the operation.
TEST_P(Semantics612, SplittingA2MBlockTakesOnePageAndMakesItsPages) {
  init();
  ASSERT_EQ(map(0x20'0000, M2, 0x4000'0000, kRW), 0);
  const uint64_t l2 = entry_pa(0x20'0000, 2);
  forget_effects();
  size_t left = 0;
  ASSERT_EQ(split(0x30'0000, K4, 3, &left), 0);
  EXPECT_EQ(left, 2u);
  const uint64_t l3_page = table_page(0x20'0000, 3);
  EXPECT_EQ(desc(0x20'0000, 2), table(l3_page));
  EXPECT_EQ(desc(0x20'0000, 3), page(0x4000'0000, kAttrRW));
  EXPECT_EQ(desc(0x3f'f000, 3), page(0x401f'f000, kAttrRW));
  const uint64_t first = entry_pa(0x20'0000, 3), last = entry_pa(0x3f'f000, 3);
  const Effects& e = effects();
  ASSERT_EQ(e.size(), 2 * 512 + 4u);
  EXPECT_EQ(Effects(e.begin(), e.begin() + 2),
            (Effects{store(first, 0, kLocked), store(first, kLocked, page(0x4000'0000, kAttrRW))}));
  EXPECT_EQ(Effects(e.end() - 6, e.end()),
            (Effects{store(last, 0, kLocked), store(last, kLocked, page(0x401f'f000, kAttrRW)),
                     store(l2, block(0x4000'0000, kAttrRW), kLocked), tlbi(0x30'0000, 2),
                     store(l2, kLocked, table(l3_page)), dsb_ishst()}));
  EXPECT_EQ(model_result("map 0x200000 2M pa=0x40000000 prot=rw\nsplit 0x300000 4K mc=3").ret, 0);
  check_table_invariants(*backend_, machine_.memory, "after the split");
}

// A 1 GiB block with 513 pages in the cache is split down to pages at once: a table of 2 MiB
// entries that are tables of pages, 513 pages taken.
TEST_P(Semantics612, SplittingA1GBlockWith513PagesGoesDownToPages) {
  init();
  ASSERT_EQ(map(G1, G1, 0x8000'0000, kRW), 0);
  forget_effects();
  size_t left = 0;
  ASSERT_EQ(split(G1, K4, 520, &left), 0);
  EXPECT_EQ(left, 7u);
  EXPECT_EQ(desc(G1, 1), table(table_page(G1, 2)));
  EXPECT_EQ(desc(G1 + 0x1234'5000, 2), table(table_page(G1 + 0x1234'5000, 3)));
  EXPECT_EQ(desc(G1 + 0x1234'5000, 3), page(0x9234'5000, kAttrRW));
  // Every entry of the 513 pages goes 0 -> locked -> new; then the block's break and make.
  EXPECT_EQ(effects().size(), 2 * 512 * 513 + 4u);
  EXPECT_EQ(tlbis(), Effects{tlbi(G1, 1)});
  EXPECT_EQ(model_result("map 1G 1G pa=0x80000000 prot=rw\nsplit 1G 4K mc=520").ret, 0);
  check_table_invariants(*backend_, machine_.memory, "after the split");
}

// With fewer than 513 pages a 1 GiB block takes one, for a table of 2 MiB blocks; the walk then
// enters that table where it met the block and splits the 2 MiB blocks of its range with a page
// each, until the cache runs dry: -ENOMEM, with what was split left split.
TEST_P(Semantics612, SplittingA1GBlockWithFewerPagesSplitsPartlyUntilTheCacheRunsDry) {
  init();
  ASSERT_EQ(map(G1, G1, 0x8000'0000, kRW), 0);
  forget_effects();
  const uint64_t start = G1 + 3 * M2 + 0x5000;  // inside the fourth 2 MiB piece; to the fifth
  size_t left = 9;
  EXPECT_EQ(split(start, M2, 2, &left), -ENOMEM);
  EXPECT_EQ(left, 0u);
  EXPECT_EQ(desc(G1, 1), table(table_page(G1, 2)));
  EXPECT_EQ(desc(G1, 2), block(0x8000'0000, kAttrRW));
  EXPECT_EQ(desc(G1 + 3 * M2, 2), table(table_page(G1 + 3 * M2, 3)));
  EXPECT_EQ(desc(start, 3), page(0x8060'5000, kAttrRW));
  EXPECT_EQ(desc(G1 + 4 * M2, 2), block(0x8080'0000, kAttrRW));
  // Both breaks are invalidated at the address the walk was at: the range's start.
  EXPECT_EQ(tlbis(), (Effects{tlbi(start, 1), tlbi(start, 2)}));
  EXPECT_EQ(effects().back(), dsb_ishst());
  EXPECT_EQ(model_result("map 1G 1G pa=0x80000000 prot=rw\nsplit 0x40605000 2M mc=2").ret, -ENOMEM);
  check_table_invariants(*backend_, machine_.memory, "after the partial split");
  // One more page splits the fifth piece too.
  forget_effects();
  EXPECT_EQ(split(start, M2, 1, &left), 0);
  EXPECT_EQ(left, 0u);
  EXPECT_EQ(desc(G1 + 4 * M2, 3), page(0x8080'0000, kAttrRW));
  EXPECT_EQ(tlbis(), Effects{tlbi(G1 + 4 * M2, 2)});
}

// An empty cache at a valid block is -ENOMEM before anything is stored; a range with no valid
// block takes nothing and returns 0, whatever the cache. Either way the dsb(ishst) is issued.
TEST_P(Semantics612, AnEmptyCacheAtABlockIsEnomemAndChangesNothing) {
  init();
  ASSERT_EQ(map(0x20'0000, M2, 0x4000'0000, kRW), 0);
  ASSERT_EQ(map(0x40'0000, K4, 0x5000, kRW), 0);
  ASSERT_EQ(set_owner(0x40'1000, K4, 1), 0);
  forget_effects();
  EXPECT_EQ(split(0x20'0000, M2, 0), -ENOMEM);
  EXPECT_EQ(effects(), Effects{dsb_ishst()});
  EXPECT_EQ(desc(0x20'0000, 2), block(0x4000'0000, kAttrRW));
  forget_effects();
  size_t left = 0;
  EXPECT_EQ(split(0x40'0000, M2, 0), 0);  // a page, an annotation, empty entries
  EXPECT_EQ(split(0x40'0000, M2, 4, &left), 0);
  EXPECT_EQ(left, 4u);
  EXPECT_EQ(effects(), (Effects{dsb_ishst(), dsb_ishst()}));
  EXPECT_EQ(model_result("map 0x200000 2M pa=0x40000000 prot=rw\nsplit 0x200000 2M mc=0").ret,
            -ENOMEM);
  // Beyond the IPA space: -ERANGE, and still the barrier.
  forget_effects();
  EXPECT_EQ(split(uint64_t{1} << 40, K4, 4), -ERANGE);
  EXPECT_EQ(effects(), Effects{dsb_ishst()});
}

// The pieces keep the block's R, W, X and software bits and nothing else
// (kvm_pgtable_stage2_pte_prot): they get map's attributes for those, so a device block's pieces
// are normal memory, and an old block's (AF clear) pieces are young.
TEST_P(Semantics612, ThePiecesKeepPermissionsAndSoftwareBitsButNotDeviceOrAccessFlag) {
  init();
  ASSERT_EQ(map(0x20'0000, M2, 0x4000'0000, kRW | kDevice | kSw0), 0);
  ASSERT_EQ(backend_->mkold(0x20'0000), block(0x4000'0000, kAttrRWDevice | kSw0));
  ASSERT_EQ(map(0x40'0000, M2, 0x4020'0000, kR | kX), 0);
  ASSERT_EQ(split(0x20'0000, 2 * M2, 2), 0);
  EXPECT_EQ(desc(0x20'0000, 3), page(0x4000'0000, kAttrRW | kSw0));
  EXPECT_EQ(desc(0x40'1000, 3), page(0x4020'1000, kAttrRX));
  EXPECT_EQ(model_result("map 0x200000 2M pa=0x40000000 prot=rwd sw=1\nmkold 0x200000\n"
                         "split 0x200000 4M mc=2")
                .ret,
            0);
  check_table_invariants(*backend_, machine_.memory, "after the split");
}

// ---- FEAT_TLBIRANGE (Arm64S2Config::tlb_range) ------------------------------------------------

Arm64S2Config with_tlb_range(bool fwb) {
  Arm64S2Config c = config_with(40, fwb);
  c.tlb_range = true;
  return c;
}

// With range TLBIs, a table entry's break flushes exactly the entry's granule, aligned down, in
// one range TLBI, where a CPU without them flushes the whole VMID.
TEST_P(Semantics612, WithTlbRangeABlockOverATableFlushesTheTablesGranuleAsARange) {
  init(with_tlb_range(false));
  ASSERT_EQ(map(0x1000, K4, 0x5000, kRW), 0);
  const uint64_t l2 = entry_pa(0, 2), l3_page = table_page(0, 3);
  forget_effects();
  ASSERT_EQ(map(0, M2, 0x4000'0000, kRW), 0);
  EXPECT_EQ(effects(),
            (Effects{store(l2, table(l3_page), kLocked), tlbi_range(0, M2), dcache(0x4000'0000, M2),
                     store(l2, kLocked, block(0x4000'0000, kAttrRW)), dsb_ishst()}));
  EXPECT_FALSE(live(l3_page));
  // A 1 GiB block over a level-1 table: one range of 262144 pages.
  ASSERT_EQ(map(G1 + M2, K4, 0x5000, kRW), 0);
  forget_effects();
  ASSERT_EQ(map(G1, G1, G1, kRW), 0);
  EXPECT_EQ(tlbis(), (Effects{tlbi_range(G1, G1)}));
  check_table_invariants(*backend_, machine_.memory, "after the blocks");
}

// Unmap with range TLBIs and FWB: the leaves are cleared without a TLBI each, the emptied tables'
// entries are flushed by IPA at any level as the walk leaves them, and one range TLBI over the
// range the caller named follows the walk.
TEST_P(Semantics612, WithTlbRangeAndFwbUnmapDefersTheLeafTlbisIntoOneRange) {
  init(with_tlb_range(true));
  ASSERT_EQ(map(G1, 4 * K4, G1, kRW), 0);
  const uint64_t l3 = entry_pa(G1, 3);
  forget_effects();
  ASSERT_EQ(backend_->unmap(G1, M2), 0);
  EXPECT_EQ(tlbis(), (Effects{tlbi(G1, 0), tlbi(G1, 0), tlbi_range(G1, M2)}));
  EXPECT_EQ(effects().back(), tlbi_range(G1, M2));
  EXPECT_EQ(effects().front(), store(l3, page(G1, kAttrRWFwb), 0));
  check_table_invariants(*backend_, machine_.memory, "after the unmap");
}

// Without FWB nothing is deferred: each leaf is flushed at its level (and cleaned).
TEST_P(Semantics612, WithTlbRangeButNoFwbUnmapFlushesEachLeaf) {
  init(with_tlb_range(false));
  ASSERT_EQ(map(G1, 2 * K4, G1, kRW), 0);
  forget_effects();
  ASSERT_EQ(backend_->unmap(G1, M2), 0);
  EXPECT_EQ(tlbis(), (Effects{tlbi(G1, 3), tlbi(G1 + K4, 3), tlbi(G1, 0), tlbi(G1, 0)}));
}

// The deferred range is the caller's address and size as given, the size in whole pages rounded
// down: the walk covers [addr rounded down, + size rounded up to pages), so a size that is not
// whole pages leaves its last page unflushed, and an unmap of less than a page flushes nothing.
// The record keeps the unaligned address (the instruction takes its page).
TEST_P(Semantics612, TheDeferredRangeIsTheCallersInWholePages) {
  init(with_tlb_range(true));
  ASSERT_EQ(map(G1, 2 * K4, G1, kRW), 0);
  forget_effects();
  ASSERT_EQ(backend_->unmap(G1 + 0x800, K4), 0);
  EXPECT_EQ(tlbis(), (Effects{tlbi_range(G1 + 0x800, K4)}));
  EXPECT_EQ(desc(G1, 3), 0u);
  EXPECT_EQ(desc(G1 + K4, 3), page(G1 + K4, kAttrRWFwb)) << "the walk stops after one page";
  // A page and a half: two pages cleared, one flushed.
  ASSERT_EQ(map(G1, K4, G1, kRW), 0);
  forget_effects();
  ASSERT_EQ(backend_->unmap(G1, K4 + 0x800), 0);
  // Both pages went, and with them the tables (the two TLBIs at any level).
  EXPECT_EQ(tlbis(), (Effects{tlbi(G1, 0), tlbi(G1, 0), tlbi_range(G1, K4)}));
  // Less than a page: cleared, and no flush at all.
  ASSERT_EQ(map(G1, 2 * K4, G1, kRW), 0);
  forget_effects();
  ASSERT_EQ(backend_->unmap(G1, 0x800), 0);
  EXPECT_EQ(desc(G1, 3), 0u);
  EXPECT_EQ(tlbis(), Effects{});
}

// The deferred flush follows the walk whatever it returned: beyond the IPA space the walk fails
// with -ERANGE and the range is flushed anyway.
TEST_P(Semantics612, TheDeferredRangeIsFlushedEvenWhenTheWalkFails) {
  init(with_tlb_range(true));
  forget_effects();
  const uint64_t beyond = uint64_t{1} << 40;
  EXPECT_EQ(backend_->unmap(beyond, M2), -ERANGE);
  EXPECT_EQ(effects(), (Effects{tlbi_range(beyond, M2)}));
}

// One range TLBI names at most MAX_TLBI_RANGE_PAGES (32 << 16 pages, 8 GiB): a longer range goes
// in chunks of that many pages, the last one what is left.
TEST_P(Semantics612, ALongDeferredRangeGoesInChunksOfMaxTlbiRangePages) {
  init(with_tlb_range(true));
  forget_effects();
  const uint64_t chunk = uint64_t{32} << 16 << 12;
  ASSERT_EQ(chunk, 8 * G1);
  EXPECT_EQ(backend_->unmap(0, 3 * chunk + K4), 0);
  EXPECT_EQ(effects(), (Effects{tlbi_range(0, chunk), tlbi_range(chunk, chunk),
                                tlbi_range(2 * chunk, chunk), tlbi_range(3 * chunk, K4)}));
}

// create_unlinked builds one page of entries a level below `level`, mapping its granule from
// phys as map fills empty entries: each entry locked, its reference taken, then stored. Nothing
// links it, so there is no TLBI, no cache maintenance and no barrier, and the table's own
// translation does not change. The backend keeps it for its caller.
TEST_P(Semantics612, CreateUnlinkedBuildsTheLevelBelowWithoutTlbiOrCacheMaintenance) {
  init();
  size_t left = 0;
  ASSERT_EQ(create_unlinked(0x4000'0000, 2, kRW | kX, 3, false, &left), 0);
  EXPECT_EQ(left, 2u);
  ASSERT_EQ(backend_->unlinked_tables().size(), 1u);
  const UnlinkedTable t = backend_->unlinked_tables()[0];
  EXPECT_EQ(t.level, 2u);
  EXPECT_EQ(count(t.pa), 513);
  const Effects& e = effects();
  ASSERT_EQ(e.size(), 2 * 512u);
  for (unsigned i = 0; i < 512; i += 511) {
    const uint64_t at = t.pa + 8 * i;
    EXPECT_EQ(e[2 * i], store(at, 0, kLocked));
    EXPECT_EQ(e[2 * i + 1], store(at, kLocked, page(0x4000'0000 + i * K4, kAttrRWX)));
  }
  EXPECT_EQ(entry(t.pa, 511), page(0x401f'f000, kAttrRWX));
  EXPECT_EQ(desc(0, 1), 0u);  // the linked table is as empty as before
  EXPECT_EQ(model_result("create_unlinked pa=0x40000000 level=2 prot=rwx mc=3").ret, 0);
}

// A level-1 table maps 1 GiB in 2 MiB blocks from one page; with force_pte it goes down to
// pages, a table of pages per entry, each linked before it is filled: 513 pages.
TEST_P(Semantics612, CreateUnlinkedWithForcePteGoesDownToPagesIn513Pages) {
  init();
  ASSERT_EQ(create_unlinked(0x8000'0000, 1, kRW, 1, false), 0);
  const uint64_t blocks = backend_->unlinked_tables()[0].pa;
  EXPECT_EQ(entry(blocks, 3), block(0x8060'0000, kAttrRW));
  size_t left = 0;
  ASSERT_EQ(create_unlinked(G1, 1, kRW, 520, true, &left), 0);
  EXPECT_EQ(left, 7u);
  const uint64_t pages = backend_->unlinked_tables()[1].pa;
  const uint64_t below = entry(pages, 5) & ~uint64_t{0xfff};
  EXPECT_EQ(entry(pages, 5), table(below));
  EXPECT_EQ(entry(below, 7), page(G1 + 5 * M2 + 7 * K4, kAttrRW));
  EXPECT_EQ(effects().size(), 2 * 512 + 2 * 512 * 513u);
  EXPECT_EQ(model_result("create_unlinked pa=1G level=1 prot=rw force_pte=1 mc=520").ret, 0);
}

// The checks come in the kernel's order: a PA not aligned to the granule is -EINVAL, then a prot
// map refuses (executable device memory) is -EINVAL, both before a page is taken; a cache that
// runs dry is -ENOMEM, and what was built is freed.
TEST_P(Semantics612, CreateUnlinkedChecksAlignmentThenProtThenTheCache) {
  init();
  const size_t pgd = machine_.memory.live_pages();
  size_t left = 0;
  EXPECT_EQ(create_unlinked(0x4000'1000, 2, kRW, 1, false, &left), -EINVAL);
  EXPECT_EQ(left, 1u);
  EXPECT_EQ(create_unlinked(0x4000'0000, 2, kRW | kX | kDevice, 1, false, &left), -EINVAL);
  EXPECT_EQ(left, 1u);
  EXPECT_EQ(create_unlinked(0x4000'0000, 2, kRW, 0, false), -ENOMEM);
  EXPECT_EQ(create_unlinked(G1, 1, kRW, 3, true, &left), -ENOMEM);
  EXPECT_EQ(left, 0u);
  EXPECT_EQ(machine_.memory.live_pages(), pgd);
  EXPECT_TRUE(backend_->unlinked_tables().empty());
  EXPECT_EQ(model_result("create_unlinked pa=0x40001000 level=2 prot=rw mc=1").ret, -EINVAL);
  EXPECT_EQ(model_result("create_unlinked pa=0x40000000 level=2 prot=rwxd mc=1").ret, -EINVAL);
  EXPECT_EQ(model_result("create_unlinked pa=1G level=1 prot=rw force_pte=1 mc=3").ret, -ENOMEM);
}

// A PA beyond the PA size maps nothing: each entry is the zero annotation, stored in place
// without the locked value (nothing the walker uses changes) and holding no reference.
TEST_P(Semantics612, AnUnlinkedTableBeyondThePaSizeHoldsZeroStoredInPlace) {
  init();
  ASSERT_EQ(create_unlinked(kPa48, 2, kRW, 1, false), 0);
  const uint64_t t = backend_->unlinked_tables()[0].pa;
  EXPECT_EQ(count(t), 1);
  ASSERT_EQ(effects().size(), 512u);
  EXPECT_EQ(effects()[0], store(t, 0, 0));
}

// free_unlinked drops every reference of the tree, children before their table, and frees its
// pages, the root last; no store, no TLBI (nothing could have cached it). The N of the operation
// counts the live tables in creation order, modulo how many; with none live it is -ENOENT.
TEST_P(Semantics612, FreeUnlinkedFreesEveryPageRootLastWithoutEffects) {
  init();
  ASSERT_EQ(create_unlinked(0x4000'0000, 2, kRW, 1, false), 0);
  ASSERT_EQ(create_unlinked(G1, 1, kRW, 513, true), 0);
  const UnlinkedTable tree = backend_->unlinked_tables()[1];
  const uint64_t first_below = entry(tree.pa, 0) & ~uint64_t{0xfff};
  forget_effects();
  Op free = parse_text("init kernel=6.12\nfree_unlinked 3", "semantics612")[1];
  EXPECT_EQ(apply_op(*backend_, machine_, free).ret, 0);  // 3 % 2: the second
  EXPECT_TRUE(effects().empty());
  const auto& frees = machine_.effects.frees();
  ASSERT_EQ(frees.size(), 513u);
  EXPECT_EQ(frees.front().pa, first_below);
  EXPECT_EQ(frees.back().pa, tree.pa);
  ASSERT_EQ(backend_->unlinked_tables().size(), 1u);
  EXPECT_EQ(backend_->unlinked_tables()[0].level, 2u);
  EXPECT_EQ(apply_op(*backend_, machine_, free).ret, 0);
  EXPECT_EQ(apply_op(*backend_, machine_, free).ret, -ENOENT);
  check_table_invariants(*backend_, machine_.memory, "after the frees");
  EXPECT_EQ(model_result("create_unlinked pa=1G level=2 prot=rw mc=1\nfree_unlinked 3").ret, 0);
  EXPECT_EQ(model_result("free_unlinked 0").ret, -ENOENT);
}

// An unlinked table is in no walk of the table: operations over the same IPAs as its own range
// [0, granule) leave it as it was.
TEST_P(Semantics612, OperationsOnTheTableLeaveUnlinkedTablesAlone) {
  init();
  ASSERT_EQ(create_unlinked(0x4000'0000, 2, kRW, 1, false), 0);
  const uint64_t t = backend_->unlinked_tables()[0].pa;
  ASSERT_EQ(map(0, M2, 0x8000'0000, kRW), 0);
  EXPECT_EQ(backend_->wrprotect(0, M2), 0);
  EXPECT_EQ(backend_->mkold(0x1000), block(0x8000'0000, kAttrR));  // the linked block's
  EXPECT_EQ(backend_->unmap(0, M2), 0);
  EXPECT_EQ(entry(t, 0), page(0x4000'0000, kAttrRW));
  EXPECT_EQ(entry(t, 1), page(0x4000'1000, kAttrRW));
  EXPECT_EQ(count(t), 513);
}

// Destroy frees the unlinked tables its caller did not (the fixture checks no page is left).
TEST_P(Semantics612, DestroyFreesTheUnlinkedTablesLeft) {
  init();
  ASSERT_EQ(create_unlinked(0, 1, kRW, 40, true), -ENOMEM);
  ASSERT_EQ(create_unlinked(0, 0, kRW, 1, false), 0);
  backend_->destroy();
  EXPECT_TRUE(backend_->unlinked_tables().empty());
  EXPECT_EQ(machine_.memory.live_pages(), 0u);
}

// ---- FEAT_LPA2 (Arm64S2Config::lpa2) ------------------------------------------------------------

Arm64S2Config with_lpa2() {
  Arm64S2Config c = config_with(40);
  c.lpa2 = true;
  return c;
}

// kvm_phys_to_pte with LPA2, spelled out: PA[49:12] where they are, PA[51:50] in bits 9:8.
constexpr uint64_t lpa2_address(uint64_t pa) {
  return (pa & 0x0003'ffff'ffff'f000) | (((pa >> 50) & 3) << 8);
}
// A leaf's attributes without SH (0x300): with LPA2 the shareability is VTCR_EL2.SH0's.
constexpr uint64_t kWithoutSh = ~uint64_t{0x300};

// The model's result for TEXT after an init with FEAT_LPA2.
OpResult model_result_lpa2(const std::string& text) {
  return model_result(text, "init kernel=6.12 lpa2=1");
}

// PA[51:50] go into descriptor bits 9:8, PA[49:48] stay where they are, and a leaf has no SH.
TEST_P(Semantics612, WithLpa2PaBits51To50GoIntoBits9To8AndALeafHasNoShareability) {
  init(with_lpa2());
  const uint64_t pa = (uint64_t{1} << 51) | (uint64_t{1} << 48) | 0x5000;
  ASSERT_EQ(map(0x1000, K4, pa, kRW), 0);
  // XN, PA[49:12] = 0x1'0000'0000'5000, PA[51:50] = 0b10 in bits 9:8, AF, S2AP RW, MemAttr 0xf.
  EXPECT_EQ(desc(0x1000, 3), 0x0041'0000'0000'56ffu);
  EXPECT_EQ(desc(0x1000, 3), page(lpa2_address(pa), kAttrRW & kWithoutSh));
  // The CMO covers the whole 52-bit PA.
  EXPECT_NE(std::find(effects().begin(), effects().end(), dcache(pa, K4)), effects().end());
  uint64_t pte = 0;
  uint32_t level = 0;
  EXPECT_EQ(backend_->get_leaf(0x1000, &pte, &level), 0);
  EXPECT_EQ(pte, 0x0041'0000'0000'56ffu);
  EXPECT_EQ(model_result_lpa2("map 0x1000 4K pa=0x9000000005000 prot=rw\nget_leaf 0x1000").value,
            0x0041'0000'0000'56ffu);
  // Without LPA2 the same PA is beyond the PA size: nothing is mapped.
  EXPECT_EQ(model_result("map 0x1000 4K pa=0x9000000005000 prot=rw\nget_leaf 0x1000").value, 0u);
  check_table_invariants(*backend_, machine_.memory, "after the map");
}

// kvm_phys_is_valid with LPA2: PAs below 2^52 are mapped, 2^52 and above map nothing (as 2^48
// does without LPA2).
TEST_P(Semantics612, WithLpa2PasUpTo52BitsAreMappedAndNoneBeyond) {
  init(with_lpa2());
  const uint64_t last = (uint64_t{1} << 52) - K4;
  ASSERT_EQ(map(0x1000, K4, last, kRW), 0);
  EXPECT_EQ(desc(0x1000, 3), page(lpa2_address(last), kAttrRW & kWithoutSh));
  EXPECT_EQ(map(0x2000, K4, uint64_t{1} << 52, kRW), 0);
  EXPECT_EQ(desc(0x2000, 3), 0u);
  backend_->destroy();
  init();
  EXPECT_EQ(map(0x2000, K4, uint64_t{1} << 48, kRW), 0);
  EXPECT_EQ(desc(0x2000, 3), 0u);
}

// Permission changes and a split keep PA[51:50] in bits 9:8: the attribute updates never touch
// them, and the pieces of a split block take the block's full PA (kvm_pte_to_phys).
TEST_P(Semantics612, WithLpa2UpdatesAndSplitsKeepTheHighPaBits) {
  init(with_lpa2());
  const uint64_t pa = (uint64_t{3} << 50) | (uint64_t{1} << 49) | M2;
  ASSERT_EQ(map(M2, M2, pa, kRW), 0);
  EXPECT_EQ(desc(M2, 2), block(lpa2_address(pa), kAttrRW & kWithoutSh));
  ASSERT_EQ(backend_->wrprotect(M2, M2), 0);
  EXPECT_EQ(desc(M2, 2), block(lpa2_address(pa), kAttrR & kWithoutSh));
  ASSERT_EQ(backend_->relax_perms(M2, kRW), 0);
  EXPECT_EQ(desc(M2, 2), block(lpa2_address(pa), kAttrRW & kWithoutSh));
  EXPECT_EQ(split(M2, M2, 1), 0);
  EXPECT_EQ(desc(M2 + 5 * K4, 3), page(lpa2_address(pa + 5 * K4), kAttrRW & kWithoutSh));
  EXPECT_EQ(model_result_lpa2("map 0x200000 2M pa=0xe000000200000 prot=rw\nwrprotect 0x200000 "
                              "2M\nrelax_perms 0x200000 prot=rw\nsplit 0x200000 2M mc=1\n"
                              "get_leaf 0x205000")
                .value,
            page(lpa2_address(pa + 5 * K4), kAttrRW & kWithoutSh));
  check_table_invariants(*backend_, machine_.memory, "after the split");
}

// A table descriptor holds its next-level table's address the same way: table pages above 2^50
// have their PA[51:50] in bits 9:8, and the hardware walk (VTCR_EL2.DS = 1) follows them.
TEST_P(Semantics612, WithLpa2TableDescriptorsCarryTheNextLevelsPaBits51To50) {
  Machine machine(MemoryLimits{.phys_base = kLpa2TablePhysBase});
  std::unique_ptr<Arm64S2Backend> backend =
      create_arm64(*find_backend(GetParam()), machine, Plant::kNone);
  Arm64S2Config config = with_lpa2();
  config.kernel = Arm64Kernel::Linux612;
  ASSERT_EQ(backend->init(config), 0);
  {
    Memcache mc(machine.memory, kDefaultMemcache);
    ASSERT_EQ(backend->map(0x1000, K4, 0x5000, kRW, &mc), 0);
  }
  const TableReader reader(*backend, machine.memory);
  const uint64_t l2_page = reader.table_page_pa(0x1000, 2);
  ASSERT_EQ(l2_page >> 50, 3u);
  EXPECT_EQ(reader.read(*reader.entry_pa(0x1000, 1)), lpa2_address(l2_page) | 0b11);
  const ArchWalk walk = arch_walk(backend->root(), machine.memory);
  EXPECT_TRUE(walk.anomalies.empty());
  ASSERT_EQ(walk.translation.mappings.size(), 1u);
  EXPECT_EQ(walk.translation.mappings[0].pa, 0x5000u);
  backend->destroy();
  EXPECT_EQ(machine.memory.live_pages(), 0u);
}

// ---- map's walk flags (KVM_PGTABLE_WALK_SHARED, _HANDLE_FAULT) ------------------------------

constexpr uint8_t kShared = walk_flag::kShared;
constexpr uint8_t kFault = walk_flag::kHandleFault;

// A shared walk never changes software bits in place: the entry is locked (cmpxchg), flushed,
// cleaned and made like any other change (without SHARED: one store).
TEST_P(Semantics612, ASharedMapBreaksBeforeMakingEvenForSoftwareBits) {
  init();
  ASSERT_EQ(map(0x1000, K4, 0x5000, kRW), 0);
  const uint64_t l3 = entry_pa(0x1000, 3);
  forget_effects();
  ASSERT_EQ(map_with(kShared, 0x1000, K4, 0x5000, kRW | kSw0), 0);
  EXPECT_EQ(effects(),
            (Effects{store(l3, page(0x5000, kAttrRW), kLocked), tlbi(0x1000, 3), dcache(0x5000, K4),
                     store(l3, kLocked, page(0x5000, kAttrRW | kSw0)), dsb_ishst()}));
  EXPECT_EQ(model_result("map 0x1000 4K pa=0x5000 prot=rw\n"
                         "map 0x1000 4K pa=0x5000 prot=rw sw=1 flags=shared")
                .ret,
            0);
  check_table_invariants(*backend_, machine_.memory, "after the shared map");
}

// Anything else a shared walk does is what the walk without it does (one thread: every cmpxchg
// finds the value the walk read), the fault path's SHARED|HANDLE_FAULT over empty entries too.
TEST_P(Semantics612, ASharedMapOfNewPagesStoresAsAnExclusiveOne) {
  init();
  ASSERT_EQ(map_with(kShared | kFault, 0x1000, K4, 0x5000, kRW), 0);
  EXPECT_EQ(effects(), first_page_mapped_rw_at_0x5000());
}

// A fault handler's map (HANDLE_FAULT) ends at a leaf that is already there up to R, W and XN,
// and returns its -EAGAIN: the rest of the range stays unmapped (without the flag: 0, and the
// rest mapped). The same mapping again is -EAGAIN too.
TEST_P(Semantics612, AFaultHandlersMapEndsWithEagainAtALeafAlreadyThere) {
  init();
  ASSERT_EQ(map(0x1000, K4, 0x5000, kR), 0);
  forget_effects();
  EXPECT_EQ(map_with(kFault, 0x1000, 2 * K4, 0x5000, kRW), -EAGAIN);
  EXPECT_EQ(effects(), Effects{dsb_ishst()});
  EXPECT_EQ(desc(0x1000, 3), page(0x5000, kAttrR));
  EXPECT_EQ(desc(0x2000, 3), 0u);
  EXPECT_EQ(map_with(kShared | kFault, 0x1000, K4, 0x5000, kR), -EAGAIN);
  EXPECT_EQ(model_result("map 0x1000 4K pa=0x5000 prot=r\n"
                         "map 0x1000 8K pa=0x5000 prot=rw flags=fault")
                .ret,
            -EAGAIN);
  EXPECT_EQ(model_result("map 0x1000 4K pa=0x5000 prot=r\n"
                         "map 0x1000 4K pa=0x5000 prot=r flags=shared,fault")
                .ret,
            -EAGAIN);
  check_table_invariants(*backend_, machine_.memory, "after the fault handler's map");
}

// ---- test_clear_young over a range ------------------------------------------------------------

constexpr uint64_t kAf = uint64_t{1} << 10;

// 1 when any valid leaf the range touches has AF set, else 0; with mkold each such leaf loses AF
// in place (one store each, in address order, no TLBI and no barrier: the MMU notifier flushes).
// Invalid entries and old leaves are passed over.
TEST_P(Semantics612, TestClearYoungIsYoungWhenAnyLeafOfTheRangeIs) {
  init();
  ASSERT_EQ(map(0x1000, K4, 0x5000, kRW), 0);
  ASSERT_EQ(map(M2, M2, 0x4000'0000, kRW), 0);
  ASSERT_EQ(set_owner(0x3000, K4, 1), 0);
  const uint64_t l3 = entry_pa(0x1000, 3), l2 = entry_pa(M2, 2);
  forget_effects();
  EXPECT_EQ(backend_->test_clear_young(0x1000, K4, /*mkold=*/true), 1);
  EXPECT_EQ(effects(), (Effects{store(l3, page(0x5000, kAttrRW), page(0x5000, kAttrRW & ~kAf))}));
  forget_effects();
  EXPECT_EQ(backend_->test_clear_young(0, 2 * M2, /*mkold=*/false), 1);
  EXPECT_EQ(effects(), Effects{});
  EXPECT_EQ(backend_->test_clear_young(0, 2 * M2, /*mkold=*/true), 1);
  EXPECT_EQ(effects(),
            (Effects{store(l2, block(0x4000'0000, kAttrRW), block(0x4000'0000, kAttrRW & ~kAf))}));
  EXPECT_EQ(backend_->test_clear_young(0, 2 * M2, /*mkold=*/false), 0);
  EXPECT_EQ(backend_->test_clear_young(0x4000'0000, M2, /*mkold=*/true), 0);
  const std::string maps =
      "map 0x1000 4K pa=0x5000 prot=rw\nmap 2M 2M pa=0x40000000 prot=rw\n"
      "set_owner 0x3000 4K owner=1\n";
  EXPECT_EQ(model_result(maps + "test_clear_young 0 4M mkold=0").ret, 1);
  EXPECT_EQ(model_result(maps + "test_clear_young 0x3000 4K mkold=1").ret, 0);
  EXPECT_EQ(model_result(maps + "test_clear_young 0 4M mkold=1\ntest_clear_young 0 4M").ret, 0);
  check_table_invariants(*backend_, machine_.memory, "after aging");
}

// A range reaching beyond the IPA size fails the walk: the kernel WARNs and answers 0, having
// aged nothing (the harness expects that warning, as for is_young beyond the IPA size).
TEST_P(Semantics612, TestClearYoungBeyondTheIpaSizeWarnsAndAgesNothing) {
  init();
  const uint64_t last = (uint64_t{1} << 40) - K4;
  ASSERT_EQ(map(last, K4, 0x5000, kRW), 0);
  backend_->take_warnings();
  forget_effects();
  EXPECT_EQ(backend_->test_clear_young(last, 2 * K4, /*mkold=*/true), 0);
  EXPECT_FALSE(backend_->take_warnings().empty());
  EXPECT_EQ(effects(), Effects{});
  EXPECT_EQ(backend_->test_clear_young(last, K4, /*mkold=*/false), 1);
  EXPECT_TRUE(backend_->take_warnings().empty());
  EXPECT_EQ(model_result("map 0xfffffff000 4K pa=0x5000 prot=rw\n"
                         "test_clear_young 0xfffffff000 8K mkold=1")
                .ret,
            0);
}

// ---- KVM_PGTABLE_PROT_NORMAL_NC -----------------------------------------------------------------

constexpr uint64_t kNc = uint64_t{1} << 4;  // KVM_PGTABLE_PROT_NORMAL_NC
// MemAttr 0x5 (MT_S2_NORMAL_NC, and MT_S2_FWB_NORMAL_NC alike) in place of normal's 0xf / 0x6.
constexpr uint64_t kAttrRWNc = (kAttrRW & ~uint64_t{0x3c}) | (0x5 << 2);

// A NORMAL_NC map installs normal non-cacheable memory, MemAttr 0x5 with and without FWB, and,
// the memory not being cacheable, without a clean to PoC; unmapping it cleans nothing either.
// get_leaf returns the descriptor as it is.
TEST_P(Semantics612, NormalNcMapsNonCacheableMemoryWithoutCacheMaintenance) {
  for (bool fwb : {false, true}) {
    SCOPED_TRACE(fwb ? "fwb" : "no fwb");
    Arm64S2Config config = config_with(40);
    config.fwb = fwb;
    init(config);
    ASSERT_EQ(map(0x1000, K4, 0x5000, kRW | kNc), 0);
    const uint64_t l3 = entry_pa(0x1000, 3);
    ASSERT_GE(effects().size(), 3u);
    EXPECT_EQ(
        Effects(effects().end() - 3, effects().end()),
        (Effects{store(l3, 0, kLocked), store(l3, kLocked, page(0x5000, kAttrRWNc)), dsb_ishst()}));
    for (const Effect& e : effects())
      EXPECT_NE(e.kind, EffectKind::DcacheCleanInval) << describe_effect(e);
    uint64_t pte = 0;
    uint32_t level = 0;
    ASSERT_EQ(backend_->get_leaf(0x1000, &pte, &level), 0);
    EXPECT_EQ(pte, page(0x5000, kAttrRWNc));
    forget_effects();
    ASSERT_EQ(backend_->unmap(0x1000, K4), 0);
    for (const Effect& e : effects())
      EXPECT_NE(e.kind, EffectKind::DcacheCleanInval) << describe_effect(e);
    backend_->destroy();
  }
  EXPECT_EQ(model_result("map 0x1000 4K pa=0x5000 prot=rwn\nget_leaf 0x1000").value,
            page(0x5000, kAttrRWNc));
}

// NORMAL_NC with X, or with DEVICE, is -EINVAL before anything happens (no walk, no barrier).
TEST_P(Semantics612, NormalNcThatIsExecutableOrDeviceIsEinval) {
  init();
  EXPECT_EQ(map(0x1000, K4, 0x5000, kRW | kNc | kX), -EINVAL);
  EXPECT_EQ(map(0x1000, K4, 0x5000, kRW | kNc | kDevice), -EINVAL);
  EXPECT_EQ(effects(), Effects{});
  EXPECT_EQ(model_result("map 0x1000 4K pa=0x5000 prot=rwxn").ret, -EINVAL);
  EXPECT_EQ(model_result("map 0x1000 4K pa=0x5000 prot=rwdn").ret, -EINVAL);
}

// kvm_pgtable_stage2_pte_prot reads back R, W, X and the software bits only: a split NC block's
// pieces are normal cacheable memory (as a device block's are).
TEST_P(Semantics612, ASplitNormalNcBlocksPiecesAreNormalMemory) {
  init();
  ASSERT_EQ(map(M2, M2, 0x4000'0000, kRW | kNc), 0);
  EXPECT_EQ(desc(M2, 2), block(0x4000'0000, kAttrRWNc));
  ASSERT_EQ(split(M2, K4, 1), 0);
  EXPECT_EQ(desc(M2, 3), page(0x4000'0000, kAttrRW));
  EXPECT_EQ(desc(M2 + 0x1000, 3), page(0x4000'1000, kAttrRW));
  EXPECT_EQ(model_result("map 2M 2M pa=0x40000000 prot=rwn\nsplit 2M 4K mc=1\nget_leaf 2M").value,
            page(0x4000'0000, kAttrRW));
}

INSTANTIATE_TEST_SUITE_P(Arm64Linux612, Semantics612, ::testing::ValuesIn(backend_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });
// A build without linux612 (and before walker and legacy learn 6.12) has no backend to run.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Semantics612);

}  // namespace
}  // namespace mmudiff

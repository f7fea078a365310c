// SPDX-License-Identifier: GPL-2.0-only
// split (Linux 6.12's kvm_pgtable_stage2_split): a leaf visitor that turns each valid block of
// the range into a table built while still unlinked, as deep as the split cache allows, and
// publishes it through the locked break-before-make. The walk then enters the new table, so the
// blocks a shallow split left (2 MiB pieces of a 1 GiB block) are split in their turn while the
// cache lasts. Best effort: the first block the cache cannot pay for ends the walk with -ENOMEM.
#include <cerrno>

#include "mmu/walker/attributes.h"
#include "mmu/walker/stage2.h"
#include "mmu/walker/walk.h"

namespace mmudiff::walker {

namespace {

using arm64s2::granule_size;
using arm64s2::kEntriesPerTable;
using arm64s2::kLastLevel;

// The protection a leaf was mapped with, as far as a descriptor tells it: R, W, X and the
// software bits. The memory type is not among them (kvm_pgtable_stage2_pte_prot), so the pieces
// of a device block are normal memory.
uint64_t leaf_prot(Pte pte) {
  uint64_t prot = pte & arm64s2::prot::kSwMask;
  if (pte & arm64s2::kS2apR) prot |= arm64s2::prot::kR;
  if (pte & arm64s2::kS2apW) prot |= arm64s2::prot::kW;
  if (pte_executable(pte)) prot |= arm64s2::prot::kX;
  return prot;
}

// Cache pages a block at `level` needs to be split down to pages: a 1 GiB block a page of 2 MiB
// entries and 512 pages of 4 KiB ones, a 2 MiB block one page.
unsigned pages_to_split_fully(unsigned level) {
  return level == 1 ? kEntriesPerTable + 1 : 1;
}

class Stage2SplitWalker {
 public:
  Stage2SplitWalker(Stage2PageTable& pgt, Memcache& cache) : pgt_(pgt), cache_(cache) {}

  int operator()(const VisitedEntry& e) {
    const Pte old = *e.ptep;
    // Pages are as small as it gets; only valid blocks are split.
    if (e.level == kLastLevel || !pte_valid(old)) return 0;
    if (e.level < arm64s2::kMinBlockLevel) {
      pgt_.warnings.push_back("WARN_ON_ONCE: a block at a level without blocks");
      return -EINVAL;
    }
    // With enough pages the new table goes down to pages at once; otherwise one page makes it a
    // level of smaller blocks, which the walk visits next.
    const bool to_pages = cache_.remaining() >= pages_to_split_fully(e.level);
    if (cache_.remaining() < 1) return -ENOMEM;

    const std::optional<Pte> attr =
        leaf_attrs_for_prot(leaf_prot(old), pgt_.has_fwb(), pgt_.lpa2());
    if (!attr) return -EINVAL;
    Pte* child = build_unlinked(pte_to_phys(old, pgt_.lpa2()), e.level + 1, *attr, to_pages);
    if (!child) return -ENOMEM;

    // Break: lock the block's entry and invalidate its translation; then make: the table.
    pgt_.mmu.write_pte(e.ptep, kLockedPte);
    pgt_.mmu.tlb_flush_ipa(e.addr, e.level);
    pgt_.mm.put_page(e.ptep);
    pgt_.mm.get_page(e.ptep);
    pgt_.mmu.write_pte(e.ptep, make_table_pte(pgt_.mm.virt_to_phys(child), pgt_.lpa2()));
    return 0;
  }

 private:
  // A table page of `level` entries mapping [phys, phys + its span) with attr, not yet reachable
  // from the table. nullptr when a page cannot be had (what was built is freed).
  Pte* build_unlinked(uint64_t phys, unsigned level, Pte attr, bool to_pages) {
    Pte* table = pgt_.mm.zalloc_page(&cache_);
    if (table && !fill_unlinked(table, phys, level, attr, to_pages)) {
      free_unlinked_table(pgt_, table, level - 1);
      return nullptr;
    }
    return table;
  }

  // Entry by entry, in address order: no TLB can hold anything of an unlinked table and the
  // memory it maps is already clean, so there is no invalidation and no cache maintenance, but
  // each entry still goes through the locked value. With to_pages, entries above the last level
  // are tables of pages, each linked before it is filled.
  bool fill_unlinked(Pte* table, uint64_t phys, unsigned level, Pte attr, bool to_pages) {
    for (unsigned i = 0; i < kEntriesPerTable; ++i) {
      const uint64_t pa = phys + i * granule_size(level);
      Pte* below = nullptr;
      if (to_pages && level < kLastLevel) {
        below = pgt_.mm.zalloc_page(&cache_);
        if (!below) return false;
      }
      pgt_.mmu.write_pte(&table[i], kLockedPte);
      pgt_.mm.get_page(&table[i]);
      pgt_.mmu.write_pte(&table[i], below
                                        ? make_table_pte(pgt_.mm.virt_to_phys(below), pgt_.lpa2())
                                        : make_leaf_pte(pa, attr, level, pgt_.plant, pgt_.lpa2()));
      if (below && !fill_unlinked(below, pa, level + 1, attr, true)) return false;
    }
    return true;
  }

  Stage2PageTable& pgt_;
  Memcache& cache_;
};

}  // namespace

int stage2_split(Stage2PageTable& pgt, uint64_t addr, uint64_t size, Memcache& cache) {
  if (!pgt.generation().has_split) return -EOPNOTSUPP;
  const int ret = walk(pgt, addr, size, Visit::Leaf, Stage2SplitWalker(pgt, cache));
  // The new tables must be visible to the hardware walker, whatever the walk got to.
  pgt.mmu.dsb_ishst();
  return ret;
}

}  // namespace mmudiff::walker

// SPDX-License-Identifier: GPL-2.0-only
// unmap: remove every leaf the range touches, whole, and free the tables this leaves empty.
#include "mmu/walker/attributes.h"
#include "mmu/walker/marked_access.h"
#include "mmu/walker/stage2.h"
#include "mmu/walker/walk.h"

namespace mmudiff::walker {

namespace {

class Stage2UnmapWalker {
 public:
  Stage2UnmapWalker(Stage2PageTable& pgt, bool defer_leaf_tlbis)
      : pgt_(pgt), defer_leaf_tlbis_(defer_leaf_tlbis) {}

  int operator()(const VisitedEntry& e) {
    const Pte pte = *e.ptep;

    if (!pte_valid(pte)) {
      // An owner annotation: nothing the TLB can hold, so no invalidation.
      if (pte_is_counted(pte)) {
        clear(e.ptep);
        pgt_.mm.put_page(e.ptep);
      }
      return 0;
    }

    Pte* child = nullptr;
    bool clean_cache = false;
    if (pte_is_table(pte, e.level)) {
      // Seen after its children (TablePost): free it only if nothing is left in it.
      child = pgt_.mm.phys_to_virt(pte_to_phys(pte, pgt_.lpa2()));
      if (pgt_.mm.page_count(child) != 1) return 0;
      // Planted: x86's TDP MMU before "KVM: x86/mmu: Don't leak non-leaf SPTEs when zapping
      // all SPTEs" skipped every table reaching past the range's end, empty or not.
      if (pgt_.plant == Plant::kWalkerLeakNonLeafOnZap && reaches_past_end(e)) [[unlikely]]
        return 0;
    } else if (pte_cacheable(pte, pgt_.has_fwb())) {
      // Without FWB the guest may have dirty lines the host would otherwise read around.
      clean_cache = !pgt_.has_fwb();
    }

    // The whole leaf goes, even when the range covers only part of a block: the rest is
    // faulted back in later.
    clear(e.ptep);
    // A table entry is flushed at once, at any level; a leaf's flush may wait for the range
    // flush after the walk.
    if (child || !defer_leaf_tlbis_) pgt_.mmu.tlb_flush_ipa(e.addr, child ? 0 : e.level);
    pgt_.mm.put_page(e.ptep);

    if (clean_cache) {
      pgt_.mm.dcache_clean_inval_poc(pte_to_phys(pte, pgt_.lpa2()), arm64s2::granule_size(e.level));
    }
    if (child) {
      pgt_.mm.put_page(child);
      // Planted: what is below is released after the page that holds it was freed, so its
      // descriptors are read from the freed page: the poison reads as a table descriptor whose
      // address is no table memory at all, and following it faults.
      if (pgt_.plant == Plant::kWalkerUseFreedTable) [[unlikely]]
        release_below(child, e.level + 1);
    }
    return 0;
  }

 private:
  // 6.12 clears with WRITE_ONCE, a scheduling point of a concurrent run (marked_access.h).
  void clear(Pte* ptep) {
    if (pgt_.generation().marks_descriptor_accesses)
      write_once(pgt_, ptep, 0);
    else
      pgt_.mmu.clear_pte(ptep);
  }

  // Tables are put, cacheable leaves cleaned, as a subtree's release does.
  void release_below(Pte* table, unsigned level) {
    for (unsigned i = 0; i < arm64s2::kEntriesPerTable; ++i) {
      const Pte pte = table[i];
      if (pte_is_table(pte, level)) {
        Pte* below = pgt_.mm.phys_to_virt(pte_to_phys(pte, pgt_.lpa2()));
        release_below(below, level + 1);
        pgt_.mm.put_page(below);
      } else if (pte_valid(pte) && !pgt_.has_fwb()) {
        pgt_.mm.dcache_clean_inval_poc(pte_to_phys(pte, pgt_.lpa2()), arm64s2::granule_size(level));
      }
    }
  }

  static bool reaches_past_end(const VisitedEntry& e) {
    const uint64_t granule = arm64s2::granule_size(e.level);
    return align_down(e.addr, granule) + granule > e.end;
  }

  Stage2PageTable& pgt_;
  const bool defer_leaf_tlbis_;
};

}  // namespace

int stage2_unmap(Stage2PageTable& pgt, uint64_t addr, uint64_t size) {
  // Only worth it with FWB: without, each leaf needs its cache maintenance anyway.
  const bool defer = pgt.generation().unmap_may_defer_leaf_tlbis && pgt.config.unmap_defers_tlbi();
  const int ret =
      walk(pgt, addr, size, Visit::Leaf | Visit::TablePost, Stage2UnmapWalker(pgt, defer));
  if (defer) {
    // The range the caller named, not the one the walk rounded out to whole pages. Planted: a
    // page short, so the TLB may keep the last page unmapped.
    const uint64_t flushed =
        pgt.plant == Plant::kWalker612RangeTlbiShort && size >= arm64s2::kPageSize
            ? size - arm64s2::kPageSize
            : size;
    pgt.tlb_flush_vmid_range(addr, flushed);
  }
  return ret;
}

}  // namespace mmudiff::walker

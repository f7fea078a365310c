// SPDX-License-Identifier: GPL-2.0-only
// flush: clean and invalidate the data cache for every cacheable mapping in a range.
#include "mmu/walker/attributes.h"
#include "mmu/walker/stage2.h"
#include "mmu/walker/walk.h"

namespace mmudiff::walker {

int stage2_flush(Stage2PageTable& pgt, uint64_t addr, uint64_t size) {
  // With FWB the table forces write-back memory, so there is nothing to clean: not even the
  // range is checked.
  if (pgt.has_fwb()) return 0;
  return walk(pgt, addr, size, Visit::Leaf, [&](const VisitedEntry& e) {
    const Pte pte = *e.ptep;
    if (pte_valid(pte) && pte_cacheable(pte, false)) {
      pgt.mm.dcache_clean_inval_poc(pte_to_phys(pte, pgt.lpa2()), arm64s2::granule_size(e.level));
    }
    return 0;
  });
}

}  // namespace mmudiff::walker

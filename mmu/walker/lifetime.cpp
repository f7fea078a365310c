// SPDX-License-Identifier: GPL-2.0-only
// Creating and destroying a table.
#include <cerrno>

#include "mmu/walker/stage2.h"
#include "mmu/walker/walk.h"

namespace mmudiff::walker {

int stage2_init(Stage2PageTable& pgt, const Arm64S2Config& config) {
  if (!arm64s2::valid_ia_bits(config.ia_bits)) return -EINVAL;
  // VTCR_EL2 decides the start level; the start level decides how many pages are concatenated.
  const arm64s2::Geometry geometry = arm64s2::geometry_for(config.ia_bits);
  const unsigned pages = pgd_pages(geometry.ia_bits, geometry.start_level);
  Pte* pgd = pgt.mm.zalloc_pages_exact(pages * arm64s2::kPageSize);
  if (!pgd) return -ENOMEM;

  pgt.pgd = pgd;
  pgt.ia_bits = geometry.ia_bits;
  pgt.start_level = geometry.start_level;
  pgt.config = config;
  // The hardware walker must not see the pages before they are zero.
  pgt.mmu.dsb_ishst();
  return 0;
}

void stage2_destroy(Stage2PageTable& pgt) {
  if (!pgt.pgd) return;
  // Children before parents: TablePost comes after a table's entries have dropped their
  // references, so releasing the table page then frees it.
  int ret =
      walk(pgt, 0, pgt.ia_limit(), Visit::Leaf | Visit::TablePost, [&](const VisitedEntry& e) {
        Pte pte = *e.ptep;
        if (!pte_is_counted(pte)) return 0;
        pgt.mm.put_page(e.ptep);
        if (pte_is_table(pte, e.level)) pgt.mm.put_page(pgt.mm.phys_to_virt(pte_to_phys(pte)));
        return 0;
      });
  if (ret) pgt.warnings.push_back("WARN_ON: destroy walk failed");
  pgt.mm.free_pages_exact(pgt.pgd, pgt.pgd_pages() * arm64s2::kPageSize);
  pgt.pgd = nullptr;
}

}  // namespace mmudiff::walker

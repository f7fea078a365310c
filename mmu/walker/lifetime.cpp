// SPDX-License-Identifier: GPL-2.0-only
// Creating and destroying a table, and freeing a subtree map has unlinked (6.12).
#include <cerrno>

#include "mmu/walker/stage2.h"
#include "mmu/walker/walk.h"

namespace mmudiff::walker {

namespace {

// What one entry holds goes: its reference on the page holding it and, for a table, the table
// page's own reference, which frees the page once its entries have dropped theirs (children
// come before their table entry's visit, so they have).
void release_entry(Stage2PageTable& pgt, Pte* ptep, Pte pte, unsigned level) {
  if (!pte_is_counted(pte)) return;
  pgt.mm.put_page(ptep);
  if (pte_is_table(pte, level)) pgt.mm.put_page(pgt.mm.phys_to_virt(pte_to_phys(pte, pgt.lpa2())));
}

// Every entry of a table page at level, depth first, children before their table entry: the
// order destroy's walk releases them in, so pages are freed in the same order.
void release_table_entries(Stage2PageTable& pgt, Pte* table, unsigned level) {
  for (unsigned i = 0; i < arm64s2::kEntriesPerTable; ++i) {
    const Pte pte = table[i];
    if (pte_is_table(pte, level))
      release_table_entries(pgt, pgt.mm.phys_to_virt(pte_to_phys(pte, pgt.lpa2())), level + 1);
    release_entry(pgt, &table[i], table[i], level);
  }
}

}  // namespace

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
  // The unlinked tables the caller did not free are its to free before the table goes.
  while (!pgt.unlinked.empty()) stage2_free_unlinked(pgt, 0);
  if (!pgt.pgd) return;
  // Children before parents: TablePost comes after a table's entries have dropped their
  // references, so releasing the table page then frees it.
  int ret =
      walk(pgt, 0, pgt.ia_limit(), Visit::Leaf | Visit::TablePost, [&](const VisitedEntry& e) {
        release_entry(pgt, e.ptep, *e.ptep, e.level);
        return 0;
      });
  if (ret) pgt.warnings.push_back("WARN_ON: destroy walk failed");
  pgt.mm.free_pages_exact(pgt.pgd, pgt.pgd_pages() * arm64s2::kPageSize);
  pgt.pgd = nullptr;
}

// Called once no walk can still be inside the table (map defers it by a grace period). The
// entries are released by a walk of the table alone, children before their table entry, which
// reads each entry as 6.12's kvm_pgtable_stage2_free_unlinked does (a scheduling point of a
// concurrent run per read): the grace period may end on another vCPU, in the middle of its own
// operation.
void free_unlinked_table(Stage2PageTable& pgt, Pte* table, unsigned parent_level) {
  const int ret = walk_unlinked(pgt, table, parent_level, Visit::Leaf | Visit::TablePost,
                                [&](const VisitedEntry& e) {
                                  release_entry(pgt, e.ptep, e.old, e.level);
                                  return 0;
                                });
  if (ret) pgt.warnings.push_back("WARN_ON: free_unlinked walk failed");
  // Only the unlinking entry's reference may be left.
  if (pgt.mm.page_count(table) != 1)
    pgt.warnings.push_back("WARN_ON: unlinked table still referenced");
  pgt.mm.put_page(table);
}

namespace {

// The first table page of pages in an unlinked tree (the tree itself for one at level 2).
Pte* first_table_of_pages(Stage2PageTable& pgt, Pte* table, unsigned level) {
  for (unsigned l = level + 1; l < arm64s2::kLastLevel; ++l) {
    Pte* below = nullptr;
    for (unsigned i = 0; i < arm64s2::kEntriesPerTable && !below; ++i)
      if (pte_is_table(table[i], l)) below = pgt.mm.phys_to_virt(pte_to_phys(table[i], pgt.lpa2()));
    if (!below) return nullptr;
    table = below;
  }
  return table;
}

}  // namespace

void stage2_free_unlinked(Stage2PageTable& pgt, size_t index) {
  const Stage2PageTable::Unlinked u = pgt.unlinked.at(index);
  pgt.unlinked.erase(pgt.unlinked.begin() + static_cast<std::ptrdiff_t>(index));
  // Planted: the put of one table of pages is forgotten, and the page outlives the free: the
  // tree's own for a table at level 2, else the first one below it.
  if (pgt.plant == Plant::kWalker612FreeUnlinkedLeaksLeafTable) [[unlikely]] {
    Pte* forgotten = first_table_of_pages(pgt, u.table, u.level);
    if (forgotten == u.table) {
      release_table_entries(pgt, u.table, u.level + 1);
      return;
    }
    if (forgotten) pgt.mm.get_page(forgotten);
  }
  free_unlinked_table(pgt, u.table, u.level);
}

}  // namespace mmudiff::walker

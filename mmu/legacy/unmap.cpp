// SPDX-License-Identifier: GPL-2.0-only
// unmap: every entry the range overlaps is dropped whole, and every table left empty is freed.
#include <algorithm>

#include "mmu/legacy/descriptors.h"
#include "mmu/legacy/legacy_backend.h"

namespace mmudiff::legacy {

// The cursor moves through the range one entry at a time, always at the deepest table for its
// address (found through the hash table). When it leaves a table -- the table's span ends, or the
// range does -- that table is checked and freed if empty, innermost first: the order in which the
// kernel's post-order walk clears, invalidates and frees, so the effects come out the same.
// Pages are freed in one commit at the end.
int LegacyBackend::unmap(uint64_t addr, uint64_t size) {
  IpaRange range;
  if (int ret = walk_range(addr, size, &range)) return ret;
  ZapList zap = mmu_.start_zap();
  for (uint64_t ipa = range.start; ipa < range.end;) {
    ShadowPage* table = &mmu_.deepest_table(ipa);
    uint64_t granule = granule_size(table->level());
    unmap_entry(*table, table_index(ipa, table->level()), ipa);
    uint64_t next = align_down(ipa, granule) + granule;
    while (!table->role.root &&
           (next >= range.end || is_aligned(next, table_span(table->level())))) {
      ShadowPage* parent = table->parent;
      // The table's own entry was first visited where the range or the table began.
      release_if_empty(*table, std::max(range.start, table->base_ipa), zap);
      table = parent;
    }
    ipa = next;
  }
  zap.commit();
  return 0;
}

// A valid leaf goes with break-before-make and, without FWB, its cacheable memory is cleaned to
// the point of coherency (the guest may have written it with caches off). An owner annotation is
// just cleared: no TLB can hold it.
void LegacyBackend::unmap_entry(ShadowPage& table, unsigned index, uint64_t visit_ipa) {
  uint64_t old = table.entries[index];
  if (!is_valid(old)) {
    if (old) mmu_.write_entry(table, index, 0);
    return;
  }
  bool clean = mem_attr_is_normal(old, mmu_.fwb()) && !mmu_.fwb();
  mmu_.break_before_make(table, index, visit_ipa);
  if (clean) mmu_.effects().dcache_clean_inval(output_pa(old), granule_size(table.level()));
}

void LegacyBackend::release_if_empty(ShadowPage& table, uint64_t visit_ipa, ZapList& zap) {
  if (table.present) return;
  mmu_.break_before_make(*table.parent, table.parent_index, visit_ipa);
  zap.prepare(table);
}

}  // namespace mmudiff::legacy

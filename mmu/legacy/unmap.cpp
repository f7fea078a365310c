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
//
// With 6.12's deferral (FEAT_TLBIRANGE and FWB) the leaves go without a TLBI, and the range the
// caller named (not the one rounded out to pages) is flushed after the walk, even a failed one.
int LegacyBackend::unmap(uint64_t addr, uint64_t size) {
  const bool deferred = mmu_.unmap_defers_leaf_tlbis();
  int ret = unmap_range(addr, size, deferred);
  if (deferred) mmu_.flush_ipa_range(addr, size);
  return ret;
}

int LegacyBackend::unmap_range(uint64_t addr, uint64_t size, bool leaf_tlbis_deferred) {
  IpaRange range;
  if (int ret = walk_range(addr, size, &range)) return ret;
  // Planted: the end taken as the last page to unmap, then compared as an exclusive bound.
  if (mmu_.plant() == Plant::kLegacyRangeEndOffByOne && !range.empty()) [[unlikely]]
    range.end -= kPageSize;
  ZapList zap = mmu_.start_zap();
  std::vector<ShadowPage*> freed_early;  // only ever filled by a planted bug
  bool restarted = false;                // only ever read by a planted bug
  for (uint64_t ipa = range.start; ipa < range.end;) {
    ShadowPage* table = &mmu_.deepest_table(ipa);
    uint64_t granule = granule_size(table->level());
    unmap_entry(*table, table_index(ipa, table->level()), ipa, leaf_tlbis_deferred);
    if (mmu_.plant() == Plant::kLegacyDescendFreedSubtree && !table->present && !table->role.root)
        [[unlikely]]
      free_while_in_hash(*table, ipa, &freed_early);
    uint64_t next = align_down(ipa, granule) + granule;
    // Planted: x86's TDP MMU before "KVM: x86/mmu: Ensure forward progress when yielding in TDP
    // MMU iter" resumed a restarted walk where it stood; here, once the walk has restarted, it
    // resumes at the start of the entry the fresh lookup finds, over and over.
    if (mmu_.plant() == Plant::kLegacyUnmapNeverReturns && restarted) [[unlikely]]
      next = align_down(ipa, granule);
    bool released = false;
    while (!table->role.root &&
           (next >= range.end || is_aligned(next, table_span(table->level())))) {
      ShadowPage* parent = table->parent;
      // The table's own entry was first visited where the range or the table began.
      released = release_if_empty(*table, std::max(range.start, table->base_ipa), zap) || released;
      table = parent;
    }
    ipa = next;
    restarted = restarted || released;
    // After a table went, the cursor restarts from a fresh lookup. Planted: x86's TDP MMU before
    // "KVM: x86/mmu: Don't advance iterator after restart due to yielding" stepped once more.
    if (mmu_.plant() == Plant::kLegacySkipAfterRestart && released && ipa < range.end)
        [[unlikely]] {
      uint64_t skipped = granule_size(mmu_.deepest_table(ipa).level());
      ipa = align_down(ipa, skipped) + skipped;
    }
  }
  for (ShadowPage* table : freed_early) {
    // Still in the hash table unless the cursor released it on its way out: unhook it now. Its
    // count is garbage after the cursor wrote into the freed page; the commit frees it again.
    if (!table->parent) continue;
    table->present = 0;
    zap.prepare(*table);
  }
  zap.commit();
  return 0;
}

// A valid leaf goes with break-before-make and, without FWB, its cacheable memory is cleaned to
// the point of coherency (the guest may have written it with caches off). An owner annotation is
// just cleared: no TLB can hold it.
void LegacyBackend::unmap_entry(ShadowPage& table, unsigned index, uint64_t visit_ipa,
                                bool tlbi_deferred) {
  uint64_t old = table.entries[index];
  if (!is_valid(old)) {
    if (old) mmu_.write_entry(table, index, 0);
    return;
  }
  bool clean = mem_attr_is_normal(old, mmu_.fwb()) && !mmu_.fwb();
  if (tlbi_deferred)
    mmu_.write_entry(table, index, 0);  // its TLBI is the caller's range flush
  else
    mmu_.invalidate_entry(table, index, visit_ipa);
  if (clean)
    mmu_.effects().dcache_clean_inval(output_pa(old, mmu_.layout()), granule_size(table.level()));
}

bool LegacyBackend::release_if_empty(ShadowPage& table, uint64_t visit_ipa, ZapList& zap) {
  if (table.present) return false;
  mmu_.invalidate_entry(*table.parent, table.parent_index, visit_ipa);
  zap.prepare(table);
  return true;
}

// Planted: the table page is unlinked and freed the moment its last entry goes, while the cursor
// is still inside it and the hash table still finds it -- the kernel's walkers had this bug
// ("the page table walker frees a subtree and then proceeds with walking what it has just
// freed", KVM/arm64 fixes for 6.4). The next lookup descends into the freed page and reads its
// poison as descriptors.
void LegacyBackend::free_while_in_hash(ShadowPage& table, uint64_t visit_ipa,
                                       std::vector<ShadowPage*>* freed_early) {
  mmu_.invalidate_entry(*table.parent, table.parent_index, visit_ipa);
  mmu_.release_table_page(table);
  freed_early->push_back(&table);
}

}  // namespace mmudiff::legacy

// SPDX-License-Identifier: GPL-2.0-only
// The steps of every TDP operation (tdp_table.h), from tdp_mmu.c's observable behaviour:
// which SPTEs are written, in which order, with which old values, and when pages come and go.
#include "mmu/walker_x86/tdp_table.h"

#include <algorithm>
#include <cerrno>

namespace mmudiff::walker_x86 {

namespace {

constexpr walker::IntegerBits kBits{};
// PT64_ROOT_MAX_LEVEL: what mmu_topup_memory_caches() asks of the shadow page cache, enough
// for every table a fault on a 5-level root can link.
constexpr size_t kCachePages = 5;

bool present(Pte spte) {
  return spte_present(kBits, spte);
}
bool last(Pte spte, unsigned level) {
  return spte_last(kBits, spte, level);
}

}  // namespace

void TdpTable::store(Pte* sptep, Pte new_spte) {
  const Pte old = *sptep;
  *sptep = new_spte;
  machine_.effects.store(machine_.memory.entry_pa(sptep), old, new_spte);
}

void TdpTable::set_spte(Pte* sptep, Pte new_spte, uint64_t gfn, unsigned level, bool shared) {
  const Pte old = *sptep;
  store(sptep, new_spte);
  handle_changed(gfn, old, new_spte, level, shared);
}

void TdpTable::zap_spte_atomic(Pte* sptep, uint64_t gfn, unsigned level) {
  const Pte old = *sptep;
  // Frozen first, so no other vCPU installs anything before the TLBs forget the old entry.
  store(sptep, ept::kFrozen);
  machine_.effects.tlb_flush_range(gfn << ept::kPageShift, ept::level_size(level), level);
  store(sptep, ept::kNonPresent);
  handle_changed(gfn, old, ept::kNonPresent, level, true);
}

void TdpTable::link_table(Pte* sptep, Pte* child, uint64_t gfn, unsigned level, bool shared) {
  // The child's fill (non-present values, or a split's children) was written before anything
  // could see the page: the log gets it now, just before the entry that publishes it.
  record_unlinked(child);
  set_spte(sptep, make_table_spte(kBits, masks(), mm_.virt_to_phys(child)), gfn, level, shared);
}

void TdpTable::handle_changed(uint64_t gfn, Pte old_spte, Pte new_spte, unsigned level,
                              bool shared) {
  const bool was_present = present(old_spte), is_present = present(new_spte);
  const bool was_leaf = was_present && last(old_spte, level);
  const bool is_leaf = is_present && last(new_spte, level);
  const bool pfn_changed = (old_spte & ept::kAddrMask) != (new_spte & ept::kAddrMask);
  if (was_leaf && is_leaf && pfn_changed) warn("BUG: a present leaf replaced by another pfn's");
  if (old_spte == new_spte || (!was_present && !is_present)) return;
  // A table that stopped being one: a leaf, nothing, or (which KVM warns about) another table.
  if (was_present && !was_leaf && (is_leaf || !is_present || pfn_changed)) {
    if (is_present && !is_leaf) warn("WARN_ON_ONCE: a table entry re-pointed");
    remove_table(mm_.phys_to_virt(old_spte & ept::kAddrMask), gfn, level - 1, shared);
  }
}

// handle_removed_pt: every entry of the unlinked table is frozen -- all of them when others
// might hold the lock too, only the present ones under the write lock -- and what hung below is
// removed in turn, depth first; the page goes once the RCU readers are done.
void TdpTable::remove_table(Pte* table, uint64_t base_gfn, unsigned level, bool shared) {
  set_nx_disallowed(table, false);
  for (unsigned i = 0; i < ept::kEntriesPerTable; ++i) {
    Pte* sptep = table + i;
    const Pte old = *sptep;
    if (!shared && !present(old)) continue;
    store(sptep, ept::kFrozen);
    handle_changed(base_gfn + i * pages_per_entry(level), old, ept::kFrozen, level, shared);
  }
  rcu_queue_.push_back(table);
}

Pte* TdpTable::new_page(bool fill_nonpresent) {
  auto* page = static_cast<Pte*>(machine_.memory.zalloc_page());
  if (!page) return nullptr;
  // Plain stores into a page no table links yet (memset64 in the cache's allocator): the log
  // hears of them when the page is linked.
  if (fill_nonpresent) std::fill(page, page + ept::kEntriesPerTable, ept::kNonPresent);
  pages_[mm_.virt_to_phys(page)] = PageInfo{.unlinked = true};
  return page;
}

void TdpTable::free_page(Pte* page) {
  pages_.erase(mm_.virt_to_phys(page));
  machine_.memory.put_page(page);
}

void TdpTable::record_unlinked(Pte* page) {
  auto it = pages_.find(mm_.virt_to_phys(page));
  if (it == pages_.end() || !it->second.unlinked) return;
  it->second.unlinked = false;
  for (unsigned i = 0; i < ept::kEntriesPerTable; ++i)
    if (page[i] != 0) machine_.effects.store(machine_.memory.entry_pa(page + i), 0, page[i]);
}

int TdpTable::topup_cache() {
  while (cache_.size() < kCachePages) {
    Pte* page = new_page(true);
    if (!page) return -ENOMEM;
    cache_.push_back(page);
  }
  return 0;
}

Pte* TdpTable::cache_alloc() {
  if (cache_.empty()) {
    // The kernel warns and falls back to an atomic allocation.
    warn("WARN_ON: memory cache empty");
    return new_page(true);
  }
  Pte* page = cache_.back();
  cache_.pop_back();
  return page;
}

Pte* TdpTable::alloc_zeroed() {
  return new_page(false);
}

bool TdpTable::nx_disallowed(uint64_t table_pa) const {
  auto it = pages_.find(table_pa);
  return it != pages_.end() && it->second.nx_disallowed;
}

void TdpTable::set_nx_disallowed(Pte* table, bool disallowed) {
  auto it = pages_.find(mm_.virt_to_phys(table));
  if (it != pages_.end()) it->second.nx_disallowed = disallowed;
}

void TdpTable::leave() {
  while (!cache_.empty()) {
    free_page(cache_.back());
    cache_.pop_back();
  }
  for (Pte* page : rcu_queue_) free_page(page);
  rcu_queue_.clear();
}

unsigned TdpTable::max_mapping_level(const Slot& slot, uint64_t gfn, unsigned max_level) const {
  // lpage_info: a huge page the slot only partly covers, at its head or its tail, is refused.
  const auto disallowed = [&](unsigned level) {
    const unsigned shift = (level - 1) * ept::kLevelBits;
    const uint64_t mask = pages_per_entry(level) - 1;
    const uint64_t index = (gfn >> shift) - (slot.base_gfn >> shift);
    const uint64_t last = ((slot.base_gfn + slot.npages - 1) >> shift) - (slot.base_gfn >> shift);
    return (index == 0 && (slot.base_gfn & mask)) ||
           (index == last && ((slot.base_gfn + slot.npages) & mask));
  };
  unsigned level = std::min<unsigned>(max_level, config_.max_level);
  for (; level > ept::kPageLevel; --level)
    if (!disallowed(level)) break;
  if (level == ept::kPageLevel) return level;
  return std::min<unsigned>(config_.host_level, level);
}

}  // namespace mmudiff::walker_x86

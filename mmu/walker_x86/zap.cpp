// SPDX-License-Identifier: GPL-2.0-only
// Zapping leaves of a gfn range (kvm_tdp_mmu_zap_leafs) and the tables that a huge page could
// replace again (kvm_tdp_mmu_zap_collapsible_sptes).
#include <algorithm>

#include "mmu/walker_x86/tdp_ops.h"

namespace mmudiff::walker_x86 {

namespace {
constexpr walker::IntegerBits kBits{};
}

// Under the write lock; the caller flushes when a leaf went.
bool tdp_zap_leafs(TdpTable& t, uint64_t start_gfn, uint64_t end_gfn) {
  if (!t.live()) return false;
  bool flush = false;
  t.walk(start_gfn, std::min(end_gfn, t.max_gfn() + 1), ept::kPageLevel,
         [&](const walker::VisitedEntry& e) {
           const Pte old = *e.ptep;
           if (!spte_present(kBits, old) || !spte_last(kBits, old, e.level)) return 0;
           t.set_spte(e.ptep, ept::kNonPresent, TdpTable::entry_gfn(e), e.level, false);
           // Planted: the zap owes the caller a flush and does not say so.
           flush = t.plant() != Plant::kWalkerX86ZapLeafsNoFlush;
           return 0;
         });
  return flush;
}

// Under the read lock: every table at 2M or 1G inside the slot whose range the slot and the
// host would now map with one leaf is zapped (frozen, flushed, cleared), so the next fault
// installs the huge page.
void tdp_zap_collapsible(TdpTable& t, const Slot& slot) {
  if (!t.live()) return;
  const uint64_t start = slot.base_gfn, end = slot.base_gfn + slot.npages;
  t.walk(start, end, 2, [&](const walker::VisitedEntry& e) {
    const Pte old = *e.ptep;
    const uint64_t gfn = TdpTable::entry_gfn(e);
    if (e.level > ept::kMaxLeafLevel || !spte_present(kBits, old)) return 0;
    if (spte_last(kBits, old, e.level)) return 0;
    if (gfn < start || gfn >= end) return 0;
    if (t.max_mapping_level(slot, gfn, 6) < e.level) return 0;
    t.zap_spte_atomic(e.ptep, gfn, e.level);
    return 0;
  });
  t.leave();
}

}  // namespace mmudiff::walker_x86

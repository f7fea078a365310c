// SPDX-License-Identifier: GPL-2.0-only
// Aging for the MMU notifier: kvm_tdp_mmu_age_gfn_range clears what made a leaf young,
// kvm_tdp_mmu_test_age_gfn only asks.
#include "mmu/walker_x86/tdp_ops.h"

namespace mmudiff::walker_x86 {

namespace {

constexpr walker::IntegerBits kBits{};

template <typename Handler>
bool for_each_leaf(TdpTable& t, uint64_t start_gfn, uint64_t end_gfn, Handler&& handler) {
  if (!t.live()) return false;
  bool young = false;
  t.walk(start_gfn, end_gfn, ept::kPageLevel, [&](const walker::VisitedEntry& e) {
    if (spte_present(kBits, *e.ptep) && spte_last(kBits, *e.ptep, e.level))
      young |= handler(e.ptep);
    return 0;
  });
  t.leave();
  return young;
}

}  // namespace

// With A/D bits the accessed bit is cleared; without, the SPTE is access-tracked (RWX saved and
// cleared), so the next access faults and tells.
bool tdp_age_gfn_range(TdpTable& t, uint64_t start_gfn, uint64_t end_gfn) {
  return for_each_leaf(t, start_gfn, end_gfn, [&](Pte* sptep) {
    const Pte old = *sptep;
    if (!spte_accessed(kBits, t.masks(), old)) return false;
    if (spte_ad_enabled(kBits, old))
      t.store(sptep, old & ~accessed_mask(t.masks()));
    else
      t.store(sptep, mark_access_tracked(kBits, old));
    return true;
  });
}

bool tdp_test_age_gfn_range(TdpTable& t, uint64_t start_gfn, uint64_t end_gfn) {
  return for_each_leaf(t, start_gfn, end_gfn,
                       [&](Pte* sptep) { return spte_accessed(kBits, t.masks(), *sptep); });
}

}  // namespace mmudiff::walker_x86

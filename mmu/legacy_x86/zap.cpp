// SPDX-License-Identifier: GPL-2.0-only
// Zapping: leaves through the rmaps (kvm_tdp_mmu_zap_leafs), everything through the hash, level by
// level as tdp_mmu_zap_root's passes go (kvm_tdp_mmu_zap_all, and destroy), and tables that a huge
// page could replace (kvm_tdp_mmu_zap_collapsible_sptes). A removed table is frozen entry by entry
// and put on the zap list; the list is committed when the operation ends.
#include <algorithm>
#include <tuple>

#include "mmu/legacy_x86/huge_page_level.h"
#include "mmu/legacy_x86/legacy_x86_backend.h"

namespace mmudiff::legacy_x86 {

namespace ept = x86ept;

bool LegacyX86Backend::zap_leafs(uint64_t start_gfn, uint64_t end_gfn) {
  if (!mmu_.live()) return false;
  const uint64_t end = std::min(end_gfn, mmu_.max_gfn_exclusive());
  bool flush = false;
  for (const SpteRef& ref : mmu_.rmap().overlapping(start_gfn, end)) {
    // Planted: the SPTE goes, its rmap stays.
    if (mmu_.plant() == Plant::kLegacyX86RmapLeftAfterZap)
      mmu_.write_spte(*ref.sp, ref.index, ept::kNonPresent);
    else
      mmu_.set_spte(*ref.sp, ref.index, ept::kNonPresent, /*shared=*/false);
    // Planted: the caller is told nothing was zapped.
    if (mmu_.plant() != Plant::kLegacyX86ZapLeafsNoFlush) flush = true;
  }
  return flush;
}

// The passes zap the present SPTEs of one level each, 4K first, in gfn order and below
// MAXPHYADDR: the leaves of that level (from the rmaps) and the tables one level down (from the
// hash, through their parent links).
void LegacyX86Backend::zap_root(bool shared) {
  const uint64_t end = mmu_.max_gfn_exclusive();
  for (unsigned zap_level : {1u, 2u, 3u, mmu_.root_level()}) {
    std::vector<std::tuple<uint64_t, KvmMmuPage*, unsigned>> victims;
    for (const SpteRef& ref : mmu_.rmap().overlapping(0, end, zap_level))
      if (ref.level() == zap_level) victims.emplace_back(ref.gfn(), ref.sp, ref.index);
    for (KvmMmuPage* table : mmu_.tables_at(zap_level - 1))
      if (table->gfn < end && table->parent)
        victims.emplace_back(table->gfn, table->parent, table->parent_index);
    std::sort(victims.begin(), victims.end(),
              [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
    for (const auto& [gfn, sp, index] : victims)
      mmu_.set_spte(*sp, index, ept::kNonPresent, shared);
  }
}

void LegacyX86Backend::zap_all() {
  if (!mmu_.live()) return;
  zap_root(/*shared=*/false);
  mmu_.commit_zap();
}

// A table is collapsible when a huge page of its parent SPTE's level could map its whole range:
// its gfn in the slot and kvm_mmu_max_mapping_level at least that level -- with the range given
// as the slot (its alignment decides), not the VM's memslot. Parents are looked at
// before their children (pre-order); a zapped parent takes its children with it.
void LegacyX86Backend::zap_collapsible(uint64_t base_gfn, uint64_t npages) {
  if (!mmu_.live()) return;
  const uint64_t start = base_gfn, end = base_gfn + npages;
  std::vector<KvmMmuPage*> candidates;
  for (unsigned level : {2u, 1u})
    for (KvmMmuPage* table : mmu_.tables_at(level))
      if (table->gfn >= start && table->gfn < end) candidates.push_back(table);
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const KvmMmuPage* a, const KvmMmuPage* b) { return a->gfn < b->gfn; });
  constexpr unsigned kPgLevelNum = 6;  // PG_LEVEL_NUM: no limit but the VM's
  for (KvmMmuPage* table : candidates) {
    if (table->unlinked || !table->parent) continue;
    const unsigned parent_level = table->level() + 1;
    if (max_mapping_level(mmu_.config(), {base_gfn, npages}, table->gfn, kPgLevelNum) <
        parent_level)
      continue;
    mmu_.zap_spte_atomic(*table->parent, table->parent_index);
  }
  mmu_.commit_zap();
}

}  // namespace mmudiff::legacy_x86

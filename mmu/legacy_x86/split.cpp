// SPDX-License-Identifier: GPL-2.0-only
// Huge page splitting (tdp_mmu_split_huge_page, kvm_tdp_mmu_try_split_huge_pages): a new table
// filled with the huge SPTE's pieces before it is linked, so the pieces are plain writes to a page
// nobody can reach and only the link is a store; a 1G page splits to 2M pieces and, when the target
// is 4K, each piece in the range again, depth first as the TDP MMU's pre-order walk does.
#include "mmu/legacy_x86/legacy_x86_backend.h"

namespace mmudiff::legacy_x86 {

namespace ept = x86ept;

void LegacyX86Backend::split_into(KvmMmuPage& sp, unsigned index, KvmMmuPage& child, bool shared) {
  const uint64_t huge = sp.spt[index];
  const unsigned child_level = sp.level() - 1;
  for (unsigned i = 0; i < ept::kEntriesPerTable; ++i)
    child.spt[i] = split_child_spte(kSpteIntegers, mmu_.spte_config(), huge, child_level, i);
  mmu_.machine().memory.note_store(child.spt_pa);
  mmu_.link_table(sp, index, child, shared);
  for (unsigned i = 0; i < ept::kEntriesPerTable; ++i)
    if (is_present_leaf(child.spt[i], child_level))
      mmu_.rmap().add({&child, static_cast<uint16_t>(i)});
}

bool LegacyX86Backend::split_range(KvmMmuPage& sp, unsigned index, uint64_t start, uint64_t end,
                                   unsigned target_level) {
  const unsigned child_level = sp.level() - 1;
  KvmMmuPage* child = mmu_.alloc_table(child_level, sp.entry_gfn(index), /*from_cache=*/false);
  if (!child) return false;
  split_into(sp, index, *child, /*shared=*/false);
  if (child_level <= target_level) return true;
  for (unsigned i = 0; i < ept::kEntriesPerTable; ++i) {
    const uint64_t gfn = child->entry_gfn(i);
    if (gfn >= end) break;
    if (gfn + pages_at(child_level) <= start) continue;
    if (is_present(child->spt[i]) && (child->spt[i] & ept::kLargePage))
      if (!split_range(*child, i, start, end, target_level)) return false;
  }
  return true;
}

void LegacyX86Backend::split_huge_pages(uint64_t, uint64_t, uint64_t start_gfn, uint64_t end_gfn,
                                        unsigned target_level) {
  if (!mmu_.live()) return;
  for (const SpteRef& ref : mmu_.rmap().overlapping(start_gfn, end_gfn, target_level + 1)) {
    if (!(ref.spte() & ept::kLargePage)) continue;
    // Out of memory: the kernel gives up with -ENOMEM, keeping what it split.
    if (!split_range(*ref.sp, ref.index, start_gfn, end_gfn, target_level)) break;
  }
  mmu_.commit_zap();
}

}  // namespace mmudiff::legacy_x86

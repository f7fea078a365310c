// SPDX-License-Identifier: GPL-2.0-only
// Eager page splitting (kvm_tdp_mmu_try_split_huge_pages, under the write lock): every huge leaf
// in the range above the target level becomes a table of the same translations, recursively,
// with pages from the page allocator rather than the vCPU's cache.
#include <cerrno>

#include "mmu/walker_x86/tdp_ops.h"

namespace mmudiff::walker_x86 {

namespace {
constexpr walker::IntegerBits kBits{};
}

int tdp_split_huge_pages(TdpTable& t, uint64_t start_gfn, uint64_t end_gfn, unsigned target_level) {
  if (!t.live()) return 0;
  int ret = t.walk(start_gfn, end_gfn, target_level + 1, [&](const walker::VisitedEntry& e) {
    const Pte old = *e.ptep;
    if (!spte_present(kBits, old) || !spte_large(kBits, old)) return 0;
    Pte* child = t.alloc_zeroed();
    if (!child) return -ENOMEM;
    const EptMasks m = split_masks(t);
    for (unsigned i = 0; i < ept::kEntriesPerTable; ++i)
      child[i] = make_split_child_spte(kBits, m, old, e.level - 1, i);
    t.link_table(e.ptep, child, TdpTable::entry_gfn(e), e.level, false);
    return 0;
  });
  t.leave();
  return ret;
}

}  // namespace mmudiff::walker_x86

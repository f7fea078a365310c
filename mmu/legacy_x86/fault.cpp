// SPDX-License-Identifier: GPL-2.0-only
// A TDP page fault (kvm_tdp_mmu_map after kvm_mmu_hugepage_adjust): walk down from the root,
// finding each table through the hash; link new tables where there are none, split a huge page
// in the way, and install the leaf (or the MMIO SPTE outside the memslot) at the goal level.
// Faults run under the read lock, so every change is "shared".
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>

#include "mmu/legacy_x86/huge_page_level.h"
#include "mmu/legacy_x86/legacy_x86_backend.h"

namespace mmudiff::legacy_x86 {

namespace ept = x86ept;

LegacyX86Backend::FaultState LegacyX86Backend::adjust_huge_page(const x86::TdpFault& fault) {
  FaultState s;
  s.gfn = fault.gfn;
  s.in_slot = fault.gfn >= mmu_.slot_base_gfn() && fault.gfn < mmu_.slot_end_gfn();
  s.pfn = s.in_slot ? fault.pfn : 0;
  s.huge_page_disallowed = fault.exec && mmu_.config().nx_huge_pages;
  // The fault's max_level within PG_LEVEL_4K..KVM_MAX_HUGEPAGE_LEVEL, as the harness gives it.
  const unsigned max_level = std::clamp<unsigned>(fault.max_level, 1, ept::kMaxLeafLevel);
  if (max_level == ept::kPageLevel || !s.in_slot || fault.dirty_logging) return s;
  // The level asked for is kept for the NX accounting even when the mitigation refuses it.
  const SlotRange slot{mmu_.slot_base_gfn(), mmu_.slot_end_gfn() - mmu_.slot_base_gfn()};
  s.req_level = max_mapping_level(mmu_.config(), slot, fault.gfn, max_level);
  if (s.req_level == ept::kPageLevel || s.huge_page_disallowed) return s;
  s.goal_level = s.req_level;
  const uint64_t mask = pages_at(s.goal_level) - 1;
  if ((s.gfn & mask) != (s.pfn & mask))
    mmu_.warn(fmt::format("fault: gfn {:#x} and pfn {:#x} are not congruent at L{}", s.gfn, s.pfn,
                          s.goal_level));
  s.pfn &= ~mask;
  return s;
}

// disallowed_hugepage_adjust: a table the NX mitigation put here stays; go one level further down,
// and take the pfn bits of that level back from the gfn.
void LegacyX86Backend::adjust_for_nx_table(FaultState& s, KvmMmuPage& sp, unsigned index) {
  const unsigned level = sp.level();
  const uint64_t spte = sp.spt[index];
  if (level <= ept::kPageLevel || level != s.goal_level || !is_present(spte) ||
      (spte & ept::kLargePage))
    return;
  KvmMmuPage* child = mmu_.child_table(sp, index);
  if (!child || !child->nx_huge_page_disallowed) return;
  s.pfn |= s.gfn & (pages_at(level) - pages_at(level - 1));
  --s.goal_level;
}

int LegacyX86Backend::fault(const x86::TdpFault& fault) {
  if (!mmu_.live()) return -EINVAL;
  // kvm_handle_noslot_fault: an impossible gfn is emulated every time, without an SPTE.
  const bool in_slot = fault.gfn >= mmu_.slot_base_gfn() && fault.gfn < mmu_.slot_end_gfn();
  if (!in_slot && fault.gfn >= mmu_.max_gfn_exclusive()) return ept::kRetPfEmulate;
  if (fault.gfn >= mmu_.table_gfn_limit()) {
    mmu_.warn(fmt::format("fault: gfn {:#x} is beyond what the root translates", fault.gfn));
    return ept::kRetPfRetry;
  }
  // kvm_tdp_mmu_page_fault tops the caches up before it maps: -ENOMEM, untouched tables, when
  // it cannot.
  if (!mmu_.topup_cache()) {
    mmu_.release_cache();
    return -ENOMEM;
  }
  const int ret = map(fault);
  // The unused cache pages go back before the RCU callbacks free the removed tables: the order
  // pages are freed in is the order they are reused in.
  mmu_.release_cache();
  mmu_.commit_zap();
  return ret;
}

// kvm_tdp_mmu_map.
int LegacyX86Backend::map(const x86::TdpFault& fault) {
  FaultState s = adjust_huge_page(fault);
  const bool nx_workaround = mmu_.config().nx_huge_pages;

  KvmMmuPage* sp = mmu_.root();
  for (unsigned level = mmu_.root_level();; --level) {
    const unsigned index = spte_index(s.gfn, level);
    if (nx_workaround) adjust_for_nx_table(s, *sp, index);
    if (level == s.goal_level) return map_target(fault, s, *sp, index);
    const uint64_t spte = sp->spt[index];
    if (is_present(spte) && !(spte & ept::kLargePage)) {
      sp = mmu_.child_table(*sp, index);
      if (!sp) return ept::kRetPfRetry;
      continue;
    }
    // Nothing here, or a huge page that must be split to go further down.
    KvmMmuPage* child = mmu_.alloc_table(level - 1, round_gfn(s.gfn, level), /*from_cache=*/true);
    if (!child) return -ENOMEM;
    child->nx_huge_page_disallowed = s.huge_page_disallowed;
    if (is_present(spte))
      split_into(*sp, index, *child, /*shared=*/true);
    else
      mmu_.link_table(*sp, index, *child, /*shared=*/true);
    sp = child;
  }
}

// tdp_mmu_map_handle_target_level.
int LegacyX86Backend::map_target(const x86::TdpFault& fault, const FaultState& s, KvmMmuPage& sp,
                                 unsigned index) {
  const unsigned level = sp.level();
  const uint64_t gfn = sp.entry_gfn(index);
  const uint64_t old = sp.spt[index];
  const x86::EptConfig& config = mmu_.config();
  uint64_t spte;
  if (s.in_slot) {
    LeafRequest request;
    request.level = level;
    request.prefetch = fault.prefetch;
    request.host_writable = fault.map_writable;
    request.host_mmio = config.host_mmio_pfn != 0 && s.pfn >= config.host_mmio_pfn;
    spte = make_leaf_spte(kSpteIntegers, mmu_.spte_config(), request, s.pfn, old);
    if (is_reserved_spte(config.maxphyaddr, config.max_level, spte, level))
      mmu_.warn(fmt::format("make_spte: SPTE {:#x} at L{} sets a reserved bit", spte, level));
  } else {
    spte = make_mmio_spte(kSpteIntegers, gfn);
  }

  int ret = ept::kRetPfFixed;
  if (spte == old) {
    ret = ept::kRetPfSpurious;
  } else {
    mmu_.set_spte(sp, index, spte, /*shared=*/true);
    // A table became a huge page: its translations may be cached.
    if (is_present(old) && !is_leaf(old, level) &&
        mmu_.plant() != Plant::kLegacyX86HugeOverTableNoFlush)
      mmu_.flush_gfn(gfn, level);
  }
  if (is_mmio(spte)) ret = ept::kRetPfEmulate;
  return ret;
}

}  // namespace mmudiff::legacy_x86

// SPDX-License-Identifier: GPL-2.0-only
// kvm_tdp_mmu_page_fault after fast_page_fault found nothing to fix: top up the page cache, pick
// the level (kvm_mmu_hugepage_adjust), then walk the one gfn down from the root, linking or
// splitting what lies above the goal level and installing the leaf there.
#include <algorithm>
#include <cerrno>

#include "mmu/walker_x86/tdp_ops.h"

namespace mmudiff::walker_x86 {

namespace {

constexpr walker::IntegerBits kBits{};

struct FaultPlan {
  bool in_slot = false;
  uint64_t gfn = 0;
  uint64_t pfn = 0;
  unsigned goal_level = ept::kPageLevel;
  unsigned req_level = ept::kPageLevel;
  bool huge_page_disallowed = false;
};

// kvm_mmu_hugepage_adjust: a huge page when the fault, the slot, lpage_info, the host mapping
// and the NX mitigation all allow one.
FaultPlan plan_fault(TdpTable& t, const x86::TdpFault& f) {
  FaultPlan p;
  const Slot slot = t.slot();
  p.in_slot = slot.contains(f.gfn);
  p.gfn = f.gfn;
  p.pfn = f.pfn;
  const unsigned max_level = std::clamp<unsigned>(f.max_level, ept::kPageLevel, ept::kMaxLeafLevel);
  p.huge_page_disallowed = f.exec && t.config().nx_huge_pages;
  if (max_level == ept::kPageLevel || !p.in_slot || f.dirty_logging) return p;
  p.req_level = t.max_mapping_level(slot, f.gfn, max_level);
  if (p.req_level == ept::kPageLevel || p.huge_page_disallowed) return p;
  p.goal_level = p.req_level;
  const uint64_t mask = pages_per_entry(p.goal_level) - 1;
  // The host maps the pfn at this level, so gfn and pfn agree below it; the kernel only checks
  // that in debug builds and maps the aligned pfn either way.
  if ((p.gfn & mask) != (p.pfn & mask)) t.warn("VM_BUG_ON: gfn and pfn not congruent");
  p.pfn &= ~mask;
  return p;
}

// The leaf at the goal level (tdp_mmu_map_handle_target_level).
int map_target(TdpTable& t, const x86::TdpFault& f, const FaultPlan& p, Pte* sptep, unsigned level,
               uint64_t gfn) {
  const Pte old = *sptep;
  const bool host_mmio = t.config().host_mmio_pfn != 0 && p.pfn >= t.config().host_mmio_pfn;
  Pte new_spte = p.in_slot ? make_leaf_spte(kBits, t.masks(), level, p.pfn, old, f.prefetch,
                                            f.map_writable, host_mmio)
                           : make_mmio_spte(kBits, gfn);
  // Planted: make_spte's rule that a writable leaf rewritten writable stays clean, dropped.
  if (t.plant() == Plant::kWalkerX86DirtyOnRefault && p.in_slot && f.map_writable &&
      spte_last(kBits, old, level) && spte_writable(kBits, old))
    new_spte |= dirty_mask(t.masks());
  int ret = ept::kRetPfFixed;
  if (new_spte == old) {
    ret = ept::kRetPfSpurious;
  } else {
    t.set_spte(sptep, new_spte, gfn, level, true);
    // A huge leaf over what was a table: the TLB may still hold the table's translations.
    if (spte_present(kBits, old) && !spte_last(kBits, old, level) &&
        t.plant() != Plant::kWalkerX86HugeOverTableNoFlush)
      t.machine().effects.tlb_flush_range(gfn << ept::kPageShift, ept::level_size(level), level);
  }
  // An MMIO access is emulated, whether its SPTE is new or was there already.
  if (spte_mmio(kBits, new_spte)) ret = ept::kRetPfEmulate;
  return ret;
}

}  // namespace

int tdp_fault(TdpTable& t, const x86::TdpFault& f) {
  if (!t.live()) return -EINVAL;
  // A gfn beyond the host's MAXPHYADDR that no slot holds is emulated without an SPTE.
  if (!t.slot().contains(f.gfn) && f.gfn > t.max_gfn()) return ept::kRetPfEmulate;
  int ret = t.topup_cache();
  if (ret != 0) {
    t.leave();
    return ret;
  }
  FaultPlan p = plan_fault(t, f);
  ret = ept::kRetPfRetry;
  t.walk(f.gfn, f.gfn + 1, ept::kPageLevel, [&](const walker::VisitedEntry& e) {
    const Pte old = *e.ptep;
    const uint64_t gfn = TdpTable::entry_gfn(e);
    // disallowed_hugepage_adjust: a table an NX-refused fault left is not replaced by a huge
    // page; the leaf goes one level lower, for the pfn of its part.
    if (t.config().nx_huge_pages && e.level > ept::kPageLevel && e.level == p.goal_level &&
        spte_present(kBits, old) && !spte_large(kBits, old) &&
        t.nx_disallowed(old & ept::kAddrMask)) {
      p.pfn |= p.gfn & (pages_per_entry(e.level) - pages_per_entry(e.level - 1));
      --p.goal_level;
    }
    if (spte_frozen(kBits, old)) return kStopWalk;
    if (e.level == p.goal_level) {
      ret = map_target(t, f, p, e.ptep, e.level, gfn);
      return kStopWalk;
    }
    if (spte_present(kBits, old) && !spte_large(kBits, old)) return 0;
    Pte* child = t.cache_alloc();
    t.set_nx_disallowed(child, p.huge_page_disallowed);
    if (spte_present(kBits, old)) {
      // A huge leaf above the goal: split in place (the same translations, one level down).
      const EptMasks m = split_masks(t);
      for (unsigned i = 0; i < ept::kEntriesPerTable; ++i)
        child[i] = make_split_child_spte(kBits, m, old, e.level - 1, i);
    }
    t.link_table(e.ptep, child, gfn, e.level, true);
    return 0;
  });
  t.leave();
  return ret;
}

}  // namespace mmudiff::walker_x86

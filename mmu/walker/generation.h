// SPDX-License-Identifier: GPL-2.0-only
// The kernel generations the walker follows (Arm64S2Config::kernel): what Linux 6.12's pgtable.c
// does differently from 6.1's, as named decisions the walk and the visitors consult. Each is
// false for 6.1, so a 6.1 table runs the walker's original paths untouched.
#pragma once

#include "mmu/ops/op.h"

namespace mmudiff::walker {

struct Generation {
  // ---- The walk (kvm_pgtable_walk) ----
  // The entry is read again after its TablePre visit, so a table that visit replaced by a block
  // is not entered.
  bool reread_after_table_pre;
  // A visitor's -EAGAIN ("nothing to do", "not valid") ends only a fault handler's walk
  // (KVM_PGTABLE_WALK_HANDLE_FAULT); every other walk goes on with the next entry.
  bool eagain_ends_only_fault_walks;

  // ---- Descriptors ----
  // kvm_lpa2_is_enabled() is a question 6.12 asks (6.1's stage 2 has 48-bit PAs only): with
  // FEAT_LPA2 (Arm64S2Config::lpa2) PAs are 52 bits, PA[51:50] go into bits 9:8 of leaves and
  // table descriptors, and a leaf has no SH field.
  bool lpa2_when_the_cpu_has_it;

  // ---- map and set_owner ----
  // Break-before-make goes through KVM_INVALID_PTE_LOCKED instead of 0, for every entry replaced
  // (an empty one too), and the new entry's reference is taken before it is published.
  bool break_through_locked_entry;
  // A table is replaced by a block on the way down, through the same break as a leaf (a range
  // flush of the table's span), and the unlinked table is freed at once; 6.1 detached it there,
  // released it on the way back up and flushed the whole VMID.
  bool block_over_table_on_the_way_down;
  // Each leaf's output address is phys plus its offset in the range rather than a cursor moved
  // by the leaves installed: with -EAGAIN going on past a leaf left as it is, a cursor would lag.
  bool pa_from_range_offset;
  // A change of software bits only is one store, without break-before-make, on a walk that is
  // not shared (a shared one always breaks, map.cpp).
  bool sw_bits_change_in_place;
  // I-cache maintenance needs a valid new descriptor (stage2_pte_executable): an owner
  // annotation has no XN bit but is not executable.
  bool icache_only_for_valid;

  // ---- unmap ----
  // With FEAT_TLBIRANGE and FWB (Arm64S2Config::unmap_defers_tlbi), the leaves' TLBIs are left
  // out of the walk and one range flush over the range the caller named follows it, whatever
  // the walk returned (stage2_unmap_defer_tlb_flush); table entries are still flushed one by one.
  bool unmap_may_defer_leaf_tlbis;

  // ---- The leaf attribute walks ----
  // An invalid entry is -EAGAIN; mkyoung and relax_perms walk as fault handlers, so they see it.
  bool invalid_leaf_is_eagain;
  // relax_perms invalidates (non-broadcast, any level) also when the walk found no valid leaf.
  bool relax_flushes_on_eagain;
  // mkyoung issues its barrier only when the walk succeeded.
  bool mkyoung_barrier_only_on_success;
  // test_clear_young (is_young, mkold) WARNs when its walk fails (beyond the IPA space).
  bool aging_warns_on_walk_error;
  // kvm_pgtable_stage2_test_clear_young ages a range and answers whether any leaf was young.
  bool ages_ranges;
  // kvm_pgtable_stage2_map takes walk flags from its caller (SHARED, HANDLE_FAULT).
  bool map_takes_walk_flags;
  // KVM_PGTABLE_PROT_NORMAL_NC: map installs normal non-cacheable memory (6.1 ignores the bit).
  bool has_normal_nc;

  // ---- Concurrency: shared walks (marked_access.h) ----
  // Every descriptor access pgtable.c marks (READ_ONCE, WRITE_ONCE, smp_store_release, cmpxchg)
  // is made as one, and is a scheduling point of a concurrent run at the same place as the
  // kernel's; a shared walk (KVM_PGTABLE_WALK_SHARED) runs inside an RCU read-side section,
  // swaps entries with cmpxchg against what it read, and keeps off a locked entry (-EAGAIN).
  // (A table that map replaces by a block is freed after an RCU grace period, as the host's
  // stage2_free_unlinked_table does through call_rcu: that is block_over_table_on_the_way_down's
  // path, map.cpp.)
  bool marks_descriptor_accesses;
  // mkyoung and relax_perms run as shared walks (KVM_PGTABLE_WALK_HANDLE_FAULT | SHARED).
  bool fault_walks_are_shared;

  // ---- split ----
  // kvm_pgtable_stage2_split exists (6.12; 6.1 has no eager split).
  bool has_split;
  // kvm_pgtable_stage2_create_unlinked and _free_unlinked are the caller's to call (6.12).
  bool has_unlinked_tables;
};

inline constexpr Generation kLinux61Generation{};

inline constexpr Generation kLinux612Generation{
    .reread_after_table_pre = true,
    .eagain_ends_only_fault_walks = true,
    .lpa2_when_the_cpu_has_it = true,
    .break_through_locked_entry = true,
    .block_over_table_on_the_way_down = true,
    .pa_from_range_offset = true,
    .sw_bits_change_in_place = true,
    .icache_only_for_valid = true,
    .unmap_may_defer_leaf_tlbis = true,
    .invalid_leaf_is_eagain = true,
    .relax_flushes_on_eagain = true,
    .mkyoung_barrier_only_on_success = true,
    .aging_warns_on_walk_error = true,
    .ages_ranges = true,
    .map_takes_walk_flags = true,
    .has_normal_nc = true,
    .marks_descriptor_accesses = true,
    .fault_walks_are_shared = true,
    .has_split = true,
    .has_unlinked_tables = true,
};

inline constexpr const Generation& generation_of(Arm64Kernel kernel) {
  return kernel == Arm64Kernel::Linux612 ? kLinux612Generation : kLinux61Generation;
}

}  // namespace mmudiff::walker

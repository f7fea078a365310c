// SPDX-License-Identifier: GPL-2.0-only
// The kernel generation legacy behaves as: Linux 6.1's kvm_pgtable or Linux 6.12's. Both build the
// same tables in the same walk order; they differ in a handful of rules, each one field here, so
// that the operations consult a named rule where the generations part ways instead of asking
// "which kernel?". Whether the CPU has FEAT_TLBIRANGE is the configuration's
// (Arm64S2Config::tlb_range); only the 6.12 rules below ask.
#pragma once

#include <cstdint>

#include "mmu/format/arm64_s2.h"
#include "mmu/ops/op.h"

namespace mmudiff::legacy {

// 6.12's KVM_INVALID_PTE_LOCKED: an invalid entry a walker owns between break and make.
inline constexpr uint64_t kLockedPte = arm64s2::bit(10);

struct Generation {
  // What break-before-make leaves in the entry until the new descriptor goes in: 6.1 clears it,
  // 6.12 locks it (kLockedPte).
  uint64_t break_value;
  // 6.12 breaks every entry it replaces, valid or not (so an empty entry is locked first); 6.1
  // only a valid one, since no TLB can hold anything else.
  bool break_invalid_entries;
  // 6.12: a map visitor's -EAGAIN (the mapping is already there, up to permissions) does not stop
  // a walk outside a fault handler; 6.1 returns it and leaves the rest of the range unmapped.
  bool map_skips_existing_mappings;
  // 6.12 stores a change of software bits alone (or an identical invalid entry) in one store
  // without break-before-make on a walk that is not shared.
  bool store_software_bits_in_place;
  // 6.12 looks at a descriptor's cacheability and executability only when it is valid, so an owner
  // annotation gets no cache maintenance; 6.1 reads the fields of anything.
  bool maintenance_needs_valid;
  // 6.12's fault-path updates (mkyoung, relax_perms) return -EAGAIN when the page has no valid
  // leaf; mkyoung's barrier follows only a success, relax_perms flushes (non-broadcast) anyway.
  bool fault_updates_need_a_leaf;
  // 6.12's test_clear_young WARNs when its walk fails (beyond the IPA space, or no table).
  bool aging_warns_on_failed_walk;
  // 6.12's test_clear_young ages a whole range and says whether any leaf in it was young.
  bool ages_ranges;
  // 6.12's map takes walk flags from its caller: a shared walk (KVM_PGTABLE_WALK_SHARED) breaks
  // before it makes even for software bits; a fault handler's (_HANDLE_FAULT) stops at an
  // existing mapping with -EAGAIN, as 6.1 always did.
  bool map_takes_walk_flags;
  // 6.12 maps KVM_PGTABLE_PROT_NORMAL_NC as normal non-cacheable memory; 6.1 ignores the bit.
  bool has_normal_nc;
  // 6.12 splits blocks eagerly (kvm_pgtable_stage2_split); 6.1 has no such operation.
  bool splits_blocks;
  // 6.12's callers build tables nothing links (kvm_pgtable_stage2_create_unlinked) and free
  // them (kvm_pgtable_stage2_free_unlinked).
  bool builds_unlinked_tables;
  // 6.12 invalidates a table entry it breaks with a range flush over the entry's span
  // (kvm_tlb_flush_vmid_range: range TLBIs with FEAT_TLBIRANGE, else the whole VMID); 6.1
  // flushes the whole VMID.
  bool table_break_flushes_its_range;
  // 6.12's unmap on a CPU with FEAT_TLBIRANGE and a table with FWB leaves the leaves' TLBIs out
  // and flushes the range the caller named in range TLBIs after the walk, whatever it returned.
  bool unmap_may_defer_leaf_tlbis;
  // 6.12 asks kvm_lpa2_is_enabled(): on a CPU with FEAT_LPA2 (Arm64S2Config::lpa2) its tables
  // hold 52-bit PAs with PA[51:50] in bits [9:8] and leaves without SH; 6.1's never do.
  bool lays_out_lpa2_addresses;
};

inline constexpr Generation kLinux61{
    .break_value = 0,
    .break_invalid_entries = false,
    .map_skips_existing_mappings = false,
    .store_software_bits_in_place = false,
    .maintenance_needs_valid = false,
    .fault_updates_need_a_leaf = false,
    .aging_warns_on_failed_walk = false,
    .ages_ranges = false,
    .map_takes_walk_flags = false,
    .has_normal_nc = false,
    .splits_blocks = false,
    .builds_unlinked_tables = false,
    .table_break_flushes_its_range = false,
    .unmap_may_defer_leaf_tlbis = false,
    .lays_out_lpa2_addresses = false,
};

inline constexpr Generation kLinux612{
    .break_value = kLockedPte,
    .break_invalid_entries = true,
    .map_skips_existing_mappings = true,
    .store_software_bits_in_place = true,
    .maintenance_needs_valid = true,
    .fault_updates_need_a_leaf = true,
    .aging_warns_on_failed_walk = true,
    .ages_ranges = true,
    .map_takes_walk_flags = true,
    .has_normal_nc = true,
    .splits_blocks = true,
    .builds_unlinked_tables = true,
    .table_break_flushes_its_range = true,
    .unmap_may_defer_leaf_tlbis = true,
    .lays_out_lpa2_addresses = true,
};

inline const Generation& generation_of(Arm64Kernel kernel) {
  return kernel == Arm64Kernel::Linux612 ? kLinux612 : kLinux61;
}

}  // namespace mmudiff::legacy

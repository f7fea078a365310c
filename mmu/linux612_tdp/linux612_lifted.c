// SPDX-License-Identifier: GPL-2.0-only
/*
 * The eight functions of Linux 6.12's arch/x86/kvm/mmu/mmu.c that tdp_mmu.c calls, lifted out of
 * that file verbatim at configure time (cmake/Linux612Source.cmake writes linux612_mmu_lifted.inc),
 * with the two statics of mmu.c they read: max_huge_page_level (kvm_configure_mmu's
 * tdp_huge_page_level) and host_pfn_mapping_level() (a walk of the host's page tables, here the
 * configured host mapping level).
 */
#include "linux612_internal.h"

static _Thread_local int max_huge_page_level;

static int host_pfn_mapping_level(struct kvm* kvm, gfn_t gfn, const struct kvm_memory_slot* slot) {
  return host_pfn_mapping_level_of(kvm, gfn, slot);
}

#include "linux612_mmu_lifted.inc"

void l612_set_max_huge_page_level(int level) {
  max_huge_page_level = level;
}

/* reset_tdp_shadow_zero_bits_mask() on Intel (shadow_x_mask != 0) without memory encryption. */
void l612_reset_ept_zero_check(struct rsvd_bits_validate* check, unsigned maxphyaddr, bool execonly,
                               int huge_page_level) {
  __reset_rsvds_bits_mask_ept(check, rsvd_bits((int)maxphyaddr, 63), execonly, huge_page_level);
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The force_pte_cb of each ForcePte policy, for an adapter that has included the kernel's
 * <asm/kvm_pgtable.h> (6.1 and 6.12 declare the callback type and KVM_PGTABLE_PROT_DEVICE alike).
 * One function per policy, so the callback needs no context.
 */
#ifndef MMUDIFF_KVM_ARM64_FORCE_PTE_H
#define MMUDIFF_KVM_ARM64_FORCE_PTE_H

#include "mmu/kvm_arm64_shim/kvm_arm64_shim.h"

static bool arm64k_force_pte_always(u64 addr, u64 end, enum kvm_pgtable_prot prot) {
  (void)addr;
  (void)end;
  (void)prot;
  return true;
}

static bool arm64k_force_pte_device(u64 addr, u64 end, enum kvm_pgtable_prot prot) {
  (void)addr;
  (void)end;
  return prot & KVM_PGTABLE_PROT_DEVICE;
}

/* NULL for Never, as for KVM's guests. */
static inline kvm_pgtable_force_pte_cb_t arm64k_force_pte_cb(enum arm64k_force_pte policy) {
  switch (policy) {
    case ARM64K_FORCE_PTE_ALWAYS:
      return arm64k_force_pte_always;
    case ARM64K_FORCE_PTE_DEVICE:
      return arm64k_force_pte_device;
    case ARM64K_FORCE_PTE_NEVER:
      break;
  }
  return NULL;
}

#endif /* MMUDIFF_KVM_ARM64_FORCE_PTE_H */

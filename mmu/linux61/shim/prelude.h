/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Force-included (-include) before Linux 6.1's arch/arm64/kvm/hyp/pgtable.c and before our C
 * adapter, so that the kernel file compiles unmodified in user space. It provides exactly what
 * pgtable.c and the four asm headers it pulls in use, and nothing else. What 6.1 needs alike with
 * 6.12 (types, bit helpers, sysreg constants, memory types, and the hardware operations that
 * become recorded effects) is mmu/kvm_arm64_shim/prelude_common.h; this file adds 6.1's own:
 * the sysreg PARange ceiling and the kvm_s2_mmu / kvm_arch pair that holds the VTCR. Every global
 * function of pgtable.c (and the EL2 functions the adapter implements for it) is renamed with the
 * object's prefix (l61_ for linux61, kt_<name>_ for a user's tree:
 * mmu/kvm_arm64_shim/kernel_prefix.h), so that each object links beside the others.
 *
 * The kernel headers' own #includes (<linux/kvm_host.h>, <asm/memory.h>, ...) resolve to the
 * empty stubs in mmu/kvm_arm64_shim/include, which come before the kernel include path.
 */
#ifndef MMUDIFF_LINUX61_PRELUDE_H
#define MMUDIFF_LINUX61_PRELUDE_H

#include "mmu/kvm_arm64_shim/prelude_common.h"

/* ---- One name per kernel symbol in the process ---------------------------------------------- */
#include "mmu/kvm_arm64_shim/kernel_prefix.h"

#define ID_AA64MMFR0_EL1_PARANGE_MAX ID_AA64MMFR0_EL1_PARANGE_48 /* no CONFIG_ARM64_PA_BITS_52 */

/* ---- KVM glue ------------------------------------------------------------------------------ */
struct kvm_pgtable;
struct kvm_arch {
  u64 vtcr;
};
struct kvm_s2_mmu {
  struct kvm_pgtable *pgt;
  struct kvm_arch *arch;
};

/* Implemented by the adapter; in the kernel they run at EL2 behind kvm_call_hyp(). */
void __kvm_tlb_flush_vmid_ipa(struct kvm_s2_mmu *mmu, phys_addr_t ipa, int level);
void __kvm_tlb_flush_vmid(struct kvm_s2_mmu *mmu);

/* ---- The kernel headers that the stubbed <linux/kvm_host.h> and <linux/pgtable.h> bring in --- */
#include <asm/pgtable-hwdef.h>
#include <asm/kvm_arm.h>

#endif /* MMUDIFF_LINUX61_PRELUDE_H */

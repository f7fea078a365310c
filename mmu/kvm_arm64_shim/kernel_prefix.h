/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every global name an arm64 kernel object defines carries the object's prefix,
 * MMUDIFF_KERNEL_PREFIX, which kvm_arm64_kernel_object() sets per object: linux61's l61_,
 * linux612's l612a_, a user's tree's kt_<name>_ (mmu/kernel_trees). Both kernels define the same
 * names (kvm_pgtable_stage2_map, ...), and any number of trees of either generation link into one
 * process beside them.
 *
 * Each generation's prelude includes this, so the kernel's names are renamed as its pgtable.c
 * compiles, unmodified; the list holds the global functions of both generations' pgtable.c and
 * the EL2 functions the adapters implement for them (a name one generation lacks is renamed to no
 * effect). The adapters name their own entry points with ARM64K_PREFIXED.
 */
#ifndef MMUDIFF_KVM_ARM64_KERNEL_PREFIX_H
#define MMUDIFF_KVM_ARM64_KERNEL_PREFIX_H

#ifndef MMUDIFF_KERNEL_PREFIX
#error "MMUDIFF_KERNEL_PREFIX: each kernel object has its own (kvm_arm64_kernel_object PREFIX)"
#endif
#define ARM64K_CAT_(a, b) a##b
#define ARM64K_CAT(a, b) ARM64K_CAT_(a, b)
/* NAME with the object's prefix; NAME is not expanded again (a macro of that name may be the
 * caller). */
#define ARM64K_PREFIXED(name) ARM64K_CAT(MMUDIFF_KERNEL_PREFIX, name)

#define kvm_pgtable_walk ARM64K_PREFIXED(kvm_pgtable_walk)
#define kvm_pgtable_get_leaf ARM64K_PREFIXED(kvm_pgtable_get_leaf)
#define kvm_pgtable_hyp_pte_prot ARM64K_PREFIXED(kvm_pgtable_hyp_pte_prot)
#define kvm_pgtable_hyp_map ARM64K_PREFIXED(kvm_pgtable_hyp_map)
#define kvm_pgtable_hyp_unmap ARM64K_PREFIXED(kvm_pgtable_hyp_unmap)
#define kvm_pgtable_hyp_init ARM64K_PREFIXED(kvm_pgtable_hyp_init)
#define kvm_pgtable_hyp_destroy ARM64K_PREFIXED(kvm_pgtable_hyp_destroy)
#define kvm_get_vtcr ARM64K_PREFIXED(kvm_get_vtcr)
#define kvm_tlb_flush_vmid_range ARM64K_PREFIXED(kvm_tlb_flush_vmid_range)
#define kvm_pgtable_stage2_pte_prot ARM64K_PREFIXED(kvm_pgtable_stage2_pte_prot)
#define kvm_pgtable_stage2_map ARM64K_PREFIXED(kvm_pgtable_stage2_map)
#define kvm_pgtable_stage2_set_owner ARM64K_PREFIXED(kvm_pgtable_stage2_set_owner)
#define kvm_pgtable_stage2_unmap ARM64K_PREFIXED(kvm_pgtable_stage2_unmap)
#define kvm_pgtable_stage2_wrprotect ARM64K_PREFIXED(kvm_pgtable_stage2_wrprotect)
#define kvm_pgtable_stage2_mkyoung ARM64K_PREFIXED(kvm_pgtable_stage2_mkyoung)
#define kvm_pgtable_stage2_mkold ARM64K_PREFIXED(kvm_pgtable_stage2_mkold)
#define kvm_pgtable_stage2_is_young ARM64K_PREFIXED(kvm_pgtable_stage2_is_young)
#define kvm_pgtable_stage2_test_clear_young ARM64K_PREFIXED(kvm_pgtable_stage2_test_clear_young)
#define kvm_pgtable_stage2_relax_perms ARM64K_PREFIXED(kvm_pgtable_stage2_relax_perms)
#define kvm_pgtable_stage2_flush ARM64K_PREFIXED(kvm_pgtable_stage2_flush)
#define kvm_pgtable_stage2_create_unlinked ARM64K_PREFIXED(kvm_pgtable_stage2_create_unlinked)
#define kvm_pgtable_stage2_split ARM64K_PREFIXED(kvm_pgtable_stage2_split)
#define __kvm_pgtable_stage2_init ARM64K_PREFIXED(__kvm_pgtable_stage2_init)
#define kvm_pgtable_stage2_pgd_size ARM64K_PREFIXED(kvm_pgtable_stage2_pgd_size)
#define kvm_pgtable_stage2_destroy ARM64K_PREFIXED(kvm_pgtable_stage2_destroy)
#define kvm_pgtable_stage2_free_unlinked ARM64K_PREFIXED(kvm_pgtable_stage2_free_unlinked)
#define __kvm_tlb_flush_vmid_ipa ARM64K_PREFIXED(__kvm_tlb_flush_vmid_ipa)
#define __kvm_tlb_flush_vmid_ipa_nsh ARM64K_PREFIXED(__kvm_tlb_flush_vmid_ipa_nsh)
#define __kvm_tlb_flush_vmid_range ARM64K_PREFIXED(__kvm_tlb_flush_vmid_range)
#define __kvm_tlb_flush_vmid ARM64K_PREFIXED(__kvm_tlb_flush_vmid)

#endif /* MMUDIFF_KVM_ARM64_KERNEL_PREFIX_H */

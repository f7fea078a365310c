/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The C ABI between Linux 6.12's arm64 pgtable.c (compiled as C, see linux612_adapter.c) and our
 * C++. It names no kernel type: kvm_pgtable.h does not compile as C++, and the C++ side never
 * includes it. Arguments and return values are the kernel's own (negative errno, descriptors as
 * uint64_t); where 6.12's API differs from the Arm64S2Backend interface (6.1's), the comment says
 * what the entry point makes of it.
 *
 * An l612a_vm is one stage-2 table with its struct kvm_pgtable and kvm_s2_mmu. Everything the
 * kernel code asks of the machine goes to the arm64k_host_ops given at creation
 * (mmu/kvm_arm64_shim/kvm_arm64_shim.h), with the host pointer given at creation.
 */
#ifndef MMUDIFF_LINUX612_ARM64_ADAPTER_H
#define MMUDIFF_LINUX612_ARM64_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmu/kvm_arm64_shim/kvm_arm64_shim.h"

#ifdef __cplusplus
extern "C" {
#endif

struct l612a_vm;

/*
 * The entry points of one 6.12-generation kernel object, as a table: linux612's is l612a_api();
 * a user's tree's is kt_<name>_api() (cmake/KernelTrees.cmake). The C++ backend calls through it,
 * so one backend serves every tree of the generation.
 */
/* The walk flags a caller of stage2_map may add (the same bits as mmudiff's walk_flag). */
#define L612A_WALK_SHARED 0x1u       /* KVM_PGTABLE_WALK_SHARED */
#define L612A_WALK_HANDLE_FAULT 0x2u /* KVM_PGTABLE_WALK_HANDLE_FAULT */

struct l612a_entry_points {
  /* NULL when out of memory. ops must outlive the vm. */
  struct l612a_vm* (*vm_create)(const struct arm64k_host_ops* ops, void* host);
  /* Does not destroy the table: call stage2_destroy first if it is live. */
  void (*vm_free)(struct l612a_vm* vm);
  /* VTCR_EL2 as the kernel's kvm_get_vtcr() builds it for a 16-bit VMID CPU with a 48-bit
   * PARange, or with lpa2 a 52-bit one and FEAT_LPA2 (then VTCR_EL2.DS is set). */
  uint64_t (*vtcr_for)(uint32_t ia_bits, bool lpa2);
  /* __kvm_pgtable_stage2_init with kvm_s2_mmu.vtcr = vtcr_for(config->ia_bits, config->lpa2). */
  int (*stage2_init)(struct l612a_vm* vm, const struct arm64k_config* config);
  void (*stage2_destroy)(struct l612a_vm* vm);
  bool (*live)(const struct l612a_vm* vm);
  uint64_t (*vtcr)(const struct l612a_vm* vm);
  uint32_t (*ia_bits)(const struct l612a_vm* vm);
  uint32_t (*start_level)(const struct l612a_vm* vm);
  void* (*pgd)(const struct l612a_vm* vm);
  /* kvm_pgtable_stage2_map with the walk flags of walk_flags (L612A_WALK_*): 0 is a non-shared
   * walk, as under the write lock; user_mem_abort passes both. */
  int (*stage2_map)(struct l612a_vm* vm, uint64_t addr, uint64_t size, uint64_t phys, uint64_t prot,
                    void* memcache, uint32_t walk_flags);
  int (*stage2_unmap)(struct l612a_vm* vm, uint64_t addr, uint64_t size);
  int (*stage2_wrprotect)(struct l612a_vm* vm, uint64_t addr, uint64_t size);
  uint64_t (*stage2_mkyoung)(struct l612a_vm* vm, uint64_t addr);
  /* kvm_pgtable_stage2_test_clear_young over [addr, addr + size): whether a leaf was young. */
  bool (*stage2_test_clear_young)(struct l612a_vm* vm, uint64_t addr, uint64_t size, bool mkold);
  int (*stage2_relax_perms)(struct l612a_vm* vm, uint64_t addr, uint64_t prot);
  int (*stage2_flush)(struct l612a_vm* vm, uint64_t addr, uint64_t size);
  int (*stage2_set_owner)(struct l612a_vm* vm, uint64_t addr, uint64_t size, void* memcache,
                          uint8_t owner_id);
  /* kvm_pgtable_stage2_split with the table's own kvm_s2_mmu.split_page_cache (the kernel finds
   * the mmu from the cache with container_of), holding nobjs pages: each page the kernel takes
   * from it comes from zalloc_page(host, memcache). *nobjs is what is left afterwards. */
  int (*stage2_split)(struct l612a_vm* vm, uint64_t addr, uint64_t size, void* memcache,
                      int* nobjs);
  /* kvm_pgtable_stage2_create_unlinked with the host's memcache as it is: 0 and the table in
   * *table, or the ERR_PTR's errno. */
  int (*stage2_create_unlinked)(struct l612a_vm* vm, uint64_t phys, int level, uint64_t prot,
                                void* memcache, bool force_pte, void** table);
  /* kvm_pgtable_stage2_free_unlinked with the table's mm_ops. */
  void (*stage2_free_unlinked)(struct l612a_vm* vm, void* table, int level);
  /* kvm_pgtable_get_leaf; the kernel's s8 level is never negative: even with LPA2 the IPA is at
   * most 48 bits (Arm64S2Config), so there is no level -1. */
  int (*get_leaf)(struct l612a_vm* vm, uint64_t addr, uint64_t* pte, uint32_t* level);
};

/* linux612's table. */
const struct l612a_entry_points* l612a_api(void);

#ifdef __cplusplus
}
#endif

#endif /* MMUDIFF_LINUX612_ARM64_ADAPTER_H */

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The C ABI between Linux 6.1's pgtable.c (compiled as C, see linux61_adapter.c) and our C++.
 * It names no kernel type: kvm_pgtable.h does not compile as C++, and the C++ side never includes
 * it. Arguments and return values are the kernel's own (negative errno, descriptors as uint64_t).
 *
 * An l61_vm is one stage-2 table with its struct kvm_pgtable, kvm_s2_mmu and kvm_arch. Everything
 * the kernel code asks of the machine (pages, address conversion, cache maintenance, TLBI,
 * barriers, descriptor stores, WARN_ON) goes to the arm64k_host_ops given at creation
 * (mmu/kvm_arm64_shim/kvm_arm64_shim.h), with the host pointer given at creation as the first
 * argument.
 */
#ifndef MMUDIFF_LINUX61_ADAPTER_H
#define MMUDIFF_LINUX61_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmu/kvm_arm64_shim/kvm_arm64_shim.h"

#ifdef __cplusplus
extern "C" {
#endif

struct l61_vm;

/*
 * The entry points of one 6.1-generation kernel object, as a table: linux61's is l61_api(); a
 * user's tree's is kt_<name>_api() (mmu/kernel_trees). The C++ backend calls through it, so one
 * backend serves every tree of the generation.
 */
struct l61_entry_points {
  /* NULL when out of memory. ops must outlive the vm. */
  struct l61_vm* (*vm_create)(const struct arm64k_host_ops* ops, void* host);
  /* Does not destroy the table: call stage2_destroy first if it is live. */
  void (*vm_free)(struct l61_vm* vm);
  /* VTCR_EL2 as kvm_get_vtcr() builds it for a 48-bit PARange, 16-bit VMID CPU. */
  uint64_t (*vtcr_for)(uint32_t ia_bits);
  /* __kvm_pgtable_stage2_init with the VTCR from vtcr_for(config->ia_bits). */
  int (*stage2_init)(struct l61_vm* vm, const struct arm64k_config* config);
  void (*stage2_destroy)(struct l61_vm* vm);
  bool (*live)(const struct l61_vm* vm);
  uint64_t (*vtcr)(const struct l61_vm* vm);
  uint32_t (*ia_bits)(const struct l61_vm* vm);
  uint32_t (*start_level)(const struct l61_vm* vm);
  void* (*pgd)(const struct l61_vm* vm);
  int (*stage2_map)(struct l61_vm* vm, uint64_t addr, uint64_t size, uint64_t phys, uint64_t prot,
                    void* memcache);
  int (*stage2_unmap)(struct l61_vm* vm, uint64_t addr, uint64_t size);
  int (*stage2_wrprotect)(struct l61_vm* vm, uint64_t addr, uint64_t size);
  uint64_t (*stage2_mkyoung)(struct l61_vm* vm, uint64_t addr);
  uint64_t (*stage2_mkold)(struct l61_vm* vm, uint64_t addr);
  bool (*stage2_is_young)(struct l61_vm* vm, uint64_t addr);
  int (*stage2_relax_perms)(struct l61_vm* vm, uint64_t addr, uint64_t prot);
  int (*stage2_flush)(struct l61_vm* vm, uint64_t addr, uint64_t size);
  int (*stage2_set_owner)(struct l61_vm* vm, uint64_t addr, uint64_t size, void* memcache,
                          uint8_t owner_id);
  int (*get_leaf)(struct l61_vm* vm, uint64_t addr, uint64_t* pte, uint32_t* level);
};

/* linux61's table. */
const struct l61_entry_points* l61_api(void);

#ifdef __cplusplus
}
#endif

#endif /* MMUDIFF_LINUX61_ADAPTER_H */

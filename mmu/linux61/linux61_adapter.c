/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The C side of the linux61 backend: owns the kernel's structures for one table and calls the
 * kernel functions of pgtable.c, each with its table made the current instance
 * (mmu/kvm_arm64_shim/kvm_arm64_shim.h says why), so that every call the kernel code makes back to
 * the machine (the mm_ops callbacks and the prelude's hooks, implemented once for every arm64
 * kernel backend in mmu/kvm_arm64_shim/kvm_arm64_shim.c) reaches the host of the table being
 * operated on.
 *
 * The entry points whose text is the same for 6.12 are mmu/kvm_arm64_shim/adapter_common.inc,
 * compiled here against 6.1; what follows it is 6.1's own API: the VTCR in kvm_arch, map without
 * walk flags, mkold and is_young.
 */
#include "mmu/linux61/linux61_adapter.h"

#include <asm/kvm_pgtable.h>
#include <stdio.h>
#include <stdlib.h>

struct l61_vm {
  struct kvm_pgtable pgt;
  struct kvm_s2_mmu mmu;
  struct kvm_arch arch;
  struct kvm_pgtable_mm_ops mm_ops;
  struct arm64k_instance inst;
  bool live;
};

#define ARM64K_VM struct l61_vm
/* Each object's entry points have its own prefix (kernel_prefix.h) and are reached through its
 * api table, so they need no declarations elsewhere. */
#define ARM64K_FN(name) ARM64K_PREFIXED(name)
#define ARM64K_BACKEND "linux61"
#include "mmu/kvm_arm64_shim/adapter_common.inc"

/* ---- Entry points of 6.1's own -------------------------------------------------------------- */

static struct l61_vm* vm_create(const struct arm64k_host_ops* ops, void* host) {
  struct l61_vm* vm = arm64k_vm_alloc(ops, host);
  if (vm) vm->mmu.arch = &vm->arch;
  return vm;
}

static int stage2_init(struct l61_vm* vm, const struct arm64k_config* config) {
  vm->arch.vtcr = ARM64K_FN(vtcr_for)(config->ia_bits);
  return arm64k_stage2_init(vm, config);
}

static uint64_t vtcr(const struct l61_vm* vm) {
  return vm->arch.vtcr;
}

static int stage2_map(struct l61_vm* vm, uint64_t addr, uint64_t size, uint64_t phys, uint64_t prot,
                      void* memcache) {
  ARM64K_ENTER(vm);
  int ret =
      kvm_pgtable_stage2_map(&vm->pgt, addr, size, phys, (enum kvm_pgtable_prot)prot, memcache);
  ARM64K_LEAVE();
  return ret;
}

static uint64_t stage2_mkold(struct l61_vm* vm, uint64_t addr) {
  ARM64K_ENTER(vm);
  kvm_pte_t pte = kvm_pgtable_stage2_mkold(&vm->pgt, addr);
  ARM64K_LEAVE();
  return pte;
}

static bool stage2_is_young(struct l61_vm* vm, uint64_t addr) {
  ARM64K_ENTER(vm);
  bool young = kvm_pgtable_stage2_is_young(&vm->pgt, addr);
  ARM64K_LEAVE();
  return young;
}

/* ---- The object's table ---------------------------------------------------------------------- */

const struct l61_entry_points* ARM64K_FN(api)(void) {
  static const struct l61_entry_points api = {
      .vm_create = vm_create,
      .vm_free = ARM64K_FN(vm_free),
      .vtcr_for = ARM64K_FN(vtcr_for),
      .stage2_init = stage2_init,
      .stage2_destroy = ARM64K_FN(stage2_destroy),
      .live = ARM64K_FN(live),
      .vtcr = vtcr,
      .ia_bits = ARM64K_FN(ia_bits),
      .start_level = ARM64K_FN(start_level),
      .pgd = ARM64K_FN(pgd),
      .stage2_map = stage2_map,
      .stage2_unmap = ARM64K_FN(stage2_unmap),
      .stage2_wrprotect = ARM64K_FN(stage2_wrprotect),
      .stage2_mkyoung = ARM64K_FN(stage2_mkyoung),
      .stage2_mkold = stage2_mkold,
      .stage2_is_young = stage2_is_young,
      .stage2_relax_perms = ARM64K_FN(stage2_relax_perms),
      .stage2_flush = ARM64K_FN(stage2_flush),
      .stage2_set_owner = ARM64K_FN(stage2_set_owner),
      .get_leaf = ARM64K_FN(get_leaf),
  };
  return &api;
}

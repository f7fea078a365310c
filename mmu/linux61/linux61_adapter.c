/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The C side of the linux61 backend: owns the kernel's structures for one table and calls the
 * kernel functions of pgtable.c, each with its table made the current instance
 * (mmu/kvm_arm64_shim/kvm_arm64_shim.h says why), so that every call the kernel code makes back to
 * the machine (the mm_ops callbacks and the prelude's hooks, implemented once for every arm64
 * kernel backend in mmu/kvm_arm64_shim/kvm_arm64_shim.c) reaches the host of the table being
 * operated on.
 *
 * Where the kernel does pass context, it is cross-checked: __kvm_tlb_flush_vmid_ipa(mmu, ...)
 * finds its instance with container_of() from the kvm_s2_mmu and it must be the current one.
 */
#include "mmu/linux61/linux61_adapter.h"

#include <asm/kvm_pgtable.h>
#include <stdio.h>
#include <stdlib.h>

#include "mmu/kvm_arm64_shim/force_pte.h"

struct l61_vm {
  struct kvm_pgtable pgt;
  struct kvm_s2_mmu mmu;
  struct kvm_arch arch;
  struct kvm_pgtable_mm_ops mm_ops;
  struct arm64k_instance inst;
  bool live;
};

/* Makes vm's instance current for one kernel call. */
#define L61_ENTER(vm) struct arm64k_instance* l61_saved = arm64k_enter(&(vm)->inst)
#define L61_LEAVE() arm64k_leave(l61_saved)

/* ---- The EL2 TLB maintenance the kernel calls ------------------------------------------------ */

static struct arm64k_instance* inst_of_mmu(struct kvm_s2_mmu* mmu, const char* what) {
  struct arm64k_instance* inst = arm64k_current(what);
  if (&container_of(mmu, struct l61_vm, mmu)->inst != inst) {
    fprintf(stderr, "linux61: %s for another instance's kvm_s2_mmu\n", what);
    abort();
  }
  return inst;
}

void __kvm_tlb_flush_vmid_ipa(struct kvm_s2_mmu* mmu, phys_addr_t ipa, int level) {
  struct arm64k_instance* in = inst_of_mmu(mmu, "__kvm_tlb_flush_vmid_ipa");
  in->ops->tlbi_ipa(in->host, ipa, level);
}

void __kvm_tlb_flush_vmid(struct kvm_s2_mmu* mmu) {
  struct arm64k_instance* in = inst_of_mmu(mmu, "__kvm_tlb_flush_vmid");
  in->ops->tlbi_vmid(in->host);
}

/* ---- Entry points ---------------------------------------------------------------------------- */

struct l61_vm* l61_vm_create(const struct arm64k_host_ops* ops, void* host) {
  struct l61_vm* vm = calloc(1, sizeof(*vm));
  if (!vm) return NULL;
  vm->inst.ops = ops;
  vm->inst.host = host;
  vm->mm_ops = (struct kvm_pgtable_mm_ops){
      .zalloc_page = arm64k_mm_zalloc_page,
      .zalloc_pages_exact = arm64k_mm_zalloc_pages_exact,
      .free_pages_exact = arm64k_mm_free_pages_exact,
      .get_page = arm64k_mm_get_page,
      .put_page = arm64k_mm_put_page,
      .page_count = arm64k_mm_page_count,
      .phys_to_virt = arm64k_mm_phys_to_virt,
      .virt_to_phys = arm64k_mm_virt_to_phys,
      .dcache_clean_inval_poc = arm64k_mm_dcache_clean_inval_poc,
      .icache_inval_pou = arm64k_mm_icache_inval_pou,
  };
  vm->mmu.arch = &vm->arch;
  vm->mmu.pgt = &vm->pgt;
  return vm;
}

void l61_vm_free(struct l61_vm* vm) {
  free(vm);
}

uint64_t l61_vtcr_for(uint32_t ia_bits) {
  /* The CPU KVM sees: PARange 48 bits (ID_AA64MMFR0_EL1), 16-bit VMIDs (ID_AA64MMFR1_EL1). */
  const u64 mmfr0 = ID_AA64MMFR0_EL1_PARANGE_48 << ID_AA64MMFR0_EL1_PARANGE_SHIFT;
  const u64 mmfr1 = ID_AA64MMFR1_EL1_VMIDBits_16 << ID_AA64MMFR1_EL1_VMIDBits_SHIFT;
  /* kvm_get_vtcr() asks cpus_have_final_cap(): give it an instance that has no capability. */
  struct l61_vm probe = {.inst = {.cpu_fwb = false}};
  L61_ENTER(&probe);
  uint64_t vtcr = kvm_get_vtcr(mmfr0, mmfr1, ia_bits);
  L61_LEAVE();
  return vtcr;
}

int l61_stage2_init(struct l61_vm* vm, const struct arm64k_config* config) {
  enum kvm_pgtable_stage2_flags flags = 0;
  kvm_pgtable_force_pte_cb_t force_pte_cb = arm64k_force_pte_cb(config->force_pte);

  if (config->nofwb) flags |= KVM_PGTABLE_S2_NOFWB;
  if (config->idmap) flags |= KVM_PGTABLE_S2_IDMAP;
  vm->inst.cpu_fwb = config->fwb;
  vm->arch.vtcr = l61_vtcr_for(config->ia_bits);

  L61_ENTER(vm);
  int ret = __kvm_pgtable_stage2_init(&vm->pgt, &vm->mmu, &vm->mm_ops, flags, force_pte_cb);
  L61_LEAVE();
  vm->live = ret == 0;
  return ret;
}

void l61_stage2_destroy(struct l61_vm* vm) {
  if (!vm->live) return;
  L61_ENTER(vm);
  kvm_pgtable_stage2_destroy(&vm->pgt);
  L61_LEAVE();
  vm->live = false;
}

bool l61_live(const struct l61_vm* vm) {
  return vm->live;
}
uint64_t l61_vtcr(const struct l61_vm* vm) {
  return vm->arch.vtcr;
}
uint32_t l61_ia_bits(const struct l61_vm* vm) {
  return vm->pgt.ia_bits;
}
uint32_t l61_start_level(const struct l61_vm* vm) {
  return vm->pgt.start_level;
}
void* l61_pgd(const struct l61_vm* vm) {
  return vm->pgt.pgd;
}

int l61_stage2_map(struct l61_vm* vm, uint64_t addr, uint64_t size, uint64_t phys, uint64_t prot,
                   void* memcache) {
  L61_ENTER(vm);
  int ret =
      kvm_pgtable_stage2_map(&vm->pgt, addr, size, phys, (enum kvm_pgtable_prot)prot, memcache);
  L61_LEAVE();
  return ret;
}

int l61_stage2_unmap(struct l61_vm* vm, uint64_t addr, uint64_t size) {
  L61_ENTER(vm);
  int ret = kvm_pgtable_stage2_unmap(&vm->pgt, addr, size);
  L61_LEAVE();
  return ret;
}

int l61_stage2_wrprotect(struct l61_vm* vm, uint64_t addr, uint64_t size) {
  L61_ENTER(vm);
  int ret = kvm_pgtable_stage2_wrprotect(&vm->pgt, addr, size);
  L61_LEAVE();
  return ret;
}

uint64_t l61_stage2_mkyoung(struct l61_vm* vm, uint64_t addr) {
  L61_ENTER(vm);
  kvm_pte_t pte = kvm_pgtable_stage2_mkyoung(&vm->pgt, addr);
  L61_LEAVE();
  return pte;
}

uint64_t l61_stage2_mkold(struct l61_vm* vm, uint64_t addr) {
  L61_ENTER(vm);
  kvm_pte_t pte = kvm_pgtable_stage2_mkold(&vm->pgt, addr);
  L61_LEAVE();
  return pte;
}

bool l61_stage2_is_young(struct l61_vm* vm, uint64_t addr) {
  L61_ENTER(vm);
  bool young = kvm_pgtable_stage2_is_young(&vm->pgt, addr);
  L61_LEAVE();
  return young;
}

int l61_stage2_relax_perms(struct l61_vm* vm, uint64_t addr, uint64_t prot) {
  L61_ENTER(vm);
  int ret = kvm_pgtable_stage2_relax_perms(&vm->pgt, addr, (enum kvm_pgtable_prot)prot);
  L61_LEAVE();
  return ret;
}

int l61_stage2_flush(struct l61_vm* vm, uint64_t addr, uint64_t size) {
  L61_ENTER(vm);
  int ret = kvm_pgtable_stage2_flush(&vm->pgt, addr, size);
  L61_LEAVE();
  return ret;
}

int l61_stage2_set_owner(struct l61_vm* vm, uint64_t addr, uint64_t size, void* memcache,
                         uint8_t owner_id) {
  L61_ENTER(vm);
  int ret = kvm_pgtable_stage2_set_owner(&vm->pgt, addr, size, memcache, owner_id);
  L61_LEAVE();
  return ret;
}

int l61_get_leaf(struct l61_vm* vm, uint64_t addr, uint64_t* pte, uint32_t* level) {
  kvm_pte_t p = 0;
  u32 l = 0;
  L61_ENTER(vm);
  int ret = kvm_pgtable_get_leaf(&vm->pgt, addr, &p, &l);
  L61_LEAVE();
  if (ret == 0) {
    *pte = p;
    *level = l;
  }
  return ret;
}

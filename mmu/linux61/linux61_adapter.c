/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The C side of the linux61 backend: owns the kernel's structures for one table, calls the kernel
 * functions of pgtable.c, and routes every call the kernel code makes back to the machine (the
 * mm_ops callbacks and the prelude's hooks) to the host of the table being operated on.
 *
 * Why a thread-local "current instance": the kernel's callbacks carry no context that leads back
 * to the table. mm_ops->phys_to_virt(pa) and ->zalloc_pages_exact(size) get a bare address or
 * size (and every instance's simulated memory uses the same physical addresses, so the address
 * cannot say which instance it belongs to); cpus_have_const_cap(ARM64_HAS_STAGE2_FWB) is a CPU
 * property in the kernel, a per-instance knob here; WRITE_ONCE and dsb() have no argument to
 * hang an instance on. Every kernel call is synchronous and made from exactly one place, the l61_
 * entry points below, so each of them sets the current instance for the duration of the call
 * (saving and restoring the previous one, so even nesting would be safe) and the callbacks read
 * it. Being thread-local, different threads can run different instances at the same time. A
 * callback running with no current instance means a kernel function was reached without going
 * through an entry point: that is a harness bug, and it aborts.
 *
 * Where the kernel does pass context, it is cross-checked: __kvm_tlb_flush_vmid_ipa(mmu, ...)
 * finds its instance with container_of() from the kvm_s2_mmu and it must be the current one.
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
  const struct l61_host_ops* ops;
  void* host;
  bool cpu_fwb;
  bool live;
};

static _Thread_local struct l61_vm* l61_current;

static struct l61_vm* current_vm(const char* what) {
  struct l61_vm* vm = l61_current;
  if (!vm) {
    fprintf(stderr, "linux61: %s called outside any l61_ entry point\n", what);
    abort();
  }
  return vm;
}

/* Sets the current instance for one kernel call. */
#define L61_ENTER(vm)                     \
  struct l61_vm* l61_saved = l61_current; \
  l61_current = (vm)
#define L61_LEAVE() l61_current = l61_saved

/* ---- mm_ops ---------------------------------------------------------------------------------- */

static void* mm_zalloc_page(void* arg) {
  struct l61_vm* vm = current_vm("zalloc_page");
  return vm->ops->zalloc_page(vm->host, arg);
}

static void* mm_zalloc_pages_exact(size_t size) {
  struct l61_vm* vm = current_vm("zalloc_pages_exact");
  return vm->ops->zalloc_pages_exact(vm->host, size);
}

static void mm_free_pages_exact(void* addr, size_t size) {
  struct l61_vm* vm = current_vm("free_pages_exact");
  vm->ops->free_pages_exact(vm->host, addr, size);
}

static void mm_get_page(void* addr) {
  struct l61_vm* vm = current_vm("get_page");
  vm->ops->get_page(vm->host, addr);
}

static void mm_put_page(void* addr) {
  struct l61_vm* vm = current_vm("put_page");
  vm->ops->put_page(vm->host, addr);
}

static int mm_page_count(void* addr) {
  struct l61_vm* vm = current_vm("page_count");
  return vm->ops->page_count(vm->host, addr);
}

static void* mm_phys_to_virt(phys_addr_t phys) {
  struct l61_vm* vm = current_vm("phys_to_virt");
  return vm->ops->phys_to_virt(vm->host, phys);
}

static phys_addr_t mm_virt_to_phys(void* addr) {
  struct l61_vm* vm = current_vm("virt_to_phys");
  return vm->ops->virt_to_phys(vm->host, addr);
}

static void mm_dcache_clean_inval_poc(void* addr, size_t size) {
  struct l61_vm* vm = current_vm("dcache_clean_inval_poc");
  vm->ops->dcache_clean_inval_poc(vm->host, addr, size);
}

static void mm_icache_inval_pou(void* addr, size_t size) {
  struct l61_vm* vm = current_vm("icache_inval_pou");
  vm->ops->icache_inval_pou(vm->host, addr, size);
}

/* ---- The prelude's hooks --------------------------------------------------------------------- */

bool l61_shim_cpus_have_cap(int cap) {
  struct l61_vm* vm = current_vm("cpus_have_const_cap");
  switch (cap) {
    case ARM64_HAS_STAGE2_FWB:
      return vm->cpu_fwb;
    default:
      return false;
  }
}

void l61_shim_store(void* entry, u64 old_value, u64 new_value) {
  struct l61_vm* vm = current_vm("WRITE_ONCE/smp_store_release");
  vm->ops->store(vm->host, entry, old_value, new_value);
}

void l61_shim_warn(const char* file, int line, const char* condition) {
  struct l61_vm* vm = current_vm("WARN_ON");
  vm->ops->warn(vm->host, file, line, condition);
}

void l61_shim_dsb(int domain) {
  struct l61_vm* vm = current_vm("dsb");
  enum l61_barrier b = L61_BARRIER_SY;
  switch (domain) {
    case L61_DSB_ish:
      b = L61_BARRIER_ISH;
      break;
    case L61_DSB_ishst:
      b = L61_BARRIER_ISHST;
      break;
    case L61_DSB_nsh:
      b = L61_BARRIER_NSH;
      break;
    default:
      b = L61_BARRIER_SY;
      break;
  }
  vm->ops->barrier_dsb(vm->host, b);
}

void l61_shim_isb(void) {
  struct l61_vm* vm = current_vm("isb");
  vm->ops->barrier_isb(vm->host);
}

void l61_shim_tlbi_hyp(const char* op, u64 arg, u32 level) {
  struct l61_vm* vm = current_vm("__tlbi_level");
  (void)op;
  /* Undo __TLBI_VADDR: the operand holds VA[55:12] in bits [43:0]. */
  vm->ops->tlbi_hyp_va(vm->host, (arg & GENMASK_ULL(43, 0)) << 12, level);
}

static struct l61_vm* vm_of_mmu(struct kvm_s2_mmu* mmu, const char* what) {
  struct l61_vm* vm = current_vm(what);
  if (container_of(mmu, struct l61_vm, mmu) != vm) {
    fprintf(stderr, "linux61: %s for another instance's kvm_s2_mmu\n", what);
    abort();
  }
  return vm;
}

void __kvm_tlb_flush_vmid_ipa(struct kvm_s2_mmu* mmu, phys_addr_t ipa, int level) {
  struct l61_vm* vm = vm_of_mmu(mmu, "__kvm_tlb_flush_vmid_ipa");
  vm->ops->tlbi_ipa(vm->host, ipa, level);
}

void __kvm_tlb_flush_vmid(struct kvm_s2_mmu* mmu) {
  struct l61_vm* vm = vm_of_mmu(mmu, "__kvm_tlb_flush_vmid");
  vm->ops->tlbi_vmid(vm->host);
}

/* ---- force_pte_cb ---------------------------------------------------------------------------- */
/* One function per policy, so the callback needs no context. */

static bool force_pte_always(u64 addr, u64 end, enum kvm_pgtable_prot prot) {
  (void)addr;
  (void)end;
  (void)prot;
  return true;
}

static bool force_pte_device(u64 addr, u64 end, enum kvm_pgtable_prot prot) {
  (void)addr;
  (void)end;
  return prot & KVM_PGTABLE_PROT_DEVICE;
}

/* ---- Entry points ---------------------------------------------------------------------------- */

struct l61_vm* l61_vm_create(const struct l61_host_ops* ops, void* host) {
  struct l61_vm* vm = calloc(1, sizeof(*vm));
  if (!vm) return NULL;
  vm->ops = ops;
  vm->host = host;
  vm->mm_ops = (struct kvm_pgtable_mm_ops){
      .zalloc_page = mm_zalloc_page,
      .zalloc_pages_exact = mm_zalloc_pages_exact,
      .free_pages_exact = mm_free_pages_exact,
      .get_page = mm_get_page,
      .put_page = mm_put_page,
      .page_count = mm_page_count,
      .phys_to_virt = mm_phys_to_virt,
      .virt_to_phys = mm_virt_to_phys,
      .dcache_clean_inval_poc = mm_dcache_clean_inval_poc,
      .icache_inval_pou = mm_icache_inval_pou,
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
  struct l61_vm probe = {.cpu_fwb = false};
  L61_ENTER(&probe);
  uint64_t vtcr = kvm_get_vtcr(mmfr0, mmfr1, ia_bits);
  L61_LEAVE();
  return vtcr;
}

int l61_stage2_init(struct l61_vm* vm, const struct l61_config* config) {
  enum kvm_pgtable_stage2_flags flags = 0;
  kvm_pgtable_force_pte_cb_t force_pte_cb = NULL;

  if (config->nofwb) flags |= KVM_PGTABLE_S2_NOFWB;
  if (config->idmap) flags |= KVM_PGTABLE_S2_IDMAP;
  switch (config->force_pte) {
    case L61_FORCE_PTE_NEVER:
      force_pte_cb = NULL;
      break;
    case L61_FORCE_PTE_ALWAYS:
      force_pte_cb = force_pte_always;
      break;
    case L61_FORCE_PTE_DEVICE:
      force_pte_cb = force_pte_device;
      break;
  }
  vm->cpu_fwb = config->fwb;
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

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The C side of the linux612 backend: owns the kernel's structures for one table and calls the
 * kernel functions of Linux 6.12's pgtable.c, each with its table made the current instance
 * (mmu/kvm_arm64_shim/kvm_arm64_shim.h says why), so that every call the kernel code makes back
 * to the machine (the mm_ops callbacks and the prelude's hooks, shared with linux61 in
 * mmu/kvm_arm64_shim/kvm_arm64_shim.c) reaches the host of the table being operated on.
 *
 * What is 6.12's own here: the free_unlinked_table callback (6.12 calls it unconditionally when a
 * block replaces a table; NULL would crash), which frees after an RCU grace period, the RCU read
 * side of shared walks (counted, and told to the deterministic scheduler), the EL2
 * functions 6.12 calls (range and non-broadcast TLBI besides 6.1's two), and the VTCR's new home
 * in kvm_s2_mmu.
 *
 * The entry points whose text is the same as 6.1's are mmu/kvm_arm64_shim/adapter_common.inc,
 * compiled here against 6.12 (whose prelude renames the kernel's functions with the object's
 * prefix, mmu/linux612/kernel_prefix.h).
 */
#include "mmu/linux612/linux612_adapter.h"

#include <asm/kvm_pgtable.h>
#include <stdio.h>
#include <stdlib.h>

struct l612a_vm {
  struct kvm_pgtable pgt;
  struct kvm_s2_mmu mmu;
  struct kvm_pgtable_mm_ops mm_ops;
  struct arm64k_instance inst;
  bool live;
  /* During a split: the host's memcache behind mmu.split_page_cache. */
  void* split_memcache;
};

#define ARM64K_VM struct l612a_vm
/* Each object's entry points have its own prefix (kernel_prefix.h) and are reached through its
 * api table, so they need no declarations elsewhere. */
#define ARM64K_FN(name) L612A_NAME(name)
#define ARM64K_BACKEND "linux612"
#include "mmu/kvm_arm64_shim/adapter_common.inc"

static struct l612a_vm* current_vm(const char* what) {
  return container_of(arm64k_current(what), struct l612a_vm, inst);
}

/* ---- mm_ops->free_unlinked_table ------------------------------------------------------------- */
/*
 * What KVM's free_unlinked_table does (kvm_s2_free_unlinked): call_rcu, and after the grace
 * period the kernel's own kvm_pgtable_stage2_free_unlinked() (stage2_free_unlinked_table_rcu_cb).
 * A shared walk (the fault path's map, relax_perms, mkyoung on another vCPU) may have read the
 * table entry before this walk broke it and still be on its way down the detached table: its
 * pages must stay until it has left its read-side section. The grace period is the deterministic
 * scheduler's (mmu/sched/sched_hooks.h): in a serial stream, or with no vCPU reading, the free
 * runs at once, inside this call, as it always did.
 *
 * A deferred free runs on whichever vCPU leaves its read-side section last, inside whatever call
 * that vCPU is making (its walk's rcu_read_unlock) and so with that call's instance current, or
 * none: the callback makes the unlinked table's own instance current for the kernel's free.
 */
struct l612a_unlinked_free {
  struct l612a_vm* vm;
  void* table;
  s8 level;
};

static void free_unlinked_now(struct l612a_vm* vm, void* table, s8 level) {
  ARM64K_ENTER(vm);
  kvm_pgtable_stage2_free_unlinked(&vm->mm_ops, table, level);
  ARM64K_LEAVE();
}

static void free_unlinked_rcu_cb(void* arg) {
  struct l612a_unlinked_free* f = arg;
  free_unlinked_now(f->vm, f->table, f->level);
  free(f);
}

static void mm_free_unlinked_table(void* addr, s8 level) {
  struct l612a_vm* vm = current_vm("free_unlinked_table");
  struct l612a_unlinked_free* f = malloc(sizeof(*f));
  if (!f) {
    /* KVM's callback head lives in the table's page; ours cannot fail quietly: free now, and a
     * walker still in the table is the memory oracle's to see. */
    free_unlinked_now(vm, addr, level);
    return;
  }
  *f = (struct l612a_unlinked_free){.vm = vm, .table = addr, .level = level};
  mmudiff_sched_call_rcu(free_unlinked_rcu_cb, f);
}

/* ---- mm_ops->zalloc_page ------------------------------------------------------------------- */
/*
 * The kernel hands zalloc_page the memcache its caller gave: for map and set_owner that is the
 * host's own (passed through as it is); for split it is &mmu.split_page_cache, a struct
 * kvm_mmu_memory_cache whose nobjs the kernel reads to decide how deep to split. A page taken from
 * it comes from the host's memcache behind it, and nobjs goes down with it, as
 * kvm_mmu_memory_cache_alloc() does.
 */
static void* mm_zalloc_page(void* arg) {
  struct l612a_vm* vm = current_vm("zalloc_page");
  if (arg != &vm->mmu.split_page_cache) return arm64k_mm_zalloc_page(arg);
  void* page = arm64k_mm_zalloc_page(vm->split_memcache);
  if (page) --vm->mmu.split_page_cache.nobjs;
  return page;
}

/* ---- RCU read side --------------------------------------------------------------------------- */
/*
 * The nesting count is this thread's (a vCPU of a concurrent run is a thread of its own): it is
 * what rcu_read_lock_held() answers. Each section is also told to the deterministic scheduler, so
 * that a grace period (mm_free_unlinked_table's call_rcu) waits for it; outside a run that is
 * nothing.
 */

static _Thread_local int rcu_depth;

void L612A_NAME(shim_rcu_read_lock)(void) {
  ++rcu_depth;
  mmudiff_sched_rcu_read_lock();
}

void L612A_NAME(shim_rcu_read_unlock)(void) {
  if (WARN_ON(rcu_depth <= 0)) return;
  --rcu_depth;
  /* May end a grace period and run a deferred free here, on this vCPU. */
  mmudiff_sched_rcu_read_unlock();
}

bool L612A_NAME(shim_rcu_read_lock_held)(void) {
  return rcu_depth > 0;
}

/* ---- The EL2 TLB maintenance 6.12 adds --------------------------------------------------------
 */

/* The non-broadcast variant (relax_perms): recorded as a TLBI by IPA, which covers it. */
void __kvm_tlb_flush_vmid_ipa_nsh(struct kvm_s2_mmu* mmu, phys_addr_t ipa, int level) {
  struct arm64k_instance* in = inst_of_mmu(mmu, "__kvm_tlb_flush_vmid_ipa_nsh");
  in->ops->tlbi_ipa(in->host, ipa, arm64k_level_hint(level));
}

void __kvm_tlb_flush_vmid_range(struct kvm_s2_mmu* mmu, phys_addr_t start, unsigned long pages) {
  struct arm64k_instance* in = inst_of_mmu(mmu, "__kvm_tlb_flush_vmid_range");
  in->ops->tlbi_range(in->host, start, (uint64_t)pages << PAGE_SHIFT);
}

/* ---- Entry points of 6.12's own ------------------------------------------------------------- */

static struct l612a_vm* vm_create(const struct arm64k_host_ops* ops, void* host) {
  struct l612a_vm* vm = arm64k_vm_alloc(ops, host);
  if (vm) {
    vm->mm_ops.free_unlinked_table = mm_free_unlinked_table;
    vm->mm_ops.zalloc_page = mm_zalloc_page;
  }
  return vm;
}

/* 6.12 asks system_supports_lpa2(): with it, PARange 52 and VTCR_EL2.DS. */
static uint64_t vtcr_for(uint32_t ia_bits, bool lpa2) {
  return arm64k_vtcr_for_cpu(ia_bits, lpa2);
}

static int stage2_init(struct l612a_vm* vm, const struct arm64k_config* config) {
  vm->mmu.vtcr = vtcr_for(config->ia_bits, config->lpa2);
  return arm64k_stage2_init(vm, config);
}

static uint64_t vtcr(const struct l612a_vm* vm) {
  return vm->mmu.vtcr;
}

static int stage2_map(struct l612a_vm* vm, uint64_t addr, uint64_t size, uint64_t phys,
                      uint64_t prot, void* memcache, uint32_t walk_flags) {
  enum kvm_pgtable_walk_flags flags = 0;
  if (walk_flags & L612A_WALK_SHARED) flags |= KVM_PGTABLE_WALK_SHARED;
  if (walk_flags & L612A_WALK_HANDLE_FAULT) flags |= KVM_PGTABLE_WALK_HANDLE_FAULT;
  ARM64K_ENTER(vm);
  int ret = kvm_pgtable_stage2_map(&vm->pgt, addr, size, phys, (enum kvm_pgtable_prot)prot,
                                   memcache, flags);
  ARM64K_LEAVE();
  /* A shared walk takes the RCU read lock in kvm_pgtable_walk_begin and drops it in _end. */
  WARN_ON(rcu_depth != 0);
  return ret;
}

static bool stage2_test_clear_young(struct l612a_vm* vm, uint64_t addr, uint64_t size, bool mkold) {
  ARM64K_ENTER(vm);
  bool young = kvm_pgtable_stage2_test_clear_young(&vm->pgt, addr, size, mkold);
  ARM64K_LEAVE();
  return young;
}

static int stage2_split(struct l612a_vm* vm, uint64_t addr, uint64_t size, void* memcache,
                        int* nobjs) {
  vm->split_memcache = memcache;
  vm->mmu.split_page_cache.nobjs = *nobjs;
  ARM64K_ENTER(vm);
  int ret = kvm_pgtable_stage2_split(&vm->pgt, addr, size, &vm->mmu.split_page_cache);
  ARM64K_LEAVE();
  *nobjs = vm->mmu.split_page_cache.nobjs;
  vm->mmu.split_page_cache.nobjs = 0;
  vm->split_memcache = NULL;
  return ret;
}

static int stage2_create_unlinked(struct l612a_vm* vm, uint64_t phys, int level, uint64_t prot,
                                  void* memcache, bool force_pte, void** table) {
  ARM64K_ENTER(vm);
  kvm_pte_t* pgtable = kvm_pgtable_stage2_create_unlinked(
      &vm->pgt, phys, (s8)level, (enum kvm_pgtable_prot)prot, memcache, force_pte);
  ARM64K_LEAVE();
  if (IS_ERR(pgtable)) return (int)PTR_ERR(pgtable);
  *table = pgtable;
  return 0;
}

/* The caller's own table (create_unlinked's), never linked: no walker can be in it. */
static void stage2_free_unlinked(struct l612a_vm* vm, void* table, int level) {
  free_unlinked_now(vm, table, (s8)level);
}

/* ---- The object's table ---------------------------------------------------------------------- */

const struct l612a_entry_points* L612A_NAME(api)(void) {
  static const struct l612a_entry_points api = {
      .vm_create = vm_create,
      .vm_free = ARM64K_FN(vm_free),
      .vtcr_for = vtcr_for,
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
      .stage2_test_clear_young = stage2_test_clear_young,
      .stage2_relax_perms = ARM64K_FN(stage2_relax_perms),
      .stage2_flush = ARM64K_FN(stage2_flush),
      .stage2_set_owner = ARM64K_FN(stage2_set_owner),
      .stage2_split = stage2_split,
      .stage2_create_unlinked = stage2_create_unlinked,
      .stage2_free_unlinked = stage2_free_unlinked,
      .get_leaf = ARM64K_FN(get_leaf),
  };
  return &api;
}

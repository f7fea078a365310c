/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The current instance and the hooks of mmu/kvm_arm64_shim/prelude_common.h, once for every arm64
 * kernel backend: each hook finds the current instance (kvm_arm64_shim.h says why there is one)
 * and hands the event to its host. This file sees no kernel header, only the common prelude that
 * declares the hooks.
 */
#include "mmu/kvm_arm64_shim/kvm_arm64_shim.h"

#include "mmu/kvm_arm64_shim/prelude_common.h"

#include <stdio.h>
#include <stdlib.h>

static _Thread_local struct arm64k_instance* arm64k_current_instance;

struct arm64k_instance* arm64k_enter(struct arm64k_instance* inst) {
  struct arm64k_instance* previous = arm64k_current_instance;
  arm64k_current_instance = inst;
  return previous;
}

void arm64k_leave(struct arm64k_instance* previous) {
  arm64k_current_instance = previous;
}

struct arm64k_instance* arm64k_current(const char* what) {
  struct arm64k_instance* inst = arm64k_current_instance;
  if (!inst) {
    fprintf(stderr, "kvm_arm64_shim: %s called outside any adapter entry point\n", what);
    abort();
  }
  return inst;
}

/* ---- mm_ops ---------------------------------------------------------------------------------- */

void* arm64k_mm_zalloc_page(void* arg) {
  struct arm64k_instance* in = arm64k_current("zalloc_page");
  return in->ops->zalloc_page(in->host, arg);
}

void* arm64k_mm_zalloc_pages_exact(size_t size) {
  struct arm64k_instance* in = arm64k_current("zalloc_pages_exact");
  return in->ops->zalloc_pages_exact(in->host, size);
}

void arm64k_mm_free_pages_exact(void* addr, size_t size) {
  struct arm64k_instance* in = arm64k_current("free_pages_exact");
  in->ops->free_pages_exact(in->host, addr, size);
}

void arm64k_mm_get_page(void* addr) {
  struct arm64k_instance* in = arm64k_current("get_page");
  in->ops->get_page(in->host, addr);
}

void arm64k_mm_put_page(void* addr) {
  struct arm64k_instance* in = arm64k_current("put_page");
  in->ops->put_page(in->host, addr);
}

int arm64k_mm_page_count(void* addr) {
  struct arm64k_instance* in = arm64k_current("page_count");
  return in->ops->page_count(in->host, addr);
}

void* arm64k_mm_phys_to_virt(uint64_t phys) {
  struct arm64k_instance* in = arm64k_current("phys_to_virt");
  return in->ops->phys_to_virt(in->host, phys);
}

uint64_t arm64k_mm_virt_to_phys(void* addr) {
  struct arm64k_instance* in = arm64k_current("virt_to_phys");
  return in->ops->virt_to_phys(in->host, addr);
}

void arm64k_mm_dcache_clean_inval_poc(void* addr, size_t size) {
  struct arm64k_instance* in = arm64k_current("dcache_clean_inval_poc");
  in->ops->dcache_clean_inval_poc(in->host, addr, size);
}

void arm64k_mm_icache_inval_pou(void* addr, size_t size) {
  struct arm64k_instance* in = arm64k_current("icache_inval_pou");
  in->ops->icache_inval_pou(in->host, addr, size);
}

/* ---- The prelude's hooks --------------------------------------------------------------------- */

bool arm64k_shim_cpus_have_cap(int cap) {
  struct arm64k_instance* in = arm64k_current("cpus_have_final_cap");
  switch (cap) {
    case ARM64_HAS_STAGE2_FWB:
      return in->cpu_fwb;
    case ARM64_HAS_TLB_RANGE:
      return in->cpu_tlb_range;
    default:
      return false;
  }
}

bool arm64k_shim_supports_lpa2(void) {
  return arm64k_current("system_supports_lpa2")->cpu_lpa2;
}

void arm64k_shim_store(void* entry, u64 old_value, u64 new_value) {
  struct arm64k_instance* in = arm64k_current("WRITE_ONCE/smp_store_release");
  in->ops->store(in->host, entry, old_value, new_value);
}

/* Reached only inside a concurrent run (prelude_common.h's __arm64k_access). */
void arm64k_shim_check_access(const char* what, const void* addr) {
  struct arm64k_instance* in = arm64k_current(what);
  if (in->ops->check_access) in->ops->check_access(in->host, addr, what);
}

void arm64k_shim_warn(const char* file, int line, const char* condition) {
  struct arm64k_instance* in = arm64k_current("WARN_ON");
  in->ops->warn(in->host, file, line, condition);
}

void arm64k_shim_dsb(int domain) {
  struct arm64k_instance* in = arm64k_current("dsb");
  enum arm64k_barrier b = ARM64K_BARRIER_SY;
  switch (domain) {
    case ARM64K_DSB_ish:
      b = ARM64K_BARRIER_ISH;
      break;
    case ARM64K_DSB_ishst:
      b = ARM64K_BARRIER_ISHST;
      break;
    case ARM64K_DSB_nsh:
      b = ARM64K_BARRIER_NSH;
      break;
    default:
      b = ARM64K_BARRIER_SY;
      break;
  }
  in->ops->barrier_dsb(in->host, b);
}

void arm64k_shim_isb(void) {
  struct arm64k_instance* in = arm64k_current("isb");
  in->ops->barrier_isb(in->host);
}

void arm64k_shim_tlbi_hyp(const char* op, u64 arg, u32 level) {
  struct arm64k_instance* in = arm64k_current("__tlbi_level");
  (void)op;
  /* Undo __TLBI_VADDR: the operand holds VA[55:12] in bits [43:0]. */
  in->ops->tlbi_hyp_va(in->host, (arg & GENMASK_ULL(43, 0)) << 12, level);
}

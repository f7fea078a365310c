/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The part of the arm64 kernel backends' C side that does not depend on the kernel's API
 * generation (linux61: Linux 6.1's pgtable.c, linux612: Linux 6.12's): the callbacks a host gives
 * (arm64k_host_ops), the per-instance state they need, and the "current instance" through which
 * the kernel's context-free callbacks (mm_ops, WRITE_ONCE, dsb(), cpus_have_final_cap(), ...)
 * reach it. It names no kernel type: the C++ hosts include it too.
 *
 * Why a thread-local current instance: the kernel's callbacks carry no context that leads back
 * to the table. mm_ops->phys_to_virt(pa) and ->zalloc_pages_exact(size) get a bare address or
 * size (and every instance's simulated memory uses the same physical addresses, so the address
 * cannot say which instance it belongs to); cpus_have_final_cap(ARM64_HAS_STAGE2_FWB) is a CPU
 * property in the kernel, a per-instance knob here; WRITE_ONCE and dsb() have no argument to hang
 * an instance on. Every kernel call is synchronous and made from one place, an adapter's entry
 * point, which makes its instance current for the duration of the call (arm64k_enter/leave, saving
 * and restoring the previous one, so nesting is safe). Being thread-local, different threads can
 * run different instances at once. A callback with no current instance means a kernel function
 * was reached without an entry point: a harness bug, and it aborts.
 */
#ifndef MMUDIFF_KVM_ARM64_SHIM_H
#define MMUDIFF_KVM_ARM64_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum arm64k_barrier {
  ARM64K_BARRIER_ISH = 1,
  ARM64K_BARRIER_ISHST,
  ARM64K_BARRIER_NSH,
  ARM64K_BARRIER_SY
};

/* What the kernel code asks of the machine; host is the pointer given with the ops. */
struct arm64k_host_ops {
  /* kvm_pgtable_mm_ops: memcache is the void *mc given to map/set_owner, or NULL. */
  void* (*zalloc_page)(void* host, void* memcache);
  void* (*zalloc_pages_exact)(void* host, size_t size);
  void (*free_pages_exact)(void* host, void* va, size_t size);
  void (*get_page)(void* host, void* va);
  void (*put_page)(void* host, void* va);
  int (*page_count)(void* host, void* va);
  void* (*phys_to_virt)(void* host, uint64_t pa);
  uint64_t (*virt_to_phys)(void* host, void* va);
  /* va came from phys_to_virt of a guest PA: never dereference it. */
  void (*dcache_clean_inval_poc)(void* host, void* va, size_t size);
  void (*icache_inval_pou)(void* host, void* va, size_t size);

  /* A descriptor write: entry is the descriptor's address in table memory. */
  void (*store)(void* host, void* entry, uint64_t old_value, uint64_t new_value);
  /* __kvm_tlb_flush_vmid_ipa (and 6.12's _nsh variant); level 0 means "any level". */
  void (*tlbi_ipa)(void* host, uint64_t ipa, int level);
  /* 6.12's __kvm_tlb_flush_vmid_range: every translation of [ipa, ipa + size). */
  void (*tlbi_range)(void* host, uint64_t ipa, uint64_t size);
  /* __kvm_tlb_flush_vmid. */
  void (*tlbi_vmid)(void* host);
  /* __tlbi_level at EL2 stage 1: only kvm_pgtable_hyp_unmap, which no adapter call reaches. */
  void (*tlbi_hyp_va)(void* host, uint64_t va, unsigned level);
  /* dsb(domain) and isb(). */
  void (*barrier_dsb)(void* host, enum arm64k_barrier domain);
  void (*barrier_isb)(void* host);
  /* A WARN_ON / WARN_ON_ONCE that fired: file is the kernel file, condition its text. */
  void (*warn)(void* host, const char* file, int line, const char* condition);
  /* Inside a concurrent run only, before each marked access (READ_ONCE, WRITE_ONCE, store-release,
   * cmpxchg; `what` names it) to addr, a descriptor's address: whether its page is still live.
   * May be NULL. */
  void (*check_access)(void* host, const void* addr, const char* what);
};

/* What a table is set up with: the knobs of Arm64S2Config, for the C side. */
enum arm64k_force_pte { ARM64K_FORCE_PTE_NEVER, ARM64K_FORCE_PTE_ALWAYS, ARM64K_FORCE_PTE_DEVICE };

struct arm64k_config {
  uint32_t ia_bits; /* IPA size; VTCR_EL2 comes from the kernel's kvm_get_vtcr() */
  bool fwb;         /* the CPU has ARM64_HAS_STAGE2_FWB */
  bool nofwb;       /* KVM_PGTABLE_S2_NOFWB */
  bool idmap;       /* KVM_PGTABLE_S2_IDMAP */
  enum arm64k_force_pte force_pte;
  bool tlb_range; /* the CPU has ARM64_HAS_TLB_RANGE (FEAT_TLBIRANGE); only 6.12 asks */
  bool lpa2;      /* system_supports_lpa2(): the CPU and host have FEAT_LPA2; only 6.12 asks */
};

/* One table's link to its host, embedded in each adapter's per-table structure. */
struct arm64k_instance {
  const struct arm64k_host_ops* ops;
  void* host;
  bool cpu_fwb;       /* cpus_have_final_cap(ARM64_HAS_STAGE2_FWB) */
  bool cpu_tlb_range; /* cpus_have_final_cap(ARM64_HAS_TLB_RANGE) (6.12) */
  bool cpu_lpa2;      /* system_supports_lpa2() (6.12) */
};

/* Makes inst current on this thread; returns the one it replaces, for arm64k_leave. */
struct arm64k_instance* arm64k_enter(struct arm64k_instance* inst);
void arm64k_leave(struct arm64k_instance* previous);
/* The current instance; aborts naming `what` when there is none. */
struct arm64k_instance* arm64k_current(const char* what);

/* kvm_pgtable_mm_ops callbacks that forward to the current instance's host (the kernel's types
 * are these: phys_addr_t is uint64_t). */
void* arm64k_mm_zalloc_page(void* arg);
void* arm64k_mm_zalloc_pages_exact(size_t size);
void arm64k_mm_free_pages_exact(void* addr, size_t size);
void arm64k_mm_get_page(void* addr);
void arm64k_mm_put_page(void* addr);
int arm64k_mm_page_count(void* addr);
void* arm64k_mm_phys_to_virt(uint64_t phys);
uint64_t arm64k_mm_virt_to_phys(void* addr);
void arm64k_mm_dcache_clean_inval_poc(void* addr, size_t size);
void arm64k_mm_icache_inval_pou(void* addr, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* MMUDIFF_KVM_ARM64_SHIM_H */

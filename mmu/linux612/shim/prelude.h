/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Force-included (-include) before Linux 6.12's arch/arm64/kvm/hyp/pgtable.c and before our C
 * adapter, so that the kernel file compiles unmodified in user space. What 6.12 needs alike with
 * 6.1 is mmu/kvm_arm64_shim/prelude_common.h (shared with mmu/linux61); this file adds what the
 * 6.12 API generation needs on top, and nothing else:
 *
 * - the LPA2 question per instance (Arm64S2Config::lpa2: system_supports_lpa2(), which
 *   kvm_lpa2_is_enabled() is); CONFIG_ARM64_PA_BITS_52 off as on Debian's 4 KiB-page build; BTI
 *   for the hyp stage 1 (never reached) answered "no";
 * - kernel helpers the newer code uses: kvm_pfn_t, __phys_to_pfn, min, INT_MAX, ERR_PTR & co.;
 * - RCU for shared walks: a per-thread read-side nesting count (the adapter's), which is what
 *   kvm_pgtable_walk_lock_held() asks about, and which the adapter also tells the deterministic
 *   scheduler of concurrent streams; rcu_dereference_check reads, after lockdep's check (a WARN_ON
 *   here);
 * - cmpxchg on a descriptor, recorded as a Store when it succeeds: one atomic step after its
 *   scheduling point (vCPUs of a concurrent stream run one at a time, switching only at points;
 *   on real threads it is a real compare-and-swap, and a lost one is counted);
 * - range TLBI (FEAT_TLBIRANGE a per-instance knob) and the EL2 TLB functions 6.12 calls;
 * - the normal non-cacheable memory types, and struct kvm_s2_mmu as 6.12 has it: the VTCR moved
 *   into it, and the split cache with its object count lives in it.
 *
 * Every global function of pgtable.c (and the EL2 functions the adapter implements for it) is
 * renamed with the object's prefix (l612a_ for linux612, kt_<name>_ for a user's tree:
 * mmu/kvm_arm64_shim/kernel_prefix.h), so that each object links beside linux61's, which defines
 * the same kernel names, and beside every other tree.
 *
 * The kernel headers' own #includes resolve to the empty stubs in mmu/kvm_arm64_shim/include and
 * ./include (6.12's kvm_arm.h also includes <asm/sysreg.h>), which come before the kernel's.
 */
#ifndef MMUDIFF_LINUX612_ARM64_PRELUDE_H
#define MMUDIFF_LINUX612_ARM64_PRELUDE_H

#include <limits.h>

#include "mmu/kvm_arm64_shim/prelude_common.h"

/* ---- One name per kernel symbol in the process ---------------------------------------------- */
#include "mmu/linux612/kernel_prefix.h"

/* ---- Configuration questions ---------------------------------------------------------------- */
/* The only option pgtable.c tests with IS_ENABLED is CONFIG_ARM64_PA_BITS_52: off. */
#define IS_ENABLED(option) 0
#define system_supports_lpa2() arm64k_shim_supports_lpa2()
#define system_supports_bti_kernel() false
#define system_supports_tlb_range() cpus_have_final_cap(ARM64_HAS_TLB_RANGE)

/* ---- Kernel helpers ------------------------------------------------------------------------- */
typedef u64 kvm_pfn_t;
#define __phys_to_pfn(paddr) ((unsigned long)((paddr) >> PAGE_SHIFT))

#define min(x, y)                          \
  ({                                       \
    typeof(x) __min_x = (x);               \
    typeof(y) __min_y = (y);               \
    __min_x < __min_y ? __min_x : __min_y; \
  })

#define MAX_ERRNO 4095
#define IS_ERR_VALUE(x) unlikely((unsigned long)(void*)(x) >= (unsigned long)-MAX_ERRNO)
static inline void* ERR_PTR(long error) {
  return (void*)error;
}
static inline long PTR_ERR(const void* ptr) {
  return (long)ptr;
}
static inline bool IS_ERR(const void* ptr) {
  return IS_ERR_VALUE((unsigned long)ptr);
}

/* ---- RCU: read-side sections, told to the deterministic scheduler ---------------------------- */
/* The adapter counts the nesting (kvm_pgtable_walk_lock_held() asks about it) and tells the
 * scheduler (mmu/sched/sched_hooks.h), whose grace periods the adapter's free_unlinked_table
 * waits for through call_rcu, as KVM's does. */
#define __rcu
void L612A_NAME(shim_rcu_read_lock)(void);
void L612A_NAME(shim_rcu_read_unlock)(void);
bool L612A_NAME(shim_rcu_read_lock_held)(void);
#define rcu_read_lock() L612A_NAME(shim_rcu_read_lock)()
#define rcu_read_unlock() L612A_NAME(shim_rcu_read_unlock)()
#define rcu_read_lock_held() L612A_NAME(shim_rcu_read_lock_held)()
/* What lockdep asks of it: a walker is either exclusive (c) or inside an RCU read side. */
#define rcu_dereference_check(p, c)          \
  ({                                         \
    WARN_ON(!((c) || rcu_read_lock_held())); \
    (p);                                     \
  })

/* ---- cmpxchg on a descriptor: a recorded Store when it succeeds ----------------------------- */
/* One atomic step: its scheduling point (and, in a concurrent run, the check that its page is not
 * freed) comes before it, and no vCPU runs inside it. */
static inline u64 __l612a_cmpxchg_u64(volatile u64* p, u64 old, u64 new_value) {
  __arm64k_access("cmpxchg", p);
  u64 cur = old;
  /* Fully ordered, as the kernel's cmpxchg is; on failure cur is the value found. */
  if (__atomic_compare_exchange_n((u64*)p, &cur, new_value, false, __ATOMIC_SEQ_CST,
                                  __ATOMIC_SEQ_CST))
    arm64k_shim_store((void*)p, cur, new_value);
  else
    mmudiff_sched_lost_cmpxchg();
  return cur;
}

#define cmpxchg(ptr, o, n)                                                               \
  ({                                                                                     \
    _Static_assert(sizeof(*(ptr)) == sizeof(u64), "linux612 shim: only 64-bit cmpxchg"); \
    (typeof(*(ptr)))__l612a_cmpxchg_u64((volatile u64*)(ptr), (u64)(o), (u64)(n));       \
  })

/* ---- TLB maintenance (asm/tlbflush.h) ------------------------------------------------------- */
/* The level argument when the level of the entry is not known. */
#define TLBI_TTL_UNKNOWN INT_MAX
/* The most pages one range TLBI covers: NUM 31, SCALE 3 -> (31 + 1) << (5 * 3 + 1). */
#define MAX_TLBI_RANGE_PAGES (32UL << 16)

/* ---- Memory types 6.12 adds (asm/memory.h) -------------------------------------------------- */
#define MT_S2_NORMAL_NC 0x5
#define MT_S2_FWB_NORMAL_NC 5

/* ---- KVM glue ------------------------------------------------------------------------------- */
struct kvm_pgtable;
/* Pages kvm_pgtable_stage2_split may take: it reads nobjs and gives the cache to zalloc_page. */
struct kvm_mmu_memory_cache {
  int nobjs;
};
struct kvm_s2_mmu {
  struct kvm_pgtable* pgt;
  u64 vtcr;
  struct kvm_mmu_memory_cache split_page_cache;
};

/* Implemented by the adapter; in the kernel they run at EL2 behind kvm_call_hyp(). */
void __kvm_tlb_flush_vmid_ipa(struct kvm_s2_mmu* mmu, phys_addr_t ipa, int level);
void __kvm_tlb_flush_vmid_ipa_nsh(struct kvm_s2_mmu* mmu, phys_addr_t ipa, int level);
void __kvm_tlb_flush_vmid_range(struct kvm_s2_mmu* mmu, phys_addr_t start, unsigned long pages);
void __kvm_tlb_flush_vmid(struct kvm_s2_mmu* mmu);

/* ---- The kernel headers that the stubbed <linux/kvm_host.h> and <linux/pgtable.h> bring in --- */
#include <asm/kvm_arm.h>
#include <asm/pgtable-hwdef.h>

#endif /* MMUDIFF_LINUX612_ARM64_PRELUDE_H */

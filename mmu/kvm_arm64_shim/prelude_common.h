/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every arm64 kernel backend's prelude provides alike (mmu/linux61/shim/prelude.h for Linux
 * 6.1, mmu/linux612/shim/prelude.h for Linux 6.12): the part of the kernel's world that did not
 * change between the two API generations of arch/arm64/kvm/hyp/pgtable.c. Each prelude includes
 * this first, then adds its own generation's definitions and includes the kernel's asm headers.
 *
 * Kernel integer types, bit and alignment helpers, the generated sysreg constants, the memory
 * types, and the places where the code touches the hardware: those become calls to the
 * arm64k_shim_* hooks, which mmu/kvm_arm64_shim/kvm_arm64_shim.c implements once for both
 * backends and routes to the current instance's host (kvm_arm64_shim.h).
 *
 * Values follow Debian's arm64 configuration (6.1 and 6.12 alike): 4 KiB pages, 48-bit PAs,
 * four-level tables, CONFIG_ARM64_HW_AFDBM.
 */
#ifndef MMUDIFF_KVM_ARM64_PRELUDE_COMMON_H
#define MMUDIFF_KVM_ARM64_PRELUDE_COMMON_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Kernel configuration ------------------------------------------------------------------ */
#define CONFIG_ARM64_4K_PAGES 1
#define CONFIG_ARM64_PA_BITS 48
#define CONFIG_ARM64_PA_BITS_48 1
#define CONFIG_PGTABLE_LEVELS 4
#define CONFIG_ARM64_HW_AFDBM 1

/* ---- Types and constant helpers ------------------------------------------------------------ */
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;
typedef u64 phys_addr_t;
typedef u64 pteval_t;
typedef u64 pmdval_t;
typedef u64 pudval_t;
typedef u64 p4dval_t;

#define __AC(X, Y) (X##Y)
#define _AC(X, Y) __AC(X, Y)
#define _AT(T, X) ((T)(X))
#define UL(x) (_AC(x, UL))
#define ULL(x) (_AC(x, ULL))
#define BITS_PER_LONG 64

#define BIT(nr) (UL(1) << (nr))
#define BIT_ULL(nr) (ULL(1) << (nr))
#define GENMASK(h, l) (((~UL(0)) - (UL(1) << (l)) + 1) & (~UL(0) >> (BITS_PER_LONG - 1 - (h))))
#define GENMASK_ULL(h, l) (((~ULL(0)) - (ULL(1) << (l)) + 1) & (~ULL(0) >> (63 - (h))))

#define __bf_shf(x) (__builtin_ffsll(x) - 1)
#define FIELD_PREP(_mask, _val) (((typeof(_mask))(_val) << __bf_shf(_mask)) & (_mask))
#define FIELD_GET(_mask, _reg) ((typeof(_mask))(((_reg) & (_mask)) >> __bf_shf(_mask)))

#define __ALIGN_KERNEL_MASK(x, mask) (((x) + (mask)) & ~(mask))
#define __ALIGN_KERNEL(x, a) __ALIGN_KERNEL_MASK(x, (typeof(x))(a)-1)
#define ALIGN(x, a) __ALIGN_KERNEL((x), (a))
#define ALIGN_DOWN(x, a) __ALIGN_KERNEL((x) - ((a)-1), (a))
#define IS_ALIGNED(x, a) (((x) & ((typeof(x))(a)-1)) == 0)

#define PAGE_SHIFT 12
#define PAGE_SIZE (_AC(1, UL) << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PAGE_ALIGN(addr) ALIGN(addr, PAGE_SIZE)

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define container_of(ptr, type, member) ((type*)((char*)(ptr)-offsetof(type, member)))

/* ---- Generated sysreg fields (arch/arm64/tools/sysreg) and cpufeature helpers --------------- */
#define ID_AA64MMFR0_EL1_PARANGE_SHIFT 0
#define ID_AA64MMFR0_EL1_PARANGE_32 UL(0x0)
#define ID_AA64MMFR0_EL1_PARANGE_36 UL(0x1)
#define ID_AA64MMFR0_EL1_PARANGE_40 UL(0x2)
#define ID_AA64MMFR0_EL1_PARANGE_42 UL(0x3)
#define ID_AA64MMFR0_EL1_PARANGE_44 UL(0x4)
#define ID_AA64MMFR0_EL1_PARANGE_48 UL(0x5)
#define ID_AA64MMFR0_EL1_PARANGE_52 UL(0x6)
#define ID_AA64MMFR1_EL1_VMIDBits_SHIFT 4
#define ID_AA64MMFR1_EL1_VMIDBits_8 UL(0x0)
#define ID_AA64MMFR1_EL1_VMIDBits_16 UL(0x2)

static inline unsigned int cpuid_feature_extract_unsigned_field(u64 features, int field) {
  return (unsigned int)((u64)(features << (64 - 4 - field)) >> (64 - 4));
}

static inline u32 id_aa64mmfr0_parange_to_phys_shift(int parange) {
  switch (parange) {
    case ID_AA64MMFR0_EL1_PARANGE_32:
      return 32;
    case ID_AA64MMFR0_EL1_PARANGE_36:
      return 36;
    case ID_AA64MMFR0_EL1_PARANGE_40:
      return 40;
    case ID_AA64MMFR0_EL1_PARANGE_42:
      return 42;
    case ID_AA64MMFR0_EL1_PARANGE_44:
      return 44;
    case ID_AA64MMFR0_EL1_PARANGE_48:
      return 48;
    case ID_AA64MMFR0_EL1_PARANGE_52:
      return 52;
    default:
      return CONFIG_ARM64_PA_BITS;
  }
}

static inline unsigned int get_vmid_bits(u64 mmfr1) {
  if (cpuid_feature_extract_unsigned_field(mmfr1, ID_AA64MMFR1_EL1_VMIDBits_SHIFT) ==
      ID_AA64MMFR1_EL1_VMIDBits_16)
    return 16;
  return 8;
}

/*
 * CPU capabilities: answered per instance by the shim (FWB and TLB-range are configuration
 * knobs; everything else is absent). The values are ours; only the names are the kernel's.
 */
enum arm64k_cpucap {
  ARM64_HAS_STAGE2_FWB = 1,
  ARM64_WORKAROUND_AMPERE_AC03_CPU_38,
  ARM64_KVM_HVHE,
  ARM64_HAS_TLB_RANGE,
};
bool arm64k_shim_cpus_have_cap(int cap);
/* system_supports_lpa2(), per instance like the capabilities (6.12's prelude asks it). */
bool arm64k_shim_supports_lpa2(void);
#define cpus_have_const_cap(cap) arm64k_shim_cpus_have_cap(cap)
#define cpus_have_final_cap(cap) arm64k_shim_cpus_have_cap(cap)

/* ---- Memory types (asm/memory.h) and the stage-2 MemAttr choice (asm/pgtable-prot.h) -------- */
#define MT_NORMAL 0
#define MT_NORMAL_TAGGED 1
#define MT_NORMAL_NC 2
#define MT_DEVICE_nGnRnE 3
#define MT_DEVICE_nGnRE 4
#define MT_S2_NORMAL 0xf
#define MT_S2_DEVICE_nGnRE 0x1
#define MT_S2_FWB_NORMAL 6
#define MT_S2_FWB_DEVICE_nGnRE 1

#define PAGE_S2_MEMATTR(attr, has_fwb)          \
  ({                                            \
    u64 __val;                                  \
    if (has_fwb)                                \
      __val = PTE_S2_MEMATTR(MT_S2_FWB_##attr); \
    else                                        \
      __val = PTE_S2_MEMATTR(MT_S2_##attr);     \
    __val;                                      \
  })

/* ---- Descriptor writes: every one is recorded as a Store effect ----------------------------- */
/*
 * pgtable.c writes descriptors only through WRITE_ONCE() and smp_store_release() (and, from 6.2
 * on, cmpxchg(), which the 6.12 prelude adds); its plain "*ptep = attr" assignments fill a local
 * attribute word or an out-parameter. Both macros funnel into one function that reads the old
 * value, stores the new one and reports (entry, old, new) to the current instance's host. Only
 * 64-bit stores exist in this code; any other width is a compile error rather than a silently
 * unrecorded write.
 */
void arm64k_shim_store(void* entry, u64 old_value, u64 new_value);

/*
 * The store is an atomic exchange, so that the old value recorded is exactly the one it replaced
 * even while other vCPUs of a threaded run (mmu/sched/threaded_run.h) change the entry: a
 * WRITE_ONCE is relaxed, a store-release releases (what makes a new table's zeroed entries
 * visible before the entry that links it). In a serial stream it stores what a plain store does.
 */
static inline void __arm64k_write_u64(volatile u64* p, u64 v, int order) {
  u64 old = __atomic_exchange_n((u64*)p, v, order);
  arm64k_shim_store((void*)p, old, v);
}

/*
 * Each marked access is also a scheduling point of concurrent streams, taken before the access
 * (mmu/sched/deterministic_scheduler.h): there another vCPU may run, as another CPU may between
 * two accesses. Outside a concurrent run a point returns at once. Inside one, once the vCPU's turn
 * has come back, the access is checked against the host's memory: a descriptor read or written in
 * a page that was freed meanwhile (a table freed before its grace period ended) is a memory fault
 * (SimMemory::check_use), named the moment it happens.
 */
#include "mmu/sched/sched_hooks.h"

void arm64k_shim_check_access(const char* what, const void* addr);

static inline void __arm64k_access(const char* what, const volatile void* addr) {
  if (unlikely(mmudiff_sched_access(what, (const void*)addr)))
    arm64k_shim_check_access(what, (const void*)addr);
}

#define WRITE_ONCE(x, val)                                                              \
  do {                                                                                  \
    _Static_assert(sizeof(x) == sizeof(u64), "kvm_arm64_shim: only 64-bit WRITE_ONCE"); \
    __arm64k_access("WRITE_ONCE", &(x));                                                \
    __arm64k_write_u64((volatile u64*)&(x), (u64)(val), __ATOMIC_RELAXED);              \
  } while (0)

#define smp_store_release(p, v)                                                               \
  do {                                                                                        \
    _Static_assert(sizeof(*(p)) == sizeof(u64), "kvm_arm64_shim: only 64-bit store-release"); \
    __arm64k_access("smp_store_release", (p));                                                \
    __arm64k_write_u64((volatile u64*)(p), (u64)(v), __ATOMIC_RELEASE);                       \
  } while (0)

/*
 * An acquire load, not a relaxed one: the kernel reads a child table through the address its
 * entry holds (an address dependency orders that on arm64), which C cannot express, and without
 * the acquire ThreadSanitizer would take the zeroing of a new table for a race with its reader.
 */
#define READ_ONCE(x)                                                                   \
  ({                                                                                   \
    _Static_assert(sizeof(x) == sizeof(u64), "kvm_arm64_shim: only 64-bit READ_ONCE"); \
    __arm64k_access("READ_ONCE", &(x));                                                \
    (typeof(x))__atomic_load_n((u64*)&(x), __ATOMIC_ACQUIRE);                          \
  })

/* ---- WARN_ON: each hit is a finding, counted for the current instance ----------------------- */
/*
 * WARN_ON_ONCE is counted on every hit too: "once" in the kernel means once per boot, which in a
 * harness running millions of tables would hide every hit after the first behind process-global
 * state.
 */
void arm64k_shim_warn(const char* file, int line, const char* condition);
#define WARN_ON(condition)                                                        \
  ({                                                                              \
    int __arm64k_ret = !!(condition);                                             \
    if (unlikely(__arm64k_ret)) arm64k_shim_warn(__FILE__, __LINE__, #condition); \
    __arm64k_ret;                                                                 \
  })
#define WARN_ON_ONCE(condition) WARN_ON(condition)

/* ---- Barriers and TLB maintenance: recorded, never executed --------------------------------- */
enum arm64k_shim_barrier { ARM64K_DSB_ish = 1, ARM64K_DSB_ishst, ARM64K_DSB_nsh, ARM64K_DSB_sy };
void arm64k_shim_dsb(int domain);
void arm64k_shim_isb(void);
#define dsb(opt) arm64k_shim_dsb(ARM64K_DSB_##opt)
#define isb() arm64k_shim_isb()

/* Stage-1 hyp TLBI (kvm_pgtable_hyp_unmap only): the VA operand as __TLBI_VADDR builds it. */
void arm64k_shim_tlbi_hyp(const char* op, u64 arg, u32 level);
#define __TLBI_VADDR(addr, asid)         \
  ({                                     \
    unsigned long __ta = (addr) >> 12;   \
    __ta &= GENMASK_ULL(43, 0);          \
    __ta |= (unsigned long)(asid) << 48; \
    __ta;                                \
  })
#define __tlbi_level(op, addr, level) arm64k_shim_tlbi_hyp(#op, (addr), (level))
/* Debian's backport (6.1.192, 6.12.118): dsb(ish) plus an erratum workaround that repeats the
 * TLBI. */
static inline void __tlbi_sync_s1ish_hyp(void) {
  dsb(ish);
}

/* The EL2 functions run directly; the adapters implement the ones the code calls. */
#define kvm_call_hyp(f, ...) f(__VA_ARGS__)

#endif /* MMUDIFF_KVM_ARM64_PRELUDE_COMMON_H */

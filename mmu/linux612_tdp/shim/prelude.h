/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Force-included (-include) before Linux 6.12's arch/x86/kvm/mmu/{tdp_mmu,tdp_iter,spte}.c, the
 * mmu.c functions lifted at build time, and our own C files, so that the kernel files compile
 * unmodified in user space. It is the kernel subset they use and nothing more: integer types,
 * bit helpers, lists, refcounts, the mmu_lock and RCU, the parts of struct kvm / kvm_vcpu /
 * kvm_memory_slot the TDP MMU reads, and declarations of the services linux612_services.c gives
 * them (pages, TLB flushes, host policies). Every SPTE access that can change memory (WRITE_ONCE,
 * xchg, try_cmpxchg64, atomic64_fetch_and) goes through a hook that records the store with its
 * exact old value.
 *
 * The kernel's own #includes (<linux/kvm_host.h>, "mmu.h", "x86.h", ...) resolve to the empty
 * stubs in shim/include, which come before the kernel include path; the real asm/vmx.h and
 * uapi/asm/vmx.h are used as they are.
 *
 * Values follow Debian's x86_64 configuration of 6.12: 4 KiB pages, CONFIG_X86_64, no
 * CONFIG_KVM_PROVE_MMU, no CONFIG_DYNAMIC_PHYSICAL_MASK (no SME/TDX key bits in the address).
 * Structures are ours, with the kernel's field names: only the kernel's code is the kernel's.
 */
#ifndef MMUDIFF_LINUX612_PRELUDE_H
#define MMUDIFF_LINUX612_PRELUDE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- Kernel configuration ------------------------------------------------------------------ */
#define CONFIG_X86_64 1
#define CONFIG_KVM_X86 1
#define KBUILD_MODNAME "kvm"
#define IS_ENABLED(option)                                              \
  0 /* every option the files test with IS_ENABLED is off in this build \
     */

/* mmutrace.h is skipped whole: trace events are functions below, or nothing. */
#define _TRACE_KVMMMU_H

/* ---- Types --------------------------------------------------------------------------------- */
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;
typedef u16 __u16;
typedef u32 __u32;
typedef u64 __u64;
typedef u64 gfn_t;
typedef u64 gpa_t;
typedef u64 hpa_t;
typedef unsigned long hva_t;
typedef u64 kvm_pfn_t;
typedef u64 phys_addr_t;
typedef unsigned int gfp_t;

/* ---- Compiler and constant helpers --------------------------------------------------------- */
/* KVM's MMU configuration lives in globals marked __read_mostly / __ro_after_init (the
 * shadow_*_mask values, enable_mmio_caching, ...): per thread here, so that VMs on different
 * threads each see their own configuration. */
#define __read_mostly __thread
#define __ro_after_init __thread
#define __init
#define __rcu
#undef __always_inline /* glibc defines it too */
#define __always_inline inline __attribute__((__always_inline__))
#define __aligned(x) __attribute__((__aligned__(x)))
#define __must_check __attribute__((__warn_unused_result__))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define __static_assert(expr, msg, ...) _Static_assert(expr, msg)
#define static_assert(expr, ...) __static_assert(expr, ##__VA_ARGS__, #expr)
#define BUILD_BUG_ON(cond) _Static_assert(!(cond), #cond)
#define BUILD_BUG_ON_INVALID(e) ((void)(sizeof((long)(e))))
#define EXPORT_SYMBOL_GPL(sym)
#define module_param_named(name, value, type, perm)

#define BITS_PER_LONG 64
#define BIT(nr) (1UL << (nr))
#define BIT_ULL(nr) (1ULL << (nr))
#define GENMASK(h, l) (((~0UL) - (1UL << (l)) + 1) & (~0UL >> (BITS_PER_LONG - 1 - (h))))
#define GENMASK_ULL(h, l) (((~0ULL) - (1ULL << (l)) + 1) & (~0ULL >> (63 - (h))))
#define REPEAT_BYTE(x) ((~0ul / 0xff) * (x))
#define BITS_TO_LONGS(nr) (((nr) + BITS_PER_LONG - 1) / BITS_PER_LONG)
#define DECLARE_BITMAP(name, bits) unsigned long name[BITS_TO_LONGS(bits)]
#define __ffs(word) ((unsigned long)__builtin_ctzl(word))
#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))
#define container_of(ptr, type, member) ((type*)((char*)(ptr)-offsetof(type, member)))

/* ---- Warnings: recorded for take_warnings(), never fatal ------------------------------------ */
/* linux612_services.c: reports to the active VM's host, returns cond. */
int l612_warn(int cond, const char* file, int line, const char* what);
#define WARN_ON(cond)                                         \
  ({                                                          \
    int __c = !!(cond);                                       \
    l612_warn(__c, __FILE__, __LINE__, "WARN_ON(" #cond ")"); \
  })
#define WARN_ON_ONCE(cond) WARN_ON(cond)
#define WARN(cond, fmt...)                                 \
  ({                                                       \
    int __c = !!(cond);                                    \
    l612_warn(__c, __FILE__, __LINE__, "WARN(" #cond ")"); \
  })
#define WARN_ONCE(cond, fmt...) WARN(cond, fmt)
#define BUG() ((void)l612_warn(1, __FILE__, __LINE__, "BUG()"))
#define BUG_ON(cond) ((void)l612_warn(!!(cond), __FILE__, __LINE__, "BUG_ON(" #cond ")"))
#define VM_BUG_ON(cond) ((void)l612_warn(!!(cond), __FILE__, __LINE__, "VM_BUG_ON(" #cond ")"))
#define KVM_BUG_ON(cond, kvm)                                    \
  ({                                                             \
    int __c = !!(cond);                                          \
    l612_warn(__c, __FILE__, __LINE__, "KVM_BUG_ON(" #cond ")"); \
  })
#define pr_err(fmt...) ((void)0)
#define pr_warn_ratelimited(fmt...) ((void)0)

/* ---- SPTE accesses (linux612_services.c records every store as an effect) ------------------- */
#define READ_ONCE(x) (*(const volatile __typeof__(x)*)&(x))
void l612_write_spte(u64* sptep, u64 new_spte);
u64 l612_xchg_spte(u64* sptep, u64 new_spte);
bool l612_try_cmpxchg_spte(u64* sptep, u64* old, u64 new_spte);
u64 l612_fetch_and_spte(u64* sptep, u64 mask);
#define WRITE_ONCE(x, val) l612_write_spte(&(x), (val))
#define xchg(ptr, val) l612_xchg_spte((ptr), (val))
#define try_cmpxchg64(ptr, oldp, new) l612_try_cmpxchg_spte((ptr), (oldp), (new))

typedef struct {
  int counter;
} atomic_t;
typedef struct {
  s64 counter;
} atomic64_t;
#define atomic64_read(v) ((v)->counter)
#define atomic64_inc(v) ((void)((v)->counter++))
#define atomic64_dec(v) ((void)((v)->counter--))
/* atomic64_fetch_and(i, v): *v &= i, returning the old value. */
#define atomic64_fetch_and(i, v) ((s64)l612_fetch_and_spte((u64*)&(v)->counter, (u64)(i)))
#define smp_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define cpu_relax() ((void)0)

/* ---- Lists, refcounts ---------------------------------------------------------------------- */
struct list_head {
  struct list_head *next, *prev;
};
struct hlist_node {
  struct hlist_node *next, **pprev;
};
struct rcu_head {
  struct rcu_head* next;
  void (*func)(struct rcu_head* head);
};

static inline void INIT_LIST_HEAD(struct list_head* list) {
  list->next = list;
  list->prev = list;
}
static inline bool list_empty(const struct list_head* head) {
  return head->next == head;
}
static inline void __list_add(struct list_head* entry, struct list_head* prev,
                              struct list_head* next) {
  next->prev = entry;
  entry->next = next;
  entry->prev = prev;
  prev->next = entry;
}
static inline void list_add_tail(struct list_head* entry, struct list_head* head) {
  __list_add(entry, head->prev, head);
}
static inline void list_del_init(struct list_head* entry) {
  entry->next->prev = entry->prev;
  entry->prev->next = entry->next;
  INIT_LIST_HEAD(entry);
}
static inline void list_del_rcu(struct list_head* entry) {
  entry->next->prev = entry->prev;
  entry->prev->next = entry->next;
}
#define list_add_rcu(entry, head) __list_add((entry), (head), (head)->next)
#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_first_or_null_rcu(head, type, member) \
  (list_empty(head) ? NULL : list_entry((head)->next, type, member))
#define list_next_or_null_rcu(head, ptr, type, member) \
  ((ptr)->next == (head) ? NULL : list_entry((ptr)->next, type, member))
#define list_for_each_entry(pos, head, member)                                           \
  for (pos = list_entry((head)->next, __typeof__(*pos), member); &pos->member != (head); \
       pos = list_entry(pos->member.next, __typeof__(*pos), member))

typedef struct {
  int refs;
} refcount_t;
static inline void refcount_set(refcount_t* r, int n) {
  r->refs = n;
}
static inline int refcount_read(const refcount_t* r) {
  return r->refs;
}
static inline bool refcount_inc_not_zero(refcount_t* r) {
  if (!r->refs) return false;
  r->refs++;
  return true;
}
static inline bool refcount_dec_and_test(refcount_t* r) {
  if (WARN_ON(r->refs <= 0)) return false;
  return --r->refs == 0;
}

/* ---- mmu_lock, lockdep and RCU (single-threaded: modes are tracked and asserted) ------------ */
typedef struct {
  int readers;
  bool writer;
} rwlock_t;
typedef struct {
  bool held;
} spinlock_t;
void read_lock(rwlock_t* lock);
void read_unlock(rwlock_t* lock);
void write_lock(rwlock_t* lock);
void write_unlock(rwlock_t* lock);
#define lockdep_assert_held(l) WARN_ON(!(l)->writer && !(l)->readers)
#define lockdep_assert_held_read(l) WARN_ON(!(l)->readers)
#define lockdep_assert_held_write(l) WARN_ON(!(l)->writer)
#define spin_lock_init(l) ((l)->held = false)
#define spin_lock(l) ((void)WARN_ON((l)->held), (l)->held = true)
#define spin_unlock(l) ((void)WARN_ON(!(l)->held), (l)->held = false)
/* Nothing else runs: no need to yield the lock. */
#define need_resched() false
#define rwlock_needbreak(l) false
#define cond_resched_rwlock_read(l) ((void)0)
#define cond_resched_rwlock_write(l) ((void)0)

void rcu_read_lock(void);
void rcu_read_unlock(void);
#define rcu_dereference(p) (p)
void call_rcu(struct rcu_head* head, void (*func)(struct rcu_head* head));
void rcu_barrier(void);

/* ---- Pages --------------------------------------------------------------------------------- */
#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define GFP_KERNEL_ACCOUNT 0u
struct page {
  unsigned long private;
};
struct kmem_cache;
void* l612_va(u64 pa);
u64 l612_pa(const void* va);
struct page* l612_page(u64 pfn);
#define __pa(x) l612_pa(x)
#define __va(x) l612_va(x)
#define pfn_to_page(pfn) l612_page(pfn)
#define virt_to_page(va) l612_page(l612_pa(va) >> PAGE_SHIFT)
#define page_private(page) ((page)->private)
#define set_page_private(page, v) ((page)->private = (v))
#define pfn_to_hpa(pfn) ((hpa_t)(pfn) << PAGE_SHIFT)
unsigned long get_zeroed_page(gfp_t gfp);
void free_page(unsigned long addr);
void* kmem_cache_zalloc(struct kmem_cache* cache, gfp_t gfp);
void kmem_cache_free(struct kmem_cache* cache, void* obj);
/* The zero page is never a table page, and no pfn is a struct-page-backed host page. */
#define my_zero_pfn(addr) ((u64)0)
#define is_zero_pfn(pfn) ((pfn) == 0)
#define pfn_valid(pfn) false
#define PageReserved(page) false
#define pat_enabled() true
#define pat_pfn_immune_to_uc_mtrr(pfn) false
#define E820_TYPE_RAM 1
bool e820__mapped_raw_any(u64 start, u64 end, int type);

struct kvm_mmu_memory_cache {
  gfp_t gfp_zero;
  gfp_t gfp_custom;
  u64 init_value;
  struct kmem_cache* kmem_cache;
  int capacity;
  int nobjs;
  void** objects;
};
void* kvm_mmu_memory_cache_alloc(struct kvm_mmu_memory_cache* mc);

/* ---- x86 CPU and MMU constants --------------------------------------------------------------- */
enum pg_level { PG_LEVEL_NONE, PG_LEVEL_4K, PG_LEVEL_2M, PG_LEVEL_1G, PG_LEVEL_512G, PG_LEVEL_NUM };
#define PT64_ROOT_4LEVEL 4
#define PT64_ROOT_5LEVEL 5
#define PT64_ROOT_MAX_LEVEL 5
#define PT32E_ROOT_LEVEL 3
#define INVALID_PAGE (~(hpa_t)0)
#define KVM_NR_PAGE_SIZES 3
#define KVM_MAX_HUGEPAGE_LEVEL PG_LEVEL_1G
#define KVM_HPAGE_GFN_SHIFT(x) (((x)-1) * 9)
#define KVM_PAGES_PER_HPAGE(x) (1UL << KVM_HPAGE_GFN_SHIFT(x))
#define PT_PRESENT_MASK (1ULL << 0)
#define PT_WRITABLE_MASK (1ULL << 1)
#define PT_USER_MASK (1ULL << 2)
#define PT_ACCESSED_MASK (1ULL << 5)
#define PT_DIRTY_MASK (1ULL << 6)
#define PT_PAGE_SIZE_MASK (1ULL << 7)
#define PT64_NX_MASK (1ULL << 63)
#define PFERR_PRESENT_MASK (1ULL << 0)
#define PFERR_WRITE_MASK (1ULL << 1)
#define PFERR_USER_MASK (1ULL << 2)
#define PFERR_RSVD_MASK (1ULL << 3)
#define PFERR_FETCH_MASK (1ULL << 4)
#define PFERR_PRIVATE_ACCESS (1ULL << 49)
#define EMULTYPE_WRITE_PF_TO_SP (1 << 8)
#define MTRR_TYPE_UNCACHABLE 0
#define MTRR_TYPE_WRBACK 6

struct cpuinfo_x86 {
  u8 x86_phys_bits;
  u8 x86_cache_bits;
  u32 extended_cpuid_level;
};
extern _Thread_local struct cpuinfo_x86 boot_cpu_data;
struct kvm_host_values {
  u8 maxphyaddr;
};
extern _Thread_local struct kvm_host_values kvm_host;
#define X86_BUG_L1TF 1
#define boot_cpu_has_bug(bug) l612_cpu_has_l1tf()
bool l612_cpu_has_l1tf(void);
u32 cpuid_eax(u32 op);
extern bool tdp_enabled;
extern bool __read_mostly enable_mmio_caching;

static __always_inline u64 rsvd_bits(int s, int e) {
  if (e < s) return 0;
  return ((2ULL << (e - s)) - 1) << s;
}

static inline gfn_t kvm_mmu_max_gfn(void) {
  int max_gpa_bits = likely(tdp_enabled) ? kvm_host.maxphyaddr : 52;

  return (1ULL << (max_gpa_bits - PAGE_SHIFT)) - 1;
}

/* What the stubbed "mmu.h" declares of spte.c. */
void kvm_mmu_set_mmio_spte_mask(u64 mmio_value, u64 mmio_mask, u64 access_mask);
void kvm_mmu_set_me_spte_mask(u64 me_value, u64 me_mask);
void kvm_mmu_set_ept_masks(bool has_ad_bits, bool has_exec_only);

/* ---- KVM's structures, the fields the TDP MMU uses ----------------------------------------- */
#define KVM_PFN_ERR_MASK (0x7ffULL << 52)
#define KVM_PFN_ERR_NOSLOT_MASK (0xfffULL << 52)
#define KVM_PFN_NOSLOT (0x1ULL << 63)
#define KVM_PFN_ERR_FAULT (KVM_PFN_ERR_MASK)
#define KVM_HVA_ERR_BAD (~0UL)
#define KVM_MEM_LOG_DIRTY_PAGES (1UL << 0)
static inline bool is_error_noslot_pfn(kvm_pfn_t pfn) {
  return !!(pfn & KVM_PFN_ERR_NOSLOT_MASK);
}

union kvm_mmu_page_role {
  u32 word;
  struct {
    unsigned level : 4;
    unsigned has_4_byte_gpte : 1;
    unsigned quadrant : 2;
    unsigned direct : 1;
    unsigned access : 3;
    unsigned invalid : 1;
    unsigned efer_nx : 1;
    unsigned cr0_wp : 1;
    unsigned smep_andnot_wp : 1;
    unsigned smap_andnot_wp : 1;
    unsigned ad_disabled : 1;
    unsigned guest_mode : 1;
    unsigned passthrough : 1;
    unsigned : 5;
    unsigned smm : 8;
  };
};

struct kvm_rmap_head {
  unsigned long val;
};

struct rsvd_bits_validate {
  u64 rsvd_bits_mask[2][PT64_ROOT_MAX_LEVEL];
  u64 bad_mt_xwr;
};

struct kvm_mmu_root_info {
  gpa_t pgd;
  hpa_t hpa;
};

struct kvm_vcpu;
struct kvm_page_fault;
struct kvm_mmu {
  int (*page_fault)(struct kvm_vcpu* vcpu, struct kvm_page_fault* fault);
  struct kvm_mmu_root_info root;
  union kvm_mmu_page_role root_role;
  struct rsvd_bits_validate shadow_zero_check;
};

struct kvm_lpage_info {
  int disallow_lpage;
};

struct kvm_arch_memory_slot {
  struct kvm_lpage_info* lpage_info[KVM_NR_PAGE_SIZES - 1];
};

struct kvm_memory_slot {
  gfn_t base_gfn;
  unsigned long npages;
  unsigned long* dirty_bitmap;
  struct kvm_arch_memory_slot arch;
  unsigned long userspace_addr;
  u32 flags;
  short id;
  u16 as_id;
};

struct kvm_memslots {
  u64 generation;
};

struct kvm_gfn_range {
  struct kvm_memory_slot* slot;
  gfn_t start;
  gfn_t end;
  bool may_block;
};

struct kvm_arch {
  struct list_head tdp_mmu_roots;
  spinlock_t tdp_mmu_pages_lock;
  atomic64_t tdp_mmu_pages;
  struct list_head possible_nx_huge_pages;
  bool disable_nx_huge_pages;
  u64 shadow_mmio_value;
  unsigned int indirect_shadow_pages;
};

struct kvm_vm_stat {
  u64 pages[KVM_NR_PAGE_SIZES];
  u64 nx_lpage_splits;
};

struct kvm {
  rwlock_t mmu_lock;
  refcount_t users_count;
  int created_vcpus;
  struct kvm_arch arch;
  struct kvm_vm_stat stat;
  struct kvm_memslots memslots;
};

struct kvm_vcpu_arch {
  struct kvm_mmu* mmu;
  struct kvm_mmu root_mmu;
  struct kvm_mmu_memory_cache mmu_shadow_page_cache;
  struct kvm_mmu_memory_cache mmu_page_header_cache;
};

struct kvm_vcpu_stat {
  u64 pf_mmio_spte_created;
};

struct kvm_vcpu {
  struct kvm* kvm;
  struct kvm_vcpu_arch arch;
  struct kvm_vcpu_stat stat;
};

struct kvm_x86_ops {
  int cpu_dirty_log_size;
};
extern struct kvm_x86_ops kvm_x86_ops;
/* static_call(kvm_x86_get_mt_mask): VMX's policy, in linux612_services.c. */
#define kvm_x86_call(func) kvm_x86_##func
u8 kvm_x86_get_mt_mask(struct kvm_vcpu* vcpu, gfn_t gfn, bool is_mmio);

static inline struct kvm_memslots* kvm_vcpu_memslots(struct kvm_vcpu* vcpu) {
  return &vcpu->kvm->memslots;
}
static inline bool kvm_slot_dirty_track_enabled(const struct kvm_memory_slot* slot) {
  return slot->flags & KVM_MEM_LOG_DIRTY_PAGES;
}
static inline bool kvm_slot_can_be_private(const struct kvm_memory_slot* slot) {
  (void)slot;
  return false;
}
static inline bool kvm_mem_is_private(struct kvm* kvm, gfn_t gfn) {
  (void)kvm;
  (void)gfn;
  return false;
}
static inline unsigned long gfn_to_index(gfn_t gfn, gfn_t base_gfn, int level) {
  return (gfn >> KVM_HPAGE_GFN_SHIFT(level)) - (base_gfn >> KVM_HPAGE_GFN_SHIFT(level));
}
struct kvm_memory_slot* kvm_vcpu_gfn_to_memslot(struct kvm_vcpu* vcpu, gfn_t gfn);
void kvm_prepare_memory_fault_exit(struct kvm_vcpu* vcpu, gpa_t gpa, gpa_t size, bool is_write,
                                   bool is_exec, bool is_private);

/* ---- What the TDP MMU asks of the rest of KVM (linux612_services.c) ------------------------- */
void kvm_flush_remote_tlbs(struct kvm* kvm);
void kvm_flush_remote_tlbs_range(struct kvm* kvm, gfn_t gfn, u64 nr_pages);
void kvm_set_pfn_dirty(kvm_pfn_t pfn);
void kvm_set_pfn_accessed(kvm_pfn_t pfn);
void mark_page_dirty_in_slot(struct kvm* kvm, const struct kvm_memory_slot* slot, gfn_t gfn);
void kvm_update_page_stats(struct kvm* kvm, int level, int count);
void kvm_account_pgtable_pages(void* virt, int nr);

/* Trace events: not observed (every SPTE store is, through the hooks above). */
#define trace_kvm_mmu_get_page(sp, created) ((void)0)
#define trace_kvm_mmu_prepare_zap_page(sp) ((void)0)
#define trace_kvm_tdp_mmu_spte_changed(as_id, gfn, level, old, new) ((void)0)
#define trace_mark_mmio_spte(sptep, gfn, spte) ((void)0)
#define trace_kvm_mmu_set_spte(level, gfn, sptep) ((void)0)
#define trace_kvm_mmu_spte_requested(fault) ((void)0)
#define trace_kvm_mmu_split_huge_page(gfn, spte, level, errno) ((void)0)

#endif /* MMUDIFF_LINUX612_PRELUDE_H */

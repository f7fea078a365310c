// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the rest of the kernel gives tdp_mmu.c, tdp_iter.c and spte.c, as a single-threaded user
 * space host: table pages and their struct page, the SPTE store hooks, the mmu_lock and RCU, the
 * vCPU's memory caches, TLB flushes, and the host policies KVM reads (memory type, host MMIO,
 * write tracking, CPU bugs). Everything reports to the VM the current l612_ call works on.
 */
#include <stdlib.h>

#include "linux612_internal.h"

_Thread_local struct l612_vm* l612_active;

/* ---- Globals the kernel files expect from elsewhere in KVM and x86 --------------------------- */
/* The module parameter, on for every VM; a VM without the mitigation has
 * kvm->arch.disable_nx_huge_pages set (KVM_CAP_VM_DISABLE_NX_HUGE_PAGES), a per-VM knob. */
int nx_huge_pages = 1;
bool tdp_enabled = true;
_Thread_local struct cpuinfo_x86 boot_cpu_data;
_Thread_local struct kvm_host_values kvm_host;
/* No PML: kvm_mmu_page_ad_need_write_protect() is false for every non-nested root. */
struct kvm_x86_ops kvm_x86_ops;
static char header_cache_tag;
struct kmem_cache* mmu_page_header_cache = (struct kmem_cache*)&header_cache_tag;

int l612_warn(int cond, const char* file, int line, const char* what) {
  if (cond && l612_active) l612_active->ops->warn(l612_active->host, file, line, what);
  return cond;
}

/* The CPU: MAXPHYADDR from the configuration (CPUID 0x80000008 EAX[7:0]), no L1TF (the
 * nonpresent-or-reserved mask stays 0, as on CPUs with RDCL_NO). */
bool l612_cpu_has_l1tf(void) {
  return false;
}

u32 cpuid_eax(u32 op) {
  return op == 0x80000008 && l612_active ? l612_active->config.maxphyaddr : 0;
}

/* kvm_is_mmio_pfn(): no pfn has a struct page here, so a pfn is host MMIO unless e820 maps it
 * as RAM; RAM is every pfn below host_mmio_pfn (all of them when it is 0). */
bool e820__mapped_raw_any(u64 start, u64 end, int type) {
  u64 mmio_pfn = l612_active ? l612_active->config.host_mmio_pfn : 0;

  (void)end;
  return type == E820_TYPE_RAM && (mmio_pfn == 0 || (start >> PAGE_SHIFT) < mmio_pfn);
}

/* vmx_get_mt_mask() for a VM without non-coherent DMA and the default quirks. */
u8 kvm_x86_get_mt_mask(struct kvm_vcpu* vcpu, gfn_t gfn, bool is_mmio) {
  (void)vcpu;
  (void)gfn;
  if (is_mmio) return MTRR_TYPE_UNCACHABLE << VMX_EPT_MT_EPTE_SHIFT;
  return (MTRR_TYPE_WRBACK << VMX_EPT_MT_EPTE_SHIFT) | VMX_EPT_IPAT_BIT;
}

/* Only external write tracking (KVMGT) or shadow pages refuse a writable SPTE; the TDP MMU has
 * neither. */
int mmu_try_to_unsync_pages(struct kvm* kvm, const struct kvm_memory_slot* slot, gfn_t gfn,
                            bool can_unsync, bool prefetch) {
  (void)kvm;
  (void)slot;
  (void)gfn;
  (void)can_unsync;
  (void)prefetch;
  return 0;
}

/* host_pfn_mapping_level(): how the host maps the memory behind the slot. */
int host_pfn_mapping_level_of(struct kvm* kvm, gfn_t gfn, const struct kvm_memory_slot* slot) {
  (void)kvm;
  (void)gfn;
  (void)slot;
  return l612_active ? (int)l612_active->config.host_level : PG_LEVEL_4K;
}

void l612_activate(struct l612_vm* vm) {
  const struct l612_config* c = &vm->config;

  l612_active = vm;
  /* kvm_x86_vendor_init -> kvm_mmu_vendor_module_init, then vmx_hardware_setup. */
  boot_cpu_data.x86_phys_bits = (u8)c->maxphyaddr;
  boot_cpu_data.x86_cache_bits = (u8)c->maxphyaddr;
  boot_cpu_data.extended_cpuid_level = 0x80000008;
  enable_mmio_caching = true;
  kvm_mmu_spte_module_init();
  kvm_mmu_reset_all_pte_masks();
  kvm_mmu_set_ept_masks(c->ad, c->execonly);
  l612_set_max_huge_page_level((int)c->max_level);
}

/* ---- Frames: struct page for every table page ---------------------------------------------- */
static struct l612_frame** bucket_of(struct l612_vm* vm, u64 pfn) {
  return &vm->frames[pfn % L612_FRAME_BUCKETS];
}

struct l612_frame* l612_frame_of(struct l612_vm* vm, u64 pfn) {
  struct l612_frame* f;

  for (f = *bucket_of(vm, pfn); f; f = f->next_in_bucket)
    if (f->pfn == pfn) return f;
  return NULL;
}

void* l612_va(u64 pa) {
  return l612_active->ops->phys_to_virt(l612_active->host, pa);
}

u64 l612_pa(const void* va) {
  return l612_active->ops->virt_to_phys(l612_active->host, va);
}

struct page* l612_page(u64 pfn) {
  struct l612_frame* f = l612_frame_of(l612_active, pfn);

  if (l612_warn(!f, __FILE__, __LINE__, "pfn_to_page of a page that is no table page")) return NULL;
  return &f->page;
}

/* A zeroed page of ours, not linked into the table yet. */
static void* alloc_table_page(struct l612_vm* vm) {
  struct l612_frame* f;
  void* va = vm->ops->alloc_page(vm->host);

  if (!va) return NULL;
  f = calloc(1, sizeof(*f));
  if (f) f->recorded = calloc(SPTE_ENT_PER_PAGE, sizeof(u64));
  if (!f || !f->recorded) {
    free(f);
    vm->ops->free_page(vm->host, va);
    return NULL;
  }
  f->pfn = vm->ops->virt_to_phys(vm->host, va) >> PAGE_SHIFT;
  f->next_in_bucket = *bucket_of(vm, f->pfn);
  *bucket_of(vm, f->pfn) = f;
  return va;
}

static void free_table_page(struct l612_vm* vm, void* va) {
  u64 pfn = vm->ops->virt_to_phys(vm->host, va) >> PAGE_SHIFT;
  struct l612_frame** link = bucket_of(vm, pfn);

  while (*link && (*link)->pfn != pfn) link = &(*link)->next_in_bucket;
  if (!l612_warn(!*link, __FILE__, __LINE__, "free_page of a page that is no table page")) {
    struct l612_frame* f = *link;

    *link = f->next_in_bucket;
    free(f->recorded);
    free(f);
  }
  vm->ops->free_page(vm->host, va);
}

unsigned long get_zeroed_page(gfp_t gfp) {
  (void)gfp;
  return (unsigned long)alloc_table_page(l612_active);
}

void free_page(unsigned long addr) {
  if (addr) free_table_page(l612_active, (void*)addr);
}

void* kmem_cache_zalloc(struct kmem_cache* cache, gfp_t gfp) {
  (void)cache;
  (void)gfp;
  return calloc(1, sizeof(struct kvm_mmu_page));
}

void kmem_cache_free(struct kmem_cache* cache, void* obj) {
  (void)cache;
  free(obj);
}

/* ---- The vCPU's memory caches (virt/kvm/kvm_main.c) ----------------------------------------- */
static void* cache_new_object(struct l612_vm* vm, struct kvm_mmu_memory_cache* mc) {
  u64* page;
  int i;

  if (mc->kmem_cache) return kmem_cache_zalloc(mc->kmem_cache, 0);
  page = alloc_table_page(vm);
  /* mmu_memory_cache_alloc_obj: memset64(page, init_value) -- plain stores into a page no
   * table links yet, recorded when one does. */
  if (page && mc->init_value)
    for (i = 0; i < SPTE_ENT_PER_PAGE; i++) page[i] = mc->init_value;
  return page;
}

static void cache_free_object(struct l612_vm* vm, struct kvm_mmu_memory_cache* mc, void* obj) {
  if (mc->kmem_cache)
    kmem_cache_free(mc->kmem_cache, obj);
  else
    free_table_page(vm, obj);
}

/* kvm_mmu_topup_memory_cache(mc, PT64_ROOT_MAX_LEVEL) for both caches, as
 * mmu_topup_memory_caches() before a fault. The kernel fills to the cache's capacity and fails
 * only below the minimum; filling to the minimum fails in exactly the same cases. */
int l612_topup_caches(struct l612_vm* vm) {
  struct kvm_mmu_memory_cache* caches[] = {&vm->vcpu.arch.mmu_shadow_page_cache,
                                           &vm->vcpu.arch.mmu_page_header_cache};
  size_t c;

  for (c = 0; c < sizeof(caches) / sizeof(caches[0]); c++) {
    struct kvm_mmu_memory_cache* mc = caches[c];

    while (mc->nobjs < mc->capacity) {
      void* obj = cache_new_object(vm, mc);

      if (!obj) return -ENOMEM;
      mc->objects[mc->nobjs++] = obj;
    }
  }
  return 0;
}

/* The kernel keeps unused objects for the next fault; we give them back after each operation,
 * so that between operations every live page is a table page. */
void l612_release_caches(struct l612_vm* vm) {
  struct kvm_mmu_memory_cache* caches[] = {&vm->vcpu.arch.mmu_shadow_page_cache,
                                           &vm->vcpu.arch.mmu_page_header_cache};
  size_t c;

  for (c = 0; c < sizeof(caches) / sizeof(caches[0]); c++)
    while (caches[c]->nobjs > 0)
      cache_free_object(vm, caches[c], caches[c]->objects[--caches[c]->nobjs]);
}

void* kvm_mmu_memory_cache_alloc(struct kvm_mmu_memory_cache* mc) {
  /* The kernel WARNs and falls back to an atomic allocation. */
  if (WARN_ON(!mc->nobjs)) return cache_new_object(l612_active, mc);
  return mc->objects[--mc->nobjs];
}

/* ---- SPTE stores ----------------------------------------------------------------------------- */
/* Records the plain stores the kernel made into an unlinked page, now that it is being linked:
 * every entry that differs from what was recorded for it. */
static void record_unlinked_stores(struct l612_vm* vm, struct l612_frame* f) {
  u64* entries = vm->ops->phys_to_virt(vm->host, f->pfn << PAGE_SHIFT);
  u64* recorded = f->recorded;
  int i;

  f->recorded = NULL;
  for (i = 0; i < SPTE_ENT_PER_PAGE; i++)
    if (entries[i] != recorded[i]) vm->ops->store(vm->host, &entries[i], recorded[i], entries[i]);
  free(recorded);
}

void l612_mark_linked(struct l612_vm* vm, void* page) {
  struct l612_frame* f = l612_frame_of(vm, vm->ops->virt_to_phys(vm->host, page) >> PAGE_SHIFT);

  if (f && f->recorded) record_unlinked_stores(vm, f);
}

/* Called before the store of new_spte into sptep (old_spte is still there). */
static void before_store(struct l612_vm* vm, u64* sptep, u64 new_spte) {
  struct kvm_mmu_page* sp = sptep_to_sp(sptep);
  struct l612_frame* child;

  if (!sp || sp->role.level == PG_LEVEL_4K || !is_shadow_present_pte(new_spte) ||
      is_large_pte(new_spte))
    return;
  child = l612_frame_of(vm, spte_to_pfn(new_spte));
  if (child && child->recorded) record_unlinked_stores(vm, child);
}

static void after_store(struct l612_vm* vm, u64* sptep, u64 old_spte, u64 new_spte) {
  struct l612_frame* f = l612_frame_of(vm, vm->ops->virt_to_phys(vm->host, sptep) >> PAGE_SHIFT);

  if (f && f->recorded) f->recorded[spte_index(sptep)] = new_spte;
  vm->ops->store(vm->host, sptep, old_spte, new_spte);
}

void l612_write_spte(u64* sptep, u64 new_spte) {
  u64 old_spte = *sptep;

  before_store(l612_active, sptep, new_spte);
  *sptep = new_spte;
  after_store(l612_active, sptep, old_spte, new_spte);
}

u64 l612_xchg_spte(u64* sptep, u64 new_spte) {
  u64 old_spte = *sptep;

  before_store(l612_active, sptep, new_spte);
  *sptep = new_spte;
  after_store(l612_active, sptep, old_spte, new_spte);
  return old_spte;
}

bool l612_try_cmpxchg_spte(u64* sptep, u64* old, u64 new_spte) {
  u64 cur = *sptep;

  if (cur != *old) {
    *old = cur;
    return false;
  }
  before_store(l612_active, sptep, new_spte);
  *sptep = new_spte;
  after_store(l612_active, sptep, cur, new_spte);
  return true;
}

u64 l612_fetch_and_spte(u64* sptep, u64 mask) {
  u64 old_spte = *sptep;

  *sptep = old_spte & mask;
  after_store(l612_active, sptep, old_spte, old_spte & mask);
  return old_spte;
}

/* ---- mmu_lock and RCU --------------------------------------------------------------------------
 */
void read_lock(rwlock_t* lock) {
  WARN_ON(lock->writer);
  lock->readers++;
}

void read_unlock(rwlock_t* lock) {
  if (!WARN_ON(lock->readers <= 0)) lock->readers--;
}

void write_lock(rwlock_t* lock) {
  WARN_ON(lock->writer || lock->readers);
  lock->writer = true;
}

void write_unlock(rwlock_t* lock) {
  WARN_ON(!lock->writer);
  lock->writer = false;
}

void rcu_read_lock(void) {
  l612_active->rcu_depth++;
}

void rcu_read_unlock(void) {
  if (!WARN_ON(l612_active->rcu_depth <= 0)) l612_active->rcu_depth--;
}

void call_rcu(struct rcu_head* head, void (*func)(struct rcu_head* head)) {
  struct rcu_head** tail = &l612_active->rcu_queue;

  while (*tail) tail = &(*tail)->next;
  head->next = NULL;
  head->func = func;
  *tail = head;
}

/* A grace period: no reader is left once an l612_ call has returned, so this runs at the end of
 * each one and in rcu_barrier(). */
void l612_run_rcu_callbacks(struct l612_vm* vm) {
  WARN_ON(vm->rcu_depth != 0);
  while (vm->rcu_queue) {
    struct rcu_head* head = vm->rcu_queue;

    vm->rcu_queue = head->next;
    head->func(head);
  }
}

void rcu_barrier(void) {
  l612_run_rcu_callbacks(l612_active);
}

/* ---- What the TDP MMU reports to the rest of KVM ------------------------------------------------
 */
void kvm_flush_remote_tlbs(struct kvm* kvm) {
  (void)kvm;
  l612_active->ops->tlbi_vmid(l612_active->host);
}

void kvm_flush_remote_tlbs_range(struct kvm* kvm, gfn_t gfn, u64 nr_pages) {
  (void)kvm;
  l612_active->ops->tlbi_range(l612_active->host, gfn, nr_pages);
}

void kvm_set_pfn_dirty(kvm_pfn_t pfn) {
  (void)pfn;
  l612_active->pfn_dirty++;
}

void kvm_set_pfn_accessed(kvm_pfn_t pfn) {
  (void)pfn;
  l612_active->pfn_accessed++;
}

void mark_page_dirty_in_slot(struct kvm* kvm, const struct kvm_memory_slot* slot, gfn_t gfn) {
  (void)kvm;
  (void)slot;
  (void)gfn;
  l612_active->page_dirty++;
}

void kvm_update_page_stats(struct kvm* kvm, int level, int count) {
  kvm->stat.pages[level - 1] += count;
}

void kvm_account_pgtable_pages(void* virt, int nr) {
  (void)virt;
  (void)nr;
}

/* ---- Memslots (kvm_alloc_memslot_metadata -> kvm_arch_alloc_memslot_metadata) --------------- */
/* lpage_info per huge page size, with the head and tail huge pages disallowed when the slot
 * covers them only partly. userspace_addr is the gpa, so hva and gfn are always congruent. */
bool l612_slot_init(struct kvm_memory_slot* slot, gfn_t base_gfn, unsigned long npages) {
  int i;

  memset(slot, 0, sizeof(*slot));
  slot->base_gfn = base_gfn;
  slot->npages = npages;
  slot->userspace_addr = base_gfn << PAGE_SHIFT;
  if (npages == 0) return true;
  for (i = 1; i < KVM_NR_PAGE_SIZES; ++i) {
    int level = i + 1;
    unsigned long lpages = gfn_to_index(base_gfn + npages - 1, base_gfn, level) + 1;
    struct kvm_lpage_info* linfo = calloc(lpages, sizeof(*linfo));

    if (!linfo) {
      l612_slot_free(slot);
      return false;
    }
    slot->arch.lpage_info[i - 1] = linfo;
    if (base_gfn & (KVM_PAGES_PER_HPAGE(level) - 1)) linfo[0].disallow_lpage = 1;
    if ((base_gfn + npages) & (KVM_PAGES_PER_HPAGE(level) - 1))
      linfo[lpages - 1].disallow_lpage = 1;
  }
  return true;
}

void l612_slot_free(struct kvm_memory_slot* slot) {
  int i;

  for (i = 0; i < KVM_NR_PAGE_SIZES - 1; i++) {
    free(slot->arch.lpage_info[i]);
    slot->arch.lpage_info[i] = NULL;
  }
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * The l612_ calls (linux612_adapter.h): each does what KVM does around the TDP MMU function it
 * reaches -- the mmu_lock in the mode KVM's caller takes it, the memory caches topped up for a
 * fault (mmu_topup_memory_caches), a memslot for the slot operations -- then runs the RCU
 * callbacks, as a grace period would once the call has returned.
 */
#include <stdlib.h>

#include "linux612_internal.h"
#include "tdp_mmu.h"

/* Every call first makes the kernel's global MMU configuration this VM's. */
#define L612_ENTER(vm) l612_activate(vm)

static void l612_leave(struct l612_vm* vm) {
  l612_release_caches(vm);
  l612_run_rcu_callbacks(vm);
}

struct l612_vm* l612_vm_create(const struct l612_host_ops* ops, void* host,
                               const struct l612_config* config) {
  struct l612_vm* vm = calloc(1, sizeof(*vm));

  if (!vm) return NULL;
  vm->ops = ops;
  vm->host = host;
  vm->config = *config;
  if (!l612_slot_init(&vm->slot, config->slot_base_gfn, config->slot_npages)) {
    free(vm);
    return NULL;
  }
  return vm;
}

void l612_vm_free(struct l612_vm* vm) {
  if (!vm) return;
  l612_slot_free(&vm->slot);
  if (l612_active == vm) l612_active = NULL;
  free(vm);
}

/* kvm_create_vm + kvm_mmu_init_vm, kvm_vcpu_create + kvm_mmu_create, kvm_init_mmu (the TDP
 * root role), then kvm_mmu_load's kvm_tdp_mmu_alloc_root. */
int l612_init(struct l612_vm* vm) {
  struct kvm* kvm = &vm->kvm;
  struct kvm_vcpu* vcpu = &vm->vcpu;
  struct kvm_mmu* mmu = &vcpu->arch.root_mmu;
  union kvm_mmu_page_role role = {0};
  int r;

  L612_ENTER(vm);
  if (vm->live) return 0;
  memset(kvm, 0, sizeof(*kvm));
  memset(vcpu, 0, sizeof(*vcpu));
  refcount_set(&kvm->users_count, 1);
  kvm->created_vcpus = 1;
  INIT_LIST_HEAD(&kvm->arch.possible_nx_huge_pages);
  kvm->arch.disable_nx_huge_pages = !vm->config.nx_huge_pages;
  kvm->arch.shadow_mmio_value = shadow_mmio_value;
  kvm_mmu_init_tdp_mmu(kvm);

  vcpu->kvm = kvm;
  vcpu->arch.mmu = mmu;
  vcpu->arch.mmu_page_header_cache.kmem_cache = mmu_page_header_cache;
  vcpu->arch.mmu_page_header_cache.capacity = L612_CACHE_OBJECTS;
  vcpu->arch.mmu_page_header_cache.objects = vm->header_objects;
  vcpu->arch.mmu_shadow_page_cache.init_value = SHADOW_NONPRESENT_VALUE;
  vcpu->arch.mmu_shadow_page_cache.capacity = L612_CACHE_OBJECTS;
  vcpu->arch.mmu_shadow_page_cache.objects = vm->shadow_page_objects;

  /* kvm_calc_tdp_mmu_root_page_role, outside SMM and guest mode. */
  role.access = ACC_ALL;
  role.cr0_wp = true;
  role.efer_nx = true;
  role.ad_disabled = !kvm_ad_enabled();
  role.level = vm->config.levels;
  role.direct = true;
  mmu->root_role = role;
  mmu->root.hpa = INVALID_PAGE;
  l612_reset_ept_zero_check(&mmu->shadow_zero_check, vm->config.maxphyaddr, false,
                            (int)vm->config.max_level);

  r = l612_topup_caches(vm);
  if (!r) r = kvm_tdp_mmu_alloc_root(vcpu);
  if (!r) {
    vm->root_hpa = mmu->root.hpa;
    /* The root is in use from here: what the cache wrote into it is in the table. */
    l612_mark_linked(vm, __va(vm->root_hpa));
    vm->live = true;
  }
  l612_leave(vm);
  return r;
}

/* kvm_destroy_vm: the MMU notifier's release zaps everything (kvm_mmu_zap_all), the vCPU drops
 * its root (kvm_mmu_unload), and kvm_mmu_uninit_vm invalidates, zaps and puts the rest. */
void l612_destroy(struct l612_vm* vm) {
  struct kvm* kvm = &vm->kvm;

  L612_ENTER(vm);
  if (!vm->live) return;
  write_lock(&kvm->mmu_lock);
  kvm_tdp_mmu_zap_all(kvm);
  write_unlock(&kvm->mmu_lock);

  write_lock(&kvm->mmu_lock);
  kvm_tdp_mmu_put_root(kvm, root_to_sp(vm->root_hpa));
  write_unlock(&kvm->mmu_lock);
  vm->vcpu.arch.root_mmu.root.hpa = INVALID_PAGE;

  refcount_set(&kvm->users_count, 0);
  kvm_mmu_uninit_tdp_mmu(kvm);
  l612_leave(vm);
  vm->live = false;
  vm->root_hpa = 0;
}

bool l612_live(const struct l612_vm* vm) {
  return vm->live;
}

uint64_t l612_root_pa(const struct l612_vm* vm) {
  return vm->live ? vm->root_hpa : 0;
}

void l612_get_stats(const struct l612_vm* vm, struct l612_stats* stats) {
  int i;

  memset(stats, 0, sizeof(*stats));
  stats->pfn_dirty = vm->pfn_dirty;
  stats->pfn_accessed = vm->pfn_accessed;
  stats->page_dirty = vm->page_dirty;
  for (i = 0; i < KVM_NR_PAGE_SIZES; i++) stats->leaf_pages[i] = (int64_t)vm->kvm.stat.pages[i];
  stats->table_pages = vm->kvm.arch.tdp_mmu_pages.counter;
  stats->nx_lpage_splits = vm->kvm.stat.nx_lpage_splits;
  stats->mmio_sptes = vm->vcpu.stat.pf_mmio_spte_created;
}

/* kvm_tdp_mmu_page_fault after fast_page_fault found nothing to fix: top up the caches, fault
 * the pfn in (a gfn outside the memslot is MMIO: no slot, KVM_PFN_NOSLOT, and beyond the host's
 * MAXPHYADDR it is emulated without an SPTE, as kvm_handle_noslot_fault does), then
 * kvm_tdp_mmu_map under the mmu_lock for read. */
int l612_fault(struct l612_vm* vm, const struct l612_fault* f) {
  struct kvm* kvm = &vm->kvm;
  struct kvm_vcpu* vcpu = &vm->vcpu;
  bool in_slot = f->gfn >= vm->slot.base_gfn && f->gfn - vm->slot.base_gfn < vm->slot.npages;
  u8 max_level =
      (u8)min(max(f->max_level, (unsigned)PG_LEVEL_4K), (unsigned)KVM_MAX_HUGEPAGE_LEVEL);
  int r;

  L612_ENTER(vm);
  if (!vm->live) return -EINVAL;
  if (!in_slot && f->gfn > kvm_mmu_max_gfn()) return RET_PF_EMULATE;
  {
    struct kvm_page_fault fault = {
        .addr = f->gfn << PAGE_SHIFT,
        .error_code = (f->write ? PFERR_WRITE_MASK : 0) | (f->exec ? PFERR_FETCH_MASK : 0),
        .prefetch = f->prefetch,
        .exec = f->exec,
        .write = f->write,
        .is_tdp = true,
        .nx_huge_page_workaround_enabled = is_nx_huge_page_enabled(kvm),
        .max_level = max_level,
        .req_level = PG_LEVEL_4K,
        .goal_level = PG_LEVEL_4K,
        .gfn = f->gfn,
        .slot = in_slot ? &vm->slot : NULL,
        .pfn = in_slot ? f->pfn : KVM_PFN_NOSLOT,
        .hva = in_slot ? (hva_t)(f->gfn << PAGE_SHIFT) : KVM_HVA_ERR_BAD,
        .map_writable = in_slot && f->map_writable,
    };

    r = l612_topup_caches(vm);
    if (!r) {
      if (f->dirty_logging) vm->slot.flags |= KVM_MEM_LOG_DIRTY_PAGES;
      read_lock(&kvm->mmu_lock);
      r = kvm_tdp_mmu_map(vcpu, &fault);
      read_unlock(&kvm->mmu_lock);
      vm->slot.flags &= ~KVM_MEM_LOG_DIRTY_PAGES;
    }
  }
  l612_leave(vm);
  return r;
}

bool l612_zap_leafs(struct l612_vm* vm, uint64_t start_gfn, uint64_t end_gfn) {
  bool flush;

  L612_ENTER(vm);
  if (!vm->live) return false;
  write_lock(&vm->kvm.mmu_lock);
  flush = kvm_tdp_mmu_zap_leafs(&vm->kvm, start_gfn, end_gfn, false);
  write_unlock(&vm->kvm.mmu_lock);
  l612_leave(vm);
  return flush;
}

void l612_zap_all(struct l612_vm* vm) {
  L612_ENTER(vm);
  if (!vm->live) return;
  write_lock(&vm->kvm.mmu_lock);
  kvm_tdp_mmu_zap_all(&vm->kvm);
  write_unlock(&vm->kvm.mmu_lock);
  l612_leave(vm);
}

/* The slot operations' memslot: the range they are given. false when out of memory. */
static bool l612_enter_slot(struct l612_vm* vm, struct kvm_memory_slot* slot, uint64_t base_gfn,
                            uint64_t npages) {
  L612_ENTER(vm);
  return vm->live && l612_slot_init(slot, base_gfn, npages);
}

/* kvm_mmu_slot_remove_write_access: mmu_lock for read. */
bool l612_wrprot_slot(struct l612_vm* vm, uint64_t base_gfn, uint64_t npages, int min_level) {
  struct kvm_memory_slot slot;
  bool flush;

  if (!l612_enter_slot(vm, &slot, base_gfn, npages)) return false;
  read_lock(&vm->kvm.mmu_lock);
  flush = kvm_tdp_mmu_wrprot_slot(&vm->kvm, &slot, min_level);
  read_unlock(&vm->kvm.mmu_lock);
  l612_slot_free(&slot);
  l612_leave(vm);
  return flush;
}

/* kvm_mmu_slot_leaf_clear_dirty: mmu_lock for read. */
bool l612_clear_dirty_slot(struct l612_vm* vm, uint64_t base_gfn, uint64_t npages) {
  struct kvm_memory_slot slot;
  bool flush;

  if (!l612_enter_slot(vm, &slot, base_gfn, npages)) return false;
  read_lock(&vm->kvm.mmu_lock);
  flush = kvm_tdp_mmu_clear_dirty_slot(&vm->kvm, &slot);
  read_unlock(&vm->kvm.mmu_lock);
  l612_slot_free(&slot);
  l612_leave(vm);
  return flush;
}

/* kvm_arch_mmu_enable_log_dirty_pt_masked: the caller holds mmu_lock for write. */
void l612_clear_dirty_masked(struct l612_vm* vm, uint64_t base_gfn, uint64_t npages, uint64_t gfn,
                             uint64_t mask, bool wrprot) {
  struct kvm_memory_slot slot;

  if (!l612_enter_slot(vm, &slot, base_gfn, npages)) return;
  write_lock(&vm->kvm.mmu_lock);
  kvm_tdp_mmu_clear_dirty_pt_masked(&vm->kvm, &slot, gfn, (unsigned long)mask, wrprot);
  write_unlock(&vm->kvm.mmu_lock);
  l612_slot_free(&slot);
  l612_leave(vm);
}

/* kvm_age_gfn / kvm_test_age_gfn, from the MMU notifier: mmu_lock for write, the VM's slot. */
static bool l612_handle_gfn_range(struct l612_vm* vm, uint64_t start_gfn, uint64_t end_gfn,
                                  bool (*handler)(struct kvm* kvm, struct kvm_gfn_range* range)) {
  struct kvm_gfn_range range = {
      .slot = &vm->slot,
      .start = start_gfn,
      .end = end_gfn,
      .may_block = false,
  };
  bool young;

  L612_ENTER(vm);
  if (!vm->live) return false;
  write_lock(&vm->kvm.mmu_lock);
  young = handler(&vm->kvm, &range);
  write_unlock(&vm->kvm.mmu_lock);
  l612_leave(vm);
  return young;
}

bool l612_age_gfn_range(struct l612_vm* vm, uint64_t start_gfn, uint64_t end_gfn) {
  return l612_handle_gfn_range(vm, start_gfn, end_gfn, kvm_tdp_mmu_age_gfn_range);
}

bool l612_test_age_gfn(struct l612_vm* vm, uint64_t gfn) {
  return l612_handle_gfn_range(vm, gfn, gfn + 1, kvm_tdp_mmu_test_age_gfn);
}

/* kvm_mmu_try_split_huge_pages: mmu_lock for write (shared = false). */
void l612_split_huge_pages(struct l612_vm* vm, uint64_t base_gfn, uint64_t npages,
                           uint64_t start_gfn, uint64_t end_gfn, int target_level) {
  struct kvm_memory_slot slot;

  if (!l612_enter_slot(vm, &slot, base_gfn, npages)) return;
  write_lock(&vm->kvm.mmu_lock);
  kvm_tdp_mmu_try_split_huge_pages(&vm->kvm, &slot, start_gfn, end_gfn, target_level, false);
  write_unlock(&vm->kvm.mmu_lock);
  l612_slot_free(&slot);
  l612_leave(vm);
}

/* kvm_mmu_recover_huge_pages / kvm_mmu_zap_collapsible_sptes: mmu_lock for read. */
void l612_zap_collapsible(struct l612_vm* vm, uint64_t base_gfn, uint64_t npages) {
  struct kvm_memory_slot slot;

  if (!l612_enter_slot(vm, &slot, base_gfn, npages)) return;
  read_lock(&vm->kvm.mmu_lock);
  kvm_tdp_mmu_zap_collapsible_sptes(&vm->kvm, &slot);
  read_unlock(&vm->kvm.mmu_lock);
  l612_slot_free(&slot);
  l612_leave(vm);
}

/* kvm_mmu_slot_gfn_write_protect: the caller holds mmu_lock for write. */
bool l612_write_protect_gfn(struct l612_vm* vm, uint64_t base_gfn, uint64_t npages, uint64_t gfn,
                            int min_level) {
  struct kvm_memory_slot slot;
  bool changed;

  if (!l612_enter_slot(vm, &slot, base_gfn, npages)) return false;
  write_lock(&vm->kvm.mmu_lock);
  changed = kvm_tdp_mmu_write_protect_gfn(&vm->kvm, &slot, gfn, min_level);
  write_unlock(&vm->kvm.mmu_lock);
  l612_slot_free(&slot);
  l612_leave(vm);
  return changed;
}

void l612_ept_zero_check(unsigned maxphyaddr, bool execonly, int huge_page_level,
                         uint64_t rsvd_bits_mask[2][5], uint64_t* bad_mt_xwr) {
  struct rsvd_bits_validate check;
  int i, j;

  memset(&check, 0, sizeof(check));
  l612_reset_ept_zero_check(&check, maxphyaddr, execonly, huge_page_level);
  for (i = 0; i < 2; i++)
    for (j = 0; j < PT64_ROOT_MAX_LEVEL; j++) rsvd_bits_mask[i][j] = check.rsvd_bits_mask[i][j];
  *bad_mt_xwr = check.bad_mt_xwr;
}

bool l612_is_rsvd_spte(const uint64_t rsvd_bits_mask[2][5], uint64_t bad_mt_xwr, uint64_t spte,
                       int level) {
  struct rsvd_bits_validate check;
  int i, j;

  if (level < 1 || level > PT64_ROOT_MAX_LEVEL) return true;
  for (i = 0; i < 2; i++)
    for (j = 0; j < PT64_ROOT_MAX_LEVEL; j++) check.rsvd_bits_mask[i][j] = rsvd_bits_mask[i][j];
  check.bad_mt_xwr = bad_mt_xwr;
  return is_rsvd_spte(&check, spte, level);
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by our C files that see kernel types (the adapter, the services, the lifted mmu.c
 * functions): the VM an l612_ call works on, and the hooks between them. Not for C++.
 */
#ifndef MMUDIFF_LINUX612_INTERNAL_H
#define MMUDIFF_LINUX612_INTERNAL_H

#include "linux612_adapter.h"
#include "mmu_internal.h"
#include "spte.h"

/* One frame's struct page, with what we keep beside page_private. */
struct l612_frame {
  struct page page; /* first: l612_page() hands out &frame->page */
  u64 pfn;
  /* What the effect log says the page holds, while the page is not yet linked into the
   * table: the kernel fills unlinked pages with plain stores (the memory cache's init_value,
   * the entries of a split), which are recorded when the page is linked. NULL once linked. */
  u64* recorded;
  struct l612_frame* next_in_bucket;
};

#define L612_FRAME_BUCKETS 4096
/* The vCPU memory caches hold at most what one fault needs (mmu_topup_memory_caches). */
#define L612_CACHE_OBJECTS PT64_ROOT_MAX_LEVEL

struct l612_vm {
  const struct l612_host_ops* ops;
  void* host;
  struct l612_config config;

  struct kvm kvm;
  struct kvm_vcpu vcpu;
  struct kvm_memory_slot slot; /* the VM's one memslot */
  void* shadow_page_objects[L612_CACHE_OBJECTS];
  void* header_objects[L612_CACHE_OBJECTS];
  bool live;
  hpa_t root_hpa;

  struct l612_frame* frames[L612_FRAME_BUCKETS];
  int rcu_depth;
  struct rcu_head* rcu_queue; /* call_rcu callbacks waiting for a grace period */

  u64 pfn_dirty;
  u64 pfn_accessed;
  u64 page_dirty;
};

/* The VM the current l612_ call on this thread works on: the kernel's hooks report to it. */
extern _Thread_local struct l612_vm* l612_active;

/* linux612_services.c */
void l612_activate(struct l612_vm* vm);
int l612_topup_caches(struct l612_vm* vm);
void l612_release_caches(struct l612_vm* vm);
void l612_run_rcu_callbacks(struct l612_vm* vm);
struct l612_frame* l612_frame_of(struct l612_vm* vm, u64 pfn);
/* Forget what was recorded for an unlinked page: it is in the table now (the root). */
void l612_mark_linked(struct l612_vm* vm, void* page);
bool l612_slot_init(struct kvm_memory_slot* slot, gfn_t base_gfn, unsigned long npages);
void l612_slot_free(struct kvm_memory_slot* slot);

/* linux612_lifted.c: mmu.c's own code and the statics it reads. */
void l612_set_max_huge_page_level(int level);
void l612_reset_ept_zero_check(struct rsvd_bits_validate* check, unsigned maxphyaddr, bool execonly,
                               int huge_page_level);
int host_pfn_mapping_level_of(struct kvm* kvm, gfn_t gfn, const struct kvm_memory_slot* slot);

#endif /* MMUDIFF_LINUX612_INTERNAL_H */

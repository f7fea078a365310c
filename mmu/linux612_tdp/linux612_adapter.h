/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The C ABI between Linux 6.12's x86 TDP MMU (tdp_mmu.c, tdp_iter.c, spte.c and eight mmu.c
 * functions, compiled as C) and our C++. It names no kernel type: the kernel headers do not
 * compile as C++, and the C++ side never includes them. Arguments and return values are the
 * kernel's (gfns, levels, RET_PF_* or negative errno, bool "flush needed").
 *
 * An l612_vm is one struct kvm with one vCPU, one memslot and one TDP root. What the kernel code
 * asks of the machine (table pages, address conversion, SPTE stores, TLB flushes, warnings) goes
 * to the l612_host_ops given at creation, with the host pointer as first argument.
 *
 * The kernel's MMU configuration is global (shadow_*_mask, max_huge_page_level,
 * kvm_host.maxphyaddr); here it is per thread, and every l612_ call re-establishes it for its VM,
 * as kvm's module init and vmx_hardware_setup() would. VMs with different configurations can be
 * used in turn on one thread and at once on several; one VM belongs to one thread at a time.
 */
#ifndef MMUDIFF_LINUX612_ADAPTER_H
#define MMUDIFF_LINUX612_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct l612_host_ops {
  /* A zeroed 4 KiB page with a reference count of 1, or NULL when memory is exhausted. */
  void* (*alloc_page)(void* host);
  void (*free_page)(void* host, void* va);
  uint64_t (*virt_to_phys)(void* host, const void* va);
  void* (*phys_to_virt)(void* host, uint64_t pa);
  /* An SPTE write: entry is its address in table memory, old the exact value it replaced. */
  void (*store)(void* host, void* entry, uint64_t old_value, uint64_t new_value);
  /* kvm_flush_remote_tlbs and kvm_flush_remote_tlbs_range(gfn, nr_pages). */
  void (*tlbi_vmid)(void* host);
  void (*tlbi_range)(void* host, uint64_t gfn, uint64_t nr_pages);
  /* A WARN_ON / WARN_ONCE / KVM_BUG_ON / BUG that fired in file:line. */
  void (*warn)(void* host, const char* file, int line, const char* what);
};

/* mmudiff::x86::EptConfig, in gfns. */
struct l612_config {
  unsigned maxphyaddr;
  unsigned levels;
  bool ad;
  bool execonly;
  bool nx_huge_pages;
  unsigned max_level;
  unsigned host_level;
  uint64_t slot_base_gfn;
  uint64_t slot_npages;
  uint64_t host_mmio_pfn;
};

/* mmudiff::x86::TdpFault. */
struct l612_fault {
  uint64_t gfn;
  uint64_t pfn;
  unsigned max_level;
  bool write;
  bool exec;
  bool prefetch;
  bool map_writable;
  bool dirty_logging;
};

/* What the TDP MMU told the rest of KVM, for tests and oracles. */
struct l612_stats {
  uint64_t pfn_dirty;    /* kvm_set_pfn_dirty */
  uint64_t pfn_accessed; /* kvm_set_pfn_accessed */
  uint64_t page_dirty;   /* mark_page_dirty_in_slot */
  int64_t leaf_pages[3]; /* kvm->stat.pages[] at 4K, 2M, 1G (kvm_update_page_stats) */
  int64_t table_pages;   /* kvm->arch.tdp_mmu_pages: linked non-root tables */
  uint64_t nx_lpage_splits;
  uint64_t mmio_sptes; /* vcpu->stat.pf_mmio_spte_created */
};

struct l612_vm;

/* NULL when out of memory. ops must outlive the VM. */
struct l612_vm* l612_vm_create(const struct l612_host_ops* ops, void* host,
                               const struct l612_config* config);
/* Frees the VM's own memory; call l612_destroy first if it is live. */
void l612_vm_free(struct l612_vm* vm);

/* kvm_mmu_init_tdp_mmu + kvm_tdp_mmu_alloc_root: 0 or -ENOMEM. */
int l612_init(struct l612_vm* vm);
/* Zap all, drop the vCPU's root, kvm_mmu_uninit_tdp_mmu (which runs the RCU callbacks). */
void l612_destroy(struct l612_vm* vm);
bool l612_live(const struct l612_vm* vm);
uint64_t l612_root_pa(const struct l612_vm* vm);
void l612_get_stats(const struct l612_vm* vm, struct l612_stats* stats);

/* Each runs what KVM runs around the TDP MMU call: the mmu_lock in the mode its caller takes,
 * the vCPU's memory caches topped up for a fault, RCU callbacks run at the end. */
int l612_fault(struct l612_vm* vm, const struct l612_fault* fault);
bool l612_zap_leafs(struct l612_vm* vm, uint64_t start_gfn, uint64_t end_gfn);
void l612_zap_all(struct l612_vm* vm);
bool l612_wrprot_slot(struct l612_vm* vm, uint64_t base_gfn, uint64_t npages, int min_level);
bool l612_clear_dirty_slot(struct l612_vm* vm, uint64_t base_gfn, uint64_t npages);
void l612_clear_dirty_masked(struct l612_vm* vm, uint64_t base_gfn, uint64_t npages, uint64_t gfn,
                             uint64_t mask, bool wrprot);
bool l612_age_gfn_range(struct l612_vm* vm, uint64_t start_gfn, uint64_t end_gfn);
bool l612_test_age_gfn(struct l612_vm* vm, uint64_t gfn);
void l612_split_huge_pages(struct l612_vm* vm, uint64_t base_gfn, uint64_t npages,
                           uint64_t start_gfn, uint64_t end_gfn, int target_level);
void l612_zap_collapsible(struct l612_vm* vm, uint64_t base_gfn, uint64_t npages);
bool l612_write_protect_gfn(struct l612_vm* vm, uint64_t base_gfn, uint64_t npages, uint64_t gfn,
                            int min_level);

/* The kernel's reset_tdp_shadow_zero_bits_mask on EPT: __reset_rsvds_bits_mask_ept(
 * rsvd_bits(maxphyaddr, 63), execonly, huge_page_level). */
void l612_ept_zero_check(unsigned maxphyaddr, bool execonly, int huge_page_level,
                         uint64_t rsvd_bits_mask[2][5], uint64_t* bad_mt_xwr);
/* spte.h's is_rsvd_spte() against such a mask; level is 1..5. */
bool l612_is_rsvd_spte(const uint64_t rsvd_bits_mask[2][5], uint64_t bad_mt_xwr, uint64_t spte,
                       int level);

#ifdef __cplusplus
}
#endif

#endif /* MMUDIFF_LINUX612_ADAPTER_H */

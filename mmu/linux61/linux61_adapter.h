/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The C ABI between Linux 6.1's pgtable.c (compiled as C, see linux61_adapter.c) and our C++.
 * It names no kernel type: kvm_pgtable.h does not compile as C++, and the C++ side never includes
 * it. Arguments and return values are the kernel's own (negative errno, descriptors as uint64_t).
 *
 * An l61_vm is one stage-2 table with its struct kvm_pgtable, kvm_s2_mmu and kvm_arch. Everything
 * the kernel code asks of the machine (pages, address conversion, cache maintenance, TLBI,
 * barriers, descriptor stores, WARN_ON) goes to the l61_host_ops given at creation, with the host
 * pointer given at creation as the first argument.
 */
#ifndef MMUDIFF_LINUX61_ADAPTER_H
#define MMUDIFF_LINUX61_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum l61_barrier { L61_BARRIER_ISH = 1, L61_BARRIER_ISHST, L61_BARRIER_NSH, L61_BARRIER_SY };

struct l61_host_ops {
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
  /* __kvm_tlb_flush_vmid_ipa / __kvm_tlb_flush_vmid. */
  void (*tlbi_ipa)(void* host, uint64_t ipa, int level);
  void (*tlbi_vmid)(void* host);
  /* __tlbi_level at EL2 stage 1: only kvm_pgtable_hyp_unmap, which no l61_ call reaches. */
  void (*tlbi_hyp_va)(void* host, uint64_t va, unsigned level);
  /* dsb(domain) and isb(). */
  void (*barrier_dsb)(void* host, enum l61_barrier domain);
  void (*barrier_isb)(void* host);
  /* A WARN_ON / WARN_ON_ONCE that fired: file is the kernel file, condition its text. */
  void (*warn)(void* host, const char* file, int line, const char* condition);
};

enum l61_force_pte { L61_FORCE_PTE_NEVER, L61_FORCE_PTE_ALWAYS, L61_FORCE_PTE_DEVICE };

struct l61_config {
  uint32_t ia_bits; /* IPA size; VTCR_EL2 comes from the kernel's kvm_get_vtcr() */
  bool fwb;         /* the CPU has ARM64_HAS_STAGE2_FWB */
  bool nofwb;       /* KVM_PGTABLE_S2_NOFWB */
  bool idmap;       /* KVM_PGTABLE_S2_IDMAP */
  enum l61_force_pte force_pte;
};

struct l61_vm;

/* NULL when out of memory. ops must outlive the vm. */
struct l61_vm* l61_vm_create(const struct l61_host_ops* ops, void* host);
/* Does not destroy the table: call l61_stage2_destroy first if it is live. */
void l61_vm_free(struct l61_vm* vm);

/* VTCR_EL2 as kvm_get_vtcr() builds it for a 48-bit PARange, 16-bit VMID CPU. */
uint64_t l61_vtcr_for(uint32_t ia_bits);

/* __kvm_pgtable_stage2_init with the VTCR from l61_vtcr_for(config->ia_bits). */
int l61_stage2_init(struct l61_vm* vm, const struct l61_config* config);
void l61_stage2_destroy(struct l61_vm* vm);
bool l61_live(const struct l61_vm* vm);
uint64_t l61_vtcr(const struct l61_vm* vm);
uint32_t l61_ia_bits(const struct l61_vm* vm);
uint32_t l61_start_level(const struct l61_vm* vm);
void* l61_pgd(const struct l61_vm* vm);

int l61_stage2_map(struct l61_vm* vm, uint64_t addr, uint64_t size, uint64_t phys, uint64_t prot,
                   void* memcache);
int l61_stage2_unmap(struct l61_vm* vm, uint64_t addr, uint64_t size);
int l61_stage2_wrprotect(struct l61_vm* vm, uint64_t addr, uint64_t size);
uint64_t l61_stage2_mkyoung(struct l61_vm* vm, uint64_t addr);
uint64_t l61_stage2_mkold(struct l61_vm* vm, uint64_t addr);
bool l61_stage2_is_young(struct l61_vm* vm, uint64_t addr);
int l61_stage2_relax_perms(struct l61_vm* vm, uint64_t addr, uint64_t prot);
int l61_stage2_flush(struct l61_vm* vm, uint64_t addr, uint64_t size);
int l61_stage2_set_owner(struct l61_vm* vm, uint64_t addr, uint64_t size, void* memcache,
                         uint8_t owner_id);
int l61_get_leaf(struct l61_vm* vm, uint64_t addr, uint64_t* pte, uint32_t* level);

#ifdef __cplusplus
}
#endif

#endif /* MMUDIFF_LINUX61_ADAPTER_H */

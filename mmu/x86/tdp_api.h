// SPDX-License-Identifier: GPL-2.0-only
// The x86 TDP MMU's operations (Linux 6.12, arch/x86/kvm/mmu/tdp_mmu.h) as every x86 backend
// takes them: the real tdp_mmu.c (linux612-tdp), the generic walker with TDP-style visitors, and
// the Shadow-MMU-shaped legacy backend. Operations go in with the kernel's arguments and come out
// with its return values; table pages live in the backend's Machine and hardware effects go to
// its EffectLog, as for arm64 (mmu/backend.h):
//   - every SPTE write is EffectLog::store(entry pa, old, new);
//   - kvm_flush_remote_tlbs() (INVEPT, single context) is EffectLog::tlbi_vmid();
//   - kvm_flush_remote_tlbs_range/_gfn(gfn, level) is EffectLog::tlbi_ipa(gpa, level) per range.
//
// Addresses are bytes (a gfn is addr >> 12, a pfn phys >> 12), levels are x86's (1 = 4 KiB,
// 2 = 2 MiB, 3 = 1 GiB). The VM has one memslot, fixed at init: a fault outside it has no slot
// and installs an MMIO SPTE. Operations that take a slot in the kernel (write-protect, clear
// dirty, split, recover huge pages, write-protect one gfn) take the range they are given as that
// slot: [addr, addr + size) is the slot's base gfn and page count.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mmu/backend.h"
#include "mmu/x86/ept_config.h"

namespace mmudiff::x86 {

// A kvm_page_fault, all of it that the TDP MMU reads.
struct TdpFault {
  uint64_t gfn = 0;
  uint64_t pfn = 0;            // ignored (KVM_PFN_NOSLOT) outside the memslot
  uint8_t max_level = 3;       // fault->max_level before the huge-page adjust
  bool write = false;          // an EPT violation on a write
  bool exec = false;           // ... on an instruction fetch
  bool prefetch = false;       // a prefetch: no A/D set, no dirty tracking
  bool map_writable = true;    // the host mapping is writable (fault->map_writable)
  bool dirty_logging = false;  // the slot logs dirty pages: no huge pages (hugepage_adjust)
};

class TdpApi : public Backend {
 public:
  // kvm_mmu_init_tdp_mmu + a vCPU's root (kvm_tdp_mmu_alloc_root): 0, or -ENOMEM.
  virtual int init(const EptConfig& config) = 0;
  // destroy(): drops the root and frees every table page (zap all, put the root, run RCU
  // callbacks).

  // kvm_tdp_mmu_map: a RET_PF_* value (x86ept::FaultResult).
  virtual int fault(const TdpFault& fault) = 0;
  // kvm_tdp_mmu_zap_leafs(start, end, flush=false): true when the caller must flush.
  virtual bool zap_leafs(uint64_t start_gfn, uint64_t end_gfn) = 0;
  // kvm_tdp_mmu_zap_all: no flush of its own (its callers tear the VM down or flush).
  virtual void zap_all() = 0;
  // kvm_tdp_mmu_wrprot_slot(slot, min_level): true when the caller must flush.
  virtual bool wrprot_slot(uint64_t base_gfn, uint64_t npages, unsigned min_level) = 0;
  // kvm_tdp_mmu_clear_dirty_slot: true when the caller must flush.
  virtual bool clear_dirty_slot(uint64_t base_gfn, uint64_t npages) = 0;
  // kvm_tdp_mmu_clear_dirty_pt_masked(slot, gfn, mask, wrprot): the caller flushes later.
  virtual void clear_dirty_masked(uint64_t base_gfn, uint64_t npages, uint64_t gfn, uint64_t mask,
                                  bool wrprot) = 0;
  // kvm_tdp_mmu_age_gfn_range: true when any SPTE in the range was young.
  virtual bool age_gfn_range(uint64_t start_gfn, uint64_t end_gfn) = 0;
  // kvm_tdp_mmu_test_age_gfn over [gfn, gfn + 1).
  virtual bool test_age_gfn(uint64_t gfn) = 0;
  // kvm_tdp_mmu_try_split_huge_pages(slot, start, end, target_level, shared=false).
  virtual void split_huge_pages(uint64_t base_gfn, uint64_t npages, uint64_t start_gfn,
                                uint64_t end_gfn, unsigned target_level) = 0;
  // kvm_tdp_mmu_zap_collapsible_sptes(slot): recovers huge pages; flushes itself.
  virtual void zap_collapsible(uint64_t base_gfn, uint64_t npages) = 0;
  // kvm_tdp_mmu_write_protect_gfn(slot, gfn, min_level): true when an SPTE changed.
  virtual bool write_protect_gfn(uint64_t base_gfn, uint64_t npages, uint64_t gfn,
                                 unsigned min_level) = 0;

  // root(): where the oracles start walking; format points at the x86-ept format of this
  // config. name(), destroy() and take_warnings() as for every Backend.
};

}  // namespace mmudiff::x86

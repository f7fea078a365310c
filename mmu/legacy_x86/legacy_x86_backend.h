// SPDX-License-Identifier: GPL-2.0-only
// Backend "legacy-x86": EPT tables built the way x86 KVM's Shadow MMU builds them -- a
// kvm_mmu_page per table found through a (gfn, role) hash, parent pointers, rmaps from gfn to
// leaf SPTE for write-protect, dirty clearing, aging and zapping, prepare/commit zapping --
// with the observable behaviour of Linux 6.12's TDP MMU: the same SPTE values, return values,
// stores (with their old values) in the same order, remote TLB flushes and table pages.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mmu/backend.h"
#include "mmu/legacy_x86/shadow_mmu.h"
#include "mmu/x86/tdp_api.h"

namespace mmudiff {

std::unique_ptr<x86::TdpApi> make_legacy_x86_backend(Machine& machine, Plant plant);

namespace legacy_x86 {

class LegacyX86Backend final : public x86::TdpApi {
 public:
  LegacyX86Backend(Machine& machine, Plant plant) : mmu_(machine, plant) {}

  std::string_view name() const override { return "legacy-x86"; }
  int init(const x86::EptConfig& config) override;
  void destroy() override;

  int fault(const x86::TdpFault& fault) override;
  bool zap_leafs(uint64_t start_gfn, uint64_t end_gfn) override;
  void zap_all() override;
  bool wrprot_slot(uint64_t base_gfn, uint64_t npages, unsigned min_level) override;
  bool clear_dirty_slot(uint64_t base_gfn, uint64_t npages) override;
  void clear_dirty_masked(uint64_t base_gfn, uint64_t npages, uint64_t gfn, uint64_t mask,
                          bool wrprot) override;
  bool age_gfn_range(uint64_t start_gfn, uint64_t end_gfn) override;
  bool test_age_gfn(uint64_t gfn) override;
  void split_huge_pages(uint64_t base_gfn, uint64_t npages, uint64_t start_gfn, uint64_t end_gfn,
                        unsigned target_level) override;
  void zap_collapsible(uint64_t base_gfn, uint64_t npages) override;
  bool write_protect_gfn(uint64_t base_gfn, uint64_t npages, uint64_t gfn,
                         unsigned min_level) override;

  TableRoot root() const override;
  std::vector<std::string> take_warnings() override { return mmu_.take_warnings(); }

  // For tests: the shadow structures and their consistency with the tables.
  const ShadowMmu& mmu() const { return mmu_; }
  std::vector<std::string> self_check() const { return mmu_.self_check(); }

 private:
  // The fault as kvm_tdp_mmu_map sees it after kvm_mmu_hugepage_adjust.
  struct FaultState {
    uint64_t gfn = 0;
    uint64_t pfn = 0;
    bool in_slot = false;
    unsigned goal_level = 1;
    unsigned req_level = 1;
    bool huge_page_disallowed = false;
  };

  // fault.cpp
  int map(const x86::TdpFault& fault);
  FaultState adjust_huge_page(const x86::TdpFault& fault);
  void adjust_for_nx_table(FaultState& state, KvmMmuPage& sp, unsigned index);
  int map_target(const x86::TdpFault& fault, const FaultState& state, KvmMmuPage& sp,
                 unsigned index);
  // split.cpp: replaces the huge SPTE at sp.spt[index] with a table of its pieces.
  void split_into(KvmMmuPage& sp, unsigned index, KvmMmuPage& child, bool shared);
  // false when memory ran out (-ENOMEM in the kernel).
  bool split_range(KvmMmuPage& sp, unsigned index, uint64_t start, uint64_t end,
                   unsigned target_level);
  // zap.cpp: tdp_mmu_zap_root's passes, 4K first, then 2M, 1G and the root's level.
  void zap_root(bool shared);

  ShadowMmu mmu_;
};

}  // namespace legacy_x86
}  // namespace mmudiff

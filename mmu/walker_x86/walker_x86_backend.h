// SPDX-License-Identifier: GPL-2.0-only
// The x86 walker backend: Linux 6.12's TDP MMU rebuilt on the generic table walk
// (mmu/walker/table_walk.h, with the EPT geometry of mmu/walker/ept_geometry.h) and a visitor
// per operation (tdp_ops.h), written from the kernel's observable behaviour. It shares no
// page-table code with linux612-tdp or legacy-x86: only x86_ept.h's constants.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mmu/backend.h"
#include "mmu/walker_x86/tdp_table.h"
#include "mmu/x86/tdp_api.h"

namespace mmudiff {

class WalkerX86Backend final : public x86::TdpApi {
 public:
  // Table pages come from machine.memory, which must sit below 2^MAXPHYADDR
  // (MemoryLimits{.phys_base = kLowTablePhysBase}).
  explicit WalkerX86Backend(Machine& machine, Plant plant = Plant::kNone);
  ~WalkerX86Backend() override;
  WalkerX86Backend(const WalkerX86Backend&) = delete;
  WalkerX86Backend& operator=(const WalkerX86Backend&) = delete;

  std::string_view name() const override { return "walker"; }

  // -EINVAL for a configuration KVM cannot have, -ENOMEM when the root page cannot be had.
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
  std::vector<std::string> take_warnings() override;

  const x86::EptConfig& config() const { return table_.config(); }

 private:
  walker_x86::TdpTable table_;
};

std::unique_ptr<x86::TdpApi> make_walker_x86_backend(Machine& machine, Plant plant);

}  // namespace mmudiff

// SPDX-License-Identifier: GPL-2.0-only
// The linux612-tdp backend: Linux 6.12's x86 TDP MMU (arch/x86/kvm/mmu/tdp_mmu.c, tdp_iter.c,
// spte.c and eight functions of mmu.c), extracted at build time from Debian's linux-source-6.12
// package and compiled unmodified as C behind a shim of our own (shim/prelude.h,
// linux612_services.c, linux612_adapter.c). This header names no kernel type.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mmu/backend.h"
#include "mmu/x86/tdp_api.h"

struct l612_vm;

namespace mmudiff {

// What the TDP MMU told the rest of KVM (kvm_set_pfn_dirty, the page stats, ...): not part of
// the table, but part of what the kernel did.
struct Linux612TdpStats {
  uint64_t pfn_dirty = 0;      // kvm_set_pfn_dirty calls
  uint64_t pfn_accessed = 0;   // kvm_set_pfn_accessed calls
  uint64_t page_dirty = 0;     // mark_page_dirty_in_slot calls (dirty logging)
  int64_t leaf_pages[3] = {};  // present leaves at 4K, 2M, 1G (kvm->stat.pages)
  int64_t table_pages = 0;     // linked non-root tables (kvm->arch.tdp_mmu_pages)
  uint64_t nx_lpage_splits = 0;
  uint64_t mmio_sptes = 0;  // MMIO SPTEs created
};

class Linux612TdpBackend final : public x86::TdpApi {
 public:
  // Table pages come from machine.memory, which must sit below 2^MAXPHYADDR
  // (MemoryLimits{.phys_base = kLowTablePhysBase}). The reference has no planted bugs.
  explicit Linux612TdpBackend(Machine& machine, Plant plant = Plant::kNone);
  ~Linux612TdpBackend() override;
  Linux612TdpBackend(const Linux612TdpBackend&) = delete;
  Linux612TdpBackend& operator=(const Linux612TdpBackend&) = delete;

  std::string_view name() const override { return "linux612-tdp"; }

  // -EINVAL for a configuration KVM cannot have (maxphyaddr outside 36..52, levels not 4 or 5,
  // max_level or host_level outside 1..3, a memslot not page-aligned).
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

  Linux612TdpStats stats() const;
  const x86::EptConfig& config() const { return config_; }

 private:
  struct Host;

  Machine& machine_;
  l612_vm* vm_ = nullptr;
  x86::EptConfig config_;
  std::vector<std::string> warnings_;
};

std::unique_ptr<x86::TdpApi> make_linux612_tdp_backend(Machine& machine, Plant plant);

// The descriptor format root() hands to the oracles. The one place to change when the x86-ept
// format exists: for now it is default_format().
const DescriptorFormat& linux612_tdp_table_format(const x86::EptConfig& config);

}  // namespace mmudiff

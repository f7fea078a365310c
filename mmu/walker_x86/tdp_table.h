// SPDX-License-Identifier: GPL-2.0-only
// One x86 TDP table as the walker keeps it, and the steps every TDP operation is made of: an
// SPTE store with the bookkeeping that follows it (removing the subtree a store unlinked), the
// vCPU's page cache a fault draws on, and the deferred frees (RCU) that end each operation. The
// operations themselves are tdp_ops.h, one visitor each.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "mmu/backend.h"
#include "mmu/plants.h"
#include "mmu/walker/ept_geometry.h"
#include "mmu/walker/mm_ops.h"
#include "mmu/walker/table_walk.h"
#include "mmu/walker_x86/ept_spte.h"
#include "mmu/x86/ept_config.h"

namespace mmudiff::walker_x86 {

using walker::Pte;

// A memslot: [base_gfn, base_gfn + npages).
struct Slot {
  uint64_t base_gfn = 0;
  uint64_t npages = 0;
  bool contains(uint64_t gfn) const { return gfn >= base_gfn && gfn - base_gfn < npages; }
};

class TdpTable {
 public:
  TdpTable(Machine& machine, Plant plant)
      : machine_(machine), mm_(machine.memory, machine.effects), plant_(plant) {}

  // ---- Configuration and the live table ---------------------------------------------------
  const x86::EptConfig& config() const { return config_; }
  EptMasks masks() const { return {config_.ad, config_.execonly, config_.nx_huge_pages}; }
  Slot slot() const {
    return {config_.slot_base >> ept::kPageShift, config_.slot_size >> ept::kPageShift};
  }
  bool live() const { return root_ != nullptr; }
  Pte* root() const { return root_; }
  uint64_t root_pa() const { return mm_.virt_to_phys(root_); }
  Plant plant() const { return plant_; }
  // kvm_mmu_max_gfn(): the last gfn below the host's MAXPHYADDR.
  uint64_t max_gfn() const { return (uint64_t{1} << (config_.maxphyaddr - ept::kPageShift)) - 1; }

  // ---- Walking ---------------------------------------------------------------------------------
  // for_each_tdp_pte_min_level over gfns [start, end): VISITOR sees each entry once (Leaf for
  // non-tables, TablePre for tables) and the walk steps into what the entry holds afterwards.
  template <walker::EntryVisitor V>
  int walk(uint64_t start_gfn, uint64_t end_gfn, unsigned min_level, V&& visitor) {
    return walker::walk_range(walker::EptGeometry(root_, config_.levels), mm_, gfn_addr(start_gfn),
                              gfn_addr(end_gfn), walker::Visit::Leaf | walker::Visit::TablePre,
                              walker::tdp_iter_flags(min_level), visitor);
  }
  // The first gfn of the entry a visit is at.
  static uint64_t entry_gfn(const walker::VisitedEntry& e) {
    return walker::align_down(e.addr, ept::level_size(e.level)) >> ept::kPageShift;
  }

  // ---- Stores ---------------------------------------------------------------------------------
  // An SPTE write: memory, then the effect log with the exact old value.
  void store(Pte* sptep, Pte new_spte);
  // tdp_mmu_set_spte / tdp_mmu_set_spte_atomic: the store, then handle_changed_spte.
  void set_spte(Pte* sptep, Pte new_spte, uint64_t gfn, unsigned level, bool shared);
  // tdp_mmu_zap_spte_atomic: frozen, a flush of the entry, non-present, then the bookkeeping.
  void zap_spte_atomic(Pte* sptep, uint64_t gfn, unsigned level);
  // tdp_mmu_link_sp: links CHILD (its pending fill recorded first) below the entry.
  void link_table(Pte* sptep, Pte* child, uint64_t gfn, unsigned level, bool shared);
  // handle_changed_spte: the subtree a store unlinked is emptied and its pages queued for
  // freeing.
  void handle_changed(uint64_t gfn, Pte old_spte, Pte new_spte, unsigned level, bool shared);

  // ---- Pages ---------------------------------------------------------------------------------
  // kvm_mmu_topup_memory_cache for the shadow pages: 0 or -ENOMEM.
  int topup_cache();
  // kvm_mmu_memory_cache_alloc: the page topped up last.
  Pte* cache_alloc();
  // get_zeroed_page (the split path allocates outside the cache); nullptr when memory is out.
  Pte* alloc_zeroed();
  // Per table page: whether a fault that wanted a huge page but was refused one by the NX
  // mitigation created it (kvm_mmu_page::nx_huge_page_disallowed).
  bool nx_disallowed(uint64_t table_pa) const;
  void set_nx_disallowed(Pte* table, bool disallowed);
  // End of an operation: unused cache pages back (last first), then the RCU callbacks in order.
  void leave();

  // ---- Lifetime ---------------------------------------------------------------------------------
  int init(const x86::EptConfig& config);
  void destroy();

  // ---- Policy (mmu.c) ---------------------------------------------------------------------------
  // __kvm_mmu_max_mapping_level for SLOT: the largest level up to MAX_LEVEL that lpage_info
  // allows at gfn, capped by the host mapping.
  unsigned max_mapping_level(const Slot& slot, uint64_t gfn, unsigned max_level) const;

  void warn(std::string what) { warnings_.push_back(std::move(what)); }
  std::vector<std::string> take_warnings() { return std::exchange(warnings_, {}); }

  Machine& machine() { return machine_; }

 private:
  struct PageInfo {
    bool unlinked = false;  // filled by plain stores the log has not seen yet
    bool nx_disallowed = false;
  };

  static uint64_t gfn_addr(uint64_t gfn) {
    // gfns at or beyond 2^52 have no address; such an end is the top of the address space.
    return gfn >> (64 - ept::kPageShift) ? ~(ept::kPageSize - 1) : gfn << ept::kPageShift;
  }
  Pte* new_page(bool fill_nonpresent);
  void free_page(Pte* page);
  void record_unlinked(Pte* page);
  void remove_table(Pte* table, uint64_t base_gfn, unsigned level, bool shared);

  Machine& machine_;
  walker::MmOps mm_;
  Plant plant_;
  x86::EptConfig config_;
  Pte* root_ = nullptr;
  std::unordered_map<uint64_t, PageInfo> pages_;
  std::vector<Pte*> cache_;
  std::vector<Pte*> rcu_queue_;
  std::vector<std::string> warnings_;
};

}  // namespace mmudiff::walker_x86

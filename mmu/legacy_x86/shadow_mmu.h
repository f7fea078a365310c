// SPDX-License-Identifier: GPL-2.0-only
// The legacy x86 backend's shadow structures and the primitives every operation goes through:
// the root, the (gfn, role) hash, the rmaps, the zap list, table allocation, and the only two
// ways an SPTE changes -- write_spte (the store and its effect) and set_spte (the store plus the
// kernel's handle_changed_spte: rmaps, and removing a table that is no longer linked).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "mmu/backend.h"
#include "mmu/legacy_x86/page_hash.h"
#include "mmu/legacy_x86/rmap.h"
#include "mmu/legacy_x86/spte_ops.h"
#include "mmu/legacy_x86/zap_list.h"
#include "mmu/x86/tdp_api.h"

namespace mmudiff::legacy_x86 {

class ShadowMmu {
 public:
  ShadowMmu(Machine& machine, Plant plant);
  ~ShadowMmu();
  ShadowMmu(const ShadowMmu&) = delete;
  ShadowMmu& operator=(const ShadowMmu&) = delete;

  // 0, -EINVAL for a configuration outside EptConfig's ranges, -ENOMEM without a root page.
  int create_root(const x86::EptConfig& config);
  // Frees whatever is left without a store: the end of destroy(), after its zap.
  void release_all();

  bool live() const { return root_ != nullptr; }
  KvmMmuPage* root() const { return root_; }
  unsigned root_level() const { return config_.levels; }
  const x86::EptConfig& config() const { return config_; }
  const SpteConfig& spte_config() const { return spte_config_; }
  Plant plant() const { return plant_; }
  Machine& machine() { return machine_; }

  // kvm_mmu_max_gfn() + 1: TDP MMU walks of "everything" stop at MAXPHYADDR.
  uint64_t max_gfn_exclusive() const { return uint64_t{1} << (config_.maxphyaddr - 12); }
  // The gfns the root translates: 2^36 with 4 levels, 2^45 with 5.
  uint64_t table_gfn_limit() const { return table_gfn_span(config_.levels); }
  ShadowRole role_at(unsigned level) const;
  // The memslot, in gfns.
  uint64_t slot_base_gfn() const { return config_.slot_base >> x86ept::kPageShift; }
  uint64_t slot_end_gfn() const {
    return (config_.slot_base + config_.slot_size) >> x86ept::kPageShift;
  }

  // The vCPU's shadow-page cache (mmu_topup_memory_caches before a fault or a root): filled to
  // PT64_ROOT_MAX_LEVEL pages, each filled with the non-present value (init_value); false when
  // memory runs out first. What the operation leaves in it goes back after the operation.
  bool topup_cache();
  void release_cache();
  // A table page, not yet linked: from the cache (the last page put in first), or, for a split,
  // a zeroed page of its own (get_zeroed_page); nullptr when memory is exhausted.
  KvmMmuPage* alloc_table(unsigned level, uint64_t gfn, bool from_cache);
  // A table that was never linked goes straight back.
  void free_unlinked(KvmMmuPage* sp);
  // A new table's first publication: the plain writes into the page while nobody could see it
  // (the non-present fill, a split's pieces), recorded as stores from the zeroed page's 0, just
  // before the table becomes reachable -- as the linux612-tdp backend records them.
  void publish_new_table(const KvmMmuPage& sp);
  // Points sp.spt[index] at child (make_nonleaf_spte) and makes child findable.
  void link_table(KvmMmuPage& sp, unsigned index, KvmMmuPage& child, bool shared);

  // The store, recorded with its old value; nothing else. Returns the old value.
  uint64_t write_spte(KvmMmuPage& sp, unsigned index, uint64_t new_spte);
  // The store and its bookkeeping (tdp_mmu_set_spte / tdp_mmu_set_spte_atomic). shared: the
  // operation runs under the read lock, so a removed table is frozen entry by entry.
  void set_spte(KvmMmuPage& sp, unsigned index, uint64_t new_spte, bool shared);

  // tdp_mmu_zap_spte_atomic: frozen, flushed, then non-present, and only then handled (the
  // removed table frozen entry by entry).
  void zap_spte_atomic(KvmMmuPage& sp, unsigned index);

  // The table an SPTE points at, found through the hash: nullptr if none (a bug, warned).
  KvmMmuPage* child_table(const KvmMmuPage& sp, unsigned index);
  // Linked tables of one level (the root excluded), in gfn order.
  std::vector<KvmMmuPage*> tables_at(unsigned level) const;

  // kvm_flush_remote_tlbs_gfn(gfn, level).
  void flush_gfn(uint64_t gfn, unsigned level);
  // The RCU callbacks of the operation: frees the zapped tables.
  void commit_zap();

  Rmap& rmap() { return rmap_; }
  const Rmap& rmap() const { return rmap_; }
  const PageHash& hash() const { return hash_; }
  uint64_t root_pa() const { return root_ ? root_->spt_pa : 0; }

  void warn(std::string text) { warnings_.push_back(std::move(text)); }
  // The warnings since the last call, and the self-check's problems that the last call did not
  // report: a bad SPTE left in the table is reported once, not after every operation.
  std::vector<std::string> take_warnings();
  // Shadow pages <-> tables <-> hash <-> rmaps, and the reserved bits of every present SPTE.
  std::vector<std::string> self_check() const;
  // The same, for the pages written since the last call and the counts that tie them together:
  // what take_warnings() runs, at the cost of what the operations touched. Problems by table
  // page; those of no one page under 0.
  std::map<uint64_t, std::vector<std::string>> check_touched();

 private:
  void handle_changed(KvmMmuPage& sp, unsigned index, uint64_t old_spte, uint64_t new_spte,
                      bool shared);
  // handle_removed_pt: freezes the table's SPTEs (every one when shared, the present ones
  // otherwise), handles each change, and puts the table on the zap list.
  void remove_table(KvmMmuPage& table, bool shared);
  void check_page(const KvmMmuPage& sp, std::vector<std::string>& problems, size_t* tables,
                  size_t* leaves) const;
  void check_rmaps_into(const KvmMmuPage& sp, std::vector<std::string>& problems) const;
  void touch(KvmMmuPage& sp);
  // Present table SPTEs and present leaves of the linked tables, kept by write_spte.
  void count(const KvmMmuPage& sp, uint64_t spte, int delta);

  Machine& machine_;
  Plant plant_;
  x86::EptConfig config_;
  SpteConfig spte_config_;
  KvmMmuPage* root_ = nullptr;
  PageHash hash_;
  Rmap rmap_;
  ZapList zap_;
  std::vector<std::string> warnings_;
  std::vector<void*> cache_;
  // What take_warnings() reported and is still there, by table page (0: no one page).
  std::map<uint64_t, std::set<std::string>> known_problems_;
  std::vector<KvmMmuPage*> touched_;
  int64_t table_sptes_ = 0;
  int64_t leaf_sptes_ = 0;
};

}  // namespace mmudiff::legacy_x86

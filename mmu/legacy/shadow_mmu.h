// SPDX-License-Identifier: GPL-2.0-only
// The legacy backend's state and the primitives that change it: root pages, shadow pages, the
// (base, level) hash table, the reverse maps, and descriptor writes that keep all of them, the
// page reference counts and the hardware-effect record in step. Operations (map.cpp, unmap.cpp,
// ...) are built from these primitives and never touch a descriptor any other way.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mmu/backend.h"
#include "mmu/legacy/descriptor_ops.h"
#include "mmu/legacy/generation.h"
#include "mmu/legacy/reverse_map.h"
#include "mmu/legacy/shadow_hash.h"
#include "mmu/legacy/shadow_page.h"
#include "mmu/legacy/zap_list.h"

namespace mmudiff::legacy {

class ShadowMmu {
 public:
  ShadowMmu(Machine& machine, Plant plant) : machine_(machine), plant_(plant) {}
  // The planted bug this MMU runs with (kNone: the faithful legacy code).
  Plant plant() const { return plant_; }
  ~ShadowMmu();
  ShadowMmu(const ShadowMmu&) = delete;
  ShadowMmu& operator=(const ShadowMmu&) = delete;

  // The concatenated start-level pages: 0, -EINVAL for an IPA size stage 2 cannot have, or
  // -ENOMEM. On failure the previous configuration stays, as the kernel leaves its fields alone.
  int create_roots(const Arm64S2Config& config);
  // Drops every reference and frees every table page. No descriptor is written and nothing is
  // invalidated: the table is unreachable by then.
  void release_all();

  bool live() const { return !roots_.empty(); }
  // The configuration of the current table, or of the last one after destroy (ia_bits 0 before
  // the first init), which is what the kernel's struct kvm_pgtable still holds.
  const Arm64S2Config& config() const { return config_; }
  bool fwb() const { return config_.has_fwb(); }
  // Where the table's descriptors keep their addresses (FEAT_LPA2, when the generation asks).
  AddressLayout layout() const {
    return generation_->lays_out_lpa2_addresses && config_.lpa2 ? AddressLayout::Lpa2
                                                                : AddressLayout::Pa48;
  }
  // The kernel generation whose rules the operations follow. It belongs to the stream rather
  // than to a table: init sets it even when it fails, and destroy keeps it.
  const Generation& generation() const { return *generation_; }
  void set_generation(Arm64Kernel kernel) { generation_ = &generation_of(kernel); }
  unsigned start_level() const { return start_level_; }
  uint64_t ia_limit() const { return arm64s2::bit(config_.ia_bits); }
  TableRoot root() const;

  // --- Finding tables through the hash table ---
  ShadowPage* find_table(uint64_t base_ipa, unsigned level) const {
    return hash_.find(base_ipa, level);
  }
  // The last-level-most table that translates ipa (< ia_limit()); its entry for ipa is not a table.
  ShadowPage& deepest_table(uint64_t ipa) const;
  // The table at `level` translating ipa, allocating the missing ones from the memcache on the
  // way down; nullptr when the memcache is missing or dry (-ENOMEM). A non-table entry in the way
  // is replaced, with break-before-make when it is valid.
  ShadowPage* table_for(uint64_t ipa, unsigned level, Memcache* memcache);

  // --- Descriptor writes (entry_writes.cpp) ---
  // The one way a descriptor changes: records the store, keeps present-count and refcount (1 +
  // non-zero entries) and the reverse maps in step.
  void write_entry(ShadowPage& table, unsigned index, uint64_t desc);
  // Unmap's clear (the kernel's stage2_put_pte / stage2_unmap_put_pte): a valid entry is cleared
  // and its TLB entries invalidated at visit_ipa (level 0 for a table: any level). An invalid one
  // is left for the caller, because no TLB can hold it.
  void invalidate_entry(ShadowPage& table, unsigned index, uint64_t visit_ipa);
  // Unmap's deferral (6.12, FEAT_TLBIRANGE and FWB): leaves are cleared without a TLBI, and
  // flush_ipa_range over the caller's range follows the walk.
  bool unmap_defers_leaf_tlbis() const {
    return generation_->unmap_may_defer_leaf_tlbis && config_.unmap_defers_tlbi();
  }
  // Every translation of [ipa, ipa + size), size in whole pages rounded down: range TLBIs of at
  // most kMaxTlbiRangePages pages each when the CPU has FEAT_TLBIRANGE, else the whole VMID.
  void flush_ipa_range(uint64_t ipa, uint64_t size);
  // The break of break-before-make, before map replaces an entry: the generation's break value
  // goes in (6.1: 0, only over a valid entry; 6.12: locked, over anything) and the TLBs are
  // invalidated -- a leaf at visit_ipa at its level, a table's subtree with a whole-VMID flush
  // (6.12: flush_ipa_range over the table entry's span).
  // The caller's next write_entry is the make.
  void break_before_make(ShadowPage& table, unsigned index, uint64_t visit_ipa);
  // Points entry `index` of `parent` (holding no valid descriptor: empty, annotated or broken) at
  // a fresh zeroed page.
  ShadowPage& link_new_table(ShadowPage& parent, unsigned index, void* page);
  // A shadow page for a table built before it is reachable (a split's): in the hash table, with
  // no parent until link_table points entry `index` of `parent` (empty or broken) at it.
  ShadowPage& new_unlinked_table(uint64_t base_ipa, unsigned level, void* page);
  void link_table(ShadowPage& parent, unsigned index, ShadowPage& child);
  // A shadow page of a tree nothing links (create_unlinked), in that tree's own hash; its
  // parent, if any, is linked with link_table as usual.
  ShadowPage& new_detached_table(ShadowHash& tree, uint64_t base_ipa, unsigned level, void* page);
  // Drops every reference of a detached table and the tables below it, and frees them.
  void release_detached(ShadowHash& tree, ShadowPage& table);
  // Cache maintenance before a descriptor is installed, for the memory it will map (none for an
  // invalid one, in generations that look at valid descriptors only).
  void clean_caches_before_install(uint64_t desc, unsigned level);

  ZapList start_zap() { return ZapList(hash_, rmap_, machine_.memory); }
  // Drops the reference a table page holds on itself (with no entries left, it is freed), and
  // nothing else: for a planted bug that frees a table the hash table still finds.
  void release_table_page(ShadowPage& table) { machine_.memory.put_page(table.entries); }

  const ShadowHash& hash() const { return hash_; }
  const ReverseMap& rmap() const { return rmap_; }
  EffectLog& effects() { return machine_.effects; }
  const SimMemory& memory() const { return machine_.memory; }

  // Shadow pages <-> table pages <-> reverse maps <-> refcounts: every disagreement, in words.
  std::vector<std::string> self_check() const;

 private:
  ShadowPage& root_for(uint64_t ipa) const;
  void relax_at_level_above(ShadowPage& table, unsigned index, uint64_t old, uint64_t relaxed);
  void check_page(const ShadowPage& page, std::vector<std::string>& problems, size_t* child_tables,
                  size_t* leaves) const;

  Machine& machine_;
  Plant plant_;
  const Generation* generation_ = &kLinux61;
  Arm64S2Config config_{.ia_bits = 0};
  unsigned start_level_ = 0;
  std::vector<ShadowPage*> roots_;  // in IPA order; their pages are one zalloc_pages_exact run
  ShadowHash hash_;
  ReverseMap rmap_;
};

}  // namespace mmudiff::legacy

// SPDX-License-Identifier: GPL-2.0-only
// Backend "legacy": stage-2 tables built the way x86 KVM's Shadow MMU and pre-2020 arm64 KVM built
// them -- shadow pages found through a (base, level) hash table, reverse maps for write-protect and
// aging, open-coded per-level map functions, prepare/commit zapping -- with the observable
// behaviour of Linux 6.1's kvm_pgtable: the same return codes, descriptors, reference counts and
// hardware effects in the same order.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mmu/backend.h"
#include "mmu/legacy/descriptor_ops.h"
#include "mmu/legacy/ipa_range.h"
#include "mmu/legacy/shadow_mmu.h"

namespace mmudiff {

std::unique_ptr<Arm64S2Backend> make_legacy_backend(Machine& machine, Plant plant);

namespace legacy {

class LegacyBackend final : public Arm64S2Backend {
 public:
  LegacyBackend(Machine& machine, Plant plant) : mmu_(machine, plant) {}

  std::string_view name() const override { return "legacy"; }
  int init(const Arm64S2Config& config) override;
  void destroy() override;

  int map(uint64_t addr, uint64_t size, uint64_t phys, uint64_t prot, Memcache* mc) override;
  int map_with_walk_flags(uint64_t addr, uint64_t size, uint64_t phys, uint64_t prot, Memcache* mc,
                          uint8_t walk_flags) override;
  int unmap(uint64_t addr, uint64_t size) override;
  int wrprotect(uint64_t addr, uint64_t size) override;
  uint64_t mkyoung(uint64_t addr) override;
  uint64_t mkold(uint64_t addr) override;
  bool is_young(uint64_t addr) override;
  int test_clear_young(uint64_t addr, uint64_t size, bool mkold) override;
  int relax_perms(uint64_t addr, uint64_t prot) override;
  int flush(uint64_t addr, uint64_t size) override;
  int set_owner(uint64_t addr, uint64_t size, Memcache* mc, uint8_t owner) override;
  int get_leaf(uint64_t addr, uint64_t* pte, uint32_t* level) override;
  int split(uint64_t addr, uint64_t size, Memcache* mc) override;
  int create_unlinked(uint64_t phys, unsigned level, uint64_t prot, Memcache* mc,
                      bool force_pte) override;
  void free_unlinked(size_t index) override;
  std::vector<UnlinkedTable> unlinked_tables() const override;

  TableRoot root() const override { return mmu_.root(); }
  std::vector<std::string> take_warnings() override;

  // For tests: the shadow structures, and their consistency with the tables.
  const ShadowMmu& mmu() const { return mmu_; }
  std::vector<std::string> self_check() const { return mmu_.self_check(); }

 private:
  // The last leaf an attribute update saw: the kernel's orig_pte and level out-parameters.
  struct LeafSeen {
    uint64_t pte = 0;
    unsigned level = 0;
    bool found = false;  // whether a valid leaf overlapped the range at all
  };

  // 0 with the page-aligned range, -ERANGE beyond the IPA size, -EINVAL without a table.
  int walk_range(uint64_t addr, uint64_t size, IpaRange* range) const;

  // map.cpp
  unsigned mapping_level(uint64_t ipa, uint64_t end, uint64_t phys, bool force_pte) const;
  int map_range(IpaRange range, uint64_t phys, uint64_t attrs, uint8_t owner, bool force_pte,
                Memcache* mc);
  // level_maps.cpp: one function per level, as stage2_set_pud_huge / _pmd_huge / stage2_set_pte.
  int map_level1_block(uint64_t ipa, uint64_t desc, Memcache* mc);
  int map_level2_block(uint64_t ipa, uint64_t desc, Memcache* mc);
  int map_level3_page(uint64_t ipa, uint64_t desc, Memcache* mc);
  int install_block(ShadowPage& table, unsigned index, uint64_t ipa, uint64_t desc);
  int install_leaf(ShadowPage& table, unsigned index, uint64_t ipa, uint64_t desc);
  void replace_table_with_block(ShadowPage& table, unsigned index, uint64_t desc);
  // unmap.cpp
  // The walk of unmap; leaves' TLBIs are left to the caller when deferred.
  int unmap_range(uint64_t addr, uint64_t size, bool leaf_tlbis_deferred);
  void unmap_entry(ShadowPage& table, unsigned index, uint64_t visit_ipa, bool tlbi_deferred);
  // Whether the table was empty and so released.
  bool release_if_empty(ShadowPage& table, uint64_t visit_ipa, ZapList& zap);
  void free_while_in_hash(ShadowPage& table, uint64_t visit_ipa,
                          std::vector<ShadowPage*>* freed_early);
  // split.cpp
  int split_block(ShadowPage& table, unsigned index, uint64_t visit_ipa, IpaRange range,
                  Memcache& mc);
  ShadowPage* build_split_table(uint64_t block, uint64_t base_ipa, unsigned level, bool to_pages,
                                Memcache& mc);
  bool fill_split_table(ShadowPage& table, uint64_t first, uint64_t attrs, bool to_pages,
                        Memcache& mc);
  // unlinked.cpp
  struct UnlinkedTree {
    UnlinkedTree() = default;
    UnlinkedTree(const UnlinkedTree&) = delete;
    UnlinkedTree& operator=(const UnlinkedTree&) = delete;
    // The records of pages still in it (none once released; the pages are the Machine's).
    ~UnlinkedTree() {
      std::vector<ShadowPage*> left;
      pages.for_each([&](ShadowPage& page) { left.push_back(&page); });
      for (ShadowPage* page : left) delete page;
    }
    ShadowHash pages;  // by (IPA within the tree, level)
    ShadowPage* root = nullptr;
    unsigned level = 0;  // of the entry it would be linked from
  };
  bool fill_unlinked(UnlinkedTree& tree, ShadowPage& table, uint64_t first, uint64_t attrs,
                     bool force_pte, Memcache& mc);
  // map.cpp: whether phys is a frame map installs leaves for.
  bool maps_frame(uint64_t phys) const;
  // leaf_attrs.cpp
  int update_leaf_attrs(uint64_t addr, uint64_t size, uint64_t set, uint64_t clear, LeafSeen* seen);
  int update_faulting_page(uint64_t addr, const LeafUpdate<Integers>& update, LeafSeen* seen);
  void note_aging_walk(int ret, uint64_t addr);

  ShadowMmu mmu_;
  // The trees create_unlinked built, oldest first; destroy frees those left.
  std::vector<std::unique_ptr<UnlinkedTree>> unlinked_;
  std::vector<std::string> warnings_;
  // The walk flags of the map in progress (walk_flag bits; set_owner's walk has none).
  uint8_t map_walk_flags_ = 0;
};

}  // namespace legacy
}  // namespace mmudiff

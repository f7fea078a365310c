// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/legacy/shadow_mmu.h"

#include <cerrno>

#include "mmu/format/arm64_s2_format.h"
#include "mmu/legacy/descriptors.h"

namespace mmudiff::legacy {

ShadowMmu::~ShadowMmu() {
  // The table pages belong to the Machine and outlive us; only our own records go.
  std::vector<ShadowPage*> all;
  hash_.for_each([&](ShadowPage& page) { all.push_back(&page); });
  for (ShadowPage* page : all) delete page;
}

int ShadowMmu::create_roots(const Arm64S2Config& config) {
  if (!valid_ia_bits(config.ia_bits)) return -EINVAL;
  Geometry geometry = geometry_for(config.ia_bits);
  void* pages = machine_.memory.zalloc_pages_exact(geometry.pgd_pages * kPageSize);
  if (!pages) return -ENOMEM;

  config_ = config;
  start_level_ = geometry.start_level;
  auto* first = static_cast<uint64_t*>(pages);
  for (unsigned i = 0; i < geometry.pgd_pages; ++i) {
    auto* root = new ShadowPage;
    root->role = {TableFormat::Arm64Stage2Granule4K, static_cast<uint8_t>(start_level_), true,
                  config_.has_fwb()};
    root->base_ipa = uint64_t{i} * table_span(start_level_);
    root->entries = first + i * kEntriesPerTable;
    root->table_pa = machine_.memory.virt_to_phys(root->entries);
    hash_.insert(root);
    roots_.push_back(root);
  }
  // The zeroed pages must be visible to the table walker before VTTBR points at them.
  machine_.effects.dsb(Barrier::IshSt);
  return 0;
}

void ShadowMmu::release_all() {
  if (!live()) return;
  {
    ZapList zap = start_zap();
    for (ShadowPage* root : roots_) {
      for (unsigned i = 0; i < kEntriesPerTable; ++i)
        if (is_table(root->entries[i], root->level()))
          zap.prepare(*find_table(root->entry_ipa(i), root->level() + 1));
    }
    zap.commit();
    rmap_.clear();
  }
  // The root pages are counted one by one, but freed as the run they were allocated as.
  for (ShadowPage* root : roots_) {
    for (unsigned i = 0; i < root->present; ++i) machine_.memory.put_page(root->entries);
    hash_.remove(root);
  }
  machine_.memory.free_pages_exact(roots_.front()->entries, roots_.size() * kPageSize);
  for (ShadowPage* root : roots_) delete root;
  roots_.clear();
}

// A destroyed table has no root at all, whatever configuration it had.
TableRoot ShadowMmu::root() const {
  TableRoot r;
  if (!live()) return r;
  r.ia_bits = config_.ia_bits;
  r.start_level = start_level_;
  r.fwb = config_.has_fwb();
  r.pgd_pa = roots_.front()->table_pa;
  r.pgd_pages = static_cast<unsigned>(roots_.size());
  r.format = &arm64_s2_4k_format(layout() == AddressLayout::Lpa2);
  return r;
}

ShadowPage& ShadowMmu::root_for(uint64_t ipa) const {
  return *roots_[ipa / table_span(start_level_)];
}

ShadowPage& ShadowMmu::deepest_table(uint64_t ipa) const {
  for (unsigned level = kLastLevel; level > start_level_; --level)
    if (ShadowPage* table = hash_.find(table_base(ipa, level), level)) return *table;
  return root_for(ipa);
}

ShadowPage* ShadowMmu::table_for(uint64_t ipa, unsigned level, Memcache* memcache) {
  // Bottom-up through the hash table for the deepest table that exists...
  ShadowPage* table = nullptr;
  for (unsigned l = level; !table && l > start_level_; --l)
    table = find_table(table_base(ipa, l), l);
  if (!table) table = &root_for(ipa);
  // ...then top-down, one new table per missing level, as stage2_get_pud / stage2_get_pmd did.
  // The entry in the way is not a table: its child would have been found above.
  while (table->level() < level) {
    unsigned index = table_index(ipa, table->level());
    if (!memcache) return nullptr;
    void* page = memcache->pop();
    if (!page) return nullptr;
    break_before_make(*table, index, ipa);
    table = &link_new_table(*table, index, page);
  }
  return table;
}

}  // namespace mmudiff::legacy

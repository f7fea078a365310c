// SPDX-License-Identifier: GPL-2.0-only
// Linux 6.12's unlinked tables (kvm_pgtable_stage2_create_unlinked / _free_unlinked), the
// shadow-MMU way: a tree of detached shadow pages with a hash of its own, filled entry by entry
// with the same primitives as the table's, and torn down children first. Its IPAs are the tree's
// own [0, granule of its level), so nothing of it enters the table's hash or reverse maps.
#include <cerrno>

#include "mmu/legacy/descriptors.h"
#include "mmu/legacy/legacy_backend.h"

namespace mmudiff::legacy {

int LegacyBackend::create_unlinked(uint64_t phys, unsigned level, uint64_t prot, Memcache* mc,
                                   bool force_pte) {
  if (!mmu_.generation().builds_unlinked_tables) return -EOPNOTSUPP;
  if (!is_aligned(phys, granule_size(level))) return -EINVAL;
  const std::optional<uint64_t> attrs = leaf_attributes(
      prot, mmu_.fwb(), mmu_.layout(), mmu_.plant(), mmu_.generation().has_normal_nc);
  if (!attrs) return -EINVAL;
  void* page = mc->pop();
  if (!page) return -ENOMEM;
  auto tree = std::make_unique<UnlinkedTree>();
  tree->level = level;
  tree->root = &mmu_.new_detached_table(tree->pages, 0, level + 1, page);
  if (!fill_unlinked(*tree, *tree->root, phys, *attrs, force_pte, *mc)) {
    mmu_.release_detached(tree->pages, *tree->root);
    return -ENOMEM;
  }
  unlinked_.push_back(std::move(tree));
  return 0;
}

// In address order, as map fills empty entries: nothing can have cached an unlinked table and
// the memory it maps needs no cleaning, but each entry is still locked before it is written.
// Each entry maps the tree's PA plus its offset; a PA beyond the PA size maps nothing and is
// written as the zero annotation, in place. With force_pte, entries above the last level are
// tables of pages, each linked before it is filled.
bool LegacyBackend::fill_unlinked(UnlinkedTree& tree, ShadowPage& table, uint64_t first,
                                  uint64_t attrs, bool force_pte, Memcache& mc) {
  const unsigned level = table.level();
  const bool frames = maps_frame(first);
  for (unsigned i = 0; i < kEntriesPerTable; ++i) {
    const uint64_t pa = frames ? first + table.entry_ipa(i) - table.base_ipa : first;
    if (!force_pte || level == kLastLevel) {
      if (!frames) {
        mmu_.write_entry(table, i, owner_descriptor(0));
        continue;
      }
      mmu_.break_before_make(table, i, table.entry_ipa(i));
      mmu_.write_entry(table, i, leaf_descriptor(pa, attrs, level, mmu_.layout()));
      continue;
    }
    void* page = mc.pop();
    if (!page) return false;
    mmu_.break_before_make(table, i, table.entry_ipa(i));
    ShadowPage& below = mmu_.new_detached_table(tree.pages, table.entry_ipa(i), level + 1, page);
    mmu_.link_table(table, i, below);
    if (!fill_unlinked(tree, below, pa, attrs, force_pte, mc)) return false;
  }
  return true;
}

void LegacyBackend::free_unlinked(size_t index) {
  std::unique_ptr<UnlinkedTree> tree = std::move(unlinked_.at(index));
  unlinked_.erase(unlinked_.begin() + static_cast<std::ptrdiff_t>(index));
  mmu_.release_detached(tree->pages, *tree->root);
}

std::vector<UnlinkedTable> LegacyBackend::unlinked_tables() const {
  std::vector<UnlinkedTable> out;
  for (const auto& tree : unlinked_) out.push_back({tree->root->table_pa, tree->level});
  return out;
}

}  // namespace mmudiff::legacy

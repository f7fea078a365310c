// SPDX-License-Identifier: GPL-2.0-only
// split (Linux 6.12's kvm_pgtable_stage2_split), the shadow-MMU way: the reverse maps name the
// blocks the range overlaps, without a walk of the tables; each becomes a new shadow page, filled
// while nothing points at it and then linked through break-before-make. A 1 GiB block with fewer
// pages than a full split needs becomes a page of 2 MiB blocks, and those of them in the range
// are split next, as far as the cache goes.
#include <algorithm>
#include <cerrno>
#include <vector>

#include "mmu/legacy/descriptors.h"
#include "mmu/legacy/legacy_backend.h"

namespace mmudiff::legacy {

namespace {

// What a split keeps of a leaf: its permissions and software bits, as kvm_pgtable_stage2_pte_prot
// reads them back. The memory type and AF are not kept: the new leaves get the attributes a map
// with that prot gives (normal memory, young).
uint64_t prot_of_leaf(uint64_t desc) {
  uint64_t p = desc & prot::kSwMask;
  if (desc & kS2apR) p |= prot::kR;
  if (desc & kS2apW) p |= prot::kW;
  if (is_executable(desc)) p |= prot::kX;
  return p;
}

// The pages a block at `level` takes to become pages all the way down.
size_t pages_for_full_split(unsigned level) {
  return level == 1 ? size_t{kEntriesPerTable} + 1 : 1;
}

}  // namespace

int LegacyBackend::split(uint64_t addr, uint64_t size, Memcache* mc) {
  if (!mmu_.generation().splits_blocks) return -EOPNOTSUPP;
  IpaRange range;
  int ret = walk_range(addr, size, &range);
  if (!ret) {
    // Collected first: splitting changes the reverse maps.
    std::vector<LeafRef> blocks;
    mmu_.rmap().for_each_overlapping(range.start, range.end, [&](const LeafRef& leaf) {
      if (leaf.level() < kLastLevel) blocks.push_back(leaf);
    });
    for (const LeafRef& block : blocks) {
      ret = split_block(*block.table, block.index, std::max(range.start, block.ipa()), range, *mc);
      if (ret) break;
    }
  }
  // The new tables must be visible to the table walker, however far the split got.
  mmu_.effects().dsb(Barrier::IshSt);
  return ret;
}

// The block at entry `index` of `table`, met at visit_ipa.
int LegacyBackend::split_block(ShadowPage& table, unsigned index, uint64_t visit_ipa,
                               IpaRange range, Memcache& mc) {
  const unsigned level = table.level();
  const bool to_pages = mc.remaining() >= pages_for_full_split(level);
  if (mc.remaining() < 1) return -ENOMEM;
  // Planted: a 1 GiB block the cache cannot split down to pages first takes a page for a full
  // split, then finds the cache short and builds the shallow table with another: the first page
  // is neither linked nor given back.
  if (mmu_.plant() == Plant::kLegacy612SplitLeaksCachePage && level == 1 && !to_pages) [[unlikely]]
    (void)mc.pop();
  ShadowPage* child =
      build_split_table(table.entries[index], table.entry_ipa(index), level + 1, to_pages, mc);
  if (!child) return -ENOMEM;
  mmu_.break_before_make(table, index, visit_ipa);
  mmu_.link_table(table, index, *child);
  if (to_pages) return 0;
  // A shallow split left blocks a level down: those in the range go next, in address order.
  for (unsigned i = table_index(visit_ipa, level + 1);
       i < kEntriesPerTable && child->entry_ipa(i) < range.end; ++i) {
    if (int ret = split_block(*child, i, std::max(visit_ipa, child->entry_ipa(i)), range, mc))
      return ret;
  }
  return 0;
}

// A new table with the block's mapping at `level`, not yet linked; nullptr without a page.
ShadowPage* LegacyBackend::build_split_table(uint64_t block, uint64_t base_ipa, unsigned level,
                                             bool to_pages, Memcache& mc) {
  void* page = mc.pop();
  if (!page) return nullptr;
  ShadowPage& table = mmu_.new_unlinked_table(base_ipa, level, page);
  std::optional<uint64_t> attrs =
      leaf_attributes(prot_of_leaf(block), mmu_.fwb(), mmu_.layout(), Plant::kNone);
  if (attrs && fill_split_table(table, output_pa(block, mmu_.layout()), *attrs, to_pages, mc))
    return &table;
  ZapList zap = mmu_.start_zap();
  zap.prepare(table);
  return nullptr;
}

// Entry by entry: an unlinked table needs no TLBI and its memory no cleaning, but each entry is
// still locked before it is written. With to_pages, a table of pages for each entry above the
// last level, linked before it is filled.
bool LegacyBackend::fill_split_table(ShadowPage& table, uint64_t first, uint64_t attrs,
                                     bool to_pages, Memcache& mc) {
  const unsigned level = table.level();
  for (unsigned i = 0; i < kEntriesPerTable; ++i) {
    const uint64_t pa = first + uint64_t{i} * granule_size(level);
    void* page = nullptr;
    if (to_pages && level < kLastLevel && !(page = mc.pop())) return false;
    mmu_.break_before_make(table, i, table.entry_ipa(i));
    if (!page) {
      mmu_.write_entry(table, i, leaf_descriptor(pa, attrs, level, mmu_.layout()));
      continue;
    }
    ShadowPage& below = mmu_.new_unlinked_table(table.entry_ipa(i), level + 1, page);
    mmu_.link_table(table, i, below);
    if (!fill_split_table(below, pa, attrs, true, mc)) return false;
  }
  return true;
}

}  // namespace mmudiff::legacy

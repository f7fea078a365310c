// SPDX-License-Identifier: GPL-2.0-only
// The consistency self-check: shadow pages, table pages, the hash table, the reverse maps and the
// reference counts must all tell the same story. Tests run it after every operation.
#include <fmt/format.h>

#include "mmu/legacy/descriptors.h"
#include "mmu/legacy/ipa_range.h"
#include "mmu/legacy/shadow_mmu.h"

namespace mmudiff::legacy {

namespace {

std::string where(const ShadowPage& page) {
  return fmt::format("L{} table {:#x} (IPA {:#x})", page.level(), page.table_pa, page.base_ipa);
}

}  // namespace

void ShadowMmu::check_page(const ShadowPage& page, std::vector<std::string>& problems,
                           size_t* child_tables, size_t* leaves) const {
  auto problem = [&](std::string text) {
    problems.push_back(where(page) + ": " + std::move(text));
  };
  unsigned level = page.level();
  const SimMemory& memory = machine_.memory;

  if (!memory.is_live(page.table_pa) || memory.phys_to_virt(page.table_pa) != page.entries)
    problem("table page is not live, or not where the shadow page says");
  if (level < start_level_ || level > kLastLevel) problem("level outside the table's levels");
  if (!is_aligned(page.base_ipa, table_span(level)) || page.base_ipa >= ia_limit())
    problem("base IPA misaligned or beyond the IPA size");
  ShadowRole expected_role{TableFormat::Arm64Stage2Granule4K, static_cast<uint8_t>(level),
                           page.parent == nullptr, config_.has_fwb()};
  if (!(page.role == expected_role)) problem("role does not match the table's configuration");
  if (hash_.find(page.base_ipa, level) != &page) problem("hash table finds another page");
  if (page.role.root != (level == start_level_)) problem("root pages are the start level only");

  if (ShadowPage* parent = page.parent) {
    if (hash_.find(parent->base_ipa, parent->level()) != parent) problem("parent not in the hash");
    if (parent->level() + 1 != level || parent->entry_ipa(page.parent_index) != page.base_ipa)
      problem("parent link points at the wrong entry");
    if (parent->entries[page.parent_index] != table_descriptor(page.table_pa, layout()))
      problem("parent descriptor does not point at this page");
  }

  unsigned non_zero = 0;
  for (unsigned i = 0; i < kEntriesPerTable; ++i) {
    uint64_t desc = page.entries[i];
    if (!desc) continue;
    ++non_zero;
    uint64_t ipa = page.entry_ipa(i);
    if (is_table(desc, level)) {
      ++*child_tables;
      ShadowPage* child = hash_.find(ipa, level + 1);
      if (!child || child->parent != &page || child->parent_index != i ||
          desc != table_descriptor(child->table_pa, layout()))
        problem(fmt::format("entry {} is a table without a matching shadow page", i));
    } else if (is_valid(desc)) {
      ++*leaves;
      const LeafRef* leaf = rmap_.find(ipa);
      if (!leaf || leaf->table != &page || leaf->index != i)
        problem(fmt::format("leaf {} is missing from the reverse maps", i));
      if (!level_supports_block(level))
        problem(fmt::format("leaf {} at a level without blocks", i));
      if (desc & leaf_reserved_mask(level, layout() == AddressLayout::Lpa2))
        problem(fmt::format("leaf {} {:#018x} sets a reserved bit", i, desc));
    } else if (desc & ~kOwnerMask) {
      problem(fmt::format("invalid entry {} {:#018x} is not an owner annotation", i, desc));
    }
  }
  if (non_zero != page.present)
    problem(fmt::format("{} entries present, the shadow page counts {}", non_zero, page.present));
  // Root pages come from zalloc_pages_exact and are counted like any other page.
  if (memory.page_count(page.entries) != static_cast<int>(1 + non_zero))
    problem(fmt::format("refcount {} for {} entries", memory.page_count(page.entries), non_zero));
}

std::vector<std::string> ShadowMmu::self_check() const {
  std::vector<std::string> problems;
  if (!live()) {
    if (hash_.size() || rmap_.size())
      problems.push_back("no table, but shadow pages or rmaps left");
    return problems;
  }

  size_t child_tables = 0;
  size_t leaves = 0;
  hash_.for_each(
      [&](const ShadowPage& page) { check_page(page, problems, &child_tables, &leaves); });

  for (size_t i = 0; i < roots_.size(); ++i) {
    const ShadowPage& root = *roots_[i];
    if (!root.role.root || root.base_ipa != i * table_span(start_level_) ||
        root.table_pa != roots_.front()->table_pa + i * kPageSize)
      problems.push_back(fmt::format("root page {} is out of place", i));
  }
  // Every shadow page is a root or is pointed at by exactly one table descriptor.
  if (hash_.size() != roots_.size() + child_tables)
    problems.push_back(fmt::format("{} shadow pages, but {} roots and {} table descriptors",
                                   hash_.size(), roots_.size(), child_tables));
  if (rmap_.size() != leaves)
    problems.push_back(fmt::format("{} reverse maps for {} leaves", rmap_.size(), leaves));
  rmap_.for_each([&](uint64_t ipa, const LeafRef& leaf) {
    if (hash_.find(leaf.table->base_ipa, leaf.level()) != leaf.table || leaf.ipa() != ipa ||
        !is_valid_leaf(leaf.descriptor(), leaf.level()))
      problems.push_back(fmt::format("reverse map for IPA {:#x} points at no leaf", ipa));
  });
  return problems;
}

}  // namespace mmudiff::legacy

// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/unlinked_tables.h"

#include <unordered_set>
#include <utility>

namespace mmudiff {

TableRoot unlinked_root(const UnlinkedTable& unlinked, const TableRoot& table) {
  TableRoot root;
  root.format = table.format;
  root.fwb = table.fwb;
  root.start_level = unlinked.level + 1;
  root.pgd_pa = unlinked.pa;
  root.pgd_pages = 1;
  // What the table translates ends where the granule of the entry it would replace ends.
  const uint64_t granule = table.format->granule_size(unlinked.level);
  root.ia_bits = static_cast<unsigned>(__builtin_ctzll(granule));
  return root;
}

std::vector<uint64_t> tree_pages(const TableRoot& root, const SimMemory& memory) {
  const DescriptorFormat& f = *root.format;
  std::vector<uint64_t> pages;
  std::unordered_set<uint64_t> seen;
  std::vector<std::pair<uint64_t, unsigned>> todo;
  for (unsigned p = 0; p < root.pgd_pages; ++p)
    todo.push_back({root.pgd_pa + p * f.page_size(), root.start_level});
  while (!todo.empty()) {
    const auto [pa, level] = todo.back();
    todo.pop_back();
    const uint64_t* table = memory.table_page(pa);
    if (!table || !seen.insert(pa).second) continue;
    pages.push_back(pa);
    for (unsigned e = 0; e < f.entries_per_table(); ++e)
      if (f.classify(table[e], level) == DescriptorKind::Table)
        todo.push_back({f.next_table_address(table[e], level), level + 1});
  }
  return pages;
}

}  // namespace mmudiff

// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/deciding_entry.h"

namespace mmudiff {

std::optional<DivergingEntry> deciding_entry(const TableRoot& root, const SimMemory& memory,
                                             uint64_t ipa) {
  const DescriptorFormat& f = *root.format;
  if (!root.live() || root.ia_bits >= 64 || ipa >> root.ia_bits) return std::nullopt;
  unsigned level = root.start_level;
  // The start level's pages are concatenated: one index across all of them.
  uint64_t index = ipa >> f.index_shift(level);
  uint64_t page_pa = root.pgd_pa + (index / f.entries_per_table()) * f.page_size();
  index %= f.entries_per_table();
  for (;;) {
    const uint64_t* page = memory.table_page(page_pa);
    if (!page) return std::nullopt;
    uint64_t raw = page[index];
    uint64_t start = ipa & ~(f.granule_size(level) - 1);
    if (f.classify(raw, level) != DescriptorKind::Table || level + 1 >= f.levels())
      return DivergingEntry{start, level, raw, raw};
    page_pa = f.next_table_address(raw, level);
    ++level;
    index = (ipa >> f.index_shift(level)) % f.entries_per_table();
  }
}

}  // namespace mmudiff

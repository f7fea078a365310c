// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/table_snapshot.h"

#include <fmt/format.h>

namespace mmudiff {

namespace {

void flatten(const SimMemory& memory, const DescriptorFormat& f, uint64_t table_pa, unsigned level,
             uint64_t base, TableSnapshot* out) {
  const uint64_t* entries = memory.table_page(table_pa);
  if (!entries) {
    out->broken_links.push_back(fmt::format(
        "table at {:#x} (level {}, IPA {:#x}) is not a live page", table_pa, level, base));
    return;
  }
  for (unsigned i = 0; i < f.entries_per_table(); ++i) {
    uint64_t raw = entries[i];
    if (raw == f.empty_entry()) continue;
    uint64_t ipa = base + i * f.granule_size(level);
    bool table = level < f.last_level() && f.classify(raw, level) == DescriptorKind::Table;
    out->entries.push_back(
        {ipa, static_cast<uint8_t>(level), raw, table ? raw & ~f.table_address_mask(level) : raw});
    if (table) flatten(memory, f, f.next_table_address(raw, level), level + 1, ipa, out);
  }
}

}  // namespace

TableSnapshot take_snapshot(const Backend& backend, const SimMemory& memory) {
  return take_snapshot(backend.root(), memory);
}

TableSnapshot take_snapshot(const TableRoot& root, const SimMemory& memory) {
  TableSnapshot snap;
  snap.root = root;
  if (!snap.root.live()) return snap;
  // The concatenated start-level pages are one table of pgd_pages * 512 entries.
  const DescriptorFormat& f = *snap.root.format;
  uint64_t per_page = f.root_page_span(snap.root.start_level);
  for (unsigned p = 0; p < snap.root.pgd_pages; ++p)
    flatten(memory, f, snap.root.pgd_pa + p * f.page_size(), snap.root.start_level, p * per_page,
            &snap);
  return snap;
}

std::optional<size_t> first_difference(const TableSnapshot& a, const TableSnapshot& b) {
  size_t n = std::min(a.entries.size(), b.entries.size());
  for (size_t i = 0; i < n; ++i)
    if (!(a.entries[i] == b.entries[i])) return i;
  if (a.entries.size() != b.entries.size()) return n;
  return std::nullopt;
}

}  // namespace mmudiff

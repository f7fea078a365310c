// SPDX-License-Identifier: GPL-2.0-only
// A backend's tables read straight from simulated memory, as the hardware would find them from
// the root, with no help from the backend: for the tests that check what the tables hold (every
// entry, every table page and its refcount, the entry that translates an address). The root's
// descriptor format says which entries are tables; nothing else about the format is assumed.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "mmu/backend.h"
#include "mmu/format/format.h"
#include "mmu/memory/sim_memory.h"

namespace mmudiff::testing {

// A table page reached from the root.
struct TablePage {
  uint64_t pa;
  unsigned level;
  uint64_t ipa;              // the first address its entries translate
  const uint64_t* entries;   // null when the page is not live in SimMemory
  unsigned entry_count = 0;  // the format's entries per table

  unsigned non_zero_entries() const {
    unsigned n = 0;
    for (unsigned i = 0; entries && i < entry_count; ++i) n += entries[i] != 0;
    return n;
  }
};

// A non-zero entry of a table page.
struct TableEntry {
  uint64_t pa;  // where the entry is
  unsigned level;
  uint64_t ipa;   // the first address it translates
  uint64_t size;  // how many bytes of addresses it translates
  uint64_t desc;
  DescriptorKind kind;
};

namespace detail {

template <class OnPage, class OnEntry>
void walk_table_page(const SimMemory& memory, const DescriptorFormat& format, uint64_t pa,
                     unsigned level, uint64_t ipa, OnPage& on_page, OnEntry& on_entry) {
  const TablePage page{pa, level, ipa, memory.table_page(pa), format.entries_per_table()};
  on_page(page);
  if (!page.entries) return;
  const uint64_t size = uint64_t{1} << format.index_shift(level);
  for (unsigned i = 0; i < page.entry_count; ++i) {
    const uint64_t desc = page.entries[i];
    if (!desc) continue;
    const TableEntry e{pa + i * sizeof(uint64_t),   level, ipa + i * size, size, desc,
                       format.classify(desc, level)};
    on_entry(e);
    // A table descriptor at the last level is a page (or reserved) to classify(), so the walk
    // ends there even on a corrupted table.
    if (e.kind == DescriptorKind::Table)
      walk_table_page(memory, format, format.next_table_address(desc, level), level + 1, e.ipa,
                      on_page, on_entry);
  }
}

}  // namespace detail

// Visits every table page reachable from root and every non-zero entry on them in address order,
// depth first: on_page(const TablePage&) before the page's entries, on_entry(const TableEntry&)
// for each entry, and a table entry's next-level page right after that entry.
template <class OnPage, class OnEntry>
void walk_tables(const SimMemory& memory, const TableRoot& root, OnPage&& on_page,
                 OnEntry&& on_entry) {
  if (!root.live()) return;
  const DescriptorFormat& format = *root.format;
  const uint64_t page_size = uint64_t{1} << format.page_shift();
  const uint64_t per_root_page =
      (uint64_t{1} << format.index_shift(root.start_level)) * format.entries_per_table();
  for (unsigned p = 0; p < root.pgd_pages; ++p)
    detail::walk_table_page(memory, format, root.pgd_pa + p * page_size, root.start_level,
                            p * per_root_page, on_page, on_entry);
}

// Every table page reachable from root, in the order walk_tables visits them.
inline std::vector<TablePage> table_pages(const SimMemory& memory, const TableRoot& root) {
  std::vector<TablePage> pages;
  walk_tables(
      memory, root, [&](const TablePage& p) { pages.push_back(p); }, [](const TableEntry&) {});
  return pages;
}

// Looks entries up by the address they translate, from the backend's current root.
class TableReader {
 public:
  TableReader(const Backend& backend, const SimMemory& memory)
      : backend_(backend), memory_(memory) {}

  // Where the entry that translates ipa at level lives, if the tables above it exist.
  std::optional<uint64_t> entry_pa(uint64_t ipa, unsigned level) const {
    const TableRoot r = backend_.root();
    const DescriptorFormat& f = *r.format;
    if (!r.live() || level < r.start_level || level >= f.levels()) return std::nullopt;
    if (r.ia_bits < 64 && ipa >= uint64_t{1} << r.ia_bits) return std::nullopt;
    const uint64_t per_root_page =
        (uint64_t{1} << f.index_shift(r.start_level)) * f.entries_per_table();
    uint64_t table_pa = r.pgd_pa + (ipa / per_root_page) * page_size();
    for (unsigned l = r.start_level;; ++l) {
      const uint64_t index = (ipa >> f.index_shift(l)) & (f.entries_per_table() - 1);
      const uint64_t pa = table_pa + index * sizeof(uint64_t);
      if (l == level) return pa;
      const std::optional<uint64_t> d = read(pa);
      if (!d || f.classify(*d, l) != DescriptorKind::Table) return std::nullopt;
      table_pa = f.next_table_address(*d, l);
    }
  }

  // The descriptor at entry_pa, if its table page is live.
  std::optional<uint64_t> read(uint64_t entry_pa) const {
    const uint64_t* t = memory_.table_page(entry_pa & ~(page_size() - 1));
    if (!t) return std::nullopt;
    return t[(entry_pa & (page_size() - 1)) / sizeof(uint64_t)];
  }

  // The table page holding the entry that translates ipa at level; 0 if there is none.
  uint64_t table_page_pa(uint64_t ipa, unsigned level) const {
    const std::optional<uint64_t> pa = entry_pa(ipa, level);
    return pa ? *pa & ~(page_size() - 1) : 0;
  }

 private:
  uint64_t page_size() const { return uint64_t{1} << backend_.root().format->page_shift(); }

  const Backend& backend_;
  const SimMemory& memory_;
};

}  // namespace mmudiff::testing

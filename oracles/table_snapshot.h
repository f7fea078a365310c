// SPDX-License-Identifier: GPL-2.0-only
// A table flattened to its non-zero descriptors in address order, with table-descriptor address
// fields masked: two backends built the same table exactly when their snapshots are equal.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mmu/backend.h"

namespace mmudiff {

struct SnapshotEntry {
  uint64_t ipa;  // first address the entry translates
  uint8_t level;
  uint64_t raw;     // as stored
  uint64_t masked;  // table descriptors: address field cleared

  bool operator==(const SnapshotEntry& o) const {
    return ipa == o.ipa && level == o.level && masked == o.masked;
  }
};

struct TableSnapshot {
  TableRoot root;
  std::vector<SnapshotEntry> entries;
  // Table descriptors that point at something that is not a live table page.
  std::vector<std::string> broken_links;
};

TableSnapshot take_snapshot(const Backend& backend, const SimMemory& memory);
// The same from any root: an unlinked table's (oracles/unlinked_tables.h), say.
TableSnapshot take_snapshot(const TableRoot& root, const SimMemory& memory);

// Index of the first entry where a and b differ (by ipa, level and masked value), if any.
std::optional<size_t> first_difference(const TableSnapshot& a, const TableSnapshot& b);

}  // namespace mmudiff

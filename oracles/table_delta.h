// SPDX-License-Identifier: GPL-2.0-only
// Where one lane's table changed since the last check after an operation (--every-op). It keeps
// each table page as that check saw it, by its place in the tree (level and base IPA, not its
// address, which a backend may change): the IPA range of every entry whose value differs now is
// a window (oracles/ipa_windows.h), and so is everything under an entry that became a table.
// A subtree whose page is the same and that the TableHashCache's update for this check did not
// rehash is skipped whole, so the cost is in the pages that changed.
//
// A store to a page outside the tree, or a page count changed without a store, is no change to
// the entries: the final check of a stream reads every table whole, and finds those.
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "mmu/backend.h"
#include "oracles/ipa_windows.h"
#include "oracles/table_hash.h"

namespace mmudiff {

class TableDelta {
 public:
  // Adds to *changed where root's table differs from the one the last call saw (all of it after
  // clear(), or when the root moved), and remembers this one.
  void update(const TableRoot& root, const SimMemory& memory, const TableHashCache& hashes,
              IpaWindows* changed);
  void clear();

 private:
  struct Seen {
    uint64_t pa = 0;
    std::vector<uint64_t> entries;
  };
  using Place = std::pair<uint64_t, unsigned>;  // (base IPA, level)

  void visit(uint64_t pa, unsigned level, uint64_t base);
  // Forgets the pages of from_level and deeper with a base in [lo, hi): no longer in the tree.
  void forget(uint64_t lo, uint64_t hi, unsigned from_level);

  std::map<Place, Seen> seen_;
  TableRoot root_;
  // For the length of one update():
  const SimMemory* memory_ = nullptr;
  const TableHashCache* hashes_ = nullptr;
  IpaWindows* changed_ = nullptr;
  std::vector<DescriptorKind> kinds_;  // scratch: a page's kinds, by level
};

}  // namespace mmudiff

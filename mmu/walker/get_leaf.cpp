// SPDX-License-Identifier: GPL-2.0-only
// get_leaf: the deepest entry that translates one page, valid or not, and its level.
#include "mmu/walker/stage2.h"
#include "mmu/walker/walk.h"

namespace mmudiff::walker {

LeafLookup get_leaf(const Stage2PageTable& pgt, uint64_t addr) {
  LeafLookup found;
  // A one-page walk meets exactly one non-table entry, unless (6.12, concurrently) another
  // walker turns it into a table before the walk reads it again: the walk then goes down into
  // the new table, and its entry is the answer, as in the kernel. It only reads; a caller that
  // runs beside shared walks holds the RCU read side itself (the kernel's walk takes none).
  found.ret = walk(pgt, align_down(addr, arm64s2::kPageSize), arm64s2::kPageSize, Visit::Leaf,
                   [&](const VisitedEntry& e) {
                     found.pte = e.old;
                     found.level = e.level;
                     return 0;
                   });
  if (found.ret) found = LeafLookup{found.ret, 0, 0};
  return found;
}

}  // namespace mmudiff::walker

// SPDX-License-Identifier: GPL-2.0-only
// The walk over an x86 EPT table: one root page at level 4 or 5, levels counting down to 1 (4 KiB
// pages). Everything comes from x86_ept.h. An entry is a table when the hardware would walk
// through it: present (RWX != 000b) above level 1 and not a large page.
#pragma once

#include <cstdint>

#include "mmu/format/x86_ept.h"
#include "mmu/walker/pte.h"
#include "mmu/walker/table_walk.h"

namespace mmudiff::walker {

class EptGeometry {
 public:
  EptGeometry(Pte* root, unsigned levels) : root_(root), levels_(levels) {}

  // tdp_iter refuses no address: the index of an entry is the address's bits for the level,
  // masked, so an address beyond the root's reach walks the entry it aliases (as in the kernel).
  uint64_t addr_limit() const { return ~uint64_t{0}; }
  unsigned root_level() const { return levels_; }
  unsigned root_pages() const { return 1; }
  unsigned root_page_index(uint64_t /*addr*/) const { return 0; }
  Pte* root_page(unsigned page) const { return page == 0 ? root_ : nullptr; }
  unsigned entries_per_table() const { return x86ept::kEntriesPerTable; }
  unsigned table_index(uint64_t addr, unsigned level) const {
    return x86ept::table_index(addr, level);
  }
  uint64_t granule_size(unsigned level) const { return x86ept::level_size(level); }
  bool is_table(Pte pte, unsigned level) const {
    return level > x86ept::kPageLevel && (pte & x86ept::kRwxMask) && !(pte & x86ept::kLargePage);
  }
  uint64_t table_phys(Pte pte) const { return pte & x86ept::kAddrMask; }
  unsigned child_level(unsigned level) const { return level - 1; }
  uint64_t next_entry_addr(uint64_t addr, unsigned level) const {
    return align_down(addr, granule_size(level)) + granule_size(level);
  }

 private:
  Pte* root_;
  unsigned levels_;
};
static_assert(TableGeometry<EptGeometry>);

// tdp_iter's walk (for_each_tdp_pte_min_level): every entry once, in pre-order, the entry re-read
// before stepping down, no step below min_level, and an entry in range when its own first
// address (not the cursor) is below the end.
inline constexpr WalkFlags tdp_iter_flags(unsigned min_level) {
  return WalkFlags{
      .reread_after_table_pre = true, .floor_level = min_level, .range_by_entry_start = true};
}

}  // namespace mmudiff::walker

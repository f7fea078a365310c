// SPDX-License-Identifier: GPL-2.0-only
// The walk over an arm64 stage-2 table (the generic engine is table_walk.h): its geometry (levels
// 0..3 from a start level, the start-level pages concatenated) and the kvm_pgtable_walk()-shaped
// entry point the arm64 visitors use.
#pragma once

#include <cstdint>

#include "mmu/format/arm64_s2.h"
#include "mmu/walker/marked_access.h"
#include "mmu/walker/page_table.h"
#include "mmu/walker/pte.h"
#include "mmu/walker/table_walk.h"

namespace mmudiff::walker {

// What every arm64 stage-2 table page is, wherever a walk of it starts.
class Stage2PageGeometry {
 public:
  explicit Stage2PageGeometry(bool lpa2) : lpa2_(lpa2) {}

  unsigned entries_per_table() const { return arm64s2::kEntriesPerTable; }
  unsigned table_index(uint64_t addr, unsigned level) const {
    return arm64s2::table_index(addr, level);
  }
  uint64_t granule_size(unsigned level) const { return arm64s2::granule_size(level); }
  bool is_table(Pte pte, unsigned level) const { return pte_is_table(pte, level); }
  uint64_t table_phys(Pte pte) const { return pte_to_phys(pte, lpa2_); }
  unsigned child_level(unsigned level) const { return level + 1; }

  // The cursor moves to the start of the next entry: from an address inside a block-level entry
  // (an unaligned start) adding the granule alone would land inside the next entry, and a table
  // there would then be walked from its second entry on.
  uint64_t next_entry_addr(uint64_t addr, unsigned level) const {
    const uint64_t granule = arm64s2::granule_size(level);
    return align_down(addr, granule) + granule;
  }

 private:
  bool lpa2_;  // table descriptors carry next-level address bits 51:50 in bits 9:8
};

class Stage2Geometry : public Stage2PageGeometry {
 public:
  explicit Stage2Geometry(const Stage2PageTable& pgt) : Stage2PageGeometry(pgt.lpa2()), pgt_(pgt) {}

  uint64_t addr_limit() const { return pgt_.ia_limit(); }
  unsigned root_level() const { return pgt_.start_level; }
  unsigned root_pages() const { return pgt_.pgd_pages(); }
  unsigned root_page_index(uint64_t addr) const { return pgt_.pgd_page_index(addr); }
  Pte* root_page(unsigned page) const {
    return pgt_.pgd ? pgt_.pgd + page * arm64s2::kEntriesPerTable : nullptr;
  }

  uint64_t next_entry_addr(uint64_t addr, unsigned level) const {
    // Planted: the walker before Linux's "KVM: arm64: Fix unaligned addr case in mmu walking".
    if (pgt_.plant == Plant::kWalkerUnalignedStartSkip) [[unlikely]]
      return addr + arm64s2::granule_size(level);
    return Stage2PageGeometry::next_entry_addr(addr, level);
  }

 private:
  const Stage2PageTable& pgt_;
};
static_assert(TableGeometry<Stage2Geometry>);

// One table page nothing links (6.12's create_unlinked and free_unlinked): its entries are at
// level + 1 of the entry it would be linked from, and they translate [0, granule_size(level)), a
// range of the table's own (the kernel's "ambiguous IA range").
class UnlinkedGeometry : public Stage2PageGeometry {
 public:
  UnlinkedGeometry(Pte* table, unsigned level, bool lpa2)
      : Stage2PageGeometry(lpa2), table_(table), level_(level) {}

  uint64_t addr_limit() const { return arm64s2::granule_size(level_); }
  unsigned root_level() const { return level_ + 1; }
  unsigned root_pages() const { return 1; }
  unsigned root_page_index(uint64_t) const { return 0; }
  Pte* root_page(unsigned) const { return table_; }

 private:
  Pte* table_;
  unsigned level_;
};
static_assert(TableGeometry<UnlinkedGeometry>);

// Whether a walk is a fault handler's (the kernel's KVM_PGTABLE_WALK_HANDLE_FAULT): in 6.12 only
// such a walk ends at a visitor's -EAGAIN.
enum class WalkFor : bool { Caller, FaultHandler };

// The walk flags of the table's kernel generation.
inline WalkFlags walk_flags(const Stage2PageTable& pgt, WalkFor purpose) {
  const Generation& gen = pgt.generation();
  WalkFlags flags;
  flags.reread_after_table_pre = gen.reread_after_table_pre;
  flags.eagain_continues = gen.eagain_ends_only_fault_walks && purpose != WalkFor::FaultHandler;
  // 6.12 reads each entry with READ_ONCE, a scheduling point of a concurrent run.
  if (gen.marks_descriptor_accesses) flags.before_read = &read_once_point;
  return flags;
}

// Walks [addr rounded down to a page, addr + size rounded up to a page). 0, -ERANGE when either
// end lies beyond the IPA size, -EINVAL when the table does not exist, or the visitor's error.
template <EntryVisitor V>
int walk(const Stage2PageTable& pgt, uint64_t addr, uint64_t size, VisitSet visits, V&& visitor,
         WalkFor purpose = WalkFor::Caller) {
  uint64_t start = align_down(addr, arm64s2::kPageSize);
  // Wraps like the kernel's PAGE_ALIGN: a range running off the top of the address space ends
  // below where it starts, and is then empty.
  uint64_t end = align_down(start + size + (arm64s2::kPageSize - 1), arm64s2::kPageSize);
  return walk_range(Stage2Geometry(pgt), pgt.mm, start, end, visits, walk_flags(pgt, purpose),
                    visitor);
}

// Walks the whole of an unlinked table (UnlinkedGeometry) as a caller's walk.
template <EntryVisitor V>
int walk_unlinked(const Stage2PageTable& pgt, Pte* table, unsigned level, VisitSet visits,
                  V&& visitor) {
  return walk_range(UnlinkedGeometry(table, level, pgt.lpa2()), pgt.mm, 0,
                    arm64s2::granule_size(level), visits, walk_flags(pgt, WalkFor::Caller),
                    visitor);
}

}  // namespace mmudiff::walker

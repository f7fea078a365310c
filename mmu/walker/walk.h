// SPDX-License-Identifier: GPL-2.0-only
// The one table walk every operation is built on. It visits the entries that translate a range,
// in address order, depth first: a leaf (anything that is not a table, invalid entries included)
// once, a table before its children (TablePre) and after them (TablePost). The visitor decides
// what happens to each entry; the walk only moves the cursor and stops at the first error.
#pragma once

#include <cerrno>
#include <concepts>
#include <cstdint>
#include <type_traits>

#include "mmu/format/arm64_s2.h"
#include "mmu/walker/page_table.h"
#include "mmu/walker/pte.h"

namespace mmudiff::walker {

enum class Visit : uint8_t {
  Leaf = 1 << 0,
  TablePre = 1 << 1,
  TablePost = 1 << 2,
};

// Which kinds of visit a walk makes.
class VisitSet {
 public:
  constexpr VisitSet(Visit v) : bits_(static_cast<uint8_t>(v)) {}  // NOLINT: implicit on purpose
  constexpr bool contains(Visit v) const { return bits_ & static_cast<uint8_t>(v); }
  friend constexpr VisitSet operator|(VisitSet a, VisitSet b) {
    return VisitSet(a.bits_ | b.bits_);
  }

 private:
  constexpr explicit VisitSet(unsigned bits) : bits_(static_cast<uint8_t>(bits)) {}
  uint8_t bits_;
};
constexpr VisitSet operator|(Visit a, Visit b) {
  return VisitSet(a) | VisitSet(b);
}

// What a visitor is shown. addr is the walk's cursor when it reached the entry: inside the
// entry's range but aligned only to a page when the walk started in the middle of it.
struct VisitedEntry {
  Visit visit;
  uint64_t addr;
  uint64_t end;  // the end of the walk's whole range
  unsigned level;
  Pte* ptep;
};

// A visitor returns 0 to go on or a negative errno to stop the walk with it.
template <typename V>
concept EntryVisitor = requires(V& v, const VisitedEntry& e) {
  { v(e) } -> std::convertible_to<int>;
};

namespace detail {

template <EntryVisitor V>
class TableWalk {
 public:
  TableWalk(const Stage2PageTable& pgt, uint64_t addr, uint64_t end, VisitSet visits, V& visitor)
      : pgt_(pgt), addr_(addr), end_(end), visits_(visits), visitor_(visitor) {}

  int run() {
    // Checked before anything is visited, so an out-of-range call changes nothing. A range
    // whose end wrapped below its start is not an error: it is empty.
    if (addr_ > pgt_.ia_limit() || end_ > pgt_.ia_limit()) return -ERANGE;
    if (!pgt_.pgd) return -EINVAL;
    for (unsigned page = pgt_.pgd_page_index(addr_); addr_ < end_; ++page) {
      if (int ret = walk_table(pgt_.pgd + page * arm64s2::kEntriesPerTable, pgt_.start_level)) {
        return ret;
      }
    }
    return 0;
  }

 private:
  int walk_table(Pte* table, unsigned level) {
    for (unsigned idx = arm64s2::table_index(addr_, level);
         idx < arm64s2::kEntriesPerTable && addr_ < end_; ++idx) {
      if (int ret = visit_entry(&table[idx], level)) return ret;
    }
    return 0;
  }

  int visit_entry(Pte* ptep, unsigned level) {
    const uint64_t addr = addr_;
    // Read once, before TablePre: a visitor that detaches a table there still has its children
    // walked, which is how they get released.
    Pte pte = *ptep;
    bool table = pte_is_table(pte, level);
    int ret = 0;

    if (table && visits_.contains(Visit::TablePre)) {
      ret = visitor_(VisitedEntry{Visit::TablePre, addr, end_, level, ptep});
    }
    if (!table && visits_.contains(Visit::Leaf)) {
      ret = visitor_(VisitedEntry{Visit::Leaf, addr, end_, level, ptep});
      // A leaf visitor may have installed a table in place of the leaf: walk into it.
      pte = *ptep;
      table = pte_is_table(pte, level);
    }
    if (ret) return ret;

    if (!table) {
      addr_ = next_entry_addr(level);
      return 0;
    }

    if ((ret = walk_table(pgt_.mm.phys_to_virt(pte_to_phys(pte)), level + 1))) return ret;

    if (visits_.contains(Visit::TablePost)) {
      ret = visitor_(VisitedEntry{Visit::TablePost, addr, end_, level, ptep});
    }
    return ret;
  }

  // The cursor moves to the start of the next entry: from an address inside a block-level entry
  // (an unaligned start) adding the granule alone would land inside the next entry, and a table
  // there would then be walked from its second entry on.
  uint64_t next_entry_addr(unsigned level) const {
    const uint64_t granule = arm64s2::granule_size(level);
    // Planted: the walker before Linux's "KVM: arm64: Fix unaligned addr case in mmu walking".
    if (pgt_.plant == Plant::kWalkerUnalignedStartSkip) [[unlikely]]
      return addr_ + granule;
    return align_down(addr_, granule) + granule;
  }

  const Stage2PageTable& pgt_;
  uint64_t addr_;
  const uint64_t end_;
  const VisitSet visits_;
  V& visitor_;
};

}  // namespace detail

// Walks [addr rounded down to a page, addr + size rounded up to a page). 0, -ERANGE when either
// end lies beyond the IPA size, -EINVAL when the table does not exist, or the visitor's error.
template <EntryVisitor V>
int walk(const Stage2PageTable& pgt, uint64_t addr, uint64_t size, VisitSet visits, V&& visitor) {
  uint64_t start = align_down(addr, arm64s2::kPageSize);
  // Wraps like the kernel's PAGE_ALIGN: a range running off the top of the address space ends
  // below where it starts, and is then empty.
  uint64_t end = align_down(start + size + (arm64s2::kPageSize - 1), arm64s2::kPageSize);
  detail::TableWalk<std::remove_reference_t<V>> w(pgt, start, end, visits, visitor);
  return w.run();
}

}  // namespace mmudiff::walker

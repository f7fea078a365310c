// SPDX-License-Identifier: GPL-2.0-only
// The one table walk every operation is built on, whatever the table format. It visits the
// entries that translate a range, in address order, depth first: a leaf (anything that is not a
// table, invalid entries included) once, a table before its children (TablePre) and after them
// (TablePost). The visitor decides what happens to each entry; the walk only moves the cursor
// and stops at the first error. What an entry is and where a table's children are is the
// format's TableGeometry (stage2_geometry.h for arm64 stage 2, ept_geometry.h for x86 EPT).
#pragma once

#include <cerrno>
#include <concepts>
#include <cstdint>
#include <type_traits>

#include "mmu/walker/mm_ops.h"
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

// How a walk treats what its visitors change, beyond the kinds of visit.
struct WalkFlags {
  // Descend into what a table entry holds after its TablePre visit rather than before it. The
  // arm64 kvm_pgtable walk reads the entry once, so a table detached in TablePre still has its
  // children walked (that is how unmap releases them); x86's tdp_iter re-reads the entry when it
  // steps down, so a table zapped or replaced by a huge page is not entered.
  bool reread_after_table_pre = false;
  // Tables at this level are visited but not entered (tdp_iter's min_level); kNoFloor: none.
  unsigned floor_level = kNoFloor;
  // An entry is in the range when its first address is below the end (tdp_iter compares the
  // entry's gfn), not the cursor: the same unless the walk starts at or past its end, where
  // tdp_iter still visits the entries whose range holds the start.
  bool range_by_entry_start = false;
  // A visitor's -EAGAIN is not an error: the walk goes on with the next entry (arm64 6.12's
  // walks outside a fault handler, which take -EAGAIN as "nothing to do here").
  bool eagain_continues = false;
  // Called before each read of an entry (nullptr: nothing). arm64 6.12's walks make each read
  // a scheduling point of a concurrent run, as the kernel's READ_ONCE is (walk.h), so that the
  // walker reads the same entries in the same order as the kernel under one schedule.
  void (*before_read)(const MmOps& mm, const Pte* ptep) = nullptr;
  static constexpr unsigned kNoFloor = ~0u;
};

// What a format tells the walk. Levels are the format's own numbers; child_level() says which
// way they run.
template <typename G>
concept TableGeometry = requires(const G& g, uint64_t addr, unsigned level, unsigned page,
                                 Pte pte) {
  // Ranges reaching beyond this are refused with -ERANGE before anything is visited.
  { g.addr_limit() } -> std::convertible_to<uint64_t>;
  // The level of the root pages, the number of root pages (concatenated, contiguous), the root
  // page translating addr, and the page itself (nullptr: the table does not exist).
  { g.root_level() } -> std::convertible_to<unsigned>;
  { g.root_pages() } -> std::convertible_to<unsigned>;
  { g.root_page_index(addr) } -> std::convertible_to<unsigned>;
  { g.root_page(page) } -> std::same_as<Pte*>;
  { g.entries_per_table() } -> std::convertible_to<unsigned>;
  { g.table_index(addr, level) } -> std::convertible_to<unsigned>;
  { g.granule_size(level) } -> std::convertible_to<uint64_t>;
  { g.is_table(pte, level) } -> std::convertible_to<bool>;
  { g.table_phys(pte) } -> std::convertible_to<uint64_t>;
  { g.child_level(level) } -> std::convertible_to<unsigned>;
  // Where the cursor goes after an entry that is not entered, from the cursor inside it.
  { g.next_entry_addr(addr, level) } -> std::convertible_to<uint64_t>;
};

// What a visitor is shown. addr is the walk's cursor when it reached the entry: inside the
// entry's range but aligned only to a page when the walk started in the middle of it.
struct VisitedEntry {
  Visit visit;
  uint64_t addr;
  uint64_t end;  // the end of the walk's whole range
  unsigned level;
  Pte* ptep;
  // What the walk read from the entry before this visit (the kernel's ctx->old): a visitor of a
  // shared walk decides from it, and swaps it for its new value only if the entry still holds it.
  Pte old;
};

// A visitor returns 0 to go on or a negative errno to stop the walk with it.
template <typename V>
concept EntryVisitor = requires(V& v, const VisitedEntry& e) {
  { v(e) } -> std::convertible_to<int>;
};

namespace detail {

template <TableGeometry G, EntryVisitor V>
class TableWalk {
 public:
  TableWalk(const G& geometry, const MmOps& mm, uint64_t addr, uint64_t end, VisitSet visits,
            WalkFlags flags, V& visitor)
      : g_(geometry),
        mm_(mm),
        addr_(addr),
        end_(end),
        visits_(visits),
        flags_(flags),
        visitor_(visitor) {}

  int run() {
    // Checked before anything is visited, so an out-of-range call changes nothing. A range
    // whose end wrapped below its start is not an error: it is empty.
    if (addr_ > g_.addr_limit() || end_ > g_.addr_limit()) return -ERANGE;
    if (!g_.root_page(0)) return -EINVAL;
    for (unsigned page = g_.root_page_index(addr_);
         page < g_.root_pages() && in_range(g_.root_level()); ++page) {
      if (int ret = walk_table(g_.root_page(page), g_.root_level())) return ret;
    }
    return 0;
  }

 private:
  int walk_table(Pte* table, unsigned level) {
    for (unsigned idx = g_.table_index(addr_, level);
         idx < g_.entries_per_table() && in_range(level); ++idx) {
      if (int ret = visit_entry(&table[idx], level)) return ret;
    }
    return 0;
  }

  // The first entry out of range ends the walk: the cursor only grows, but an entry's first
  // address taken at a higher level can be below the end again.
  bool in_range(unsigned level) {
    if (!done_) {
      done_ = flags_.range_by_entry_start ? align_down(addr_, g_.granule_size(level)) >= end_
                                          : addr_ >= end_;
    }
    return !done_;
  }

  int visit_entry(Pte* ptep, unsigned level) {
    const uint64_t addr = addr_;
    // Read once, before TablePre (unless the flags say otherwise): a visitor that detaches a
    // table there still has its children walked, which is how they get released.
    Pte pte = read(ptep);
    const Pte old = pte;
    bool table = g_.is_table(pte, level);
    int ret = 0;

    if (table && visits_.contains(Visit::TablePre)) {
      ret = visitor_(VisitedEntry{Visit::TablePre, addr, end_, level, ptep, old});
      if (flags_.reread_after_table_pre) {
        pte = read(ptep);
        table = g_.is_table(pte, level);
      }
    } else if (!table && visits_.contains(Visit::Leaf)) {
      ret = visitor_(VisitedEntry{Visit::Leaf, addr, end_, level, ptep, old});
      // A leaf visitor may have installed a table in place of the leaf (or, on a shared walk,
      // another walker may have): walk into it.
      pte = read(ptep);
      table = g_.is_table(pte, level);
    }
    ret = go_on(ret);
    if (ret) return ret;

    if (!table || level == flags_.floor_level) {
      addr_ = g_.next_entry_addr(addr_, level);
      return 0;
    }

    if ((ret = walk_table(mm_.phys_to_virt(g_.table_phys(pte)), g_.child_level(level)))) {
      return ret;
    }

    if (visits_.contains(Visit::TablePost)) {
      ret = go_on(visitor_(VisitedEntry{Visit::TablePost, addr, end_, level, ptep, old}));
    }
    return ret;
  }

  Pte read(const Pte* ptep) const {
    if (flags_.before_read) flags_.before_read(mm_, ptep);
    // Acquire, as the kernel shim's READ_ONCE: the child table read through this entry was
    // zeroed by whoever linked it, maybe another vCPU's thread.
    return __atomic_load_n(ptep, __ATOMIC_ACQUIRE);
  }

  // The visitor's return code as the walk takes it: 0 goes on.
  int go_on(int ret) const { return flags_.eagain_continues && ret == -EAGAIN ? 0 : ret; }

  const G& g_;
  const MmOps& mm_;
  uint64_t addr_;
  const uint64_t end_;
  const VisitSet visits_;
  const WalkFlags flags_;
  V& visitor_;
  bool done_ = false;
};

}  // namespace detail

// Walks [start, end) of a table of geometry G: both page-aligned already. 0, -ERANGE when either
// end lies beyond the geometry's limit, -EINVAL when the table does not exist, or the visitor's
// error.
template <TableGeometry G, EntryVisitor V>
int walk_range(const G& geometry, const MmOps& mm, uint64_t start, uint64_t end, VisitSet visits,
               WalkFlags flags, V&& visitor) {
  detail::TableWalk<G, std::remove_reference_t<V>> w(geometry, mm, start, end, visits, flags,
                                                     visitor);
  return w.run();
}

}  // namespace mmudiff::walker

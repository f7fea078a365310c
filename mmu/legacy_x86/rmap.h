// SPDX-License-Identifier: GPL-2.0-only
// Reverse maps: gfn -> the leaf SPTE that maps it, as x86 KVM's slot->arch.rmap. Write-protect,
// dirty clearing, aging and leaf zapping find their SPTEs here instead of walking the tables.
//
// A TDP table maps each gfn at most once, so an rmap holds one SPTE per leaf, keyed by the leaf's
// first gfn. Invariant: every rmap entry is a present leaf SPTE; the operations trust it as the
// Shadow MMU trusts its rmaps, so a stale entry shows up as a wrong store. The map is ordered:
// the TDP MMU visits leaves in gfn order, and walking a gfn range of an ordered map reproduces
// that order (and so the order of the stores) without reading a table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "mmu/legacy_x86/shadow_page.h"

namespace mmudiff::legacy_x86 {

struct SpteRef {
  KvmMmuPage* sp = nullptr;
  uint16_t index = 0;

  uint64_t& spte() const { return sp->spt[index]; }
  unsigned level() const { return sp->level(); }
  uint64_t gfn() const { return sp->entry_gfn(index); }
  uint64_t end_gfn() const { return gfn() + pages_at(level()); }
  bool operator==(const SpteRef&) const = default;
};

class Rmap {
 public:
  void add(SpteRef ref) { by_gfn_[ref.gfn()] = ref; }
  // Only the entry for exactly this SPTE: a split's first child has its parent's gfn.
  void remove(SpteRef ref);
  // Every entry into one table: a zapped table takes them all, stale ones included.
  void remove_table(const KvmMmuPage& sp);
  void clear() { by_gfn_.clear(); }
  const SpteRef* find(uint64_t gfn) const;
  size_t size() const { return by_gfn_.size(); }

  // The leaves the TDP MMU's walk over [start, end) meets, at or above min_level, in gfn order:
  // those overlapping the range, and the one holding `start` if it starts before `end` -- even
  // when the range is empty. A copy, so the caller may zap or split.
  std::vector<SpteRef> overlapping(uint64_t start, uint64_t end, unsigned min_level = 1) const;

  template <class Visit>
  void for_each(Visit&& visit) const {
    for (const auto& [gfn, ref] : by_gfn_) visit(gfn, ref);
  }
  // The entries keyed in [start, end).
  template <class Visit>
  void for_each_keyed(uint64_t start, uint64_t end, Visit&& visit) const {
    for (auto it = by_gfn_.lower_bound(start); it != by_gfn_.end() && it->first < end; ++it)
      visit(it->first, it->second);
  }

 private:
  std::map<uint64_t, SpteRef> by_gfn_;
};

}  // namespace mmudiff::legacy_x86

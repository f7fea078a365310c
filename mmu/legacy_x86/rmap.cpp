// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/legacy_x86/rmap.h"

#include <iterator>

namespace mmudiff::legacy_x86 {

void Rmap::remove(SpteRef ref) {
  auto it = by_gfn_.find(ref.gfn());
  if (it != by_gfn_.end() && it->second == ref) by_gfn_.erase(it);
}

void Rmap::remove_table(const KvmMmuPage& sp) {
  auto it = by_gfn_.lower_bound(sp.gfn);
  const uint64_t end = sp.gfn + table_gfn_span(sp.level());
  while (it != by_gfn_.end() && it->first < end)
    it = it->second.sp == &sp ? by_gfn_.erase(it) : std::next(it);
}

const SpteRef* Rmap::find(uint64_t gfn) const {
  auto it = by_gfn_.find(gfn);
  return it == by_gfn_.end() ? nullptr : &it->second;
}

std::vector<SpteRef> Rmap::overlapping(uint64_t start, uint64_t end, unsigned min_level) const {
  std::vector<SpteRef> out;
  auto it = by_gfn_.upper_bound(start);
  if (it != by_gfn_.begin()) {
    // The TDP iterator starts at the SPTE holding `start` and stops at the first SPTE at or past
    // `end`: a huge page holding `start` is visited even by an empty range, if it starts before
    // `end`.
    const SpteRef& before = std::prev(it)->second;
    if (before.end_gfn() > start && before.gfn() < end && before.level() >= min_level)
      out.push_back(before);
  }
  for (; it != by_gfn_.end() && it->first < end; ++it)
    if (it->second.level() >= min_level) out.push_back(it->second);
  return out;
}

}  // namespace mmudiff::legacy_x86

// SPDX-License-Identifier: GPL-2.0-only
// The IPA ranges a check after one operation has to look at: where a table, or the reference
// model, may have changed since the last check (oracles/table_delta.h). Everywhere else the last
// check's verdict still holds, so --every-op costs what the operation changed, not what the table
// holds. The walks, the invariants and the model's translation take an optional IpaWindows and
// keep to it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "oracles/translation.h"

namespace mmudiff {

class IpaWindows {
 public:
  struct Range {
    uint64_t lo, hi;  // [lo, hi)
    bool operator==(const Range&) const = default;
  };

  // Everything: what a new table, or a model that started again, leaves to be checked.
  static IpaWindows all() {
    IpaWindows w;
    w.add(0, ~uint64_t{0});
    return w;
  }

  // [lo, hi), merged with the ranges it overlaps or touches. Empty ranges are ignored.
  void add(uint64_t lo, uint64_t hi);
  void add(const IpaWindows& other);
  void clear() { ranges_.clear(); }

  bool empty() const { return ranges_.empty(); }

  // Calls f(i), in order, for each i < n whose entry [base + i * size, + size) reaches into the
  // windows: a page's entries are found per window, not tested one by one.
  template <typename F>
  void for_each_entry(uint64_t base, uint64_t size, unsigned n, F&& f) const {
    const uint64_t end = base + n * size;
    unsigned next = 0;
    for (auto r = first_ending_after(base); r != ranges_.end() && r->lo < end; ++r) {
      const unsigned first = r->lo <= base ? 0 : static_cast<unsigned>((r->lo - base) / size);
      const unsigned last =
          r->hi >= end ? n : static_cast<unsigned>((r->hi - base + size - 1) / size);
      for (unsigned i = std::max(first, next); i < last; ++i) f(i);
      next = std::max(next, last);
    }
  }
  const std::vector<Range>& ranges() const { return ranges_; }

  // What t says inside the windows: mappings and annotations cut at the windows' edges (a
  // mapping's PA moves with its IPA), normalised. Two translations equal inside the windows are
  // equal after this, however the leaves that hold them are split.
  Translation clipped(const Translation& t) const;

 private:
  std::vector<Range>::const_iterator first_ending_after(uint64_t ipa) const;

  std::vector<Range> ranges_;  // sorted, disjoint, not touching
};

// within->for_each_entry(...), or f(i) for every i < n when there are no windows.
template <typename F>
void for_each_entry(const IpaWindows* within, uint64_t base, uint64_t size, unsigned n, F&& f) {
  if (within)
    within->for_each_entry(base, size, n, f);
  else
    for (unsigned i = 0; i < n; ++i) f(i);
}

}  // namespace mmudiff

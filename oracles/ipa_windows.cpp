// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/ipa_windows.h"

#include <algorithm>

namespace mmudiff {

void IpaWindows::add(uint64_t lo, uint64_t hi) {
  if (hi <= lo) return;
  // The first range that ends at or after lo: it and the ones after it that start at or before
  // hi become one.
  auto first = std::lower_bound(ranges_.begin(), ranges_.end(), lo,
                                [](const Range& r, uint64_t v) { return r.hi < v; });
  auto last = first;
  while (last != ranges_.end() && last->lo <= hi) {
    lo = std::min(lo, last->lo);
    hi = std::max(hi, last->hi);
    ++last;
  }
  if (first == last) {
    ranges_.insert(first, Range{lo, hi});
    return;
  }
  *first = Range{lo, hi};
  ranges_.erase(first + 1, last);
}

void IpaWindows::add(const IpaWindows& other) {
  for (const Range& r : other.ranges_) add(r.lo, r.hi);
}

std::vector<IpaWindows::Range>::const_iterator IpaWindows::first_ending_after(uint64_t ipa) const {
  return std::upper_bound(ranges_.begin(), ranges_.end(), ipa,
                          [](uint64_t v, const Range& x) { return v < x.hi; });
}

Translation IpaWindows::clipped(const Translation& t) const {
  Translation out;
  // Both lists are sorted by IPA, as the windows are: one pass over each.
  auto cut = [this](const auto& items, auto* into, auto make) {
    auto w = ranges_.begin();
    for (const auto& item : items) {
      const uint64_t end = item.ipa + item.size;
      while (w != ranges_.end() && w->hi <= item.ipa) ++w;
      for (auto v = w; v != ranges_.end() && v->lo < end; ++v) {
        const uint64_t lo = std::max(item.ipa, v->lo), hi = std::min(end, v->hi);
        into->push_back(make(item, lo, hi - lo));
      }
    }
  };
  cut(t.mappings, &out.mappings, [](const Mapping& m, uint64_t ipa, uint64_t size) {
    return Mapping{ipa, size, m.pa + (ipa - m.ipa), m.attrs};
  });
  cut(t.annotations, &out.annotations, [](const OwnerAnnotation& a, uint64_t ipa, uint64_t size) {
    return OwnerAnnotation{ipa, size, a.descriptor};
  });
  normalise(&out);
  return out;
}

}  // namespace mmudiff

// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/table_delta.h"

#include <algorithm>

namespace mmudiff {

void TableDelta::clear() {
  seen_.clear();
  root_ = TableRoot{};
}

void TableDelta::update(const TableRoot& root, const SimMemory& memory,
                        const TableHashCache& hashes, IpaWindows* changed) {
  if (!root.live()) {
    clear();
    return;
  }
  if (!root.same_shape(root_) || root.pgd_pa != root_.pgd_pa) {
    clear();
    root_ = root;
  }
  memory_ = &memory;
  hashes_ = &hashes;
  changed_ = changed;
  const DescriptorFormat& f = *root.format;
  kinds_.resize(size_t{f.levels()} * f.entries_per_table());
  const uint64_t per_page = f.root_page_span(root.start_level);
  for (unsigned p = 0; p < root.pgd_pages; ++p)
    visit(root.pgd_pa + p * f.page_size(), root.start_level, p * per_page);
  memory_ = nullptr;
  hashes_ = nullptr;
  changed_ = nullptr;
}

void TableDelta::visit(uint64_t pa, unsigned level, uint64_t base) {
  const DescriptorFormat& f = *root_.format;
  const unsigned n = f.entries_per_table();
  const uint64_t granule = f.granule_size(level);
  auto [it, fresh] = seen_.try_emplace({base, level});
  Seen& seen = it->second;
  const bool known = !fresh && seen.entries.size() == n;
  // Not rehashed by the cache's update for this check: nothing in the subtree changed.
  if (known && seen.pa == pa && hashes_->subtree_hash(pa, level) && !hashes_->rehashed(pa, level))
    return;
  const uint64_t* t = memory_->table_page(pa);
  if (!t) {
    // Not a table page (a dangling link): whatever is there is new to the check.
    changed_->add(base, base + n * granule);
    forget(base, base + n * granule, level);
    return;
  }
  if (!known) changed_->add(base, base + n * granule);
  std::span<DescriptorKind> kinds(kinds_.data() + level * n, n);
  f.classify_page({t, n}, level, kinds);
  for (unsigned i = 0; i < n; ++i) {
    const uint64_t ipa = base + i * granule;
    const bool table = kinds[i] == DescriptorKind::Table;
    const bool same = known && t[i] == seen.entries[i];
    if (same) {
      // The same link as at the last check, to a subtree the cache did not rehash: as it was.
      if (table && hashes_->rehashed(f.next_table_address(t[i], level), level + 1))
        visit(f.next_table_address(t[i], level), level + 1, ipa);
      continue;
    }
    if (known) {
      changed_->add(ipa, ipa + granule);
      const bool was_table = f.classify(seen.entries[i], level) == DescriptorKind::Table;
      // What was under the old table is not under this entry any more; and a table where there
      // was none brings pages older than the last check's back into place.
      if (was_table != table) forget(ipa, ipa + granule, level + 1);
    }
    if (table) visit(f.next_table_address(t[i], level), level + 1, ipa);
  }
  // visit() of the children may have rebalanced the map, but references to its elements stay.
  seen.pa = pa;
  seen.entries.assign(t, t + n);
}

void TableDelta::forget(uint64_t lo, uint64_t hi, unsigned from_level) {
  for (auto it = seen_.lower_bound({lo, 0}); it != seen_.end() && it->first.first < hi;)
    it = it->first.second >= from_level ? seen_.erase(it) : std::next(it);
}

}  // namespace mmudiff

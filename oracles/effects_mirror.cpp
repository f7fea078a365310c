// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/effects_mirror.h"

namespace mmudiff {

bool EffectsMirror::reset(const TableRoot& ref, const TableRoot& mine) {
  clear();
  format_ = ref.format;
  if (!ref.same_shape(mine)) return false;
  for (unsigned p = 0; p < ref.pgd_pages; ++p)
    correspond(ref.pgd_pa + p * format_->page_size(), mine.pgd_pa + p * format_->page_size());
  return true;
}

void EffectsMirror::clear() {
  mine_of_.clear();
  ref_of_.clear();
  last_ = kNoPair;
}

bool EffectsMirror::correspond(uint64_t ref_page, uint64_t my_page) {
  // Stores come in runs into one page.
  if (ref_page == last_.first && my_page == last_.second) return true;
  auto mine = mine_of_.find(ref_page);
  if (mine != mine_of_.end() && mine->second == my_page) last_ = {ref_page, my_page};
  if (mine != mine_of_.end()) return mine->second == my_page;
  if (ref_of_.count(my_page)) return false;
  mine_of_.emplace(ref_page, my_page);
  ref_of_.emplace(my_page, ref_page);
  last_ = {ref_page, my_page};
  return true;
}

void EffectsMirror::forget(uint64_t ref_page) {
  auto mine = mine_of_.find(ref_page);
  if (mine == mine_of_.end()) return;
  if (last_.first == ref_page) last_ = kNoPair;
  ref_of_.erase(mine->second);
  mine_of_.erase(mine);
}

bool EffectsMirror::same_value(uint64_t ref, uint64_t mine, bool table, unsigned level) {
  // Equal to a value the checker did not mask, it is classified alike.
  if (!table) return ref == mine;
  const DescriptorFormat& f = *format_;
  if (f.classify(mine, level) != DescriptorKind::Table) return false;
  const uint64_t address = f.table_address_mask(level);
  return (ref & ~address) == (mine & ~address) &&
         correspond(f.next_table_address(ref, level), f.next_table_address(mine, level));
}

bool EffectsMirror::follow(std::span<const Effect> ref, const EffectsChecker& ref_checker,
                           std::span<const Effect> mine, std::span<const PageFree> ref_frees,
                           std::span<const PageFree> my_frees) {
  const auto& records = ref_checker.event_records();
  const auto& detached = ref_checker.detached_pages();
  if (ref.size() != mine.size() || records.size() != ref.size()) return false;
  if (ref_frees.size() != my_frees.size()) return false;
  for (size_t i = 0; i < ref_frees.size(); ++i)
    if (ref_frees[i].after != my_frees[i].after) return false;
  const uint64_t low = format_->page_size() - 1;
  uint32_t forgotten = 0;
  size_t next_free = 0;
  auto frees_until = [&](size_t position) {
    for (; next_free < ref_frees.size() && ref_frees[next_free].after <= position; ++next_free) {
      if (!correspond(ref_frees[next_free].pa, my_frees[next_free].pa)) return false;
      forget(ref_frees[next_free].pa);
    }
    return true;
  };
  for (size_t k = 0; k < ref.size(); ++k) {
    if (!frees_until(k)) return false;
    const Effect& r = ref[k];
    const Effect& m = mine[k];
    if (r.kind != EffectKind::Store) {
      if (!(r == m)) return false;
      continue;
    }
    const EffectsChecker::EventRecord& rec = records[k];
    if (m.kind != EffectKind::Store || (r.addr & low) != (m.addr & low) ||
        !correspond(r.addr & ~low, m.addr & ~low) ||
        !same_value(r.old_value, m.old_value, rec.old_table, rec.level))
      return false;
    // The checker detaches the old value's subtree before it links the new one.
    for (; forgotten < rec.detached_end; ++forgotten) forget(detached[forgotten]);
    if (!same_value(r.new_value, m.new_value, rec.new_table, rec.level)) return false;
  }
  return frees_until(ref.size());
}

}  // namespace mmudiff

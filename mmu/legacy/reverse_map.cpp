// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/legacy/reverse_map.h"

namespace mmudiff::legacy {

void ReverseMap::add(uint64_t leaf_ipa, LeafRef leaf) {
  uint64_t frame = frame_of(leaf_ipa);
  auto hint = last_added_ == by_frame_.end() ? by_frame_.end() : std::next(last_added_);
  last_added_ = by_frame_.insert_or_assign(hint, frame, leaf);
}

void ReverseMap::remove(uint64_t leaf_ipa) {
  auto it = by_frame_.find(frame_of(leaf_ipa));
  if (it == by_frame_.end()) return;
  if (it == last_added_) last_added_ = by_frame_.end();
  by_frame_.erase(it);
}

void ReverseMap::remove(uint64_t leaf_ipa, LeafRef leaf) {
  const LeafRef* found = find(leaf_ipa);
  if (found && *found == leaf) remove(leaf_ipa);
}

void ReverseMap::remove_range(uint64_t start, uint64_t end) {
  auto first = by_frame_.lower_bound(frame_of(start));
  auto last = by_frame_.lower_bound(frame_of(end));
  last_added_ = by_frame_.end();
  by_frame_.erase(first, last);
}

const LeafRef* ReverseMap::find(uint64_t leaf_ipa) const {
  auto it = by_frame_.find(frame_of(leaf_ipa));
  return it == by_frame_.end() ? nullptr : &it->second;
}

}  // namespace mmudiff::legacy

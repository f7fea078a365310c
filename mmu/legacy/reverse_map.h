// SPDX-License-Identifier: GPL-2.0-only
// Reverse maps: guest frame -> the leaf descriptor that maps it, as x86 KVM's rmaps. Write-protect,
// aging and cache flushing find their leaves here instead of walking the tables.
//
// A stage-2 table maps each guest frame at most once, so a frame has at most one leaf and the map
// is keyed by the frame of the leaf's first page. It is ordered: the kernel touches leaves in
// address order, and iterating an ordered map over a range reproduces that order (and so the order
// of the hardware effects) without looking at a single table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>

#include "mmu/legacy/shadow_page.h"

namespace mmudiff::legacy {

struct LeafRef {
  ShadowPage* table = nullptr;
  uint16_t index = 0;

  uint64_t& descriptor() const { return table->entries[index]; }
  unsigned level() const { return table->level(); }
  uint64_t ipa() const { return table->entry_ipa(index); }
  bool operator==(const LeafRef&) const = default;
};

class ReverseMap {
 public:
  void add(uint64_t leaf_ipa, LeafRef leaf);
  void remove(uint64_t leaf_ipa);
  // The frame's record only if it is still `leaf`'s.
  void remove(uint64_t leaf_ipa, LeafRef leaf);
  // Every leaf in [start, end): a zapped subtree's leaves are one such range.
  void remove_range(uint64_t start, uint64_t end);
  void clear() {
    by_frame_.clear();
    last_added_ = by_frame_.end();
  }
  const LeafRef* find(uint64_t leaf_ipa) const;
  size_t size() const { return by_frame_.size(); }

  // Every leaf whose extent overlaps [start, end), in IPA order; the first may begin before start
  // (a block the range starts inside). The visitor may rewrite descriptors but not add or remove
  // leaves.
  template <class Visit>
  void for_each_overlapping(uint64_t start, uint64_t end, Visit&& visit) const {
    if (start >= end) return;  // an empty range touches nothing, not even a block around start
    auto it = by_frame_.upper_bound(frame_of(start));
    if (it != by_frame_.begin()) {
      auto before = std::prev(it);
      const LeafRef& leaf = before->second;
      if (leaf.ipa() + arm64s2::granule_size(leaf.level()) > start) visit(leaf);
    }
    for (; it != by_frame_.end() && it->second.ipa() < end; ++it) visit(it->second);
  }

  template <class Visit>
  void for_each(Visit&& visit) const {
    for (const auto& [frame, leaf] : by_frame_) visit(frame << arm64s2::kPageShift, leaf);
  }

 private:
  static uint64_t frame_of(uint64_t ipa) { return ipa >> arm64s2::kPageShift; }

  using Frames = std::map<uint64_t, LeafRef>;
  Frames by_frame_;
  // Maps fill a range in ascending order: the next leaf usually goes right after the last one.
  Frames::iterator last_added_ = by_frame_.end();
};

}  // namespace mmudiff::legacy

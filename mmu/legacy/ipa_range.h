// SPDX-License-Identifier: GPL-2.0-only
// The IPA range an operation covers, normalised the way every kvm_pgtable operation does it.
#pragma once

#include <cstdint>

#include "mmu/format/arm64_s2.h"

namespace mmudiff::legacy {

struct IpaRange {
  uint64_t start = 0;
  uint64_t end = 0;  // exclusive; may be <= start after a wraparound, and then the range is empty

  bool empty() const { return start >= end; }
};

// Start aligned down to a page, end page-aligned up, both in 64-bit arithmetic: a size that wraps
// past 2^64 yields an empty range rather than an error, as it does in the kernel.
inline IpaRange page_range(uint64_t addr, uint64_t size) {
  constexpr uint64_t kPageMask = arm64s2::kPageSize - 1;
  uint64_t start = addr & ~kPageMask;
  uint64_t end = (start + size + kPageMask) & ~kPageMask;
  return {start, end};
}

inline uint64_t align_down(uint64_t value, uint64_t alignment) {
  return value & ~(alignment - 1);
}
inline bool is_aligned(uint64_t value, uint64_t alignment) {
  return (value & (alignment - 1)) == 0;
}

}  // namespace mmudiff::legacy

// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/ops/x86_leaf_estimate.h"

#include <algorithm>

#include "mmu/format/x86_ept.h"

namespace mmudiff {

namespace {

namespace ept = x86ept;

// [addr, addr + size) in whole pages, cut at the top of the address space.
std::pair<uint64_t, uint64_t> page_range(uint64_t addr, uint64_t size) {
  uint64_t start = addr & ~(ept::kPageSize - 1);
  uint64_t end = addr + size < addr ? ~uint64_t{0} & ~(ept::kPageSize - 1)
                                    : (addr + size + ept::kPageSize - 1) & ~(ept::kPageSize - 1);
  return {start, std::max(start, end)};
}

}  // namespace

void X86LeafEstimate::forget(uint64_t start, uint64_t end) {
  if (start >= end) return;
  std::erase_if(huge_, [&](const std::pair<uint64_t, unsigned>& leaf) {
    return leaf.first < end && leaf.first + ept::level_size(leaf.second) > start;
  });
}

uint64_t X86LeafEstimate::add(const Op& op, const x86::EptConfig& vm, uint64_t cap) {
  switch (op.kind) {
    case OpKind::Init:
    case OpKind::Destroy:
    case OpKind::ZapAll:
      huge_.clear();
      return 0;
    case OpKind::ZapLeafs: {
      auto [start, end] = page_range(op.addr, op.size);
      forget(start, end);
      return 0;
    }
    case OpKind::Fault: {
      // The deepest of what the fault asks, the VM allows and the host backs; faults outside the
      // slot install a 4K MMIO SPTE.
      unsigned level = std::min<unsigned>({op.level ? op.level : ept::kMaxLeafLevel, vm.max_level,
                                           vm.host_level, ept::kMaxLeafLevel});
      if (level > ept::kPageLevel) {
        uint64_t gpa = op.addr & ~(ept::level_size(level) - 1);
        forget(gpa, gpa + ept::level_size(level));
        huge_.insert({gpa, level});
      }
      return std::min<uint64_t>(1, cap);
    }
    case OpKind::Split: {
      const unsigned target = std::max<unsigned>(op.level, ept::kPageLevel);
      auto [start, end] = page_range(op.addr, op.size);
      if (start >= end) return 0;
      uint64_t leaves = 0;
      std::set<std::pair<uint64_t, unsigned>> pieces;
      for (auto it = huge_.begin(); it != huge_.end();) {
        auto [gpa, level] = *it;
        if (level <= target || gpa >= end || gpa + ept::level_size(level) <= start) {
          ++it;
          continue;
        }
        const uint64_t n = ept::level_size(level) / ept::level_size(target);
        leaves += n;
        if (target > ept::kPageLevel)
          for (uint64_t i = 0; i < n; ++i)
            pieces.insert({gpa + i * ept::level_size(target), target});
        it = huge_.erase(it);
        if (leaves >= cap) break;
      }
      huge_.merge(pieces);
      return std::min(leaves, cap);
    }
    default:
      return 0;
  }
}

}  // namespace mmudiff

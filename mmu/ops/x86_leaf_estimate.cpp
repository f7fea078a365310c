// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/ops/x86_leaf_estimate.h"

#include <algorithm>

#include "mmu/format/x86_ept.h"
#include "mmu/x86/fault_flags.h"

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

uint64_t X86LeafEstimate::split(uint64_t gpa, unsigned level, unsigned target, uint64_t start,
                                uint64_t end, uint64_t cap) {
  const unsigned child = level - 1;
  const uint64_t size = ept::level_size(child);
  uint64_t made = ept::kEntriesPerTable;
  for (uint64_t i = 0; i < ept::kEntriesPerTable && made < cap; ++i) {
    const uint64_t at = gpa + i * size;
    if (child > target && at < end && at + size > start)
      made += split(at, child, target, start, end, cap - made);
    else if (child > ept::kPageLevel)
      huge_.insert({at, child});
  }
  return made;
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
      // The largest of what the fault asks, the VM allows and the host backs; 4K under dirty
      // logging, for an instruction fetch under the NX huge page mitigation, and outside the
      // slot (an MMIO SPTE).
      unsigned level = std::min<unsigned>({op.level ? op.level : ept::kMaxLeafLevel, vm.max_level,
                                           vm.host_level, ept::kMaxLeafLevel});
      const bool in_slot = op.addr >= vm.slot_base && op.addr - vm.slot_base < vm.slot_size;
      if ((op.prot & x86::kFaultDirtyLogging) ||
          (vm.nx_huge_pages && (op.prot & x86::kFaultExec)) || !in_slot)
        level = ept::kPageLevel;
      if (level > ept::kPageLevel) {
        uint64_t gpa = op.addr & ~(ept::level_size(level) - 1);
        forget(gpa, gpa + ept::level_size(level));
        huge_.insert({gpa, level});
      }
      return std::min<uint64_t>(1, cap);
    }
    case OpKind::Split: {
      // tdp_mmu_split_huge_pages_root: every huge leaf above the target that meets the range.
      const unsigned target = std::max<unsigned>(op.level, ept::kPageLevel);
      auto [start, end] = page_range(op.addr, op.size);
      if (start >= end) return 0;
      std::vector<std::pair<uint64_t, unsigned>> reached;
      for (const auto& leaf : huge_)
        if (leaf.second > target && leaf.first < end &&
            leaf.first + ept::level_size(leaf.second) > start)
          reached.push_back(leaf);
      uint64_t leaves = 0;
      for (const auto& leaf : reached) {
        huge_.erase(leaf);
        if (leaves < cap)
          leaves += split(leaf.first, leaf.second, target, start, end, cap - leaves);
      }
      return std::min(leaves, cap);
    }
    default:
      return 0;
  }
}

}  // namespace mmudiff

// SPDX-License-Identifier: GPL-2.0-only
// The work budget's view of an x86 stream (mmu/ops/work_budget.h): an upper estimate of the
// leaves each TDP MMU operation installs. A fault installs one leaf, at most at the level its
// configuration allows. An eager split turns each huge leaf it meets into 512 a level down, and
// those of them still in its range and above its target again (tdp_mmu_split_huge_pages_root), so
// the huge leaves faults and splits may have left are tracked by GPA and level (zaps forget them;
// a recovery installs nothing).
#pragma once

#include <cstdint>
#include <set>
#include <utility>

#include "mmu/ops/op.h"
#include "mmu/x86/ept_config.h"

namespace mmudiff {

class X86LeafEstimate {
 public:
  // The leaves `op` installs on a table of `vm`, at most `cap`.
  uint64_t add(const Op& op, const x86::EptConfig& vm, uint64_t cap);

 private:
  void forget(uint64_t start, uint64_t end);  // the huge leaves that intersect [start, end)
  // Splits the huge leaf (gpa, level) for a split of [start, end) to `target`: the leaves made,
  // counted up to about `cap`. The pieces left huge are remembered.
  uint64_t split(uint64_t gpa, unsigned level, unsigned target, uint64_t start, uint64_t end,
                 uint64_t cap);

  std::set<std::pair<uint64_t, unsigned>> huge_;  // (GPA, SDM level) of leaves at level >= 2
};

}  // namespace mmudiff

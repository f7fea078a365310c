// SPDX-License-Identifier: GPL-2.0-only
// The reference model's verdict on a concurrent section (mmu/ops/sections.h): its operations ran
// interleaved, so no one order is the right one, but a correct table behaves as if they had run
// one at a time in some order that keeps each vCPU's own order. This finds such an order: one in
// which the model gives every operation the result the backend returned, and ends translating
// what the backend's table does. An operation that lost its race (-EAGAIN from a shared walk, or
// an mkyoung whose store lost) changed nothing and takes no place in the order; a map on a vCPU
// is one leaf, as a fault's is (mmu/ops/sections.h), so there is no half of it. A lockless
// get_leaf that found no valid leaf may have read the tables of a map still under way.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <vector>

#include "mmu/ops/op.h"
#include "mmu/ops/sections.h"
#include "oracles/arm64_reference_model.h"

namespace mmudiff {

struct Linearization {
  // The stream indices of the section's operations in the order found; those that changed
  // nothing are left out.
  std::vector<size_t> order;
  ReferenceModel model;  // the model after that order
};

struct LinearizabilityVerdict {
  std::optional<Linearization> found;
  // false: the search gave up after kMaxModelSteps operations on the model without an answer.
  bool decided = true;
  size_t steps = 0;
};

inline constexpr size_t kMaxModelSteps = 20000;

// BEFORE: the model before the section; RESULTS[i - section.begin]: what operation i returned;
// END_TABLES: the table pages the backend's table has after the section (a map that lost its
// race keeps the tables it installed: a map in the order may find them, and the model after the
// section has them, ReferenceModel::adopt_tables); ENDS_AS_OBSERVED: whether a model's translation
// is the backend's table's.
LinearizabilityVerdict linearize(
    const ReferenceModel& before, const Stream& stream, const Section& section,
    const std::vector<OpResult>& results, const std::vector<ModelTable>& end_tables,
    const std::function<bool(const ReferenceModel&)>& ends_as_observed);

}  // namespace mmudiff

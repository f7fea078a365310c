// SPDX-License-Identifier: GPL-2.0-only
// The reference model's verdict on a concurrent section (mmu/ops/sections.h): its operations ran
// interleaved, so no one order is the right one, but a correct table behaves as if they had run
// one at a time in some order that keeps each vCPU's own order. This finds such an order: one in
// which the model gives every operation the result the backend returned, and ends translating
// what the backend's table does. An operation that lost its race (-EAGAIN from a shared walk, or
// an mkyoung whose store lost) changed nothing and takes no place in the order; a map on a vCPU
// is one leaf, as a fault's is (mmu/ops/sections.h), so there is no half of it. A lockless
// get_leaf that found no valid leaf may have read the tables of a map still under way.
//
// Races of the kernel's own are allowed beyond that. They leave tables (and results) no serial
// order gives, and are harmless to a stage 2, where a vCPU refaults what is not mapped:
//  - a shared walk stores to an entry (a fault its block, relax_perms its permissions); before
//    the walk reloads the entry, a smaller fault on another vCPU replaces it by a table holding
//    its page; the walk descends into that table, a fault mapping leaves of its own range there
//    (over the other's page, if their PAs differ), and may return -EAGAIN although its store was
//    there for a while (a get_leaf or mkyoung may have read it, or a leaf of its range);
//  - a fault stores its leaf into a table another vCPU's block has just unlinked (the table is
//    freed only after the grace period), returns 0, and its leaf is gone with the table;
//  - a fault whose walk reloads an entry after visiting it as a table and finds another vCPU's
//    block there skips it: it returns 0 and maps nothing;
//  - a fault that loses its race keeps the tables it installed, and another vCPU's fault may map
//    in them without the cache it would otherwise need, though a block removes them later.
// So when no order ends as observed, a second search allows a map or relax_perms that returned
// -EAGAIN to have taken effect, a map that returned 0 to have done nothing, and a get_leaf or
// mkyoung to have read a leaf a map of the section asked for; and an order ends as observed
// whose model, less leaves (and then empty table pages) the section made that the backend's
// table lacks, plus leaves a map of the section asked for (perhaps relaxed by a relax_perms of
// it) where the model has none, is the backend's table, leaf for leaf where the section's maps
// reach (Linearization::settled counts those leaves). Strict still: every result some order must
// explain; a leaf from before the section must stay unless an operation of the order removes it;
// a leaf at a PA or with attributes no operation asked for is a finding; and outside the
// section's maps, the translation must be the order's.
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
  // Leaves the section made that the backend's table lacks, which the model has forgotten, and
  // leaves of the backend's table no order gave, each one a map of the section asked for, which
  // the model has taken on (the races above).
  size_t settled = 0;
};

// A valid leaf of the backend's table after the section: its entry and its descriptor.
struct ObservedLeaf {
  unsigned level;
  uint64_t base;
  uint64_t raw;
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
// section has them, ReferenceModel::adopt_tables); END_LEAVES: its valid leaves (only those within
// the section's maps matter); ENDS_AS_OBSERVED: whether a model's translation is the backend's
// table's.
LinearizabilityVerdict linearize(
    const ReferenceModel& before, const Stream& stream, const Section& section,
    const std::vector<OpResult>& results, const std::vector<ModelTable>& end_tables,
    const std::vector<ObservedLeaf>& end_leaves,
    const std::function<bool(const ReferenceModel&)>& ends_as_observed);

}  // namespace mmudiff

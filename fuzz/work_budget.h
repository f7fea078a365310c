// SPDX-License-Identifier: GPL-2.0-only
// How much work a stream asks of the backends, counted in leaves it may install. A fuzzed stream's
// cost is dominated by leaves: a 1 GiB map with force_pte is 262144 page descriptors in every
// backend, in the reference model and in every oracle's walk, where the same map without it is
// one block. Bugs show on a handful of leaves around a boundary, not on a million of them, so the
// fuzz targets refuse streams above a budget (before running anything: whatever they do run
// replays identically with `mmudiff run`) and the mutator keeps its streams under it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "mmu/ops/op.h"

namespace mmudiff {

// Leaves a fuzzed stream may install in total: two full level-3 tables' worth plus room.
inline constexpr uint64_t kFuzzLeafBudget = 1536;
// The table-page bound the fuzz targets give each backend (HarnessOptions::limits.max_pages).
// Within the leaf budget a stream needs a few hundred at most (16 concatenated start pages,
// two tables for each of at most kMaxFuzzOps far-apart maps); a stream that needs more is refused
// by the harness, not reported.
inline constexpr size_t kFuzzMaxTablePages = 512;

// Upper estimate of the leaves map and set_owner install for `op` on a table of `config`,
// following Linux 6.1's block choice (largest granule at level >= 1 that fits the remaining range
// with IPA and PA aligned; pages only under force_pte and for set_owner). Stops counting at `cap`.
uint64_t op_leaf_cost(const Op& op, const Config& config, uint64_t cap);

// The sum over the stream, tracking init's configuration; stops counting at `cap`.
uint64_t stream_leaf_cost(const Stream& stream, uint64_t cap = kFuzzLeafBudget + 1);

inline bool within_fuzz_budget(const Stream& stream) {
  return stream_leaf_cost(stream) <= kFuzzLeafBudget;
}

// Shrinks the sizes of map and set_owner operations (last first) until the stream fits the
// budget; returns false if it could not (it always can: size 4K costs one leaf).
bool fit_fuzz_budget(Stream* stream);

}  // namespace mmudiff

// SPDX-License-Identifier: GPL-2.0-only
// The streams the overhead ratio is measured on: 256 random 64-operation arm64 streams (seed 64)
// that the harness runs to the end. One it refuses at the memory bound stops early there and would
// make the harness look cheaper than the backends running the whole stream alone.
#pragma once

#include <vector>

#include "mmu/ops/op.h"

namespace mmudiff::bench {

const std::vector<Stream>& streams64();

// Operations in one segment of segmented_streams(): a stream of streams64() and a destroy.
inline constexpr size_t kSegmentOps = 65;
// All of streams64(), each followed by a destroy, in 256 / segments streams of `segments` of them
// (1, 2, 4, ... 256). Every length runs the same operations on tables of the same sizes, so what
// the cost per operation does with the length is the harness's own doing (state that grows with
// the stream). The work budget holds each segment, not the whole: run them without it.
const std::vector<Stream>& segmented_streams(size_t segments);

}  // namespace mmudiff::bench

// SPDX-License-Identifier: GPL-2.0-only
// The denominator of every oracle-overhead ratio: the backends of the stream's architecture alone,
// each running the whole stream, with no oracle. Machines come from the pool, as the harness takes
// them, so both sides pay the same for table memory.
#pragma once

#include "mmu/ops/op.h"

namespace mmudiff::bench {

void run_backends_only(const Stream& stream);

}  // namespace mmudiff::bench

// SPDX-License-Identifier: GPL-2.0-only
// Mutations of an arm64-6.12 stream's concurrency: its sections (mmu/ops/sections.h) and their
// schedules (mmu/sched/schedule.h). The races that matter are two vCPUs at one address with a
// switch between one's read of an entry and its compare-and-swap; operations drawn at random
// rarely line up like that, so these mutations move toward it: a schedule gains, loses or shifts
// a preemption, a shared walk moves onto a vCPU, a section opens, a fresh one is inserted, and a
// vCPU's operation is copied onto another vCPU at its address.
#pragma once

#include <random>

#include "mmu/ops/op.h"

namespace mmudiff {

// One such mutation of an arm64-6.12 STREAM, normalized after (normalize_sections), at most
// MAX_OPS long. False where the mutation drawn had nothing to work on, or the stream is of
// another profile: such a stream is left as it is and never gets a vCPU.
bool mutate_sections(Stream* stream, std::mt19937_64& rng, size_t max_ops);

}  // namespace mmudiff

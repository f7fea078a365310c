// SPDX-License-Identifier: GPL-2.0-only
// Structure-aware mutation: decode the input to operations, change whole operations (insert,
// delete, duplicate, swap, tweak one operand toward an interesting value), encode again. Byte-level
// mutation of the binary form mostly produces streams that fail early; this keeps inputs
// meaningful. libFuzzer's LLVMFuzzerCustomMutator and the AFL++ custom mutator both call it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>

#include "mmu/ops/op.h"

namespace mmudiff {

// Mutates `stream` in place; the result is never empty and at most kMaxFuzzOps long.
void mutate_stream(Stream* stream, std::mt19937_64& rng);

// Crossover: a prefix of one, a suffix of the other.
Stream cross_streams(const Stream& a, const Stream& b, std::mt19937_64& rng);

// The fuzzers keep streams short: long ones are slow and minimise worse.
inline constexpr size_t kMaxFuzzOps = 128;

// bytes in, bytes out, for the engines' C interfaces. Returns the new size (<= max_size). The
// result stays within the fuzz targets' work budget (mmu/ops/work_budget.h).
size_t mutate_bytes(uint8_t* data, size_t size, size_t max_size, unsigned seed);
// Crossover of two inputs into `out` (at most max_size bytes); returns its size.
size_t cross_bytes(std::span<const uint8_t> a, std::span<const uint8_t> b, uint8_t* out,
                   size_t max_size, unsigned seed);

}  // namespace mmudiff

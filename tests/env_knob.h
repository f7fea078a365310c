// SPDX-License-Identifier: GPL-2.0-only
// A number a long run sets in the environment (MMUDIFF_*_STREAMS, _SEED, ...) so that the same
// test binary runs a bulk or sharded campaign; the test's own default otherwise.
#pragma once

#include <cstdint>
#include <cstdlib>

namespace mmudiff::testing {

// $name as a number (decimal, 0x hex or 0 octal), or fallback when it is unset or empty.
inline uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 0) : fallback;
}

}  // namespace mmudiff::testing

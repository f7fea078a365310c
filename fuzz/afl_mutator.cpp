// SPDX-License-Identifier: GPL-2.0-only
// The structure-aware mutator (fuzz/mutator.h) behind AFL++'s custom mutator interface, built as
// a small shared library for AFL_CUSTOM_MUTATOR_LIBRARY. AFL++ still runs its own havoc stages
// unless AFL_CUSTOM_MUTATOR_ONLY is set; this adds whole-operation edits and crossover with the
// second input AFL++ hands over. The library is not coverage-instrumented: it runs inside
// afl-fuzz, not inside the target.
#include <cstdint>
#include <cstring>
#include <new>
#include <random>
#include <span>
#include <vector>

#include "fuzz/mutator.h"

namespace {

struct AflMutator {
  std::mt19937_64 rng;
  std::vector<uint8_t> out;
};

}  // namespace

extern "C" {

void* afl_custom_init(void* /*afl*/, unsigned int seed) {
  auto* m = new (std::nothrow) AflMutator{std::mt19937_64(seed), {}};
  return m;
}

size_t afl_custom_fuzz(void* data, uint8_t* buf, size_t buf_size, uint8_t** out_buf,
                       uint8_t* add_buf, size_t add_buf_size, size_t max_size) {
  auto* m = static_cast<AflMutator*>(data);
  m->out.resize(max_size);
  auto seed = static_cast<unsigned>(m->rng());
  size_t n;
  // One time in eight, splice with the other input before mutating.
  if (add_buf && add_buf_size && m->rng() % 8 == 0) {
    n = mmudiff::cross_bytes(std::span<const uint8_t>(buf, buf_size),
                             std::span<const uint8_t>(add_buf, add_buf_size), m->out.data(),
                             max_size, seed);
  } else {
    n = std::min(buf_size, max_size);
    std::memcpy(m->out.data(), buf, n);
  }
  n = mmudiff::mutate_bytes(m->out.data(), n, max_size, static_cast<unsigned>(m->rng()));
  *out_buf = m->out.data();
  return n;
}

void afl_custom_deinit(void* data) {
  delete static_cast<AflMutator*>(data);
}

}  // extern "C"

// SPDX-License-Identifier: GPL-2.0-only
// The fuzz entry point shared by libFuzzer and AFL++ (through libAFLDriver): bytes -> operation
// stream -> every backend in lockstep -> oracles. Any finding aborts with its signature first, so
// the engine keeps the input, and through the oracle's own function (fuzz/finding_stop.h), so a
// cluster deduplicating crashes by their stack can tell findings apart. The same source is built
// plain, with ASan+UBSan, and with afl-clang-fast; MMUDIFF_BACKENDS and MMUDIFF_PLANT select
// what runs (fuzz/target_options.h).
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <random>
#include <span>

#include <fmt/format.h>

#include "fuzz/finding_stop.h"
#include "fuzz/mutator.h"
#include "fuzz/target_options.h"
#include "mmu/ops/binary_format.h"
#include "mmu/ops/work_budget.h"
#include "oracles/harness.h"

namespace {

const mmudiff::HarnessOptions& options() {
  static const mmudiff::HarnessOptions o = [] {
    try {
      return mmudiff::fuzz_target_options_from_env();
    } catch (const std::exception& e) {
      fmt::print(stderr, "stream_fuzzer: {}\n", e.what());
      std::exit(2);
    }
  }();
  return o;
}

const std::optional<mmudiff::ProfileId>& only_profile() {
  static const std::optional<mmudiff::ProfileId> a = [] {
    try {
      return mmudiff::fuzz_target_profile_from_env();
    } catch (const std::exception& e) {
      fmt::print(stderr, "stream_fuzzer: {}\n", e.what());
      std::exit(2);
    }
  }();
  return a;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // A bad MMUDIFF_BACKENDS, MMUDIFF_PLANT or MMUDIFF_ARCH stops the engine before it starts.
  options();
  only_profile();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mmudiff::Stream stream = mmudiff::decode_binary(std::span(data, size));
  // Over-budget streams are refused before anything runs (-1: libFuzzer keeps them out of the
  // corpus), so every input that does run replays identically outside the fuzzer.
  if (!mmudiff::within_work_budget(stream)) return -1;
  // A campaign for one profile (MMUDIFF_ARCH) keeps no stream of another.
  if (only_profile() && mmudiff::stream_profile(stream) != *only_profile()) return -1;
  mmudiff::StreamReport report = mmudiff::run_stream(stream, options());
  if (report.findings.empty()) return 0;
  mmudiff::stop_on_finding(*report.worst(), stream);
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned seed) {
  return mmudiff::mutate_bytes(data, size, max_size, seed);
}

extern "C" size_t LLVMFuzzerCustomCrossOver(const uint8_t* data1, size_t size1,
                                            const uint8_t* data2, size_t size2, uint8_t* out,
                                            size_t max_out_size, unsigned seed) {
  return mmudiff::cross_bytes(std::span(data1, size1), std::span(data2, size2), out, max_out_size,
                              seed);
}

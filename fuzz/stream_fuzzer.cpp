// SPDX-License-Identifier: GPL-2.0-only
// The fuzz entry point shared by libFuzzer and AFL++ (through libAFLDriver): bytes -> operation
// stream -> every backend in lockstep -> oracles. Any finding aborts with its signature first, so
// the engine keeps the input and a cluster can tell findings apart.
#include <cstdio>
#include <cstdlib>
#include <span>

#include <fmt/format.h>

#include "fuzz/mutator.h"
#include "mmu/ops/binary_format.h"
#include "mmu/ops/text_format.h"
#include "oracles/harness.h"

namespace {

mmudiff::HarnessOptions fuzz_options() {
  mmudiff::HarnessOptions o;
  if (const char* b = std::getenv("MMUDIFF_BACKENDS")) {
    std::string s(b);
    for (size_t pos = 0; pos <= s.size();) {
      size_t comma = s.find(',', pos);
      if (comma == std::string::npos) comma = s.size();
      if (comma > pos) o.backends.push_back(s.substr(pos, comma - pos));
      pos = comma + 1;
    }
  }
  // Small tables keep every input fast; larger streams are refused, not reported.
  o.limits.max_pages = 2048;
  // A fixed key: a crash file must replay to the same verdict with 'mmudiff run'.
  for (size_t i = 0; i < o.hash_key.size(); ++i) o.hash_key[i] = static_cast<uint8_t>(i);
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const mmudiff::HarnessOptions options = fuzz_options();
  mmudiff::Stream stream = mmudiff::decode_binary(std::span(data, size));
  mmudiff::StreamReport report = mmudiff::run_stream(stream, options);
  if (report.findings.empty()) return 0;
  const mmudiff::Finding& w = *report.worst();
  fmt::print(stderr, "MMUDIFF FINDING [{}] at operation #{}: {}\n", w.signature(), w.op_index,
             w.summary);
  for (const auto& e : w.evidence) fmt::print(stderr, "    {}\n", e);
  fmt::print(stderr, "stream:\n{}", mmudiff::format_stream(stream));
  std::fflush(stderr);
  std::abort();
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned seed) {
  return mmudiff::mutate_bytes(data, size, max_size, seed);
}

// SPDX-License-Identifier: GPL-2.0-only
// How much of each backend's code a campaign reached. Only the backends carry the fuzzers'
// coverage instrumentation, and a fuzz target's engine counts their edges together; which
// backend an edge belongs to is in its source file. A libFuzzer build replaying the corpus with
// -print_coverage=1 lists every instrumented function with its file and its covered/total
// edges: this sums that list per backend.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace mmudiff {

struct CodeCoverage {
  uint64_t functions = 0, functions_covered = 0;
  uint64_t edges = 0, edges_covered = 0;
};

// "walker", "legacy", "linux61" or "linux612" (the adapter and the kernel's own pgtable.c), or
// "your trees" (a developer's tree's pgtable.c, mmu/kernel_trees) for a source file of an arm64
// backend, "x86-ept/walker", "x86-ept/legacy" or "x86-ept/linux612-tdp" (the adapter
// and the kernel's own tdp_mmu.c, tdp_iter.c, spte.c) for an x86 one; "" for anything else, such
// as a standard-library header inlined into one.
std::string_view backend_of_source(std::string_view path);

// Per backend, from libFuzzer's -print_coverage=1 output; code no backend owns is under "".
// Throws InputError ("WHAT:LINE: ...") for a function line it cannot read.
std::map<std::string, CodeCoverage> parse_libfuzzer_coverage(std::string_view output,
                                                             std::string_view what);

// coverage.json (mmudiff/coverage-1) for a replay of `inputs` inputs.
nlohmann::json coverage_json(const std::map<std::string, CodeCoverage>& by_backend, uint64_t inputs,
                             std::string_view target);

}  // namespace mmudiff

// SPDX-License-Identifier: GPL-2.0-only
// How the fuzz target stops on a finding: through a function of its own for each oracle, so that
// whatever deduplicates crashes by their stack (ClusterFuzz's crash state, libFuzzer's
// DEDUP_TOKEN and -minimize_crash, AFL++ triage tools) tells an effects finding from a
// masked-hash one. Every stop function is extern "C" (its name in a stack is the same under any
// compiler), never inlined, and writes its own constant to a volatile, so no identical-code
// folding can merge two of them.
#pragma once

#include <string_view>

#include "mmu/ops/op.h"
#include "oracles/verdict.h"

namespace mmudiff {

// The stop function's symbol for an oracle: "mmudiff_found_masked_hash" for "masked-hash";
// "mmudiff_found_other_oracle" for a name this build does not know.
std::string_view finding_stop_symbol(std::string_view oracle);

// Its address (distinct for every oracle the target knows; tests check they were not merged).
using FindingStopFn = void (*)(const char* report);
FindingStopFn finding_stop_function(std::string_view oracle);

// Prints the finding (signature, operation, evidence) and the stream to stderr, then aborts
// through finding_stop_function(worst.oracle), which first prints its own stack where a sanitizer
// runtime is linked, so the first stack (and DEDUP_TOKEN) of the report starts at it.
[[noreturn]] void stop_on_finding(const Finding& worst, const Stream& stream);

}  // namespace mmudiff

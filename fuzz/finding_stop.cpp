// SPDX-License-Identifier: GPL-2.0-only
#include "fuzz/finding_stop.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "mmu/ops/text_format.h"

// Provided by every sanitizer runtime and by libFuzzer's; absent (null) in a plain AFL++ or g++
// build, where the abort's own stack is all there is.
extern "C" void __sanitizer_print_stack_trace() __attribute__((weak));

namespace {

// Which stop function ran. Each writes its own constant: two functions whose bodies differ can
// never be folded into one by the compiler's or the linker's identical-code folding.
volatile uint32_t g_stopped_by = 0;

}  // namespace

// One stop function per oracle. The stack printed here starts at the stop function (below the
// runtime's own frame), so DEDUP_TOKEN, which libFuzzer takes from the first stack of a report,
// names the oracle; libFuzzer's own stack for the abort that follows starts in its signal handler,
// which is the same for every crash.
#define MMUDIFF_FINDING_STOP(fn, tag)                                      \
  extern "C" [[gnu::noinline, gnu::used, noreturn]] void fn(const char*) { \
    g_stopped_by = tag;                                                    \
    if (__sanitizer_print_stack_trace) __sanitizer_print_stack_trace();    \
    std::fflush(stderr);                                                   \
    std::abort();                                                          \
  }

MMUDIFF_FINDING_STOP(mmudiff_found_return_codes, 1)
MMUDIFF_FINDING_STOP(mmudiff_found_reference_model, 2)
MMUDIFF_FINDING_STOP(mmudiff_found_masked_hash, 3)
MMUDIFF_FINDING_STOP(mmudiff_found_translation, 4)
MMUDIFF_FINDING_STOP(mmudiff_found_invariants, 5)
MMUDIFF_FINDING_STOP(mmudiff_found_effects, 6)
MMUDIFF_FINDING_STOP(mmudiff_found_memory, 7)
MMUDIFF_FINDING_STOP(mmudiff_found_warnings, 8)
MMUDIFF_FINDING_STOP(mmudiff_found_effects_trace, 9)
MMUDIFF_FINDING_STOP(mmudiff_found_hang, 10)
MMUDIFF_FINDING_STOP(mmudiff_found_zero_check, 12)
MMUDIFF_FINDING_STOP(mmudiff_found_interleaving, 13)
MMUDIFF_FINDING_STOP(mmudiff_found_other_oracle, 11)

#undef MMUDIFF_FINDING_STOP

namespace mmudiff {

namespace {

struct Stop {
  std::string_view oracle;
  std::string_view symbol;
  FindingStopFn fn;
};

#define MMUDIFF_STOP_ENTRY(oracle, fn) \
  Stop {                               \
    oracle, #fn, fn                    \
  }
// The oracles of oracle_list() (oracles/harness.h), then those being added; a name missing here
// stops in mmudiff_found_other_oracle (tests/finding_stop_test.cpp checks the list is covered).
constexpr Stop kStops[] = {
    MMUDIFF_STOP_ENTRY("return-codes", mmudiff_found_return_codes),
    MMUDIFF_STOP_ENTRY("reference-model", mmudiff_found_reference_model),
    MMUDIFF_STOP_ENTRY("masked-hash", mmudiff_found_masked_hash),
    MMUDIFF_STOP_ENTRY("translation", mmudiff_found_translation),
    MMUDIFF_STOP_ENTRY("invariants", mmudiff_found_invariants),
    MMUDIFF_STOP_ENTRY("effects", mmudiff_found_effects),
    MMUDIFF_STOP_ENTRY("memory", mmudiff_found_memory),
    MMUDIFF_STOP_ENTRY("warnings", mmudiff_found_warnings),
    MMUDIFF_STOP_ENTRY("effects-trace", mmudiff_found_effects_trace),
    MMUDIFF_STOP_ENTRY("hang", mmudiff_found_hang),
    MMUDIFF_STOP_ENTRY("zero-check", mmudiff_found_zero_check),
    MMUDIFF_STOP_ENTRY("interleaving", mmudiff_found_interleaving),
};
constexpr Stop kOther = MMUDIFF_STOP_ENTRY("", mmudiff_found_other_oracle);
#undef MMUDIFF_STOP_ENTRY

const Stop& stop_for(std::string_view oracle) {
  for (const Stop& s : kStops)
    if (s.oracle == oracle) return s;
  return kOther;
}

}  // namespace

std::string_view finding_stop_symbol(std::string_view oracle) {
  return stop_for(oracle).symbol;
}

FindingStopFn finding_stop_function(std::string_view oracle) {
  return stop_for(oracle).fn;
}

void stop_on_finding(const Finding& worst, const Stream& stream) {
  std::string signature = worst.signature();
  const Stop& stop = stop_for(worst.oracle);
  fmt::print(stderr, "MMUDIFF FINDING [{}] at operation #{}: {}\n", signature, worst.op_index,
             worst.summary);
  for (const auto& e : worst.evidence) fmt::print(stderr, "    {}\n", e);
  fmt::print(stderr, "stream:\n{}", format_stream(stream));
  fmt::print(stderr, "MMUDIFF STOP in {}\n", stop.symbol);
  std::fflush(stderr);
  stop.fn(signature.c_str());
  std::abort();  // not reached: every stop function aborts
}

}  // namespace mmudiff

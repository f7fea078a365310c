// SPDX-License-Identifier: GPL-2.0-only
// A schedule: where a concurrent run switches from one vCPU to another. It is input, like the
// operations: the fuzzer mutates it, a reproducer carries it, and the same schedule gives the
// same interleaving on every run (mmu/sched/deterministic_scheduler.h).
//
// Each preemption says: once AFTER more scheduling points have been passed (counted from the
// previous switch, or from the start), the running vCPU gives way to vCPU TO at the next one. A
// point comes before the access it marks, so AFTER is how many of them the vCPU makes. Written
// "AFTER>TO", space-separated: "1>1 3>0" lets vCPU 0 make one access, vCPU 1 three, then vCPU 0
// goes on. A schedule with few preemptions is short to write and to mutate, and most concurrency
// bugs need only a few.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mmudiff::sched {

inline constexpr unsigned kMaxVcpus = 8;

struct Preemption {
  uint32_t after = 0;
  uint8_t to = 0;
  bool operator==(const Preemption&) const = default;
};

using Schedule = std::vector<Preemption>;

// "1>1 3>0"; "" for the empty schedule (each vCPU runs to its end in turn).
std::string schedule_text(const Schedule& schedule);

// The schedule TEXT spells, or false with *error saying what is wrong at which column (1-based).
bool parse_schedule(std::string_view text, Schedule* schedule, std::string* error);

}  // namespace mmudiff::sched

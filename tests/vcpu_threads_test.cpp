// SPDX-License-Identifier: GPL-2.0-only
// The vCPU threads of a run (mmu/sched/vcpu_threads.h): every one runs and is joined; and when the
// machine cannot start one, the caller hears how many were started, those finish, and the error
// reaches the caller rather than ending the process with threads still running.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <system_error>
#include <vector>

#include "mmu/sched/vcpu_threads.h"
#include "tests/sanitizer_scale.h"

namespace mmudiff::sched {
namespace {

TEST(VcpuThreads, EveryVcpuRunsOnItsOwnThreadAndIsJoined) {
  std::vector<std::atomic<int>> ran(5);
  std::atomic<int> distinct{0};
  run_vcpu_threads(
      5,
      [&](unsigned v) {
        ran[v].fetch_add(1);
        thread_local bool seen = false;
        if (!seen) distinct.fetch_add(1);
        seen = true;
      },
      [](size_t) { FAIL() << "every thread starts"; });
  for (auto& r : ran) EXPECT_EQ(r.load(), 1);
  EXPECT_EQ(distinct.load(), 5);
}

// With room in the address space for about one more thread stack (8 MiB each), the first vCPU
// starts and the second cannot. Exits with what it saw: 10 + the count NOT_STARTED was given,
// once every started vCPU has finished.
[[noreturn]] void start_four_with_room_for_one() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  unsigned long pages = 0;
  if (!f || std::fscanf(f, "%lu", &pages) != 1) std::_Exit(2);
  std::fclose(f);
  const rlim_t room = pages * 4096 + (12 << 20);
  const rlimit limit{room, room};
  if (setrlimit(RLIMIT_AS, &limit) != 0) std::_Exit(3);
  std::atomic<int> finished{0};
  size_t started = 99;
  try {
    run_vcpu_threads(
        4, [&](unsigned) { finished.fetch_add(1); }, [&](size_t n) { started = n; });
  } catch (const std::system_error&) {
    if (finished.load() != static_cast<int>(started)) std::_Exit(4);
    std::_Exit(10 + static_cast<int>(started));
  }
  std::_Exit(5);
}

TEST(VcpuThreads, AThreadThatCannotStartIsReportedAndTheStartedOnesFinish) {
  if (mmudiff::testing::kSanitized)
    GTEST_SKIP() << "the sanitizers reserve their shadow memory: an address-space limit is theirs";
  // A fresh process: in a fork, the stacks the other tests' threads left in glibc's cache would
  // start more threads without new memory.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(start_four_with_room_for_one(), ::testing::ExitedWithCode(11), "");
}

}  // namespace
}  // namespace mmudiff::sched

// SPDX-License-Identifier: GPL-2.0-only
// Concurrent sections on real threads (HarnessOptions::threads, `mmudiff soak --threads`): the
// vCPUs really run at once, a deferred free waits for all of them, and two faults racing on one
// address leave every lane linearizable and its memory sound, however the race went.
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "mmu/ops/text_format.h"
#include "mmu/sched/deterministic_scheduler.h"
#include "mmu/sched/threaded_run.h"
#include "oracles/harness.h"
#include "tests/cli_runner.h"

namespace mmudiff {
namespace {

using sched::ThreadedRun;

// Spins until FLAG is set, for at most about a second; whether it was.
bool wait_for(const std::atomic<bool>& flag) {
  for (long i = 0; i < 200'000'000 && !flag.load(); ++i) {
  }
  return flag.load();
}

TEST(ThreadedRun, VcpusRunAtOnceAndACallRcuWaitsForEveryOne) {
  std::atomic<bool> zero_in{false}, one_in{false}, freed{false}, one_done{false};
  bool zero_met_one = false, one_met_zero = false, freed_too_early = false;
  ThreadedRun run;
  const sched::ThreadedOutcome outcome = run.run({
      [&] {
        zero_in = true;
        // Only a vCPU running at the same time can answer: one run after the other would not.
        zero_met_one = wait_for(one_in);
        sched::DeterministicScheduler::call_rcu([&] { freed = true; });
        freed_too_early = freed.load();
        one_done.store(true);
      },
      [&] {
        one_in = true;
        one_met_zero = wait_for(zero_in);
        sched::DeterministicScheduler::rcu_read_lock();
        EXPECT_EQ(ThreadedRun::current_vcpu(), 1u);
        EXPECT_TRUE(sched::DeterministicScheduler::in_read_side(1));
        // vCPU 0's call_rcu came while this vCPU may have been reading: not yet.
        wait_for(one_done);
        freed_too_early = freed_too_early || freed.load();
        sched::DeterministicScheduler::rcu_read_unlock();
      },
  });
  EXPECT_TRUE(zero_met_one);
  EXPECT_TRUE(one_met_zero);
  EXPECT_FALSE(freed_too_early);
  EXPECT_TRUE(freed.load());
  EXPECT_EQ(outcome.deferred, 1u);
  for (const auto& failure : outcome.failures) EXPECT_FALSE(failure);
  // Outside a run a call_rcu frees at once, as in a serial stream.
  bool now = false;
  sched::DeterministicScheduler::call_rcu([&] { now = true; });
  EXPECT_TRUE(now);
  EXPECT_EQ(ThreadedRun::current(), nullptr);
}

TEST(ThreadedSections, TwoFaultsOnOneAddressAreLinearizableHoweverTheyRace) {
  if (!find_backend("linux612", ProfileId::Arm64Linux612)) GTEST_SKIP() << "linux612 not built";
  // Two vCPUs fault the same page on an empty table: both build the tables down to it, one
  // installs each table, the other loses its cmpxchg and retries (-EAGAIN) or finds it.
  const Stream stream = parse_text(
      "init kernel=6.12\n"
      "schedule\n"
      "vcpu 0: map 0x40000000 4K pa=0x80000000 prot=r sw=0 mc=64 flags=shared,fault\n"
      "vcpu 1: map 0x40000000 4K pa=0x80000000 prot=rw sw=0 mc=64 flags=shared,fault\n"
      "vcpu 1: get_leaf 0x40000000\n",
      "t.mmu");
  HarnessOptions options;
  options.backends = {"linux612", "walker"};
  options.threads = 2;
  ThreadedStats total;
  size_t apart = 0;
  for (int rep = 0; rep < 300; ++rep) {
    const StreamReport r = run_stream(stream, options);
    ASSERT_TRUE(r.equivalent()) << "repetition " << rep << ": " << r.worst()->summary;
    ASSERT_EQ(r.threaded.sections, 2u);
    for (const auto& lane : r.results) {
      // Whichever ran first on the empty table mapped the page.
      EXPECT_TRUE(lane[1].ret == 0 || lane[2].ret == 0) << "repetition " << rep;
      for (size_t i : {1u, 2u}) EXPECT_TRUE(lane[i].ret == 0 || lane[i].ret == -EAGAIN);
    }
    total.lost_cmpxchgs += r.threaded.lost_cmpxchgs;
    total.eagain += r.threaded.eagain;
    apart += r.threaded.raced_apart;
  }
  // Not asserted: whether the threads raced is the machine's to decide.
  std::printf("300 repetitions: %llu lost cmpxchgs, %zu -EAGAIN, %zu raced apart\n",
              static_cast<unsigned long long>(total.lost_cmpxchgs), total.eagain, apart);
}

TEST(ThreadedSections, OnlyArm64Linux612HasThem) {
  for (const char* profile : {"arm64-6.1", "x86-ept"}) {
    const testing::CliResult r =
        testing::run_cli(std::string("soak -n 1 --threads 2 --out ") + ::testing::TempDir() +
                         "/threaded-refused --profile " + profile);
    EXPECT_NE(r.status, 0) << profile;
    EXPECT_NE(r.out.find("--threads"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << "one line: " << r.out;
  }
}

}  // namespace
}  // namespace mmudiff

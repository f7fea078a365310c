// SPDX-License-Identifier: GPL-2.0-only
// The deterministic scheduler (mmu/sched/deterministic_scheduler.h): vCPUs switch only where the
// schedule says, so a race appears or not by the schedule alone and replays bit for bit; and a
// schedule's text form (mmu/sched/schedule.h).
#include "mmu/sched/deterministic_scheduler.h"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

namespace mmudiff::sched {
namespace {

Schedule schedule(std::string_view text) {
  Schedule s;
  std::string error;
  EXPECT_TRUE(parse_schedule(text, &s, &error)) << text << ": " << error;
  return s;
}

// Two vCPUs increment one counter without an atomic: a point before the read and one before the
// write, as the kernel shims put one before each access.
struct LostUpdate {
  int counter = 0;
  ConcurrentRun run(const Schedule& s) {
    auto increment = [this] {
      DeterministicScheduler::point("read", &counter);
      const int seen = counter;
      DeterministicScheduler::point("write", &counter);
      counter = seen + 1;
    };
    DeterministicScheduler scheduler(s);
    return scheduler.run({increment, increment});
  }
};

TEST(DeterministicScheduler, WithoutPreemptionEachVcpuRunsToItsEndInTurn) {
  LostUpdate u;
  const ConcurrentRun r = u.run({});
  EXPECT_EQ(u.counter, 2);
  EXPECT_EQ(r.points, 4u);
  EXPECT_TRUE(r.switches.empty());
}

TEST(DeterministicScheduler, APreemptionBetweenReadAndWriteLosesAnUpdate) {
  LostUpdate u;
  const ConcurrentRun r = u.run(schedule("1>1"));
  EXPECT_EQ(u.counter, 1);
  ASSERT_EQ(r.switches.size(), 1u);
  EXPECT_EQ(r.switches[0].point, 2u);
  EXPECT_EQ(r.switches[0].from, 0u);
  EXPECT_EQ(r.switches[0].to, 1u);
  EXPECT_EQ(r.switches[0].what, "write");
  EXPECT_EQ(r.switches[0].addr, reinterpret_cast<uintptr_t>(&u.counter));
  // Before the read instead: vCPU 1 runs whole first, and nothing is lost.
  LostUpdate early;
  early.run(schedule("0>1"));
  EXPECT_EQ(early.counter, 2);
}

TEST(DeterministicScheduler, EveryScheduleReplaysItsInterleavingExactly) {
  std::set<int> outcomes;
  for (uint32_t a = 0; a < 4; ++a)
    for (uint32_t b = 0; b < 4; ++b) {
      const Schedule s = {{a, 1}, {b, 0}};
      LostUpdate first, second;
      const ConcurrentRun r1 = first.run(s), r2 = second.run(s);
      EXPECT_EQ(first.counter, second.counter) << schedule_text(s);
      EXPECT_EQ(r1.points, r2.points) << schedule_text(s);
      ASSERT_EQ(r1.switches.size(), r2.switches.size()) << schedule_text(s);
      for (size_t i = 0; i < r1.switches.size(); ++i) {
        EXPECT_EQ(r1.switches[i].point, r2.switches[i].point);
        EXPECT_EQ(r1.switches[i].from, r2.switches[i].from);
        EXPECT_EQ(r1.switches[i].to, r2.switches[i].to);
        EXPECT_EQ(r1.switches[i].what, r2.switches[i].what);
      }
      outcomes.insert(first.counter);
    }
  EXPECT_EQ(outcomes, (std::set<int>{1, 2}));
}

TEST(DeterministicScheduler, APreemptionToNoRunnableVcpuIsSpentWithoutASwitch) {
  LostUpdate u;
  // vCPU 0 itself, a vCPU that does not exist, then (in vCPU 1) vCPU 0, which has finished.
  const ConcurrentRun r = u.run(schedule("0>0 0>5 1>0"));
  EXPECT_EQ(r.points, 4u);
  EXPECT_EQ(u.counter, 2);
  EXPECT_TRUE(r.switches.empty());
}

TEST(DeterministicScheduler, EachVcpuKnowsItselfAndAPointOutsideARunDoesNothing) {
  EXPECT_EQ(DeterministicScheduler::current_vcpu(), std::nullopt);
  DeterministicScheduler::point("outside", nullptr);
  std::vector<unsigned> seen;
  DeterministicScheduler scheduler(schedule("0>2 0>1 0>0"));
  scheduler.run({[&] {
                   DeterministicScheduler::point("a", nullptr);
                   seen.push_back(*DeterministicScheduler::current_vcpu());
                 },
                 [&] { seen.push_back(*DeterministicScheduler::current_vcpu()); },
                 [&] {
                   DeterministicScheduler::point("c", nullptr);
                   seen.push_back(*DeterministicScheduler::current_vcpu());
                 }});
  // vCPU 0 gives way at its point to 2, 2 at its point to 1, which ends; 2 is next after 1.
  EXPECT_EQ(seen, (std::vector<unsigned>{1, 2, 0}));
}

TEST(DeterministicScheduler, AVcpuThatThrowsIsReportedAndTheOthersStillRun) {
  int ran = 0;
  DeterministicScheduler scheduler(schedule("0>1"));
  const ConcurrentRun r = scheduler.run({[&] {
                                           DeterministicScheduler::point("p", nullptr);
                                           throw std::runtime_error("vcpu 0 failed");
                                         },
                                         [&] { ++ran; }});
  EXPECT_EQ(ran, 1);
  ASSERT_EQ(r.failures.size(), 2u);
  EXPECT_TRUE(r.failures[0]);
  EXPECT_FALSE(r.failures[1]);
}

// A vCPU waiting for another (a retry loop on a locked entry) gives way after kSpinLimit points
// once the schedule has ended, so the run ends.
TEST(DeterministicScheduler, AVcpuSpinningOnAnotherGivesWayAtTheSpinLimit) {
  int flag = 0;
  DeterministicScheduler scheduler({});
  const ConcurrentRun r = scheduler.run({[&] {
                                           for (;;) {
                                             DeterministicScheduler::point("spin", &flag);
                                             if (flag) break;
                                           }
                                         },
                                         [&] { flag = 1; }});
  EXPECT_TRUE(r.spun);
  // vCPU 0 gives way at its (kSpinLimit + 1)th point; vCPU 1 sets the flag and ends; vCPU 0 reads
  // it.
  EXPECT_EQ(r.points, DeterministicScheduler::kSpinLimit + 1);
  ASSERT_EQ(r.switches.size(), 1u);
  EXPECT_EQ(r.switches[0].what, "spin");
}

// RCU made explicit: a free deferred with call_rcu waits for every vCPU that was inside a
// read-side section then, and runs the moment the last of them leaves it.
TEST(DeterministicSchedulerRcu, AFreeWaitsForTheReadersOfItsMomentAndNoOthers) {
  std::vector<std::string> log;
  DeterministicScheduler::call_rcu([&] { log.push_back("outside a run: at once"); });
  ASSERT_EQ(log, std::vector<std::string>{"outside a run: at once"});
  log.clear();

  // vCPU 0 reads inside a section and is preempted there; vCPU 1 unlinks and defers the free;
  // vCPU 2 enters a section only afterwards, so the free does not wait for it.
  DeterministicScheduler scheduler(schedule("0>1 0>2 0>0"));
  const ConcurrentRun r = scheduler.run(
      {[&] {
         DeterministicScheduler::rcu_read_lock();
         DeterministicScheduler::rcu_read_lock();
         DeterministicScheduler::point("walk", nullptr);  // -> vCPU 1
         log.push_back("0 still walks");
         DeterministicScheduler::rcu_read_unlock();
         log.push_back("0 left the inner section");
         DeterministicScheduler::rcu_read_unlock();
         log.push_back("0 left");
       },
       [&] {
         DeterministicScheduler::call_rcu([&] { log.push_back("freed"); });
         DeterministicScheduler::point("after unlink", nullptr);  // -> vCPU 2
         log.push_back("1 ends");
       },
       [&] {
         DeterministicScheduler::rcu_read_lock();
         DeterministicScheduler::point("new walk", nullptr);  // -> vCPU 0, 2 still inside
         DeterministicScheduler::rcu_read_unlock();
       }});
  EXPECT_EQ(log, (std::vector<std::string>{"0 still walks", "0 left the inner section", "freed",
                                           "0 left", "1 ends"}));
  EXPECT_EQ(r.deferred, 1u);
  EXPECT_EQ(r.waited, 1u);
}

TEST(DeterministicSchedulerRcu, ADeferringReaderWaitsForItselfAndAnEndedOneHoldsNothing) {
  std::vector<std::string> log;
  DeterministicScheduler scheduler({});
  const ConcurrentRun r = scheduler.run(
      {[&] {
         DeterministicScheduler::rcu_read_lock();
         DeterministicScheduler::call_rcu([&] { log.push_back("freed after 0's section"); });
         log.push_back("0 in its section");
         DeterministicScheduler::rcu_read_unlock();
         DeterministicScheduler::rcu_read_lock();
         DeterministicScheduler::call_rcu([&] { log.push_back("freed as 0 ended"); });
         log.push_back("0 ends inside a section");
       },
       [&] {
         // Nobody reads: at once.
         DeterministicScheduler::call_rcu([&] { log.push_back("freed at once"); });
       }});
  EXPECT_EQ(log, (std::vector<std::string>{"0 in its section", "freed after 0's section",
                                           "0 ends inside a section", "freed as 0 ended",
                                           "freed at once"}));
  EXPECT_EQ(r.deferred, 3u);
  EXPECT_EQ(r.waited, 2u);
}

TEST(Schedule, TextRoundTripsAndErrorsNameTheColumn) {
  const Schedule s = schedule(" 3>1  0>0 4294967295>7 ");
  EXPECT_EQ(s, (Schedule{{3, 1}, {0, 0}, {4294967295u, 7}}));
  EXPECT_EQ(schedule_text(s), "3>1 0>0 4294967295>7");
  EXPECT_EQ(schedule_text({}), "");
  Schedule out;
  std::string error;
  EXPECT_FALSE(parse_schedule("3>1 x", &out, &error));
  EXPECT_EQ(error, "column 5: expected AFTER>VCPU, AFTER a count of points");
  EXPECT_FALSE(parse_schedule("3-1", &out, &error));
  EXPECT_EQ(error, "column 2: expected '>' after the count");
  EXPECT_FALSE(parse_schedule("3>8", &out, &error));
  EXPECT_EQ(error, "column 3: expected a vCPU number 0-7 after '>'");
  EXPECT_FALSE(parse_schedule("3>1,2>0", &out, &error));
  EXPECT_EQ(error, "column 4: expected a space between preemptions");
  EXPECT_FALSE(parse_schedule("4294967296>1", &out, &error));
}

}  // namespace
}  // namespace mmudiff::sched

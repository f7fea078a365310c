// SPDX-License-Identifier: GPL-2.0-only
// Linux 6.12's shared walks on several vCPUs under the deterministic scheduler
// (mmu/sched/deterministic_scheduler.h): each READ_ONCE, WRITE_ONCE, store-release and cmpxchg of
// the kernel's pgtable.c is a scheduling point (mmu/kvm_arm64_shim/prelude_common.h), so a race
// that threads on two cores almost never lose (../shared/KERNELS.md: 0-4 lost cmpxchgs in 800k
// operations) is one schedule away, and replays exactly.
#include <cerrno>
#include <map>
#include <memory>
#include <set>

#include <gtest/gtest.h>

#include "mmu/backend.h"
#include "mmu/format/arm64_s2.h"
#include "mmu/sched/deterministic_scheduler.h"

#ifdef MMUDIFF_HAVE_LINUX612
#include "mmu/linux612/linux612_backend.h"
#endif

namespace mmudiff {
namespace {

#ifndef MMUDIFF_HAVE_LINUX612

TEST(Linux612Concurrent, NotBuilt) {
  GTEST_SKIP() << "configured with -DMMUDIFF_LINUX612_ARM64=OFF";
}

#else

using namespace arm64s2;
using sched::ConcurrentRun;
using sched::DeterministicScheduler;
using sched::Schedule;

constexpr uint64_t kIpa = 0x4000'0000;

// Two relax_perms of one read-only page, W on vCPU 0 and X on vCPU 1: both are shared walks
// (KVM_PGTABLE_WALK_SHARED | HANDLE_FAULT), each a READ_ONCE of the leaf and a cmpxchg.
struct Race {
  int ret[2] = {-1, -1};
  uint64_t leaf = 0;
  ConcurrentRun run;
};

Race race(const Schedule& schedule) {
  Machine machine;
  std::unique_ptr<Arm64S2Backend> backend = make_linux612_backend(machine, Plant::kNone);
  Arm64S2Config config;
  config.kernel = Arm64Kernel::Linux612;
  EXPECT_EQ(backend->init(config), 0);
  Memcache mc(machine.memory, 8);
  EXPECT_EQ(backend->map(kIpa, 0x1000, kIpa, prot::kR, &mc), 0);
  Race r;
  DeterministicScheduler scheduler(schedule);
  r.run = scheduler.run({[&] { r.ret[0] = backend->relax_perms(kIpa, prot::kW); },
                         [&] { r.ret[1] = backend->relax_perms(kIpa, prot::kX); }});
  uint32_t level = 0;
  EXPECT_EQ(backend->get_leaf(kIpa, &r.leaf, &level), 0);
  EXPECT_EQ(backend->take_warnings(), std::vector<std::string>{});
  backend->destroy();
  EXPECT_EQ(machine.memory.live_pages(), 0u);
  return r;
}

bool writable(uint64_t leaf) {
  return leaf & kS2apW;
}
bool executable(uint64_t leaf) {
  return !(leaf & kXn);
}

TEST(Linux612Concurrent, TwoRelaxPermsLoseACmpxchgOnlyWhereTheScheduleSays) {
  // Alone, one after the other: both succeed, the leaf has both permissions.
  const Race serial = race({});
  EXPECT_EQ(serial.ret[0], 0);
  EXPECT_EQ(serial.ret[1], 0);
  EXPECT_TRUE(writable(serial.leaf) && executable(serial.leaf)) << std::hex << serial.leaf;
  EXPECT_TRUE(serial.run.switches.empty());
  ASSERT_GT(serial.run.points, 2u) << "the kernel's accesses are scheduling points";

  // Every schedule of one switch to vCPU 1 and one back, over all the points vCPU 0 makes.
  std::map<std::pair<int, int>, uint64_t> outcomes;
  std::set<std::string> switch_points;
  for (uint32_t a = 0; a <= serial.run.points; ++a)
    for (uint32_t b = 0; b <= serial.run.points; ++b) {
      const Schedule s = {{a, 1}, {b, 0}};
      const Race r = race(s);
      // Linearizable: what the leaf has is what the walks that returned 0 granted, in either
      // order; one that returned -EAGAIN (its cmpxchg lost to the other's) granted nothing.
      for (int v = 0; v < 2; ++v) EXPECT_TRUE(r.ret[v] == 0 || r.ret[v] == -EAGAIN) << r.ret[v];
      EXPECT_EQ(writable(r.leaf), r.ret[0] == 0) << sched::schedule_text(s);
      EXPECT_EQ(executable(r.leaf), r.ret[1] == 0) << sched::schedule_text(s);
      outcomes[{r.ret[0], r.ret[1]}] = r.leaf;
      for (const sched::Switch& sw : r.run.switches) switch_points.insert(sw.what);

      // The same schedule, the same interleaving: every switch at the same point, the same
      // returns, the same leaf.
      const Race again = race(s);
      EXPECT_EQ(again.ret[0], r.ret[0]);
      EXPECT_EQ(again.ret[1], r.ret[1]);
      EXPECT_EQ(again.leaf, r.leaf);
      ASSERT_EQ(again.run.switches.size(), r.run.switches.size());
      for (size_t i = 0; i < r.run.switches.size(); ++i) {
        EXPECT_EQ(again.run.switches[i].point, r.run.switches[i].point);
        EXPECT_EQ(again.run.switches[i].what, r.run.switches[i].what);
        EXPECT_EQ(again.run.switches[i].to, r.run.switches[i].to);
      }
    }
  // The race is reachable both ways: each vCPU loses its cmpxchg under some schedule.
  EXPECT_TRUE(outcomes.count({0, 0}));
  EXPECT_TRUE(outcomes.count({0, -EAGAIN})) << "vCPU 1 never lost its cmpxchg";
  EXPECT_TRUE(outcomes.count({-EAGAIN, 0})) << "vCPU 0 never lost its cmpxchg";
  EXPECT_TRUE(switch_points.count("cmpxchg"));
  EXPECT_TRUE(switch_points.count("READ_ONCE"));
}

#endif

}  // namespace
}  // namespace mmudiff

// SPDX-License-Identifier: GPL-2.0-only
// Machines go back to their thread's pool reset as new, and come out again for the same limits.
#include "mmu/machine_pool.h"

#include <gtest/gtest.h>

#include "mmu/format/arm64_s2.h"
#include "oracles/harness.h"

namespace mmudiff {
namespace {

TEST(MachinePool, ADroppedMachineComesBackResetForTheSameLimits) {
  MemoryLimits limits{.max_pages = 512, .quarantine = 4};
  Machine* first;
  {
    PooledMachine m = pooled_machine(limits);
    first = m.get();
    ASSERT_NE(m->memory.zalloc_page(), nullptr);
    m->effects.tlbi_vmid();
  }
  PooledMachine again = pooled_machine(limits);
  EXPECT_EQ(again.get(), first);
  EXPECT_EQ(again->memory.live_pages(), 0u);
  EXPECT_EQ(again->effects.size(), 0u);
  EXPECT_TRUE(again->memory.tracks_stores());  // still reports stores for the hash cache
  // Another bound is another machine.
  PooledMachine other = pooled_machine(MemoryLimits{.max_pages = 256, .quarantine = 4});
  EXPECT_NE(other.get(), first);
}

// The harness takes its lanes' machines from the pool: the same stream gives the same report on
// reused machines as on new ones, findings included.
TEST(MachinePool, StreamsRunOnReusedMachinesReportAsOnNewOnes) {
  Op init = init_op();
  Op map;
  map.kind = OpKind::Map;
  map.addr = 0x40000000;
  map.size = 0x200000;
  map.phys = 0x80000000;
  map.prot = arm64s2::prot::kR | arm64s2::prot::kW;
  map.memcache = kDefaultMemcache;
  Op leave;  // no destroy: the table is still live when the run ends
  leave.kind = OpKind::GetLeaf;
  leave.addr = 0x40001000;
  Stream s = {init, map, leave};
  HarnessOptions o;
  StreamReport first = run_stream(s, o);
  for (int i = 0; i < 3; ++i) {
    StreamReport again = run_stream(s, o);
    EXPECT_EQ(again.root_hashes, first.root_hashes);
    EXPECT_EQ(again.results, first.results);
    EXPECT_EQ(again.findings.size(), first.findings.size());
  }
}

}  // namespace
}  // namespace mmudiff

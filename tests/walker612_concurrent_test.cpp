// SPDX-License-Identifier: GPL-2.0-only
// The walker's shared walks (arm64-6.12) against Linux 6.12's own under the deterministic
// scheduler (mmu/sched/deterministic_scheduler.h). The walker marks the same descriptor accesses
// as the kernel shim does (mmu/walker/marked_access.h: each READ_ONCE of the walk, the
// cmpxchg/WRITE_ONCE/smp_store_release of the locked-PTE protocol), so one schedule must give one
// interleaving in both: the same switches at the same accesses, the same returns, the same table.
// Each race runs under every schedule of up to two switches (vCPU 0 gives way to vCPU 1 after
// A points, vCPU 1 gives way back after B), and every outcome is compared.
#include <cerrno>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mmu/backend.h"
#include "mmu/format/arm64_s2.h"
#include "mmu/sched/deterministic_scheduler.h"
#include "mmu/walker/walker_backend.h"
#include "oracles/table_snapshot.h"

#ifdef MMUDIFF_HAVE_LINUX612
#include "mmu/linux612/linux612_backend.h"
#endif

namespace mmudiff {
namespace {

#ifndef MMUDIFF_HAVE_LINUX612

TEST(Walker612Concurrent, NotBuilt) {
  GTEST_SKIP() << "configured with -DMMUDIFF_LINUX612_ARM64=OFF";
}

#else

using namespace arm64s2;
constexpr uint64_t kLockedPte = uint64_t{1} << 10;  // KVM_INVALID_PTE_LOCKED
using sched::ConcurrentRun;
using sched::DeterministicScheduler;
using sched::Schedule;

constexpr uint64_t kIpa = 0x4000'0000;
constexpr uint64_t kPage = 0x1000;
constexpr uint8_t kFault = walk_flag::kShared | walk_flag::kHandleFault;

using MakeBackend = std::unique_ptr<Arm64S2Backend> (*)(Machine&, Plant);

// One backend on a machine of its own, and each vCPU's memory cache (a vCPU's faults allocate
// from its own, as in KVM).
struct World {
  explicit World(MakeBackend make) : backend(make(machine, Plant::kNone)) {
    Arm64S2Config config;
    config.kernel = Arm64Kernel::Linux612;
    EXPECT_EQ(backend->init(config), 0);
  }
  Machine machine;
  std::unique_ptr<Arm64S2Backend> backend;
  Memcache setup_mc{machine.memory, 16};
  Memcache mc[2] = {Memcache(machine.memory, 8), Memcache(machine.memory, 8)};
};

// get_leaf under the RCU read side its caller must hold beside shared walks (the kernel's walk
// takes none: kvm_pgtable_get_leaf is a plain walk), packed into one value to compare.
uint64_t leaf_under_rcu(World& w, uint64_t addr) {
  DeterministicScheduler::rcu_read_lock();
  uint64_t pte = 0;
  uint32_t level = 0;
  const int ret = w.backend->get_leaf(addr, &pte, &level);
  DeterministicScheduler::rcu_read_unlock();
  return ret ? static_cast<uint64_t>(ret) : pte ^ (uint64_t{level} << 60);
}

struct Race {
  std::string name;
  std::function<void(World&)> setup;
  std::function<uint64_t(World&)> vcpu[2];
  std::vector<uint64_t> probes;  // addresses whose final leaf is compared
};

// What one schedule did on one backend. Switch addresses are compared as the physical addresses
// of the entries (each machine maps its table memory elsewhere, but allocates the same pages).
struct Outcome {
  uint64_t ret[2] = {0, 0};
  ConcurrentRun run;
  std::vector<uint64_t> switch_pas;
  std::vector<std::pair<int, std::pair<uint64_t, uint32_t> > > leaves;
  std::vector<SnapshotEntry> table;
  std::vector<std::string> warnings;
  size_t faults = 0;
  size_t live_after_destroy = 0;
};

// SCHEDULE empty and CONCURRENT false: the two vCPUs' code one after the other, outside any run
// (the serial behaviour every other test sees).
Outcome play(MakeBackend make, const Race& race, const Schedule& schedule, bool concurrent = true) {
  World w(make);
  race.setup(w);
  w.backend->take_warnings();
  Outcome o;
  if (concurrent) {
    DeterministicScheduler scheduler(schedule);
    o.run =
        scheduler.run({[&] { o.ret[0] = race.vcpu[0](w); }, [&] { o.ret[1] = race.vcpu[1](w); }});
    for (const auto& f : o.run.failures)
      EXPECT_FALSE(static_cast<bool>(f)) << race.name << ": a vCPU threw";
  } else {
    o.ret[0] = race.vcpu[0](w);
    o.ret[1] = race.vcpu[1](w);
  }
  for (const sched::Switch& s : o.run.switches)
    o.switch_pas.push_back(w.machine.memory.virt_to_phys(reinterpret_cast<const void*>(s.addr)));
  for (uint64_t addr : race.probes) {
    uint64_t pte = 0;
    uint32_t level = 0;
    const int ret = w.backend->get_leaf(addr, &pte, &level);
    o.leaves.push_back({ret, {pte, level}});
  }
  o.table = take_snapshot(*w.backend, w.machine.memory).entries;
  o.warnings = w.backend->take_warnings();
  o.faults = w.machine.memory.faults().size();
  w.backend->destroy();
  o.live_after_destroy = w.machine.memory.live_pages();
  return o;
}

bool same_switches(const Outcome& a, const Outcome& b) {
  if (a.run.switches.size() != b.run.switches.size()) return false;
  for (size_t i = 0; i < a.run.switches.size(); ++i) {
    const sched::Switch &x = a.run.switches[i], &y = b.run.switches[i];
    if (x.point != y.point || x.from != y.from || x.to != y.to || x.what != y.what) return false;
  }
  return a.switch_pas == b.switch_pas;
}

std::string describe(const Outcome& o) {
  std::string s = "ret " + std::to_string(static_cast<int64_t>(o.ret[0])) + "," +
                  std::to_string(static_cast<int64_t>(o.ret[1])) + " points " +
                  std::to_string(o.run.points) + " switches";
  for (const sched::Switch& sw : o.run.switches)
    s += " [" + std::to_string(sw.point) + " " + std::to_string(sw.from) + ">" +
         std::to_string(sw.to) + " " + sw.what + "]";
  return s;
}

// Both backends' outcomes of one schedule, compared; the walker's own must be clean.
void expect_same(const Race& race, const Schedule& s, const Outcome& kernel,
                 const Outcome& walker) {
  const std::string where = race.name + " schedule \"" + sched::schedule_text(s) +
                            "\"\n  linux612 " + describe(kernel) + "\n  walker   " +
                            describe(walker);
  EXPECT_TRUE(same_switches(kernel, walker)) << where;
  EXPECT_EQ(kernel.run.points, walker.run.points) << where;
  EXPECT_EQ(kernel.ret[0], walker.ret[0]) << where;
  EXPECT_EQ(kernel.ret[1], walker.ret[1]) << where;
  EXPECT_EQ(kernel.leaves, walker.leaves) << where;
  EXPECT_TRUE(kernel.table == walker.table) << where;
  EXPECT_EQ(kernel.run.spun, walker.run.spun) << where;
  EXPECT_EQ(kernel.run.deferred, walker.run.deferred) << where;
  EXPECT_EQ(kernel.run.waited, walker.run.waited) << where;
  for (const Outcome* o : {&kernel, &walker}) {
    EXPECT_EQ(o->warnings, std::vector<std::string>{}) << where;
    EXPECT_EQ(o->faults, 0u) << where;
    EXPECT_EQ(o->live_after_destroy, 0u) << where;
  }
}

// The schedules of up to two switches whose first A and second B are at most LIMIT.
std::vector<Schedule> schedules(uint64_t limit) {
  std::vector<Schedule> out;
  for (uint32_t a = 0; a <= limit; ++a)
    for (uint32_t b = 0; b <= limit; ++b) out.push_back({{a, 1}, {b, 0}});
  return out;
}

// Runs RACE under the empty schedule and every schedule of two switches within the first LIMIT
// points (all of them: LIMIT 0 means the serial run's point count), compares the backends, and
// returns the walker's outcomes by schedule.
std::vector<std::pair<Schedule, Outcome> > compare_all(const Race& race, uint64_t limit = 0) {
  std::vector<std::pair<Schedule, Outcome> > walker_outcomes;
  // The empty schedule: each vCPU runs to its end in turn, as outside a run.
  const Outcome serial_kernel = play(make_linux612_backend, race, {});
  const Outcome serial_walker = play(make_walker_backend, race, {});
  expect_same(race, {}, serial_kernel, serial_walker);
  EXPECT_TRUE(serial_walker.run.switches.empty());
  EXPECT_GT(serial_walker.run.points, 2u) << race.name << ": the walker's accesses are points";
  // And that is the serial behaviour: the same as running the two outside any run.
  const Outcome plain = play(make_walker_backend, race, {}, /*concurrent=*/false);
  EXPECT_EQ(plain.ret[0], serial_walker.ret[0]) << race.name;
  EXPECT_EQ(plain.ret[1], serial_walker.ret[1]) << race.name;
  EXPECT_EQ(plain.leaves, serial_walker.leaves) << race.name;
  EXPECT_TRUE(plain.table == serial_walker.table) << race.name;
  EXPECT_EQ(plain.run.points, 0u) << race.name << ": no points outside a run";

  for (const Schedule& s : schedules(limit ? limit : serial_walker.run.points)) {
    const Outcome kernel = play(make_linux612_backend, race, s);
    Outcome walker = play(make_walker_backend, race, s);
    expect_same(race, s, kernel, walker);
    if (::testing::Test::HasFailure()) return {};  // one schedule's report is enough
    walker_outcomes.push_back({s, std::move(walker)});
  }
  return walker_outcomes;
}

std::set<std::pair<int64_t, int64_t> > returns(
    const std::vector<std::pair<Schedule, Outcome> >& outcomes) {
  std::set<std::pair<int64_t, int64_t> > out;
  for (const auto& [s, o] : outcomes)
    out.insert({static_cast<int64_t>(o.ret[0]), static_cast<int64_t>(o.ret[1])});
  return out;
}

void map_page(World& w, uint64_t ipa, uint64_t pa, uint64_t prot) {
  EXPECT_EQ(w.backend->map(ipa, kPage, pa, prot, &w.setup_mc), 0);
}

TEST(Walker612Concurrent, TwoRelaxPermsOnOnePage) {
  const Race race{
      "relax W vs relax X",
      [](World& w) { map_page(w, kIpa, 0x8000'0000, prot::kR); },
      {[](World& w) { return uint64_t(int64_t(w.backend->relax_perms(kIpa, prot::kW))); },
       [](World& w) { return uint64_t(int64_t(w.backend->relax_perms(kIpa, prot::kX))); }},
      {kIpa}};
  const auto outcomes = compare_all(race);
  ASSERT_FALSE(outcomes.empty());
  // Each vCPU loses its cmpxchg to the other under some schedule, in both backends alike.
  const auto r = returns(outcomes);
  EXPECT_TRUE(r.count({0, 0}));
  EXPECT_TRUE(r.count({0, -EAGAIN}));
  EXPECT_TRUE(r.count({-EAGAIN, 0}));
}

TEST(Walker612Concurrent, RelaxPermsAgainstMkyoung) {
  const Race race{
      "relax W vs mkyoung",
      [](World& w) {
        map_page(w, kIpa, 0x8000'0000, prot::kR);
        // Old, so that mkyoung has a store to make.
        EXPECT_EQ(w.backend->test_clear_young(kIpa, kPage, true), 1);
      },
      {[](World& w) { return uint64_t(int64_t(w.backend->relax_perms(kIpa, prot::kW))); },
       [](World& w) { return w.backend->mkyoung(kIpa); }},
      {kIpa}};
  const auto outcomes = compare_all(race);
  ASSERT_FALSE(outcomes.empty());
  // mkyoung answers the leaf it made young, or 0 when its cmpxchg lost (-EAGAIN).
  std::set<bool> mkyoung_lost;
  for (const auto& [s, o] : outcomes) mkyoung_lost.insert(o.ret[1] == 0);
  EXPECT_EQ(mkyoung_lost, (std::set<bool>{false, true}));
}

TEST(Walker612Concurrent, TwoSharedMapsOfOneEmptyPage) {
  const Race race{"shared map vs shared map",
                  [](World&) {},
                  {[](World& w) {
                     return uint64_t(int64_t(w.backend->map_with_walk_flags(
                         kIpa, kPage, 0x8000'0000, prot::kR, &w.mc[0], walk_flag::kShared)));
                   },
                   [](World& w) {
                     return uint64_t(int64_t(w.backend->map_with_walk_flags(
                         kIpa, kPage, 0x9000'0000, prot::kR | prot::kW, &w.mc[1], kFault)));
                   }},
                  {kIpa}};
  const auto outcomes = compare_all(race);
  ASSERT_FALSE(outcomes.empty());
  // A vCPU meets the other's locked entry (or loses its cmpxchg) under some schedules: the fault
  // handler's walk (vCPU 1) then returns -EAGAIN.
  EXPECT_GT(returns(outcomes).size(), 1u);
}

TEST(Walker612Concurrent, SharedMapAgainstRelaxPerms) {
  const Race race{
      "shared map (new PA) vs relax X",
      [](World& w) { map_page(w, kIpa, 0x8000'0000, prot::kR); },
      {[](World& w) {
         return uint64_t(int64_t(w.backend->map_with_walk_flags(
             kIpa, kPage, 0x9000'0000, prot::kR | prot::kW, &w.mc[0], kFault)));
       },
       [](World& w) { return uint64_t(int64_t(w.backend->relax_perms(kIpa, prot::kX))); }},
      {kIpa}};
  const auto outcomes = compare_all(race);
  ASSERT_FALSE(outcomes.empty());
  EXPECT_GT(returns(outcomes).size(), 1u);
}

// The walks that hold the table alone (the MMU lock for writing) mark their accesses too: the
// WRITE_ONCE of a clear, an attribute change or a break, the smp_store_release of a make. With
// vCPU 1 doing nothing, each schedule's first switch names vCPU 0's access at that point, so
// running every one spells out its whole sequence of accesses, compared with the kernel's.
TEST(Walker612Concurrent, ExclusiveWalksMarkTheKernelsAccesses) {
  const auto setup = [](World& w) {
    map_page(w, kIpa, 0x8000'0000, prot::kR | prot::kW);
    map_page(w, kIpa + 5 * kPage, 0x8000'5000, prot::kR);
  };
  const auto nothing = [](World&) { return uint64_t{0}; };
  const auto ret = [](int r) { return uint64_t(int64_t(r)); };
  const std::vector<Race> races = {
      {"unmap",
       setup,
       {[&](World& w) { return ret(w.backend->unmap(kIpa, kPage)); }, nothing},
       {kIpa}},
      {"wrprotect",
       setup,
       {[&](World& w) { return ret(w.backend->wrprotect(kIpa, kPage)); }, nothing},
       {kIpa}},
      {"test_clear_young",
       setup,
       {[&](World& w) { return ret(w.backend->test_clear_young(kIpa, kPage, true)); }, nothing},
       {kIpa}},
      {"set_owner",
       setup,
       {[&](World& w) { return ret(w.backend->set_owner(kIpa + 2 * kPage, kPage, &w.mc[0], 1)); },
        nothing},
       {kIpa + 2 * kPage}},
      {"map (not shared) over a page",
       setup,
       {[&](World& w) { return ret(w.backend->map(kIpa, kPage, 0x9000'0000, prot::kR, &w.mc[0])); },
        nothing},
       {kIpa}},
  };
  for (const Race& race : races) {
    const auto outcomes = compare_all(race);
    ASSERT_FALSE(outcomes.empty()) << race.name;
    std::set<std::string> names;
    for (const auto& [s, o] : outcomes)
      for (const sched::Switch& sw : o.run.switches) names.insert(sw.what);
    EXPECT_TRUE(names.count("READ_ONCE")) << race.name;
    EXPECT_FALSE(names.count("cmpxchg")) << race.name << ": a walk holding the table alone";
  }
}

// A 2 MiB block replaces the table under it; the other vCPU may be inside that table.
Race block_over_table(std::string name, std::function<uint64_t(World&)> other) {
  return Race{std::move(name),
              [](World& w) {
                map_page(w, kIpa, 0x8000'0000, prot::kR);
                map_page(w, kIpa + 5 * kPage, 0x8000'5000, prot::kR);
              },
              {[](World& w) {
                 return uint64_t(int64_t(w.backend->map_with_walk_flags(
                     kIpa, 0x20'0000, 0xa000'0000, prot::kR | prot::kW, &w.mc[0], kFault)));
               },
               std::move(other)},
              {kIpa, kIpa + 5 * kPage}};
}

// Whether linux612 frees the unlinked table after a grace period (through call_rcu, as the
// kernel's host does). Until its adapter does, its free runs inside the map and the two cannot
// interleave alike.
bool linux612_defers_free(const Race& race) {
  return play(make_linux612_backend, race, {}).run.deferred > 0;
}

// The walker alone: with vCPU 1 inside the table when vCPU 0 unlinks it, the free waits for it,
// and what vCPU 1 finds there is the old table's entry (READER_RET), not a freed page; the free
// then runs when vCPU 1 leaves its read side.
void expect_free_waits_for_reader(const Race& race, uint64_t reader_ret) {
  // vCPU 0 gives way at once; vCPU 1 reads the level 1 and 2 entries (2 points) and gives way
  // before it reads the level 3 entry; vCPU 0 replaces the table and ends.
  const Schedule inside = {{0, 1}, {2, 0}};
  const Outcome o = play(make_walker_backend, race, inside);
  ASSERT_EQ(o.run.switches.size(), 2u) << describe(o);
  EXPECT_EQ(o.ret[0], 0u);
  EXPECT_EQ(o.ret[1], reader_ret) << std::hex << o.ret[1];
  EXPECT_EQ(o.run.deferred, 1u);
  EXPECT_EQ(o.run.waited, 1u);
  EXPECT_EQ(o.warnings, std::vector<std::string>{});
  EXPECT_EQ(o.faults, 0u) << "a freed table page was read or written";
  EXPECT_EQ(o.live_after_destroy, 0u);
}

uint64_t old_page_leaf(World& w) {
  uint64_t pte = 0;
  uint32_t level = 0;
  EXPECT_EQ(w.backend->get_leaf(kIpa, &pte, &level), 0);
  return pte ^ (uint64_t{level} << 60);
}

TEST(Walker612Concurrent, SharedBlockMapOverATableAgainstGetLeaf) {
  const Race race = block_over_table("shared 2M map over a table vs get_leaf",
                                     [](World& w) { return leaf_under_rcu(w, kIpa); });
  World before(make_walker_backend);
  race.setup(before);
  const uint64_t old_leaf = old_page_leaf(before);
  before.backend->destroy();
  expect_free_waits_for_reader(race, old_leaf);
  if (!linux612_defers_free(race))
    GTEST_SKIP() << "linux612 frees unlinked tables at once (no call_rcu yet): not compared";
  // The free walk reads each of the table's 512 entries twice: the switches that matter are
  // among the first points, before it.
  const auto outcomes = compare_all(race, 16);
  ASSERT_FALSE(outcomes.empty());
  // vCPU 1 reads the old table's leaf (the table not freed under it), the locked level 2 entry
  // (the map between its break and its make), or the new block.
  std::set<uint64_t> seen;
  for (const auto& [s, o] : outcomes) seen.insert(o.ret[1]);
  const auto& [pte, level] = outcomes.back().second.leaves[0].second;
  const uint64_t block = pte ^ (uint64_t{level} << 60);
  EXPECT_EQ(seen, (std::set<uint64_t>{old_leaf, kLockedPte ^ (uint64_t{2} << 60), block}));
}

TEST(Walker612Concurrent, SharedBlockMapOverATableAgainstRelaxPerms) {
  const Race race = block_over_table("shared 2M map over a table vs relax X", [](World& w) {
    return uint64_t(int64_t(w.backend->relax_perms(kIpa, prot::kX)));
  });
  // Its swap lands on the old table's entry: the page is still there, only unlinked.
  expect_free_waits_for_reader(race, 0);
  if (!linux612_defers_free(race))
    GTEST_SKIP() << "linux612 frees unlinked tables at once (no call_rcu yet): not compared";
  const auto outcomes = compare_all(race, 16);
  ASSERT_FALSE(outcomes.empty());
  // vCPU 1's swap lands on the old table, unlinked but not yet freed, or it meets the locked
  // entry and retries.
  EXPECT_EQ(returns(outcomes), (std::set<std::pair<int64_t, int64_t> >{{0, 0}, {0, -EAGAIN}}));
}

#endif

}  // namespace
}  // namespace mmudiff

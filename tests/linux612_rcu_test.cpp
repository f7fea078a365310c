// SPDX-License-Identifier: GPL-2.0-only
// Linux 6.12's RCU made explicit to the deterministic scheduler (mmu/sched/sched_hooks.h): a
// shared walk's read-side section is the scheduler's, and the table a shared map detaches
// (stage2_map_walk_table_pre -> free_unlinked_table) is freed through call_rcu, as KVM's
// kvm_s2_free_unlinked does, only once every vCPU that was reading has left its section. And the
// use-after-free check of concurrent runs (SimMemory::check_use): a descriptor access to a page
// freed meanwhile is a memory fault.
//
// The race: vCPU 0 maps a 2 MiB block with the fault path's walk flags over a level-3 table;
// vCPU 1 walks down to a page of that table. Every schedule of up to two switches.
#include <cerrno>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mmu/backend.h"
#include "mmu/format/arm64_s2.h"
#include "mmu/memory/asan.h"
#include "mmu/ops/op.h"
#include "mmu/sched/deterministic_scheduler.h"

#ifdef MMUDIFF_HAVE_LINUX612
#include "mmu/linux612/linux612_backend.h"
#endif

namespace mmudiff {
namespace {

#ifndef MMUDIFF_HAVE_LINUX612

TEST(Linux612Rcu, NotBuilt) {
  GTEST_SKIP() << "configured with -DMMUDIFF_LINUX612_ARM64=OFF";
}

#else

using namespace arm64s2;
using sched::ConcurrentRun;
using sched::DeterministicScheduler;
using sched::RcuEvent;
using sched::Schedule;

constexpr uint64_t kBlock = 0x4000'0000;  // the 2 MiB the map covers
constexpr uint64_t kPage = kBlock + 0x3000;
constexpr uint64_t kBlockSize = 2 << 20;

// What vCPU 1 does while vCPU 0 maps the block.
enum class Reader {
  RelaxPerms,  // a shared walk (SHARED | HANDLE_FAULT): inside a read-side section
  GetLeaf,     // a non-shared walk: no read-side section (KVM holds the MMU lock around it)
};

// A free of the level-3 table's page, as the free observer saw it.
struct TableFree {
  std::optional<unsigned> on;        // the vCPU it ran on; none outside a run
  bool reading[2] = {false, false};  // whether each vCPU was inside a read-side section then
};

struct Outcome {
  int map_ret = -1, reader_ret = -1;
  uint64_t leaf = 0;  // what get_leaf returned (GetLeaf)
  uint64_t table_pa = 0;
  ConcurrentRun run;
  std::vector<TableFree> table_frees;
  std::vector<MemoryFault> faults;  // after the run, before destroy
  size_t poison_overwritten = 0;
  std::vector<std::string> warnings;
  std::vector<Effect> effects;
  std::vector<PageFree> frees;
  size_t live_after_destroy = 0, leaks = 0;
  std::vector<MemoryFault> destroy_faults;
};

// The table page the entry for IPA at LEVEL points to, from the root down; 0 if there is none.
uint64_t table_below(const SimMemory& memory, const TableRoot& root, uint64_t ipa, unsigned level) {
  uint64_t table = root.pgd_pa;
  for (unsigned l = root.start_level; l <= level; ++l) {
    const unsigned shift = kPageShift + 9 * (kLastLevel - l);
    // The start level's pages are concatenated: its index takes every bit above.
    uint64_t index = ipa >> shift;
    if (l != root.start_level) index &= kEntriesPerTable - 1;
    const uint64_t entry_pa = table + index * 8;
    const uint64_t* page = memory.table_page(entry_pa);
    if (!page) return 0;
    const uint64_t desc = page[(entry_pa % kPageSize) / 8];
    if ((desc & (kValid | kTypeBit)) != (kValid | kTypeBit)) return 0;
    table = desc & kOaMask;
  }
  return table;
}

// The free observer: each page freed goes to the EffectLog as before (Machine's own observer),
// and a free of the level-3 table is noted with where the read-side sections stood.
struct FreeWatch {
  EffectLog* effects;
  uint64_t table_pa;
  std::vector<TableFree>* frees;
  static void observe(void* context, uint64_t pa) {
    auto* w = static_cast<FreeWatch*>(context);
    w->effects->page_freed(pa);
    if (pa != w->table_pa) return;
    TableFree f;
    f.on = DeterministicScheduler::current_vcpu();
    for (unsigned v = 0; v < 2; ++v) f.reading[v] = DeterministicScheduler::in_read_side(v);
    w->frees->push_back(f);
  }
};

Outcome race(const Schedule& schedule, Reader reader) {
  Outcome o;
  Machine machine;
  std::unique_ptr<Arm64S2Backend> backend = make_linux612_backend(machine, Plant::kNone);
  Arm64S2Config config;
  config.kernel = Arm64Kernel::Linux612;
  EXPECT_EQ(backend->init(config), 0);
  // Two pages of the 2 MiB: a level-2 table entry pointing to a level-3 table with two leaves.
  Memcache setup(machine.memory, 8);
  EXPECT_EQ(backend->map(kBlock, kPageSize, 0x8000'0000, prot::kR, &setup), 0);
  EXPECT_EQ(backend->map(kPage, kPageSize, 0x8000'3000, prot::kR, &setup), 0);
  o.table_pa = table_below(machine.memory, backend->root(), kPage, 2);
  EXPECT_NE(o.table_pa, 0u);
  machine.effects.clear();

  FreeWatch watch{&machine.effects, o.table_pa, &o.table_frees};
  machine.memory.set_free_observer(FreeWatch::observe, &watch);

  // Each vCPU its own memcache, as each CPU has its own in KVM. A block needs none.
  Memcache mc0(machine.memory, 4);
  DeterministicScheduler scheduler(schedule);
  o.run = scheduler.run({
      [&] {
        o.map_ret = backend->map_with_walk_flags(kBlock, kBlockSize, 0x8020'0000, prot::kR, &mc0,
                                                 walk_flag::kShared | walk_flag::kHandleFault);
      },
      [&] {
        if (reader == Reader::RelaxPerms) {
          o.reader_ret = backend->relax_perms(kPage, prot::kW);
        } else {
          uint32_t level = 0;
          o.reader_ret = backend->get_leaf(kPage, &o.leaf, &level);
        }
      },
  });
  o.faults = machine.memory.faults();
  o.poison_overwritten = machine.memory.check_freed_pages();
  o.warnings = backend->take_warnings();
  o.effects = machine.effects.events();
  o.frees = machine.effects.frees();
  machine.memory.clear_faults();
  backend->destroy();
  o.live_after_destroy = machine.memory.live_pages();
  o.leaks = machine.memory.report_leaks();
  o.destroy_faults = machine.memory.faults();
  // The watch goes before the machine: give the memory back its own observer.
  machine.effects.track_stores_in(machine.memory);
  return o;
}

std::string faults_text(const std::vector<MemoryFault>& faults) {
  std::string out;
  for (const MemoryFault& f : faults)
    out += std::string(memory_fault_name(f.kind)) + ": " + f.detail + "\n";
  return out;
}

// Which vCPUs were inside a read-side section after the first N events of RUN.
uint32_t readers_after(const ConcurrentRun& run, size_t n) {
  uint32_t readers = 0;
  for (size_t i = 0; i < n; ++i) {
    const RcuEvent& e = run.rcu_events[i];
    if (e.kind == RcuEvent::Kind::ReadLock) readers |= 1u << e.vcpu;
    if (e.kind == RcuEvent::Kind::ReadUnlock) readers &= ~(1u << e.vcpu);
  }
  return readers;
}

// Every schedule of up to two switches (vCPU 0 -> 1 after A points, back after B more) that can
// differ, given SERIAL, the run of the empty schedule. vCPU 0 makes about a thousand points, most
// of them the free walk over the detached table's 512 entries once its own walk is over: every A
// up to a few points past vCPU 0's rcu_read_unlock, then every 64th. vCPU 1's walk makes a dozen:
// a B past its end is the schedule without the switch back, so B goes to kMaxB.
constexpr uint32_t kMaxB = 32;
std::vector<Schedule> schedules_of_up_to_two_switches(const ConcurrentRun& serial) {
  uint64_t unlock = serial.points;
  for (const RcuEvent& e : serial.rcu_events)
    if (e.kind == RcuEvent::Kind::ReadUnlock && e.vcpu == 0) unlock = e.point;
  std::vector<Schedule> out = {{}};
  for (uint32_t a = 0; a <= serial.points; a += a < unlock + 8 ? 1 : 64) {
    out.push_back({{a, 1}});
    for (uint32_t b = 0; b <= kMaxB; ++b) out.push_back({{a, 1}, {b, 0}});
  }
  return out;
}

TEST(Linux612Rcu, SerialStreamFreesTheDetachedTableAtOnce) {
  // Outside a run there is no grace period to wait for: the map frees the table before it
  // returns, as before RCU was the scheduler's.
  Machine machine;
  std::unique_ptr<Arm64S2Backend> backend = make_linux612_backend(machine, Plant::kNone);
  Arm64S2Config config;
  config.kernel = Arm64Kernel::Linux612;
  ASSERT_EQ(backend->init(config), 0);
  Memcache mc(machine.memory, 8);
  ASSERT_EQ(backend->map(kPage, kPageSize, 0x8000'3000, prot::kR, &mc), 0);
  const uint64_t table = table_below(machine.memory, backend->root(), kPage, 2);
  ASSERT_NE(table, 0u);
  const size_t live = machine.memory.live_pages();
  machine.effects.clear();
  ASSERT_EQ(backend->map_with_walk_flags(kBlock, kBlockSize, 0x8020'0000, prot::kR, &mc,
                                         walk_flag::kShared | walk_flag::kHandleFault),
            0);
  EXPECT_FALSE(machine.memory.is_live(table));
  EXPECT_EQ(machine.memory.live_pages(), live - 1);
  ASSERT_EQ(machine.effects.frees().size(), 1u);
  EXPECT_EQ(machine.effects.frees()[0].pa, table);
  EXPECT_TRUE(machine.memory.faults().empty()) << faults_text(machine.memory.faults());
  EXPECT_EQ(backend->take_warnings(), std::vector<std::string>{});
}

TEST(Linux612Rcu, ADetachedTableIsFreedOnlyAfterEveryReaderLeft) {
  const Outcome serial = race({}, Reader::RelaxPerms);
  ASSERT_GT(serial.run.points, 4u);
  // Alone, vCPU 0's own walk is the only reader: the free waits for its rcu_read_unlock.
  EXPECT_EQ(serial.run.deferred, 1u);
  EXPECT_EQ(serial.run.waited, 1u);

  size_t schedules = 0, reader_inside_at_detach = 0, freed_by_reader = 0;
  for (const Schedule& s : schedules_of_up_to_two_switches(serial.run)) {
    ++schedules;
    const std::string where = "schedule \"" + sched::schedule_text(s) + "\"";
    const Outcome o = race(s, Reader::RelaxPerms);
    for (const auto& f : o.run.failures) ASSERT_FALSE(f) << where;
    ASSERT_FALSE(o.run.spun) << where;
    // The block replaces the table whatever vCPU 1 does: it only ever writes the leaf below.
    EXPECT_EQ(o.map_ret, 0) << where;
    EXPECT_TRUE(o.reader_ret == 0 || o.reader_ret == -EAGAIN) << where << ": " << o.reader_ret;
    EXPECT_TRUE(o.faults.empty()) << where << "\n" << faults_text(o.faults);
    EXPECT_EQ(o.poison_overwritten, 0u) << where;
    EXPECT_EQ(o.warnings, std::vector<std::string>{}) << where;
    EXPECT_EQ(o.live_after_destroy, 0u) << where;
    EXPECT_EQ(o.leaks, 0u) << where;
    EXPECT_TRUE(o.destroy_faults.empty()) << where << "\n" << faults_text(o.destroy_faults);

    // One deferral (the detached table), waiting at least for vCPU 0's own walk.
    ASSERT_EQ(o.run.deferred, 1u) << where;
    EXPECT_EQ(o.run.waited, 1u) << where;
    size_t call = o.run.rcu_events.size(), callback = o.run.rcu_events.size();
    for (size_t i = 0; i < o.run.rcu_events.size(); ++i) {
      const RcuEvent& e = o.run.rcu_events[i];
      if (e.kind == RcuEvent::Kind::CallRcu) call = i;
      if (e.kind == RcuEvent::Kind::Callback) callback = i;
    }
    ASSERT_LT(call, o.run.rcu_events.size()) << where;
    ASSERT_LT(callback, o.run.rcu_events.size()) << where << ": the table was never freed";
    ASSERT_LT(call, callback) << where;
    const uint32_t readers = o.run.rcu_events[call].readers;
    // The event log agrees with itself: who read at the call is who the call says it waits for.
    EXPECT_EQ(readers, readers_after(o.run, call)) << where;
    EXPECT_TRUE(readers & 1u) << where << ": vCPU 0 detached the table inside its own walk";
    // Every vCPU that was reading at the deferral has left before the callback, and none of them
    // is reading when the page goes.
    EXPECT_EQ(readers_after(o.run, callback) & readers, 0u) << where;
    ASSERT_EQ(o.table_frees.size(), 1u) << where;
    const TableFree& f = o.table_frees[0];
    ASSERT_TRUE(f.on.has_value()) << where;
    EXPECT_EQ(*f.on, o.run.rcu_events[callback].vcpu) << where;
    for (unsigned v = 0; v < 2; ++v)
      EXPECT_FALSE((readers >> v & 1u) && f.reading[v])
          << where << ": vCPU " << v << " was reading at the deferral and still is at the free";
    if (readers & 2u) {
      // vCPU 1 was inside its walk at the detach: the free waited for its rcu_read_unlock.
      ++reader_inside_at_detach;
      bool left = false;
      for (size_t i = call; i < callback; ++i) {
        const RcuEvent& e = o.run.rcu_events[i];
        left |= e.kind == RcuEvent::Kind::ReadUnlock && e.vcpu == 1;
      }
      EXPECT_TRUE(left) << where;
      freed_by_reader += o.run.rcu_events[callback].vcpu == 1;
    }
    // The page was freed once, by the callback, and is in the effect log's frees.
    size_t logged = 0;
    for (const PageFree& pf : o.frees) logged += pf.pa == o.table_pa;
    EXPECT_EQ(logged, 1u) << where;

    // Replays identically: the same switches, RCU events, returns, effects and frees.
    const Outcome again = race(s, Reader::RelaxPerms);
    EXPECT_EQ(again.run.switches, o.run.switches) << where;
    EXPECT_EQ(again.run.rcu_events, o.run.rcu_events) << where;
    EXPECT_EQ(again.run.points, o.run.points) << where;
    EXPECT_EQ(again.map_ret, o.map_ret) << where;
    EXPECT_EQ(again.reader_ret, o.reader_ret) << where;
    EXPECT_EQ(again.effects, o.effects) << where;
    EXPECT_EQ(again.frees, o.frees) << where;
    if (::testing::Test::HasFailure()) break;
  }
  // The interesting interleavings are reached: vCPU 1 inside its walk when the table is
  // detached, and vCPU 1 the last reader out, so that the free runs on its thread, inside its
  // relax_perms, with the map's instance made current for it.
  EXPECT_GT(reader_inside_at_detach, 0u) << "of " << schedules << " schedules";
  EXPECT_GT(freed_by_reader, 0u) << "of " << schedules << " schedules";
}

TEST(Linux612Rcu, AWalkOutsideAnyReadSideSectionReadingTheFreedTableIsAMemoryFault) {
  // The check that the check works: get_leaf walks without the RCU read lock (KVM calls it with
  // the MMU lock held, which a shared map's fault path does not take for write), so the grace
  // period does not wait for it. Under some schedule it reads the level-3 entry after the table
  // was freed, and that read is named.
#ifdef MMUDIFF_ASAN
  GTEST_SKIP() << "AddressSanitizer poisons freed table pages: it aborts at that read itself";
#endif
  const Outcome serial = race({}, Reader::GetLeaf);
  ASSERT_TRUE(serial.faults.empty()) << faults_text(serial.faults);
  size_t caught = 0, clean = 0, read_poison = 0;
  for (const Schedule& s : schedules_of_up_to_two_switches(serial.run)) {
    const std::string where = "schedule \"" + sched::schedule_text(s) + "\"";
    const Outcome o = race(s, Reader::GetLeaf);
    for (const auto& f : o.run.failures) ASSERT_FALSE(f) << where;
    ASSERT_EQ(o.run.deferred, 1u) << where;
    // vCPU 1 is never a reader the free waits for.
    for (const RcuEvent& e : o.run.rcu_events) EXPECT_NE(e.vcpu, 1u) << where;
    if (o.faults.empty()) {
      ++clean;
      continue;
    }
    ++caught;
    ASSERT_EQ(o.faults.size(), 1u) << where << "\n" << faults_text(o.faults);
    const MemoryFault& f = o.faults[0];
    EXPECT_EQ(f.kind, MemoryFaultKind::UseAfterFree) << where;
    EXPECT_EQ(f.pa & ~(kPageSize - 1), o.table_pa) << where << ": " << f.detail;
    EXPECT_EQ(f.pa, o.table_pa + ((kPage >> kPageShift) & (kEntriesPerTable - 1)) * 8)
        << where << ": the entry of the page get_leaf walks to";
    EXPECT_NE(f.detail.find("READ_ONCE"), std::string::npos) << f.detail;
    // What the walk read is the freed page's poison, or, when only its re-read after the leaf
    // callback came after the free, the leaf that was there.
    EXPECT_TRUE(o.leaf == SimMemory::kPoison || (o.leaf & kOaMask) == 0x8000'3000)
        << where << std::hex << ": " << o.leaf;
    read_poison += o.leaf == SimMemory::kPoison;
  }
  EXPECT_GT(caught, 0u) << "no schedule let get_leaf read the freed table";
  EXPECT_GT(read_poison, 0u);
  EXPECT_GT(clean, 0u);
}

TEST(Linux612Rcu, UseOfAFreedPageIsCheckedOnlyWhereAsked) {
  // SimMemory::check_use itself: a freed page is named once per page in a row, a live page and
  // an address outside the arena are nothing.
  SimMemory memory;
  void* live = memory.zalloc_page();
  void* freed = memory.zalloc_page();
  memory.put_page(freed);
  memory.check_use(live, "READ_ONCE");
  memory.check_use(reinterpret_cast<void*>(uintptr_t{0x1000}), "READ_ONCE");
  EXPECT_TRUE(memory.faults().empty());
  memory.check_use(static_cast<char*>(freed) + 8, "READ_ONCE");
  memory.check_use(static_cast<char*>(freed) + 16, "cmpxchg");
  ASSERT_EQ(memory.faults().size(), 1u);
  EXPECT_EQ(memory.faults()[0].kind, MemoryFaultKind::UseAfterFree);
  EXPECT_EQ(memory.faults()[0].pa, memory.virt_to_phys(freed) + 8);
  EXPECT_STREQ(memory_fault_name(MemoryFaultKind::UseAfterFree), "use of a freed page");
}

#endif

}  // namespace
}  // namespace mmudiff

// SPDX-License-Identifier: GPL-2.0-only
// Runs several vCPUs' code one at a time, switching between them only at scheduling points and
// only where a schedule (mmu/sched/schedule.h) says, so that an interleaving found once replays
// bit for bit. The code under test marks its scheduling points by calling point() (or, from C,
// mmudiff_sched_point()): each READ_ONCE, WRITE_ONCE, cmpxchg and store-release of a descriptor
// in the kernel's shim, the same places in the walker's shared walks. Outside a run a point does
// nothing, so the same code runs unchanged in a single-threaded stream.
//
// Each vCPU is a thread of its own (its thread-locals, such as the shim's RCU read-side depth, are
// its CPU's), but only the one the scheduler names runs: the others wait for their turn. Every
// hand-over goes through one mutex, so everything a vCPU wrote happens before what the next
// reads, and a ThreadSanitizer build sees no race of the scheduler's making.
//
// RCU is explicit: the code under test tells the scheduler where its read-side sections begin and
// end (rcu_read_lock/unlock) and hands it what must wait for a grace period (call_rcu). A deferred
// free runs once every vCPU that was inside a read-side section when it was deferred has left that
// section, the moment the last one does: never while a walker may still be in the table. C code
// (the kernel shims) reaches all of this through mmu/sched/sched_hooks.h.
//
// Where the schedule ends, each vCPU runs to its end in turn, the lowest-numbered unfinished one
// next, except that a vCPU that passes kSpinLimit points without finishing gives way to the next
// one (it may be waiting for another vCPU: a retry loop on a locked entry), round robin.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mmu/sched/sched_hooks.h"
#include "mmu/sched/schedule.h"

namespace mmudiff::sched {

// One switch from a vCPU to another, at the point'th scheduling point of the run (counted from 1,
// over all vCPUs), where the vCPU that gave way was at WHAT on ADDR.
struct Switch {
  uint64_t point = 0;
  unsigned from = 0, to = 0;
  std::string what;
  uintptr_t addr = 0;
  bool operator==(const Switch&) const = default;
};

// What RCU did in a run, in order, so that a test (or a report) can check every grace period
// against the read-side sections it had to wait for. Only a section's outermost lock and unlock
// are events.
struct RcuEvent {
  enum class Kind : uint8_t {
    ReadLock,    // the vCPU entered a read-side section
    ReadUnlock,  // and left it (or ended inside it)
    CallRcu,     // the vCPU deferred callback `callback`, waiting for the vCPUs of `readers`
    Callback,    // callback `callback` ran on the vCPU
  };
  Kind kind = Kind::ReadLock;
  unsigned vcpu = 0;
  uint64_t point = 0;     // scheduling points passed before it, over all vCPUs
  uint64_t callback = 0;  // CallRcu, Callback: which call_rcu of the run, counted from 1
  uint32_t readers = 0;   // CallRcu: the vCPUs inside a read-side section then, bit v for vCPU v
  bool operator==(const RcuEvent&) const = default;
};

struct ConcurrentRun {
  std::vector<Switch> switches;
  uint64_t points = 0;
  // Per vCPU: the exception its code ended with, if any (its code did not run to its end).
  std::vector<std::exception_ptr> failures;
  // A vCPU passed kSpinLimit points in a row after the schedule ended.
  bool spun = false;
  // call_rcu callbacks deferred during the run, and of those how many had to wait for a reader.
  uint64_t deferred = 0, waited = 0;
  std::vector<RcuEvent> rcu_events;
};

class DeterministicScheduler {
 public:
  static constexpr uint64_t kSpinLimit = 100000;

  explicit DeterministicScheduler(Schedule schedule) : schedule_(std::move(schedule)) {}
  DeterministicScheduler(const DeterministicScheduler&) = delete;
  DeterministicScheduler& operator=(const DeterministicScheduler&) = delete;

  // Runs VCPUS[i] as vCPU i (at most kMaxVcpus), vCPU 0 first, all to their ends. One run per
  // scheduler.
  ConcurrentRun run(std::vector<std::function<void()>> vcpus);

  // A scheduling point of the calling vCPU: the schedule may switch to another vCPU here, and
  // the call returns when this vCPU's turn comes again. Nothing outside a run.
  static void point(const char* what, const void* addr);

  // The vCPU the calling thread is, inside a run.
  static std::optional<unsigned> current_vcpu();

  // The calling vCPU enters or leaves an RCU read-side section (they nest). Nothing outside a run.
  static void rcu_read_lock();
  static void rcu_read_unlock();
  // Runs FREE after a grace period: once every vCPU inside a read-side section now (the caller
  // included) has left it. Outside a run there is no other reader: FREE runs at once.
  static void call_rcu(std::function<void()> free);
  // Whether VCPU is inside a read-side section now; false outside a run.
  static bool in_read_side(unsigned vcpu);

 private:
  void vcpu_main(unsigned id, const std::function<void()>& body);
  void at_point(unsigned me, const char* what, const void* addr);
  // The vCPU to run after ME stops (finished or spinning): the next unfinished one, cyclically;
  // ME itself if it is the only one left.
  unsigned next_after(unsigned me) const;
  void hand_over(std::unique_lock<std::mutex>& lock, unsigned me, unsigned to);
  // ME has left its read-side section (or ended): the callbacks that waited only for it run.
  void quiescent(std::unique_lock<std::mutex>& lock, unsigned me);

  void rcu_event(RcuEvent::Kind kind, unsigned vcpu, uint64_t callback = 0, uint32_t readers = 0);

  struct Deferred {
    std::function<void()> free;
    uint64_t id = 0;
    std::vector<bool> waits_for;  // per vCPU: inside a read-side section when it was deferred
  };

  Schedule schedule_;
  size_t next_preemption_ = 0;
  uint64_t since_switch_ = 0;
  std::mutex mutex_;
  std::condition_variable turn_;
  unsigned running_ = 0;
  std::vector<bool> finished_;
  std::vector<unsigned> rcu_depth_;
  std::vector<Deferred> deferred_;
  ConcurrentRun result_;
};

}  // namespace mmudiff::sched

// SPDX-License-Identifier: GPL-2.0-only
// Runs several vCPUs' code as real threads at once, the way KVM's vCPUs fault concurrently under
// the MMU lock held for read: no scheduler hands over between them, so which interleaving happens
// is the machine's to choose and does not replay. This is `mmudiff soak --threads`: where the
// DeterministicScheduler (deterministic_scheduler.h) explores the interleavings a schedule names,
// a threaded run finds out whether the code and its atomics hold up when nothing is chosen, under
// ThreadSanitizer too (the `tsan` preset).
//
// The vCPUs wait at a spinning start barrier and are let go together: on two cores, threads
// started one after another would finish a short section before the next one began.
//
// Scheduling points cost nothing here (DeterministicScheduler::point does nothing outside its own
// runs). RCU is made real enough for what the code under test frees: a call_rcu callback waits
// until every vCPU of the run has finished, a grace period that is longer than needed but never
// too short (no vCPU can be inside a read-side section that began before the call), and then runs
// on the thread that started the run, in the order the callbacks were deferred.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

namespace mmudiff::sched {

struct ThreadedOutcome {
  // Per vCPU: the exception its code ended with, if any.
  std::vector<std::exception_ptr> failures;
  // Compare-and-swaps on a descriptor that found another value than the one the walk read: the
  // races that actually happened (each costs its walk an -EAGAIN or a retry).
  uint64_t lost_cmpxchgs = 0;
  // call_rcu callbacks deferred to the end of the run.
  uint64_t deferred = 0;
};

class ThreadedRun {
 public:
  ThreadedRun() = default;
  ThreadedRun(const ThreadedRun&) = delete;
  ThreadedRun& operator=(const ThreadedRun&) = delete;

  // Runs VCPUS[i] as vCPU i (at most kMaxVcpus), all at once, then the deferred callbacks. One
  // run per object.
  ThreadedOutcome run(std::vector<std::function<void()>> vcpus);

  // The run the calling thread is a vCPU of, or nullptr.
  static ThreadedRun* current();
  static std::optional<unsigned> current_vcpu();

  // What DeterministicScheduler's statics (and the C hooks) do on a vCPU of a threaded run.
  void rcu_read_lock();
  void rcu_read_unlock();
  bool in_read_side(unsigned vcpu) const;
  void call_rcu(std::function<void()> free);
  void lost_cmpxchg() { lost_.fetch_add(1, std::memory_order_relaxed); }

 private:
  void vcpu_main(unsigned id, const std::function<void()>& body);

  std::vector<std::atomic<unsigned>> rcu_depth_;
  std::atomic<unsigned> arrived_{0};
  std::atomic<uint64_t> lost_{0};
  std::mutex mutex_;  // guards deferred_
  std::vector<std::function<void()>> deferred_;
  ThreadedOutcome outcome_;
  bool used_ = false;
};

}  // namespace mmudiff::sched

// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/sched/threaded_run.h"

#include <stdexcept>
#include <thread>

#include "mmu/sched/schedule.h"
#include "mmu/sched/vcpu_threads.h"

namespace mmudiff::sched {

namespace {

// Which run and vCPU the calling thread is, while it runs as one.
struct VcpuThread {
  ThreadedRun* run = nullptr;
  unsigned vcpu = 0;
};
thread_local VcpuThread tl;

}  // namespace

ThreadedOutcome ThreadedRun::run(std::vector<std::function<void()>> vcpus) {
  if (used_ || vcpus.empty() || vcpus.size() > kMaxVcpus)
    throw std::invalid_argument("ThreadedRun::run: once, with 1 to 8 vCPUs");
  used_ = true;
  rcu_depth_ = std::vector<std::atomic<unsigned>>(vcpus.size());
  outcome_.failures.assign(vcpus.size(), nullptr);
  run_vcpu_threads(
      static_cast<unsigned>(vcpus.size()), [this, &vcpus](unsigned i) { vcpu_main(i, vcpus[i]); },
      [this, &vcpus](size_t started) {
        // No thread to be had: let the ones started past the barrier, and fail the run.
        arrived_.fetch_add(static_cast<unsigned>(vcpus.size() - started));
      });
  // Every vCPU has finished: no read-side section is left, the grace period is over.
  outcome_.deferred = deferred_.size();
  for (auto& free : deferred_) free();
  deferred_.clear();
  outcome_.lost_cmpxchgs = lost_.load();
  return std::move(outcome_);
}

void ThreadedRun::vcpu_main(unsigned id, const std::function<void()>& body) {
  const unsigned n = static_cast<unsigned>(outcome_.failures.size());
  arrived_.fetch_add(1);
  // Spin rather than sleep: a thread woken by a condition variable starts tens of microseconds
  // after the first one, long after a small section is done. A yield now and then lets a
  // machine with fewer cores than vCPUs get everyone there.
  for (unsigned spins = 0; arrived_.load() < n; ++spins)
    if (spins % 1024 == 1023) std::this_thread::yield();
  tl = {this, id};
  try {
    body();
  } catch (...) {
    outcome_.failures[id] = std::current_exception();
  }
  tl = {};
}

ThreadedRun* ThreadedRun::current() {
  return tl.run;
}

std::optional<unsigned> ThreadedRun::current_vcpu() {
  if (!tl.run) return std::nullopt;
  return tl.vcpu;
}

void ThreadedRun::rcu_read_lock() {
  rcu_depth_[tl.vcpu].fetch_add(1, std::memory_order_relaxed);
}

void ThreadedRun::rcu_read_unlock() {
  std::atomic<unsigned>& depth = rcu_depth_[tl.vcpu];
  if (depth.load(std::memory_order_relaxed) > 0) depth.fetch_sub(1, std::memory_order_relaxed);
}

bool ThreadedRun::in_read_side(unsigned vcpu) const {
  return vcpu < rcu_depth_.size() && rcu_depth_[vcpu].load(std::memory_order_relaxed) > 0;
}

void ThreadedRun::call_rcu(std::function<void()> free) {
  std::lock_guard lock(mutex_);
  deferred_.push_back(std::move(free));
}

}  // namespace mmudiff::sched

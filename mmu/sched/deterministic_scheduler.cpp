// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/sched/deterministic_scheduler.h"

#include <stdexcept>
#include <thread>

namespace mmudiff::sched {

namespace {

// The scheduler and vCPU of the calling thread, while it runs as a vCPU.
thread_local DeterministicScheduler* tl_scheduler = nullptr;
thread_local unsigned tl_vcpu = 0;

}  // namespace

ConcurrentRun DeterministicScheduler::run(std::vector<std::function<void()>> vcpus) {
  if (vcpus.empty() || vcpus.size() > kMaxVcpus)
    throw std::invalid_argument("DeterministicScheduler::run: 1 to 8 vCPUs");
  if (!finished_.empty()) throw std::logic_error("DeterministicScheduler::run: one run only");
  finished_.assign(vcpus.size(), false);
  result_.failures.assign(vcpus.size(), nullptr);
  running_ = 0;
  std::vector<std::thread> threads;
  threads.reserve(vcpus.size());
  for (unsigned i = 0; i < vcpus.size(); ++i)
    threads.emplace_back([this, i, &vcpus] { vcpu_main(i, vcpus[i]); });
  for (std::thread& t : threads) t.join();
  return std::move(result_);
}

void DeterministicScheduler::vcpu_main(unsigned id, const std::function<void()>& body) {
  {
    std::unique_lock lock(mutex_);
    turn_.wait(lock, [&] { return running_ == id; });
  }
  tl_scheduler = this;
  tl_vcpu = id;
  try {
    body();
  } catch (...) {
    result_.failures[id] = std::current_exception();
  }
  tl_scheduler = nullptr;
  std::unique_lock lock(mutex_);
  finished_[id] = true;
  since_switch_ = 0;
  const unsigned next = next_after(id);
  if (next != id) {
    running_ = next;
    turn_.notify_all();
  }
}

unsigned DeterministicScheduler::next_after(unsigned me) const {
  const unsigned n = static_cast<unsigned>(finished_.size());
  for (unsigned step = 1; step <= n; ++step) {
    const unsigned v = (me + step) % n;
    if (!finished_[v]) return v;
  }
  return me;
}

void DeterministicScheduler::hand_over(std::unique_lock<std::mutex>& lock, unsigned me,
                                       unsigned to) {
  running_ = to;
  turn_.notify_all();
  turn_.wait(lock, [&] { return running_ == me; });
}

void DeterministicScheduler::at_point(unsigned me, const char* what, const void* addr) {
  std::unique_lock lock(mutex_);
  ++result_.points;
  ++since_switch_;
  std::optional<unsigned> to;
  if (next_preemption_ < schedule_.size()) {
    const Preemption& p = schedule_[next_preemption_];
    if (since_switch_ > p.after) {
      ++next_preemption_;
      since_switch_ = 0;
      // A preemption to the running vCPU, to one that has finished or to one that does not
      // exist is spent without a switch: every schedule is a valid one.
      if (p.to != me && p.to < finished_.size() && !finished_[p.to]) to = p.to;
    }
  } else if (since_switch_ > kSpinLimit) {
    result_.spun = true;
    since_switch_ = 0;
    if (const unsigned next = next_after(me); next != me) to = next;
  }
  if (!to) return;
  result_.switches.push_back(
      {result_.points, me, *to, what ? what : "", reinterpret_cast<uintptr_t>(addr)});
  hand_over(lock, me, *to);
}

void DeterministicScheduler::point(const char* what, const void* addr) {
  if (tl_scheduler) tl_scheduler->at_point(tl_vcpu, what, addr);
}

std::optional<unsigned> DeterministicScheduler::current_vcpu() {
  if (!tl_scheduler) return std::nullopt;
  return tl_vcpu;
}

}  // namespace mmudiff::sched

extern "C" void mmudiff_sched_point(const char* what, const void* addr) {
  mmudiff::sched::DeterministicScheduler::point(what, addr);
}

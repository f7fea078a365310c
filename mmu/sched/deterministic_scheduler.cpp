// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/sched/deterministic_scheduler.h"

#include <algorithm>
#include <stdexcept>

#include "mmu/sched/threaded_run.h"
#include "mmu/sched/vcpu_threads.h"

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
  rcu_depth_.assign(vcpus.size(), 0);
  result_.failures.assign(vcpus.size(), nullptr);
  running_ = 0;
  run_vcpu_threads(
      static_cast<unsigned>(vcpus.size()), [this, &vcpus](unsigned i) { vcpu_main(i, vcpus[i]); },
      [this, &vcpus](size_t started) {
        // No thread to be had (a memory limit): the vCPUs started run to their ends without the
        // others, and the run fails.
        std::lock_guard lock(mutex_);
        for (size_t v = started; v < vcpus.size(); ++v) finished_[v] = true;
        if (running_ >= started) {
          running_ = 0;
          turn_.notify_all();
        }
      });
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
  // A vCPU that ends holds no reference: an unbalanced read side ends with it.
  if (rcu_depth_[id] > 0) rcu_event(RcuEvent::Kind::ReadUnlock, id);
  rcu_depth_[id] = 0;
  quiescent(lock, id);
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

void DeterministicScheduler::rcu_event(RcuEvent::Kind kind, unsigned vcpu, uint64_t callback,
                                       uint32_t readers) {
  result_.rcu_events.push_back({kind, vcpu, result_.points, callback, readers});
}

void DeterministicScheduler::rcu_read_lock() {
  DeterministicScheduler* s = tl_scheduler;
  if (!s) {
    if (ThreadedRun* t = ThreadedRun::current()) t->rcu_read_lock();
    return;
  }
  std::unique_lock lock(s->mutex_);
  if (s->rcu_depth_[tl_vcpu]++ == 0) s->rcu_event(RcuEvent::Kind::ReadLock, tl_vcpu);
}

void DeterministicScheduler::rcu_read_unlock() {
  DeterministicScheduler* s = tl_scheduler;
  if (!s) {
    if (ThreadedRun* t = ThreadedRun::current()) t->rcu_read_unlock();
    return;
  }
  std::unique_lock lock(s->mutex_);
  unsigned& depth = s->rcu_depth_[tl_vcpu];
  if (depth == 0) return;
  if (--depth == 0) {
    s->rcu_event(RcuEvent::Kind::ReadUnlock, tl_vcpu);
    s->quiescent(lock, tl_vcpu);
  }
}

void DeterministicScheduler::call_rcu(std::function<void()> free) {
  DeterministicScheduler* s = tl_scheduler;
  if (!s) {
    if (ThreadedRun* t = ThreadedRun::current()) return t->call_rcu(std::move(free));
    free();
    return;
  }
  std::unique_lock lock(s->mutex_);
  Deferred d{std::move(free), ++s->result_.deferred, std::vector<bool>(s->rcu_depth_.size())};
  uint32_t readers = 0;
  for (size_t v = 0; v < d.waits_for.size(); ++v) {
    d.waits_for[v] = s->rcu_depth_[v] > 0;
    if (d.waits_for[v]) readers |= uint32_t{1} << v;
  }
  s->rcu_event(RcuEvent::Kind::CallRcu, tl_vcpu, d.id, readers);
  if (!readers) {
    s->rcu_event(RcuEvent::Kind::Callback, tl_vcpu, d.id);
    lock.unlock();
    d.free();
    return;
  }
  ++s->result_.waited;
  s->deferred_.push_back(std::move(d));
}

void DeterministicScheduler::quiescent(std::unique_lock<std::mutex>& lock, unsigned me) {
  std::vector<std::function<void()>> due;
  for (auto it = deferred_.begin(); it != deferred_.end();) {
    it->waits_for[me] = false;
    if (std::none_of(it->waits_for.begin(), it->waits_for.end(), [](bool w) { return w; })) {
      rcu_event(RcuEvent::Kind::Callback, me, it->id);
      due.push_back(std::move(it->free));
      it = deferred_.erase(it);
    } else {
      ++it;
    }
  }
  if (due.empty()) return;
  // The callbacks run on this vCPU, in the order they were deferred, as RCU's callbacks run on
  // the CPU that ends the grace period; they may reach scheduling points of their own.
  lock.unlock();
  for (auto& free : due) free();
  lock.lock();
}

bool DeterministicScheduler::in_read_side(unsigned vcpu) {
  DeterministicScheduler* s = tl_scheduler;
  if (!s) {
    const ThreadedRun* t = ThreadedRun::current();
    return t && t->in_read_side(vcpu);
  }
  std::unique_lock lock(s->mutex_);
  return vcpu < s->rcu_depth_.size() && s->rcu_depth_[vcpu] > 0;
}

std::optional<unsigned> DeterministicScheduler::current_vcpu() {
  if (!tl_scheduler) return ThreadedRun::current_vcpu();
  return tl_vcpu;
}

}  // namespace mmudiff::sched

// The C hooks of mmu/sched/sched_hooks.h.

using mmudiff::sched::DeterministicScheduler;

extern "C" void mmudiff_sched_point(const char* what, const void* addr) {
  DeterministicScheduler::point(what, addr);
}

extern "C" int mmudiff_sched_access(const char* what, const void* addr) {
  // A vCPU of a threaded run makes no point, but its access is checked all the same.
  if (!mmudiff::sched::tl_scheduler) return mmudiff::sched::ThreadedRun::current() != nullptr;
  DeterministicScheduler::point(what, addr);
  return 1;
}

extern "C" void mmudiff_sched_rcu_read_lock(void) {
  DeterministicScheduler::rcu_read_lock();
}

extern "C" void mmudiff_sched_rcu_read_unlock(void) {
  DeterministicScheduler::rcu_read_unlock();
}

extern "C" void mmudiff_sched_call_rcu(void (*fn)(void*), void* arg) {
  // Outside a run: at once, without making a std::function (a serial stream's every free of an
  // unlinked table comes through here).
  if (!mmudiff::sched::tl_scheduler && !mmudiff::sched::ThreadedRun::current()) {
    fn(arg);
    return;
  }
  DeterministicScheduler::call_rcu([fn, arg] { fn(arg); });
}

extern "C" void mmudiff_sched_lost_cmpxchg(void) {
  if (mmudiff::sched::ThreadedRun* t = mmudiff::sched::ThreadedRun::current()) t->lost_cmpxchg();
}

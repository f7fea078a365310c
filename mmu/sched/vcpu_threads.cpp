// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/sched/vcpu_threads.h"

#include <thread>
#include <vector>

namespace mmudiff::sched {

void run_vcpu_threads(unsigned count, const std::function<void(unsigned vcpu)>& body,
                      const std::function<void(size_t started)>& not_started) {
  std::vector<std::thread> threads;
  threads.reserve(count);
  try {
    for (unsigned i = 0; i < count; ++i) threads.emplace_back([&body, i] { body(i); });
  } catch (...) {
    not_started(threads.size());
    for (std::thread& t : threads) t.join();
    throw;
  }
  for (std::thread& t : threads) t.join();
}

}  // namespace mmudiff::sched

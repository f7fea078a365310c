// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/machine_pool.h"

#include <vector>

namespace mmudiff {
namespace {

// Enough for every lane of a run and of the run nested in it (a minimiser's), not so many that
// idle arenas hold much memory: each keeps at most SimMemory::kResidentAfterReset pages.
constexpr size_t kMaxSpare = 8;

std::vector<std::unique_ptr<Machine>>& spare() {
  thread_local std::vector<std::unique_ptr<Machine>> machines;
  return machines;
}

}  // namespace

void ReturnToPool::operator()(Machine* m) const {
  std::unique_ptr<Machine> owned(m);
  if (spare().size() >= kMaxSpare) return;
  owned->reset();
  spare().push_back(std::move(owned));
}

PooledMachine pooled_machine(const MemoryLimits& limits) {
  auto& machines = spare();
  for (auto it = machines.begin(); it != machines.end(); ++it)
    if ((*it)->memory.limits() == limits) {
      PooledMachine m(it->release());
      machines.erase(it);
      return m;
    }
  return PooledMachine(new Machine(limits));
}

}  // namespace mmudiff

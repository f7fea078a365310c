// SPDX-License-Identifier: GPL-2.0-only
// Machines that outlive the streams they run. A fuzz loop runs hundreds of streams a second per
// core, and a new Machine per lane and stream cost an mmap of its arena, a page fault for every
// table page it touched and a munmap each time. A PooledMachine goes back to its thread's pool
// when it is dropped, reset as new (Machine::reset); the next stream with the same limits takes
// it. No stream sees what the one before left: its pages are zero and unused again.
#pragma once

#include <memory>

#include "mmu/backend.h"

namespace mmudiff {

struct ReturnToPool {
  void operator()(Machine* m) const;
};
// Drop it only once no backend is left on it.
using PooledMachine = std::unique_ptr<Machine, ReturnToPool>;

// A machine as new, of these limits: a pooled one when this thread has one.
PooledMachine pooled_machine(const MemoryLimits& limits);

}  // namespace mmudiff

// SPDX-License-Identifier: GPL-2.0-only
// The threads of a run's vCPUs, started together and all joined before the run returns, as the
// deterministic scheduler and the threaded run both need them.
#pragma once

#include <cstddef>
#include <functional>

namespace mmudiff::sched {

// Runs BODY(i) on a thread of its own for each vCPU i < COUNT and joins them all. When a thread
// cannot be started (a memory limit), NOT_STARTED(k) is called with the number that were, so
// that the caller can let those run to their ends without the others; they are joined, and the
// error is rethrown.
void run_vcpu_threads(unsigned count, const std::function<void(unsigned vcpu)>& body,
                      const std::function<void(size_t started)>& not_started);

}  // namespace mmudiff::sched

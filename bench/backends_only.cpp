// SPDX-License-Identifier: GPL-2.0-only
#include "bench/backends_only.h"

#include <memory>
#include <vector>

#include "mmu/backend.h"
#include "mmu/machine_pool.h"

namespace mmudiff::bench {

void run_backends_only(const Stream& stream) {
  const Arch arch = stream_arch(stream);
  MemoryLimits limits;
  if (arch == Arch::X86Ept) limits.phys_base = kLowTablePhysBase;  // as the harness runs x86
  // Machines declared first, so they outlive the backends.
  std::vector<PooledMachine> machines;
  std::vector<std::unique_ptr<Backend>> backends;
  for (const auto& info : backends_of(arch)) {
    machines.push_back(pooled_machine(limits));
    backends.push_back(info.create(*machines.back(), Plant::kNone));
  }
  for (size_t b = 0; b < backends.size(); ++b) {
    Config config;
    for (const Op& op : stream) {
      if (op.kind == OpKind::Init) config = op.config;
      if (op.kind != OpKind::Init && !backends[b]->root().live()) continue;
      OpResult r = apply_op(*backends[b], *machines[b], op, config);
      asm volatile("" : : "r"(&r) : "memory");  // the result is used
      machines[b]->effects.clear();
    }
    if (backends[b]->root().live()) backends[b]->destroy();
  }
}

}  // namespace mmudiff::bench

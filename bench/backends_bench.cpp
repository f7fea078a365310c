// SPDX-License-Identifier: GPL-2.0-only
// Throughput of each backend alone on the same fixed set of random 64-operation streams, so the
// backends' costs can be read as ratios from one run.
#include <benchmark/benchmark.h>

#include <random>

#include "mmu/backend.h"
#include "mmu/ops/random_stream.h"

namespace {

using namespace mmudiff;

const std::vector<Stream>& streams() {
  static const std::vector<Stream> s = [] {
    std::mt19937_64 rng(20201);
    std::vector<Stream> out;
    RandomStreamOptions opt;
    opt.min_ops = opt.max_ops = 64;
    for (int i = 0; i < 256; ++i) out.push_back(random_stream(rng, opt));
    return out;
  }();
  return s;
}

void run_backend_alone(benchmark::State& state, const BackendInfo* info) {
  size_t ops = 0, i = 0;
  for (auto _ : state) {
    const Stream& s = streams()[i++ % streams().size()];
    Machine machine;
    auto backend = create_arm64(*info, machine, Plant::kNone);
    for (const Op& op : s) {
      if (op.kind != OpKind::Init && !backend->root().live()) continue;
      benchmark::DoNotOptimize(apply_op(*backend, machine, op));
      if (machine.memory.bound_reached()) break;
    }
    if (backend->root().live()) backend->destroy();
    ops += s.size();
  }
  state.counters["ops/s"] =
      benchmark::Counter(static_cast<double>(ops), benchmark::Counter::kIsRate);
}

const bool registered = [] {
  for (const auto& b : backends_of(Arch::Arm64S2))
    benchmark::RegisterBenchmark(("BM_Backend/" + std::string(b.name)).c_str(), run_backend_alone,
                                 &b);
  return true;
}();

}  // namespace

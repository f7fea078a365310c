// SPDX-License-Identifier: GPL-2.0-only
// What the oracles cost next to the backends they judge, and what the masked hash tree costs next
// to plain SipHash over the same bytes. Read the results as ratios from one run:
//   oracle overhead = BM_Harness/all / BM_BackendsOnly/all  (same 64-operation streams)
//   hash overhead   = BM_MaskedHashTree_1GiB / BM_PlainSipHash_sameBytes
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "mmu/backend.h"
#include "mmu/format/arm64_s2.h"
#include "mmu/ops/random_stream.h"
#include "oracles/harness.h"
#include "oracles/table_hash.h"

namespace {

using namespace mmudiff;

const std::vector<Stream>& streams64() {
  static const std::vector<Stream> s = [] {
    std::mt19937_64 rng(64);
    RandomStreamOptions opt;
    opt.min_ops = opt.max_ops = 64;
    std::vector<Stream> out;
    for (int i = 0; i < 256; ++i) out.push_back(random_stream(rng, opt));
    return out;
  }();
  return s;
}

// The backends alone, in lockstep, with no oracle: the denominator of the overhead ratio.
void BM_BackendsOnly(benchmark::State& state) {
  size_t i = 0;
  for (auto _ : state) {
    const Stream& s = streams64()[i++ % streams64().size()];
    std::vector<std::unique_ptr<Machine>> machines;
    std::vector<std::unique_ptr<Backend>> backends;
    for (const auto& info : registered_backends()) {
      machines.push_back(std::make_unique<Machine>());
      backends.push_back(info.create(*machines.back(), Plant::kNone));
    }
    for (size_t b = 0; b < backends.size(); ++b) {
      for (const Op& op : s) {
        if (op.kind != OpKind::Init && !backends[b]->root().live()) continue;
        benchmark::DoNotOptimize(apply_op(*backends[b], *machines[b], op));
        machines[b]->effects.clear();
      }
      if (backends[b]->root().live()) backends[b]->destroy();
    }
  }
  state.counters["streams/s"] =
      benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_BackendsOnly)->Name("BM_BackendsOnly/all");

void BM_HarnessWithOracles(benchmark::State& state) {
  size_t i = 0;
  HarnessOptions options;
  for (auto _ : state)
    benchmark::DoNotOptimize(run_stream(streams64()[i++ % streams64().size()], options));
  state.counters["streams/s"] =
      benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_HarnessWithOracles)->Name("BM_Harness/all");

// A 1 GiB range mapped in 4 KiB pages: 262,144 level-3 descriptors in 512 pages, plus the levels
// above them.
struct BigTable {
  Machine machine{MemoryLimits{.max_pages = 4096, .quarantine = 64}};
  std::unique_ptr<Backend> backend;
  BigTable() {
    backend = registered_backends().front().create(machine, Plant::kNone);
    Config c;
    c.force_pte = ForcePte::Always;
    backend->init(c);
    Memcache mc(machine.memory, 1024);
    backend->map(0x40000000, arm64s2::granule_size(1), 0x80000000,
                 arm64s2::prot::kR | arm64s2::prot::kW, &mc);
    machine.effects.clear();
  }
};

BigTable& big_table() {
  static BigTable t;
  return t;
}

void BM_MaskedHashTree_1GiB(benchmark::State& state) {
  BigTable& t = big_table();
  SipKey key{};
  size_t bytes = 0;
  for (auto _ : state) {
    HashedTable h = hash_table(t.backend->root(), t.machine.memory, key);
    bytes = h.pages * 4096;
    benchmark::DoNotOptimize(h.root_hash);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(bytes));
  state.counters["table_pages"] = double(bytes / 4096);
}
BENCHMARK(BM_MaskedHashTree_1GiB)->Unit(benchmark::kMillisecond);

// Plain SipHash-2-4 over the same number of bytes, 4 KiB at a time, from data computed at run
// time (so the compiler cannot fold it).
void BM_PlainSipHash_sameBytes(benchmark::State& state) {
  BigTable& t = big_table();
  size_t pages = hash_table(t.backend->root(), t.machine.memory, SipKey{}).pages;
  std::vector<uint64_t> data(pages * 512);
  std::mt19937_64 rng(1);
  for (auto& w : data) w = rng();
  SipKey key{};
  for (auto _ : state) {
    uint64_t acc = 0;
    for (size_t p = 0; p < pages; ++p) acc ^= siphash24(key, &data[p * 512], 4096);
    benchmark::DoNotOptimize(acc);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(pages * 4096));
}
BENCHMARK(BM_PlainSipHash_sameBytes)->Unit(benchmark::kMillisecond);

}  // namespace

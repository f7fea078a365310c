// SPDX-License-Identifier: GPL-2.0-only
// What the oracles cost next to the backends they judge, and what the masked hash tree costs next
// to plain SipHash over the same bytes. The ratios from one run, which mmudiff_bench prints after
// the benchmarks (bench/bench_ratios.cpp):
//   oracle overhead = BM_Harness/all / BM_BackendsOnly/all  (same 64-operation streams; in
//                     instructions, which do not move between runs: bench/ir_ratio.sh)
//   cost per operation by stream length: the per_op counters of BM_HarnessByLength/segments:N
//                     and BM_BackendsOnlyByLength/segments:N, streams of N x 65 operations
//                     (flat in N: nothing in the harness grows with the stream)
//   hash overhead   = BM_MaskedHashTree_1GiB / BM_PlainSipHash_sameBytes
//   hash cache gain = BM_HashCheckPerOp_1GiB/cache:0 / BM_HashCheckPerOp_1GiB/cache:1
//   every-op check cost per operation on a 1 GiB table against a near-empty one: see
//                     BM_EveryOpRun below; on 64-operation random streams:
//                     (BM_Harness/every_op - BM_Harness/all) / 64
#include <benchmark/benchmark.h>

#include <map>
#include <random>
#include <vector>

#include "bench/backends_only.h"
#include "bench/streams64.h"
#include "mmu/backend.h"
#include "mmu/format/arm64_s2.h"
#include "oracles/harness.h"
#include "oracles/table_hash.h"

namespace {

using namespace mmudiff;
using bench::kSegmentOps;
using bench::run_backends_only;
using bench::segmented_streams;
using bench::streams64;

// The backends alone: the denominator of the overhead ratio.
void BM_BackendsOnly(benchmark::State& state) {
  size_t i = 0;
  for (auto _ : state) {
    run_backends_only(streams64()[i++ % streams64().size()]);
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

// "per_op": the time per operation, each iteration running one stream of `ops` operations.
void per_op_counter(benchmark::State& state, size_t ops) {
  state.counters["per_op"] =
      benchmark::Counter(double(state.iterations()) * double(ops),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// The same streams with --every-op: the per-operation check on small tables, which the
// per-operation check on a 1 GiB table (BM_EveryOpRun) is compared with.
void BM_HarnessEveryOp(benchmark::State& state) {
  size_t i = 0;
  HarnessOptions options;
  options.check_every_op = true;
  for (auto _ : state)
    benchmark::DoNotOptimize(run_stream(streams64()[i++ % streams64().size()], options));
  per_op_counter(state, 64);
}
BENCHMARK(BM_HarnessEveryOp)->Name("BM_Harness/every_op");

// Per-operation cost against stream length (range(0) segments of kSegmentOps operations), both
// sides over the same streams.
void BM_BackendsOnlyByLength(benchmark::State& state) {
  const auto& streams = segmented_streams(size_t(state.range(0)));
  size_t i = 0;
  for (auto _ : state) run_backends_only(streams[i++ % streams.size()]);
  per_op_counter(state, size_t(state.range(0)) * kSegmentOps);
}
BENCHMARK(BM_BackendsOnlyByLength)->ArgName("segments")->RangeMultiplier(4)->Range(1, 64);

void BM_HarnessByLength(benchmark::State& state) {
  const auto& streams = segmented_streams(size_t(state.range(0)));
  HarnessOptions options;
  options.work_budget = false;
  size_t i = 0;
  for (auto _ : state) {
    StreamReport r = run_stream(streams[i++ % streams.size()], options);
    if (!r.equivalent()) state.SkipWithError("the backends disagree on a benchmark stream");
    benchmark::DoNotOptimize(r.root_hashes);
  }
  per_op_counter(state, size_t(state.range(0)) * kSegmentOps);
}
BENCHMARK(BM_HarnessByLength)->ArgName("segments")->RangeMultiplier(4)->Range(1, 64);

// A 1 GiB range mapped in 4 KiB pages: 262,144 level-3 descriptors in 512 pages, plus the levels
// above them.
struct BigTable {
  Machine machine{MemoryLimits{.max_pages = 4096, .quarantine = 64}};
  std::unique_ptr<Arm64S2Backend> backend;
  BigTable() {
    backend = create_arm64(backends_of(Arch::Arm64S2).front(), machine, Plant::kNone);
    Arm64S2Config c;
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

// One small operation on the big table and the masked hash check after it, as --every-op runs
// it on one lane: wrprotect a page, or give its write permission back, so the table cycles
// through the same states. With the cache (range(0) = 1) only the written page and its
// ancestors are rehashed; without it the whole tree is.
void BM_HashCheckPerOp_1GiB(benchmark::State& state) {
  static BigTable t;  // its own: the operations write to it
  const bool cached = state.range(0) != 0;
  TableHashCache cache(SipKey{});
  cache.update(t.backend->root(), t.machine.memory);
  std::mt19937_64 rng(5);
  size_t rehashed = 0, ops = 0;
  for (auto _ : state) {
    uint64_t ipa = 0x40000000 + (rng() % 262144) * 4096;
    t.backend->wrprotect(ipa, 4096);
    t.machine.effects.clear();
    HashedTable h = cached ? cache.update(t.backend->root(), t.machine.memory)
                           : hash_table(t.backend->root(), t.machine.memory, SipKey{});
    benchmark::DoNotOptimize(h.root_hash);
    t.backend->relax_perms(ipa, arm64s2::prot::kR | arm64s2::prot::kW);
    t.machine.effects.clear();
    h = cached ? cache.update(t.backend->root(), t.machine.memory)
               : hash_table(t.backend->root(), t.machine.memory, SipKey{});
    benchmark::DoNotOptimize(h.root_hash);
    rehashed += cached ? cache.rehashed() : h.pages;
    ops += 2;
  }
  state.SetItemsProcessed(int64_t(ops));
  state.counters["pages_rehashed_per_check"] = double(rehashed) / double(state.iterations());
}
BENCHMARK(BM_HashCheckPerOp_1GiB)->ArgName("cache")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// The whole harness on a stream that maps range(1) MiB in 4 KiB pages and then makes range(2)
// small operations on it: mode 0 checks at the end only, mode 1 after every operation with the
// hash cache (and so within the windows that changed), mode 2 after every operation without it.
// What one check after a small operation costs on that table:
//   ((modeN, ops 272) - (modeN, ops 16) - ((mode 0, ops 272) - (mode 0, ops 16))) / 256
// which takes out the big map, its check and the final check. 1024 MiB is the 1 GiB table
// (262,144 leaves); 2 MiB (512 leaves) is the near-empty one it is compared with.
Stream every_op_stream(uint64_t map_mib, size_t small_ops) {
  Stream s;
  Op init;
  init.kind = OpKind::Init;
  init.config.arm64.force_pte = ForcePte::Always;
  s.push_back(init);
  Op map;
  map.kind = OpKind::Map;
  map.addr = 0x40000000;
  map.size = map_mib << 20;
  map.phys = 0x80000000;
  map.prot = arm64s2::prot::kR | arm64s2::prot::kW;
  map.memcache = kMaxMemcache;
  s.push_back(map);
  const uint64_t pages = map.size / 4096;
  for (size_t i = 0; i < small_ops; ++i) {
    Op op;
    op.addr = 0x40000000 + (i * 7919 % pages) * 4096;
    if (i % 2 == 0) {
      op.kind = OpKind::Wrprotect;
      op.size = 4096;
    } else {
      op.kind = OpKind::Mkold;
    }
    s.push_back(canonical(op));
  }
  return s;
}

void BM_EveryOpRun(benchmark::State& state) {
  const Stream stream = every_op_stream(uint64_t(state.range(1)), size_t(state.range(2)));
  HarnessOptions options;
  options.check_every_op = state.range(0) != 0;
  options.hash_cache = state.range(0) == 1;
  // 262,144 leaves: far over the work budget, which is what this measures past.
  options.work_budget = false;
  for (auto _ : state) {
    StreamReport r = run_stream(stream, options);
    if (!r.equivalent()) state.SkipWithError("the backends disagree on the benchmark stream");
    benchmark::DoNotOptimize(r.root_hashes);
  }
}
BENCHMARK(BM_EveryOpRun)
    ->ArgNames({"mode", "mib", "ops"})
    ->ArgsProduct({{0, 1}, {2, 1024}, {16, 272}})
    ->Args({2, 1024, 16})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

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

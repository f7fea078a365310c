// SPDX-License-Identifier: GPL-2.0-only
// What the oracles cost next to the backends they judge, and what the masked hash tree costs next
// to plain SipHash over the same bytes. Read the results as ratios from one run:
//   oracle overhead = BM_Harness/all / BM_BackendsOnly/all  (same 64-operation streams)
//   cost per operation by stream length: the per_op counters of BM_HarnessByLength/segments:N
//                     and BM_BackendsOnlyByLength/segments:N, streams of N x 65 operations
//                     (flat in N: nothing in the harness grows with the stream)
//   hash overhead   = BM_MaskedHashTree_1GiB / BM_PlainSipHash_sameBytes
//   hash cache gain = BM_HashCheckPerOp_1GiB/cache:0 / BM_HashCheckPerOp_1GiB/cache:1
//   every-op check cost per operation, with and without the cache:
//                     (BM_EveryOpRun_1GiB/mode:N - BM_EveryOpRun_1GiB/mode:0) / kSmallOps
//                     on small tables: (BM_Harness/every_op - BM_Harness/all) / 64
#include <benchmark/benchmark.h>

#include <map>
#include <random>
#include <vector>

#include "mmu/backend.h"
#include "mmu/format/arm64_s2.h"
#include "mmu/machine_pool.h"
#include "mmu/ops/random_stream.h"
#include "oracles/harness.h"
#include "oracles/table_hash.h"

namespace {

using namespace mmudiff;

// Streams the harness runs to the end: one it refuses at the memory bound stops early there and
// would make the harness look cheaper than the backends running the whole stream alone.
const std::vector<Stream>& streams64() {
  static const std::vector<Stream> s = [] {
    std::mt19937_64 rng(64);
    RandomStreamOptions opt;
    opt.min_ops = opt.max_ops = 64;
    std::vector<Stream> out;
    while (out.size() < 256) {
      Stream stream = random_stream(rng, opt);
      if (!run_stream(stream, HarnessOptions{}).bound_reached) out.push_back(std::move(stream));
    }
    return out;
  }();
  return s;
}

// Streams of `segments` x 65 operations: each segment one of streams64() and a destroy. The
// table never outgrows a 64-operation stream's, so what the cost per operation does with the
// length is the harness's own doing (state that grows with the stream), not a bigger table's.
// The work budget holds each segment, not the whole: both sides run them without it.
constexpr size_t kSegmentOps = 65;
const std::vector<Stream>& streams_of(size_t segments) {
  static std::map<size_t, std::vector<Stream>> by_length;
  std::vector<Stream>& out = by_length[segments];
  if (!out.empty()) return out;
  Op destroy;
  destroy.kind = OpKind::Destroy;
  // 16 streams of each length, taking the segments in turn.
  for (size_t i = 0, next = 0; i < 16; ++i) {
    Stream s;
    for (size_t k = 0; k < segments; ++k, ++next) {
      const Stream& segment = streams64()[next % streams64().size()];
      s.insert(s.end(), segment.begin(), segment.end());
      s.push_back(destroy);
    }
    out.push_back(std::move(s));
  }
  return out;
}

// The backends alone, in lockstep, with no oracle, over `s`.
void run_backends_only(const Stream& s) {
  // Machines from the pool, as the harness takes them; declared first, so they outlive the
  // backends.
  std::vector<PooledMachine> machines;
  std::vector<std::unique_ptr<Arm64S2Backend>> backends;
  for (const auto& info : backends_of(Arch::Arm64S2)) {
    machines.push_back(pooled_machine(MemoryLimits{}));
    backends.push_back(create_arm64(info, *machines.back(), Plant::kNone));
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
// per-operation check on a 1 GiB table (BM_EveryOpRun_1GiB) is compared with.
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
  const auto& streams = streams_of(size_t(state.range(0)));
  size_t i = 0;
  for (auto _ : state) run_backends_only(streams[i++ % streams.size()]);
  per_op_counter(state, size_t(state.range(0)) * kSegmentOps);
}
BENCHMARK(BM_BackendsOnlyByLength)->ArgName("segments")->RangeMultiplier(4)->Range(1, 64);

void BM_HarnessByLength(benchmark::State& state) {
  const auto& streams = streams_of(size_t(state.range(0)));
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

// The whole harness on a stream that maps 1 GiB in 4 KiB pages and then makes kSmallOps small
// operations: mode 0 checks at the end only, mode 1 after every operation with the hash cache,
// mode 2 after every operation without it. The per-operation check cost is the difference to
// mode 0 divided by kSmallOps; it includes the architectural walk, the reference model's
// translation and the invariants, which are not incremental.
constexpr size_t kSmallOps = 16;

Stream every_op_stream() {
  Stream s;
  Op init;
  init.kind = OpKind::Init;
  init.config.arm64.force_pte = ForcePte::Always;
  s.push_back(init);
  Op map;
  map.kind = OpKind::Map;
  map.addr = 0x40000000;
  map.size = uint64_t{1} << 30;
  map.phys = 0x80000000;
  map.prot = arm64s2::prot::kR | arm64s2::prot::kW;
  map.memcache = kMaxMemcache;
  s.push_back(map);
  for (size_t i = 0; i < kSmallOps; ++i) {
    Op op;
    op.addr = 0x40000000 + (i * 7919 % 262144) * 4096;
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

void BM_EveryOpRun_1GiB(benchmark::State& state) {
  static const Stream stream = every_op_stream();
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
BENCHMARK(BM_EveryOpRun_1GiB)
    ->ArgName("mode")
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
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

// SPDX-License-Identifier: GPL-2.0-only
// The incremental masked hash: after every operation of thousands of random streams, on every
// backend, the cached hash tree equals the full recomputation — root, page count and every
// subtree — while rehashing only the pages written since the last check and their ancestors.
// Also the write generations it stands on: allocation, free and every recorded store move them.
#include <gtest/gtest.h>

#include <random>

#include <fmt/format.h>

#include "mmu/backend.h"
#include "mmu/format/arm64_s2.h"
#include "mmu/ops/random_stream.h"
#include "mmu/ops/text_format.h"
#include "oracles/harness.h"
#include "oracles/table_hash.h"
#include "tests/sanitizer_scale.h"
#include "tests/table_builder.h"

namespace mmudiff {
namespace {

using namespace mmudiff::testing;

const SipKey kKey = parse_sip_key("00112233445566778899aabbccddeeff");

// ---- Generations -------------------------------------------------------------------------------

TEST(WriteGenerations, AllocationFreeAndRecordedStoresMoveThem) {
  Machine m;
  ASSERT_TRUE(m.memory.tracks_stores());  // a Machine's EffectLog reports its stores
  void* p = m.memory.zalloc_page();
  uint64_t pa = m.memory.virt_to_phys(p);
  uint64_t g1 = m.memory.generation(pa);
  EXPECT_GT(g1, 0u);
  m.effects.store(pa + 8, 0, 0x403);
  uint64_t g2 = m.memory.generation(pa);
  EXPECT_GT(g2, g1);
  m.memory.put_page(p);  // freed: poisoned
  uint64_t g3 = m.memory.generation(pa);
  EXPECT_GT(g3, g2);
  EXPECT_EQ(m.memory.generation(pa + 4096), 0u);  // never allocated
  EXPECT_EQ(m.memory.generation(0x1000), 0u);     // not table memory at all
  EXPECT_EQ(m.memory.change_clock(), g3);
}

TEST(WriteGenerations, ChangedSinceListsEachChangedPageOnceAfterTheGivenClock) {
  Machine m;
  uint64_t a = m.memory.virt_to_phys(m.memory.zalloc_page());
  uint64_t b = m.memory.virt_to_phys(m.memory.zalloc_page());
  uint64_t c = m.memory.virt_to_phys(m.memory.zalloc_page());
  uint64_t since = m.memory.change_clock();
  m.effects.store(b, 0, 1);
  m.effects.store(a + 16, 0, 1);
  m.effects.store(b + 8, 0, 1);
  std::vector<uint64_t> changed;
  ASSERT_TRUE(m.memory.changed_since(since, &changed));
  EXPECT_EQ(changed, (std::vector<uint64_t>{a, b}));  // b once, at its latest change
  changed.clear();
  ASSERT_TRUE(m.memory.changed_since(0, &changed));
  EXPECT_EQ(changed, (std::vector<uint64_t>{c, a, b}));
}

TEST(WriteGenerations, AnEffectLogNotTrackingLeavesTheMemoryUntrusted) {
  SimMemory memory;
  EXPECT_FALSE(memory.tracks_stores());
  EffectLog log;
  log.track_stores_in(memory);
  EXPECT_TRUE(memory.tracks_stores());
}

// ---- The cache against the full hash -----------------------------------------------------------

// Everything hash_table() says about the table, the cache must say too.
void expect_same(const HashedTable& full, const HashedTable& cached, const TableHashCache& cache,
                 const std::string& where) {
  ASSERT_EQ(full.root_hash, cached.root_hash) << where;
  ASSERT_EQ(full.pages, cached.pages) << where;
  const uint64_t low = 4095;
  for (const auto& [key, h] : full.subtree_hashes) {
    auto c = cache.subtree_hash(key & ~low, static_cast<unsigned>(key & low));
    ASSERT_TRUE(c.has_value()) << where << fmt::format(" page {:#x}", key);
    ASSERT_EQ(*c, h) << where << fmt::format(" page {:#x}", key);
  }
  // And nothing the full hash did not reach (no dropped page lingers as live).
  ASSERT_EQ(cache.entries() >= full.subtree_hashes.size(), true) << where;
}

// Runs streams through one backend, checking the cache against the full hash after every
// operation; returns how many checks were made.
size_t check_backend(const BackendInfo& info, size_t streams, uint64_t seed) {
  std::mt19937_64 rng(seed);
  size_t checks = 0;
  for (size_t s = 0; s < streams; ++s) {
    Stream stream = random_stream(rng);
    Machine machine;
    auto backend = create_arm64(info, machine, Plant::kNone);
    TableHashCache cache(kKey);
    for (size_t i = 0; i < stream.size(); ++i) {
      const Op& op = stream[i];
      if (op.kind != OpKind::Init && !backend->root().live()) continue;
      if (op.kind == OpKind::Init && backend->root().live()) backend->destroy();
      apply_op(*backend, machine, op);
      machine.effects.clear();
      HashedTable cached = cache.update(backend->root(), machine.memory);
      HashedTable full = hash_table(backend->root(), machine.memory, kKey);
      std::string where = fmt::format("{} stream {} op {}: {}", info.name, s, i, format_op(op));
      expect_same(full, cached, cache, where);
      if (::testing::Test::HasFatalFailure()) return checks;
      ++checks;
    }
    if (backend->root().live()) backend->destroy();
  }
  return checks;
}

TEST(HashCache, EqualsTheFullHashAfterEveryOperationOfRandomStreamsOnEveryBackend) {
  const size_t streams = sanitizer_scaled(2000);
  for (const auto& info : backends_of(Arch::Arm64S2)) {
    size_t checks = check_backend(info, streams, 0x5eed + info.name.size());
    if (HasFatalFailure()) return;
    EXPECT_GT(checks, streams * 4) << info.name;  // most streams run many operations
  }
}

// A table built by hand: the cache follows recorded stores three levels deep.
TEST(HashCache, AChangedLeafPageInvalidatesEveryAncestor) {
  TableBuilder b;
  b.log().track_stores_in(b.memory());
  b.page(0x0000'8040'1234'5000, 0xa000'5000);
  b.page(0x1000, 0x8000'1000);
  TableHashCache cache(kKey);
  HashedTable first = cache.update(b.root(), b.memory());
  EXPECT_EQ(cache.rehashed(), first.pages);
  // Nothing written: nothing rehashed.
  HashedTable again = cache.update(b.root(), b.memory());
  EXPECT_EQ(again.root_hash, first.root_hash);
  EXPECT_EQ(cache.rehashed(), 0u);
  // One level-3 store: that page and its three ancestors, nothing else.
  b.page(0x0000'8040'1234'6000, 0xa000'6000);
  HashedTable after = cache.update(b.root(), b.memory());
  EXPECT_NE(after.root_hash, first.root_hash);
  EXPECT_EQ(cache.rehashed(), 4u);
  expect_same(hash_table(b.root(), b.memory(), kKey), after, cache, "after one store");
}

TEST(HashCache, AUnrecordedWriteIsInvisibleToItWhichIsWhyTheHarnessEndsWithAFullHash) {
  TableBuilder b;
  b.log().track_stores_in(b.memory());
  b.page(0x1000, 0x8000'1000);
  TableHashCache cache(kKey);
  uint64_t before = cache.update(b.root(), b.memory()).root_hash;
  b.poke(0x1000, 3, leaf(3, 0x8000'1000, {.x = true}));  // no store recorded
  EXPECT_EQ(cache.update(b.root(), b.memory()).root_hash, before);
  EXPECT_NE(hash_table(b.root(), b.memory(), kKey).root_hash, before);
}

TEST(HashCache, WithoutStoreTrackingEveryUpdateIsAFullHash) {
  TableBuilder b;  // its EffectLog does not report to its memory
  b.page(0x1000, 0x8000'1000);
  TableHashCache cache(kKey);
  cache.update(b.root(), b.memory());
  b.poke(0x1000, 3, leaf(3, 0x8000'1000, {.x = true}));
  EXPECT_EQ(cache.update(b.root(), b.memory()).root_hash,
            hash_table(b.root(), b.memory(), kKey).root_hash);
}

TEST(HashCache, APageFreedAndReusedElsewhereIsNotServedFromTheCache) {
  // Unmapping frees the level-3 table; mapping elsewhere reuses pages after the quarantine. The
  // generations of freed and reallocated pages must invalidate what was cached for them.
  for (const auto& info : backends_of(Arch::Arm64S2)) {
    Machine m(MemoryLimits{.max_pages = 256, .quarantine = 0});
    auto backend = create_arm64(info, m, Plant::kNone);
    ASSERT_EQ(backend->init(Arm64S2Config{}), 0);
    TableHashCache cache(kKey);
    const uint64_t prot = arm64s2::prot::kR | arm64s2::prot::kW;
    for (int round = 0; round < 8; ++round) {
      Memcache mc(m.memory, 16);
      uint64_t ipa = uint64_t(round % 3) << 30;
      ASSERT_EQ(backend->map(ipa, 0x4000, 0x8000'0000 + round * 0x4000, prot, &mc), 0);
      expect_same(hash_table(backend->root(), m.memory, kKey),
                  cache.update(backend->root(), m.memory), cache,
                  fmt::format("{} map round {}", info.name, round));
      ASSERT_EQ(backend->unmap(ipa, 0x4000), 0);
      expect_same(hash_table(backend->root(), m.memory, kKey),
                  cache.update(backend->root(), m.memory), cache,
                  fmt::format("{} unmap round {}", info.name, round));
      m.effects.clear();
    }
    backend->destroy();
  }
}

TEST(HashCache, AfterABigMapASmallOperationRehashesOnlyItsPath) {
  // 1 GiB in 4 KiB pages: more stores than the journal holds, so the first update after it
  // compares every generation; the next ones follow the journal.
  Machine m(MemoryLimits{.max_pages = 2048, .quarantine = 64});
  auto backend = create_arm64(backends_of(Arch::Arm64S2).front(), m, Plant::kNone);
  Arm64S2Config c;
  c.force_pte = ForcePte::Always;
  ASSERT_EQ(backend->init(c), 0);
  TableHashCache cache(kKey);
  cache.update(backend->root(), m.memory);
  Memcache mc(m.memory, 1024);
  const uint64_t prot = arm64s2::prot::kR | arm64s2::prot::kW;
  ASSERT_EQ(backend->map(0x4000'0000, uint64_t{1} << 30, 0x8000'0000, prot, &mc), 0);
  m.effects.clear();
  HashedTable big = cache.update(backend->root(), m.memory);
  expect_same(hash_table(backend->root(), m.memory, kKey), big, cache, "after the 1 GiB map");
  EXPECT_GE(big.pages, 514u);
  ASSERT_EQ(backend->wrprotect(0x4000'0000 + 0x1234'5000, 0x1000), 0);
  m.effects.clear();
  HashedTable small = cache.update(backend->root(), m.memory);
  expect_same(hash_table(backend->root(), m.memory, kKey), small, cache, "after wrprotect");
  EXPECT_LE(cache.rehashed(), 4u);
  EXPECT_LT(small.bytes_hashed * 100, big.pages * 4096);
  backend->destroy();
}

// ---- The harness with and without the cache ----------------------------------------------------

TEST(HashCache, TheHarnessReportsTheSameWithAndWithoutIt) {
  std::mt19937_64 rng(99);
  HarnessOptions with, without;
  with.check_every_op = without.check_every_op = true;
  with.hash_key = without.hash_key = kKey;
  without.hash_cache = false;
  for (size_t s = 0; s < sanitizer_scaled(200); ++s) {
    Stream stream = random_stream(rng);
    StreamReport a = run_stream(stream, with), b = run_stream(stream, without);
    ASSERT_EQ(a.root_hashes, b.root_hashes) << s;
    ASSERT_EQ(a.findings.size(), b.findings.size()) << s;
    for (size_t i = 0; i < a.findings.size(); ++i) {
      EXPECT_EQ(a.findings[i].signature(), b.findings[i].signature());
      EXPECT_EQ(a.findings[i].summary, b.findings[i].summary);
    }
  }
}

}  // namespace
}  // namespace mmudiff

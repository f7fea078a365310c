// SPDX-License-Identifier: GPL-2.0-only
// The legacy backend in the arm64-6.12 profile: one case per rule in which Linux 6.12's stage-2
// code differs from 6.1's (mmu/legacy/generation.h), each checked on legacy's own effects and
// table and, when linux612 is built, run through the harness beside the real 6.12 code; the same
// operation under 6.1 where the difference shows best; its self-check after every operation of
// random 6.12 streams; and a differential run against linux612 over random 6.12 streams.
//   MMUDIFF_LEGACY_STREAMS / MMUDIFF_LEGACY_SEED scale and vary the random runs.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "mmu/backend.h"
#include "mmu/format/arm64_s2.h"
#include "mmu/legacy/legacy_backend.h"
#include "mmu/ops/random_stream.h"
#include "mmu/ops/text_format.h"
#include "oracles/harness.h"
#include "tests/effects_of_kind.h"
#include "tests/env_knob.h"
#include "tests/sanitizer_scale.h"

namespace mmudiff {
namespace {

using namespace arm64s2;
using legacy::LegacyBackend;

constexpr uint64_t K4 = 0x1000;
constexpr uint64_t M2 = 0x20'0000;
constexpr uint64_t G1 = 0x4000'0000;
constexpr uint64_t kRW = prot::kR | prot::kW;
constexpr uint64_t kLocked = bit(10);  // KVM_INVALID_PTE_LOCKED

size_t stream_count(size_t fallback) {
  return mmudiff::testing::env_u64("MMUDIFF_LEGACY_STREAMS",
                                   mmudiff::testing::sanitizer_scaled(fallback));
}
uint64_t seed(uint64_t fallback) {
  return mmudiff::testing::env_u64("MMUDIFF_LEGACY_SEED", fallback);
}

bool have_linux612() {
  return find_backend("linux612", ProfileId::Arm64Linux612) != nullptr;
}

// Every oracle's verdict on legacy beside linux612, after every operation; "" when they agree.
std::string disagreement_with_linux612(const Stream& stream) {
  HarnessOptions options;
  options.backends = {"linux612", "legacy"};
  options.check_every_op = true;
  StreamReport r = run_stream(stream, options);
  if (r.backends.size() != 2) return fmt::format("ran {} backends, not 2", r.backends.size());
  if (r.bound_reached) return "bound reached: " + r.refusal;
  if (r.findings.empty()) return "";
  std::string out;
  for (const Finding& f : r.findings) {
    out += fmt::format("{} op {}: {}\n", f.oracle, f.op_index, f.summary);
    for (const std::string& e : f.evidence) out += "  " + e + "\n";
  }
  return out;
}

// A legacy table in one generation, driven one call at a time.
class Legacy612 : public ::testing::Test {
 protected:
  void start(Arm64Kernel kernel = Arm64Kernel::Linux612, uint8_t ia_bits = 40) {
    Arm64S2Config config;
    config.ia_bits = ia_bits;
    config.kernel = kernel;
    ASSERT_EQ(backend_->init(config), 0);
    machine_.effects.clear();
  }
  void SetUp() override { start(); }
  void TearDown() override {
    std::vector<std::string> problems = legacy().self_check();
    EXPECT_TRUE(problems.empty()) << problems.front();
    EXPECT_EQ(backend_->take_warnings(), std::vector<std::string>{});
    backend_->destroy();
    EXPECT_EQ(machine_.memory.live_pages(), 0u);
    EXPECT_TRUE(machine_.memory.faults().empty());
  }

  LegacyBackend& legacy() { return dynamic_cast<LegacyBackend&>(*backend_); }
  int map(uint64_t addr, uint64_t size, uint64_t pa, uint64_t prot_bits) {
    machine_.effects.clear();
    Memcache mc(machine_.memory, 16);
    return backend_->map(addr, size, pa, prot_bits, &mc);
  }
  int set_owner(uint64_t addr, uint64_t size, uint8_t owner) {
    machine_.effects.clear();
    Memcache mc(machine_.memory, 16);
    return backend_->set_owner(addr, size, &mc, owner);
  }
  uint64_t leaf(uint64_t addr) {
    uint64_t pte = 0;
    uint32_t level = 0;
    EXPECT_EQ(backend_->get_leaf(addr, &pte, &level), 0);
    return pte;
  }
  std::vector<Effect> of_kind(EffectKind kind) const {
    return mmudiff::testing::effects_of_kind(machine_.effects, kind);
  }
  std::vector<uint64_t> stored_values() const {
    std::vector<uint64_t> out;
    for (const Effect& e : of_kind(EffectKind::Store)) out.push_back(e.new_value);
    return out;
  }
  std::vector<EffectKind> kinds() const {
    std::vector<EffectKind> out;
    for (const Effect& e : machine_.effects.events()) out.push_back(e.kind);
    return out;
  }

  Machine machine_;
  std::unique_ptr<Arm64S2Backend> backend_ = make_legacy_backend(machine_, Plant::kNone);
};

// The same stream through linux612 and legacy: every oracle agrees after every operation.
void expect_as_linux612(std::string_view text) {
  if (!have_linux612()) return;
  Stream stream = parse_text(fmt::format("init ia=40 kernel=6.12\n{}", text), "legacy612_test");
  EXPECT_EQ(disagreement_with_linux612(stream), "") << text;
}

// ---- Break-before-make through the locked entry ----------------------------------------------

// 6.1: old -> 0 -> new. 6.12: old -> KVM_INVALID_PTE_LOCKED -> new, the TLBI in between.
TEST_F(Legacy612, BreakBeforeMakeGoesThroughTheLockedEntry) {
  ASSERT_EQ(map(G1, K4, G1, kRW), 0);
  const uint64_t old = leaf(G1);
  ASSERT_EQ(map(G1, K4, 2 * G1, kRW), 0);
  const uint64_t now = leaf(G1);
  EXPECT_EQ(output_address(now), 2 * G1);
  EXPECT_EQ(stored_values(), (std::vector<uint64_t>{kLocked, now}));
  EXPECT_EQ(of_kind(EffectKind::Store).front().old_value, old);
  EXPECT_EQ(kinds(), (std::vector<EffectKind>{EffectKind::Store, EffectKind::TlbiIpa,
                                              EffectKind::DcacheCleanInval, EffectKind::Store,
                                              EffectKind::Dsb}));
  EXPECT_EQ(of_kind(EffectKind::TlbiIpa).front().level, kLastLevel);
  expect_as_linux612(
      "map 0x40000000 4K pa=0x40000000 prot=rw mc=16\n"
      "map 0x40000000 4K pa=0x80000000 prot=rw mc=16\n");
}

// An empty entry is locked too before anything goes in: a new table, and a new leaf.
TEST_F(Legacy612, EmptyEntriesAreLockedBeforeTheyAreWritten) {
  ASSERT_EQ(map(G1, K4, G1, kRW), 0);
  // Level-1 entry, level-2 entry, the page: each 0 -> locked -> descriptor.
  const std::vector<uint64_t> stores = stored_values();
  ASSERT_EQ(stores.size(), 6u);
  for (size_t i = 0; i < 6; i += 2) EXPECT_EQ(stores[i], kLocked) << i;
  for (const Effect& e : of_kind(EffectKind::Store))
    EXPECT_TRUE(e.new_value != kLocked || e.old_value == 0) << e.old_value;
  EXPECT_EQ(stores.back(), leaf(G1));
  EXPECT_TRUE(of_kind(EffectKind::TlbiIpa).empty());
  // A page beside it in the same table: two stores.
  ASSERT_EQ(map(G1 + K4, K4, G1 + K4, kRW), 0);
  EXPECT_EQ(stored_values(), (std::vector<uint64_t>{kLocked, leaf(G1 + K4)}));
  expect_as_linux612(
      "map 0x40000000 4K pa=0x40000000 prot=rw mc=16\n"
      "map 0x40001000 4K pa=0x40001000 prot=rw mc=16\n");
}

// A block over a table: the table entry is locked, the whole VMID flushed (a range TLBI without
// FEAT_TLBIRANGE), the block made, and the old subtree freed.
TEST_F(Legacy612, ABlockOverATableLocksTheTableEntry) {
  ASSERT_EQ(map(G1, K4, G1, kRW), 0);
  const size_t pages_with_table = machine_.memory.live_pages();
  ASSERT_EQ(map(G1, M2, G1, kRW), 0);
  const uint64_t block = leaf(G1);
  EXPECT_EQ(stored_values(), (std::vector<uint64_t>{kLocked, block}));
  EXPECT_EQ(kinds(), (std::vector<EffectKind>{EffectKind::Store, EffectKind::TlbiVmid,
                                              EffectKind::DcacheCleanInval, EffectKind::Store,
                                              EffectKind::Dsb}));
  EXPECT_EQ(machine_.memory.live_pages(), pages_with_table - 1);
  expect_as_linux612(
      "map 0x40000000 4K pa=0x40000000 prot=rw mc=16\n"
      "map 0x40000000 2M pa=0x40000000 prot=rw mc=16\n");
}

// ---- map: what is already there ----------------------------------------------------------------

// 6.1: -EAGAIN. 6.12 swallows the visitor's -EAGAIN outside a fault handler: 0, nothing stored.
TEST_F(Legacy612, MapOfTheSameMappingAgainReturnsZero) {
  ASSERT_EQ(map(G1, K4, G1, kRW), 0);
  const uint64_t before = leaf(G1);
  EXPECT_EQ(map(G1, K4, G1, kRW), 0);
  EXPECT_EQ(leaf(G1), before);
  EXPECT_TRUE(of_kind(EffectKind::Store).empty());
  expect_as_linux612(
      "map 0x40000000 4K pa=0x40000000 prot=rw mc=16\n"
      "map 0x40000000 4K pa=0x40000000 prot=rw mc=16\n");
}

// 6.1 stops at a leaf that differs only in permissions; 6.12 leaves it as it is and maps the rest.
TEST_F(Legacy612, APermissionOnlyChangeSkipsTheLeafAndMapsTheRest) {
  ASSERT_EQ(map(G1, K4, G1, kRW), 0);
  const uint64_t rw = leaf(G1);
  EXPECT_EQ(map(G1, 2 * K4, G1, prot::kR), 0);
  EXPECT_EQ(leaf(G1), rw);
  const uint64_t next = leaf(G1 + K4);
  EXPECT_EQ(output_address(next), G1 + K4);
  EXPECT_EQ(next & (kS2apR | kS2apW), kS2apR);
  expect_as_linux612(
      "map 0x40000000 4K pa=0x40000000 prot=rw mc=16\n"
      "map 0x40000000 8K pa=0x40000000 prot=r mc=16\n");
}

// A change of software bits alone is one store, with no break and no TLBI.
TEST_F(Legacy612, ASoftwareBitsOnlyChangeIsOneStore) {
  ASSERT_EQ(map(G1, K4, G1, kRW), 0);
  ASSERT_EQ(map(G1, K4, G1, kRW | bit(55)), 0);
  const uint64_t now = leaf(G1);
  EXPECT_EQ(now & kSwMask, bit(55));
  EXPECT_EQ(stored_values(), (std::vector<uint64_t>{now}));
  EXPECT_TRUE(of_kind(EffectKind::TlbiIpa).empty());
  EXPECT_TRUE(of_kind(EffectKind::DcacheCleanInval).empty());
  expect_as_linux612(
      "map 0x40000000 4K pa=0x40000000 prot=rw mc=16\n"
      "map 0x40000000 4K pa=0x40000000 prot=rw sw=1 mc=16\n");
}

// ---- Cache maintenance looks at valid descriptors only -----------------------------------------

// An owner annotation has XN clear, which 6.1 takes for "executable" (an icache invalidation of
// PA 0); 6.12 asks for a valid descriptor first.
TEST_F(Legacy612, AnOwnerAnnotationGetsNoCacheMaintenance) {
  ASSERT_EQ(map(G1, K4, G1, kRW), 0);
  ASSERT_EQ(set_owner(G1 + K4, K4, 1), 0);
  EXPECT_EQ(stored_values(), (std::vector<uint64_t>{kLocked, leaf(G1 + K4)}));
  EXPECT_TRUE(of_kind(EffectKind::IcacheInval).empty());
  EXPECT_TRUE(of_kind(EffectKind::DcacheCleanInval).empty());
  expect_as_linux612(
      "map 0x40000000 4K pa=0x40000000 prot=rw mc=16\n"
      "set_owner 0x40001000 4K owner=1 mc=16\n");

  start(Arm64Kernel::Linux61);
  ASSERT_EQ(map(G1, K4, G1, kRW), 0);
  ASSERT_EQ(set_owner(G1 + K4, K4, 1), 0);
  EXPECT_EQ(of_kind(EffectKind::IcacheInval).size(), 1u);
}

// ---- The fault path's updates need a valid leaf ------------------------------------------------

// relax_perms where nothing is mapped: -EAGAIN (6.1: 0), and the TLBI by IPA at no level anyway.
TEST_F(Legacy612, RelaxPermsWhereNothingIsMappedIsEagainAndStillFlushes) {
  EXPECT_EQ(backend_->relax_perms(3 * G1 + 5, prot::kW), -EAGAIN);
  EXPECT_EQ(machine_.effects.events(),
            (std::vector<Effect>{{EffectKind::TlbiIpa, 0, Barrier::None, 3 * G1 + 5}}));
  // Where a leaf is, the TLBI carries its level.
  ASSERT_EQ(map(G1, M2, G1, prot::kR), 0);
  machine_.effects.clear();
  EXPECT_EQ(backend_->relax_perms(G1 + K4, prot::kW), 0);
  ASSERT_EQ(of_kind(EffectKind::TlbiIpa).size(), 1u);
  EXPECT_EQ(of_kind(EffectKind::TlbiIpa).front().level, 2u);
  expect_as_linux612(
      "relax_perms 0xc0000005 prot=w\n"
      "map 0x40000000 2M pa=0x40000000 prot=r mc=16\n"
      "relax_perms 0x40001000 prot=w\n");
}

// mkyoung issues its barrier only after updating a leaf (6.1: always).
TEST_F(Legacy612, MkyoungWhereNothingIsMappedIssuesNoBarrier) {
  EXPECT_EQ(backend_->mkyoung(3 * G1), 0u);
  EXPECT_TRUE(machine_.effects.events().empty());
  ASSERT_EQ(map(G1, K4, G1, kRW), 0);
  machine_.effects.clear();
  EXPECT_EQ(backend_->mkyoung(G1), leaf(G1));
  EXPECT_EQ(machine_.effects.events(), (std::vector<Effect>{{EffectKind::Dsb, 0, Barrier::IshSt}}));
  expect_as_linux612(
      "mkyoung 0xc0000000\n"
      "map 0x40000000 4K pa=0x40000000 prot=rw mc=16\n"
      "mkyoung 0x40000000\n");

  start(Arm64Kernel::Linux61);
  EXPECT_EQ(backend_->mkyoung(3 * G1), 0u);
  EXPECT_EQ(machine_.effects.events(), (std::vector<Effect>{{EffectKind::Dsb, 0, Barrier::IshSt}}));
}

// Aging beyond the IPA space answers 0 and WARNs, as 6.12's test_clear_young does.
TEST_F(Legacy612, AgingBeyondTheIpaSpaceWarns) {
  EXPECT_FALSE(backend_->is_young(bit(41)));
  EXPECT_EQ(backend_->mkold(bit(41)), 0u);
  EXPECT_EQ(backend_->take_warnings().size(), 2u);
  expect_as_linux612("is_young 0x20000000000\nmkold 0x20000000000\n");
}

// ---- split -----------------------------------------------------------------------------------

// The split's new leaves are in the reverse maps, one record each (the block's gone, its first
// frame now the first page's), so write-protect finds them; and every oracle agrees with
// linux612 after every operation, a split that runs its cache dry included.
TEST_F(Legacy612, SplitLeavesOneReverseMapRecordPerNewLeaf) {
  ASSERT_EQ(map(G1, G1, 2 * G1, kRW), 0);
  Memcache mc(machine_.memory, 2);
  EXPECT_EQ(backend_->split(G1 + 3 * M2, K4, &mc), 0);
  EXPECT_EQ(mc.remaining(), 0u);
  EXPECT_EQ(legacy().mmu().rmap().size(), 511u + 512u);
  EXPECT_TRUE(legacy().self_check().empty());
  ASSERT_EQ(backend_->wrprotect(G1 + 3 * M2, K4), 0);
  EXPECT_EQ(leaf(G1 + 3 * M2) & kS2apW, 0u);
  EXPECT_EQ(leaf(G1 + 3 * M2 + K4) & kS2apW, kS2apW);
  expect_as_linux612(
      "map 1G 1G pa=2G prot=rw\nsplit 0x40600000 4M mc=1\nwrprotect 0x40600000 8K\n"
      "unmap 0x40000000 2M\nmap 0x80000000 2M pa=0 prot=rwd\nmkold 0x80000000\n"
      "split 0x80000000 4K mc=1\nget_leaf 0x80001000\ndestroy");
}

// Linux 6.1 has no split: -EOPNOTSUPP, nothing changed.
TEST_F(Legacy612, SplitIsNotAnOperationOf61) {
  start(Arm64Kernel::Linux61);
  ASSERT_EQ(map(0, M2, 0, kRW), 0);
  machine_.effects.clear();
  Memcache mc(machine_.memory, 4);
  EXPECT_EQ(backend_->split(0, M2, &mc), -EOPNOTSUPP);
  EXPECT_TRUE(machine_.effects.events().empty());
}

// ---- Random streams ----------------------------------------------------------------------------

RandomStreamOptions options_612() {
  return RandomStreamOptions::of_profile(ProfileId::Arm64Linux612);
}

TEST(Legacy612SelfCheck, HoldsAfterEveryOperationOfRandom612Streams) {
  std::mt19937_64 rng(seed(0x612c));
  for (size_t s = 0; s < stream_count(300); ++s) {
    Stream stream = random_stream(rng, options_612());
    Machine machine;
    auto backend = make_legacy_backend(machine, Plant::kNone);
    auto& legacy = dynamic_cast<LegacyBackend&>(*backend);
    for (size_t i = 0; i < stream.size(); ++i) {
      apply_op(*backend, machine, stream[i]);
      std::vector<std::string> problems = legacy.self_check();
      ASSERT_TRUE(problems.empty())
          << "stream " << s << " op " << i << ": " << problems.front() << "\n"
          << format_stream(stream);
      ASSERT_TRUE(machine.memory.faults().empty()) << "stream " << s << " op " << i;
    }
    backend->destroy();
    EXPECT_EQ(machine.memory.live_pages(), 0u) << "stream " << s;
  }
}

TEST(Legacy612Differential, MatchesLinux612OnRandomStreams) {
  if (!have_linux612()) GTEST_SKIP() << "linux612 is not in this build";
  std::mt19937_64 rng(seed(0x6120));
  const size_t streams = stream_count(300);
  size_t disagreements = 0;
  for (size_t s = 0; s < streams; ++s) {
    Stream stream = random_stream(rng, options_612());
    const std::string diff = disagreement_with_linux612(stream);
    if (diff.empty()) continue;
    if (++disagreements <= 3)
      ADD_FAILURE() << "stream " << s << ":\n"
                    << diff << "--- stream ---\n"
                    << format_stream(stream);
  }
  EXPECT_EQ(disagreements, 0u) << "of " << streams << " streams";
}

}  // namespace
}  // namespace mmudiff

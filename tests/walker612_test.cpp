// SPDX-License-Identifier: GPL-2.0-only
// The walker under the arm64-6.12 profile: one case per behaviour in which Linux 6.12's
// pgtable.c differs from 6.1's (mmu/walker/generation.h names them), each asserting what 6.12
// does and, where linux612 is built, that the kernel's own code does exactly the same (return
// code, every effect in order, the same table pages). Then random streams through the harness,
// walker against linux612. The 6.1 side is walker_test's.
#include <cerrno>
#include <cstdint>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "mmu/backend.h"
#include "mmu/format/arm64_s2.h"
#include "mmu/ops/random_stream.h"
#include "mmu/ops/text_format.h"
#include "mmu/walker/pte.h"
#include "mmu/walker/walker_backend.h"
#include "oracles/harness.h"
#include "tests/effects_of_kind.h"
#include "tests/env_knob.h"

namespace mmudiff {

void PrintTo(const Effect& e, std::ostream* os) {
  *os << describe_effect(e);
}

namespace {

using namespace arm64s2;  // NOLINT: the descriptor bits read better unqualified here

constexpr uint64_t K4 = 0x1000;
constexpr uint64_t M2 = 0x20'0000;
constexpr uint64_t G1 = 0x4000'0000;
constexpr uint64_t kRW = prot::kR | prot::kW;
constexpr uint64_t kLocked = walker::kLockedPte;

Arm64S2Config config612() {
  Arm64S2Config c;
  c.ia_bits = 40;
  c.kernel = Arm64Kernel::Linux612;
  return c;
}

struct Store {
  uint64_t old_value;
  uint64_t new_value;
  bool operator==(const Store&) const = default;
};
void PrintTo(const Store& s, std::ostream* os) {
  *os << std::hex << s.old_value << " -> " << s.new_value;
}

class Walker612 : public ::testing::Test {
 protected:
  void SetUp() override {
    walker_ = make_walker_backend(wm_, Plant::kNone);
    ASSERT_EQ(walker_->init(config612()), 0);
#ifdef MMUDIFF_HAVE_LINUX612
    const BackendInfo* info = find_backend("linux612", ProfileId::Arm64Linux612);
    ASSERT_NE(info, nullptr);
    kernel_ = create_arm64(*info, km_, Plant::kNone);
    ASSERT_EQ(kernel_->init(config612()), 0);
#endif
  }

  void TearDown() override {
    EXPECT_EQ(warnings_, std::vector<std::string>{});
    EXPECT_EQ(walker_->take_warnings(), std::vector<std::string>{});
    walker_->destroy();
    wm_.memory.report_leaks();
    EXPECT_EQ(wm_.memory.live_pages(), 0u);
    for (const MemoryFault& f : wm_.memory.faults())
      ADD_FAILURE() << memory_fault_name(f.kind) << ": " << f.detail;
  }

  // Runs f on the walker and, where it is built, on linux612, each with its effects cleared
  // first: both must return the same, cause the same effects in the same order and hold the
  // same table pages. The walker's result.
  template <class F>
  int64_t run(F&& f) {
    wm_.effects.clear();
    km_.effects.clear();
    const int64_t ours = f(*walker_, wm_);
    const std::vector<std::string> warned = walker_->take_warnings();
    warnings_.insert(warnings_.end(), warned.begin(), warned.end());
    if (kernel_) {
      EXPECT_EQ(ours, f(*kernel_, km_)) << "linux612 returned otherwise";
      EXPECT_EQ(wm_.effects.events(), km_.effects.events()) << "linux612's effects differ";
      EXPECT_EQ(wm_.memory.live_page_list(), km_.memory.live_page_list());
      EXPECT_EQ(warned.size(), kernel_->take_warnings().size()) << "linux612 warned otherwise";
    }
    return ours;
  }

  int64_t map(uint64_t addr, uint64_t size, uint64_t pa, uint64_t prot) {
    return run([&](Arm64S2Backend& b, Machine& m) {
      Memcache mc(m.memory, 16);
      return b.map(addr, size, pa, prot, &mc);
    });
  }

  uint64_t leaf(uint64_t addr) {
    uint64_t pte = 0;
    uint32_t level = 0;
    EXPECT_EQ(walker_->get_leaf(addr, &pte, &level), 0);
    return pte;
  }

  std::vector<Effect> of_kind(EffectKind kind) const {
    return mmudiff::testing::effects_of_kind(wm_.effects, kind);
  }
  std::vector<Store> stores() const {
    std::vector<Store> out;
    for (const Effect& e : of_kind(EffectKind::Store)) out.push_back({e.old_value, e.new_value});
    return out;
  }

  Machine wm_, km_;
  std::unique_ptr<Arm64S2Backend> walker_, kernel_;
  std::vector<std::string> warnings_;  // the walker's, by run()
};

// The map walk has no HANDLE_FAULT: the visitor's "nothing to do" (-EAGAIN) does not end it,
// and the map returns 0 (6.1: -EAGAIN).
TEST_F(Walker612, MapOfTheSameMappingAgainReturnsZeroAndStoresNothing) {
  ASSERT_EQ(map(G1, K4, G1, kRW), 0);
  const uint64_t before = leaf(G1);
  EXPECT_EQ(map(G1, K4, G1, kRW), 0);
  EXPECT_EQ(leaf(G1), before);
  EXPECT_TRUE(stores().empty());
}

// A leaf differing only in permissions is left as it is and the rest of the range is mapped, at
// phys plus its offset in the range (6.1: -EAGAIN, the rest unmapped).
TEST_F(Walker612, APermissionOnlyChangeSkipsTheLeafAndMapsTheRestAtItsOffset) {
  ASSERT_EQ(map(G1, K4, 5 * G1, kRW), 0);
  const uint64_t rw = leaf(G1);
  EXPECT_EQ(map(G1, 2 * K4, 5 * G1, prot::kR), 0);
  EXPECT_EQ(leaf(G1), rw);
  const uint64_t next = leaf(G1 + K4);
  EXPECT_EQ(next & kOaMask, 5 * G1 + K4);
  EXPECT_EQ(next & (kS2apR | kS2apW), kS2apR);
}

// Break-before-make stores old -> KVM_INVALID_PTE_LOCKED -> new, with the TLBI by IPA at the
// leaf's level after the lock (6.1: old -> 0 -> new).
TEST_F(Walker612, BreakBeforeMakeGoesThroughTheLockedEntry) {
  ASSERT_EQ(map(G1, K4, G1, kRW), 0);
  const uint64_t old = leaf(G1);
  ASSERT_EQ(map(G1, K4, 2 * G1, kRW), 0);
  const uint64_t now = leaf(G1);
  EXPECT_EQ(now & kOaMask, 2 * G1);
  EXPECT_EQ(stores(), (std::vector<Store>{{old, kLocked}, {kLocked, now}}));
  const std::vector<Effect>& e = wm_.effects.events();
  ASSERT_GE(e.size(), 2u);
  EXPECT_EQ(e[1], (Effect{EffectKind::TlbiIpa, 3, Barrier::None, G1}));
}

// An empty entry is broken too: every entry a first map writes (two tables and the page) goes
// 0 -> locked -> new, with no TLBI since nothing valid was there.
TEST_F(Walker612, AnEmptyEntryIsBrokenThroughTheLockToo) {
  ASSERT_EQ(map(G1, K4, G1, kRW), 0);
  const std::vector<Store> s = stores();
  ASSERT_EQ(s.size(), 6u);
  for (size_t i = 0; i < s.size(); i += 2) {
    EXPECT_EQ(s[i], (Store{0, kLocked})) << i;
    EXPECT_EQ(s[i + 1].old_value, kLocked) << i;
    EXPECT_NE(s[i + 1].new_value & kValid, 0u) << i;
  }
  EXPECT_TRUE(of_kind(EffectKind::TlbiIpa).empty());
  EXPECT_TRUE(of_kind(EffectKind::TlbiVmid).empty());
}

// A block over a table goes through the leaf path on the way down: the table entry is locked,
// the table's span flushed (a whole-VMID flush without FEAT_TLBIRANGE), the block stored, and
// the unlinked table freed at once (6.1: cleared, walked below, installed on the way back up).
TEST_F(Walker612, ABlockOverATableFreesTheUnlinkedTable) {
  ASSERT_EQ(map(G1, K4, G1, kRW), 0);
  const size_t pages = wm_.memory.live_pages();
  ASSERT_EQ(map(G1, M2, G1, kRW), 0);
  const uint64_t block = leaf(G1);
  ASSERT_EQ(block & kTypeBit, 0u);
  ASSERT_EQ(stores().size(), 2u);
  EXPECT_EQ(stores()[0].new_value, kLocked);
  EXPECT_NE(stores()[0].old_value & kTypeBit, 0u);  // the table descriptor
  EXPECT_EQ(stores()[1], (Store{kLocked, block}));
  EXPECT_EQ(of_kind(EffectKind::TlbiVmid).size(), 1u);
  EXPECT_EQ(wm_.memory.live_pages(), pages - 1);
}

// A map changing only software bits of a leaf is one store, without break-before-make.
TEST_F(Walker612, ASoftwareBitsOnlyChangeIsOneStore) {
  ASSERT_EQ(map(G1, K4, G1, kRW), 0);
  const uint64_t old = leaf(G1);
  ASSERT_EQ(map(G1, K4, G1, kRW | bit(55)), 0);
  const uint64_t now = leaf(G1);
  EXPECT_EQ(now, old | bit(55));
  EXPECT_EQ(stores(), (std::vector<Store>{{old, now}}));
  EXPECT_TRUE(of_kind(EffectKind::TlbiIpa).empty());
}

// An owner annotation is not executable although it has no XN bit: no I-cache maintenance for
// it (6.1 invalidated the I-cache at its "address").
TEST_F(Walker612, AnOwnerAnnotationGetsNoIcacheMaintenance) {
  EXPECT_EQ(run([&](Arm64S2Backend& b, Machine& m) {
              Memcache mc(m.memory, 16);
              return b.set_owner(G1, K4, &mc, 1);
            }),
            0);
  EXPECT_EQ(leaf(G1), walker::make_owner_pte(1));
  EXPECT_TRUE(of_kind(EffectKind::IcacheInval).empty());
  EXPECT_EQ(stores().back(), (Store{kLocked, walker::make_owner_pte(1)}));
}

// The attribute walker's -EAGAIN on an invalid entry does not end wrprotect's walk: the leaf
// past the hole is write-protected and the result is 0.
TEST_F(Walker612, WrprotectGoesOnPastAnInvalidEntry) {
  ASSERT_EQ(map(G1 + 2 * K4, K4, G1, kRW), 0);
  EXPECT_EQ(run([](Arm64S2Backend& b, Machine&) { return b.wrprotect(G1, 4 * K4); }), 0);
  EXPECT_EQ(leaf(G1 + 2 * K4) & kS2apW, 0u);
}

// relax_perms where nothing is mapped: the fault handler's walk ends with -EAGAIN, and the TLB is
// invalidated anyway, by IPA at no level (the non-broadcast TLBI; 6.1: 0).
TEST_F(Walker612, RelaxPermsWhereNothingIsMappedIsEagainAndStillFlushes) {
  EXPECT_EQ(run([](Arm64S2Backend& b, Machine&) { return b.relax_perms(3 * G1 + 5, prot::kW); }),
            -EAGAIN);
  EXPECT_EQ(wm_.effects.events(),
            (std::vector<Effect>{{EffectKind::TlbiIpa, 0, Barrier::None, 3 * G1 + 5}}));
}

// mkyoung issues its dsb(ishst) only when the walk succeeded (6.1: always).
TEST_F(Walker612, MkyoungIssuesItsBarrierOnlyOnSuccess) {
  EXPECT_EQ(run([](Arm64S2Backend& b, Machine&) { return b.mkyoung(3 * G1); }), 0);
  EXPECT_TRUE(wm_.effects.events().empty());
  ASSERT_EQ(map(G1, K4, G1, kRW), 0);
  EXPECT_EQ(run([](Arm64S2Backend& b, Machine&) { return b.mkyoung(G1); }),
            static_cast<int64_t>(leaf(G1)));
  EXPECT_EQ(wm_.effects.events(), (std::vector<Effect>{{EffectKind::Dsb, 0, Barrier::IshSt}}));
}

// test_clear_young (is_young, mkold) WARNs when its walk fails, beyond the IPA space.
TEST_F(Walker612, AgingBeyondTheIpaSpaceWarns) {
  EXPECT_EQ(run([](Arm64S2Backend& b, Machine&) { return b.is_young(bit(41)); }), 0);
  EXPECT_EQ(run([](Arm64S2Backend& b, Machine&) { return b.mkold(bit(41)); }), 0);
  EXPECT_EQ(std::exchange(warnings_, {}).size(), 2u);
}

// The same profile's random streams through the harness, every oracle judging: the walker is
// held to linux612 exactly (return codes, effects trace, final tables).
// ---- split ---------------------------------------------------------------------------------

// split, run beside linux612: the same return, effects and pages for a partial split that runs
// the cache dry, and the unlinked table is built entry by entry through the lock (0 -> locked ->
// leaf) before the block is broken.
TEST_F(Walker612, SplitBuildsTheTableUnlinkedThenBreaksTheBlock) {
  ASSERT_EQ(map(G1, G1, 2 * G1, kRW), 0);
  auto split = [&](uint64_t addr, uint64_t size, size_t pages, size_t* left) {
    return run([&](Arm64S2Backend& b, Machine& m) {
      Memcache mc(m.memory, pages);
      const int ret = b.split(addr, size, &mc);
      *left = mc.remaining();
      return ret;
    });
  };
  size_t left = 0;
  EXPECT_EQ(split(G1 + M2, 2 * M2, 2, &left), -ENOMEM);
  EXPECT_EQ(left, 0u);
  const std::vector<Store> s = stores();
  ASSERT_EQ(s.size(), 2 * 512 * 2 + 4u);
  EXPECT_EQ(s[0], (Store{0, kLocked}));
  EXPECT_EQ(s[1].old_value, kLocked);
  EXPECT_EQ(s[1].new_value & kValid, kValid);
  EXPECT_EQ(leaf(G1), 2 * G1 | 0x0040'0000'0000'07fd);  // a 2 MiB piece, young, rw, XN
  EXPECT_EQ(leaf(G1 + M2 + K4), (2 * G1 + M2 + K4) | 0x0040'0000'0000'07ff);
  EXPECT_EQ(split(G1 + M2, 2 * M2, 600, &left), 0);
  EXPECT_EQ(left, 599u);
}

// Linux 6.1 has no split: the walker of a 6.1 table refuses it and changes nothing.
TEST(Walker61Split, IsNotAnOperationOf61) {
  Machine m;
  auto walker = make_walker_backend(m, Plant::kNone);
  Arm64S2Config c;
  ASSERT_EQ(walker->init(c), 0);
  Memcache mc(m.memory, 4);
  ASSERT_EQ(walker->map(0, M2, 0, kRW, &mc), 0);
  m.effects.clear();
  EXPECT_EQ(walker->split(0, M2, &mc), -EOPNOTSUPP);
  EXPECT_TRUE(m.effects.events().empty());
  walker->destroy();
}

TEST(Walker612Soak, MatchesLinux612OnRandomStreams) {
  if (!find_backend("linux612", ProfileId::Arm64Linux612))
    GTEST_SKIP() << "the linux612 backend is not in this build";
  const size_t streams = testing::env_u64("MMUDIFF_WALKER612_STREAMS", 300);
  std::mt19937_64 rng(testing::env_u64("MMUDIFF_WALKER612_SEED", 0x612));
  RandomStreamOptions options = RandomStreamOptions::of_profile(ProfileId::Arm64Linux612);
  options.max_ops = 64;
  HarnessOptions harness;
  harness.backends = {"linux612", "walker"};
  size_t judged = 0, differing = 0;
  for (size_t i = 0; i < streams; ++i) {
    const Stream stream = random_stream(rng, options);
    const StreamReport r = run_stream(stream, harness);
    if (r.bound_reached) continue;
    ++judged;
    if (r.equivalent()) continue;
    if (++differing <= 3)
      ADD_FAILURE() << "stream " << i << ": " << r.worst()->summary << "\n"
                    << format_stream(stream);
  }
  EXPECT_EQ(differing, 0u);
  EXPECT_GT(judged, streams / 2);
}

}  // namespace
}  // namespace mmudiff

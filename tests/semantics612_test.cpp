// SPDX-License-Identifier: GPL-2.0-only
// The stage-2 semantics of Linux 6.12 where they differ from 6.1, one rule per test
// (docs/semantics.md, "Linux 6.12"), run against every backend of profile arm64-6.12 — the
// kernel's own code (linux612) included, so each rule is first of all a fact about 6.12 — and,
// for the results and tables, against the reference model. Expected descriptors and effects are
// spelled out bit by bit (tests/arm64_semantics.h).
#include "mmu/ops/text_format.h"
#include "oracles/arm64_reference_model.h"
#include "tests/arm64_semantics.h"

namespace mmudiff {
namespace {

using namespace semantics;

// KVM_INVALID_PTE_LOCKED: what break-before-make leaves an entry holding while it is broken.
constexpr uint64_t kLocked = 0x400;
constexpr uint64_t kSw0 = uint64_t{1} << 55;  // KVM_PGTABLE_PROT_SW0, as prot and as descriptor

std::vector<std::string> backend_names() {
  std::vector<std::string> names;
  for (const BackendInfo& b : backends_of(ProfileId::Arm64Linux612)) names.emplace_back(b.name);
  return names;
}

class Semantics612 : public Semantics {
 protected:
  Semantics612() : Semantics(Arm64Kernel::Linux612) {}
};

// The model of 6.12 predicts the same results: the last operation of TEXT (.mmu lines after a
// 6.12 init), applied to the model after the ones before it.
OpResult model_result(const std::string& text) {
  ReferenceModel model;
  OpResult last;
  for (const Op& op : parse_text("init kernel=6.12\n" + text, "semantics612"))
    last = model.apply(op);
  return last;
}

// Every descriptor installed goes through the locked invalid entry first, a new table's too and
// one over an empty entry: old -> 0x400 -> new (6.1: old -> new, or old -> 0 -> new).
TEST_P(Semantics612, EveryInstalledDescriptorIsStoredLockedFirst) {
  init();
  ASSERT_EQ(map(0x1000, K4, 0x5000, kRW), 0);
  const uint64_t l1 = entry_pa(0x1000, 1), l2 = entry_pa(0x1000, 2), l3 = entry_pa(0x1000, 3);
  const uint64_t l2_page = table_page(0x1000, 2), l3_page = table_page(0x1000, 3);
  EXPECT_EQ(effects(), (Effects{store(l1, 0, kLocked), store(l1, kLocked, table(l2_page)),
                                store(l2, 0, kLocked), store(l2, kLocked, table(l3_page)),
                                store(l3, 0, kLocked), dcache(0x5000, K4),
                                store(l3, kLocked, page(0x5000, kAttrRW)), dsb_ishst()}));
  check_table_invariants(*backend_, machine_.memory, "after the map");
}

// A leaf replaced by another PA: the locked entry, the leaf's TLBI by IPA at its level, the CMO,
// then the new leaf.
TEST_P(Semantics612, ReplacingALeafLocksItFlushesItAndInstallsTheNewOne) {
  init();
  ASSERT_EQ(map(0x1000, K4, 0x5000, kRW), 0);
  const uint64_t l3 = entry_pa(0x1000, 3);
  forget_effects();
  ASSERT_EQ(map(0x1000, K4, 0x9000, kRW), 0);
  EXPECT_EQ(effects(),
            (Effects{store(l3, page(0x5000, kAttrRW), kLocked), tlbi(0x1000, 3), dcache(0x9000, K4),
                     store(l3, kLocked, page(0x9000, kAttrRW)), dsb_ishst()}));
}

// A change of software bits alone is one store: no break, no TLBI, no CMO (a walk that is not
// shared, as map's is here).
TEST_P(Semantics612, ChangingOnlySoftwareBitsIsOneStore) {
  init();
  ASSERT_EQ(map(0x1000, K4, 0x5000, kRW), 0);
  const uint64_t l3 = entry_pa(0x1000, 3);
  forget_effects();
  ASSERT_EQ(map(0x1000, K4, 0x5000, kRW | kSw0), 0);
  EXPECT_EQ(effects(),
            (Effects{store(l3, page(0x5000, kAttrRW), page(0x5000, kAttrRW | kSw0)), dsb_ishst()}));
}

// The same mapping again is nothing to do: 0 (6.1: -EAGAIN), and nothing stored.
TEST_P(Semantics612, MappingTheSameAgainReturnsZeroAndStoresNothing) {
  init();
  ASSERT_EQ(map(0x1000, K4, 0x5000, kRW), 0);
  forget_effects();
  EXPECT_EQ(map(0x1000, K4, 0x5000, kRW), 0);
  EXPECT_EQ(effects(), Effects{dsb_ishst()});
  EXPECT_EQ(model_result("map 0x1000 4K pa=0x5000 prot=rw\nmap 0x1000 4K pa=0x5000 prot=rw").ret,
            0);
}

// A leaf that differs only in its permissions is left as it is, and the map goes on with the rest
// of its range: 0, the next page mapped at the map's PA plus its offset (6.1: -EAGAIN, the rest
// left unmapped).
TEST_P(Semantics612, ALeafDifferingOnlyInPermissionsIsLeftAndTheRestMapped) {
  init();
  ASSERT_EQ(map(0x1000, K4, 0x5000, kR), 0);
  EXPECT_EQ(map(0x1000, 2 * K4, 0x5000, kRW), 0);
  EXPECT_EQ(desc(0x1000, 3), page(0x5000, kAttrR));
  EXPECT_EQ(desc(0x2000, 3), page(0x6000, kAttrRW));
  EXPECT_EQ(model_result("map 0x1000 4K pa=0x5000 prot=r\nmap 0x1000 8K pa=0x5000 prot=rw").ret, 0);
  check_table_invariants(*backend_, machine_.memory, "after the second map");
}

// relax_perms of an entry that is not a valid leaf: the walk (HANDLE_FAULT) fails with -EAGAIN
// (6.1: 0), and the local flush is done anyway, at an unknown level (recorded as level 0).
TEST_P(Semantics612, RelaxPermsOfNothingIsEagainAndStillFlushes) {
  init();
  EXPECT_EQ(backend_->relax_perms(0x7000, kRW), -EAGAIN);
  EXPECT_EQ(effects(), Effects{tlbi(0x7000, 0)});
  EXPECT_EQ(model_result("relax_perms 0x7000 prot=rw").ret, -EAGAIN);
  // On a valid leaf it is 0, with the flush at the leaf's level.
  ASSERT_EQ(map(0x1000, K4, 0x5000, kR), 0);
  const uint64_t l3 = entry_pa(0x1000, 3);
  forget_effects();
  EXPECT_EQ(backend_->relax_perms(0x1000, kRW), 0);
  EXPECT_EQ(effects(),
            (Effects{store(l3, page(0x5000, kAttrR), page(0x5000, kAttrRW)), tlbi(0x1000, 3)}));
}

// mkyoung of nothing returns 0 and issues no barrier (6.1: dsb ishst whatever it found).
TEST_P(Semantics612, MkyoungOfNothingIssuesNoBarrier) {
  init();
  EXPECT_EQ(backend_->mkyoung(0x7000), 0u);
  EXPECT_EQ(effects(), Effects{});
}

// An owner annotation is not executable: no instruction-cache maintenance for it (6.1's
// stage2_pte_executable looked at XN alone, which an invalid entry does not have).
TEST_P(Semantics612, OwnerAnnotationsTakeNoCacheMaintenance) {
  init();
  ASSERT_EQ(set_owner(0x1000, K4, 1), 0);
  const uint64_t l3 = entry_pa(0x1000, 3);
  ASSERT_GE(effects().size(), 2u);
  const Effects last(effects().end() - 2, effects().end());
  EXPECT_EQ(last, (Effects{store(l3, 0, kLocked), store(l3, kLocked, kOwner1)}));
  for (const Effect& e : effects()) {
    EXPECT_NE(e.kind, EffectKind::IcacheInval) << describe_effect(e);
    EXPECT_NE(e.kind, EffectKind::DcacheCleanInval) << describe_effect(e);
  }
}

// A block over a table: the table entry is locked, the block's whole range flushed (without
// FEAT_TLBIRANGE: the whole VMID), the CMO done, the block installed, and only then the old
// subtree freed (6.1 flushed and freed it on the way back up).
TEST_P(Semantics612, ABlockOverATableFlushesTheRangeThenFreesTheSubtree) {
  init();
  ASSERT_EQ(map(0x1000, K4, 0x5000, kRW), 0);
  const uint64_t l2 = entry_pa(0, 2), l3_page = table_page(0, 3);
  forget_effects();
  ASSERT_EQ(map(0, M2, 0x4000'0000, kRW), 0);
  EXPECT_EQ(effects(),
            (Effects{store(l2, table(l3_page), kLocked), tlbi_vmid(), dcache(0x4000'0000, M2),
                     store(l2, kLocked, block(0x4000'0000, kAttrRW)), dsb_ishst()}));
  EXPECT_FALSE(live(l3_page));
  check_table_invariants(*backend_, machine_.memory, "after the block");
}

INSTANTIATE_TEST_SUITE_P(Arm64Linux612, Semantics612, ::testing::ValuesIn(backend_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });
// A build without linux612 (and before walker and legacy learn 6.12) has no backend to run.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Semantics612);

}  // namespace
}  // namespace mmudiff

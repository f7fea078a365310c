// SPDX-License-Identifier: GPL-2.0-only
// The masked hash tree (Deacon's check) and first_divergence on tables built by hand: equal for the
// same table wherever its pages live, unequal for any other descriptor, and the diff leads to the
// exact (IPA, level) of a planted difference, descending only where the hashes differ.
#include <gtest/gtest.h>

#include <iterator>
#include <optional>

#include "oracles/arch_walk.h"
#include "oracles/table_hash.h"
#include "tests/table_builder.h"

namespace mmudiff {
namespace {

using namespace mmudiff::testing;
using arm64s2::make_table;

const SipKey kKey = parse_sip_key("000102030405060708090a0b0c0d0e0f");

// A spread of mappings over a 4-level table: pages and blocks under different level-0 entries.
// `order` reverses the build so the same table gets its pages in another order.
void populate(TableBuilder& b, bool reverse = false) {
  struct M {
    uint64_t ipa;
    unsigned level;
    uint64_t pa;
    Attrs a;
  };
  const M maps[] = {
      {0x0000'0000'0000'1000, 3, 0x8000'1000, {}},
      {0x0000'0000'0020'0000, 2, 0x9000'0000, {.w = false}},
      {0x0000'0040'0000'0000, 1, 0x1'0000'0000, {.x = true}},
      {0x0000'8040'1234'5000, 3, 0xa000'5000, {}},
      {0x0000'8040'1234'6000, 3, 0xa000'6000, {.device = true}},
      {0x0000'ff00'0000'0000, 3, 0xb000'0000, {.r = false}},
  };
  if (!reverse) {
    for (const M& m : maps) b.set(m.ipa, m.level, leaf(m.level, m.pa, m.a));
  } else {
    for (auto it = std::rbegin(maps); it != std::rend(maps); ++it)
      b.set(it->ipa, it->level, leaf(it->level, it->pa, it->a));
  }
  b.set(0x0000'0000'0000'3000, 3, arm64s2::make_owner_annotation(1));
}

TEST(TableHash, IdenticalTablesAtDifferentPhysicalAddressesHashEqual) {
  TableBuilder a;
  TableBuilder b({.pad_pages = 7});
  populate(a);
  populate(b, /*reverse=*/true);
  ASSERT_NE(a.root().pgd_pa, b.root().pgd_pa);
  ASSERT_NE(a.table_pa(0x0000'8040'1234'5000, 3), b.table_pa(0x0000'8040'1234'5000, 3));

  HashedTable ha = hash_table(a.root(), a.memory(), kKey);
  HashedTable hb = hash_table(b.root(), b.memory(), kKey);
  EXPECT_EQ(ha.root_hash, hb.root_hash);
  EXPECT_EQ(ha.pages, hb.pages);
  EXPECT_EQ(ha.pages, 10u);  // root, 3 level-1 pages, 3 level-2 pages, 3 level-3 pages
  EXPECT_FALSE(first_divergence(ha, a.memory(), hb, b.memory()).has_value());
}

// A page under half full is hashed as its entries in use and their indices, a fuller one as all
// its entries: on either side of the boundary, moving an entry to another index or changing it
// changes the hash, and the same page at other addresses does not.
TEST(TableHash, SparseAndDensePagesHashEveryEntryAndWhereItIs) {
  for (unsigned in_use : {1u, 255u, 256u, 400u}) {
    SCOPED_TRACE(::testing::Message() << in_use << " entries in use");
    auto build = [&](TableBuilder& b, unsigned moved_to, uint64_t last_pa) {
      for (unsigned i = 0; i + 1 < in_use; ++i) b.page(i * k4K, 0x8000'0000 + i * k4K);
      b.page(moved_to * k4K, last_pa);
    };
    auto root_hash = [](TableBuilder& b) {
      return hash_table(b.root(), b.memory(), kKey).root_hash;
    };
    TableBuilder base, elsewhere({.pad_pages = 5}), moved, changed;
    build(base, in_use - 1, 0x1'0000'0000);
    build(elsewhere, in_use - 1, 0x1'0000'0000);
    build(moved, 511, 0x1'0000'0000);
    build(changed, in_use - 1, 0x1'0000'1000);
    EXPECT_EQ(root_hash(base), root_hash(elsewhere));
    EXPECT_NE(root_hash(base), root_hash(moved));
    EXPECT_NE(root_hash(base), root_hash(changed));
  }
}

TEST(TableHash, HashIsDeterministicForAKeyAndChangesWithTheKey) {
  TableBuilder a;
  populate(a);
  uint64_t h1 = hash_table(a.root(), a.memory(), kKey).root_hash;
  uint64_t h2 = hash_table(a.root(), a.memory(), kKey).root_hash;
  uint64_t h3 =
      hash_table(a.root(), a.memory(), parse_sip_key("ffeeddccbbaa99887766554433221100")).root_hash;
  EXPECT_EQ(h1, h2);
  EXPECT_NE(h1, h3);
}

TEST(TableHash, BlockAndEquivalentPagesTranslateAlikeButHashDifferently) {
  TableBuilder a;
  TableBuilder b;
  a.block(0x4000'0000, 2, 0x8000'0000);
  for (uint64_t off = 0; off < k2M; off += k4K) b.page(0x4000'0000 + off, 0x8000'0000 + off);

  ArchWalk wa = arch_walk(a.root(), a.memory());
  ArchWalk wb = arch_walk(b.root(), b.memory());
  EXPECT_EQ(wa.translation, wb.translation);

  HashedTable ha = hash_table(a.root(), a.memory(), kKey);
  HashedTable hb = hash_table(b.root(), b.memory(), kKey);
  EXPECT_NE(ha.root_hash, hb.root_hash);
  auto d = first_divergence(ha, a.memory(), hb, b.memory());
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->ipa, 0x4000'0000u);
  EXPECT_EQ(d->level, 2u);
  EXPECT_EQ(d->a, a.get(0x4000'0000, 2));
  EXPECT_EQ(d->b, b.get(0x4000'0000, 2));
  EXPECT_EQ(arm64s2::classify(d->b, 2), arm64s2::DescriptorKind::Table);
}

// Two copies of the populated table at different addresses, the second with one change.
struct Planted {
  TableBuilder a;
  TableBuilder b{{.pad_pages = 3}};
  Planted() {
    populate(a);
    populate(b);
  }
  std::optional<DivergingEntry> diverge() {
    HashedTable ha = hash_table(a.root(), a.memory(), kKey);
    HashedTable hb = hash_table(b.root(), b.memory(), kKey);
    EXPECT_NE(ha.root_hash, hb.root_hash);
    return first_divergence(ha, a.memory(), hb, b.memory());
  }
};

TEST(TableHash, FirstDivergencePointsAtAPlantedLevelThreeDifferenceDeepInAFourLevelTable) {
  Planted t;
  const uint64_t ipa = 0x0000'8040'1234'5000;
  uint64_t before = t.b.get(ipa, 3);
  uint64_t after = before & ~arm64s2::kS2apW;
  t.b.set(ipa, 3, after);
  auto d = t.diverge();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->ipa, ipa);
  EXPECT_EQ(d->level, 3u);
  EXPECT_EQ(d->a, before);
  EXPECT_EQ(d->b, after);
}

TEST(TableHash, FirstDivergencePointsAtAPlantedDifferenceInAnEmptyLevelThreeEntry) {
  Planted t;
  const uint64_t ipa = 0x0000'8040'1234'7000;  // beside two pages, in the same level-3 table
  t.b.page(ipa, 0xa000'7000);
  auto d = t.diverge();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->ipa, ipa);
  EXPECT_EQ(d->level, 3u);
  EXPECT_EQ(d->a, 0u);
  EXPECT_EQ(d->b, leaf(3, 0xa000'7000));
}

TEST(TableHash, FirstDivergencePointsAtAPlantedLevelOneBlockDifference) {
  Planted t;
  const uint64_t ipa = 0x0000'0040'0000'0000;
  t.b.set(ipa, 1, leaf(1, 0x2'0000'0000, {.x = true}));
  auto d = t.diverge();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->ipa, ipa);
  EXPECT_EQ(d->level, 1u);
  EXPECT_EQ(arm64s2::output_address(d->a), 0x1'0000'0000u);
  EXPECT_EQ(arm64s2::output_address(d->b), 0x2'0000'0000u);
}

TEST(TableHash, FirstDivergenceSeesNonAddressBitsOfATableDescriptor) {
  Planted t;
  const uint64_t ipa = 0x0000'8040'0000'0000;  // the level-1 entry above the deep pages
  t.b.poke(ipa, 1, t.b.get(ipa, 1) | arm64s2::bit(59));
  auto d = t.diverge();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->ipa, ipa);
  EXPECT_EQ(d->level, 1u);
  EXPECT_EQ((d->a ^ d->b) & ~arm64s2::table_address_mask(), arm64s2::bit(59));
}

TEST(TableHash, FirstDivergenceReportsTheLowestDifferingIpa) {
  Planted t;
  t.b.set(0x0000'ff00'0000'0000, 3, 0);
  t.b.set(0x0000'8040'1234'6000, 3, 0);
  auto d = t.diverge();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->ipa, 0x0000'8040'1234'6000u);
  EXPECT_EQ(d->level, 3u);
}

TEST(TableHash, FirstDivergenceDescendsOnlyIntoSubtreesWhoseHashesDiffer) {
  Planted t;
  t.b.set(0x0000'ff00'0000'0000, 3, 0);  // a real difference, high in the IPA space
  HashedTable ha = hash_table(t.a.root(), t.a.memory(), kKey);
  HashedTable hb = hash_table(t.b.root(), t.b.memory(), kKey);
  // After hashing, change a low entry behind the hashes' back: a diff that looked at every page
  // would report it first; one that trusts equal subtree hashes never goes there.
  t.b.poke(0x1000, 3, 0);
  auto d = first_divergence(ha, t.a.memory(), hb, t.b.memory());
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->ipa, 0x0000'ff00'0000'0000u);
  EXPECT_EQ(d->level, 3u);
}

TEST(TableHash, FirstDivergenceCountsConcatenatedStartPagesInTheIpa) {
  // 40 bits: start level 1, two concatenated pages; the second page starts at 512 GiB.
  TableBuilder a({.ia_bits = 40});
  TableBuilder b({.ia_bits = 40, .pad_pages = 1});
  ASSERT_EQ(a.root().pgd_pages, 2u);
  const uint64_t ipa = k512G + 0x4020'3000;
  a.page(ipa, 0x5000);
  b.page(ipa, 0x6000);
  HashedTable ha = hash_table(a.root(), a.memory(), kKey);
  HashedTable hb = hash_table(b.root(), b.memory(), kKey);
  auto d = first_divergence(ha, a.memory(), hb, b.memory());
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->ipa, ipa);
  EXPECT_EQ(d->level, 3u);
}

TEST(TableHash, TablesOfDifferentIpaSizesSharingOneStartPageDiverge) {
  // 44 and 48 bits both start at level 0 with one page: only ia_bits tells them apart.
  TableBuilder a({.ia_bits = 44});
  TableBuilder b({.ia_bits = 48});
  ASSERT_EQ(a.root().start_level, b.root().start_level);
  ASSERT_EQ(a.root().pgd_pages, b.root().pgd_pages);
  HashedTable ha = hash_table(a.root(), a.memory(), kKey);
  HashedTable hb = hash_table(b.root(), b.memory(), kKey);
  EXPECT_NE(ha.root_hash, hb.root_hash);
  auto d = first_divergence(ha, a.memory(), hb, b.memory());
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->ipa, 0u);
  EXPECT_EQ(d->level, 0u);
}

TEST(TableHash, FirstDivergenceReportsATablePointerToNonTableMemoryAtThePointer) {
  Planted t;
  const uint64_t ipa = 0x0000'8040'1220'0000;  // the level-2 entry above the deep pages
  ASSERT_EQ(arm64s2::classify(t.b.get(ipa, 2), 2), arm64s2::DescriptorKind::Table);
  t.b.poke(ipa, 2, make_table(0x7000'0000));  // now to something that is not a table page
  auto d = t.diverge();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->ipa, ipa);
  EXPECT_EQ(d->level, 2u);
  EXPECT_EQ(d->b, make_table(0x7000'0000));
}

TEST(TableHash, FirstDivergenceDoesNotThrowWhenAStartPageIsNotTableMemory) {
  TableBuilder a;
  TableBuilder b;
  TableRoot bogus = b.root();
  bogus.pgd_pa = 0x7000'0000;
  HashedTable ha = hash_table(a.root(), a.memory(), kKey);
  HashedTable hb = hash_table(bogus, b.memory(), kKey);
  EXPECT_NE(ha.root_hash, hb.root_hash);
  std::optional<DivergingEntry> d;
  EXPECT_NO_THROW(d = first_divergence(ha, a.memory(), hb, b.memory()));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->ipa, 0u);
  EXPECT_EQ(d->level, 0u);
}

TEST(TableHash, FirstDivergenceSeesADestroyedTable) {
  TableBuilder a;
  HashedTable ha = hash_table(a.root(), a.memory(), kKey);
  HashedTable dead = hash_table(TableRoot{}, a.memory(), kKey);
  EXPECT_TRUE(first_divergence(ha, a.memory(), dead, a.memory()).has_value());
  EXPECT_FALSE(first_divergence(dead, a.memory(), dead, a.memory()).has_value());
  // Two destroyed tables are alike even when their backends remember other configurations.
  TableRoot dead_44{.ia_bits = 44}, dead_48{.ia_bits = 48};
  EXPECT_FALSE(first_divergence(hash_table(dead_44, a.memory(), kKey), a.memory(),
                                hash_table(dead_48, a.memory(), kKey), a.memory())
                   .has_value());
}

TEST(TableHash, APageAliasedAtEveryLevelIsHashedOncePerLevel) {
  // Every entry of the root points at one level-1 page, all of whose entries point at one level-2
  // page, all of whose entries point at one level-3 page: 512^3 paths to it. Hashing each path
  // would take hours; the hash must still come out as if it had.
  TableBuilder a;
  TableBuilder b;
  for (TableBuilder* t : {&a, &b}) {
    uint64_t l1 = t->table_pa(0, 1), l2 = t->table_pa(0, 2), l3 = t->table_pa(0, 3);
    for (uint64_t i = 0; i < 512; ++i) {
      t->poke(i * k512G, 0, make_table(l1));
      t->poke(i * k1G, 1, make_table(l2));
      t->poke(i * k2M, 2, make_table(l3));
    }
    t->page(0x5000, 0x5000);
  }
  b.page(0x6000, 0x6000);
  HashedTable ha = hash_table(a.root(), a.memory(), kKey);
  HashedTable hb = hash_table(b.root(), b.memory(), kKey);
  // Each page read once, with its children's hashes: 8 KiB a page at most, where a hash per path
  // would read 512^3 pages.
  EXPECT_LE(ha.bytes_hashed, 4u * 8192);
  EXPECT_EQ(ha.pages, 4u);
  EXPECT_NE(ha.root_hash, hb.root_hash);
  auto d = first_divergence(ha, a.memory(), hb, b.memory());
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->ipa, 0x6000u);
  EXPECT_EQ(d->level, 3u);
}

}  // namespace
}  // namespace mmudiff

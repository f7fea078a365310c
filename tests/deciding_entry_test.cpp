// SPDX-License-Identifier: GPL-2.0-only
// The entry that decides an IPA's translation, on tables built by hand: a page, a block, the
// invalid entry a walk stops at (at any level), concatenated start pages, and IPAs no entry
// decides.
#include <gtest/gtest.h>

#include "oracles/deciding_entry.h"
#include "tests/table_builder.h"

namespace mmudiff {
namespace {

using namespace mmudiff::testing;

TEST(DecidingEntry, APageDecidesItsOwnFourKilobytes) {
  TableBuilder b;
  uint64_t d = leaf(3, 0x8765'4000, {});
  b.set(0x1234'5678'9000, 3, d);
  auto e = deciding_entry(b.root(), b.memory(), 0x1234'5678'9abc);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->ipa, 0x1234'5678'9000u);
  EXPECT_EQ(e->level, 3u);
  EXPECT_EQ(e->a, d);
  // Its neighbour in the same level-3 table: the invalid entry there.
  auto next = deciding_entry(b.root(), b.memory(), 0x1234'5678'a000);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->level, 3u);
  EXPECT_EQ(next->a, 0u);
}

TEST(DecidingEntry, ABlockDecidesFromItsStartAndAnEmptyTableStopsHigh) {
  TableBuilder b;
  b.block(4 * k1G + k2M, 2, 0x8020'0000);
  auto in_block = deciding_entry(b.root(), b.memory(), 4 * k1G + k2M + 0x12'3000);
  ASSERT_TRUE(in_block);
  EXPECT_EQ(in_block->ipa, 4 * k1G + k2M);
  EXPECT_EQ(in_block->level, 2u);
  EXPECT_EQ(in_block->a, b.get(4 * k1G + k2M, 2));
  // 16 GiB shares the level-0 table entry with the block but has no level-1 entry: the walk
  // stops at that invalid level-1 entry.
  ASSERT_EQ(b.root().start_level, 0u);
  auto empty = deciding_entry(b.root(), b.memory(), 16 * k1G + 5 * k4K);
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->ipa, 16 * k1G);
  EXPECT_EQ(empty->level, 1u);
  EXPECT_EQ(empty->a, 0u);
}

TEST(DecidingEntry, ConcatenatedStartPagesAreOneIndex) {
  // 40-bit IPA: start level 1 with two concatenated pages; 600 GiB is in the second.
  TableBuilder b({.ia_bits = 40});
  ASSERT_EQ(b.root().pgd_pages, 2u);
  b.page(600 * k1G, 0x4000'0000);
  auto e = deciding_entry(b.root(), b.memory(), 600 * k1G);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->level, 3u);
  EXPECT_EQ(e->a, b.get(600 * k1G, 3));
}

TEST(DecidingEntry, NothingDecidesPastTheInputRangeOrInADeadTable) {
  TableBuilder b({.ia_bits = 40});
  EXPECT_FALSE(deciding_entry(b.root(), b.memory(), uint64_t{1} << 40));
  EXPECT_FALSE(deciding_entry(TableRoot{}, b.memory(), 0));
}

}  // namespace
}  // namespace mmudiff

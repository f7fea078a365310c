// SPDX-License-Identifier: GPL-2.0-only
// The architectural walk on tables built by hand: what it translates (shape-independent, merged),
// what it keeps of invalid entries, and each encoding the architecture faults on or leaves
// unpredictable reported as an anomaly.
#include <gtest/gtest.h>

#include <string>

#include <fmt/format.h>

#include "oracles/arch_walk.h"
#include "tests/table_builder.h"

namespace mmudiff {
namespace {

using namespace mmudiff::testing;
using arm64s2::make_table;

bool mentions(const std::vector<std::string>& anomalies, const std::string& what) {
  for (const auto& a : anomalies)
    if (a.find(what) != std::string::npos) return true;
  return false;
}

uint64_t attrs_of(uint64_t desc) {
  return desc & kTranslationAttrMask;
}

TEST(ArchWalk, EmptyAndDestroyedTablesTranslateNothing) {
  TableBuilder b;
  ArchWalk w = arch_walk(b.root(), b.memory());
  EXPECT_TRUE(w.translation.mappings.empty());
  EXPECT_TRUE(w.translation.annotations.empty());
  EXPECT_TRUE(w.anomalies.empty());
  ArchWalk dead = arch_walk(TableRoot{}, b.memory());
  EXPECT_TRUE(dead.translation.mappings.empty());
  EXPECT_TRUE(dead.anomalies.empty());
}

TEST(ArchWalk, APageTranslatesToItsOutputAddressAndAttributes) {
  TableBuilder b;
  uint64_t d = leaf(3, 0x8765'4000, {.w = false, .x = true, .sw = 5});
  b.set(0x0000'1234'5678'9000, 3, d);
  ArchWalk w = arch_walk(b.root(), b.memory());
  EXPECT_TRUE(w.anomalies.empty());
  ASSERT_EQ(w.translation.mappings.size(), 1u);
  EXPECT_EQ(w.translation.mappings[0],
            (Mapping{0x0000'1234'5678'9000, k4K, 0x8765'4000, attrs_of(d)}));
  EXPECT_EQ(w.translation.mappings[0].attrs & arm64s2::kS2apW, 0u);
  EXPECT_EQ(w.translation.mappings[0].attrs & arm64s2::kXn, 0u);
}

TEST(ArchWalk, LevelOneAndTwoBlocksTranslateWhole) {
  TableBuilder b;
  b.block(k1G, 1, 0x40'0000'0000);
  b.block(4 * k1G + k2M, 2, 0x8020'0000, {.r = true, .w = false});
  ArchWalk w = arch_walk(b.root(), b.memory());
  EXPECT_TRUE(w.anomalies.empty());
  ASSERT_EQ(w.translation.mappings.size(), 2u);
  EXPECT_EQ(w.translation.mappings[0], (Mapping{k1G, k1G, 0x40'0000'0000, attrs_of(leaf(1, 0))}));
  EXPECT_EQ(w.translation.mappings[1],
            (Mapping{4 * k1G + k2M, k2M, 0x8020'0000, attrs_of(leaf(2, 0, {.w = false}))}));
}

TEST(ArchWalk, ABlockAndFiveHundredTwelveEquivalentPagesTranslateAlike) {
  TableBuilder blocks;
  TableBuilder pages;
  blocks.block(0x4000'0000, 2, 0x8000'0000);
  for (uint64_t off = 0; off < k2M; off += k4K) pages.page(0x4000'0000 + off, 0x8000'0000 + off);
  ArchWalk wb = arch_walk(blocks.root(), blocks.memory());
  ArchWalk wp = arch_walk(pages.root(), pages.memory());
  EXPECT_TRUE(wp.anomalies.empty());
  ASSERT_EQ(wp.translation.mappings.size(), 1u);  // merged into one range
  EXPECT_EQ(wp.translation, wb.translation);
}

TEST(ArchWalk, AdjacentPagesStayApartWhenPaOrAttributesDoNotContinue) {
  TableBuilder b;
  b.page(0x1000, 0x10'1000);
  b.page(0x2000, 0x10'3000);                // PA jumps
  b.page(0x3000, 0x10'4000, {.w = false});  // PA continues, attributes change
  ArchWalk w = arch_walk(b.root(), b.memory());
  ASSERT_EQ(w.translation.mappings.size(), 3u);
  EXPECT_EQ(w.translation.mappings[1].pa, 0x10'3000u);
  EXPECT_EQ(w.translation.mappings[2].pa, 0x10'4000u);
}

TEST(ArchWalk, NonZeroInvalidEntriesBecomeMergedOwnerAnnotations) {
  TableBuilder b;
  uint64_t owner = arm64s2::make_owner_annotation(1);
  b.set(0x5000, 3, owner);
  b.set(0x6000, 3, owner);
  b.set(0x8000, 3, owner);
  b.page(0x9000, 0x9000);
  ArchWalk w = arch_walk(b.root(), b.memory());
  EXPECT_TRUE(w.anomalies.empty());
  ASSERT_EQ(w.translation.annotations.size(), 2u);
  EXPECT_EQ(w.translation.annotations[0], (OwnerAnnotation{0x5000, 2 * k4K, owner}));
  EXPECT_EQ(w.translation.annotations[1], (OwnerAnnotation{0x8000, k4K, owner}));
  ASSERT_EQ(w.translation.mappings.size(), 1u);  // annotations translate nothing
}

TEST(ArchWalk, ConcatenatedStartPagesCoverConsecutiveIpaRanges) {
  // 40 bits: start level 1 with two pages; the second translates from 512 GiB up.
  TableBuilder b({.ia_bits = 40});
  ASSERT_EQ(b.root().start_level, 1u);
  ASSERT_EQ(b.root().pgd_pages, 2u);
  b.block(k512G + 3 * k1G, 1, 0x1'4000'0000);
  ASSERT_EQ(b.entry_pa(k512G + 3 * k1G, 1), b.root().pgd_pa + k4K + 3 * 8);
  ArchWalk w = arch_walk(b.root(), b.memory());
  EXPECT_TRUE(w.anomalies.empty());
  ASSERT_EQ(w.translation.mappings.size(), 1u);
  EXPECT_EQ(w.translation.mappings[0].ipa, k512G + 3 * k1G);
  EXPECT_EQ(w.translation.mappings[0].pa, 0x1'4000'0000u);
}

TEST(ArchWalk, StartLevelTwoTablesTranslate) {
  // 32 bits: start level 2, four concatenated pages of 2 MiB entries.
  TableBuilder b({.ia_bits = 32});
  ASSERT_EQ(b.root().start_level, 2u);
  ASSERT_EQ(b.root().pgd_pages, 4u);
  b.page(0xffff'f000, 0x1234'5000);
  b.block(0x4000'0000, 2, 0x4000'0000);
  ArchWalk w = arch_walk(b.root(), b.memory());
  EXPECT_TRUE(w.anomalies.empty());
  ASSERT_EQ(w.translation.mappings.size(), 2u);
  EXPECT_EQ(w.translation.mappings[1],
            (Mapping{0xffff'f000, k4K, 0x1234'5000, attrs_of(leaf(3, 0))}));
}

TEST(ArchWalk, ALevelZeroBlockIsAnAnomalyAndTranslatesNothing) {
  TableBuilder b;
  b.set(k512G, 0, leaf(1, 0) & ~arm64s2::kTypeBit);  // bits[1:0] = 01 at level 0
  ArchWalk w = arch_walk(b.root(), b.memory());
  EXPECT_TRUE(w.translation.mappings.empty());
  ASSERT_EQ(w.anomalies.size(), 1u);
  EXPECT_TRUE(mentions(w.anomalies, "level 0 block")) << w.anomalies[0];
  EXPECT_TRUE(mentions(w.anomalies, "0x8000000000")) << w.anomalies[0];
}

TEST(ArchWalk, ALevelThreeReservedEncodingIsAnAnomalyAndTranslatesNothing) {
  TableBuilder b;
  b.page(0x1000, 0x1000);
  b.set(0x2000, 3, leaf(3, 0x2000) & ~arm64s2::kTypeBit);  // bits[1:0] = 01 at level 3
  ArchWalk w = arch_walk(b.root(), b.memory());
  ASSERT_EQ(w.translation.mappings.size(), 1u);
  EXPECT_EQ(w.translation.mappings[0].ipa, 0x1000u);
  ASSERT_EQ(w.anomalies.size(), 1u);
  EXPECT_TRUE(mentions(w.anomalies, "level 3 descriptor")) << w.anomalies[0];
  EXPECT_TRUE(mentions(w.anomalies, "reserved")) << w.anomalies[0];
}

TEST(ArchWalk, AMisalignedBlockIsAnAnomalyAndDropsItsLowOutputAddressBits) {
  TableBuilder b;
  b.set(0x4000'0000, 2, leaf(2, 0x8000'0000) | 0x5000);  // OA bits [20:12] set in a 2 MiB block
  ArchWalk w = arch_walk(b.root(), b.memory());
  ASSERT_EQ(w.anomalies.size(), 1u);
  EXPECT_TRUE(mentions(w.anomalies, "output-address bits below its size")) << w.anomalies[0];
  ASSERT_EQ(w.translation.mappings.size(), 1u);
  EXPECT_EQ(w.translation.mappings[0].pa, 0x8000'0000u);
  EXPECT_EQ(w.translation.mappings[0].size, k2M);
}

TEST(ArchWalk, ADescriptorBeyondTheIpaSizeIsAnAnomalyAndUnreachable) {
  // 36 bits: start level 1, one page of which only the first 64 entries are below 2^36.
  TableBuilder b({.ia_bits = 36});
  ASSERT_EQ(b.root().start_level, 1u);
  ASSERT_EQ(b.root().pgd_pages, 1u);
  b.block(63 * k1G, 1, 0x1'0000'0000);  // the last reachable entry
  b.block(64 * k1G, 1, 0x2'0000'0000);  // the first beyond
  ArchWalk w = arch_walk(b.root(), b.memory());
  ASSERT_EQ(w.translation.mappings.size(), 1u);
  EXPECT_EQ(w.translation.mappings[0].ipa, 63 * k1G);
  ASSERT_EQ(w.anomalies.size(), 1u);
  EXPECT_TRUE(mentions(w.anomalies, "beyond the 36-bit IPA space")) << w.anomalies[0];
}

TEST(ArchWalk, ATablePointerToNonTableMemoryIsAnAnomaly) {
  TableBuilder b;
  b.page(0x1000, 0x1000);
  b.set(k1G, 1, make_table(0x7000'0000));  // not a table page
  uint64_t freed = b.new_table_page();
  b.memory().put_page(b.memory().phys_to_virt(freed));  // a table page that was freed
  b.set(2 * k1G, 1, make_table(freed));
  ArchWalk w = arch_walk(b.root(), b.memory());
  ASSERT_EQ(w.translation.mappings.size(), 1u);
  ASSERT_EQ(w.anomalies.size(), 2u);
  EXPECT_TRUE(mentions(w.anomalies, "0x70000000 is not table memory")) << w.anomalies[0];
  EXPECT_TRUE(mentions(w.anomalies, fmt::format("{:#x} is not table memory", freed)))
      << w.anomalies[1];
}

}  // namespace
}  // namespace mmudiff

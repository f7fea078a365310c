// SPDX-License-Identifier: GPL-2.0-only
// The arm64 stage-2 descriptor format (4 KiB granule): geometry as VTCR_EL2 gives it, per-level
// shifts and indices, descriptor encodings, classify(), the reserved and table-address masks and
// the decoder. Every expected value below is computed by hand from the Arm ARM and Linux 6.1's
// arch/arm64/kvm/hyp/pgtable.c, not from the code under test.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "mmu/format/arm64_s2.h"
#include "mmu/format/decode.h"

namespace mmudiff {
namespace {

using namespace arm64s2;

// ---------------------------------------------------------------------------------------------
// Geometry: start level and concatenated PGD pages for every IPA size.

// By hand, from the kernel: levels = ARM64_HW_PGTABLE_LEVELS(ia - 4) = (ia - 8) / 9, at least 2
// (kvm_get_vtcr); start = 4 - levels (VTCR_EL2.SL0 = 2 - start with 4 KiB pages);
// pages = ((2^ia - 1) >> kvm_granule_shift(start - 1)) + 1 (kvm_pgd_pages). For start 0 the
// level underflows to 0xffffffff and ARM64_HW_PGTABLE_LEVEL_SHIFT gives 9 * (4 - (u32)-1) + 3
// = 9 * 5 + 3 = 48, so the start level is always one page.
struct GeometryRow {
  unsigned ia, start, pages;
};
constexpr GeometryRow kGeometryByHand[] = {
    {32, 2, 4}, {33, 2, 8}, {34, 2, 16},                           // 2 levels
    {35, 1, 1}, {36, 1, 1}, {37, 1, 1},  {38, 1, 1},  {39, 1, 1},  // 3 levels
    {40, 1, 2}, {41, 1, 4}, {42, 1, 8},  {43, 1, 16},              // 3, concat.
    {44, 0, 1}, {45, 0, 1}, {46, 0, 1},  {47, 0, 1},  {48, 0, 1},  // 4 levels
};

// The kernel's arithmetic transcribed literally, u32 underflow included: a second derivation
// that does not share a line with arm64_s2.h.
uint64_t kernel_granule_shift(uint32_t level) {
  return (12 - 3) * (4 - level) + 3;
}
uint32_t kernel_pgd_pages(uint32_t ia_bits, uint32_t start_level) {
  uint64_t shift = kernel_granule_shift(start_level - 1); /* May underflow */
  uint64_t mask = (uint64_t{1} << ia_bits) - 1;
  return static_cast<uint32_t>((~uint64_t{0} & mask) >> shift) + 1;
}
uint32_t kernel_levels(uint32_t ia_bits) {
  uint32_t lvls = ((ia_bits - 4) - 4) / (12 - 3);  // stage2_pgtable_levels(ia)
  return lvls < 2 ? 2 : lvls;
}

TEST(Geometry, HandComputedTableCoversEveryIpaSizeFrom32To48) {
  ASSERT_EQ(std::size(kGeometryByHand), kMaxIaBits - kMinIaBits + 1u);
  for (unsigned i = 0; i < std::size(kGeometryByHand); ++i)
    EXPECT_EQ(kGeometryByHand[i].ia, kMinIaBits + i);
}

TEST(Geometry, StartLevelAndPgdPagesMatchTheHandComputedTable) {
  for (const auto& row : kGeometryByHand) {
    SCOPED_TRACE(row.ia);
    Geometry g = geometry_for(row.ia);
    EXPECT_EQ(g.ia_bits, row.ia);
    EXPECT_EQ(g.start_level, row.start);
    EXPECT_EQ(g.pgd_pages, row.pages);
    EXPECT_EQ(levels_for_ia_bits(row.ia), 4 - row.start);
    EXPECT_EQ(g.ia_limit(), uint64_t{1} << row.ia);
  }
}

TEST(Geometry, MatchesTheKernelFormulaIncludingItsUnsignedUnderflowAtStartLevelZero) {
  EXPECT_EQ(kernel_granule_shift(0u - 1u), 48u);  // the underflow the kernel relies on
  for (unsigned ia = kMinIaBits; ia <= kMaxIaBits; ++ia) {
    SCOPED_TRACE(ia);
    uint32_t start = 4 - kernel_levels(ia);
    EXPECT_EQ(geometry_for(ia).start_level, start);
    EXPECT_EQ(geometry_for(ia).pgd_pages, kernel_pgd_pages(ia, start));
  }
}

TEST(Geometry, StartLevelPagesCoverTheIpaSpaceWithAtMostSixteenConcatenatedPages) {
  for (unsigned ia = kMinIaBits; ia <= kMaxIaBits; ++ia) {
    SCOPED_TRACE(ia);
    Geometry g = geometry_for(ia);
    ASSERT_GE(g.pgd_pages, 1u);
    EXPECT_LE(g.pgd_pages, kMaxPgdPages);
    EXPECT_EQ(g.pgd_pages & (g.pgd_pages - 1), 0u) << "a power of two";
    // VTCR_EL2.SL0 for 4 KiB pages is 2 - start: 0, 1 or 2 are the encodable values.
    EXPECT_LE(g.start_level, 2u);
    // Together the pages translate at least the whole IPA space...
    uint64_t covered = uint64_t{g.pgd_pages} * kEntriesPerTable * granule_size(g.start_level);
    EXPECT_GE(covered, g.ia_limit());
    // ...and with concatenation exactly it (a single start page may cover more).
    if (g.pgd_pages > 1) {
      EXPECT_EQ(covered, g.ia_limit());
    }
  }
}

TEST(Geometry, IaSizesOutsideThirtyTwoToFortyEightAreNotValid) {
  EXPECT_FALSE(valid_ia_bits(0));
  EXPECT_FALSE(valid_ia_bits(31));
  EXPECT_TRUE(valid_ia_bits(32));
  EXPECT_TRUE(valid_ia_bits(40));
  EXPECT_TRUE(valid_ia_bits(48));
  EXPECT_FALSE(valid_ia_bits(49));
  EXPECT_FALSE(valid_ia_bits(52));
}

TEST(Geometry, IsUsableAtCompileTime) {
  static_assert(geometry_for(32).pgd_pages == 4);
  static_assert(geometry_for(40).start_level == 1);
  static_assert(geometry_for(48).start_level == 0);
  SUCCEED();
}

// ---------------------------------------------------------------------------------------------
// Levels: shifts, sizes and indices.

TEST(Levels, GranuleShiftAndSizeAreFiveTwelveGigOneGigTwoMegFourK) {
  EXPECT_EQ(granule_shift(0), 39u);
  EXPECT_EQ(granule_shift(1), 30u);
  EXPECT_EQ(granule_shift(2), 21u);
  EXPECT_EQ(granule_shift(3), 12u);
  EXPECT_EQ(granule_size(0), 0x80'0000'0000u);  // 512 GiB
  EXPECT_EQ(granule_size(1), 0x4000'0000u);     // 1 GiB
  EXPECT_EQ(granule_size(2), 0x20'0000u);       // 2 MiB
  EXPECT_EQ(granule_size(3), 0x1000u);          // 4 KiB
  EXPECT_EQ(kPageSize, 4096u);
  EXPECT_EQ(kEntriesPerTable, 512u);
}

TEST(Levels, TableIndexPicksNineBitsPerLevelOfAHandBuiltAddress) {
  // 0x101 << 39 | 0x1ff << 30 | 0xab << 21 | 0x155 << 12 | 0x123, added up by hand.
  constexpr uint64_t addr = 0x0000'80ff'd575'5123;
  EXPECT_EQ(table_index(addr, 0), 0x101u);
  EXPECT_EQ(table_index(addr, 1), 0x1ffu);
  EXPECT_EQ(table_index(addr, 2), 0x0abu);
  EXPECT_EQ(table_index(addr, 3), 0x155u);
  // Bits above the level's nine are dropped, as kvm_pgtable_idx masks them.
  EXPECT_EQ(table_index(uint64_t{0x3ff} << 39, 0), 0x1ffu);
  EXPECT_EQ(table_index(0xfff, 3), 0u);
  EXPECT_EQ(table_index(0x1000, 3), 1u);
}

TEST(Levels, BlocksAreSupportedAtLevelsOneToThreeButNotZero) {
  EXPECT_FALSE(level_supports_block(0));
  EXPECT_TRUE(level_supports_block(1));
  EXPECT_TRUE(level_supports_block(2));
  EXPECT_TRUE(level_supports_block(3));
  EXPECT_FALSE(level_supports_block(4));
  EXPECT_EQ(kMinBlockLevel, 1u);
  EXPECT_EQ(kLastLevel, 3u);
}

// ---------------------------------------------------------------------------------------------
// Bit layout constants against the Arm ARM and the kernel's KVM_PTE_* / KVM_PGTABLE_PROT_*.

TEST(Layout, DescriptorFieldMasksSitWhereTheArmArmPutsThem) {
  EXPECT_EQ(kValid, 0x1u);
  EXPECT_EQ(kTypeBit, 0x2u);
  EXPECT_EQ(kMemAttrMask, 0x3cu);  // [5:2]
  EXPECT_EQ(kS2apR, 0x40u);
  EXPECT_EQ(kS2apW, 0x80u);
  EXPECT_EQ(kShMask, 0x300u);
  EXPECT_EQ(kAf, 0x400u);
  EXPECT_EQ(kBit11, 0x800u);
  EXPECT_EQ(kOaMask, 0x0000'ffff'ffff'f000u);  // KVM_PTE_ADDR_MASK, [47:12]
  EXPECT_EQ(kHighRes0Mask, 0x0007'0000'0000'0000u);
  EXPECT_EQ(kDbm, 0x0008'0000'0000'0000u);
  EXPECT_EQ(kContiguous, 0x0010'0000'0000'0000u);
  EXPECT_EQ(kXnMask, 0x0060'0000'0000'0000u);
  EXPECT_EQ(kXn, 0x0040'0000'0000'0000u);  // KVM_PTE_LEAF_ATTR_HI_S2_XN
  EXPECT_EQ(kSwMask, 0x0780'0000'0000'0000u);
  EXPECT_EQ(kIgnoredHighMask, 0xf800'0000'0000'0000u);
  EXPECT_EQ(kLeafAttrLo, 0xffcu);                  // KVM_PTE_LEAF_ATTR_LO
  EXPECT_EQ(kLeafAttrHi, 0xfff8'0000'0000'0000u);  // KVM_PTE_LEAF_ATTR_HI
  EXPECT_EQ(kOwnerMask, 0x3fcu);                   // KVM_INVALID_PTE_OWNER_MASK
  EXPECT_EQ(kMaxOwnerId, 1u);
}

TEST(Layout, ProtBitsMatchKvmPgtableProt) {
  EXPECT_EQ(prot::kX, 0x1u);
  EXPECT_EQ(prot::kW, 0x2u);
  EXPECT_EQ(prot::kR, 0x4u);
  EXPECT_EQ(prot::kDevice, 0x8u);
  EXPECT_EQ(prot::kSwMask, 0x0780'0000'0000'0000u);  // KVM_PGTABLE_PROT_SW0..SW3
  EXPECT_EQ(prot::kAll, 0x0780'0000'0000'000fu);
}

TEST(Layout, MemAttrEncodingsAreMtS2WithAndWithoutFwb) {
  EXPECT_EQ(mem_attr_normal(false), 0xfu);  // MT_S2_NORMAL
  EXPECT_EQ(mem_attr_device(false), 0x1u);  // MT_S2_DEVICE_nGnRE
  EXPECT_EQ(mem_attr_normal(true), 0x6u);   // MT_S2_FWB_NORMAL
  EXPECT_EQ(mem_attr_device(true), 0x1u);   // MT_S2_FWB_DEVICE_nGnRE
}

TEST(Layout, TableAddressMaskIsBitsFortySevenToTwelve) {
  EXPECT_EQ(table_address_mask(), 0x0000'ffff'ffff'f000u);
  // What the structural hash keeps of a table descriptor: only the type bits.
  EXPECT_EQ(0x0000'4000'0000'3003u & ~table_address_mask(), 0x3u);
}

TEST(Layout, ReservedMasksByLevelAreHandComputed) {
  // Leaf: bit 11, [53:48], [63:59]; a block also its OA bits below the granule.
  EXPECT_EQ(leaf_reserved_mask(3), 0xf83f'0000'0000'0800u);
  EXPECT_EQ(leaf_reserved_mask(2), 0xf83f'0000'001f'f800u);  // + [20:12]
  EXPECT_EQ(leaf_reserved_mask(1), 0xf83f'0000'3fff'f800u);  // + [29:12]
  // Table: everything but [47:12] and bits 1:0.
  EXPECT_EQ(table_reserved_mask(), 0xffff'0000'0000'0ffcu);
  // The bits KVM does write on a leaf are never reserved.
  for (unsigned level = 1; level <= 3; ++level) {
    uint64_t written = kValid | kTypeBit | kMemAttrMask | kS2apR | kS2apW | kShMask | kAf | kXn |
                       kSwMask | (kOaMask & ~genmask(granule_shift(level) - 1, 0));
    EXPECT_EQ(leaf_reserved_mask(level) & written, 0u) << "level " << level;
  }
}

TEST(Layout, GenmaskAndBitBuildTheExpectedMasks) {
  EXPECT_EQ(bit(0), 1u);
  EXPECT_EQ(bit(63), 0x8000'0000'0000'0000u);
  EXPECT_EQ(genmask(63, 0), ~uint64_t{0});
  EXPECT_EQ(genmask(0, 0), 1u);
  EXPECT_EQ(genmask(47, 12), 0x0000'ffff'ffff'f000u);
  EXPECT_EQ(genmask(63, 63), 0x8000'0000'0000'0000u);
}

// ---------------------------------------------------------------------------------------------
// Encoding: hand-computed descriptors for every level.

// Normal memory, RW, inner shareable, accessed, executable: 0x3c | 0xc0 | 0x300 | 0x400 | valid.
constexpr LeafFields kNormalRwx{.oa = 0,
                                .mem_attr = 0xf,
                                .s2ap_r = true,
                                .s2ap_w = true,
                                .sh = 3,
                                .af = true,
                                .xn = false,
                                .sw = 0};

TEST(Encode, LevelZeroTableDescriptorIsAddressOrThree) {
  EXPECT_EQ(make_table(0x0000'4000'0000'3000), 0x0000'4000'0000'3003u);
  // Only [47:12] of the address survives.
  EXPECT_EQ(make_table(0xffff'ffff'ffff'ffff), 0x0000'ffff'ffff'f003u);
}

TEST(Encode, LevelOneBlockOfOneGigNormalRwx) {
  LeafFields f = kNormalRwx;
  f.oa = 0x4000'0000;
  EXPECT_EQ(make_leaf(1, f), 0x0000'0000'4000'07fdu);
  f.xn = true;
  EXPECT_EQ(make_leaf(1, f), 0x0040'0000'4000'07fdu);
}

TEST(Encode, LevelTwoBlockOfTwoMegDeviceReadOnly) {
  LeafFields f{.oa = 0x8020'0000,
               .mem_attr = 0x1,
               .s2ap_r = true,
               .s2ap_w = false,
               .sh = 3,
               .af = true,
               .xn = true,
               .sw = 0};
  // 0x4 | 0x40 | 0x300 | 0x400 | 1 = 0x745, XN bit 54.
  EXPECT_EQ(make_leaf(2, f), 0x0040'0000'8020'0745u);
}

TEST(Encode, LevelThreePageAtTheLastValidPaWithFwbAndAllSoftwareBits) {
  LeafFields f{.oa = 0x0000'ffff'ffff'f000,
               .mem_attr = 0x6,
               .s2ap_r = true,
               .s2ap_w = true,
               .sh = 3,
               .af = true,
               .xn = true,
               .sw = 0xf};
  // 0x18 | 0xc0 | 0x300 | 0x400 | 0b11 = 0x7db; SW 0xf << 55 | XN = 0x07c0 << 48.
  EXPECT_EQ(make_leaf(3, f), 0x07c0'ffff'ffff'f7dbu);
}

TEST(Encode, FieldsWiderThanTheirBitsAreCutToThem) {
  LeafFields f{.oa = 0xffff'ffff'ffff'ffff, .mem_attr = 0xff, .sh = 0xff, .sw = 0xff};
  EXPECT_EQ(make_leaf(3, f), 0x0780'ffff'ffff'f33fu);
}

TEST(Encode, OwnerAnnotationsLiveInBitsNineToTwoAndAreInvalid) {
  EXPECT_EQ(make_owner_annotation(0), 0u);
  EXPECT_EQ(make_owner_annotation(1), 0x4u);
  EXPECT_EQ(make_owner_annotation(0xff), 0x3fcu);
  EXPECT_EQ(make_owner_annotation(0x100), 0u);  // cut to eight bits
  EXPECT_EQ(owner_of(0x4), 1u);
  EXPECT_EQ(owner_of(0xffff'ffff'ffff'fffe), 0xffu);
  EXPECT_EQ(classify(make_owner_annotation(1), 3), DescriptorKind::Invalid);
}

TEST(Encode, OutputAddressIsBitsFortySevenToTwelve) {
  EXPECT_EQ(output_address(0x07c0'ffff'ffff'f7db), 0x0000'ffff'ffff'f000u);
  EXPECT_EQ(output_address(0x0040'0000'4000'07fd), 0x4000'0000u);
  EXPECT_EQ(output_address(0xffff'0000'0000'0fff), 0u);
}

// ---------------------------------------------------------------------------------------------
// classify(): every level, every combination of the valid and type bits.

TEST(Classify, EveryLevelAndTypeBitCombination) {
  using K = DescriptorKind;
  // [level][bits 1:0]
  constexpr K expected[4][4] = {
      {K::Invalid, K::Reserved, K::Invalid, K::Table},  // L0: no blocks with 4 KiB pages
      {K::Invalid, K::Block, K::Invalid, K::Table},     // L1
      {K::Invalid, K::Block, K::Invalid, K::Table},     // L2
      {K::Invalid, K::Reserved, K::Invalid, K::Page},   // L3: 0b01 is reserved
  };
  for (unsigned level = 0; level < 4; ++level) {
    for (uint64_t low = 0; low < 4; ++low) {
      SCOPED_TRACE(testing::Message() << "level " << level << " bits " << low);
      EXPECT_EQ(classify(low, level), expected[level][low]);
      // The other bits never change the kind.
      EXPECT_EQ(classify(low | ~uint64_t{3}, level), expected[level][low]);
    }
  }
}

TEST(Classify, OnlyBlocksAndPagesAreLeaves) {
  EXPECT_TRUE(is_leaf_kind(DescriptorKind::Block));
  EXPECT_TRUE(is_leaf_kind(DescriptorKind::Page));
  EXPECT_FALSE(is_leaf_kind(DescriptorKind::Table));
  EXPECT_FALSE(is_leaf_kind(DescriptorKind::Invalid));
  EXPECT_FALSE(is_leaf_kind(DescriptorKind::Reserved));
}

TEST(Classify, KindNamesAreLowerCaseWords) {
  EXPECT_STREQ(kind_name(DescriptorKind::Invalid), "invalid");
  EXPECT_STREQ(kind_name(DescriptorKind::Table), "table");
  EXPECT_STREQ(kind_name(DescriptorKind::Block), "block");
  EXPECT_STREQ(kind_name(DescriptorKind::Page), "page");
  EXPECT_STREQ(kind_name(DescriptorKind::Reserved), "reserved");
}

// ---------------------------------------------------------------------------------------------
// decode_descriptor(): names every field.

void expect_field(const DecodedDescriptor& d, const char* name, uint64_t value,
                  const std::string& text) {
  const DecodedField* f = d.field(name);
  ASSERT_NE(f, nullptr) << "no field " << name;
  EXPECT_EQ(f->value, value) << name;
  EXPECT_EQ(f->text, text) << name;
}

std::vector<std::string> field_names(const DecodedDescriptor& d) {
  std::vector<std::string> names;
  for (const auto& f : d.fields) names.push_back(f.name);
  return names;
}

TEST(Decode, LeafNamesEveryFieldInOrder) {
  DecodedDescriptor d = decode_descriptor(0x0040'0000'4000'07fd, 1, false);
  EXPECT_EQ(d.raw, 0x0040'0000'4000'07fdu);
  EXPECT_EQ(d.level, 1u);
  EXPECT_EQ(d.kind, DescriptorKind::Block);
  EXPECT_EQ(field_names(d), (std::vector<std::string>{"valid", "type", "OA", "MemAttr", "S2AP",
                                                      "SH", "AF", "XN", "SW", "RES0"}));
}

TEST(Decode, LevelOneBlockFieldsAreTheHandEncodedOnes) {
  DecodedDescriptor d = decode_descriptor(0x0040'0000'4000'07fd, 1, false);
  expect_field(d, "valid", 1, "valid");
  expect_field(d, "type", 0, "block");
  expect_field(d, "OA", 0x4000'0000, "0x40000000");
  expect_field(d, "MemAttr", 0xf, "normal WB");
  expect_field(d, "S2AP", 3, "RW");
  expect_field(d, "SH", 3, "inner shareable");
  expect_field(d, "AF", 1, "accessed");
  expect_field(d, "XN", 2, "execute-never");
  expect_field(d, "SW", 0, "software bits 0x0");
  expect_field(d, "RES0", 0, "clear");
}

TEST(Decode, LevelTwoDeviceBlockIsReadOnlyDeviceMemory) {
  DecodedDescriptor d = decode_descriptor(0x0040'0000'8020'0745, 2, false);
  EXPECT_EQ(d.kind, DescriptorKind::Block);
  expect_field(d, "OA", 0x8020'0000, "0x80200000");
  expect_field(d, "MemAttr", 0x1, "device nGnRE");
  expect_field(d, "S2AP", 1, "RO");
  expect_field(d, "RES0", 0, "clear");
}

TEST(Decode, LevelThreePageWithFwbSoftwareBitsAndWriteOnly) {
  // FWB normal (0x18), S2AP W only (0x80), non-shareable, old, executable, SW 0b1010.
  uint64_t raw = (uint64_t{0xa} << 55) | 0x0000'1234'5678'9000 | 0x18 | 0x80 | 0x3;
  DecodedDescriptor d = decode_descriptor(raw, 3, true);
  EXPECT_EQ(d.kind, DescriptorKind::Page);
  expect_field(d, "type", 1, "page");
  expect_field(d, "OA", 0x1234'5678'9000, "0x123456789000");
  expect_field(d, "MemAttr", 0x6, "normal WB (forced by FWB)");
  expect_field(d, "S2AP", 2, "WO");
  expect_field(d, "SH", 0, "non-shareable");
  expect_field(d, "AF", 0, "old");
  expect_field(d, "XN", 0, "executable");
  expect_field(d, "SW", 0xa, "software bits 0xa");
}

TEST(Decode, MemAttrIsReadWithTheFwbEncodingOnlyWhenAsked) {
  struct Row {
    uint64_t attr;
    bool fwb;
    const char* text;
  };
  const Row rows[] = {
      {0xf, false, "normal WB"},
      {0x1, false, "device nGnRE"},
      {0x0, false, "device nGnRnE"},
      {0x3, false, "device GRE"},
      {0x5, false, "normal NC"},
      {0xa, false, "normal WT"},
      {0x6, false, "normal outer NC inner WT"},
      {0xc, false, "normal outer WB, inner reserved"},
      {0x6, true, "normal WB (forced by FWB)"},
      {0x1, true, "device nGnRE"},
      {0x0, true, "device nGnRnE"},
      {0x5, true, "normal NC"},
      {0x7, true, "normal, stage-1 attributes"},
      {0x4, true, "reserved (FWB encoding)"},
      {0xf, true, "reserved (FWB encoding)"},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(testing::Message() << "MemAttr " << r.attr << " fwb " << r.fwb);
    uint64_t raw = 0x3 | (r.attr << 2);
    expect_field(decode_descriptor(raw, 3, r.fwb), "MemAttr", r.attr, r.text);
  }
}

TEST(Decode, S2apShAndXnNameEveryValue) {
  const char* s2ap[] = {"none", "RO", "WO", "RW"};
  const char* sh[] = {"non-shareable", "reserved", "outer shareable", "inner shareable"};
  const char* xn[] = {"executable", "EL1 execute-never (XN[0], FEAT_XNX)", "execute-never",
                      "EL0 execute-never (XN[0], FEAT_XNX)"};
  for (uint64_t v = 0; v < 4; ++v) {
    DecodedDescriptor d = decode_descriptor(0x3 | (v << 6) | (v << 8) | (v << 53), 3, false);
    expect_field(d, "S2AP", v, s2ap[v]);
    expect_field(d, "SH", v, sh[v]);
    expect_field(d, "XN", v, xn[v]);
  }
}

TEST(Decode, ReservedBitsOnALeafAreReportedAsRes0) {
  // Bit 11 and bit 63 on a page.
  expect_field(decode_descriptor(0x8000'0000'0000'0803, 3, false), "RES0", 0x8000'0000'0000'0800,
               "reserved bits set");
  // DBM, contiguous and XN[0] are bits KVM never sets.
  expect_field(decode_descriptor(0x0038'0000'0000'0003, 3, false), "RES0", 0x0038'0000'0000'0000,
               "reserved bits set");
  // A 2 MiB block whose OA is only 4 KiB aligned.
  expect_field(decode_descriptor(0x0000'0000'4020'1001, 2, false), "RES0", 0x1000,
               "reserved bits set");
  // A 1 GiB block whose OA is only 2 MiB aligned.
  expect_field(decode_descriptor(0x0000'0000'4020'0001, 1, false), "RES0", 0x20'0000,
               "reserved bits set");
}

TEST(Decode, TableNamesTheNextLevelAddressAndItsReservedBits) {
  DecodedDescriptor d = decode_descriptor(0x0000'4000'0000'3003, 0, false);
  EXPECT_EQ(d.kind, DescriptorKind::Table);
  EXPECT_EQ(field_names(d),
            (std::vector<std::string>{"valid", "type", "next-level table", "RES0"}));
  expect_field(d, "type", 1, "table");
  expect_field(d, "next-level table", 0x4000'0000'3000,
               "0x400000003000 (masked by the structural hash)");
  expect_field(d, "RES0", 0, "clear");
  // Attribute bits on a table descriptor are RES0 here: KVM writes PA | 0b11 only.
  expect_field(decode_descriptor(0x8000'4000'0000'3403, 2, false), "RES0", 0x8000'0000'0000'0400,
               "reserved bits set");
}

TEST(Decode, InvalidEntriesNameTheirOwner) {
  DecodedDescriptor empty = decode_descriptor(0, 3, false);
  EXPECT_EQ(empty.kind, DescriptorKind::Invalid);
  EXPECT_EQ(field_names(empty), (std::vector<std::string>{"valid", "owner", "other"}));
  expect_field(empty, "valid", 0, "invalid");
  expect_field(empty, "owner", 0, "empty");
  expect_field(empty, "other", 0, "clear");

  DecodedDescriptor owned = decode_descriptor(0x4, 3, false);
  expect_field(owned, "owner", 1, "owner id 1");
  expect_field(owned, "other", 0, "clear");

  DecodedDescriptor odd = decode_descriptor(0x8000'0000'0000'03fe, 2, false);
  expect_field(odd, "owner", 0xff, "owner id 255");
  expect_field(odd, "other", 0x8000'0000'0000'0002, "bits outside the owner field");

  DecodedDescriptor no_owner = decode_descriptor(0x1000, 1, false);
  expect_field(no_owner, "owner", 0, "no owner annotation");
  expect_field(no_owner, "other", 0x1000, "bits outside the owner field");
}

TEST(Decode, ReservedEncodingsNameOnlyValidAndType) {
  DecodedDescriptor l3 = decode_descriptor(0x0000'0000'4000'07fd, 3, false);
  EXPECT_EQ(l3.kind, DescriptorKind::Reserved);
  EXPECT_EQ(field_names(l3), (std::vector<std::string>{"valid", "type"}));
  expect_field(l3, "type", 0, "reserved encoding at this level");
  EXPECT_EQ(decode_descriptor(0x1, 0, false).kind, DescriptorKind::Reserved);
}

TEST(Decode, FieldLookupByNameReturnsNullForAnAbsentField) {
  DecodedDescriptor d = decode_descriptor(0, 3, false);
  EXPECT_EQ(d.field("OA"), nullptr);
  ASSERT_NE(d.field("owner"), nullptr);
}

TEST(Decode, EncodedLeafFieldsDecodeBackToThemselvesAtEveryLeafLevel) {
  for (unsigned level = 1; level <= 3; ++level) {
    for (unsigned v = 0; v < 64; ++v) {
      LeafFields f{.oa = (uint64_t{0x1234'5} << granule_shift(level)) & kOaMask,
                   .mem_attr = static_cast<uint8_t>(v & 0xf),
                   .s2ap_r = (v & 1) != 0,
                   .s2ap_w = (v & 2) != 0,
                   .sh = static_cast<uint8_t>(v & 3),
                   .af = (v & 4) != 0,
                   .xn = (v & 8) != 0,
                   .sw = static_cast<uint8_t>((v >> 2) & 0xf)};
      uint64_t raw = make_leaf(level, f);
      SCOPED_TRACE(testing::Message() << "level " << level << " raw " << std::hex << raw);
      DecodedDescriptor d = decode_descriptor(raw, level, false);
      EXPECT_EQ(d.kind, level == 3 ? DescriptorKind::Page : DescriptorKind::Block);
      EXPECT_EQ(d.field("OA")->value, f.oa);
      EXPECT_EQ(d.field("MemAttr")->value, f.mem_attr);
      EXPECT_EQ(d.field("S2AP")->value, (f.s2ap_w ? 2u : 0u) | (f.s2ap_r ? 1u : 0u));
      EXPECT_EQ(d.field("SH")->value, f.sh);
      EXPECT_EQ(d.field("AF")->value, f.af ? 1u : 0u);
      EXPECT_EQ(d.field("XN")->value, f.xn ? 2u : 0u);
      EXPECT_EQ(d.field("SW")->value, f.sw);
      EXPECT_EQ(d.field("RES0")->value, 0u) << "make_leaf never sets a reserved bit";
    }
  }
}

// ---------------------------------------------------------------------------------------------
// describe_descriptor(): the one-line form of dumps and diffs.

TEST(Describe, LeafLineShowsEveryFieldCompactly) {
  EXPECT_EQ(describe_descriptor(0x0040'0000'4000'07fd, 1, false),
            "L1 block    0x00400000400007fd OA=0x40000000 MemAttr=0xf(normal WB) S2AP=RW SH=IS "
            "AF=1 XN=1 SW=0x0");
  EXPECT_EQ(describe_descriptor(0x07c0'ffff'ffff'f7db, 3, true),
            "L3 page     0x07c0fffffffff7db OA=0xfffffffff000 MemAttr=0x6(normal WB (forced by "
            "FWB)) S2AP=RW SH=IS AF=1 XN=1 SW=0xf");
}

TEST(Describe, ReservedBitsAppearOnlyWhenSet) {
  EXPECT_EQ(describe_descriptor(0x0020'0000'0000'0003, 3, false),
            "L3 page     0x0020000000000003 OA=0x0 MemAttr=0x0(device nGnRnE) S2AP=none SH=NS "
            "AF=0 XN=0 SW=0x0 RES0=0x20000000000000");
}

TEST(Describe, TableInvalidAndReservedLines) {
  EXPECT_EQ(describe_descriptor(0x0000'4000'0000'3003, 0, false),
            "L0 table    0x0000400000003003 next=0x400000003000");
  EXPECT_EQ(describe_descriptor(0, 3, false), "L3 invalid  0x0000000000000000 empty");
  EXPECT_EQ(describe_descriptor(0x4, 3, false), "L3 invalid  0x0000000000000004 owner=1");
  EXPECT_EQ(describe_descriptor(0x1000, 2, false),
            "L2 invalid  0x0000000000001000 owner=0 other=0x1000");
  EXPECT_EQ(describe_descriptor(0x1, 3, false), "L3 reserved 0x0000000000000001");
}

}  // namespace
}  // namespace mmudiff

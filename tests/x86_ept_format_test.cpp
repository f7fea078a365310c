// SPDX-License-Identifier: GPL-2.0-only
// The x86-ept format: one interned instance per parameter combination, the shape of 4- and
// 5-level EPT, every kind classify() gives (KVM's non-present, frozen, access-tracked and MMIO
// SPTEs included) against entries built by hand and against the SDM model's reading, reserved
// masks worked out by hand for MAXPHYADDR 36, 46 and 52, and a decoder that names every field.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <thread>

#include "mmu/format/arm64_s2_format.h"
#include "mmu/format/x86_ept.h"
#include "mmu/format/x86_ept_format.h"
#include "models/x86_ept_model.h"
#include "oracles/x86_ept_walk.h"

namespace mmudiff {
namespace {

namespace e = x86ept;

const DescriptorFormat& ept(unsigned maxphyaddr = 46, unsigned levels = 4, bool ad = true,
                            bool execonly = true) {
  return x86_ept_format({maxphyaddr, levels, ad, execonly});
}

// Trait levels of a 4-level table.
constexpr unsigned kPml4 = 0, kPdpt = 1, kPd = 2, kPt = 3;

constexpr uint64_t kWb = uint64_t{e::kMemTypeWb} << e::kMemTypeShift;
constexpr uint64_t kRwx = e::kRead | e::kWrite | e::kExec;

// A leaf as KVM's make_spte writes it with A/D on: present, SVE, MMU-present, WB + IPAT, A/D,
// host- and MMU-writable.
uint64_t kvm_leaf(uint64_t hpa, bool large) {
  return hpa | kRwx | kWb | e::kIgnorePat | (large ? e::kLargePage : 0) | e::kAccessed | e::kDirty |
         e::kMmuPresent | e::kHostWritable | e::kMmuWritable | e::kSuppressVe;
}
uint64_t kvm_table(uint64_t pa) {
  return pa | kRwx | e::kAccessed | e::kMmuPresent | e::kSuppressVe;
}
// An MMIO SPTE: W+X, the generation split over bits 10:3 and 62:52, the GPA, bit 63 clear.
uint64_t kvm_mmio(uint64_t gpa, uint64_t gen) {
  return e::kMmioValue | ((gen & 0xff) << 3) | (((gen >> 8) & 0x7ff) << 52) | gpa;
}

TEST(X86EptParams, NameDescribesEveryParameterAndParsesBack) {
  const DescriptorFormat& f = ept(46, 4, true, false);
  EXPECT_EQ(f.name(), "x86-ept maxphyaddr=46 levels=4 ad=1 execonly=0");
  auto p = x86_ept_params(f);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, (X86EptParams{46, 4, true, false}));
  EXPECT_EQ(parse_x86_ept_name("x86-ept maxphyaddr=52 levels=5 ad=0 execonly=1"),
            (X86EptParams{52, 5, false, true}));
  for (const char* bad :
       {"x86-ept", "x86-ept maxphyaddr=46 levels=4 ad=1",
        "x86-ept maxphyaddr=53 levels=4 ad=1 "
        "execonly=1",
        "x86-ept maxphyaddr=46 levels=3 ad=1 execonly=1", "x86-ept  maxphyaddr=46",
        "x86-ept maxphyaddr=46 levels=4 ad=2 execonly=1",
        "x86-eptX maxphyaddr=46 levels=4 ad=1 "
        "execonly=1",
        "x86-ept maxphyaddr=4x levels=4 ad=1 execonly=1"})
    EXPECT_FALSE(parse_x86_ept_name(bad).has_value()) << bad;
  EXPECT_FALSE(x86_ept_params(arm64_s2_4k_format()).has_value());
  EXPECT_NE(f.description().find("MAXPHYADDR 46"), std::string_view::npos);
}

TEST(X86EptParams, OutOfRangeParametersAreRefused) {
  EXPECT_THROW(ept(35), std::invalid_argument);
  EXPECT_THROW(ept(53), std::invalid_argument);
  EXPECT_THROW(ept(46, 3), std::invalid_argument);
  EXPECT_THROW(ept(46, 6), std::invalid_argument);
  EXPECT_NO_THROW(ept(36, 5, false, false));
}

TEST(X86EptParams, EachCombinationIsOneInstanceAcrossThreads) {
  std::set<const DescriptorFormat*> all;
  for (unsigned m = 36; m <= 52; ++m)
    for (unsigned levels : {4u, 5u})
      for (bool ad : {false, true})
        for (bool xo : {false, true}) {
          const DescriptorFormat* f = &ept(m, levels, ad, xo);
          EXPECT_EQ(f, &ept(m, levels, ad, xo));
          all.insert(f);
        }
  EXPECT_EQ(all.size(), 17u * 2 * 2 * 2);
  std::vector<const DescriptorFormat*> seen(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < seen.size(); ++i)
    threads.emplace_back([&seen, i] {
      for (int k = 0; k <= 200; ++k)
        seen[i] = &x86_ept_format({40 + unsigned(k % 3), 5, true, true});
    });
  for (auto& t : threads) t.join();
  for (const DescriptorFormat* f : seen) EXPECT_EQ(f, &ept(42, 5, true, true));  // k = 200
}

TEST(X86EptShape, FourAndFiveLevelsOf512EntriesFromTheRoot) {
  const DescriptorFormat& four = ept(46, 4);
  EXPECT_EQ(four.levels(), 4u);
  EXPECT_EQ(four.entries_per_table(), 512u);
  EXPECT_EQ(four.page_size(), 4096u);
  EXPECT_EQ(four.pa_bits(), 46u);
  EXPECT_EQ(four.max_root_pages(), 1u);
  const unsigned shifts4[] = {39, 30, 21, 12};
  for (unsigned l = 0; l < 4; ++l) EXPECT_EQ(four.index_shift(l), shifts4[l]);
  EXPECT_EQ(four.min_ia_bits(), 48u);
  EXPECT_EQ(four.max_ia_bits(), 48u);
  EXPECT_EQ(four.geometry(48), (TableGeometry{48, 0, 1}));
  const DescriptorFormat& five = ept(52, 5);
  const unsigned shifts5[] = {48, 39, 30, 21, 12};
  for (unsigned l = 0; l < 5; ++l) EXPECT_EQ(five.index_shift(l), shifts5[l]);
  EXPECT_EQ(five.max_ia_bits(), 57u);
  EXPECT_EQ(five.root_page_span(0), uint64_t{1} << 57);
  EXPECT_EQ(x86_level(0, 5), 5u);
  EXPECT_EQ(x86_level(4, 5), 1u);
  EXPECT_EQ(trait_level(1, 4), 3u);
}

TEST(X86EptClassify, NonPresentFrozenAccessTrackedAndMmioAreInvalid) {
  const DescriptorFormat& f = ept();
  for (unsigned l = 0; l < 4; ++l) {
    EXPECT_EQ(f.classify(0, l), DescriptorKind::Invalid);
    EXPECT_EQ(f.classify(e::kNonPresent, l), DescriptorKind::Invalid);
    EXPECT_EQ(f.classify(e::kFrozen, l), DescriptorKind::Invalid);
    EXPECT_EQ(f.classify(kvm_mmio(0xfee0'0000, 0x7'ffff), l), DescriptorKind::Invalid);
  }
  // Access-tracked (A/D off): RWX cleared, R and X saved in 54 and 56, still MMU-present.
  const uint64_t tracked = (kvm_leaf(0x1000, false) & ~kRwx) | e::kAdDisabled |
                           (uint64_t{e::kRead | e::kExec} << e::kAccTrackSavedShift);
  EXPECT_EQ(f.classify(tracked, kPt), DescriptorKind::Invalid);
  // W+X with bit 63 or the MMU-present bit is no MMIO SPTE: a misconfiguration.
  EXPECT_EQ(f.classify(kvm_mmio(0x1000, 1) | e::kSuppressVe, kPt), DescriptorKind::Reserved);
  EXPECT_EQ(f.classify(kvm_mmio(0x1000, 1) | e::kMmuPresent, kPt), DescriptorKind::Reserved);
}

TEST(X86EptClassify, TablesBlocksAndPagesByLevelAndBit7) {
  const DescriptorFormat& f = ept();
  EXPECT_EQ(f.classify(kvm_table(0x1'0000'0000), kPml4), DescriptorKind::Table);
  EXPECT_EQ(f.classify(kvm_table(0x1'0000'0000), kPdpt), DescriptorKind::Table);
  EXPECT_EQ(f.classify(kvm_table(0x1'0000'0000), kPd), DescriptorKind::Table);
  EXPECT_EQ(f.classify(kvm_leaf(0x4000'0000, true), kPdpt), DescriptorKind::Block);
  EXPECT_EQ(f.classify(kvm_leaf(0x4020'0000, true), kPd), DescriptorKind::Block);
  EXPECT_EQ(f.classify(kvm_leaf(0x4020'1000, false), kPt), DescriptorKind::Page);
  // Bit 7 is ignored in a PTE, reserved in a PML4E (and a PML5E).
  EXPECT_EQ(f.classify(kvm_leaf(0x4020'1000, true), kPt), DescriptorKind::Page);
  EXPECT_EQ(f.classify(kvm_table(0x1000) | e::kLargePage, kPml4), DescriptorKind::Reserved);
  EXPECT_EQ(ept(46, 5).classify(kvm_table(0x1000) | e::kLargePage, 0), DescriptorKind::Reserved);
  EXPECT_EQ(ept(46, 5).classify(kvm_table(0x1000), 0), DescriptorKind::Table);
  EXPECT_EQ(ept(46, 5).classify(kvm_leaf(0x4000'0000, true), 2), DescriptorKind::Block);
}

TEST(X86EptClassify, MisconfigurationsAreReserved) {
  const DescriptorFormat& xo = ept(46, 4, true, true);
  const DescriptorFormat& no_xo = ept(46, 4, true, false);
  const uint64_t page = kvm_leaf(0x5000, false);
  EXPECT_EQ(xo.classify((page & ~kRwx) | e::kWrite, kPt), DescriptorKind::Reserved);
  EXPECT_EQ(xo.classify((kvm_table(0x5000) & ~kRwx) | e::kWrite, kPml4), DescriptorKind::Reserved);
  EXPECT_EQ(xo.classify((page & ~kRwx) | e::kExec, kPt), DescriptorKind::Page);
  EXPECT_EQ(no_xo.classify((page & ~kRwx) | e::kExec, kPt), DescriptorKind::Reserved);
  EXPECT_EQ(no_xo.classify((kvm_table(0x5000) & ~kRwx) | e::kExec, kPd), DescriptorKind::Reserved);
  // Memory types 2, 3, 7 in a leaf; any memory type in a table entry.
  for (uint64_t mt : {2, 3, 7})
    EXPECT_EQ(xo.classify((page & ~e::kMemTypeMask) | (mt << 3), kPt), DescriptorKind::Reserved);
  for (uint64_t mt : {0, 1, 4, 5, 6})
    EXPECT_EQ(xo.classify((page & ~e::kMemTypeMask) | (mt << 3), kPt), DescriptorKind::Page);
  EXPECT_EQ(xo.classify(kvm_table(0x5000) | kWb, kPd), DescriptorKind::Reserved);
  EXPECT_EQ(xo.classify(kvm_table(0x5000) | e::kIgnorePat, kPdpt), DescriptorKind::Reserved);
  // The address above MAXPHYADDR: bit 46 is reserved with 46 bits, an address with 47.
  EXPECT_EQ(xo.classify(kvm_leaf(e::bit(46), false), kPt), DescriptorKind::Reserved);
  EXPECT_EQ(ept(47).classify(kvm_leaf(e::bit(46), false), kPt), DescriptorKind::Page);
  EXPECT_EQ(ept(52).classify(kvm_table(e::bit(51)), kPml4), DescriptorKind::Table);
  // A huge page's address bits below its size.
  EXPECT_EQ(xo.classify(kvm_leaf(0x4020'1000, true), kPd), DescriptorKind::Reserved);
  EXPECT_EQ(xo.classify(kvm_leaf(0x4020'0000, true), kPdpt), DescriptorKind::Reserved);
}

// The format's reading against the SDM model's (models/x86_ept_model.h), entry by entry: a
// present entry is Reserved exactly when the SDM calls it misconfigured, MMIO SPTEs aside.
TEST(X86EptClassify, AgreesWithTheSdmModelOnRandomEntries) {
  std::mt19937_64 rng(1612);
  for (unsigned maxphyaddr : {36u, 46u, 52u}) {
    for (bool xo : {false, true}) {
      for (unsigned levels : {4u, 5u}) {
        const DescriptorFormat& f = ept(maxphyaddr, levels, true, xo);
        for (int i = 0; i < 4000; ++i) {
          uint64_t d = rng();
          // Thin out the random bits so that every kind turns up.
          if (i % 4 != 0) d &= 0xfff | (rng() % 2 ? e::addr_mask(maxphyaddr) & 0xffff'f000 : 0);
          if (i % 3 == 0) d &= ~uint64_t{0x78};
          for (unsigned t = 0; t < levels; ++t) {
            const unsigned l = x86_level(t, levels);
            const DescriptorKind k = f.classify(d, t);
            const bool present = d & e::kRwxMask;
            const bool mmio =
                (d & (e::kRwxMask | e::kSuppressVe | e::kMmuPresent)) == e::kMmioValue;
            const std::string why = models::sdm_misconfig_reason(d, l, {maxphyaddr, xo, true});
            ASSERT_EQ(k == DescriptorKind::Reserved, present && !mmio && !why.empty())
                << std::hex << d << " level " << l << ": " << why;
            ASSERT_EQ(k == DescriptorKind::Invalid, !present || mmio) << std::hex << d;
            if (k == DescriptorKind::Block || k == DescriptorKind::Page) {
              ASSERT_EQ(f.block_misalignment(d, t), 0u);
            }
          }
        }
      }
    }
  }
}

TEST(X86EptMasks, ReservedMasksByLevelForMaxphyaddr36_46_52) {
  struct Case {
    unsigned maxphyaddr;
    uint64_t high;
  };
  for (Case c :
       {Case{36, 0x000f'fff0'0000'0000ULL}, Case{46, 0x000f'c000'0000'0000ULL}, Case{52, 0}}) {
    const DescriptorFormat& f = ept(c.maxphyaddr);
    EXPECT_EQ(f.leaf_reserved_mask(kPt), c.high);
    EXPECT_EQ(f.leaf_reserved_mask(kPd), c.high | 0x1f'f000);
    EXPECT_EQ(f.leaf_reserved_mask(kPdpt), c.high | 0x3fff'f000);
    for (unsigned t : {kPml4, kPdpt, kPd}) EXPECT_EQ(f.table_reserved_mask(t), c.high | 0xf8);
    EXPECT_EQ(f.table_address_mask(kPml4), 0x000f'ffff'ffff'f000ULL & ~c.high);
  }
  const DescriptorFormat& f = ept(46);
  EXPECT_EQ(f.block_misalignment(kvm_leaf(0x4020'1000, true), kPd), 0x1000u);
  EXPECT_EQ(f.block_misalignment(kvm_leaf(0x4020'1000, true), kPdpt), 0x20'1000u);
  EXPECT_EQ(f.block_misalignment(kvm_leaf(0x4020'1000, false), kPt), 0u);
}

// The format's masks are KVM's shadow_zero_check masks (models/x86_ept_model.h) for every
// MAXPHYADDR and both table heights: a leaf's are rsvd_bits_mask[1][level - 1], a table entry's
// rsvd_bits_mask[0][level - 1] with bit 7 (a table entry has it clear by definition).
TEST(X86EptMasks, AreKvmsShadowZeroCheckMasksForEveryMaxphyaddr) {
  for (unsigned m = 36; m <= 52; ++m) {
    const models::ConcreteRsvdCheck kvm = models::kvm_tdp_shadow_zero_check(m, models::kPgLevel1G);
    for (unsigned levels : {4u, 5u}) {
      const DescriptorFormat& f = ept(m, levels);
      for (unsigned l = 1; l <= 3; ++l)
        EXPECT_EQ(f.leaf_reserved_mask(trait_level(l, levels)), kvm.rsvd_bits_mask[1][l - 1]) << m;
      for (unsigned l = 2; l <= levels; ++l)
        EXPECT_EQ(f.table_reserved_mask(trait_level(l, levels)),
                  kvm.rsvd_bits_mask[0][l - 1] | e::kLargePage)
            << m << " " << l;
      EXPECT_EQ(f.table_address_mask(0) | kvm.rsvd_bits_mask[0][0], e::kAddrMask) << m;
      EXPECT_EQ(f.table_address_mask(0) & kvm.rsvd_bits_mask[0][0], 0u) << m;
    }
  }
}

TEST(X86EptAddresses, TableAndOutputAddresses) {
  const DescriptorFormat& f = ept(46);
  EXPECT_EQ(f.next_table_address(kvm_table(0x1'2345'6000), kPml4), 0x1'2345'6000u);
  EXPECT_EQ(f.output_address(kvm_leaf(0x3fff'ffe0'0000, true), kPd), 0x3fff'ffe0'0000u);
  // The hash masks the table address but keeps everything else, reserved bits above it too.
  EXPECT_EQ(kvm_table(0x1'2345'6000) & ~f.table_address_mask(kPd),
            kRwx | e::kAccessed | e::kMmuPresent | e::kSuppressVe);
}

TEST(X86EptAttributes, PermissionsMemoryTypesAndAccessed) {
  const DescriptorFormat& f = ept(46, 4, true);
  Permissions rx = f.permissions(e::kRead | e::kExec);
  EXPECT_EQ(rx, (Permissions{true, false, true, true}));
  EXPECT_EQ(f.permissions(e::kWrite | e::kRead), (Permissions{true, true, false, false}));
  EXPECT_FALSE(f.permissions(e::kUserExec | e::kRead).executable());  // XU: MBEC is off
  const MemoryType types[] = {MemoryType::Device,
                              MemoryType::NormalNonCacheable,
                              MemoryType::Reserved,
                              MemoryType::Reserved,
                              MemoryType::NormalWriteThrough,
                              MemoryType::NormalWriteThrough,
                              MemoryType::NormalWriteBack,
                              MemoryType::Reserved};
  for (uint64_t mt = 0; mt < 8; ++mt)
    EXPECT_EQ(f.leaf_attributes(0x1000 | e::kRead | (mt << 3), kPt, false).memory_type, types[mt])
        << mt;
  const uint64_t leaf = kvm_leaf(0x7000, false);
  LeafAttributes a = f.leaf_attributes(leaf, kPt, false);
  EXPECT_EQ(a.output_address, 0x7000u);
  EXPECT_TRUE(a.accessed);
  EXPECT_EQ(a.software, (e::kHostWritable | e::kMmuWritable) >> 52);
  EXPECT_FALSE(f.leaf_attributes(leaf & ~e::kAccessed, kPt, false).accessed);
  // Without A/D (globally, or in the SPTE's own A/D state) a present SPTE is young.
  EXPECT_TRUE(ept(46, 4, false).leaf_attributes(leaf & ~e::kAccessed, kPt, false).accessed);
  EXPECT_TRUE(f.leaf_attributes((leaf & ~e::kAccessed) | e::kAdDisabled, kPt, false).accessed);
  // What translation keeps: the walker's mask, bit for bit.
  EXPECT_EQ(f.translation_attr_mask(), kEptTranslationAttrMask);
  EXPECT_EQ(f.break_before_make_mask(), e::kAddrMask | e::kMemTypeMask | e::kIgnorePat);
  EXPECT_EQ(f.describe_attributes(leaf & f.translation_attr_mask()),
            "RWX=RWX MT=6(WB) IPAT=1 A=1 D=1 XU=0 SVE=1 SW=0x60");
  EXPECT_EQ(f.owner_annotation(e::kNonPresent), 0u);
  EXPECT_EQ(f.max_owner_id(), 0u);
}

std::vector<std::string> field_names(const DecodedDescriptor& d) {
  std::vector<std::string> names;
  for (const auto& f : d.fields) names.push_back(f.name);
  return names;
}

TEST(X86EptDecode, NamesEveryFieldOfEveryKindInOneOrder) {
  const DescriptorFormat& f = ept();
  const std::vector<std::string> expected = {"state",
                                             "R",
                                             "W",
                                             "X",
                                             "MT",
                                             "IPAT",
                                             "PS",
                                             "A",
                                             "D",
                                             "XU",
                                             "MMU-present",
                                             "address",
                                             "AD-state",
                                             "saved-R",
                                             "saved-X",
                                             "host-writable",
                                             "MMU-writable",
                                             "other",
                                             "SVE",
                                             "generation",
                                             "reserved"};
  for (uint64_t d : {uint64_t{0}, e::kNonPresent, kvm_mmio(0x1000, 3), kvm_table(0x1000),
                     kvm_leaf(0x4000'0000, true), kvm_leaf(0x1000, false) & ~e::kRead})
    for (unsigned t = 0; t < 4; ++t) EXPECT_EQ(field_names(f.decode(d, t, false)), expected);
}

TEST(X86EptDecode, FieldValuesOfALeafOfATableAndOfAnMmioSpte) {
  const DescriptorFormat& f = ept();
  DecodedDescriptor leaf = f.decode(kvm_leaf(0x4020'0000, true) | e::kAdWrprotOnly, kPd, false);
  EXPECT_EQ(leaf.kind, DescriptorKind::Block);
  EXPECT_EQ(leaf.field("state")->text, "present PDE");
  EXPECT_EQ(leaf.field("MT")->value, 6u);
  EXPECT_EQ(leaf.field("MT")->text, "WB");
  EXPECT_EQ(leaf.field("IPAT")->value, 1u);
  EXPECT_EQ(leaf.field("PS")->text, "maps a page");
  EXPECT_EQ(leaf.field("address")->value, 0x4020'0000u);
  EXPECT_EQ(leaf.field("AD-state")->value, 2u);
  EXPECT_EQ(leaf.field("AD-state")->text, "A/D write-protect only");
  EXPECT_EQ(leaf.field("host-writable")->value, 1u);
  EXPECT_EQ(leaf.field("MMU-writable")->value, 1u);
  EXPECT_EQ(leaf.field("SVE")->value, 1u);
  EXPECT_EQ(leaf.field("reserved")->value, 0u);

  DecodedDescriptor table = f.decode(kvm_table(0x1'0000'3000), kPml4, false);
  EXPECT_EQ(table.kind, DescriptorKind::Table);
  EXPECT_EQ(table.field("state")->text, "present PML4E");
  EXPECT_EQ(table.field("PS")->text, "clear");
  EXPECT_EQ(table.field("address")->text, "next table 0x100003000 (masked by the structural hash)");

  const uint64_t gen = 0x5'a5a5;  // 19 bits: 0xa5 low, 0x5a5 high
  DecodedDescriptor mmio = f.decode(kvm_mmio(0xfee0'0000, gen), kPt, false);
  EXPECT_EQ(mmio.kind, DescriptorKind::Invalid);
  EXPECT_EQ(mmio.field("state")->text, "mmio");
  EXPECT_EQ(mmio.field("generation")->value, gen);
  EXPECT_EQ(mmio.field("address")->text, "MMIO GPA 0xfee00000");

  DecodedDescriptor bad = f.decode(kvm_leaf(e::bit(47), false), kPt, false);
  EXPECT_EQ(bad.kind, DescriptorKind::Reserved);
  EXPECT_EQ(bad.field("state")->text, "EPT misconfiguration: reserved bits set");
  EXPECT_EQ(bad.field("reserved")->value, e::bit(47));

  const uint64_t tracked = (kvm_leaf(0x1000, false) & ~kRwx) | e::kAdDisabled |
                           (uint64_t{e::kRead | e::kExec} << e::kAccTrackSavedShift);
  DecodedDescriptor t = f.decode(tracked, kPt, false);
  EXPECT_EQ(t.field("state")->text, "access-tracked");
  EXPECT_EQ(t.field("saved-R")->value, 1u);
  EXPECT_EQ(t.field("saved-X")->value, 1u);
  EXPECT_EQ(f.decode(e::kFrozen, kPt, false).field("state")->text, "frozen");
  EXPECT_EQ(f.decode(e::kNonPresent, kPt, false).field("state")->text, "non-present");
}

TEST(X86EptDecode, DescribeIsOneLineInTheSdmsLevelNames) {
  const DescriptorFormat& f = ept();
  EXPECT_EQ(f.describe(kvm_leaf(0x4020'0000, true), kPd, false),
            "PDE block    0x8600000040200bf7 addr=0x40200000 RWX MT=WB IPAT A D SVE MMU-present "
            "host-w mmu-w");
  EXPECT_EQ(f.describe(kvm_table(0x1'0000'3000), kPml4, false),
            "PML4E table    0x8000000100003907 next=0x100003000 RWX A SVE MMU-present");
  EXPECT_EQ(f.describe(e::kNonPresent, kPt, false), "PTE invalid  0x8000000000000000 non-present");
  EXPECT_EQ(f.describe(kvm_mmio(0xfee0'0000, 0x5'a5a5), kPt, false),
            "PTE invalid  0x5a500000fee0052e mmio gen=370085 gpa=0xfee00000");
  EXPECT_EQ(f.describe(kvm_leaf(0x1000, false) & ~e::kRead, kPt, false),
            "PTE reserved 0x8600000000001b76 (EPT misconfiguration: writable but not readable) "
            "addr=0x1000 -WX MT=WB IPAT A D SVE MMU-present host-w mmu-w");
  EXPECT_EQ(ept(46, 5).describe(kvm_table(0x2000), 0, false).rfind("PML5E table", 0), 0u);
}

}  // namespace
}  // namespace mmudiff

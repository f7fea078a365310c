// SPDX-License-Identifier: GPL-2.0-only
// Table invariants on tables built by hand: quiet on every encoding KVM writes, and each rule
// firing, with its class, on a table that breaks it.
#include <gtest/gtest.h>

#include <string>

#include <fmt/format.h>

#include "oracles/invariants.h"
#include "tests/findings_text.h"
#include "tests/table_builder.h"

namespace mmudiff {
namespace {

using namespace mmudiff::testing;
namespace s2 = mmudiff::arm64s2;

// The table's violations must be exactly one, of this rule and class.
void expect_only(const TableBuilder& b, const char* rule, Severity severity) {
  auto v = check_invariants(b.root(), const_cast<TableBuilder&>(b).memory());
  ASSERT_EQ(v.size(), 1u) << describe_objections(v);
  EXPECT_EQ(v[0].rule, rule) << describe_objections(v);
  EXPECT_EQ(v[0].severity, severity) << describe_objections(v);
}

// A table with every kind of entry KVM writes.
void populate(TableBuilder& b) {
  b.page(0x1000, 0x8000'1000);
  b.page(0x2000, 0x8000'2000, {.w = false, .x = true, .sw = 0xa});
  b.page(0x3000, 0x9000'0000, {.device = true});
  b.set(0x4000, 3, s2::make_owner_annotation(1));
  b.block(0x20'0000, 2, 0x8020'0000, {.af = false});
  b.block(k1G, 1, 0x40'0000'0000, {.r = false, .w = false});
  b.block(0x0000'8000'4000'0000, 1, 0x4000'0000, {.x = true});
}

TEST(Invariants, ATableWithEveryEncodingKvmWritesIsQuiet) {
  TableBuilder b;
  populate(b);
  auto v = check_invariants(b.root(), b.memory());
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

TEST(Invariants, AnFwbTableWithEveryEncodingKvmWritesIsQuiet) {
  TableBuilder b({.ia_bits = 40, .fwb = true});
  populate(b);
  b.page(k512G + 0x5000, 0x9000'5000, {.device = true});  // in the second start-level page
  auto v = check_invariants(b.root(), b.memory());
  EXPECT_TRUE(v.empty()) << describe_objections(v);
}

TEST(Invariants, AnEmptyAndADestroyedTableAreQuiet) {
  TableBuilder b;
  EXPECT_TRUE(check_invariants(b.root(), b.memory()).empty());
  EXPECT_TRUE(check_invariants(TableRoot{}, b.memory()).empty());
}

TEST(Invariants, AReservedBitInALevelOneBlockIsSecurity) {
  TableBuilder b;
  b.set(k1G, 1, leaf(1, k1G) | s2::kBit11);
  expect_only(b, "reserved-bits", Severity::Security);
}

TEST(Invariants, AReservedBitInALevelTwoBlockIsSecurity) {
  TableBuilder b;
  b.set(k2M, 2, leaf(2, k2M) | s2::kContiguous);
  expect_only(b, "reserved-bits", Severity::Security);
}

TEST(Invariants, EachReservedBitOfALevelThreePageIsSecurity) {
  const unsigned bits[] = {11, 48, 49, 50, 51, 52, 53, 59, 60, 61, 62, 63};
  for (unsigned bit : bits) {
    SCOPED_TRACE(bit);
    TableBuilder b;
    b.set(0x1000, 3, leaf(3, 0x1000) | s2::bit(bit));
    expect_only(b, "reserved-bits", Severity::Security);
  }
}

TEST(Invariants, AnyBitBesidesAddressAndTypeInATableDescriptorIsSecurity) {
  for (unsigned bit : {2u, 10u, 11u, 48u, 59u, 63u}) {
    SCOPED_TRACE(bit);
    TableBuilder b;
    b.page(0x1000, 0x1000);
    b.poke(0, 2, b.get(0, 2) | s2::bit(bit));
    expect_only(b, "reserved-bits", Severity::Security);
  }
}

TEST(Invariants, ALevelZeroBlockIsAReservedEncoding) {
  TableBuilder b;
  b.set(k512G, 0, leaf(1, 0));
  expect_only(b, "reserved-bits", Severity::Security);
}

TEST(Invariants, ALevelThreeZeroOneEncodingIsReserved) {
  TableBuilder b;
  b.set(0x1000, 3, leaf(3, 0x1000) & ~s2::kTypeBit);
  expect_only(b, "reserved-bits", Severity::Security);
}

TEST(Invariants, AMisalignedBlockIsAnAlignmentViolationNotAReservedBit) {
  TableBuilder b;
  b.set(k2M, 2, leaf(2, 0x8000'0000) | 0x1'f000);
  expect_only(b, "block-alignment", Severity::Security);
  TableBuilder c;
  c.set(k1G, 1, leaf(1, 0x4000'0000) | 0x20'0000);
  expect_only(c, "block-alignment", Severity::Security);
}

TEST(Invariants, ExecutableDeviceMemoryIsSecurity) {
  TableBuilder b;
  b.page(0x1000, 0x1000, {.x = true, .device = true});
  expect_only(b, "device-exec", Severity::Security);
  TableBuilder fwb({.fwb = true});
  fwb.block(k2M, 2, k2M, {.x = true, .device = true});
  expect_only(fwb, "device-exec", Severity::Security);
}

TEST(Invariants, EveryDeviceMemoryTypeIsNeverExecutable) {
  // KVM writes Device-nGnRE only, but nGnRnE (MemAttr 0: a forgotten MemAttr), nGRE and GRE are
  // device memory too; with FWB, MemAttr[2] clear is device whatever MemAttr[1:0] says.
  for (bool fwb : {false, true}) {
    for (uint64_t attr : {0u, 1u, 2u, 3u}) {
      SCOPED_TRACE(fmt::format("fwb={} MemAttr={}", fwb, attr));
      TableBuilder b({.fwb = fwb});
      uint64_t d = leaf(3, 0x1000, {.x = true}, fwb) & ~s2::kMemAttrMask;
      b.set(0x1000, 3, d | attr << s2::kMemAttrShift);
      expect_only(b, "device-exec", Severity::Security);
    }
  }
}

TEST(Invariants, DeviceMemoryExecutableThroughXnZeroIsCaught) {
  // XN[1:0] = 11 is executable at EL1 with FEAT_XNX: it also sets the RES0 bit 53.
  TableBuilder b;
  b.set(0x1000, 3, leaf(3, 0x1000, {.device = true}) | s2::bit(53));
  auto v = check_invariants(b.root(), b.memory());
  ASSERT_EQ(v.size(), 2u) << describe_objections(v);
  EXPECT_EQ(v[0].rule, "reserved-bits");
  EXPECT_EQ(v[1].rule, "device-exec");
}

TEST(Invariants, NormalMemoryMayBeExecutable) {
  for (bool fwb : {false, true}) {
    TableBuilder b({.fwb = fwb});
    b.page(0x1000, 0x1000, {.x = true});
    EXPECT_TRUE(check_invariants(b.root(), b.memory()).empty());
  }
}

TEST(Invariants, ARefcountOneTooHighIsFunctional) {
  TableBuilder b;
  populate(b);
  b.memory().get_page(b.memory().phys_to_virt(b.table_pa(0x1000, 3)));
  expect_only(b, "refcount", Severity::Functional);
}

TEST(Invariants, ARefcountOneTooLowIsFunctional) {
  TableBuilder b;
  populate(b);
  b.memory().put_page(b.memory().phys_to_virt(b.table_pa(0x1000, 2)));
  expect_only(b, "refcount", Severity::Functional);
}

TEST(Invariants, StartLevelPagesAreCountedEachOnItsOwn) {
  TableBuilder b({.ia_bits = 40});
  b.block(k512G + k1G, 1, k1G);  // one entry in the second start-level page
  EXPECT_EQ(b.refcount(b.root().pgd_pa), 1);
  EXPECT_EQ(b.refcount(b.root().pgd_pa + k4K), 2);
  EXPECT_TRUE(check_invariants(b.root(), b.memory()).empty());
  // The first page's count carrying the second page's entry is wrong twice over.
  b.memory().get_page(b.memory().phys_to_virt(b.root().pgd_pa));
  b.memory().put_page(b.memory().phys_to_virt(b.root().pgd_pa + k4K));
  auto v = check_invariants(b.root(), b.memory());
  ASSERT_EQ(v.size(), 2u) << describe_objections(v);
  EXPECT_EQ(v[0].rule, "refcount");
  EXPECT_EQ(v[1].rule, "refcount");
}

TEST(Invariants, ATablePageLinkedTwiceIsAliasing) {
  TableBuilder b;
  b.page(0x1000, 0x1000);
  b.set(k2M, 2, b.get(0, 2));  // a second link to the same level-3 table, refcounted
  expect_only(b, "aliasing", Severity::Security);
}

// What the harness checks on a table whose masked hash equals the reference's: the entries say
// what the reference's say, but how its pages are linked and counted is its own.
TEST(Invariants, OnlyThePageRulesLeaveWhatTheEntriesSayAlone) {
  TableBuilder b;
  populate(b);
  b.page(0x5000, 0x9000'5000, {.x = true, .device = true});
  b.memory().get_page(b.memory().phys_to_virt(b.table_pa(0x1000, 3)));
  b.set(0x40'0000, 2, b.get(0, 2));  // the level-3 table linked a second time
  auto all = check_invariants(b.root(), b.memory());
  auto pages = check_invariants(b.root(), b.memory(), /*only_page_rules=*/true);
  auto rules = [](const std::vector<Objection>& v) {
    std::string s;
    for (const auto& o : v) s += o.rule + " ";
    return s;
  };
  EXPECT_EQ(rules(all), "device-exec refcount aliasing ") << describe_objections(all);
  EXPECT_EQ(rules(pages), "refcount aliasing ") << describe_objections(pages);
}

TEST(Invariants, ALinkBackToAStartLevelPageIsAliasing) {
  TableBuilder b;
  b.set(0, 1, s2::make_table(b.root().pgd_pa));
  auto v = check_invariants(b.root(), b.memory());
  ASSERT_FALSE(v.empty());
  EXPECT_EQ(v[0].rule, "aliasing") << describe_objections(v);
  EXPECT_EQ(v[0].severity, Severity::Security);
}

TEST(Invariants, AnOwnerIdAboveOneIsFunctional) {
  TableBuilder b;
  b.set(0x1000, 3, s2::make_owner_annotation(2));
  expect_only(b, "owner", Severity::Functional);
}

TEST(Invariants, AnInvalidDescriptorWithStrayBitsIsNotAnOwnerAnnotation) {
  TableBuilder b;
  b.set(0x1000, 3, leaf(3, 0x1000) & ~s2::kValid);  // a leaf with only its valid bit cleared
  expect_only(b, "owner", Severity::Functional);
}

TEST(Invariants, AnOwnerAnnotationAboveLevelThreeIsFunctional) {
  // set_owner maps with force_pte: 6.1 never writes an annotation into a block entry.
  TableBuilder b;
  b.set(k2M, 2, s2::make_owner_annotation(1));
  expect_only(b, "owner", Severity::Functional);
}

}  // namespace
}  // namespace mmudiff

// SPDX-License-Identifier: GPL-2.0-only
// The translation comparison: quiet when two translations mean the same, and otherwise the right
// class at the right IPA — security when the actual maps more than the reference (extra mapping,
// other PA, extra R/W/X), functional when it maps less or otherwise.
#include <gtest/gtest.h>

#include "oracles/arch_walk.h"
#include "oracles/translation_diff.h"
#include "tests/table_builder.h"

namespace mmudiff {
namespace {

using namespace mmudiff::testing;
namespace s2 = mmudiff::arm64s2;

uint64_t attrs(Attrs a = {}) {
  return leaf(3, 0, a) & kTranslationAttrMask;
}

Translation one(uint64_t ipa, uint64_t size, uint64_t pa, uint64_t at = attrs()) {
  Translation t;
  t.mappings.push_back({ipa, size, pa, at});
  return t;
}

TEST(TranslationDiff, EqualTranslationsAreQuiet) {
  Translation t = one(0x4000'0000, k2M, 0x8000'0000);
  t.mappings.push_back({0x1'0000'0000, k4K, 0x1234'5000, attrs({.w = false, .x = true})});
  t.annotations.push_back({0x9000, k4K, s2::make_owner_annotation(1)});
  EXPECT_FALSE(compare_translations(t, t).has_value());
  EXPECT_FALSE(compare_translations(Translation{}, Translation{}).has_value());
}

TEST(TranslationDiff, ABlockAndEquivalentPagesWalkedFromTablesAreQuiet) {
  TableBuilder blocks;
  TableBuilder pages;
  blocks.block(0x4000'0000, 2, 0x8000'0000, {.x = true});
  for (uint64_t off = 0; off < k2M; off += k4K)
    pages.page(0x4000'0000 + off, 0x8000'0000 + off, {.x = true});
  EXPECT_FALSE(compare_translations(arch_walk(pages.root(), pages.memory()).translation,
                                    arch_walk(blocks.root(), blocks.memory()).translation)
                   .has_value());
}

TEST(TranslationDiff, AnExtraMappingIsSecurity) {
  Translation expected = one(0x1000, k4K, 0x1000);
  Translation actual = expected;
  actual.mappings.push_back({0x5000, k4K, 0x5000, attrs()});
  auto d = compare_translations(actual, expected);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->severity, Severity::Security);
  EXPECT_EQ(d->ipa, 0x5000u);
  EXPECT_NE(d->what.find("where the reference maps nothing"), std::string::npos) << d->what;
}

TEST(TranslationDiff, ABlockLeftWhereOnlyOnePageIsExpectedIsSecurityAtTheFirstExtraPage) {
  // The whole 2 MiB block stayed although the reference kept its first page only.
  Translation expected = one(0x4000'0000, k4K, 0x8000'0000);
  Translation actual = one(0x4000'0000, k2M, 0x8000'0000);
  auto d = compare_translations(actual, expected);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->severity, Severity::Security);
  EXPECT_EQ(d->ipa, 0x4000'1000u);
}

TEST(TranslationDiff, AnotherPhysicalAddressIsSecurity) {
  Translation expected = one(0x4000'0000, k2M, 0x8000'0000);
  Translation actual = one(0x4000'0000, k2M, 0x8000'0000);
  actual.mappings[0].size = 0x10'0000;  // the upper half's PA drifted by one page
  actual.mappings.push_back({0x4010'0000, 0x10'0000, 0x8010'1000, attrs()});
  auto d = compare_translations(actual, expected);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->severity, Severity::Security);
  EXPECT_EQ(d->ipa, 0x4010'0000u);
  EXPECT_NE(d->what.find("maps PA 0x80101000; the reference maps PA 0x80100000"), std::string::npos)
      << d->what;
}

TEST(TranslationDiff, AnExtraWritePermissionIsSecurity) {
  auto d = compare_translations(one(0x1000, k4K, 0x1000, attrs({.w = true})),
                                one(0x1000, k4K, 0x1000, attrs({.w = false})));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->severity, Severity::Security);
  EXPECT_EQ(d->ipa, 0x1000u);
  EXPECT_NE(d->what.find("grants rw-; the reference grants only r--"), std::string::npos)
      << d->what;
}

TEST(TranslationDiff, AnExtraReadPermissionIsSecurity) {
  auto d = compare_translations(one(0x1000, k4K, 0x1000, attrs({.r = true, .w = false})),
                                one(0x1000, k4K, 0x1000, attrs({.r = false, .w = false})));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->severity, Severity::Security);
}

TEST(TranslationDiff, AnExtraExecutePermissionIsSecurity) {
  auto d = compare_translations(one(0x1000, k4K, 0x1000, attrs({.x = true})),
                                one(0x1000, k4K, 0x1000, attrs({.x = false})));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->severity, Severity::Security);
  EXPECT_NE(d->what.find("grants rwx"), std::string::npos) << d->what;
}

TEST(TranslationDiff, ExecutionAtElOneThroughXnZeroIsAnExtraPermission) {
  // XN[1:0] = 11: with FEAT_XNX executable at EL1 (EL0 execute-never). The reference's 10
  // forbids both, so XN[1] alone must not decide.
  uint64_t xn11 = attrs({.x = false}) | s2::bit(53);
  auto d = compare_translations(one(0x1000, k4K, 0x1000, xn11),
                                one(0x1000, k4K, 0x1000, attrs({.x = false})));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->severity, Severity::Security);
  EXPECT_NE(d->what.find("x(EL1 only)"), std::string::npos) << d->what;
}

TEST(TranslationDiff, AMissingMappingIsFunctional) {
  Translation expected = one(0x1000, 2 * k4K, 0x1000);
  Translation actual = one(0x1000, k4K, 0x1000);
  auto d = compare_translations(actual, expected);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->severity, Severity::Functional);
  EXPECT_EQ(d->ipa, 0x2000u);
  EXPECT_NE(d->what.find("not mapped; the reference maps PA 0x2000"), std::string::npos) << d->what;
}

TEST(TranslationDiff, AWeakerPermissionIsFunctional) {
  auto d = compare_translations(one(0x1000, k4K, 0x1000, attrs({.w = false})),
                                one(0x1000, k4K, 0x1000, attrs({.w = true})));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->severity, Severity::Functional);
  EXPECT_EQ(d->ipa, 0x1000u);
}

TEST(TranslationDiff, OtherMemoryTypeAccessFlagOrSoftwareBitsAreFunctional) {
  const Attrs variants[] = {{.device = true}, {.af = false}, {.sw = 3}};
  for (const Attrs& v : variants) {
    auto d =
        compare_translations(one(0x1000, k4K, 0x1000, attrs(v)), one(0x1000, k4K, 0x1000, attrs()));
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->severity, Severity::Functional) << d->what;
    EXPECT_NE(d->what.find("attributes"), std::string::npos) << d->what;
  }
}

TEST(TranslationDiff, ALeakedMappingIsReportedEvenBelowAMissingOne) {
  // A missing page at a low IPA must not hide a leaked one further up: the class is the worst.
  Translation expected = one(0x1000, k4K, 0x1000);
  Translation actual = one(0x9000, k4K, 0x9000);
  auto d = compare_translations(actual, expected);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->severity, Severity::Security);
  EXPECT_EQ(d->ipa, 0x9000u);
}

TEST(TranslationDiff, OfSeveralFunctionalDifferencesTheLowestIpaIsReported) {
  Translation expected = one(0x1000, k4K, 0x1000);
  expected.mappings.push_back({0x5000, k4K, 0x5000, attrs()});
  Translation actual = one(0x1000, k4K, 0x1000, attrs({.w = false}));
  auto d = compare_translations(actual, expected);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->severity, Severity::Functional);
  EXPECT_EQ(d->ipa, 0x1000u);
}

TEST(TranslationDiff, DifferentOwnerAnnotationsAreFunctional) {
  Translation expected;
  expected.annotations.push_back({0x3000, k4K, s2::make_owner_annotation(1)});
  Translation actual;
  auto d = compare_translations(actual, expected);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->severity, Severity::Functional);
  EXPECT_EQ(d->ipa, 0x3000u);
  EXPECT_NE(d->what.find("owner annotations differ: nothing"), std::string::npos) << d->what;

  actual.annotations.push_back({0x3000, 2 * k4K, s2::make_owner_annotation(1)});
  d = compare_translations(actual, expected);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->severity, Severity::Functional);
}

}  // namespace
}  // namespace mmudiff

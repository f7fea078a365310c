// SPDX-License-Identifier: GPL-2.0-only
// The cross-check of the oracles' invariant checks against the Z3 model, and the model's own
// reading of the format.
#include <gtest/gtest.h>

#include <algorithm>

#include "mmu/format/arm64_s2.h"
#include "models/arm64_s2_model.h"
#include "models/cross_check.h"

namespace {

using namespace mmudiff;
using namespace mmudiff::models;
namespace s2 = arm64s2;

bool has(const std::vector<std::string>& rules, const std::string& r) {
  return std::find(rules.begin(), rules.end(), r) != rules.end();
}

TEST(CrossCheck, TheOraclesAgreeWithTheModelOnEveryDescriptor) {
  Solver solver;
  CrossCheckResult r = cross_check_oracle_invariants(solver);
  for (const auto& d : r.disagreements)
    ADD_FAILURE() << d.rule << " L" << d.level << " fwb=" << d.fwb << ": " << d.decoded
                  << " oracle=" << d.oracle << " model=" << d.model;
  EXPECT_EQ(r.answer, Answer::Proved) << r.unknown_reason;
  // 4 levels x 2 FWB settings x 4 rules x 4 encoding classes.
  EXPECT_EQ(r.queries, 128u);
  EXPECT_GT(r.replayed, 250u);  // 316: a rule empty on one side of a class has no witness there
}

TEST(CrossCheck, TheProbeSeesWhatTheOracleReports) {
  s2::LeafFields f;
  f.oa = 0x80000000;
  f.mem_attr = s2::kMemAttrNormal;
  f.s2ap_r = f.s2ap_w = f.af = f.xn = true;
  f.sh = s2::kShInner;
  const uint64_t good = s2::make_leaf(2, f);
  EXPECT_TRUE(oracle_rules_for(good, 2, false).empty());
  EXPECT_TRUE(has(oracle_rules_for(good | s2::kBit11, 2, false), "reserved-bits"));
  EXPECT_TRUE(has(oracle_rules_for(good | s2::bit(12), 2, false), "block-alignment"));
  f.mem_attr = s2::kMemAttrDevice;
  f.xn = false;
  EXPECT_TRUE(has(oracle_rules_for(s2::make_leaf(3, f), 3, false), "device-exec"));
  EXPECT_TRUE(has(oracle_rules_for(s2::make_owner_annotation(1), 2, false), "owner"));
  EXPECT_TRUE(oracle_rules_for(s2::make_owner_annotation(1), 3, false).empty());
}

TEST(Model, GeometryMatchesTheFormatForEveryIpaSize) {
  for (unsigned ia = s2::kMinIaBits; ia <= s2::kMaxIaBits; ++ia)
    EXPECT_EQ(start_level_for(ia), s2::geometry_for(ia).start_level) << "ia_bits " << ia;
}

TEST(Model, ForbiddenBitsDependOnLevelAndPaSize) {
  z3::context ctx;
  Arm64S2Model m(ctx);
  const S2Config c48{48, 48, false};
  const S2Config c40{48, 40, false};
  // Level 1 blocks forbid OA[29:12], level 2 OA[20:12], pages none of it.
  EXPECT_EQ(m.forbidden_reason(s2::bit(21), 1, false, c48).find("alignment") != std::string::npos,
            true);
  EXPECT_EQ(m.forbidden_reason(s2::bit(21), 2, false, c48), "");
  EXPECT_EQ(m.forbidden_reason(s2::bit(12), 3, false, c48), "");
  EXPECT_EQ(m.forbidden_reason(s2::bit(44), 3, false, c48), "");
  EXPECT_NE(m.forbidden_reason(s2::bit(44), 3, false, c40).find("PA size"), std::string::npos);
  EXPECT_NE(m.forbidden_reason(s2::kContiguous, 3, false, c48), "");
  EXPECT_NE(m.forbidden_reason(s2::bit(5), 0, true, c48), "") << "table attribute bits";
}

}  // namespace

// SPDX-License-Identifier: GPL-2.0-only
// The cross-check of the oracles' invariant checks against the Z3 model, and the model's own
// reading of the format.
#include <gtest/gtest.h>

#include <algorithm>

#include "mmu/format/arm64_s2.h"
#include "models/arm64_s2_model.h"
#include "models/cross_check.h"
#include "models/x86_zero_check_cross_check.h"

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

// ---- x86: the model of shadow_zero_check against the compiled kernel ---------------------------

#ifdef MMUDIFF_HAVE_LINUX612_TDP

TEST(ZeroCheckCrossCheck, TheModelIsTheKernelsOnEveryInputKvmCanUse) {
  Solver solver;
  const ZeroCheckCrossCheck r = cross_check_zero_check(solver);
  for (const auto& m : r.mismatches)
    ADD_FAILURE() << m.field << " maxphyaddr=" << m.input.maxphyaddr
                  << " execonly=" << m.input.execonly << " hpl=" << m.input.huge_page_level
                  << " model=" << m.model << " kernel=" << m.kernel;
  EXPECT_EQ(r.answer, Answer::Proved) << r.unknown_reason;
  // 17 MAXPHYADDRs x 2 execute-only x 3 huge-page levels x 2 root levels.
  EXPECT_EQ(r.inputs, 204u);
  EXPECT_EQ(r.queries, 204u);
  // 5 levels x 256 boundary SPTEs per input.
  EXPECT_EQ(r.sptes, 204u * 5u * 256u);
}

// A model off by one bit: bit 51 left out of the PTE mask. The kernel disagrees wherever that bit
// is reserved (MAXPHYADDR < 52), on that very entry.
TEST(ZeroCheckCrossCheck, AModelMissingAReservedAddressBitFails) {
  Solver solver;
  const ZeroCheckCrossCheck r = cross_check_zero_check(
      solver, [](const SymbolicBits& b, const z3::expr& pa, const z3::expr& x, int hpl) {
        RsvdBitsValidate<SymbolicBits> c = reset_rsvds_bits_mask_ept(b, pa, x, hpl);
        c.rsvd_bits_mask[0][0] = c.rsvd_bits_mask[0][0] & b.lit(~(uint64_t{1} << 51));
        return c;
      });
  EXPECT_EQ(r.answer, Answer::Counterexample);
  // Every input but MAXPHYADDR 52's 2 x 3 x 2.
  ASSERT_EQ(r.mismatches.size(), 204u - 12u);
  for (const auto& m : r.mismatches) {
    EXPECT_EQ(m.field, "rsvd_bits_mask[0][0]");
    EXPECT_EQ(m.model ^ m.kernel, uint64_t{1} << 51);
    EXPECT_LT(m.input.maxphyaddr, 52u);
  }
}

// A model that allows execute-only SPTEs whatever the CPU says: only execute-only-off inputs
// disagree, in bad_mt_xwr's XWR = 100b bits.
TEST(ZeroCheckCrossCheck, AModelIgnoringExecuteOnlySupportFails) {
  Solver solver;
  const ZeroCheckCrossCheck r = cross_check_zero_check(
      solver, [](const SymbolicBits& b, const z3::expr& pa, const z3::expr&, int hpl) {
        return reset_rsvds_bits_mask_ept(b, pa, b.ctx->bool_val(true), hpl);
      });
  EXPECT_EQ(r.answer, Answer::Counterexample);
  ASSERT_EQ(r.mismatches.size(), 102u);
  for (const auto& m : r.mismatches) {
    EXPECT_FALSE(m.input.execonly);
    EXPECT_EQ(m.field, "bad_mt_xwr");
    // XWR = 100b under every memory type but 2, 3 and 7, which are bad whatever XWR is.
    const uint64_t reserved_types = (uint64_t{0xff} << 16) | (uint64_t{0xff} << 24) |
                                    (uint64_t{0xff} << 56);
    EXPECT_EQ(m.kernel ^ m.model, repeat_byte(uint64_t{1} << 4) & ~reserved_types);
  }
}

// A model reading the huge-page level one off (2 MiB pages allowed only with 1 GiB ones): the
// kernel disagrees only at huge-page level 2M, on the PDE masks.
TEST(ZeroCheckCrossCheck, AModelWithTheHugePageLevelOffByOneFails) {
  Solver solver;
  const ZeroCheckCrossCheck r = cross_check_zero_check(
      solver, [](const SymbolicBits& b, const z3::expr& pa, const z3::expr& x, int hpl) {
        return reset_rsvds_bits_mask_ept(b, pa, x, hpl == kPgLevel2M ? kPgLevel4K : hpl);
      });
  EXPECT_EQ(r.answer, Answer::Counterexample);
  ASSERT_EQ(r.mismatches.size(), 17u * 2u * 2u);
  for (const auto& m : r.mismatches) {
    EXPECT_EQ(m.input.huge_page_level, kPgLevel2M);
    EXPECT_EQ(m.field, "rsvd_bits_mask[0][1]");
    EXPECT_EQ(m.model ^ m.kernel, uint64_t{1} << 7);
  }
}

#else

TEST(ZeroCheckCrossCheck, IsUnknownWithoutTheKernel) {
  Solver solver;
  EXPECT_FALSE(zero_check_kernel_available());
  const ZeroCheckCrossCheck r = cross_check_zero_check(solver);
  EXPECT_EQ(r.answer, Answer::Unknown);
  EXPECT_NE(r.unknown_reason.find("linux612-tdp"), std::string::npos);
}

#endif

}  // namespace

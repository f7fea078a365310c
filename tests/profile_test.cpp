// SPDX-License-Identifier: GPL-2.0-only
// Each architecture's profile: what the mutator, minimiser, harness and reports take from it
// agrees with the architecture's format and operations.
#include "mmu/profile/profile.h"

#include <algorithm>
#include <bit>
#include <random>

#include <gtest/gtest.h>

#include "mmu/format/x86_ept.h"
#include "mmu/ops/random_stream.h"
#include "mmu/x86/fault_flags.h"
#include "oracles/harness.h"

namespace mmudiff {
namespace {

class EachProfile : public ::testing::TestWithParam<Arch> {};

TEST_P(EachProfile, IsTheArchitecturesAndNamedAsInitSpellsIt) {
  const Profile& p = profile(GetParam());
  EXPECT_EQ(p.arch, GetParam());
  EXPECT_EQ(p.name, arch_name(GetParam()));
  Arch parsed;
  ASSERT_TRUE(arch_from_name(p.name, &parsed));
  EXPECT_EQ(parsed, GetParam());
}

// Every operation but init and destroy belongs to exactly one profile, the one op_arch() names.
TEST(Profile, EveryOperationBelongsToTheProfileOpArchNames) {
  for (unsigned k = 0; k < kOpKindCount; ++k) {
    OpKind kind = static_cast<OpKind>(k);
    size_t in = 0;
    for (Arch arch : {Arch::Arm64S2, Arch::X86Ept}) {
      bool listed =
          std::ranges::find(profile(arch).operations, kind) != profile(arch).operations.end();
      in += listed;
      if (listed) {
        EXPECT_EQ(op_arch(kind), arch) << op_kind_name(kind);
      }
    }
    EXPECT_EQ(in, op_arch(kind) ? 1u : 0u) << op_kind_name(kind);
  }
}

// Random configurations of the architecture: the format's address reach and page are the ones
// the mutator and minimiser use.
TEST_P(EachProfile, LeafSizesAndAddressBitsAreTheConfigurationsFormats) {
  const Profile& p = profile(GetParam());
  std::mt19937_64 rng(7);
  for (int i = 0; i < 50; ++i) {
    Config c = random_config(rng, GetParam());
    const DescriptorFormat& f = p.format(c);
    EXPECT_EQ(f.name().rfind(p.format_family, 0), 0u) << f.name();
    ASSERT_FALSE(p.leaf_sizes.empty());
    EXPECT_EQ(p.leaf_sizes.back(), f.page_size());
    for (size_t l = 0; l < p.leaf_sizes.size(); ++l) {
      EXPECT_TRUE(std::has_single_bit(p.leaf_sizes[l]));
      if (l) {
        EXPECT_GT(p.leaf_sizes[l - 1], p.leaf_sizes[l]);
      }
    }
    // Within what the table reaches (an x86 guest's MAXPHYADDR may be below 48 bits).
    EXPECT_LE(p.input_bits(c), f.max_ia_bits()) << f.name();
    EXPECT_GE(p.input_bits(c), 32u);
    EXPECT_GE(p.output_bits(c), 32u);
    EXPECT_LE(p.output_bits(c), 52u);
  }
}

TEST_P(EachProfile, LeavesOutOnlyOraclesTheHarnessKnowsAndRunsTheOthers) {
  const Profile& p = profile(GetParam());
  size_t run = 0;
  for (const auto& o : oracle_list()) {
    bool left_out = std::ranges::any_of(p.oracles_not_run,
                                        [&](const OracleLeftOut& l) { return l.oracle == o.name; });
    EXPECT_EQ(why_oracle_not_run(o.name, GetParam()).empty(), !left_out) << o.name;
    run += !left_out;
  }
  EXPECT_EQ(run + p.oracles_not_run.size(), oracle_list().size());
}

INSTANTIATE_TEST_SUITE_P(Profiles, EachProfile, ::testing::Values(Arch::Arm64S2, Arch::X86Ept),
                         [](const auto& info) {
                           return std::string(arch_name(info.param)) == "x86-ept" ? "x86" : "arm64";
                         });

// Simpler prots clear bits and never set one: what minimised reproducers ask of the kernel is
// what the finding's stream asked, less.
TEST(Profile, SimplerProtsOnlyClearBits) {
  Op fault;
  fault.kind = OpKind::Fault;
  fault.prot = x86::kFaultWrite | x86::kFaultExec | x86::kFaultDirtyLogging;
  auto fewer = profile(Arch::X86Ept).simpler_prots(fault);
  EXPECT_EQ(fewer.size(), 3u);
  for (uint64_t prot : fewer) {
    EXPECT_EQ(prot & ~fault.prot, 0u);
    EXPECT_EQ(std::popcount(prot), 2);
  }
  Op masked;
  masked.kind = OpKind::ClearDirtyMasked;
  masked.prot = 0xf0;
  auto lowest = profile(Arch::X86Ept).simpler_prots(masked);
  ASSERT_FALSE(lowest.empty());
  EXPECT_EQ(lowest.front(), 0x10u);  // the mask's lowest page alone

  Op map;
  map.kind = OpKind::Map;
  map.prot = 0x7 | (uint64_t{1} << 55);  // R W X and a software bit
  auto arm64 = profile(Arch::Arm64S2).simpler_prots(map);
  EXPECT_EQ(arm64.size(), 3u);  // the software bits, X, W; R stays
  for (uint64_t prot : arm64) EXPECT_EQ(prot & ~map.prot, 0u);
  map.prot = 0;
  EXPECT_TRUE(profile(Arch::Arm64S2).simpler_prots(map).empty());
}

}  // namespace
}  // namespace mmudiff

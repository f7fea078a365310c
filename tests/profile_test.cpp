// SPDX-License-Identifier: GPL-2.0-only
// Each architecture's profile: what the mutator, minimiser, harness and reports take from it
// agrees with the architecture's format and operations.
#include "mmu/profile/profile.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <random>

#include <gtest/gtest.h>

#include "mmu/backend.h"
#include "mmu/format/x86_ept.h"
#include "mmu/ops/random_stream.h"
#include "mmu/x86/fault_flags.h"
#include "oracles/harness.h"

namespace mmudiff {
namespace {

class EachProfile : public ::testing::TestWithParam<ProfileId> {};

TEST_P(EachProfile, IsItsOwnAndNamedAsTheOptionsSpellIt) {
  const Profile& p = profile(GetParam());
  EXPECT_EQ(p.id, GetParam());
  EXPECT_EQ(p.arch, profile_arch(GetParam()));
  EXPECT_EQ(p.name, profile_name(GetParam()));
  ProfileId parsed;
  ASSERT_TRUE(profile_from_name(p.name, &parsed));
  EXPECT_EQ(parsed, GetParam());
  // The default configuration of the profile is in it, and a stream of it is too.
  EXPECT_EQ(profile_id(profile_default_config(GetParam())), GetParam());
  std::mt19937_64 rng(3);
  for (int i = 0; i < 20; ++i) {
    const Stream s = random_stream(rng, RandomStreamOptions::of_profile(GetParam()));
    EXPECT_EQ(stream_profile(s), GetParam());
    for (const Op& op : s) {
      if (op.kind == OpKind::Init) {
        EXPECT_EQ(profile_id(op.config), GetParam());
      }
    }
  }
}

// An architecture's name still names its first profile, as streams and scripts spelled it.
TEST(Profile, ArchitectureNamesAreTheirFirstProfile) {
  ProfileId id;
  ASSERT_TRUE(profile_from_name("arm64-s2", &id));
  EXPECT_EQ(id, ProfileId::Arm64Linux61);
  ASSERT_TRUE(profile_from_name("x86-ept", &id));
  EXPECT_EQ(id, ProfileId::X86Ept);
  EXPECT_FALSE(profile_from_name("arm64-6.13", &id));
  EXPECT_EQ(&profile(Arch::Arm64S2), &profile(ProfileId::Arm64Linux61));
}

// Every backend implements a profile of its own architecture, and each profile with a backend
// has exactly one reference when its kernel is built.
TEST(Profile, BackendsImplementProfilesOfTheirArchitecture) {
  for (const BackendInfo& b : registered_backends()) {
    EXPECT_NE(b.profiles, 0u) << b.name;
    for (unsigned i = 0; i < kProfileCount; ++i) {
      if (b.implements(ProfileId(i))) {
        EXPECT_EQ(profile_arch(ProfileId(i)), b.arch) << b.name;
      }
    }
  }
  for (unsigned i = 0; i < kProfileCount; ++i) {
    size_t refs = 0;
    for (const BackendInfo& b : backends_of(ProfileId(i))) refs += b.reference;
    EXPECT_LE(refs, 1u) << profile_name(ProfileId(i));
  }
}

// Every operation but init and destroy belongs to the profiles op_in_profile() names, all of the
// architecture op_arch() names: each of an architecture's profiles has its operations, and
// arm64-6.12 has split besides.
TEST(Profile, EveryOperationBelongsToTheProfilesOpInProfileNames) {
  for (unsigned k = 0; k < kOpKindCount; ++k) {
    OpKind kind = static_cast<OpKind>(k);
    size_t in = 0;
    for (unsigned i = 0; i < kProfileCount; ++i) {
      const Profile& p = profile(ProfileId(i));
      bool listed = std::ranges::find(p.operations, kind) != p.operations.end();
      in += listed;
      if (!op_arch(kind)) continue;
      EXPECT_EQ(listed, op_in_profile(kind, ProfileId(i))) << op_kind_name(kind) << " " << p.name;
      if (listed) {
        EXPECT_EQ(op_arch(kind), p.arch) << op_kind_name(kind);
      }
    }
    if (!op_arch(kind)) {
      EXPECT_EQ(in, 0u) << op_kind_name(kind);
    }
    if (kind == OpKind::Arm64Split || kind == OpKind::Arm64TestClearYoung) {
      EXPECT_EQ(in, 1u) << "arm64-6.12 only";
    }
  }
}

// Random configurations of the architecture: the format's address reach and page are the ones
// the mutator and minimiser use.
TEST_P(EachProfile, LeafSizesAndAddressBitsAreTheConfigurationsFormats) {
  const Profile& p = profile(GetParam());
  std::mt19937_64 rng(7);
  for (int i = 0; i < 50; ++i) {
    Config c = random_config(rng, profile_arch(GetParam()));
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

INSTANTIATE_TEST_SUITE_P(Profiles, EachProfile,
                         ::testing::Values(ProfileId::Arm64Linux61, ProfileId::Arm64Linux612,
                                           ProfileId::X86Ept),
                         [](const auto& info) {
                           std::string name(profile_name(info.param));
                           std::replace_if(
                               name.begin(), name.end(), [](char c) { return !std::isalnum(c); },
                               '_');
                           return name;
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

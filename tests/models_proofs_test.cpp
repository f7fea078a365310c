// SPDX-License-Identifier: GPL-2.0-only
// The Z3 proofs: every one holds on the real backends; every one fails, with a decoded
// counterexample, on a deliberately broken descriptor function -- the four planted descriptor
// bugs where one exists, otherwise an adapter that breaks one function of a real backend.
#include <gtest/gtest.h>

#include <set>

#include "models/descriptor_proofs.h"
#include "models/proofs.h"

namespace {

using namespace mmudiff;
using namespace mmudiff::models;

models::Solver& shared_solver() {
  static models::Solver solver;
  return solver;
}

ProofResult run_named(const std::vector<ProofSpec>& specs, const std::string& name, Plant plant) {
  for (const ProofSpec& s : specs)
    if (s.name == name) return run_proof(s, shared_solver(), plant);
  ADD_FAILURE() << "no proof named " << name;
  return {};
}

void expect_fails_with_counterexample(const ProofResult& r) {
  EXPECT_EQ(r.answer, Answer::Counterexample) << r.name;
  ASSERT_TRUE(r.counterexample.has_value()) << r.name;
  EXPECT_FALSE(r.counterexample->decoded.empty());
  EXPECT_FALSE(r.counterexample->violated.empty());
  // The decoded line names the level and starts with it, as describe_descriptor does.
  EXPECT_EQ(r.counterexample->decoded.rfind("L" + std::to_string(r.counterexample->level), 0), 0u)
      << r.counterexample->decoded;
}

TEST(Proofs, EveryProofHoldsOnTheRealBackends) {
  std::set<std::string> names;
  for (const ProofSpec& spec : proof_catalogue()) {
    ProofResult r = run_proof(spec, shared_solver(), Plant::kNone);
    EXPECT_EQ(r.answer, Answer::Proved)
        << r.name << ": " << (r.counterexample ? format_counterexample(*r.counterexample) : "")
        << r.unknown_reason;
    EXPECT_TRUE(names.insert(r.name).second) << "duplicate proof name " << r.name;
  }
  EXPECT_GE(names.size(), 24u);
}

// ---- The planted descriptor bugs --------------------------------------------------------------

TEST(PlantedBugs, WalkerReservedBitBreaksTheReservedBitProofAtLevel2) {
  ProofResult r = run_proof(*find_proof("walker.map.no-reserved-bits"), shared_solver(),
                            Plant::kWalkerReservedBit);
  expect_fails_with_counterexample(r);
  EXPECT_EQ(r.counterexample->level, 2u);
  EXPECT_TRUE(r.counterexample->descriptor & arm64s2::kBit11);
  EXPECT_NE(r.counterexample->decoded.find("RES0=0x800"), std::string::npos)
      << r.counterexample->decoded;
  // Legacy carries no such plant: its proof still holds.
  EXPECT_EQ(run_proof(*find_proof("legacy.map.no-reserved-bits"), shared_solver(),
                      Plant::kWalkerReservedBit)
                .answer,
            Answer::Proved);
}

TEST(PlantedBugs, LegacyDeviceExecutableBreaksTheDeviceProof) {
  ProofResult r = run_proof(*find_proof("legacy.map.device-never-executable"), shared_solver(),
                            Plant::kLegacyDeviceExecutable);
  expect_fails_with_counterexample(r);
  const uint64_t prot = r.counterexample->inputs[2].second;
  EXPECT_TRUE(prot & arm64s2::prot::kDevice);
  EXPECT_FALSE(r.counterexample->descriptor & arm64s2::kXn);
  EXPECT_NE(r.counterexample->decoded.find("XN=0"), std::string::npos);
  expect_fails_with_counterexample(run_proof(*find_proof("legacy.map.round-trip"), shared_solver(),
                                             Plant::kLegacyDeviceExecutable));
}

TEST(PlantedBugs, WalkerLoseAccessFlagBreaksWrprotectAndRelax) {
  for (const char* name : {"walker.wrprotect.only-clears-write", "walker.relax-perms.only-adds"}) {
    ProofResult r = run_proof(*find_proof(name), shared_solver(), Plant::kWalkerLoseAccessFlag);
    expect_fails_with_counterexample(r);
    EXPECT_TRUE(r.counterexample->inputs[2].second & arm64s2::kAf) << "old has AF";
    EXPECT_FALSE(r.counterexample->descriptor & arm64s2::kAf) << "new lost it";
  }
  EXPECT_EQ(run_proof(*find_proof("walker.mkyoung.only-sets-af"), shared_solver(),
                      Plant::kWalkerLoseAccessFlag)
                .answer,
            Answer::Proved);
}

TEST(PlantedBugs, LegacyWrprotectWrongBitBreaksWrprotect) {
  ProofResult r = run_proof(*find_proof("legacy.wrprotect.only-clears-write"), shared_solver(),
                            Plant::kLegacyWrprotectWrongBit);
  expect_fails_with_counterexample(r);
  const uint64_t old = r.counterexample->inputs[2].second;
  EXPECT_NE(old & (arm64s2::kS2apR | arm64s2::kS2apW),
            r.counterexample->descriptor & (arm64s2::kS2apR | arm64s2::kS2apW));
}

// ---- Deliberately broken descriptor functions, one per remaining proof ----------------------

// Each breaks exactly one function of a real backend and inherits the rest.
struct LeafWithContiguous : WalkerDescriptors {
  static MapLeaf map_leaf(const SymbolicBits& b, const Word& pa, const Word& prot, unsigned level,
                          bool fwb, Plant plant) {
    MapLeaf m = WalkerDescriptors::map_leaf(b, pa, prot, level, fwb, plant);
    return {m.allowed, m.descriptor | b.lit(arm64s2::kContiguous)};
  }
};
struct LeafDropsOaBit40 : LegacyDescriptors {
  static MapLeaf map_leaf(const SymbolicBits& b, const Word& pa, const Word& prot, unsigned level,
                          bool fwb, Plant plant) {
    MapLeaf m = LegacyDescriptors::map_leaf(b, pa, prot, level, fwb, plant);
    return {m.allowed, m.descriptor & b.lit(~arm64s2::bit(40))};
  }
};
struct LeafSwFromAddress : WalkerDescriptors {
  static MapLeaf map_leaf(const SymbolicBits& b, const Word& pa, const Word& prot, unsigned level,
                          bool fwb, Plant plant) {
    MapLeaf m = WalkerDescriptors::map_leaf(b, pa, prot, level, fwb, plant);
    // Software bits or'ed in from an address bit: "software bits only from prot" must catch it.
    return {m.allowed, m.descriptor | (z3::shl(pa, b.lit(20)) & b.lit(arm64s2::bit(56)))};
  }
};
struct AcceptsPaBit48 : LegacyDescriptors {
  static z3::expr accepts_pa(const SymbolicBits& b, const Word& pa) {
    return z3::ult(pa, b.lit(arm64s2::bit(49)));
  }
};
struct TableWithAttrs : WalkerDescriptors {
  static Word table(const SymbolicBits& b, const Word& pa) {
    return WalkerDescriptors::table(b, pa) | b.lit(arm64s2::kAf);
  }
};
struct OwnerSetsValid : LegacyDescriptors {
  static Word owner(const SymbolicBits& b, const Word& id) {
    return LegacyDescriptors::owner(b, id) | z3::lshr(id, b.lit(7));  // id >= 128: valid bit
  }
};
struct RelaxClearsWrite : LegacyDescriptors {
  static RelaxResult relax_perms(const SymbolicBits& b, const Word& old, const Word& prot,
                                 Plant plant) {
    RelaxResult x = LegacyDescriptors::relax_perms(b, old, prot, plant);
    // Replaces W by R when only R is asked for.
    return {x.refused, z3::ite(prot == b.lit(arm64s2::prot::kR),
                               x.descriptor & b.lit(~arm64s2::kS2apW), x.descriptor)};
  }
};
struct MkoldClearsYoungAndWrite : WalkerDescriptors {
  static Word mkold(const SymbolicBits& b, const Word& old, Plant p) {
    return WalkerDescriptors::mkold(b, old, p) & b.lit(~arm64s2::kS2apW);
  }
};
struct MkyoungToggles : LegacyDescriptors {
  static Word mkyoung(const SymbolicBits& b, const Word& old, Plant) {
    return old ^ b.lit(arm64s2::kAf);
  }
};
struct WrprotectKeepsWrite : WalkerDescriptors {
  static Word wrprotect(const SymbolicBits&, const Word& old, Plant) { return old; }
};

template <class Broken>
ProofResult run_broken(const std::string& suffix) {
  std::vector<ProofSpec> specs;
  proofs::add_backend_proofs<Broken>(specs);
  return run_named(specs, std::string(Broken::kName) + "." + suffix, Plant::kNone);
}

TEST(BrokenDescriptorFunctions, EachProofFailsOnOne) {
  expect_fails_with_counterexample(run_broken<LeafWithContiguous>("map.no-reserved-bits"));
  expect_fails_with_counterexample(run_broken<LeafDropsOaBit40>("map.round-trip"));
  expect_fails_with_counterexample(run_broken<LeafSwFromAddress>("map.software-bits-from-prot"));
  expect_fails_with_counterexample(run_broken<AcceptsPaBit48>("map.pa-range"));
  expect_fails_with_counterexample(run_broken<TableWithAttrs>("table.well-formed"));
  expect_fails_with_counterexample(run_broken<OwnerSetsValid>("owner.never-valid"));
  expect_fails_with_counterexample(run_broken<RelaxClearsWrite>("relax-perms.only-adds"));
  expect_fails_with_counterexample(run_broken<MkoldClearsYoungAndWrite>("mkold.only-clears-af"));
  expect_fails_with_counterexample(run_broken<MkyoungToggles>("mkyoung.only-sets-af"));
  expect_fails_with_counterexample(run_broken<WrprotectKeepsWrite>("wrprotect.only-clears-write"));
}

TEST(BrokenDescriptorFunctions, TheCounterexampleIsConcreteAndReplays) {
  // The OA-dropping leaf: the counterexample's PA has bit 40 set, and the descriptor lacks it.
  ProofResult r = run_broken<LeafDropsOaBit40>("map.round-trip");
  ASSERT_TRUE(r.counterexample);
  EXPECT_EQ(r.counterexample->violated, "OA decodes to the PA");
  const uint64_t pa = r.counterexample->inputs[3].second;
  EXPECT_TRUE(pa & arm64s2::bit(40));
  EXPECT_FALSE(r.counterexample->descriptor & arm64s2::bit(40));
  EXPECT_NE(format_counterexample(*r.counterexample).find("counterexample: level="),
            std::string::npos);
}

}  // namespace

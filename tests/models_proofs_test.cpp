// SPDX-License-Identifier: GPL-2.0-only
// The Z3 proofs: every one holds on the real backends; every one fails, with a decoded
// counterexample, on a deliberately broken descriptor function -- the four planted descriptor
// bugs where one exists, otherwise an adapter that breaks one function of a real backend.
#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "mmu/format/x86_ept.h"
#include "models/arm64_descriptor_proofs.h"
#include "models/proofs.h"
#include "models/x86_backend_sptes.h"
#include "models/x86_descriptor_proofs.h"
#include "models/x86_zero_check_cross_check.h"

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

// Several threads, each with its own solver, answer what one solver answers, and hand the results
// over in the catalogue's order. The plant makes some proofs fail, so the answers differ by proof.
TEST(Proofs, SeveralThreadsAnswerAsOneSolverDoesInTheCataloguesOrder) {
  std::vector<const ProofSpec*> specs = proofs_for_format("arm64-s2");
  ASSERT_GE(specs.size(), 8u);
  std::vector<std::string> seen;
  std::vector<ProofResult> parallel =
      run_proofs(specs, 20000, Plant::kWalkerLoseAccessFlag, 3,
                 [&](const ProofResult& r) { seen.push_back(r.name); });
  ASSERT_EQ(parallel.size(), specs.size());
  unsigned failed = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    ProofResult alone = run_proof(*specs[i], shared_solver(), Plant::kWalkerLoseAccessFlag);
    EXPECT_EQ(seen.at(i), specs[i]->name);
    EXPECT_EQ(parallel[i].name, specs[i]->name);
    EXPECT_EQ(parallel[i].answer, alone.answer) << alone.name;
    EXPECT_EQ(parallel[i].counterexample.has_value(), alone.counterexample.has_value())
        << alone.name;
    failed += parallel[i].answer == Answer::Counterexample;
  }
  EXPECT_GE(failed, 2u);
  EXPECT_LT(failed, specs.size());
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

// NORMAL_NC mapped cacheable: the NC proof finds a prot with the bit whose leaf has MemAttr 0xf;
// walker's proof still holds, and so does legacy's 6.1 round trip (6.1 has no NORMAL_NC).
TEST(PlantedBugs, Legacy612NcMappedCacheableBreaksTheNormalNcProof) {
  ProofResult r = run_proof(*find_proof("legacy.map.normal-nc"), shared_solver(),
                            Plant::kLegacy612NcMappedCacheable);
  expect_fails_with_counterexample(r);
  EXPECT_TRUE(r.counterexample->inputs[2].second & arm64s2::prot::kNormalNc);
  EXPECT_EQ((r.counterexample->descriptor & arm64s2::kMemAttrMask) >> arm64s2::kMemAttrShift,
            arm64s2::mem_attr_normal(r.counterexample->fwb));
  for (const char* name : {"walker.map.normal-nc", "legacy.map.round-trip"})
    EXPECT_EQ(
        run_proof(*find_proof(name), shared_solver(), Plant::kLegacy612NcMappedCacheable).answer,
        Answer::Proved)
        << name;
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
                          bool fwb, Plant plant, bool lpa2 = false, bool normal_nc = false) {
    MapLeaf m = WalkerDescriptors::map_leaf(b, pa, prot, level, fwb, plant, lpa2, normal_nc);
    return {m.allowed, m.descriptor | b.lit(arm64s2::kContiguous)};
  }
};
struct LeafDropsOaBit40 : LegacyDescriptors {
  static MapLeaf map_leaf(const SymbolicBits& b, const Word& pa, const Word& prot, unsigned level,
                          bool fwb, Plant plant, bool lpa2 = false, bool normal_nc = false) {
    MapLeaf m = LegacyDescriptors::map_leaf(b, pa, prot, level, fwb, plant, lpa2, normal_nc);
    return {m.allowed, m.descriptor & b.lit(~arm64s2::bit(40))};
  }
};
struct LeafSwFromAddress : WalkerDescriptors {
  static MapLeaf map_leaf(const SymbolicBits& b, const Word& pa, const Word& prot, unsigned level,
                          bool fwb, Plant plant, bool lpa2 = false, bool normal_nc = false) {
    MapLeaf m = WalkerDescriptors::map_leaf(b, pa, prot, level, fwb, plant, lpa2, normal_nc);
    // Software bits or'ed in from an address bit: "software bits only from prot" must catch it.
    return {m.allowed, m.descriptor | (z3::shl(pa, b.lit(20)) & b.lit(arm64s2::bit(56)))};
  }
};
struct NcLeafCacheable : WalkerDescriptors {
  static MapLeaf map_leaf(const SymbolicBits& b, const Word& pa, const Word& prot, unsigned level,
                          bool fwb, Plant plant, bool lpa2 = false, bool normal_nc = false) {
    // NORMAL_NC dropped: the leaf is mapped cacheable.
    return WalkerDescriptors::map_leaf(b, pa, prot & b.lit(~arm64s2::prot::kNormalNc), level, fwb,
                                       plant, lpa2, normal_nc);
  }
};
struct AcceptsPaBit48 : LegacyDescriptors {
  static z3::expr accepts_pa(const SymbolicBits& b, const Word& pa, bool = false) {
    return z3::ult(pa, b.lit(arm64s2::bit(49)));
  }
};
struct TableWithAttrs : WalkerDescriptors {
  static Word table(const SymbolicBits& b, const Word& pa, bool lpa2 = false) {
    return WalkerDescriptors::table(b, pa, lpa2) | b.lit(arm64s2::kAf);
  }
};
// With FEAT_LPA2, a leaf that still writes SH inner: bits [9:8] then say PA[51:50] = 0b11.
struct Lpa2LeafKeepsSh : LegacyDescriptors {
  static MapLeaf map_leaf(const SymbolicBits& b, const Word& pa, const Word& prot, unsigned level,
                          bool fwb, Plant plant, bool lpa2 = false, bool normal_nc = false) {
    MapLeaf m = LegacyDescriptors::map_leaf(b, pa, prot, level, fwb, plant, lpa2, normal_nc);
    return {m.allowed, m.descriptor | b.lit(arm64s2::kShMask)};
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
  expect_fails_with_counterexample(run_broken<NcLeafCacheable>("map.normal-nc"));
  expect_fails_with_counterexample(run_broken<LeafDropsOaBit40>("map.round-trip"));
  expect_fails_with_counterexample(run_broken<LeafSwFromAddress>("map.software-bits-from-prot"));
  expect_fails_with_counterexample(run_broken<AcceptsPaBit48>("map.pa-range"));
  expect_fails_with_counterexample(run_broken<TableWithAttrs>("table.well-formed"));
  expect_fails_with_counterexample(run_broken<OwnerSetsValid>("owner.never-valid"));
  expect_fails_with_counterexample(run_broken<RelaxClearsWrite>("relax-perms.only-adds"));
  expect_fails_with_counterexample(run_broken<MkoldClearsYoungAndWrite>("mkold.only-clears-af"));
  expect_fails_with_counterexample(run_broken<MkyoungToggles>("mkyoung.only-sets-af"));
  expect_fails_with_counterexample(run_broken<WrprotectKeepsWrite>("wrprotect.only-clears-write"));
  expect_fails_with_counterexample(run_broken<Lpa2LeafKeepsSh>("map.lpa2-round-trip"));
  expect_fails_with_counterexample(run_broken<AcceptsPaBit48>("map.lpa2-pa-range"));
  expect_fails_with_counterexample(run_broken<TableWithAttrs>("table.lpa2-well-formed"));
}

// The plant drops PA[51:50]: the 52-bit OA no longer decodes to the PA, and only with LPA2.
TEST(PlantedBugs, WalkerLpa2PaBits5150BreaksTheLpa2RoundTripOnly) {
  ProofResult r = run_proof(*find_proof("walker.map.lpa2-round-trip"), shared_solver(),
                            Plant::kWalker612Lpa2PaBits5150);
  expect_fails_with_counterexample(r);
  EXPECT_EQ(run_proof(*find_proof("walker.map.round-trip"), shared_solver(),
                      Plant::kWalker612Lpa2PaBits5150)
                .answer,
            Answer::Proved);
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

// ---- x86 EPT -----------------------------------------------------------------------------------

namespace e = x86ept;

uint64_t x86_input(const Counterexample& c, const std::string& name) {
  for (const auto& [n, v] : c.inputs)
    if (n == name) return v;
  ADD_FAILURE() << "no input " << name;
  return 0;
}

// An x86 counterexample: its configuration first, the SPTE decoded the SDM's way at its level.
Counterexample x86_failure(const std::string& proof, Plant plant) {
  const ProofSpec* spec = find_proof(proof);
  if (!spec) throw std::runtime_error("no proof " + proof);
  ProofResult r = run_proof(*spec, shared_solver(), plant);
  EXPECT_EQ(r.answer, Answer::Counterexample) << r.name;
  if (!r.counterexample) throw std::runtime_error(proof + ": no counterexample");
  const Counterexample& c = *r.counterexample;
  const std::string printed = format_counterexample(c);
  EXPECT_EQ(printed.find("  counterexample: maxphyaddr="), 0u) << printed;
  EXPECT_NE(printed.find(fmt::format("{:#x}", c.descriptor)), std::string::npos) << printed;
  static const char* const kNames[] = {"", "PTE", "PDE", "PDPTE", "PML4E", "PML5E"};
  EXPECT_EQ(c.decoded.rfind(kNames[c.level], 0), 0u) << c.decoded;
  return c;
}

TEST(X86Proofs, TheCatalogueHasBothBackendsAndTheModel) {
  std::set<std::string> names;
  for (const ProofSpec& p : proof_catalogue()) names.insert(p.name);
  for (const char* backend : {"walker-x86", "legacy-x86"})
    for (const char* proof : {"leaf-spte-valid", "nonleaf-spte-valid", "split-spte-valid"})
      EXPECT_TRUE(names.count(fmt::format("{}.ept.{}", backend, proof))) << backend << proof;
  EXPECT_TRUE(names.count("model.ept.zero-check-is-sdm"));
  EXPECT_EQ(names.count(kZeroCheckCrossCheckName), zero_check_kernel_available() ? 1u : 0u);
#ifdef MMUDIFF_HAVE_LINUX612_TDP
  EXPECT_TRUE(zero_check_kernel_available());
#endif
}

// The adapters feed the constructors what the TDP MMU does: concretely, a RAM fault at 2 MiB
// through the walker adapter is the walker's own integer SPTE.
TEST(X86Proofs, TheWalkerAdapterIsTheWalkersConstructor) {
  Solver& s = shared_solver();
  const SymbolicBits b{&s.ctx()};
  const EptSpteConfig c{40, 4, true, false, kPgLevel1G};
  const EptLeafRequest q{2,
                         b.lit(0x200),
                         b.lit(kAccExec | kAccWrite | kAccUser),
                         b.lit(e::kMemTypeWb),
                         s.ctx().bool_val(true),
                         s.ctx().bool_val(true),
                         s.ctx().bool_val(false),
                         b.lit(0)};
  const z3::expr spte = WalkerX86Sptes::leaf(b, q, c).simplify();
  ASSERT_TRUE(spte.is_numeral());
  const uint64_t expected =
      walker_x86::make_leaf_spte(walker::IntegerBits{}, walker_x86::EptMasks{true, false, false}, 2,
                                 uint64_t{0x200}, 0, false, true, false);
  EXPECT_EQ(spte.get_numeral_uint64(), expected);
  EXPECT_TRUE(expected & e::kLargePage);
  const z3::expr legacy = LegacyX86Sptes::leaf(b, q, c).simplify();
  ASSERT_TRUE(legacy.is_numeral());
  EXPECT_EQ(legacy.get_numeral_uint64(),
            legacy_x86::make_leaf_spte(
                legacy_x86::kSpteIntegers, legacy_x86::SpteConfig{40, true, false, false},
                legacy_x86::LeafRequest{2, false, true, false}, uint64_t{0x200}, uint64_t{0}));
}

TEST(X86Plants, ReservedAboveMaxphyaddrIsACounterexample) {
  const Counterexample c =
      x86_failure("legacy-x86.ept.leaf-spte-valid", Plant::kLegacyX86ReservedAboveMaxPhyAddr);
  const uint64_t maxphyaddr = x86_input(c, "maxphyaddr");
  EXPECT_LT(maxphyaddr, 52u);
  EXPECT_TRUE(c.descriptor & e::bit(static_cast<unsigned>(maxphyaddr)));
  EXPECT_EQ(x86_input(c, "memory_type"), e::kMemTypeWb) << "RAM, not host MMIO";
  EXPECT_NE(c.violated.find("shadow_zero_check accepts it"), std::string::npos) << c.violated;
  // The other backend carries no such plant.
  EXPECT_EQ(run_proof(*find_proof("walker-x86.ept.nonleaf-spte-valid"), shared_solver(),
                      Plant::kLegacyX86ReservedAboveMaxPhyAddr)
                .answer,
            Answer::Proved);
}

TEST(X86Plants, WriteWithoutReadIsACounterexample) {
  const Counterexample c =
      x86_failure("legacy-x86.ept.leaf-spte-valid", Plant::kLegacyX86WriteWithoutRead);
  // Only access tracking (A/D off, a prefetched SPTE) reaches the planted mask.
  EXPECT_EQ(x86_input(c, "ad"), 0u);
  EXPECT_EQ(x86_input(c, "prefetch"), 1u);
  EXPECT_EQ(x86_input(c, "host_writable"), 1u);
  EXPECT_EQ(c.descriptor & (e::kRead | e::kWrite), e::kWrite);
  EXPECT_NE(c.violated.find("write without read"), std::string::npos) << c.violated;
  EXPECT_NE(c.decoded.find("writable but not readable"), std::string::npos) << c.decoded;
}

TEST(X86Plants, ExecuteOnlyWithoutSupportIsACounterexample) {
  const Counterexample c =
      x86_failure("legacy-x86.ept.leaf-spte-valid", Plant::kLegacyX86ExecOnlyWithoutSupport);
  EXPECT_EQ(x86_input(c, "ad"), 0u);
  EXPECT_EQ(x86_input(c, "prefetch"), 1u);
  EXPECT_EQ(c.descriptor & e::kRwxMask, e::kExec);
  // KVM's TDP check refuses X-only whatever the CPU supports.
  EXPECT_NE(c.violated.find("shadow_zero_check accepts it"), std::string::npos) << c.violated;
  EXPECT_NE(c.violated.find("bad MT/XWR"), std::string::npos) << c.violated;
}

TEST(X86Plants, SplitLosingAccessDirtyIsACounterexample) {
  const Counterexample c =
      x86_failure("legacy-x86.ept.split-spte-valid", Plant::kLegacyX86SplitLosesAccessDirty);
  EXPECT_EQ(x86_input(c, "ad"), 1u);
  const uint64_t huge = x86_input(c, "huge_spte");
  EXPECT_TRUE(huge & (e::kAccessed | e::kDirty));
  EXPECT_EQ(c.descriptor & (e::kAccessed | e::kDirty), 0u);
  EXPECT_NE(c.violated.find("keeps the accessed and dirty bits"), std::string::npos) << c.violated;
  // Building leaves is not affected.
  EXPECT_EQ(run_proof(*find_proof("legacy-x86.ept.nonleaf-spte-valid"), shared_solver(),
                      Plant::kLegacyX86SplitLosesAccessDirty)
                .answer,
            Answer::Proved);
}

TEST(X86Plants, SplitLosingHostWritableIsACounterexample) {
  const Counterexample c =
      x86_failure("legacy-x86.ept.split-spte-valid", Plant::kLegacyX86SplitLosesHostWritable);
  EXPECT_EQ(x86_input(c, "host_writable"), 1u);
  EXPECT_TRUE(x86_input(c, "huge_spte") & e::kHostWritable);
  EXPECT_FALSE(c.descriptor & e::kHostWritable);
  EXPECT_NE(c.violated.find("keeps host-writable and MMU-writable"), std::string::npos)
      << c.violated;
}

// Every legacy-x86 plant is either one of the descriptor plants above or one no SPTE shows.
TEST(X86Plants, EveryDescriptorPlantHasAProofThatCatchesIt) {
  const std::set<Plant> descriptor = {
      Plant::kLegacyX86ReservedAboveMaxPhyAddr, Plant::kLegacyX86WriteWithoutRead,
      Plant::kLegacyX86ExecOnlyWithoutSupport, Plant::kLegacyX86SplitLosesAccessDirty,
      Plant::kLegacyX86SplitLosesHostWritable};
  const std::set<Plant> operational = {
      Plant::kLegacyX86ZapLeafsNoFlush, Plant::kLegacyX86HugeOverTableNoFlush,
      Plant::kLegacyX86LeakShadowPageOnZap, Plant::kLegacyX86RmapLeftAfterZap,
      Plant::kLegacyX86WrprotMissesHugePage};
  for (const PlantInfo& p : planted_bugs()) {
    if (p.arch == Arch::X86Ept && p.backend == "legacy") {
      EXPECT_TRUE(descriptor.count(p.id) + operational.count(p.id) == 1) << p.name;
    }
  }
  // An operational plant changes no SPTE constructor.
  EXPECT_EQ(run_proof(*find_proof("legacy-x86.ept.nonleaf-spte-valid"), shared_solver(),
                      Plant::kLegacyX86ZapLeafsNoFlush)
                .answer,
            Answer::Proved);
}

}  // namespace

// SPDX-License-Identifier: GPL-2.0-only
// Planted bugs (mmu/plants.h) end to end: every plant has a reproducer in corpus/regressions/
// (corpus_test replays them, with and without the plant); with no plant, or with a plant of
// another backend, the backends still agree; and the command line finds, reports, minimises and
// replays what a plant breaks, starting from long random streams as a campaign would.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>

#include "fuzz/minimize.h"
#include "mmu/backend.h"
#include "mmu/ops/random_stream.h"
#include "mmu/ops/text_format.h"
#include "mmu/plants.h"
#include "oracles/harness.h"
#include "tests/cli_runner.h"
#include "tests/corpus_directive.h"
#include "tests/files.h"
#include "tests/findings_text.h"
#include "tests/sanitizer_scale.h"
#include "tests/temp_dir.h"

namespace {

using mmudiff::testing::CliResult;
using mmudiff::testing::describe_findings;
using mmudiff::testing::directive;
using mmudiff::testing::run_cli;
using mmudiff::testing::slurp;

namespace fs = std::filesystem;
using namespace mmudiff;

fs::path regression_dir() {
  return fs::path(MMUDIFF_SOURCE_DIR) / "corpus" / "regressions";
}

fs::path reproducer_path(const PlantInfo& p) {
  return regression_dir() / ("plant-" + std::string(p.name) + ".mmu");
}

// Every backend of the plant's profile in this build but the one that carries it.
std::vector<std::string> backends_without(const PlantInfo& p) {
  std::vector<std::string> out;
  for (const auto& b : backends_of(p.profile()))
    if (b.name != p.backend) out.emplace_back(b.name);
  return out;
}

TEST(PlantCatalogue, NamesAreUniqueAndFoundByName) {
  std::set<std::string_view> names;
  std::array<size_t, kArchCount> per_arch{};
  for (const PlantInfo& p : planted_bugs()) {
    EXPECT_TRUE(names.insert(p.name).second) << p.name;
    ASSERT_NE(find_plant(p.name), nullptr) << p.name;
    EXPECT_EQ(find_plant(p.name)->id, p.id);
    EXPECT_EQ(plant_info(p.id), find_plant(p.name));
    EXPECT_NE(find_backend(p.backend, p.arch), nullptr)
        << p.name << " lives in unknown " << arch_name(p.arch) << " backend " << p.backend;
    ++per_arch[static_cast<unsigned>(p.arch)];
  }
  // Issue 16: x86 has its own plants, as arm64 does.
  EXPECT_GE(per_arch[static_cast<unsigned>(Arch::Arm64S2)], 12u);
  EXPECT_GE(per_arch[static_cast<unsigned>(Arch::X86Ept)], 8u);
  EXPECT_EQ(find_plant("no-such-plant"), nullptr);
  EXPECT_EQ(plant_info(Plant::kNone), nullptr);
}

// So that no plant can land without a reproducer showing an oracle catches it.
TEST(PlantCatalogue, EveryPlantHasARegressionReproducer) {
  for (const PlantInfo& p : planted_bugs()) {
    fs::path file = reproducer_path(p);
    ASSERT_TRUE(fs::exists(file)) << p.name << " has no " << file;
    std::string text = slurp(file);
    EXPECT_EQ(directive(text, "plant"), p.name) << file;
    std::string expect = directive(text, "expect");
    EXPECT_FALSE(expect.empty()) << file;
    EXPECT_NE(expect, "equivalent") << file;
    Stream stream;
    EXPECT_NO_THROW(stream = parse_text(text, file.string())) << file;
    // A plant shows only on streams of its backend's profile.
    EXPECT_EQ(stream_profile(stream), p.profile()) << file;
  }
}

// And no reproducer outlives its plant.
TEST(PlantCatalogue, EveryPlantReproducerNamesAPlantInTheCatalogue) {
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(regression_dir())) {
    std::string name = e.path().filename().string();
    if (name.rfind("plant-", 0) != 0) continue;
    ++files;
    std::string plant = name.substr(6, name.size() - 6 - 4);
    EXPECT_NE(find_plant(plant), nullptr) << name;
  }
  EXPECT_EQ(files, planted_bugs().size());
}

class NoPlant : public ::testing::TestWithParam<ProfileId> {};

TEST_P(NoPlant, RandomStreamsStayEquivalentOnEveryBackend) {
  std::mt19937_64 rng(20261123);
  HarnessOptions options;  // plant kNone, every backend
  ASSERT_EQ(options.plant, Plant::kNone);
  RandomStreamOptions ropt = RandomStreamOptions::of_profile(GetParam());
  size_t streams = mmudiff::testing::sanitizer_scaled(300), checked = 0;
  for (size_t n = 0; n < streams; ++n) {
    Stream s = random_stream(rng, ropt);
    StreamReport r = run_stream(s, options);
    if (r.bound_reached) continue;
    ++checked;
    ASSERT_TRUE(r.equivalent()) << "stream " << n << ":\n"
                                << format_stream(s) << describe_findings(r);
  }
  EXPECT_GT(checked, streams * 9 / 10);
}

std::string profile_test_name(const ::testing::TestParamInfo<ProfileId>& info) {
  std::string n(profile_name(info.param));
  std::replace_if(
      n.begin(), n.end(), [](char c) { return c == '-' || c == '.'; }, '_');
  return n;
}

INSTANTIATE_TEST_SUITE_P(OfEachProfile, NoPlant,
                         ::testing::Values(ProfileId::Arm64Linux61, ProfileId::Arm64Linux612,
                                           ProfileId::X86Ept),
                         profile_test_name);

// A backend ignores every plant but its own: each reproducer, and random streams of the plant's
// architecture, with the plant switched on, run through the other backends of that architecture
// (among them the other architecture's namesake of the carrier) without a finding.
TEST(Plants, OnlyTheBackendCarryingThePlantChanges) {
  std::mt19937_64 rng(20261205);
  size_t random_per_plant = mmudiff::testing::sanitizer_scaled(10);
  for (const PlantInfo& p : planted_bugs()) {
    std::string text = slurp(reproducer_path(p));
    HarnessOptions options;
    options.plant = p.id;
    options.backends = backends_without(p);
    ASSERT_FALSE(options.backends.empty());
    StreamReport r = run_stream(parse_text(text, reproducer_path(p).string()), options);
    EXPECT_TRUE(r.equivalent()) << p.name << ":\n" << describe_findings(r);
    RandomStreamOptions ropt = RandomStreamOptions::of_profile(p.profile());
    for (size_t n = 0; n < random_per_plant; ++n) {
      Stream s = random_stream(rng, ropt);
      StreamReport rr = run_stream(s, options);
      EXPECT_TRUE(rr.equivalent() || rr.bound_reached) << p.name << ", random stream " << n << ":\n"
                                                       << format_stream(s) << describe_findings(rr);
    }
  }
}

// "legacy" and "walker" name a backend of each architecture: a plant switches on in its own
// architecture's only, so under it every backend of the other architecture, the carrier's
// namesake included, still agrees on random streams.
TEST(Plants, APlantIsIgnoredByItsCarriersNamesakeOfTheOtherArchitecture) {
  std::mt19937_64 rng(20261206);
  size_t streams = mmudiff::testing::sanitizer_scaled(8);
  for (const PlantInfo& p : planted_bugs()) {
    Arch other = p.arch == Arch::Arm64S2 ? Arch::X86Ept : Arch::Arm64S2;
    if (!find_backend(p.backend, other)) continue;
    HarnessOptions options;
    options.plant = p.id;
    RandomStreamOptions ropt;
    ropt.arch = other;
    for (size_t n = 0; n < streams; ++n) {
      Stream s = random_stream(rng, ropt);
      StreamReport r = run_stream(s, options);
      EXPECT_TRUE(r.equivalent() || r.bound_reached)
          << p.name << " on " << arch_name(other) << ":\n"
          << format_stream(s) << describe_findings(r);
    }
  }
}

// --- The command line ---

class PlantCli : public mmudiff::testing::ScratchTest {};

TEST_F(PlantCli, RunWithAPlantPrintsTheFirstDivergenceDecoded) {
  if (!find_backend("linux61")) GTEST_SKIP() << "linux61 is not in this build";
  const PlantInfo& p = *find_plant("walker-pa-cursor-drift");
  std::string file = reproducer_path(p).string();

  CliResult with = run_cli("run --plant walker-pa-cursor-drift " + file);
  EXPECT_EQ(with.status, 1) << with.out;
  EXPECT_NE(with.out.find("plant: walker-pa-cursor-drift in walker"), std::string::npos)
      << with.out;
  // The first diverging operation...
  EXPECT_NE(with.out.find("verdict: DIVERGED (security, reference-model) at operation #1: map "
                          "0x40000000 4M pa=0x80000000"),
            std::string::npos)
      << with.out;
  EXPECT_NE(with.out.find("IPA 0x40200000: maps PA 0x80001000; the reference maps PA 0x80200000"),
            std::string::npos)
      << with.out;
  // ...and the first diverging descriptor of each table, decoded: the reference's block at the
  // right PA, the walker's table that the drifted, unaligned PA forced it down to.
  EXPECT_NE(with.out.find("linux61  IPA 0x40200000: L2 block    0x00400000802007fd "
                          "OA=0x80200000 MemAttr=0xf(normal WB) S2AP=RW SH=IS AF=1 XN=1"),
            std::string::npos)
      << with.out;
  EXPECT_NE(with.out.find("walker   IPA 0x40200000: L2 table"), std::string::npos) << with.out;
  // The reference model's finding shows every backend's entry deciding that IPA, decoded.
  EXPECT_NE(with.out.find("walker   IPA 0x40200000: L3 page    "), std::string::npos) << with.out;
  EXPECT_NE(with.out.find("linux61  IPA 0x40200000: L2 block    0x00400000802007fd valid=0x1"),
            std::string::npos)
      << with.out;
  // The roots differ, and the summary says so even though the finding is the translation's.
  EXPECT_NE(with.out.find("masked-hash   differs: roots linux61 0x"), std::string::npos)
      << with.out;

  CliResult without = run_cli("run " + file);
  EXPECT_EQ(without.status, 0) << without.out;
  EXPECT_NE(without.out.find("verdict: EQUIVALENT"), std::string::npos) << without.out;
  EXPECT_EQ(without.out.find("plant:"), std::string::npos) << without.out;
}

TEST_F(PlantCli, UnknownPlantIsAOneLineErrorSayingWhereTheNamesAre) {
  std::string file = reproducer_path(*find_plant("walker-pa-cursor-drift")).string();
  for (const char* cmd : {"run", "repro", "soak -n 1", "minimize -o /dev/null"}) {
    std::string sub = std::string(cmd).substr(0, std::string(cmd).find(' '));
    CliResult r = run_cli(std::string(cmd) + " --plant no-such-bug " +
                          (sub == "soak" ? std::string() : file));
    EXPECT_EQ(r.status, 2) << cmd << ": " << r.out;
    EXPECT_EQ(r.out,
              "mmudiff: unknown plant 'no-such-bug' (the planted bugs are listed by "
              "'mmudiff " +
                  sub + " --help')\n")
        << cmd;
  }
  CliResult help = run_cli("run --help");
  for (const PlantInfo& p : planted_bugs())
    EXPECT_NE(help.out.find(std::string(p.name)), std::string::npos) << p.name;
}

TEST_F(PlantCli, PlantOfABackendLeftOutIsRefused) {
  std::string file = reproducer_path(*find_plant("legacy-oa-above-pa-size")).string();
  CliResult r = run_cli("run --plant legacy-oa-above-pa-size --backends walker " + file);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("lives in backend legacy, which is not among the backends compared"),
            std::string::npos)
      << r.out;
}

TEST_F(PlantCli, SoakWithAPlantWritesReproducersThatNameIt) {
  fs::path out = dir_ / "findings";
  CliResult r =
      run_cli("soak --plant walker-no-tlbi-table-to-block -n 200 --seed 7 --out " + out.string());
  ASSERT_EQ(r.status, 1) << r.out;
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(out)) {
    ++files;
    std::string text = slurp(e.path());
    EXPECT_EQ(directive(text, "plant"), "walker-no-tlbi-table-to-block") << e.path();
    // A table removed without its invalidation leaves what the walk cache may follow: security.
    EXPECT_EQ(directive(text, "expect").rfind("security/effects", 0), 0u) << text;
  }
  EXPECT_GE(files, 1u);
}

// A long random stream that finds the plant, and finds nothing without it: what a campaign
// would hand to minimize.
Stream long_stream_finding(const PlantInfo& p, std::mt19937_64& rng, size_t tries) {
  RandomStreamOptions ropt = RandomStreamOptions::of_profile(p.profile());
  ropt.min_ops = 40;
  ropt.max_ops = 80;
  HarnessOptions with;
  with.plant = p.id;
  HarnessOptions without;
  for (size_t n = 0; n < tries; ++n) {
    Stream s = random_stream(rng, ropt);
    StreamReport r = run_stream(s, with);
    if (r.bound_reached || r.findings.empty()) continue;
    if (run_stream(s, without).equivalent()) return s;
  }
  return {};
}

class PlantMinimize : public PlantCli, public ::testing::WithParamInterface<const char*> {};

TEST_P(PlantMinimize, RandomFindingShrinksToAFewOperationsThatReplayOnlyWithThePlant) {
  const PlantInfo& p = *find_plant(GetParam());
  std::mt19937_64 rng(std::hash<std::string_view>{}(p.name));
  Stream stream = long_stream_finding(p, rng, 3000);
  ASSERT_GE(stream.size(), 40u) << "no random stream of 40+ operations finds " << p.name;
  // The kind repro reports: tables compared after every operation, up to the first divergence.
  HarnessOptions with;
  with.plant = p.id;
  with.check_every_op = true;
  auto kind = finding_kind(run_stream(stream, with));
  ASSERT_TRUE(kind);
  std::string verdict =
      std::string("verdict: DIVERGED (") + severity_name(kind->severity) + ", " + kind->oracle;

  std::string long_file = write("long.mmu", format_stream(stream));
  std::string small_file = (dir_ / "small.mmu").string();
  std::string plant_arg = std::string(" --plant ") + GetParam() + " ";
  CliResult m = run_cli("minimize" + plant_arg + long_file + " -o " + small_file);
  ASSERT_EQ(m.status, 0) << m.out;

  std::string text = slurp(small_file);
  Stream small = parse_text(text, small_file);
  EXPECT_LE(small.size(), 6u) << text;
  EXPECT_LT(small.size(), stream.size());
  EXPECT_EQ(directive(text, "plant"), GetParam()) << text;
  EXPECT_EQ(directive(text, "expect"),
            std::string(severity_name(kind->severity)) + "/" + kind->oracle)
      << text;

  CliResult again = run_cli("repro" + plant_arg + small_file);
  EXPECT_EQ(again.status, 1) << again.out;
  EXPECT_NE(again.out.find(verdict), std::string::npos) << verdict << "\n" << again.out;

  CliResult clean = run_cli("repro " + small_file);
  EXPECT_EQ(clean.status, 0) << clean.out;
  EXPECT_NE(clean.out.find("verdict: EQUIVALENT"), std::string::npos) << clean.out;
}

// Every class, both backends: security (a wrong PA; an alias above the PA size),
// hardware-effects (a missing TLBI), functional (refcount and leak), structural-only (empty
// tables left behind); on x86, an SPTE the CPU cannot take (zero-check) and a page left writable.
// Not legacy-descend-freed-subtree: under ASan its use of a freed page stops the process, as
// corpus_test expects, so there is nothing left to minimise.
INSTANTIATE_TEST_SUITE_P(OfEveryClass, PlantMinimize,
                         ::testing::Values("walker-pa-cursor-drift", "legacy-oa-above-pa-size",
                                           "walker-no-tlbi-table-to-block",
                                           "walker-leak-table-on-update",
                                           "walker-leak-nonleaf-on-zap",
                                           "legacy-x86-write-without-read",
                                           "legacy-x86-wrprot-misses-huge-page"),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

}  // namespace

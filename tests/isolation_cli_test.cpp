// SPDX-License-Identifier: GPL-2.0-only
// No crash or hang ends a command: through the real binary, a backend that segfaults (the plant
// walker-use-freed-table) or never returns (legacy-unmap-never-returns) is a printed finding with
// exit status 1, its reproducer is on disk, and the command goes on with what comes next.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mmu/backend.h"
#include "tests/cli_runner.h"
#include "tests/files.h"
#include "tests/sanitizer_scale.h"
#include "tests/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using mmudiff::testing::CliResult;
using mmudiff::testing::run_cli;
using mmudiff::testing::slurp;

std::string regression(const std::string& plant) {
  return (fs::path(MMUDIFF_SOURCE_DIR) / "corpus" / "regressions" / ("plant-" + plant + ".mmu"))
      .string();
}

// What the crash is called: the release build faults, the ASan build's sanitizer stops it. The
// poison read as a table address is non-canonical, which x86 faults as #GP (SIGSEGV), or as #SS
// (SIGBUS) when the compiler addressed it through rbp: which one is the code generator's choice.
std::vector<std::string> crash_rules() {
  if (mmudiff::testing::kSanitized) return {"sanitizer"};
  return {"SIGSEGV", "SIGBUS"};
}
// Where BEFORE + one of the crash rules + AFTER is in OUT.
size_t find_crash(const std::string& out, const std::string& before, const std::string& after) {
  for (const std::string& rule : crash_rules())
    if (size_t at = out.find(before + rule + after); at != std::string::npos) return at;
  return std::string::npos;
}

class IsolationCli : public mmudiff::testing::ScratchTest {};

TEST_F(IsolationCli, RunOnACrashingBackendPrintsTheFindingAndExitsOne) {
  CliResult r =
      run_cli("run --plant walker-use-freed-table " + regression("walker-use-freed-table"));
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("verdict: DIVERGED (security, memory) at operation #2: unmap 0x40000000 1G"),
            std::string::npos)
      << r.out;
  EXPECT_NE(find_crash(r.out, "[security/memory/unmap/", "/walker] walker: "), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("the replay stopped before its end"), std::string::npos) << r.out;
}

TEST_F(IsolationCli, RunOnAHangingBackendReportsAHangWithinTheTimeout) {
  auto start = std::chrono::steady_clock::now();
  CliResult r = run_cli("run --op-timeout 0.5 --plant legacy-unmap-never-returns " +
                        regression("legacy-unmap-never-returns"));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_LT(secs, 10.0);
  EXPECT_NE(r.out.find("[security/hang/unmap/timeout/legacy] legacy: did not return within 0.5 s "
                       "in operation #2 unmap 0x40200000 4M"),
            std::string::npos)
      << r.out;
}

TEST_F(IsolationCli, RunGoesOnWithTheNextFileAfterACrash) {
  std::string ok = write("ok.mmu", "map 0x40000000 2M pa=0x80000000 prot=rw mc=8\n");
  CliResult r = run_cli("run --plant walker-use-freed-table " +
                        regression("walker-use-freed-table") + " " + ok);
  EXPECT_EQ(r.status, 1) << r.out;
  size_t crash = find_crash(r.out, "[security/memory/unmap/", "/walker]");
  size_t second = r.out.find(ok + ": 1 operations through");
  ASSERT_NE(crash, std::string::npos) << r.out;
  ASSERT_NE(second, std::string::npos) << r.out;
  EXPECT_LT(crash, second);
  EXPECT_NE(r.out.find("verdict: EQUIVALENT", second), std::string::npos) << r.out;
}

TEST_F(IsolationCli, SoakWritesTheCrashReproducerAndCarriesOn) {
  fs::path out = dir_ / "findings";
  CliResult r =
      run_cli("soak --plant walker-use-freed-table -n 300 --seed 7 --out " + out.string());
  ASSERT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("soak: 300 arm64-6.1 streams"), std::string::npos) << r.out;
  size_t crashes = 0;
  for (const auto& e : fs::directory_iterator(out)) {
    std::string text = slurp(e.path());
    if (text.find("# expect: security/memory") == std::string::npos) continue;
    ++crashes;
    EXPECT_NE(text.find("# plant: walker-use-freed-table\n"), std::string::npos) << text;
    // The file replays to the same crash.
    CliResult again = run_cli("repro --plant walker-use-freed-table " + e.path().string());
    EXPECT_EQ(again.status, 1) << again.out;
    EXPECT_NE(find_crash(again.out, "/", "/walker]"), std::string::npos) << again.out;
  }
  EXPECT_GE(crashes, 1u) << r.out;
}

TEST_F(IsolationCli, MinimizeKeepsTheCrashAndItsReproducerReplaysToIt) {
  std::string small = (dir_ / "small.mmu").string();
  std::string long_file = write("long.mmu",
                                "init ia=40\n"
                                "map 0x80000000 4K pa=0x1000 prot=r mc=8\n"
                                "map 0x40000000 4K pa=0x80000000 prot=rw mc=8\n"
                                "wrprotect 0 4G\n"
                                "map 0x40400000 2M pa=0x80200000 prot=rw mc=8\n"
                                "unmap 0x40000000 1G\n");
  CliResult m = run_cli("minimize --plant walker-use-freed-table " + long_file + " -o " + small);
  ASSERT_EQ(m.status, 0) << m.out;
  std::string text = slurp(small);
  EXPECT_NE(text.find("# expect: security/memory\n"), std::string::npos) << text;
  CliResult again = run_cli("repro --plant walker-use-freed-table " + small);
  EXPECT_EQ(again.status, 1) << again.out;
  EXPECT_NE(find_crash(again.out, "/", "/walker]"), std::string::npos) << again.out;
}

TEST_F(IsolationCli, ReportOnARunDirectoryWhoseCorpusCrashesStillWritesTheReport) {
  fs::path run_dir = dir_ / "run";
  CliResult run = run_cli("run --plant walker-use-freed-table --out " + run_dir.string() + " " +
                          regression("walker-use-freed-table"));
  ASSERT_EQ(run.status, 1) << run.out;
  // The finding's reproducer is on disk.
  bool reproducer = false;
  for (const auto& e : fs::directory_iterator(run_dir / "findings"))
    reproducer = reproducer || fs::exists(e.path() / "repro.mmu");
  EXPECT_TRUE(reproducer);

  CliResult report = run_cli("report " + run_dir.string());
  EXPECT_EQ(report.status, 1) << report.out;
  ASSERT_TRUE(fs::exists(run_dir / "report.html")) << report.out;
  ASSERT_TRUE(fs::exists(run_dir / "report.json")) << report.out;
  auto json = nlohmann::json::parse(slurp(run_dir / "report.json"));
  // The corpus input and the finding's input both crash the replay, and are counted so.
  EXPECT_EQ(json["exercised"]["crashed"], 2) << json["exercised"].dump();
  EXPECT_NE(slurp(run_dir / "report.html").find("2 of them crashed or hung a backend"),
            std::string::npos);
}

}  // namespace

// SPDX-License-Identifier: GPL-2.0-only
// `mmudiff campaign` end to end: the real CLI running real libFuzzer and AFL++ engines (the fuzz
// and afl presets' builds, or $MMUDIFF_LIBFUZZER_DIR / $MMUDIFF_AFL_DIR) for a few seconds with a
// planted bug, which must be found and stored in the run directory; resume, Ctrl-C, bad flags.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "mmu/plants.h"
#include "tests/cli_runner.h"

namespace {

using Result = mmudiff::testing::CliResult;
using mmudiff::testing::run_cli;

namespace fs = std::filesystem;

// Found by fuzzing within seconds (its reproducer is in corpus/regressions, which a planted
// campaign does not get as a seed): the map walker's PA cursor stops following the IPA.
constexpr const char* kQuickPlant = "walker-pa-cursor-drift";

nlohmann::json read_json(const fs::path& p) {
  std::ifstream f(p);
  return nlohmann::json::parse(f);
}

class CampaignTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Tests may run beside each other and beside other fuzzers: no CPU pinning.
    ::setenv("AFL_NO_AFFINITY", "1", 1);
    dir_ = fs::temp_directory_path() /
           ("mmudiff_campaign_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Every finding directory is complete and the planted bug's signature is among them.
  void expect_findings_stored(const fs::path& run) {
    ASSERT_TRUE(fs::is_directory(run / "findings"));
    size_t complete = 0;
    for (const auto& d : fs::directory_iterator(run / "findings")) {
      ASSERT_TRUE(fs::exists(d.path() / "finding.json")) << d.path();
      ASSERT_TRUE(fs::exists(d.path() / "input.bin")) << d.path();
      ASSERT_TRUE(fs::exists(d.path() / "repro.mmu")) << d.path();
      auto f = read_json(d.path() / "finding.json");
      EXPECT_GE(f.at("hits").get<int>(), 1);
      EXPECT_EQ(f.at("signature").get<std::string>().find('/') != std::string::npos, true);
      // The stored reproducer still shows a finding under the plant.
      Result r = run_cli(fmt_plant_repro(d.path() / "repro.mmu"));
      EXPECT_EQ(r.status, 1) << r.out;
      ++complete;
    }
    EXPECT_GE(complete, 1u);
    auto run_json = read_json(run / "run.json");
    EXPECT_EQ(run_json.at("schema"), "mmudiff/run-1");
    EXPECT_EQ(run_json.at("command"), "campaign");
    EXPECT_EQ(run_json.at("plant"), kQuickPlant);
    EXPECT_EQ(run_json.at("findings").get<size_t>(), complete);
    EXPECT_GT(run_json.at("executions").get<uint64_t>(), 0u);
    std::ifstream progress(run / "progress.jsonl");
    std::string line;
    size_t samples = 0;
    while (std::getline(progress, line)) {
      auto j = nlohmann::json::parse(line);
      EXPECT_TRUE(j.contains("execs_per_s") && j.contains("coverage") && j.contains("corpus"));
      ++samples;
    }
    EXPECT_GE(samples, 1u);
  }

  static std::string fmt_plant_repro(const fs::path& file) {
    return std::string("repro --plant ") + kQuickPlant + " " + file.string();
  }

  fs::path dir_;
};

TEST_F(CampaignTest, ListPlantsPrintsEveryPlantOnALineNameFirst) {
  Result r = run_cli("campaign --list-plants");
  ASSERT_EQ(r.status, 0) << r.out;
  std::istringstream in(r.out);
  std::string line;
  size_t i = 0;
  const auto& plants = mmudiff::planted_bugs();
  while (std::getline(in, line)) {
    ASSERT_LT(i, plants.size()) << line;
    std::string expected = std::string(plants[i].name) + "\t" + std::string(plants[i].backend) +
                           "\t" + std::string(plants[i].bug_class);
    EXPECT_EQ(line, expected);
    ++i;
  }
  EXPECT_EQ(i, plants.size());
  EXPECT_GE(i, 12u);
}

TEST_F(CampaignTest, BadFlagsExitTwoWithOneLine) {
  std::string out = " --out " + (dir_ / "run").string();
  for (const std::string& args :
       {std::string("campaign --time 5"), "campaign --engine honggfuzz" + out,
        "campaign --jobs 0" + out, "campaign --time 0" + out,
        "campaign --plant no-such-plant" + out, "campaign --backends nosuch" + out,
        "campaign --backends linux61 --plant walker-pa-cursor-drift" + out,
        "campaign --fuzzer-dir /nonexistent/mmudiff" + out}) {
    Result r = run_cli(args);
    EXPECT_EQ(r.status, 2) << args << "\n" << r.out;
    EXPECT_EQ(r.out.rfind("mmudiff: ", 0), 0u) << args << "\n" << r.out;
    EXPECT_LE(std::count(r.out.begin(), r.out.end(), '\n'), 2) << args << "\n" << r.out;
  }
  Result missing = run_cli("campaign --fuzzer-dir /nonexistent/mmudiff" + out);
  EXPECT_NE(missing.out.find("cmake --preset fuzz"), std::string::npos) << missing.out;
}

TEST_F(CampaignTest, LibFuzzerFindsAPlantedBugAndResumes) {
  fs::path run = dir_ / "run";
  Result r = run_cli(std::string("campaign --engine libfuzzer --time 40 --jobs 2 --plant ") +
                     kQuickPlant + " --stop-on-finding --out " + run.string());
  ASSERT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("finding signature"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("repro.mmu"), std::string::npos) << r.out;
  expect_findings_stored(run);
  uint64_t execs = read_json(run / "run.json").at("executions").get<uint64_t>();
  size_t findings = read_json(run / "run.json").at("findings").get<size_t>();

  // Again on the same directory: resumed from its corpus, executions and findings carried on.
  Result again = run_cli(std::string("campaign --engine libfuzzer --time 10 --jobs 2 --plant ") +
                         kQuickPlant + " --out " + run.string());
  EXPECT_NE(again.out.find("(resumed)"), std::string::npos) << again.out;
  auto j = read_json(run / "run.json");
  EXPECT_EQ(j.at("status"), "finished");
  EXPECT_GT(j.at("executions").get<uint64_t>(), execs);
  EXPECT_GE(j.at("findings").get<size_t>(), findings);
}

TEST_F(CampaignTest, AflFindsAPlantedBug) {
  fs::path run = dir_ / "run";
  Result r = run_cli(std::string("campaign --engine afl --time 60 --jobs 2 --plant ") +
                     kQuickPlant + " --stop-on-finding --out " + run.string());
  ASSERT_EQ(r.status, 1) << r.out;
  expect_findings_stored(run);
  EXPECT_EQ(read_json(run / "run.json").at("engine"), "afl");
  // The queue was kept in the engine-neutral corpus/ for the next campaign.
  size_t corpus = 0;
  for (const auto& e : fs::directory_iterator(run / "corpus")) corpus += e.is_regular_file();
  EXPECT_GT(corpus, 0u);
}

TEST_F(CampaignTest, InterruptStopsTheEnginesAndMarksTheRunInterrupted) {
  fs::path run = dir_ / "run";
  fs::create_directories(dir_);
  fs::path log = dir_ / "out.txt";
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::FILE* f = std::freopen(log.c_str(), "w", stdout);
    (void)f;
    ::dup2(STDOUT_FILENO, STDERR_FILENO);
    ::execl(MMUDIFF_CLI, MMUDIFF_CLI, "campaign", "--engine", "libfuzzer", "--time", "120",
            "--jobs", "2", "--out", run.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::this_thread::sleep_for(std::chrono::seconds(6));
  ::kill(pid, SIGINT);
  int status = 0;
  auto start = std::chrono::steady_clock::now();
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    ASSERT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30))
        << "campaign did not stop after SIGINT";
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(WIFEXITED(status));
  std::ifstream in(log);
  std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(out.find("campaign interrupted after"), std::string::npos) << out;
  auto j = read_json(run / "run.json");
  EXPECT_EQ(j.at("status"), "interrupted");
  EXPECT_FALSE(j.at("ended").is_null());
  // No engine process outlives the campaign: nothing runs with the run directory in its command.
  for (const auto& p : fs::directory_iterator("/proc")) {
    std::ifstream cmdline(p.path() / "cmdline", std::ios::binary);
    std::string args((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
    EXPECT_EQ(args.find(run.string()), std::string::npos) << p.path() << ": " << args;
  }
}

}  // namespace

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
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "mmu/plants.h"
#include "tests/cli_runner.h"
#include "tests/files.h"
#include "tests/temp_dir.h"

namespace {

using Result = mmudiff::testing::CliResult;
using mmudiff::testing::read_json;
using mmudiff::testing::run_cli;

namespace fs = std::filesystem;

// Found by fuzzing within seconds (its reproducer is in corpus/regressions, which a planted
// campaign does not get as a seed): the map walker's PA cursor stops following the IPA.
constexpr const char* kQuickPlant = "walker-pa-cursor-drift";

class CampaignTest : public mmudiff::testing::ScratchTest {
 protected:
  void SetUp() override {
    // Tests may run beside each other and beside other fuzzers: no CPU pinning.
    ::setenv("AFL_NO_AFFINITY", "1", 1);
  }

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
                           "\t" + std::string(mmudiff::profile_name(plants[i].profile())) + "\t" +
                           std::string(plants[i].bug_class);
    EXPECT_EQ(line, expected);
    ++i;
  }
  EXPECT_EQ(i, plants.size());
  EXPECT_GE(i, 12u);
}

TEST_F(CampaignTest, BadFlagsExitTwoWithOneLine) {
  std::string out = " --out " + (dir_ / "run").string();
  fs::create_directories(dir_);
  std::ofstream(dir_ / "file") << "x";
  fs::create_symlink(dir_ / "loop", dir_ / "loop");
  for (const std::string& args : std::initializer_list<std::string>{
           std::string("campaign --time 5"), "campaign --engine honggfuzz" + out,
           "campaign --jobs 0" + out, "campaign --time 0" + out, "campaign --jobs -1" + out,
           "campaign --jobs 1000" + out, "campaign --jobs 99999999999999999999" + out,
           "campaign --time -5" + out, "campaign --time 99999999999999999999" + out,
           "campaign --out " + (dir_ / "file").string(),
           "campaign --out " + (dir_ / "loop" / "run").string(),
           std::string("campaign --out /proc/mmudiff-run"), "campaign --plant no-such-plant" + out,
           "campaign --backends nosuch" + out,
           "campaign --backends linux61 --plant walker-pa-cursor-drift" + out,
           "campaign --fuzzer-dir /nonexistent/mmudiff" + out}) {
    Result r = run_cli(args);
    EXPECT_EQ(r.status, 2) << args << "\n" << r.out;
    EXPECT_EQ(r.out.rfind("mmudiff: ", 0), 0u) << args << "\n" << r.out;
    EXPECT_LE(std::count(r.out.begin(), r.out.end(), '\n'), 2) << args << "\n" << r.out;
  }
  Result missing = run_cli("campaign --fuzzer-dir /nonexistent/mmudiff" + out);
  // The default engine is AFL++: the error names the preset that builds it.
  EXPECT_NE(missing.out.find("cmake --preset afl"), std::string::npos) << missing.out;
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

// Where the campaign takes an engine's targets from (tools/mmudiff/campaign_workers.h
// fuzz_build_dir).
std::string fuzz_dir_of(const std::string& engine) {
  const char* env = std::getenv(engine == "afl" ? "MMUDIFF_AFL_DIR" : "MMUDIFF_LIBFUZZER_DIR");
  if (env && *env) return env;
  return std::string(MMUDIFF_SOURCE_DIR) + "/build/" + (engine == "afl" ? "afl" : "fuzz") + "/fuzz";
}

// A campaign started in the background, its output in `out`; killed if the test ends first.
class BackgroundCampaign {
 public:
  BackgroundCampaign(const std::vector<std::string>& args, const fs::path& out) {
    pid_ = ::fork();
    if (pid_ != 0) return;
    std::FILE* f = std::freopen(out.c_str(), "w", stdout);
    (void)f;
    ::dup2(STDOUT_FILENO, STDERR_FILENO);
    std::vector<char*> argv{const_cast<char*>(MMUDIFF_CLI), const_cast<char*>("campaign")};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(MMUDIFF_CLI, argv.data());
    ::_exit(127);
  }
  ~BackgroundCampaign() {
    if (pid_ <= 0 || reaped_) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }
  // Its exit status, once it has ended within `timeout`; -1 if it is still running.
  int wait(std::chrono::seconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (std::chrono::steady_clock::now() >= until) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

TEST_F(CampaignTest, InterruptStopsTheEnginesAndMarksTheRunInterrupted) {
  fs::path run = dir_ / "run";
  fs::create_directories(dir_);
  fs::path log = dir_ / "out.txt";
  BackgroundCampaign campaign(
      {"--engine", "libfuzzer", "--time", "600", "--jobs", "2", "--out", run.string()}, log);
  ASSERT_GT(campaign.pid(), 0);
  std::this_thread::sleep_for(std::chrono::seconds(6));
  ::kill(campaign.pid(), SIGINT);
  // Stopping includes the report, whose Z3 proofs take about 12 s on two idle cores; under a
  // loaded CI machine the whole stop has taken over 30 s. Far less than the 600 s asked for.
  int status = campaign.wait(std::chrono::seconds(120));
  ASSERT_GE(status, 0) << "campaign did not stop after SIGINT";
  ASSERT_LT(status, 128) << "campaign died of a signal";
  std::string out = mmudiff::testing::slurp(log);
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

// The engines' own count of what a worker ran: libFuzzer's last status line in `log` (engine.log,
// or engine.N.log of a restarted worker), AFL++'s fuzzer_stats (rewritten as it exits).
uint64_t engine_count(const fs::path& run, const nlohmann::json& worker, const std::string& engine,
                      const std::string& log = "engine.log") {
  std::string name = worker.at("name");
  std::ifstream in(engine == "afl" ? run / ".work/afl-sync" / name / "fuzzer_stats"
                                   : run / ".work" / name / log);
  uint64_t count = 0;
  std::string line;
  while (std::getline(in, line)) {
    unsigned long long n = 0;
    if (engine == "afl" ? std::sscanf(line.c_str(), "execs_done : %llu", &n) == 1
                        : std::sscanf(line.c_str(), "#%llu: cov:", &n) == 1)
      count = n;
  }
  return count;
}

// Every process whose command line names `needle`.
std::vector<std::string> processes_naming(const std::string& needle) {
  std::vector<std::string> found;
  for (const auto& p : fs::directory_iterator("/proc")) {
    std::ifstream cmdline(p.path() / "cmdline", std::ios::binary);
    std::string args((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
    if (args.find(needle) != std::string::npos && p.path().filename() != std::to_string(getpid()))
      found.push_back(p.path().filename().string() + ": " + args);
  }
  return found;
}

// A worker that dies is said at once and never claimed: a fuzz build whose ASan+UBSan target is
// broken (a script that fails at once) beside the real plain target.
TEST_F(CampaignTest, AWorkerThatDiesIsReportedAtOnceAndInRunJson) {
  fs::path real = fs::path(MMUDIFF_SOURCE_DIR) / "build/fuzz/fuzz";
  if (const char* env = std::getenv("MMUDIFF_LIBFUZZER_DIR"); env && *env) real = env;
  fs::path fake = dir_ / "fuzz";
  fs::create_directories(fake);
  for (const char* name : {"stream_fuzzer", "seeds", "regressions", "mmudiff.dict"})
    fs::create_symlink(real / name, fake / name);
  std::ofstream(fake / "stream_fuzzer_asan")
      << "#!/bin/sh\necho 'sanitizer runtime missing'\nexit 3\n";
  fs::permissions(fake / "stream_fuzzer_asan", fs::perms::owner_all);
  fs::path run = dir_ / "run";
  Result r = run_cli("campaign --engine libfuzzer --time 15 --jobs 2 --fuzzer-dir " +
                     fake.string() + " --out " + run.string());
  ASSERT_TRUE(r.status == 0 || r.status == 1) << r.out;
  size_t said = r.out.find("worker asan (asan) stopped early (exit 3) after ");
  ASSERT_NE(said, std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sanitizer runtime missing", said), std::string::npos) << r.out;
  // At once: before the first progress line after the start.
  EXPECT_LT(said, r.out.find("[    5 s]")) << r.out;
  EXPECT_NE(r.out.find("DIED"), std::string::npos) << r.out;
  // It died before it had fuzzed: started again, it would die again.
  EXPECT_EQ(r.out.find("started again"), std::string::npos) << r.out;
  auto workers = read_json(run / "run.json").at("workers");
  ASSERT_EQ(workers.size(), 2u);
  for (const auto& w : workers) {
    if (w.at("name") == "asan") {
      EXPECT_EQ(w.at("status"), "died");
      EXPECT_EQ(w.at("exit"), "exit 3");
      EXPECT_EQ(w.at("executions"), 0);
    } else {
      EXPECT_EQ(w.at("status"), "finished");
      EXPECT_GT(w.at("executions").get<uint64_t>(), 0u);
    }
  }
}

class CampaignEngineTest : public CampaignTest,
                           public ::testing::WithParamInterface<const char*> {};

// What a user reads is what the engines recorded: every worker ran (the ASan+UBSan one too), and
// the campaign's executions are the sum of the engines' own final counts.
TEST_P(CampaignEngineTest, EveryWorkerRunsAndTheCampaignCountsWhatTheEnginesRecorded) {
  std::string engine = GetParam();
  fs::path run = dir_ / "run";
  Result r = run_cli("campaign --engine " + engine + " --time 12 --jobs 2 --out " + run.string());
  ASSERT_TRUE(r.status == 0 || r.status == 1) << r.out;
  auto j = read_json(run / "run.json");
  ASSERT_EQ(j.at("workers").size(), 2u) << j.dump(1);
  uint64_t sum = 0;
  std::set<std::string> kinds;
  for (const auto& w : j.at("workers")) {
    EXPECT_EQ(w.at("status"), "finished") << w.dump() << "\n" << r.out;
    uint64_t own = engine_count(run, w, engine);
    EXPECT_GT(own, 0u) << w.dump();
    EXPECT_EQ(w.at("executions").get<uint64_t>(), own) << w.dump();
    kinds.insert(w.at("kind").get<std::string>());
    sum += own;
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"plain", "asan"}));
  EXPECT_EQ(j.at("executions").get<uint64_t>(), sum);
  EXPECT_NE(r.out.find(std::to_string(sum) + " executions ("), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("DIED"), std::string::npos) << r.out;
  // The progress lines show a rate, which is not zero once the engines have reported.
  std::ifstream progress(run / "progress.jsonl");
  std::string line, last;
  while (std::getline(progress, line)) last = line;
  auto p = nlohmann::json::parse(last);
  EXPECT_GT(p.at("execs_per_s").get<double>(), 0.0) << last;
  EXPECT_GT(p.at("by_kind").at("asan").at("execs").get<uint64_t>(), 0u) << last;
}

// kill -9 of a campaign: a second campaign on its directory is refused while it runs, no engine
// outlives it, and the next campaign there counts what the killed one's engines recorded.
TEST_P(CampaignEngineTest, KilledCampaignTakesItsEnginesAlongAndItsRerunCountsThem) {
  std::string engine = GetParam();
  fs::path run = dir_ / "run";
  fs::create_directories(dir_);
  BackgroundCampaign campaign(
      {"--engine", engine, "--time", "120", "--jobs", "2", "--out", run.string()},
      dir_ / "out.txt");
  pid_t pid = campaign.pid();
  ASSERT_GT(pid, 0);
  // Until the engines have recorded executions (on a busy machine AFL++ may take a while to
  // calibrate), so that the killed campaign leaves a count to reconcile.
  auto waited = std::chrono::steady_clock::now();
  for (bool counted = false; !counted;) {
    ASSERT_LT(std::chrono::steady_clock::now() - waited, std::chrono::seconds(60))
        << "the engines recorded no executions";
    std::this_thread::sleep_for(std::chrono::seconds(1));
    std::ifstream progress(run / "progress.jsonl");
    for (std::string line; std::getline(progress, line);)
      counted = counted || nlohmann::json::parse(line).at("execs").get<uint64_t>() > 0;
  }
  auto before = read_json(run / "run.json");

  Result second = run_cli("campaign --engine " + engine + " --time 5 --out " + run.string());
  EXPECT_EQ(second.status, 2) << second.out;
  EXPECT_NE(second.out.find("another campaign (pid " + std::to_string(pid) + ")"),
            std::string::npos)
      << second.out;
  EXPECT_EQ(std::count(second.out.begin(), second.out.end(), '\n'), 1) << second.out;
  ASSERT_EQ(campaign.wait(std::chrono::seconds(0)), -1)
      << "the first campaign did not survive the second";
  EXPECT_EQ(read_json(run / "run.json"), before);

  std::string fuzz_dir = fuzz_dir_of(engine);
  ASSERT_FALSE(processes_naming(fuzz_dir).empty()) << "no engine ran";
  ::kill(pid, SIGKILL);
  ASSERT_EQ(campaign.wait(std::chrono::seconds(10)), 128 + SIGKILL);
  std::vector<std::string> left;
  for (int i = 0; i < 30; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    left = processes_naming(fuzz_dir);
    auto more = processes_naming(run.string());
    left.insert(left.end(), more.begin(), more.end());
    if (left.empty()) break;
  }
  EXPECT_TRUE(left.empty()) << left.size() << " processes outlived the campaign, first "
                            << left.front();
  EXPECT_EQ(read_json(run / "run.json").at("status"), "running");

  Result again =
      run_cli("campaign --engine " + engine + " --time 4 --jobs 2 --out " + run.string());
  ASSERT_TRUE(again.status == 0 || again.status == 1) << again.out;
  unsigned long long counted = 0;
  size_t at = again.out.find("was killed: counted the ");
  ASSERT_NE(at, std::string::npos) << again.out;
  counted = std::strtoull(again.out.c_str() + at + 24, nullptr, 10);
  EXPECT_GT(counted, 0u) << again.out;
  auto j = read_json(run / "run.json");
  EXPECT_EQ(j.at("status"), "finished");
  EXPECT_EQ(j.at("killed_runs"), 1);
  uint64_t this_run = 0;
  for (const auto& w : j.at("workers")) this_run += w.at("executions").get<uint64_t>();
  EXPECT_EQ(j.at("executions").get<uint64_t>(), counted + this_run);
}

// A worker that dies after fuzzing a while (here: kill -9 of its engine) is started again for the
// time left, what each life ran is counted, and the dead engine leaves nothing behind.
TEST_P(CampaignEngineTest, AWorkerKilledMidCampaignIsStartedAgainAndEveryLifeIsCounted) {
  std::string engine = GetParam();
  fs::path run = dir_ / "run";
  fs::create_directories(dir_);
  BackgroundCampaign campaign(
      {"--engine", engine, "--time", "30", "--jobs", "2", "--out", run.string()}, dir_ / "out.txt");
  ASSERT_GT(campaign.pid(), 0);
  // The ASan+UBSan worker has fuzzed for more than the 10 s a worker must live to be restarted
  // (tools/mmudiff/cmd_campaign.cpp), and recorded executions.
  uint64_t before = 0;
  for (auto waited = std::chrono::steady_clock::now();;) {
    ASSERT_LT(std::chrono::steady_clock::now() - waited, std::chrono::seconds(30))
        << "the ASan+UBSan worker recorded no executions";
    std::this_thread::sleep_for(std::chrono::seconds(1));
    std::ifstream progress(run / "progress.jsonl");
    for (std::string line; std::getline(progress, line);) {
      auto p = nlohmann::json::parse(line);
      if (p.at("t").get<double>() >= 13) before = p.at("by_kind").at("asan").at("execs");
    }
    if (before > 0) break;
  }
  pid_t asan = -1;
  auto running = read_json(run / "run.json");
  for (const auto& w : running.at("workers"))
    if (w.at("name") == "asan") asan = w.at("pid").get<pid_t>();
  ASSERT_GT(asan, 1) << running.dump(1);
  ASSERT_EQ(::kill(-asan, SIGKILL), 0);
  // What the dead engine left in sessions of its own (AFL++'s persistent target) is gone before
  // the campaign ends: nothing running the fuzz build was handed to init.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  for (const std::string& p : processes_naming(fuzz_dir_of(engine))) {
    std::ifstream stat("/proc/" + p.substr(0, p.find(':')) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    int ppid = 0;
    size_t paren = text.rfind(')');
    if (paren != std::string::npos) std::sscanf(text.c_str() + paren + 1, " %*c %d", &ppid);
    EXPECT_NE(ppid, 1) << "orphaned: " << p;
  }

  int status = campaign.wait(std::chrono::seconds(120));
  std::string out = mmudiff::testing::slurp(dir_ / "out.txt");
  ASSERT_TRUE(status == 0 || status == 1) << status << "\n" << out;
  EXPECT_NE(out.find("worker asan (asan) stopped early (signal 9)"), std::string::npos) << out;
  EXPECT_NE(out.find("worker asan started again for the"), std::string::npos) << out;
  EXPECT_NE(out.find("restarted 1x: died at"), std::string::npos) << out;
  EXPECT_EQ(out.find("DIED"), std::string::npos) << out;
  auto j = read_json(run / "run.json");
  uint64_t sum = 0;
  for (const auto& w : j.at("workers")) {
    sum += w.at("executions").get<uint64_t>();
    EXPECT_EQ(w.at("status"), "finished") << w.dump();
    if (w.at("name") != "asan") continue;
    ASSERT_TRUE(w.contains("restarts")) << w.dump();
    ASSERT_EQ(w.at("restarts").size(), 1u) << w.dump();
    EXPECT_EQ(w.at("restarts")[0].at("exit"), "signal 9");
    // Both lives: at least what the first had recorded before it was killed, plus the second's
    // own count (libFuzzer: engine.1.log; AFL++: the new instance asan_r1).
    nlohmann::json second = {{"name", engine == "afl" ? "asan_r1" : "asan"}};
    uint64_t second_count = engine_count(run, second, engine, "engine.1.log");
    EXPECT_GT(second_count, 0u) << "the restarted worker recorded nothing";
    EXPECT_GE(w.at("executions").get<uint64_t>(), before + second_count) << w.dump();
  }
  EXPECT_EQ(j.at("executions").get<uint64_t>(), sum);
}

INSTANTIATE_TEST_SUITE_P(Engines, CampaignEngineTest, ::testing::Values("libfuzzer", "afl"));

}  // namespace

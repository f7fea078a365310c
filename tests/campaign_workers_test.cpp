// SPDX-License-Identifier: GPL-2.0-only
// What a campaign hands its engines (tools/mmudiff/campaign_workers.cpp): the seed directories,
// or with --no-seeds none of them, only the dictionary and the run's own corpus.
#include "tools/mmudiff/campaign_workers.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "mmu/ops/binary_format.h"
#include "tests/temp_dir.h"

namespace mmudiff::cli {
namespace {

namespace fs = std::filesystem;

class CampaignWorkers : public mmudiff::testing::ScratchTest {
 protected:
  void SetUp() override {
    // A stand-in fuzz build: plan_workers only names its files.
    build_.dir = dir_ / "build";
    build_.plain = build_.dir / "stream_fuzzer";
    build_.asan = build_.dir / "stream_fuzzer_asan";
    build_.mutator = build_.dir / "libmmudiff_afl_mutator.so";
    build_.seeds = build_.dir / "seeds";
    build_.regressions = build_.dir / "regressions";
    build_.dict = build_.dir / "mmudiff.dict";
    fs::create_directories(build_.seeds);
    fs::create_directories(build_.regressions);
    std::ofstream(build_.seeds / "seed-a") << "a";
    std::ofstream(build_.regressions / "plant-b") << "b";
    layout_ = {dir_ / "out", dir_ / "out/.work", dir_ / "out/corpus"};
    fs::create_directories(layout_.corpus);
  }
  static bool names(const WorkerSpec& w, const fs::path& p) {
    return std::find(w.argv.begin(), w.argv.end(), p.string()) != w.argv.end();
  }

  FuzzBuild build_;
  CampaignLayout layout_;
};

TEST_F(CampaignWorkers, LibFuzzerGetsTheSeedsUnlessToldNotTo) {
  WorkerPlanInput in{Engine::LibFuzzer, 2, 10, {}, "", true, true, ""};
  auto seeded = plan_workers(in, build_, layout_);
  ASSERT_EQ(seeded.size(), 2u);
  for (const auto& w : seeded) {
    EXPECT_TRUE(names(w, layout_.corpus));
    EXPECT_TRUE(names(w, build_.seeds));
    EXPECT_TRUE(names(w, build_.regressions));
  }
  in.with_seeds = false;
  auto bare = plan_workers(in, build_, layout_);
  ASSERT_EQ(bare.size(), 2u);
  for (const auto& w : bare) {
    EXPECT_TRUE(names(w, layout_.corpus));
    EXPECT_FALSE(names(w, build_.seeds));
    EXPECT_FALSE(names(w, build_.regressions));
    EXPECT_TRUE(names(w, "-dict=" + build_.dict.string()));
  }
}

TEST_F(CampaignWorkers, AflWithoutSeedsStartsFromOneEmptyTable) {
  WorkerPlanInput in{Engine::Afl, 2, 10, {}, "walker-reserved-bit", false, false, "x86-ept"};
  auto workers = plan_workers(in, build_, layout_);
  ASSERT_FALSE(workers.empty());
  fs::path input = layout_.work / "afl-in";
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(input)) files.push_back(e.path());
  ASSERT_EQ(files.size(), 1u);
  std::ifstream f(files[0], std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  Stream s = decode_binary(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].kind, OpKind::Init);
  EXPECT_EQ(s[0].config.arch, Arch::X86Ept) << "an x86 campaign's target refuses arm64 streams";

  // With seeds the input holds them, and no stand-in.
  in.with_seeds = true;
  plan_workers(in, build_, layout_);
  EXPECT_TRUE(fs::exists(input / "seed-a"));
  EXPECT_FALSE(fs::exists(input / "plant-b"));  // a planted campaign leaves out the regressions
  EXPECT_FALSE(fs::exists(input / "empty-table"));
}

// An input a backend never returns from is a finding: AFL++ keeps those in hangs/, apart from
// crashes/, and the campaign watches both; libFuzzer writes timeout- files among its artifacts.
TEST_F(CampaignWorkers, EveryWorkerNamesWhereItsHangsAppearAsWellAsItsCrashes) {
  WorkerPlanInput afl{Engine::Afl, 3, 10, {}, "", true, true, ""};
  auto workers = plan_workers(afl, build_, layout_);
  ASSERT_EQ(workers.size(), 3u);
  for (const auto& w : workers) {
    fs::path instance = layout_.work / "afl-sync" / w.name;
    EXPECT_EQ(w.finding_dirs, (std::vector<fs::path>{instance / "crashes", instance / "hangs"}))
        << w.name;
  }
  WorkerPlanInput libfuzzer{Engine::LibFuzzer, 2, 10, {}, "", true, true, ""};
  for (const auto& w : plan_workers(libfuzzer, build_, layout_)) {
    ASSERT_EQ(w.finding_dirs.size(), 1u);
    EXPECT_TRUE(names(w, "-artifact_prefix=" + w.finding_dirs.front().string() + "/"));
  }
}

TEST_F(CampaignWorkers, AflSanitizerOptionsAreOnesAflAccepts) {
  // AFL++ 4.04c refuses to start a target whose ASAN_OPTIONS lack symbolize=0.
  WorkerPlanInput in{Engine::Afl, 2, 10, {}, "", true, true, ""};
  auto workers = plan_workers(in, build_, layout_);
  ASSERT_EQ(workers.size(), 2u);
  size_t asan = 0;
  for (const auto& w : workers) {
    if (!w.asan) continue;
    ++asan;
    EXPECT_STREQ(w.kind(), "asan");
    const std::string& opts = w.env.at("ASAN_OPTIONS");
    EXPECT_NE((":" + opts + ":").find(":symbolize=0:"), std::string::npos) << opts;
  }
  EXPECT_EQ(asan, 1u);
}

TEST_F(CampaignWorkers, AflProgressIsTheLargerOfItsStatsAndItsQueueNames) {
  fs::path inst = layout_.work / "afl-sync" / "main";
  fs::create_directories(inst / "queue");
  WorkerSpec spec;
  spec.stats_file = inst / "fuzzer_stats";
  EXPECT_FALSE(read_progress(Engine::Afl, spec));
  // fuzzer_stats as AFL++ writes it at the start; the queue has moved on since.
  std::ofstream(spec.stats_file) << "start_time        : 1\nexecs_done        : 109\n"
                                    "corpus_count      : 35\nedges_found       : 944\n";
  for (const char* name : {"id:000000,time:0,execs:0,orig:a.bin",
                           "id:000036,src:000001,time:2000,execs:2945,op:havoc,rep:4,+cov",
                           "id:000037,sync:asan,src:000040", "id:000038,src:000002,execs:2938"})
    std::ofstream(inst / "queue" / name) << "x";
  auto p = read_progress(Engine::Afl, spec);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->execs, 2945u);
  EXPECT_EQ(p->coverage, 944u);
  EXPECT_EQ(p->corpus, 35u);
  // The final stats, written as AFL++ exits, count the most.
  std::ofstream(spec.stats_file) << "execs_done        : 13493\ncorpus_count      : 359\n";
  EXPECT_EQ(read_progress(Engine::Afl, spec)->execs, 13493u);
  EXPECT_EQ(recorded_executions(Engine::Afl, layout_), 13493u);
}

TEST_F(CampaignWorkers, AKilledLibFuzzerCampaignsExecutionsAreItsWorkersLastStatusLines) {
  fs::create_directories(layout_.work / "plain");
  fs::create_directories(layout_.work / "asan");
  std::ofstream(layout_.work / "plain" / "engine.log")
      << "#554: cov: 3071 ft: 3071 corp: 33 exec/s 277 oom/timeout/crash: 0/0/0 time: 2s job: 1\n"
         "#1208: cov: 3787 ft: 4216 corp: 158 exec/s 218 oom/timeout/crash: 0/0/0 time: 6s job: 2\n"
         "INFO: log from the job\n";
  std::ofstream(layout_.work / "asan" / "engine.log")
      << "#388: cov: 4840 ft: 4760 corp: 78 exec/s 72 oom/timeout/crash: 0/0/0 time: 8s job: 2\n";
  EXPECT_EQ(recorded_executions(Engine::LibFuzzer, layout_), 1208u + 388u);
  // A worker started again writes engine.1.log: its lives are counted too.
  std::ofstream(layout_.work / "asan" / "engine.1.log")
      << "#95: cov: 4840 ft: 4760 corp: 80 exec/s 70 oom/timeout/crash: 0/0/0 time: 2s job: 1\n";
  EXPECT_EQ(recorded_executions(Engine::LibFuzzer, layout_), 1208u + 388u + 95u);
  WorkerSpec spec;
  spec.log = layout_.work / "plain" / "engine.log";
  auto p = read_progress(Engine::LibFuzzer, spec);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->corpus, 158u);
  EXPECT_EQ(p->coverage, 3787u);
}

// A dead worker's next life runs for the time left, writes a record of its own, and under AFL++ is
// an instance of its own whose finding directories are watched with the dead one's.
TEST_F(CampaignWorkers, ADeadWorkersNextLifeRunsForTheTimeLeftWithARecordOfItsOwn) {
  WorkerPlanInput in{Engine::LibFuzzer, 2, 60, {}, "", true, true, ""};
  for (const WorkerSpec& dead : plan_workers(in, build_, layout_)) {
    WorkerSpec next = next_life(Engine::LibFuzzer, dead, 1, 17);
    EXPECT_EQ(next.name, dead.name);
    EXPECT_EQ(next.index, dead.index);
    EXPECT_EQ(next.log, dead.log.parent_path() / "engine.1.log");
    EXPECT_EQ(next.finding_dirs, dead.finding_dirs);
    EXPECT_EQ(std::count(next.argv.begin(), next.argv.end(), "-max_total_time=17"), 1);
    EXPECT_EQ(std::count(next.argv.begin(), next.argv.end(), "-max_total_time=60"), 0);
    EXPECT_EQ(next.argv.size(), dead.argv.size());
  }
  in.engine = Engine::Afl;
  for (const WorkerSpec& dead : plan_workers(in, build_, layout_)) {
    WorkerSpec next = next_life(Engine::Afl, dead, 2, 17);
    fs::path sync = dead.stats_file.parent_path().parent_path();
    std::string instance = dead.name + "_r2";
    EXPECT_EQ(next.name, dead.name);
    EXPECT_EQ(next.stats_file, sync / instance / "fuzzer_stats");
    EXPECT_NE(next.log, dead.log);
    auto role = std::find_if(next.argv.begin(), next.argv.end(),
                             [](const std::string& a) { return a == "-M" || a == "-S"; });
    ASSERT_NE(role, next.argv.end());
    EXPECT_EQ(*(role + 1), instance);
    auto v = std::find(next.argv.begin(), next.argv.end(), "-V");
    ASSERT_NE(v, next.argv.end());
    EXPECT_EQ(*(v + 1), "17");
    for (const fs::path& d : dead.finding_dirs)
      EXPECT_NE(std::find(next.finding_dirs.begin(), next.finding_dirs.end(), d),
                next.finding_dirs.end());
    EXPECT_NE(
        std::find(next.finding_dirs.begin(), next.finding_dirs.end(), sync / instance / "hangs"),
        next.finding_dirs.end());
  }
}

// A campaign stopped while libFuzzer printed a job's new functions (hundreds of KiB under ASan,
// before that job's status line) still counts the last status line, however far back it is.
TEST_F(CampaignWorkers, TheLastLibFuzzerStatusLineCountsHoweverManyLinesFollowIt) {
  fs::create_directories(layout_.work / "asan");
  {
    std::ofstream log(layout_.work / "asan" / "engine.log");
    log << "#2120: cov: 10549 ft: 13000 corp: 300 exec/s 140 oom/timeout/crash: 0/0/0 time: 9s "
           "job: 3 dft_time: 0\n";
    for (int i = 0; i < 2000; ++i)
      log << "  NEW_FUNC[" << i << "/2000]: 0x561b0fb295d0 in mmudiff::walker::detail::TableWalk"
          << std::string(200, 'x') << "\n";
    log << "  NEW_FUNC[2000/2000]: 0x561b0fb2";  // cut off by the stop
  }
  WorkerSpec spec;
  spec.log = layout_.work / "asan" / "engine.log";
  auto p = read_progress(Engine::LibFuzzer, spec);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->execs, 2120u);
  EXPECT_EQ(p->coverage, 10549u);
  EXPECT_EQ(recorded_executions(Engine::LibFuzzer, layout_), 2120u);
}

TEST_F(CampaignWorkers, AProgramThatCannotBeExecutedIsAnErrorNamingIt) {
  WorkerSpec spec;
  spec.argv = {(dir_ / "no-such-engine").string()};
  spec.log = dir_ / "log";
  try {
    start_worker(spec);
    FAIL() << "started a program that does not exist";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-engine: No such file"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace mmudiff::cli

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

#include <fmt/format.h>

#include "mmu/ops/binary_format.h"

namespace mmudiff::cli {
namespace {

namespace fs = std::filesystem;

class CampaignWorkers : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            fmt::format("mmudiff_workers_{}_{}", ::getpid(),
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    // A stand-in fuzz build: plan_workers only names its files.
    build_.dir = root_ / "build";
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
    layout_ = {root_ / "out", root_ / "out/.work", root_ / "out/corpus"};
    fs::create_directories(layout_.corpus);
  }
  void TearDown() override { fs::remove_all(root_); }

  static bool names(const WorkerSpec& w, const fs::path& p) {
    return std::find(w.argv.begin(), w.argv.end(), p.string()) != w.argv.end();
  }

  fs::path root_;
  FuzzBuild build_;
  CampaignLayout layout_;
};

TEST_F(CampaignWorkers, LibFuzzerGetsTheSeedsUnlessToldNotTo) {
  WorkerPlanInput in{Engine::LibFuzzer, 2, 10, {}, "", true, true};
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
  WorkerPlanInput in{Engine::Afl, 2, 10, {}, "walker-reserved-bit", false, false};
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

  // With seeds the input holds them, and no stand-in.
  in.with_seeds = true;
  plan_workers(in, build_, layout_);
  EXPECT_TRUE(fs::exists(input / "seed-a"));
  EXPECT_FALSE(fs::exists(input / "plant-b"));  // a planted campaign leaves out the regressions
  EXPECT_FALSE(fs::exists(input / "empty-table"));
}

}  // namespace
}  // namespace mmudiff::cli

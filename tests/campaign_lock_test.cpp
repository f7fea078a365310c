// SPDX-License-Identifier: GPL-2.0-only
// One campaign at a time on a run directory (tools/mmudiff/campaign_lock.cpp), and the paths
// that cannot be one.
#include "tools/mmudiff/campaign_lock.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "mmu/ops/text_format.h"
#include "tests/cli_runner.h"
#include "tests/temp_dir.h"

namespace mmudiff::cli {
namespace {

namespace fs = std::filesystem;

class CampaignLock : public mmudiff::testing::ScratchTest {
 protected:
  // The message RunDirectoryLock(dir) throws, "" if it locks.
  static std::string refusal(const fs::path& dir) {
    try {
      RunDirectoryLock lock(dir);
      return "";
    } catch (const InputError& e) {
      return e.what();
    }
  }
};

TEST_F(CampaignLock, ASecondLockOnTheSameDirectoryIsRefusedUntilTheFirstEnds) {
  fs::path run = dir_ / "run";
  std::optional<RunDirectoryLock> first;
  first.emplace(run);
  EXPECT_TRUE(fs::is_directory(run / ".work"));
  std::string second = refusal(run);
  EXPECT_NE(second.find("another campaign (pid " + std::to_string(::getpid()) + ")"),
            std::string::npos)
      << second;
  EXPECT_EQ(second.find('\n'), std::string::npos) << second;
  EXPECT_EQ(second.rfind(run.string(), 0), 0u) << second;
  // Another directory is not locked by it.
  EXPECT_EQ(refusal(dir_ / "other"), "");
  first.reset();
  EXPECT_EQ(refusal(run), "");
}

TEST_F(CampaignLock, PathsThatCannotBeARunDirectoryAreRefusedInOneLine) {
  fs::path file = dir_ / "file";
  std::ofstream(file) << "x";
  fs::path loop = dir_ / "loop";
  fs::create_symlink(loop, loop);
  for (const fs::path& bad : {file, loop / "run", fs::path("/proc/mmudiff-run"),
                              fs::path("/proc/self/fd/run"), fs::path("/sys/mmudiff")}) {
    std::string why = refusal(bad);
    EXPECT_NE(why, "") << bad;
    EXPECT_EQ(why.rfind(bad.string(), 0), 0u) << why;
    EXPECT_EQ(why.find('\n'), std::string::npos) << why;
  }
  EXPECT_NE(refusal(file).find("not a directory"), std::string::npos);
}

}  // namespace
}  // namespace mmudiff::cli

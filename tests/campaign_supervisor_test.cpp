// SPDX-License-Identifier: GPL-2.0-only
// The engines die with the campaign (tools/mmudiff/campaign_supervisor.cpp): a stand-in campaign
// starts a stand-in engine in its own process group, which starts a child in a session of its
// own (as AFL++ starts its target) and a child in its group (as libFuzzer's fork mode does);
// the stand-in campaign then dies by SIGKILL, and both children must die with it -- even while
// a fork of the campaign (as its isolated replay) keeps the supervisor's pipe open.
#include "tools/mmudiff/campaign_supervisor.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "tests/temp_dir.h"

namespace mmudiff::cli {
namespace {

// Alive and not a zombie waiting for init to reap it.
bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  size_t paren = line.rfind(')');
  return paren != std::string::npos && line.size() > paren + 2 && line[paren + 2] != 'Z' &&
         line[paren + 2] != 'X';
}

bool dies_within(pid_t pid, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (alive(pid)) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

pid_t read_pid(const std::filesystem::path& file) {
  for (int i = 0; i < 100; ++i) {
    std::ifstream in(file);
    pid_t pid = 0;
    if (in >> pid && pid > 0) return pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return 0;
}

TEST(CampaignSupervisor, KillingTheCampaignKillsTheEnginesDescendantsInAnySession) {
  mmudiff::testing::TempDir dir;
  std::string script = "sleep 600 & echo $! > " + (dir / "in_group").string() +
                       "; setsid sleep 600 & echo $! > " + (dir / "own_session").string() +
                       "; wait";
  pid_t campaign = ::fork();
  ASSERT_GE(campaign, 0);
  if (campaign == 0) {
    EngineSupervisor supervisor;
    pid_t engine = ::fork();
    if (engine == 0) {
      ::setpgid(0, 0);
      ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::setpgid(engine, engine);
    supervisor.watch(engine);
    // As the campaign's isolated replay does: a fork without exec, which holds the write end
    // of the supervisor's pipe, so that the pipe does not close when the campaign dies.
    pid_t replay = ::fork();
    if (replay == 0) {
      ::pause();
      ::_exit(0);
    }
    std::ofstream(dir / "replay") << replay << "\n";
    ::pause();  // until the test kills it
    ::_exit(0);
  }
  pid_t in_group = read_pid(dir / "in_group");
  pid_t own_session = read_pid(dir / "own_session");
  pid_t replay = read_pid(dir / "replay");
  ASSERT_TRUE(in_group > 0 && alive(in_group));
  ASSERT_TRUE(own_session > 0 && alive(own_session));
  ASSERT_GT(replay, 0);
  // Give the supervisor time to see the children (it looks every few hundred milliseconds).
  std::this_thread::sleep_for(std::chrono::seconds(1));
  ::kill(campaign, SIGKILL);
  int status = 0;
  ::waitpid(campaign, &status, 0);
  bool group_died = dies_within(in_group, std::chrono::seconds(3));
  bool session_died = dies_within(own_session, std::chrono::seconds(3));
  EXPECT_TRUE(group_died) << "child in the engine's group";
  EXPECT_TRUE(session_died) << "child in its own session";
  // Nothing of this test may outlive it, pass or fail.
  ::kill(in_group, SIGKILL);
  ::kill(own_session, SIGKILL);
  ::kill(replay, SIGKILL);
}

TEST(CampaignSupervisor, AnEngineTheCampaignForgotIsLeftAlone) {
  pid_t bystander = ::fork();
  ASSERT_GE(bystander, 0);
  if (bystander == 0) {
    ::setpgid(0, 0);
    ::pause();
    ::_exit(0);
  }
  ::setpgid(bystander, bystander);
  {
    EngineSupervisor supervisor;
    supervisor.watch(bystander);
    supervisor.forget(bystander);
  }  // the supervisor has exited here
  EXPECT_TRUE(alive(bystander));
  ::kill(bystander, SIGKILL);
  int status = 0;
  ::waitpid(bystander, &status, 0);
}

}  // namespace
}  // namespace mmudiff::cli

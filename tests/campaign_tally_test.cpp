// SPDX-License-Identifier: GPL-2.0-only
// What a campaign says about its workers (tools/mmudiff/campaign_tally.cpp): executions summed
// per kind from each worker's own record, coverage and corpus the largest, a dead worker named.
#include "tools/mmudiff/campaign_tally.h"

#include <gtest/gtest.h>
#include <signal.h>

namespace mmudiff::cli {
namespace {

WorkerRecord worker(const char* name, const char* kind, uint64_t execs, uint64_t cov,
                    uint64_t corpus) {
  WorkerRecord r;
  r.name = name;
  r.kind = kind;
  r.take({execs, cov, corpus});
  return r;
}

TEST(CampaignTally, ExecutionsAreSummedPerKindCoverageAndCorpusAreTheLargest) {
  std::vector<WorkerRecord> records = {worker("main", "plain", 60000, 900, 500),
                                       worker("asan", "asan", 18000, 1100, 300),
                                       worker("s1", "plain", 40000, 950, 520)};
  Totals t = sum_records(records, 10);
  EXPECT_EQ(t.execs, 118000u);
  EXPECT_EQ(t.execs_by_kind.at("plain"), 100000u);
  EXPECT_EQ(t.execs_by_kind.at("asan"), 18000u);
  EXPECT_EQ(t.coverage, 1100u);
  EXPECT_EQ(t.corpus, 520u);
  EXPECT_EQ(sum_records(records, 700).corpus, 700u);
}

TEST(CampaignTally, AnOlderRecordReadLateNeverLowersTheCount) {
  WorkerRecord r = worker("plain", "plain", 5000, 800, 100);
  r.take({4000, 700, 90});
  EXPECT_EQ(r.progress.execs, 5000u);
  EXPECT_EQ(r.progress.coverage, 800u);
  EXPECT_EQ(r.progress.corpus, 100u);
}

TEST(CampaignTally, ADeadWorkerIsRecordedWithHowItEnded) {
  std::vector<WorkerRecord> records = {worker("main", "plain", 100, 1, 1),
                                       worker("asan", "asan", 0, 0, 0)};
  records[0].end(WorkerState::Finished, 40.04, 0);
  records[1].end(WorkerState::Died, 1.2, 1 << 8);  // exit status 1
  nlohmann::json j = workers_json(records);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["status"], "finished");
  EXPECT_EQ(j[0]["executions"], 100);
  EXPECT_TRUE(j[0]["exit"].is_null());
  EXPECT_EQ(j[1]["status"], "died");
  EXPECT_EQ(j[1]["kind"], "asan");
  EXPECT_EQ(j[1]["exit"], "exit 1");
  EXPECT_DOUBLE_EQ(j[1]["ended_after_s"].get<double>(), 1.2);
  records[1].end(WorkerState::Died, 2, SIGKILL);  // killed by a signal
  EXPECT_EQ(records[1].exit, "signal 9");
}

// A worker started again: every life's executions count, a late record of the dead life does not
// count twice, and run.json says when and how each earlier life ended.
TEST(CampaignTally, ARestartedWorkerCountsEveryLife) {
  WorkerRecord r = worker("asan", "asan", 700, 900, 40);
  r.pid = 1234;
  r.restart(14.04, SIGKILL, 2345);
  EXPECT_EQ(r.progress.execs, 700u);
  EXPECT_EQ(r.pid, 2345);
  EXPECT_EQ(r.state, WorkerState::Running);
  r.take({50, 300, 10});
  EXPECT_EQ(r.progress.execs, 750u);
  EXPECT_EQ(r.progress.coverage, 900u);  // the largest either life reached
  r.take({40, 200, 5});                  // older than the last record of this life
  EXPECT_EQ(r.progress.execs, 750u);
  r.restart(30, 1 << 8, 3456);
  r.take({5, 1, 1});
  EXPECT_EQ(r.progress.execs, 755u);
  nlohmann::json j = workers_json({r});
  EXPECT_EQ(j[0]["executions"], 755);
  EXPECT_EQ(j[0]["pid"], 3456);
  ASSERT_EQ(j[0]["restarts"].size(), 2u);
  EXPECT_DOUBLE_EQ(j[0]["restarts"][0]["after_s"].get<double>(), 14.0);
  EXPECT_EQ(j[0]["restarts"][0]["exit"], "signal 9");
  EXPECT_EQ(j[0]["restarts"][1]["exit"], "exit 1");
  r.end(WorkerState::Finished, 60, 0);
  j = workers_json({r});
  EXPECT_TRUE(j[0]["pid"].is_null());
  EXPECT_EQ(j[0]["status"], "finished");
  // A worker never restarted has no "restarts" (the schema's optional member).
  EXPECT_FALSE(workers_json({worker("main", "plain", 1, 1, 1)})[0].contains("restarts"));
}

}  // namespace
}  // namespace mmudiff::cli

// SPDX-License-Identifier: GPL-2.0-only
// What a campaign says about its workers: each one's latest record of its own (campaign_workers.h
// read_progress), whether it ran to its time or died, and the sums a user reads -- executions
// per worker kind ("plain", "asan") and in all; coverage and corpus as the largest any worker
// reached (the workers share their corpus: adding them would count the same inputs twice).
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/mmudiff/campaign_workers.h"

namespace mmudiff::cli {

enum class WorkerState { Running, Finished, Died };

// How a worker's process ended: "exit 1", "signal 9"; empty for a clean stop.
std::string describe_exit(int wait_status);

// A worker that died and was started again: when, and how it had ended.
struct WorkerDeath {
  double t = 0;
  std::string exit;
};

struct WorkerRecord {
  std::string name;
  std::string kind;
  WorkerProgress progress;  // every life's executions; coverage and corpus the largest
  WorkerState state = WorkerState::Running;
  double ended_t = 0;                 // seconds into the campaign, once it ended
  std::string exit;                   // how it ended: "exit 1", "signal 9"
  pid_t pid = -1;                     // the current life's process (and group), while it runs
  std::vector<WorkerDeath> restarts;  // earlier lives that died

  // Takes a newer record of the current life (one that counts less is an older one, read late).
  void take(const WorkerProgress& p);
  // The worker's process ended with wait status `status`.
  void end(WorkerState s, double t, int status);
  // The current life died at `t` with wait status `status`, and a new one starts from zero:
  // what the dead one ran stays counted.
  void restart(double t, int status, pid_t new_pid);

 private:
  WorkerProgress earlier_;  // the lives before the current one
  WorkerProgress life_;     // the current life's latest record
};

struct Totals {
  uint64_t execs = 0;
  std::map<std::string, uint64_t> execs_by_kind;  // every kind with a worker, even at 0
  uint64_t coverage = 0;
  uint64_t corpus = 0;
};

// `corpus_files`: what the run's corpus/ holds now (libFuzzer merges into it as it goes).
Totals sum_records(const std::vector<WorkerRecord>& records, uint64_t corpus_files);

// run.json's "workers": [{"name", "kind", "status": running|finished|died, "executions",
// "pid", "ended_after_s", "exit", "restarts": [{"after_s", "exit"}]}].
nlohmann::json workers_json(const std::vector<WorkerRecord>& records);

}  // namespace mmudiff::cli

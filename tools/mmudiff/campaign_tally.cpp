// SPDX-License-Identifier: GPL-2.0-only
#include "tools/mmudiff/campaign_tally.h"

#include <sys/wait.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace mmudiff::cli {

std::string describe_exit(int wait_status) {
  if (wait_status == 0) return "";  // stopped by the campaign, or at its time: nothing to say
  if (WIFEXITED(wait_status)) return fmt::format("exit {}", WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) return fmt::format("signal {}", WTERMSIG(wait_status));
  return fmt::format("wait status {:#x}", wait_status);
}

void WorkerRecord::take(const WorkerProgress& p) {
  life_.execs = std::max(life_.execs, p.execs);
  life_.coverage = std::max(life_.coverage, p.coverage);
  life_.corpus = std::max(life_.corpus, p.corpus);
  progress.execs = earlier_.execs + life_.execs;
  progress.coverage = std::max(earlier_.coverage, life_.coverage);
  progress.corpus = std::max(earlier_.corpus, life_.corpus);
}

void WorkerRecord::end(WorkerState s, double t, int status) {
  state = s;
  ended_t = t;
  exit = describe_exit(status);
  pid = -1;
}

void WorkerRecord::restart(double t, int status, pid_t new_pid) {
  restarts.push_back({t, describe_exit(status)});
  earlier_ = progress;
  life_ = {};
  pid = new_pid;
  state = WorkerState::Running;
}

Totals sum_records(const std::vector<WorkerRecord>& records, uint64_t corpus_files) {
  Totals t;
  t.corpus = corpus_files;
  for (const WorkerRecord& r : records) {
    t.execs += r.progress.execs;
    t.execs_by_kind[r.kind] += r.progress.execs;
    t.coverage = std::max(t.coverage, r.progress.coverage);
    t.corpus = std::max(t.corpus, r.progress.corpus);
  }
  return t;
}

nlohmann::json workers_json(const std::vector<WorkerRecord>& records) {
  nlohmann::json out = nlohmann::json::array();
  for (const WorkerRecord& r : records) {
    const char* status = r.state == WorkerState::Running    ? "running"
                         : r.state == WorkerState::Finished ? "finished"
                                                            : "died";
    out.push_back({{"name", r.name},
                   {"kind", r.kind},
                   {"status", status},
                   {"executions", r.progress.execs},
                   {"pid", r.pid > 0 ? nlohmann::json(r.pid) : nlohmann::json(nullptr)},
                   {"ended_after_s", r.state == WorkerState::Running
                                         ? nlohmann::json(nullptr)
                                         : nlohmann::json(std::round(r.ended_t * 10) / 10)},
                   {"exit", r.exit.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.exit)}});
    if (!r.restarts.empty()) {
      nlohmann::json deaths = nlohmann::json::array();
      for (const WorkerDeath& d : r.restarts)
        deaths.push_back({{"after_s", std::round(d.t * 10) / 10}, {"exit", d.exit}});
      out.back()["restarts"] = deaths;
    }
  }
  return out;
}

}  // namespace mmudiff::cli

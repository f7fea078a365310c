// SPDX-License-Identifier: GPL-2.0-only
#include "tools/mmudiff/campaign_tally.h"

#include <sys/wait.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace mmudiff::cli {

void WorkerRecord::take(const WorkerProgress& p) {
  progress.execs = std::max(progress.execs, p.execs);
  progress.coverage = std::max(progress.coverage, p.coverage);
  progress.corpus = std::max(progress.corpus, p.corpus);
}

void WorkerRecord::end(WorkerState s, double t, int status) {
  state = s;
  ended_t = t;
  if (status == 0)  // stopped by the campaign, or at its time: nothing to say
    exit.clear();
  else if (WIFEXITED(status))
    exit = fmt::format("exit {}", WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    exit = fmt::format("signal {}", WTERMSIG(status));
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
                   {"ended_after_s", r.state == WorkerState::Running
                                         ? nlohmann::json(nullptr)
                                         : nlohmann::json(std::round(r.ended_t * 10) / 10)},
                   {"exit", r.exit.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.exit)}});
  }
  return out;
}

}  // namespace mmudiff::cli

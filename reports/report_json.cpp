// SPDX-License-Identifier: GPL-2.0-only
#include "reports/report_json.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "reports/run_dir.h"

namespace mmudiff {

using nlohmann::json;

std::string group_thousands(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

namespace {

json progress_summary(const std::vector<json>& samples) {
  if (samples.empty()) return nullptr;
  const json& last = samples.back();
  double peak = 0;
  for (const auto& s : samples) peak = std::max(peak, s["execs_per_s"].get<double>());
  // Thinned evenly so a week-long campaign's report stays small; first and last always kept.
  constexpr size_t kMaxSeries = 1000;
  json series = json::array();
  if (samples.size() <= kMaxSeries) {
    for (const auto& s : samples) series.push_back(s);
  } else {
    for (size_t k = 0; k < kMaxSeries; ++k)
      series.push_back(samples[k * (samples.size() - 1) / (kMaxSeries - 1)]);
  }
  json summary = {
      {"samples", samples.size()}, {"duration_s", last["t"]},      {"execs", last["execs"]},
      {"peak_execs_per_s", peak},  {"coverage", last["coverage"]}, {"corpus", last["corpus"]},
      {"series", series}};
  // The throughput a user compares engines and builds by: each worker kind's executions over the
  // campaign's elapsed time, as of the last sample.
  if (last.contains("by_kind")) summary["by_kind"] = last["by_kind"];
  return summary;
}

// What the loader could not read, then what the replay could not (exercised.json's list, absent
// from files written before it was kept).
json skipped_json(const LoadedRun& run, const json& exercised) {
  json list = json::array();
  for (const auto& s : run.skipped) list.push_back({{"path", s.path}, {"reason", s.reason}});
  for (const auto& s : exercised.value("unreadable", json::array())) list.push_back(s);
  return list;
}

}  // namespace

json report_verdict(const LoadedRun& run, const json& exercised) {
  uint64_t sequences = run.run.value("executions", uint64_t{0});
  if (sequences == 0) sequences = exercised["sequences"].get<uint64_t>();
  std::set<std::string> classes;
  for (const auto& f : run.findings) classes.insert(f.finding["class"].get<std::string>());
  // A finding directory cut short by a stop is still a divergence, of a class we cannot tell.
  size_t read = run.findings.size() + run.incomplete_findings.size();
  // run.json's count is what the run found; a finding the report cannot read (its directory
  // gone or replaced) still counts. run.json lags while a run is going, so the larger wins.
  size_t recorded = run.run.value("findings", size_t{0});
  size_t divergences = std::max(read + run.unreadable_findings, recorded);
  size_t unread = divergences - read;
  bool equivalent = divergences == 0;
  const char* plural = sequences == 1 ? "" : "s";
  std::string line =
      equivalent
          ? fmt::format("equivalent on {} sequence{} tested", group_thousands(sequences), plural)
          : fmt::format("{} divergence{}{} on {} sequence{} tested", divergences,
                        divergences == 1 ? "" : "s",
                        classes.empty() ? std::string()
                                        : fmt::format(" in {} class{}", classes.size(),
                                                      classes.size() == 1 ? "" : "es"),
                        group_thousands(sequences), plural);
  if (unread)
    line += fmt::format(" ({} recorded in run.json could not be read: see skipped)", unread);
  json verdict = {{"equivalent", equivalent},
                  {"sequences", sequences},
                  {"divergences", divergences},
                  {"classes", classes.size()},
                  {"unread", unread}};
  if (run.proofs) {
    // What was proved, beside what was tested: the proofs hold for every input, of the backends
    // (and the model) they name.
    const json& s = (*run.proofs)["summary"];
    uint64_t proved = s["proved"], failed = s["failed"], unknown = s["unknown"];
    std::vector<std::string> subjects;
    for (const auto& p : (*run.proofs)["proofs"]) {
      std::string backend = p["backend"];
      if (std::find(subjects.begin(), subjects.end(), backend) == subjects.end())
        subjects.push_back(backend);
    }
    verdict["proved"] = proved;
    verdict["proofs_failed"] = failed;
    line += fmt::format("; {} of {} properties proved for all inputs", proved,
                        proved + failed + unknown);
    if (!subjects.empty()) line += fmt::format(" ({})", fmt::join(subjects, ", "));
    if (failed) line += fmt::format(", {} failed", failed);
    if (unknown) line += fmt::format(", {} undecided", unknown);
  }
  std::string status = run.run["status"];
  if (status == "interrupted")
    line += " (the run was interrupted)";
  else if (status == "running")
    line += " (the run has not finished: still running, or stopped without a word)";
  verdict["line"] = line;
  return verdict;
}

json build_report(const LoadedRun& run, const json& exercised) {
  // Most severe class first, as verdict.h orders them; by signature within a class.
  auto rank = [](const json& finding) {
    static const std::vector<std::string> order = {"security", "functional", "hardware-effects",
                                                   "structural-only"};
    return std::find(order.begin(), order.end(), finding["class"].get<std::string>()) -
           order.begin();
  };
  std::vector<const LoadedFinding*> sorted;
  for (const auto& f : run.findings) sorted.push_back(&f);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [&](const LoadedFinding* a, const LoadedFinding* b) {
                     return rank(a->finding) < rank(b->finding);
                   });
  json findings = json::array();
  for (const LoadedFinding* p : sorted) {
    const LoadedFinding& f = *p;
    findings.push_back({{"dir", f.dir},
                        {"finding", f.finding},
                        {"reproducer", f.reproducer ? json(*f.reproducer) : json(nullptr)},
                        {"input", f.input ? json(*f.input) : json(nullptr)}});
  }
  return {{"schema", "mmudiff/report-1"},
          {"generated", rundir::utc_timestamp(std::chrono::system_clock::now())},
          {"tool", rundir::tool_json()},
          {"run", run.run},
          {"progress", progress_summary(run.progress)},
          {"exercised", exercised},
          {"findings", findings},
          {"incomplete_findings", run.incomplete_findings},
          {"skipped", skipped_json(run, exercised)},
          {"proofs", run.proofs ? *run.proofs : json(nullptr)},
          {"coverage", run.coverage ? *run.coverage : json(nullptr)},
          {"semdiff", run.semdiff ? *run.semdiff : json(nullptr)},
          {"verdict", report_verdict(run, exercised)}};
}

}  // namespace mmudiff

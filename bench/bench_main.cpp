// SPDX-License-Identifier: GPL-2.0-only
// mmudiff_bench's main: Google Benchmark's, then the ratios the run's times give
// (bench/bench_ratios.h).
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "bench/bench_ratios.h"

namespace {

// The console output as usual, and each benchmark's CPU time per iteration kept for the ratios:
// the median where repetitions give one, else the mean of what ran. CPU time, not real time: the
// benchmarks run on one thread, and on a shared machine real time counts the time others had the
// core (seen here: 0.69 ms real for 0.34 ms CPU per stream while a build ran).
class KeepTimes : public benchmark::ConsoleReporter {
 public:
  // Colour only on a terminal, as Google Benchmark's own console reporter does.
  KeepTimes() : ConsoleReporter(::isatty(::fileno(stdout)) ? OO_Color : OO_None) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.error_occurred) continue;
      std::string name = r.run_name.function_name;
      if (!r.run_name.args.empty()) name += "/" + r.run_name.args;
      const double seconds = r.GetAdjustedCPUTime() / benchmark::GetTimeUnitMultiplier(r.time_unit);
      if (r.run_type == Run::RT_Aggregate) {
        if (r.aggregate_name == "median") medians_[name] = seconds;
      } else {
        auto& [sum, n] = sums_[name];
        sum += seconds;
        ++n;
      }
    }
  }

  std::map<std::string, double> seconds() const {
    std::map<std::string, double> out;
    for (const auto& [name, sum_n] : sums_) out[name] = sum_n.first / double(sum_n.second);
    for (const auto& [name, median] : medians_) out[name] = median;
    return out;
  }

 private:
  std::map<std::string, std::pair<double, int>> sums_;
  std::map<std::string, double> medians_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  KeepTimes reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const auto ratios = mmudiff::bench::bench_ratios(reporter.seconds());
  if (!ratios.empty())
    std::printf("\nRatios from this run (CPU time; bench/ir_ratio.sh counts instructions):\n");
  for (const auto& r : ratios) std::printf("%s\n", mmudiff::bench::format_ratio(r).c_str());
  benchmark::Shutdown();
  return 0;
}

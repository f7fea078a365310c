// SPDX-License-Identifier: GPL-2.0-only
// The ratios mmudiff_bench's benchmarks exist to give, computed from one run's times so nobody
// has to divide by hand (or compare numbers from two runs): each with what it divides and the
// target issue 17 set, where it set one. A ratio whose benchmarks did not run (filtered out) is
// left out.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mmudiff::bench {

struct BenchRatio {
  std::string what;     // "oracle overhead"
  std::string formula;  // which benchmarks, how
  double value;
  std::optional<double> at_most;  // the target, where there is one
};

// seconds: each benchmark's time per iteration, by name as `--benchmark_filter` matches it
// without the "/iterations:N" or repetition suffixes ("BM_Harness/all",
// "BM_EveryOpRun/mode:1/mib:1024/ops:272").
std::vector<BenchRatio> bench_ratios(const std::map<std::string, double>& seconds);

std::string format_ratio(const BenchRatio& r);

}  // namespace mmudiff::bench

// SPDX-License-Identifier: GPL-2.0-only
#include "bench/bench_ratios.h"

#include <fmt/format.h>

#include "bench/streams64.h"

namespace mmudiff::bench {

namespace {

// What BM_EveryOpRun's stream of `mib` MiB takes per check after one small operation: the runs
// with 272 and 16 small operations differ by 256 operations and their checks, and the same
// difference without per-operation checks (mode 0) takes the operations themselves out.
std::optional<double> every_op_check(const std::map<std::string, double>& s, int mib) {
  auto t = [&](int mode, int ops) -> std::optional<double> {
    auto it = s.find(fmt::format("BM_EveryOpRun/mode:{}/mib:{}/ops:{}", mode, mib, ops));
    if (it == s.end()) return std::nullopt;
    return it->second;
  };
  auto a = t(1, 272), b = t(1, 16), c = t(0, 272), d = t(0, 16);
  if (!a || !b || !c || !d) return std::nullopt;
  return (*a - *b - (*c - *d)) / 256;
}

}  // namespace

std::vector<BenchRatio> bench_ratios(const std::map<std::string, double>& s) {
  std::vector<BenchRatio> out;
  auto both = [&](const char* a, const char* b, auto&& add) {
    auto ia = s.find(a), ib = s.find(b);
    if (ia != s.end() && ib != s.end() && ib->second > 0) add(ia->second, ib->second);
  };
  both("BM_Harness/all", "BM_BackendsOnly/all", [&](double h, double b) {
    out.push_back({"oracle overhead", "BM_Harness/all / BM_BackendsOnly/all", h / b, 1.5});
  });
  // Per operation, the longest streams against the shortest, on each side.
  for (const char* side : {"BM_HarnessByLength", "BM_BackendsOnlyByLength"}) {
    const std::string shortest = fmt::format("{}/segments:1", side);
    const std::string longest = fmt::format("{}/segments:64", side);
    both(longest.c_str(), shortest.c_str(), [&](double l, double sh) {
      out.push_back(
          {fmt::format("per-operation cost, {}-operation streams against {}, {}", 64 * kSegmentOps,
                       kSegmentOps,
                       side == std::string_view("BM_HarnessByLength") ? "harness with every oracle"
                                                                      : "backends alone"),
           fmt::format("({} / 64) / {}", longest, shortest), l / 64 / sh, std::nullopt});
    });
  }
  auto big = every_op_check(s, 1024), small = every_op_check(s, 2);
  if (big && small && *small > 0)
    out.push_back({"--every-op check per operation, 1 GiB table against a near-empty one",
                   "BM_EveryOpRun per-check time (see oracles_bench.cpp), mib:1024 / mib:2",
                   *big / *small, 2.0});
  both("BM_MaskedHashTree_1GiB", "BM_PlainSipHash_sameBytes", [&](double m, double p) {
    out.push_back({"masked hash tree against plain SipHash over the same bytes",
                   "BM_MaskedHashTree_1GiB / BM_PlainSipHash_sameBytes", m / p, std::nullopt});
  });
  both("BM_HashCheckPerOp_1GiB/cache:0", "BM_HashCheckPerOp_1GiB/cache:1", [&](double w, double c) {
    out.push_back({"hash cache gain per operation on a 1 GiB table",
                   "BM_HashCheckPerOp_1GiB/cache:0 / cache:1", w / c, std::nullopt});
  });
  return out;
}

std::string format_ratio(const BenchRatio& r) {
  std::string target;
  if (r.at_most)
    target = fmt::format("  (target <= {:g}: {})", *r.at_most,
                         r.value <= *r.at_most ? "met" : "NOT met");
  return fmt::format("{:.2f}x  {}{}\n       = {}", r.value, r.what, target, r.formula);
}

}  // namespace mmudiff::bench

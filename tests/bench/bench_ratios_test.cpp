// SPDX-License-Identifier: GPL-2.0-only
#include "bench/bench_ratios.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <map>
#include <string>

namespace mmudiff::bench {
namespace {

const BenchRatio* find(const std::vector<BenchRatio>& rs, const std::string& what_starts) {
  for (const auto& r : rs)
    if (r.what.rfind(what_starts, 0) == 0) return &r;
  return nullptr;
}

TEST(BenchRatios, OracleOverheadIsTheHarnessOverTheBackendsAlone) {
  auto rs = bench_ratios({{"BM_Harness/all", 3e-3}, {"BM_BackendsOnly/all", 2e-3}});
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_DOUBLE_EQ(rs[0].value, 1.5);
  ASSERT_TRUE(rs[0].at_most);
  EXPECT_NE(format_ratio(rs[0]).find("met"), std::string::npos);
  EXPECT_EQ(format_ratio(rs[0]).find("NOT met"), std::string::npos);
  rs = bench_ratios({{"BM_Harness/all", 3.1e-3}, {"BM_BackendsOnly/all", 2e-3}});
  EXPECT_NE(format_ratio(rs.at(0)).find("NOT met"), std::string::npos);
}

TEST(BenchRatios, EveryOpCheckTakesTheOperationsThemselvesOut) {
  std::map<std::string, double> s;
  // Per small operation: 1 us to run it everywhere; the check 10 us near-empty, 19 us on 1 GiB.
  // The big map and the final check (the ops:16 runs' times) differ by table size.
  for (int mib : {2, 1024}) {
    const double fixed = mib == 2 ? 1e-3 : 2.0;
    const double check = mib == 2 ? 10e-6 : 19e-6;
    for (int ops : {16, 272}) {
      s[fmt::format("BM_EveryOpRun/mode:0/mib:{}/ops:{}", mib, ops)] = fixed + ops * 1e-6;
      s[fmt::format("BM_EveryOpRun/mode:1/mib:{}/ops:{}", mib, ops)] =
          fixed + 5e-3 + ops * (1e-6 + check);
    }
  }
  auto rs = bench_ratios(s);
  const BenchRatio* r = find(rs, "--every-op");
  ASSERT_NE(r, nullptr);
  EXPECT_NEAR(r->value, 1.9, 1e-9);
  s.erase("BM_EveryOpRun/mode:0/mib:2/ops:16");
  EXPECT_EQ(find(bench_ratios(s), "--every-op"), nullptr);  // not all four ran: no ratio
}

TEST(BenchRatios, PerOperationCostByLengthDividesByTheSegments) {
  auto rs = bench_ratios({{"BM_HarnessByLength/segments:1", 1e-3},
                          {"BM_HarnessByLength/segments:64", 80e-3},
                          {"BM_BackendsOnlyByLength/segments:64", 64e-3}});
  ASSERT_EQ(rs.size(), 1u);  // the backends alone lack segments:1
  EXPECT_DOUBLE_EQ(rs[0].value, 1.25);
  EXPECT_NE(rs[0].formula.find("BM_HarnessByLength"), std::string::npos);
}

TEST(BenchRatios, NothingRanNothingSaid) {
  EXPECT_TRUE(bench_ratios({}).empty());
  EXPECT_TRUE(bench_ratios({{"BM_Harness/all", 1.0}, {"BM_BackendsOnly/all", 0.0}}).empty());
}

}  // namespace
}  // namespace mmudiff::bench

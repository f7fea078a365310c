// SPDX-License-Identifier: GPL-2.0-only
// The bundled streams, replayed through every backend in this build:
//  - corpus/seeds/*.mmu must be equivalent everywhere;
//  - corpus/regressions/*.mmu carry their expected verdict in a "# expect: ..." line, either
//    "equivalent" or a finding signature prefix such as "functional/return-codes"; optionally
//    "# backends: a,b" (only those) and "# plant: NAME" (a planted bug from mmu/plants.h). A
//    file with a plant must also be equivalent without it: the finding is the bug's alone.
//    "# sanitizer: TEXT" says that under ASan the replay dies with a report containing TEXT
//    instead: freed table pages are poisoned, so ASan stops a backend at its first touch of one
//    before the memory oracle can see the poison overwritten. "# isolate: yes" replays in a child
//    process (oracles/isolated_run.h), for a file on which a backend crashes or never returns:
//    that is then its finding, and this test process lives on.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "mmu/ops/text_format.h"
#include "oracles/harness.h"
#include "oracles/isolated_run.h"
#include "tests/corpus_directive.h"
#include "tests/files.h"
#include "tests/findings_text.h"
#include "tests/sanitizer_scale.h"

namespace {

namespace fs = std::filesystem;
using namespace mmudiff;
using mmudiff::testing::describe_findings;
using mmudiff::testing::directive;
using mmudiff::testing::slurp;

std::vector<std::string> mmu_files(const char* dir) {
  std::vector<std::string> out;
  fs::path d = fs::path(MMUDIFF_SOURCE_DIR) / dir;
  if (!fs::exists(d)) return out;
  for (const auto& e : fs::directory_iterator(d))
    if (e.path().extension() == ".mmu") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

class Seeds : public ::testing::TestWithParam<std::string> {};

TEST_P(Seeds, AreEquivalentOnEveryBackend) {
  std::string text = slurp(GetParam());
  Stream stream = parse_text(text, GetParam());
  ASSERT_FALSE(stream.empty());
  HarnessOptions options;
  options.check_every_op = true;
  StreamReport r = run_stream(stream, options);
  EXPECT_FALSE(r.bound_reached);
  EXPECT_TRUE(r.findings.empty()) << describe_findings(r);
}

INSTANTIATE_TEST_SUITE_P(Corpus, Seeds, ::testing::ValuesIn(mmu_files("corpus/seeds")),
                         [](const auto& info) {
                           std::string n = fs::path(info.param).stem().string();
                           for (auto& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(SeedCorpus, IsNotEmpty) {
  EXPECT_GE(mmu_files("corpus/seeds").size(), 5u);
}

void expect_verdict(const StreamReport& r, const std::string& expect, const PlantInfo* planted) {
  if (expect == "equivalent") {
    EXPECT_TRUE(r.equivalent()) << describe_findings(r);
    return;
  }
  ASSERT_FALSE(r.findings.empty()) << "expected " << expect;
  EXPECT_EQ(r.worst()->signature().rfind(expect, 0), 0u) << describe_findings(r);
  // The finding blames the backend that carries the bug: by name, or in its summary (the
  // return-codes oracle's says only that the backends disagree).
  if (planted) {
    EXPECT_TRUE(r.worst()->backend == planted->backend ||
                r.worst()->summary.find(planted->backend) != std::string::npos)
        << describe_findings(r);
  }
}

class Regressions : public ::testing::TestWithParam<std::string> {};

TEST_P(Regressions, ReplayToTheirExpectedVerdict) {
  std::string text = slurp(GetParam());
  std::string expect = directive(text, "expect");
  ASSERT_FALSE(expect.empty()) << GetParam() << " has no '# expect:' line";
  // As mmudiff repro replays them: tables compared after every operation, stopping at the first
  // divergence, so "# expect:" is the verdict repro and minimize report.
  HarnessOptions options;
  options.check_every_op = true;
  const PlantInfo* planted = nullptr;
  std::string backends = directive(text, "backends");
  if (!backends.empty()) {
    std::stringstream ss(backends);
    for (std::string b; std::getline(ss, b, ',');) {
      if (!find_backend(b)) GTEST_SKIP() << "backend " << b << " is not in this build";
      options.backends.push_back(b);
    }
  }
  std::string plant = directive(text, "plant");
  if (!plant.empty()) {
    planted = find_plant(plant);
    ASSERT_NE(planted, nullptr) << GetParam() << ": unknown plant " << plant;
    ASSERT_NE(expect, "equivalent")
        << GetParam() << ": a plant that changes nothing proves nothing";
    options.plant = planted->id;
  }
  Stream stream = parse_text(text, GetParam());
  // A hang is found after the timeout: a short one keeps the test quick.
  IsolationOptions isolation;
  isolation.op_timeout_seconds = 1.0;
  auto replay = [&](const HarnessOptions& o) {
    return directive(text, "isolate") == "yes" ? run_isolated(stream, o, isolation).report
                                               : run_stream(stream, o);
  };
  std::string sanitizer_report = directive(text, "sanitizer");
  if (mmudiff::testing::kSanitized && !sanitizer_report.empty()) {
    EXPECT_DEATH(run_stream(stream, options), sanitizer_report);
  } else {
    expect_verdict(replay(options), expect, planted);
  }
  if (planted) {
    options.plant = Plant::kNone;
    StreamReport clean = replay(options);
    EXPECT_TRUE(clean.equivalent()) << "without plant " << plant << ":\n"
                                    << describe_findings(clean);
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, Regressions, ::testing::ValuesIn(mmu_files("corpus/regressions")),
                         [](const auto& info) {
                           std::string n = fs::path(info.param).stem().string();
                           for (auto& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Regressions);

}  // namespace

// SPDX-License-Identifier: GPL-2.0-only
// What a report says was exercised is counted from real replays: operations by kind, return
// codes, and the final tables' descriptors by level and leaf size. Also the pieces of report.json
// and report.html that do not need the binary: reading a run directory back (what an interrupted
// run leaves is tolerated, corruption is named), the verdict line, escaping.

#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "mmu/ops/binary_format.h"
#include "mmu/ops/text_format.h"
#include "reports/exercised.h"
#include "reports/json_schema.h"
#include "reports/report_html.h"
#include "reports/report_json.h"
#include "reports/run_dir.h"
#include "reports/run_dir_load.h"
#include "reports/run_recorder.h"
#include "tests/sanitizer_scale.h"
#include "tests/temp_dir.h"

namespace mmudiff {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using mmudiff::testing::TempDir;

const Stream kBlockAndPage = parse_text(
    "init ia=40\n"
    "map 0x40000000 2M pa=0x80000000 prot=rw\n"  // an L2 block
    "map 0x80000000 4K pa=0x1000 prot=r\n"       // an L3 page, under new L1/L2 tables
    "map 0x20000000000 4K pa=0x2000 prot=r\n"    // above the 40-bit IPA space: -ERANGE
    "get_leaf 0x40000000\n",
    "block_and_page");

const json* level(const json& exercised, unsigned l) {
  for (const auto& e : exercised["levels"])
    if (e["level"] == l) return &e;
  return nullptr;
}

TEST(Exercised, CountsOperationsReturnCodesAndFinalDescriptorsOfOneStream) {
  ExercisedTally tally({"walker", "legacy"});
  tally.replay(kBlockAndPage, HarnessOptions{});
  json x = tally.to_json(1, 0, 1.0);
  EXPECT_TRUE(schema::builtin_schemas().validate(x, schema::kExercised).empty());
  EXPECT_EQ(x["tables_of"], "walker");
  EXPECT_EQ(x["sequences"], 1);
  EXPECT_EQ(x["operations"], 5);
  EXPECT_EQ(x["ops_by_kind"]["map"], 3);
  EXPECT_EQ(x["ops_by_kind"]["get_leaf"], 1);
  EXPECT_EQ(x["ops_by_kind"]["unmap"], 0);
  EXPECT_EQ(x["return_codes"]["map"]["0"], 2);
  EXPECT_EQ(x["return_codes"]["map"]["-34"], 1);
  ASSERT_NE(level(x, 2), nullptr);
  EXPECT_EQ((*level(x, 2))["blocks"], 1);
  EXPECT_EQ((*level(x, 2))["tables"], 1);  // the table under which the page lives
  EXPECT_EQ((*level(x, 3))["pages"], 1);
  EXPECT_EQ((*level(x, 1))["blocks"], 0);
  std::map<std::string, uint64_t> by_size;
  for (const auto& z : x["leaf_sizes"]) by_size[z["label"]] = z["count"];
  EXPECT_EQ(by_size, (std::map<std::string, uint64_t>{{"1G", 0}, {"2M", 1}, {"4K", 1}}));
}

// arm64-6.12's own operations have keys of their own: arm64's split apart from x86's, and
// test_clear_young with its answers (1 young, 0 old) among the return codes.
TEST(Exercised, Arm64_612OperationsAreKeyedApart) {
  ExercisedTally tally({"linux612", "walker"});
  tally.replay(parse_text("init kernel=6.12\n"
                          "map 0x40000000 2M pa=0x80000000 prot=rw flags=shared,fault\n"
                          "test_clear_young 0x40000000 2M mkold=1\n"
                          "test_clear_young 0x40000000 2M\n"
                          "split 0x40000000 2M mc=1\n",
                          "612"),
               HarnessOptions{});
  json x = tally.to_json(1, 0, 1.0);
  EXPECT_TRUE(schema::builtin_schemas().validate(x, schema::kExercised).empty());
  EXPECT_EQ(x["ops_by_kind"]["test_clear_young"], 2);
  EXPECT_EQ(x["return_codes"]["test_clear_young"]["1"], 1);
  EXPECT_EQ(x["return_codes"]["test_clear_young"]["0"], 1);
  EXPECT_EQ(x["ops_by_kind"]["split (arm64-6.12)"], 1);
  EXPECT_EQ(x["ops_by_kind"]["split"], 0);
}

TEST(Exercised, SumsOverStreamsAndCountsRefusedOnesApart) {
  ExercisedTally tally({"walker"});
  tally.replay(kBlockAndPage, HarnessOptions{});
  tally.replay(kBlockAndPage, HarnessOptions{});
  HarnessOptions tight;
  tight.limits.max_pages = 2;  // the first map needs more table pages than that
  tally.replay(kBlockAndPage, tight);
  json x = tally.to_json(3, 0, 1.0);
  EXPECT_EQ(x["sequences"], 3);
  EXPECT_EQ(x["refused"], 1);
  EXPECT_EQ(x["ops_by_kind"]["map"], 6);
  EXPECT_EQ((*level(x, 3))["pages"], 2);
}

// A stream whose replay runs out of the child's memory (a million pages mapped: the backends
// stay within their bound, the oracles' model of them does not) is refused; no counts come back
// from it, and the tally goes on. A campaign's corpus held this one, and its report stopped on
// the counts it tried to read.
TEST(Exercised, CountsAStreamThatExhaustsTheReplaysMemoryAsRefused) {
  if (mmudiff::testing::kSanitized)
    GTEST_SKIP() << "a replay's child has no memory limit under ASan";
  ExercisedTally tally({"walker", "legacy"});
  tally.replay(parse_text("init ia=32\n"
                          "map 0x1 4G pa=0x1000 prot=- sw=8 mc=4096\n",
                          "huge"),
               HarnessOptions{});
  tally.replay(kBlockAndPage, HarnessOptions{});
  json x = tally.to_json(2, 0, 1.0);
  EXPECT_EQ(x["sequences"], 2);
  EXPECT_EQ(x["refused"], 1);
  EXPECT_EQ((*level(x, 3))["pages"], 1);  // the second stream's alone
}

// A stream on which a backend hangs (or crashes) is counted as such and with the findings; it
// tells nothing about operations or tables, and the tally goes on with the next one.
TEST(Exercised, CountsAStreamThatHangsABackendAndGoesOn) {
  ExercisedTally tally({"walker", "legacy"});
  HarnessOptions hang;
  hang.plant = Plant::kLegacyUnmapNeverReturns;
  IsolationOptions quick;
  quick.op_timeout_seconds = 0.3;
  tally.replay(parse_text("map 0x40200000 4K pa=0x80200000 prot=rw mc=8\n"
                          "unmap 0x40200000 4M\n",
                          "hangs"),
               hang, quick);
  tally.replay(kBlockAndPage, HarnessOptions{}, quick);
  json x = tally.to_json(2, 0, 1.0);
  EXPECT_TRUE(schema::builtin_schemas().validate(x, schema::kExercised).empty());
  EXPECT_EQ(x["sequences"], 2);
  EXPECT_EQ(x["crashed"], 1);
  EXPECT_EQ(x["with_findings"], 1);
  EXPECT_EQ(x["operations"], 5);  // the second stream's alone
  EXPECT_EQ(x["ops_by_kind"]["unmap"], 0);
  EXPECT_EQ((*level(x, 3))["pages"], 1);
}

TEST(Exercised, ComputedFromARunDirectoryReplaysCorpusAndFindingInputs) {
  const TempDir dir;
  fs::create_directories(dir / "corpus/queue/.state");
  fs::create_directories(dir / "findings/some-finding");
  auto put = [](const fs::path& p, const Stream& s) {
    std::vector<uint8_t> b = encode_binary(s);
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), b.size());
  };
  put(dir / "corpus/a", kBlockAndPage);
  put(dir / "corpus/queue/b", kBlockAndPage);
  put(dir / "corpus/queue/.state/ignored", kBlockAndPage);  // engine state, not a stream
  put(dir / "corpus/c.tmp", kBlockAndPage);                 // a write in progress
  put(dir / "findings/some-finding/input.bin", kBlockAndPage);
  HarnessOptions o;
  o.backends = {"walker"};
  json x = compute_exercised(dir.path(), o);
  EXPECT_EQ(x["sources"]["corpus"], 2);
  EXPECT_EQ(x["sources"]["findings"], 1);
  EXPECT_EQ(x["sequences"], 3);
  EXPECT_EQ(x["ops_by_kind"]["map"], 9);
}

// A run directory as RunRecorder writes it in scratch, over the given streams.
fs::path recorded_run(const TempDir& scratch, const std::vector<Stream>& streams, Plant plant) {
  fs::path dir = scratch / "run";
  HarnessOptions o;
  o.plant = plant;
  RunRecorder rec(dir, "run", o, {"a.mmu"});
  for (const auto& s : streams) rec.add("a.mmu", s, run_stream(s, o));
  rec.finish();
  return dir;
}

TEST(RunDirLoad, RecordedRunLoadsAndGivesTheVerdict) {
  const TempDir scratch;
  fs::path dir = recorded_run(scratch, {kBlockAndPage, kBlockAndPage}, Plant::kNone);
  LoadedRun run = load_run_dir(dir);
  EXPECT_EQ(run.run["status"], "finished");
  EXPECT_EQ(run.run["executions"], 2);
  EXPECT_TRUE(run.findings.empty());
  EXPECT_FALSE(run.exercised.has_value());
  json x = compute_exercised(dir, HarnessOptions{});
  json verdict = report_verdict(run, x);
  EXPECT_EQ(verdict["line"], "equivalent on 2 sequences tested");
  EXPECT_TRUE(verdict["equivalent"].get<bool>());
  json report = build_report(run, x);
  EXPECT_TRUE(schema::builtin_schemas().validate(report, schema::kReport).empty());
}

TEST(RunDirLoad, PlantedBugGivesFindingsWithReproducersAndADivergentVerdict) {
  // The walker's PA cursor steps a page per leaf: the second 2 MiB block of a 4 MiB map points
  // at the wrong frame.
  Stream s =
      parse_text("map 0x200000000 4M pa=0x100200000 prot=rw\nget_leaf 0x200200000\n", "drift");
  const TempDir scratch;
  fs::path dir = recorded_run(scratch, {s, s}, Plant::kWalkerPaCursorDrift);
  LoadedRun run = load_run_dir(dir);
  ASSERT_FALSE(run.findings.empty());
  for (const auto& f : run.findings) {
    EXPECT_EQ(f.finding["hits"], 2) << f.dir;  // the same stream twice
    ASSERT_TRUE(f.reproducer.has_value());
    ASSERT_TRUE(f.input.has_value());
    // The reproducer is a .mmu stream that parses back to what ran.
    std::ifstream in(dir / *f.reproducer);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(parse_text(text, *f.reproducer), s);
  }
  json verdict = report_verdict(run, compute_exercised(dir, HarnessOptions{}));
  EXPECT_FALSE(verdict["equivalent"].get<bool>());
  EXPECT_EQ(verdict["divergences"], run.findings.size());
  EXPECT_NE(verdict["line"].get<std::string>().find("divergence"), std::string::npos);
}

TEST(RunDirLoad, InterruptedRunLeftoversAreToleratedAndCorruptionIsNamed) {
  const TempDir scratch;
  fs::path dir = recorded_run(scratch, {kBlockAndPage}, Plant::kNone);
  // A stop in the middle of an append, and in the middle of writing a finding.
  std::ofstream(dir / "progress.jsonl")
      << R"({"t":1,"execs":10,"execs_per_s":10,"coverage":5,"corpus":1,"findings":0})"
      << "\n"
      << R"({"t":2,"execs":2)";
  fs::create_directories(dir / "findings/half-written");
  LoadedRun run = load_run_dir(dir);
  EXPECT_EQ(run.progress.size(), 1u);
  ASSERT_EQ(run.incomplete_findings.size(), 1u);
  EXPECT_EQ(run.incomplete_findings[0], "findings/half-written");
  EXPECT_EQ(report_verdict(run, compute_exercised(dir, HarnessOptions{}))["divergences"], 1);

  // A broken line that is not the last one is corruption: named with its line and byte.
  std::ofstream(dir / "progress.jsonl") << "{\"t\":1,\n{}\n";
  try {
    load_run_dir(dir);
    FAIL() << "corrupt progress.jsonl accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("progress.jsonl:1: byte"), std::string::npos) << e.what();
  }
  // A line that parses but breaks the schema names the property.
  std::ofstream(dir / "progress.jsonl") << R"({"t":1})"
                                        << "\n";
  try {
    load_run_dir(dir);
    FAIL() << "progress line without execs accepted";
  } catch (const InputError& e) {
    // valijson names the missing properties in name order: the first, and how many more.
    EXPECT_NE(std::string(e.what()).find("Missing required property 'corpus'. (and 4 more)"),
              std::string::npos)
        << e.what();
  }
}

TEST(RunDirLoad, RecorderRefusesToOverwriteARunDirectory) {
  const TempDir scratch;
  fs::path dir = recorded_run(scratch, {kBlockAndPage}, Plant::kNone);
  EXPECT_THROW(RunRecorder(dir, "run", HarnessOptions{}, {}), InputError);
}

TEST(ReportText, ThousandsAreGroupedAndHtmlIsEscaped) {
  EXPECT_EQ(group_thousands(0), "0");
  EXPECT_EQ(group_thousands(999), "999");
  EXPECT_EQ(group_thousands(1000), "1,000");
  EXPECT_EQ(group_thousands(1234567), "1,234,567");
  EXPECT_EQ(html_escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

}  // namespace
}  // namespace mmudiff

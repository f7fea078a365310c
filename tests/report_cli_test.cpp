// SPDX-License-Identifier: GPL-2.0-only
// Every JSON file the commands write, generated for real through the binary (run --out, repro
// --out, prove --json, campaign --out when a fuzz build exists, report), validated against the
// schema files in reports/schema/; and `mmudiff report` on bad run directories: one line naming
// the file, exit 2, nothing written.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "reports/json_schema.h"
#include "tests/cli_runner.h"
#include "tests/files.h"
#include "tests/temp_dir.h"

namespace mmudiff {
namespace {

using Result = mmudiff::testing::CliResult;
using mmudiff::testing::run_cli;
using mmudiff::testing::slurp;

namespace fs = std::filesystem;
using nlohmann::json;

// The schemas as the files on disk say, independent of the copy compiled into the binary.
const schema::SchemaSet& schemas_on_disk() {
  static const schema::SchemaSet set = [] {
    schema::SchemaSet s;
    for (const auto& e : fs::directory_iterator(fs::path(MMUDIFF_SOURCE_DIR) / "reports/schema"))
      s.add(json::parse(slurp(e.path())));
    return s;
  }();
  return set;
}

// Parses FILE and expects it to meet schema ID; returns it.
json expect_valid(const fs::path& file, std::string_view id) {
  EXPECT_TRUE(fs::exists(file)) << file;
  json value = json::parse(slurp(file));
  auto errors = schemas_on_disk().validate(value, id);
  EXPECT_TRUE(errors.empty()) << file << ": " << (errors.empty() ? "" : errors.front());
  return value;
}

std::string seeds() {
  std::string files;
  for (const auto& e : fs::directory_iterator(fs::path(MMUDIFF_SOURCE_DIR) / "corpus/seeds"))
    if (e.path().extension() == ".mmu") files += " " + e.path().string();
  return files;
}

size_t count_seeds() {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(fs::path(MMUDIFF_SOURCE_DIR) / "corpus/seeds"))
    n += e.path().extension() == ".mmu";
  return n;
}

bool has_temporaries(const fs::path& dir) {
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().extension() == ".tmp") return true;
  return false;
}

size_t lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

class ReportCli : public mmudiff::testing::ScratchTest {
 protected:
  ReportCli() : ScratchTest(mmudiff::testing::TempDir::OnFailure::kKeep) {}

  // Findings files of a run directory, each validated; returns how many.
  size_t expect_valid_findings(const fs::path& run) {
    size_t n = 0;
    if (!fs::exists(run / "findings")) return 0;
    for (const auto& e : fs::directory_iterator(run / "findings")) {
      json f = expect_valid(e.path() / "finding.json", schema::kFinding);
      EXPECT_TRUE(fs::exists(e.path() / "input.bin")) << e.path();
      EXPECT_TRUE(fs::exists(e.path() / "repro.mmu")) << e.path();
      ++n;
    }
    return n;
  }

  // report RUN: every file it writes meets its schema and agrees with what it printed.
  json expect_valid_report(const fs::path& run, int expected_status) {
    Result r = run_cli("report " + run.string());
    EXPECT_EQ(r.status, expected_status) << r.out;
    expect_valid(run / "exercised.json", schema::kExercised);
    json report = expect_valid(run / "report.json", schema::kReport);
    std::string line = report["verdict"]["line"];
    EXPECT_NE(r.out.find(line), std::string::npos) << r.out;
    EXPECT_NE(r.out.find((run / "report.html").string()), std::string::npos) << r.out;
    std::string html = slurp(run / "report.html");
    EXPECT_NE(html.find(line), std::string::npos) << "the verdict is not in report.html";
    EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org"))
        << "report.html refers to the network";
    EXPECT_FALSE(has_temporaries(run));
    return report;
  }
};

TEST_F(ReportCli, RunOutWithAPlantedBugWritesSchemaValidFilesAndADivergentReport) {
  fs::path run = dir_ / "run";
  Result r = run_cli(
      fmt::format("run -q --plant walker-pa-cursor-drift --out {}{}", run.string(), seeds()));
  ASSERT_EQ(r.status, 1) << r.out;  // the plant is found
  json run_json = expect_valid(run / "run.json", schema::kRun);
  EXPECT_EQ(run_json["command"], "run");
  EXPECT_EQ(run_json["status"], "finished");
  EXPECT_EQ(run_json["plant"], "walker-pa-cursor-drift");
  EXPECT_EQ(run_json["executions"], count_seeds());
  size_t findings = expect_valid_findings(run);
  ASSERT_GT(findings, 0u);
  EXPECT_EQ(run_json["findings"], findings);

  Result p = run_cli(fmt::format("prove --json {}", (run / "proofs.json").string()));
  ASSERT_TRUE(p.status == 0 || p.status == 1) << p.out;
  json proofs = expect_valid(run / "proofs.json", schema::kProofs);
  EXPECT_FALSE(proofs["proofs"].empty());

  json report = expect_valid_report(run, 1);
  EXPECT_FALSE(report["verdict"]["equivalent"].get<bool>());
  EXPECT_EQ(report["verdict"]["divergences"], findings);
  EXPECT_EQ(report["verdict"]["sequences"], count_seeds());
  EXPECT_EQ(report["findings"].size(), findings);
  EXPECT_EQ(report["proofs"]["summary"], proofs["summary"]);
  EXPECT_GT(report["exercised"]["ops_by_kind"]["map"].get<uint64_t>(), 0u);
}

TEST_F(ReportCli, RunOutOfAgreeingStreamsReportsEquivalence) {
  fs::path run = dir_ / "run";
  Result r = run_cli(fmt::format("run -q --out {}{}", run.string(), seeds()));
  ASSERT_EQ(r.status, 0) << r.out;
  expect_valid(run / "run.json", schema::kRun);
  EXPECT_EQ(expect_valid_findings(run), 0u);
  ASSERT_FALSE(fs::exists(run / "proofs.json"));
  json report = expect_valid_report(run, 0);
  // The run directory had no proofs: the report ran them, kept them, and says what they proved.
  json proofs = expect_valid(run / "proofs.json", schema::kProofs);
  EXPECT_EQ(report["proofs"], proofs);
  EXPECT_TRUE(proofs["plant"].is_null());
  // The seeds hold streams of both architectures: the proofs of both formats speak of them.
  EXPECT_EQ(proofs["format"], "arm64-s2-4k, x86-ept");
  uint64_t proved = proofs["summary"]["proved"];
  EXPECT_EQ(proved, proofs["proofs"].size());
  EXPECT_EQ(report["verdict"]["proved"], proved);
  EXPECT_EQ(report["verdict"]["line"],
            fmt::format("equivalent on {} sequences tested; {} of {} properties proved for all "
                        "inputs (walker, legacy, model, walker-x86, legacy-x86)",
                        count_seeds(), proved, proved));
  std::string html = slurp(run / "report.html");
  for (const auto& p : proofs["proofs"])
    EXPECT_NE(html.find(p["name"].get<std::string>()), std::string::npos) << p["name"];
  EXPECT_TRUE(report["progress"].is_null());

  // Regenerating reuses exercised.json and proofs.json and gives the same verdict.
  Result again = run_cli("report " + run.string());
  EXPECT_EQ(again.status, 0) << again.out;
  EXPECT_EQ(again.out.find("exercised:"), std::string::npos) << again.out;
  EXPECT_EQ(again.out.find("proofs:"), std::string::npos) << again.out;
  EXPECT_EQ(json::parse(slurp(run / "report.json"))["verdict"], report["verdict"]);

  // An out directory that already holds a run is never overwritten.
  Result twice = run_cli(fmt::format("run -q --out {}{}", run.string(), seeds()));
  EXPECT_EQ(twice.status, 2) << twice.out;
  EXPECT_NE(twice.out.find("already a run directory"), std::string::npos) << twice.out;

  // semdiff --out adds what changed between two kernels; the report renders it as a section.
  if (mmudiff::testing::shell(std::string(MMUDIFF_CLI) + " backends").out.find("linux612 ") ==
      std::string::npos)
    return;  // linux612 is not built
  Result diff =
      run_cli(fmt::format("semdiff linux61 linux612 --streams 10 --out {}", run.string()));
  EXPECT_EQ(diff.status, 1) << diff.out;
  json semdiff = expect_valid(run / "semdiff.json", schema::kSemdiff);
  ASSERT_FALSE(semdiff["classes"].empty());
  json with_diff = expect_valid_report(run, 0);
  EXPECT_EQ(with_diff["semdiff"], semdiff);
  const std::string with_diff_html = slurp(run / "report.html");
  EXPECT_NE(with_diff_html.find("What changed between kernels: linux61 &rarr; linux612"),
            std::string::npos);
  EXPECT_NE(with_diff_html.find("0 -&gt; locked -&gt; table/page"), std::string::npos);
  // Not a run directory: refused before any stream runs.
  Result bad = run_cli(
      fmt::format("semdiff linux61 linux612 --streams 10 --out {}", (dir_ / "nowhere").string()));
  EXPECT_EQ(bad.status, 2) << bad.out;
  EXPECT_NE(bad.out.find("not a run directory"), std::string::npos) << bad.out;
}

// A valid run directory to break in the tests below.
std::string good_stream() {
  return fmt::format("{}/corpus/seeds/aging.mmu", MMUDIFF_SOURCE_DIR);
}

fs::path good_run(const fs::path& dir) {
  fs::path run = dir / "run";
  Result r = run_cli(fmt::format("run -q --out {} {}", run.string(), good_stream()));
  EXPECT_EQ(r.status, 0) << r.out;
  return run;
}

// True when report.json's "skipped" names PATH with a reason containing WHY.
bool skipped(const json& report, const std::string& path, const std::string& why) {
  for (const auto& s : report["skipped"])
    if (s["path"] == path && s["reason"].get<std::string>().find(why) != std::string::npos)
      return true;
  return false;
}

TEST_F(ReportCli, FindingsThatIsAPlainFileIsSkippedAndTheVerdictCountsWhatRunJsonRecords) {
  fs::path run = dir_ / "run";
  ASSERT_EQ(run_cli(fmt::format("run -q --plant walker-pa-cursor-drift --out {}{}", run.string(),
                                seeds()))
                .status,
            1);
  size_t recorded = json::parse(slurp(run / "run.json"))["findings"];
  ASSERT_GT(recorded, 0u);
  fs::remove_all(run / "findings");
  std::ofstream(run / "findings") << "not a directory\n";

  json report = expect_valid_report(run, 1);
  EXPECT_FALSE(report["verdict"]["equivalent"].get<bool>());
  EXPECT_EQ(report["verdict"]["divergences"], recorded);
  EXPECT_EQ(report["verdict"]["unread"], recorded);
  std::string line = report["verdict"]["line"];
  EXPECT_EQ(line.find("equivalent"), std::string::npos) << line;
  EXPECT_NE(line.find(fmt::format("{} divergences", recorded)), std::string::npos) << line;
  EXPECT_NE(line.find("could not be read"), std::string::npos) << line;
  EXPECT_TRUE(skipped(report, "findings", "not a directory")) << report["skipped"].dump();
  Result again = run_cli("report " + run.string());
  EXPECT_NE(again.out.find("skipped: " + (run / "findings").string() + ": not a directory"),
            std::string::npos)
      << again.out;
  EXPECT_NE(slurp(run / "report.html").find("id=\"skipped\""), std::string::npos);
}

TEST_F(ReportCli, HostileCorpusEntriesAreReplayedOrSkippedNeverFatal) {
  fs::path run = good_run(dir_);
  fs::path corpus = run / "corpus";
  fs::create_directories(corpus / "a-directory");
  std::ofstream(corpus / "empty");
  std::string noise;  // the same bytes every time: a linear congruential sequence
  for (uint32_t x = 12345, i = 0; i < 4096; ++i)
    noise += static_cast<char>((x = x * 1103515245 + 12345) >> 24);
  std::ofstream(corpus / "random", std::ios::binary) << noise;
  std::ofstream(corpus / "a-directory" / "random", std::ios::binary) << noise.substr(0, 777);
  ASSERT_EQ(::mkfifo((corpus / "fifo").c_str(), 0644), 0);  // reading it would block forever
  fs::create_symlink("/dev/zero", corpus / "endless");      // and this would never end
  fs::create_symlink("nowhere", corpus / "dangling");
  std::ofstream(corpus / "oversized", std::ios::binary) << std::string((1 << 20) + 1, '\x01');
  size_t replayable = 0;  // what the run left, plus the three regular files above
  for (const auto& e : fs::recursive_directory_iterator(corpus)) replayable += e.is_regular_file();
  --replayable;  // the oversized one

  json report = expect_valid_report(run, 0);
  EXPECT_TRUE(report["verdict"]["equivalent"].get<bool>());
  EXPECT_EQ(report["exercised"]["sequences"], replayable);
  for (const char* p : {"corpus/fifo", "corpus/endless", "corpus/dangling"})
    EXPECT_TRUE(skipped(report, p, "not a regular file")) << p << report["skipped"].dump();
  EXPECT_TRUE(skipped(report, "corpus/oversized", "1048577 bytes")) << report["skipped"].dump();
  EXPECT_EQ(report["skipped"].size(), 4u) << report["skipped"].dump();

  // A corpus that is not a directory at all.
  fs::remove_all(corpus);
  std::ofstream(corpus) << noise;
  fs::remove(run / "exercised.json");
  report = expect_valid_report(run, 0);
  EXPECT_TRUE(skipped(report, "corpus", "not a directory")) << report["skipped"].dump();
}

TEST_F(ReportCli, ProofsTheReportRunsAreOfTheRunsPlantedBugAndAFailedOneIsInTheVerdict) {
  fs::path run = dir_ / "run";
  Result r = run_cli(fmt::format("run -q --plant legacy-wrprotect-wrong-bit --out {} {}",
                                 run.string(), good_stream()));
  ASSERT_TRUE(r.status == 0 || r.status == 1) << r.out;
  // A failed proof alone makes the report's exit status 1, whatever the streams showed.
  json report = expect_valid_report(run, 1);
  json proofs = expect_valid(run / "proofs.json", schema::kProofs);
  EXPECT_EQ(proofs["plant"], "legacy-wrprotect-wrong-bit");
  uint64_t failed = proofs["summary"]["failed"];
  ASSERT_GT(failed, 0u);
  EXPECT_EQ(report["verdict"]["proofs_failed"], failed);
  std::string line = report["verdict"]["line"];
  EXPECT_NE(line.find(fmt::format(", {} failed", failed)), std::string::npos) << line;
  EXPECT_NE(slurp(run / "report.html").find("legacy.wrprotect.only-clears-write"),
            std::string::npos);
}

TEST_F(ReportCli, ReproOutOfAFindingWritesARunDirectoryWithThatFinding) {
  fs::path first = dir_ / "first";
  ASSERT_EQ(run_cli(fmt::format("run -q --plant walker-pa-cursor-drift --out {}{}", first.string(),
                                seeds()))
                .status,
            1);
  fs::path input;
  for (const auto& e : fs::directory_iterator(first / "findings")) input = e.path() / "input.bin";
  ASSERT_FALSE(input.empty());
  fs::path run = dir_ / "repro";
  Result r = run_cli(fmt::format("repro --plant walker-pa-cursor-drift --out {} {}", run.string(),
                                 input.string()));
  EXPECT_EQ(r.status, 1) << r.out;
  json run_json = expect_valid(run / "run.json", schema::kRun);
  EXPECT_EQ(run_json["command"], "repro");
  EXPECT_EQ(run_json["executions"], 1);
  EXPECT_GT(expect_valid_findings(run), 0u);
  expect_valid_report(run, 1);
}

TEST_F(ReportCli, CampaignRunDirectoryAndItsReportMeetTheSchemas) {
  // campaign runs the AFL++ build of the afl preset; without one it refuses to start.
  fs::path run = dir_ / "campaign";
  // 15 s: the one worker is the ASan+UBSan build, which in a loaded CI run of the ASan+UBSan
  // suite took longer than 8 s to fill corpus/.
  Result r = run_cli(fmt::format("campaign --time 15 --jobs 1 --out {}", run.string()));
  if (r.status == 2 && r.out.find("no afl fuzz build") != std::string::npos)
    GTEST_SKIP() << "no AFL++ build (cmake --preset afl && cmake --build --preset afl): " << r.out;
  ASSERT_TRUE(r.status == 0 || r.status == 1) << r.out;
  // The campaign ends in a report, which ran the proofs: its verdict says what was proved.
  json proofs = expect_valid(run / "proofs.json", schema::kProofs);
  EXPECT_FALSE(proofs["proofs"].empty());
  EXPECT_NE(r.out.find("properties proved for all inputs"), std::string::npos) << r.out;
  json run_json = expect_valid(run / "run.json", schema::kRun);
  EXPECT_EQ(run_json["command"], "campaign");
  EXPECT_EQ(run_json["status"], "finished");
  std::ifstream progress(run / "progress.jsonl");
  size_t samples = 0;
  for (std::string line; std::getline(progress, line); ++samples) {
    auto errors = schemas_on_disk().validate(json::parse(line), schema::kProgress);
    EXPECT_TRUE(errors.empty()) << "progress line " << samples + 1 << ": " << errors.front();
  }
  EXPECT_GT(samples, 0u);
  size_t findings = expect_valid_findings(run);
  json report = expect_valid_report(run, findings ? 1 : 0);
  EXPECT_EQ(report["progress"]["samples"], samples);
  // Throughput per worker kind (here the one ASan+UBSan worker), in report.json and the page.
  EXPECT_GT(report["progress"]["by_kind"]["asan"]["execs_per_s"].get<double>(), 0.0)
      << report["progress"].dump();
  EXPECT_GT(report["exercised"]["sequences"].get<uint64_t>(), 0u) << r.out;
  // Every backend's own code was reached, and the report carries the figures.
  json coverage = expect_valid(run / "coverage.json", schema::kCoverage);
  for (const char* backend : {"walker", "legacy", "linux61"}) {
    const json& c = coverage["backends"][backend];
    EXPECT_GT(c["edges_covered"].get<uint64_t>(), 0u) << backend;
    EXPECT_LE(c["edges_covered"].get<uint64_t>(), c["edges"].get<uint64_t>()) << backend;
    EXPECT_GT(c["functions_covered"].get<uint64_t>(), 0u) << backend;
  }
  EXPECT_EQ(report["coverage"], coverage);
  std::ifstream html(run / "report.html");
  std::string page((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  EXPECT_NE(page.find("id=\"coverage\""), std::string::npos);
  EXPECT_NE(page.find("<th>executions per second</th><td>asan "), std::string::npos);
  EXPECT_NE(page.find("<code>main</code> (asan): "), std::string::npos);
}

// report RUN must fail with exit 2 and exactly one line containing each of WANT, writing nothing.
void expect_one_line_error(const fs::path& run, std::vector<std::string> want,
                           const std::string& env = "") {
  Result r = run_cli("report " + run.string(), env);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_EQ(lines(r.out), 1u) << r.out;
  for (const auto& w : want) EXPECT_NE(r.out.find(w), std::string::npos) << w << " in " << r.out;
  EXPECT_FALSE(fs::exists(run / "report.html"));
  EXPECT_FALSE(fs::exists(run / "report.json"));
}

TEST_F(ReportCli, MissingRunDirectoryOrRunJsonIsOneLine) {
  expect_one_line_error(dir_ / "nowhere", {(dir_ / "nowhere").string(), "no such directory"});
  fs::create_directories(dir_ / "empty");
  expect_one_line_error(dir_ / "empty", {"not a run directory", "run.json"});
}

TEST_F(ReportCli, CorruptRunJsonNamesTheFileAndByteOffset) {
  fs::path run = good_run(dir_);
  std::string text = slurp(run / "run.json");
  std::ofstream(run / "run.json", std::ios::trunc) << text.substr(0, 40);
  expect_one_line_error(run, {(run / "run.json").string(), "byte 41"});
}

TEST_F(ReportCli, RunJsonBreakingItsSchemaNamesTheProperty) {
  fs::path run = good_run(dir_);
  json j = json::parse(slurp(run / "run.json"));
  j["backends"][0].erase("identity");
  j["hash_key"] = "not hex";
  std::ofstream(run / "run.json", std::ios::trunc) << j.dump();
  expect_one_line_error(run, {"run.json", "/backends/0", "identity", "and 1 more"});
}

TEST_F(ReportCli, CorruptFindingAndProofsFilesAreNamed) {
  fs::path run = good_run(dir_);
  fs::create_directories(run / "findings/x");
  std::ofstream(run / "findings/x/finding.json") << "{\"signature\": }";
  expect_one_line_error(run, {"findings/x/finding.json", "byte 15"});
  fs::remove_all(run / "findings/x");
  std::ofstream(run / "proofs.json") << R"({"schema": "mmudiff/proofs-1"})";
  expect_one_line_error(run, {"proofs.json", "Missing required property"});
}

TEST_F(ReportCli, ADirectoryWhereAFileBelongsIsNamedOrSkippedNeverAnAbort) {
  fs::path run = good_run(dir_);
  for (const char* file : {"progress.jsonl", "exercised.json", "proofs.json", "coverage.json"}) {
    fs::create_directories(run / file);
    expect_one_line_error(run, {(run / file).string(), "not a regular file"});
    fs::remove(run / file);
  }
  // A finding whose record cannot be read is skipped, and still counted as a divergence.
  fs::create_directories(run / "findings/x/finding.json");
  json report = expect_valid_report(run, 1);
  EXPECT_EQ(report["verdict"]["divergences"], 1);
  EXPECT_EQ(report["verdict"]["unread"], 1);
  EXPECT_TRUE(skipped(report, "findings/x/finding.json", "not a regular file"))
      << report["skipped"].dump();
}

TEST_F(ReportCli, WithoutGnuplotTheReportSaysWhatToInstall) {
  fs::path run = good_run(dir_);
  expect_one_line_error(run, {"gnuplot", "gnuplot-nox"}, "PATH=/nonexistent");
}

TEST_F(ReportCli, InterruptedRunStillGetsAReportThatSaysSo) {
  fs::path run = good_run(dir_);
  json j = json::parse(slurp(run / "run.json"));
  j["status"] = "interrupted";
  j["ended"] = nullptr;
  std::ofstream(run / "run.json", std::ios::trunc) << j.dump();
  fs::create_directories(run / "findings/cut-short");  // stopped before finding.json
  std::ofstream(run / "progress.jsonl")
      << R"({"t":0.5,"execs":100,"execs_per_s":200,"coverage":40,"corpus":3,"findings":0})"
      << "\n"
      << R"({"t":1.0,"execs":300,"execs_per_s":400,"coverage":55,"corpus":4,"findings":1})"
      << "\n"
      << R"({"t":1.5,"ex)";  // the stop came mid-append
  json report = expect_valid_report(run, 1);
  EXPECT_EQ(report["progress"]["samples"], 2);
  EXPECT_EQ(report["incomplete_findings"], json::array({"findings/cut-short"}));
  EXPECT_NE(report["verdict"]["line"].get<std::string>().find("interrupted"), std::string::npos);
  std::string html = slurp(run / "report.html");
  EXPECT_NE(html.find("id=\"plot-executions\""), std::string::npos);
  EXPECT_NE(html.find("id=\"plot-coverage\""), std::string::npos);
}

}  // namespace
}  // namespace mmudiff

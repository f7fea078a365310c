// SPDX-License-Identifier: GPL-2.0-only
// report.html as a reader sees it: rendered by headless Chromium (Debian's, installed by
// tools/ensure_chromium.sh when this test runs) from a report of a real run directory, with no
// console message (a script error or a blocked fetch would log one), the verdict, the plots, the
// findings and the proofs in the DOM, and a screenshot of the page.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/cli_runner.h"
#include "tests/files.h"
#include "tests/temp_dir.h"

namespace mmudiff {
namespace {

using Result = mmudiff::testing::CliResult;
using mmudiff::testing::shell;
using mmudiff::testing::slurp;

namespace fs = std::filesystem;

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + 1))
    ++n;
  return n;
}

// Width and height from a PNG's IHDR chunk; {0, 0} if it is not a PNG.
std::pair<uint32_t, uint32_t> png_size(const std::string& png) {
  static const std::string kSignature = "\x89PNG\r\n\x1a\n";
  if (png.size() < 24 || png.compare(0, 8, kSignature) != 0 || png.compare(12, 4, "IHDR") != 0)
    return {0, 0};
  auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(png[at + i]);
    return v;
  };
  return {be32(16), be32(20)};
}

TEST(ReportBrowser, HeadlessChromiumRendersTheReportWithoutErrors) {
  const mmudiff::testing::TempDir dir("report_browser",
                                      mmudiff::testing::TempDir::OnFailure::kKeep);

  Result browser = shell(fmt::format("{}/tools/ensure_chromium.sh", MMUDIFF_SOURCE_DIR));
  ASSERT_EQ(browser.status, 0) << "tools/ensure_chromium.sh could not install chromium";
  std::string chromium = browser.out.substr(0, browser.out.find('\n'));
  ASSERT_TRUE(fs::exists(chromium)) << chromium;

  // A real run directory with findings (a planted bug) and proofs. The walker's PA cursor drift
  // makes a 4 MiB map build a different table: a finding with the first diverging descriptor.
  fs::path run = dir / "run";
  std::ofstream(dir / "drift.mmu") << "map 0x200000000 4M pa=0x100200000 prot=rw\n";
  std::string seeds = " " + (dir / "drift.mmu").string();
  for (const auto& e : fs::directory_iterator(fs::path(MMUDIFF_SOURCE_DIR) / "corpus/seeds"))
    if (e.path().extension() == ".mmu") seeds += " " + e.path().string();
  ASSERT_EQ(shell(fmt::format("{} run -q --plant walker-pa-cursor-drift --out {}{} >/dev/null",
                              MMUDIFF_CLI, run.string(), seeds))
                .status,
            1);
  ASSERT_LE(
      shell(fmt::format("{} prove --json {}/proofs.json >/dev/null", MMUDIFF_CLI, run.string()))
          .status,
      1);
  ASSERT_EQ(shell(fmt::format("{} report {} >/dev/null", MMUDIFF_CLI, run.string())).status, 1);
  auto report = nlohmann::json::parse(slurp(run / "report.json"));
  std::string verdict = report["verdict"]["line"];

  // The browser gets its own profile, and the page no network (its CSP forbids every fetch).
  std::string common = fmt::format(
      "timeout 180 {} --headless --disable-gpu --no-sandbox --no-first-run "
      "--user-data-dir={} --enable-logging=stderr --v=0",
      chromium, (dir / "profile").string());
  std::string url = "file://" + (run / "report.html").string();
  Result dom =
      shell(fmt::format("{} --dump-dom {} 2>{}", common, url, (dir / "console.log").string()));
  ASSERT_EQ(dom.status, 0) << slurp(dir / "console.log");

  // Chromium logs every console message, errors included, as ":CONSOLE"; the page has none.
  std::string log = slurp(dir / "console.log");
  std::stringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_EQ(line.find(":CONSOLE"), std::string::npos) << line;
    EXPECT_EQ(line.find("Uncaught"), std::string::npos) << line;
  }
  // The inline script at the end of the page ran.
  EXPECT_NE(dom.out.find("data-rendered=\"complete\""), std::string::npos);
  // The verdict, first.
  size_t verdict_at = dom.out.find("id=\"verdict\"");
  ASSERT_NE(verdict_at, std::string::npos);
  EXPECT_NE(dom.out.find(verdict, verdict_at), std::string::npos) << verdict;
  EXPECT_LT(verdict_at, dom.out.find("id=\"plots\""));
  // The plots, as inline SVG drawn by gnuplot.
  for (const char* plot : {"operations", "return-codes", "levels", "leaf-sizes"}) {
    size_t at = dom.out.find(fmt::format("id=\"plot-{}\"", plot));
    ASSERT_NE(at, std::string::npos) << plot;
    EXPECT_NE(dom.out.find("<svg", at), std::string::npos) << plot;
  }
  EXPECT_GE(count(dom.out, "<svg"), 4u);
  EXPECT_GE(count(dom.out, "Produced by GNUPLOT"), 4u);
  // The findings table, a row per finding with its side-by-side evidence and reproducer.
  size_t findings_at = dom.out.find("id=\"findings\"");
  ASSERT_NE(findings_at, std::string::npos);
  EXPECT_EQ(count(dom.out, "<td class=\"cls "), report["findings"].size());
  EXPECT_GE(report["findings"].size(), 1u);
  EXPECT_NE(dom.out.find("class=\"sides\"", findings_at), std::string::npos);
  // The divergence side by side: each backend's descriptor with its fields decoded.
  size_t linux61_side = dom.out.find("<h4>linux61</h4>", findings_at);
  size_t walker_side = dom.out.find("<h4>walker</h4>", linux61_side);
  ASSERT_NE(walker_side, std::string::npos);
  EXPECT_NE(dom.out.find("MemAttr", linux61_side), std::string::npos);
  EXPECT_NE(dom.out.find("next-level table", walker_side), std::string::npos);
  EXPECT_NE(dom.out.find("repro.mmu", findings_at), std::string::npos);
  // The proof table, a row per proof.
  ASSERT_NE(dom.out.find("id=\"proofs\""), std::string::npos);
  EXPECT_EQ(count(dom.out, "<td class=\"result "), report["proofs"]["proofs"].size());

  // A screenshot of the whole report: a PNG of the window size, with the page drawn on it (a
  // blank page of that size compresses to a few KiB).
  fs::path shot = dir / "report.png";
  Result s =
      shell(fmt::format("{} --hide-scrollbars --window-size=1280,3200 --screenshot={} {} "
                        "2>/dev/null >/dev/null",
                        common, shot.string(), url));
  ASSERT_EQ(s.status, 0);
  std::string png = slurp(shot);
  EXPECT_EQ(png_size(png), (std::pair<uint32_t, uint32_t>{1280, 3200}));
  EXPECT_GT(png.size(), 60u * 1024);
}

}  // namespace
}  // namespace mmudiff

// SPDX-License-Identifier: GPL-2.0-only
// mmudiff prove as scripts see it: exit codes, the summary line, the JSON layout, --plant and
// bad input.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/cli_runner.h"
#include "tests/files.h"
#include "tests/temp_dir.h"

namespace {

namespace fs = std::filesystem;

using mmudiff::testing::CliResult;
using mmudiff::testing::read_json;
using mmudiff::testing::run_cli;

TEST(ProveCli, ProvesEverythingAndWritesTheJsonLayout) {
  const mmudiff::testing::TempDir dir;
  const fs::path json = dir / "proofs.json";
  CliResult r = run_cli("prove --json " + json.string());
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("24 proofs: 24 proved, 0 failed, 0 unknown in "), std::string::npos)
      << r.out;
  nlohmann::json j = read_json(json);
  EXPECT_EQ(j["schema"], "mmudiff/proofs-1");
  EXPECT_EQ(j["format"], "arm64-s2-4k");
  EXPECT_TRUE(j["plant"].is_null());
  ASSERT_EQ(j["proofs"].size(), 24u);
  for (const auto& p : j["proofs"]) {
    EXPECT_EQ(p["result"], "proved") << p["name"];
    EXPECT_TRUE(p["counterexample"].is_null());
    EXPECT_TRUE(p["time_ms"].is_number());
    EXPECT_TRUE(p["backend"] == "walker" || p["backend"] == "legacy" || p["backend"] == "model");
    EXPECT_FALSE(p["property"].get<std::string>().empty());
  }
  EXPECT_EQ(j["summary"]["proved"], 24);
  EXPECT_EQ(j["summary"]["failed"], 0);
  EXPECT_EQ(j["summary"]["unknown"], 0);
  EXPECT_LT(j["summary"]["time_ms"].get<double>(), 30000.0);
}

TEST(ProveCli, APlantFailsItsProofWithADecodedCounterexampleAndExitsOne) {
  const mmudiff::testing::TempDir dir;
  const fs::path json = dir / "proofs.json";
  CliResult r = run_cli("prove --plant legacy-wrprotect-wrong-bit --json " + json.string());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("failed   legacy.wrprotect.only-clears-write"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  descriptor: L"), std::string::npos) << r.out;
  nlohmann::json j = read_json(json);
  EXPECT_EQ(j["plant"], "legacy-wrprotect-wrong-bit");
  EXPECT_EQ(j["summary"]["failed"], 1);
  for (const auto& p : j["proofs"]) {
    if (p["result"] != "failed") continue;
    EXPECT_EQ(p["name"], "legacy.wrprotect.only-clears-write");
    EXPECT_TRUE(p["counterexample"]["inputs"].contains("old"));
    EXPECT_EQ(p["counterexample"]["descriptor"].get<std::string>().rfind("0x", 0), 0u);
    EXPECT_NE(p["counterexample"]["decoded"].get<std::string>().find("S2AP="), std::string::npos);
  }
}

TEST(ProveCli, BadInputExitsTwoWithOneLine) {
  CliResult plant = run_cli("prove --plant no-such-plant");
  EXPECT_EQ(plant.status, 2);
  EXPECT_NE(plant.out.find("unknown plant 'no-such-plant'"), std::string::npos) << plant.out;
  CliResult format = run_cli("prove --format riscv-sv39");
  EXPECT_EQ(format.status, 2);
  EXPECT_NE(format.out.find("no model for format 'riscv-sv39'"), std::string::npos) << format.out;
}

}  // namespace

// SPDX-License-Identifier: GPL-2.0-only
// mmudiff prove as scripts see it: exit codes, the summary line, the JSON layout, --plant and
// bad input.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "models/x86_zero_check_cross_check.h"
#include "reports/json_schema.h"
#include "tests/cli_runner.h"
#include "tests/files.h"
#include "tests/temp_dir.h"

namespace {

namespace fs = std::filesystem;

using mmudiff::testing::CliResult;
using mmudiff::testing::read_json;
using mmudiff::testing::run_cli;

// arm64: 32 (LPA2 and NORMAL_NC included); x86: leaf, table and split for each of two backends, the
// model against the SDM, and the model against the compiled kernel when it is built in.
const unsigned kArm64Proofs = 32;
const unsigned kProofs =
    kArm64Proofs + 7 + (mmudiff::models::zero_check_kernel_available() ? 1 : 0);

void expect_schema_valid(const nlohmann::json& j) {
  const auto errors = mmudiff::schema::builtin_schemas().validate(j, mmudiff::schema::kProofs);
  for (const std::string& e : errors) ADD_FAILURE() << e;
}

TEST(ProveCli, ProvesEverythingAndWritesTheJsonLayout) {
  const mmudiff::testing::TempDir dir;
  const fs::path json = dir / "proofs.json";
  CliResult r = run_cli("prove --json " + json.string());
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find(fmt::format("{0} proofs: {0} proved, 0 failed, 0 unknown in ", kProofs)),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(mmudiff::models::zero_check_kernel_available()
                           ? "proved   model.ept.zero-check-is-the-kernels"
                           : "skipped  model.ept.zero-check-is-the-kernels"),
            std::string::npos)
      << r.out;
  nlohmann::json j = read_json(json);
  expect_schema_valid(j);
  EXPECT_EQ(j["schema"], "mmudiff/proofs-1");
  EXPECT_EQ(j["format"], "arm64-s2-4k");
  EXPECT_TRUE(j["plant"].is_null());
  ASSERT_EQ(j["proofs"].size(), kProofs);
  unsigned x86 = 0;
  for (const auto& p : j["proofs"]) {
    EXPECT_EQ(p["result"], "proved") << p["name"];
    EXPECT_TRUE(p["counterexample"].is_null());
    EXPECT_TRUE(p["time_ms"].is_number());
    EXPECT_TRUE(p["backend"] == "walker" || p["backend"] == "legacy" || p["backend"] == "model" ||
                p["backend"] == "walker-x86" || p["backend"] == "legacy-x86");
    EXPECT_FALSE(p["property"].get<std::string>().empty());
    x86 += p["name"].get<std::string>().find(".ept.") != std::string::npos;
  }
  EXPECT_EQ(x86, kProofs - kArm64Proofs);
  EXPECT_EQ(j["summary"]["proved"], kProofs);
  EXPECT_EQ(j["summary"]["failed"], 0);
  EXPECT_EQ(j["summary"]["unknown"], 0);
  EXPECT_LT(j["summary"]["time_ms"].get<double>(), 300000.0);
}

// An x86 descriptor plant, with the x86 proofs only: the split proof fails with the
// configuration, the request, the huge SPTE and the child, decoded; the JSON stays schema-valid
// with the counts as numbers.
TEST(ProveCli, AnX86PlantFailsWithADecodedSpte) {
  const mmudiff::testing::TempDir dir;
  const fs::path json = dir / "proofs.json";
  CliResult r =
      run_cli("prove --format x86-ept --plant legacy-x86-split-loses-host-writable --json " +
              json.string());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("failed   legacy-x86.ept.split-spte-valid"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  counterexample: maxphyaddr="), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  violates: keeps host-writable and MMU-writable"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  descriptor: PTE"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("proved   walker-x86.ept.split-spte-valid"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("walker.map"), std::string::npos) << "arm64 proofs ran";
  nlohmann::json j = read_json(json);
  expect_schema_valid(j);
  EXPECT_EQ(j["format"], "x86-ept");
  EXPECT_EQ(j["proofs"].size(), kProofs - kArm64Proofs);
  EXPECT_EQ(j["summary"]["failed"], 1);
  for (const auto& p : j["proofs"]) {
    EXPECT_NE(p["name"].get<std::string>().find(".ept."), std::string::npos) << p["name"];
    if (p["result"] != "failed") continue;
    EXPECT_EQ(p["name"], "legacy-x86.ept.split-spte-valid");
    const auto& in = p["counterexample"]["inputs"];
    EXPECT_TRUE(in["maxphyaddr"].is_number_integer());
    EXPECT_GE(in["maxphyaddr"].get<int>(), 36);
    EXPECT_LE(in["maxphyaddr"].get<int>(), 52);
    EXPECT_EQ(in["host_writable"], 1);
    EXPECT_EQ(in["huge_spte"].get<std::string>().rfind("0x", 0), 0u);
  }
}

TEST(ProveCli, APlantFailsItsProofWithADecodedCounterexampleAndExitsOne) {
  const mmudiff::testing::TempDir dir;
  const fs::path json = dir / "proofs.json";
  CliResult r = run_cli("prove --format arm64-s2-4k --plant legacy-wrprotect-wrong-bit --json " +
                        json.string());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("failed   legacy.wrprotect.only-clears-write"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  descriptor: L"), std::string::npos) << r.out;
  nlohmann::json j = read_json(json);
  expect_schema_valid(j);
  EXPECT_EQ(j["plant"], "legacy-wrprotect-wrong-bit");
  EXPECT_EQ(j["proofs"].size(), kArm64Proofs);
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

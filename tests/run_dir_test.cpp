// SPDX-License-Identifier: GPL-2.0-only
// Run-directory files are written whole or not at all, and findings get stable directory names.
#include "reports/run_dir.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace mmudiff {
namespace {

namespace fs = std::filesystem;

fs::path fresh_dir(const char* name) {
  fs::path dir = fs::temp_directory_path() / fmt::format("mmudiff-rundir-{}-{}", name, ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(RunDir, AtomicWriteReplacesWholeFileAndLeavesNoTemporary) {
  fs::path dir = fresh_dir("atomic");
  rundir::write_file_atomic(dir / "a.json", "first");
  rundir::write_file_atomic(dir / "a.json", "second, longer");
  EXPECT_EQ(slurp(dir / "a.json"), "second, longer");
  EXPECT_FALSE(fs::exists(dir / "a.json.tmp"));
  fs::remove_all(dir);
}

TEST(RunDir, AtomicWriteIntoMissingDirectoryNamesThePath) {
  fs::path dir = fresh_dir("missing");
  try {
    rundir::write_file_atomic(dir / "no" / "such" / "x.json", "x");
    FAIL() << "write into a missing directory succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no/such/x.json.tmp: cannot write"), std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
}

TEST(RunDir, AppendedLinesAreEachOneParsableJsonValue) {
  fs::path dir = fresh_dir("append");
  for (int i = 0; i < 3; ++i)
    rundir::append_json_line(dir / "p.jsonl", {{"t", i}, {"execs", i * 10}});
  std::ifstream in(dir / "p.jsonl");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    auto v = nlohmann::json::parse(line);
    EXPECT_EQ(v["t"], n);
    EXPECT_EQ(v["execs"], n * 10);
    ++n;
  }
  EXPECT_EQ(n, 3);
  fs::remove_all(dir);
}

TEST(RunDir, FindingJsonCarriesSignatureAndDirectoryNameIsSafe) {
  Finding f{Severity::HardwareEffects,      "effects", 3, "map", "missing TLBI",
            {"walker: ...", "linux61: ..."}};
  nlohmann::json j = rundir::finding_json(f);
  EXPECT_EQ(j["signature"], f.signature());
  EXPECT_EQ(j["op_index"], 3);
  EXPECT_EQ(j["evidence"].size(), 2u);
  std::string dir = rundir::finding_dir_name(f);
  EXPECT_EQ(dir.find('/'), std::string::npos);
  EXPECT_EQ(dir.find(' '), std::string::npos);
  EXPECT_NE(dir.find("effects"), std::string::npos);
  EXPECT_NE(dir.find("map"), std::string::npos);
}

}  // namespace
}  // namespace mmudiff

// SPDX-License-Identifier: GPL-2.0-only
// Run-directory files are written whole or not at all, and findings get stable directory names.
#include "reports/run_dir.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>

#include "mmu/ops/binary_format.h"
#include "mmu/ops/text_format.h"
#include "reports/json_schema.h"
#include "tests/files.h"
#include "tests/temp_dir.h"

namespace mmudiff {
namespace {

namespace fs = std::filesystem;

using mmudiff::testing::slurp;
using mmudiff::testing::TempDir;

TEST(RunDir, AtomicWriteReplacesWholeFileAndLeavesNoTemporary) {
  const TempDir dir;
  rundir::write_file_atomic(dir / "a.json", "first");
  rundir::write_file_atomic(dir / "a.json", "second, longer");
  EXPECT_EQ(slurp(dir / "a.json"), "second, longer");
  EXPECT_FALSE(fs::exists(dir / "a.json.tmp"));
}

TEST(RunDir, AtomicWriteIntoMissingDirectoryNamesThePath) {
  const TempDir dir;
  try {
    rundir::write_file_atomic(dir / "no" / "such" / "x.json", "x");
    FAIL() << "write into a missing directory succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no/such/x.json.tmp: cannot write"), std::string::npos)
        << e.what();
  }
}

TEST(RunDir, AppendedLinesAreEachOneParsableJsonValue) {
  const TempDir dir;
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

TEST(RunDir, LongerSignaturesGetDistinctBoundedDirectoryNames) {
  Finding f{Severity::HardwareEffects, "effects", 3, "unmap", "stale TLB", {}};
  EXPECT_EQ(rundir::finding_dir_name(f), "hardware-effects-effects-unmap");
  f.rule = "tlb-stale";
  f.backend = "walker";
  EXPECT_EQ(rundir::finding_dir_name(f), "hardware-effects-effects-unmap-tlb-stale-walker");
  EXPECT_TRUE(
      schema::builtin_schemas().validate(rundir::finding_json(f), schema::kFinding).empty());
  // Rules a name cannot keep apart ("SIGSEGV" and "sigsegv", "a.b" and "a-b") and rules too long
  // for a file name still give one directory per signature, named within NAME_MAX.
  std::set<std::string> names;
  for (const std::string& rule :
       std::vector<std::string>{"SIGSEGV", "sigsegv", "a.b", "a-b", "a+b", std::string(300, 'r'),
                                std::string(300, 'r') + "s"}) {
    f.rule = rule;
    std::string name = rundir::finding_dir_name(f);
    EXPECT_LE(name.size(), 129u) << rule;
    EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-"), std::string::npos)
        << name;
    EXPECT_EQ(name.rfind("hardware-effects-effects-unmap-", 0), 0u) << name;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), 7u);
}

TEST(RunDir, FindingJsonCarriesTheDivergenceSideBySideAndMeetsTheSchema) {
  Finding f{Severity::Security, "translation", 1, "map", "walker maps more", {}};
  f.divergence = {
      {"linux61", 0x40000000, 0x40200000, 2, 0x40000080000705ULL, "block", {{"OA", "0x80000000"}}},
      {"walker", 0x40000000, 0x40200000, 2, 0x400000800007fdULL, "block", {{"OA", "0x80000000"}}},
  };
  nlohmann::json j = rundir::finding_json(f);
  ASSERT_EQ(j["divergence"].size(), 2u);
  EXPECT_EQ(j["divergence"][0]["backend"], "linux61");
  EXPECT_EQ(j["divergence"][1]["raw"], "0x00400000800007fd");  // hex: doubles would round it
  EXPECT_EQ(j["divergence"][0]["ipa_end"], "0x40200000");
  EXPECT_EQ(j["divergence"][0]["fields"][0]["name"], "OA");
  EXPECT_TRUE(schema::builtin_schemas().validate(j, schema::kFinding).empty());
  // No divergence: an empty list, still valid.
  f.divergence.clear();
  EXPECT_TRUE(rundir::finding_json(f)["divergence"].empty());
  EXPECT_TRUE(
      schema::builtin_schemas().validate(rundir::finding_json(f), schema::kFinding).empty());
}

TEST(RunDir, WriteFindingLeavesInputReproducerAndRecordThatReplay) {
  const TempDir dir;
  Stream stream = parse_text("map 0x40000000 2M pa=0x80000000 prot=rw\nunmap 0x40000000 4K\n", "s");
  Finding f{Severity::Functional, "return-codes", 1, "unmap", "disagree", {"walker: ret 0"}};
  fs::path fdir = rundir::write_finding(dir, f, stream, {{"hits", 3}, {"source", "s.mmu"}});
  EXPECT_EQ(fdir, dir / "findings" / rundir::finding_dir_name(f));
  std::string bin = slurp(fdir / "input.bin");
  EXPECT_EQ(decode_binary(std::span(reinterpret_cast<const uint8_t*>(bin.data()), bin.size())),
            stream);
  std::string mmu = slurp(fdir / "repro.mmu");
  EXPECT_NE(mmu.find("# expect: functional/return-codes"), std::string::npos) << mmu;
  EXPECT_EQ(parse_text(mmu, "repro.mmu"), stream);
  auto record = nlohmann::json::parse(slurp(fdir / "finding.json"));
  EXPECT_EQ(record["hits"], 3);
  EXPECT_EQ(record["source"], "s.mmu");
  EXPECT_EQ(record["signature"], f.signature());
  EXPECT_TRUE(schema::builtin_schemas().validate(record, schema::kFinding).empty());
}

TEST(RunDir, ToolBackendsAndTimestampsAreWhatRunJsonRecords) {
  nlohmann::json tool = rundir::tool_json();
  EXPECT_FALSE(tool["version"].get<std::string>().empty());
  EXPECT_FALSE(tool["compiler"].get<std::string>().empty());
  nlohmann::json backends = rundir::backends_json({"walker"});
  ASSERT_EQ(backends.size(), 1u);
  EXPECT_EQ(backends[0]["name"], "walker");
  EXPECT_THROW(rundir::backends_json({"no-such-backend"}), std::invalid_argument);
#ifdef MMUDIFF_HAVE_LINUX61
  // The kernel's identity is its package version and file hashes.
  EXPECT_NE(rundir::backends_json({"linux61"})[0]["identity"].get<std::string>().find("pgtable.c:"),
            std::string::npos);
#endif
  EXPECT_EQ(rundir::utc_timestamp(std::chrono::system_clock::from_time_t(0)),
            "1970-01-01T00:00:00Z");
}

}  // namespace
}  // namespace mmudiff

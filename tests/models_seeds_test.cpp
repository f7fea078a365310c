// SPDX-License-Identifier: GPL-2.0-only
// Seed generation: regenerating the Z3 boundary seeds gives exactly the files in corpus/seeds/,
// and every one parses and runs equivalent through all backends.
#include <gtest/gtest.h>

#include <filesystem>

#include "mmu/ops/text_format.h"
#include "models/seeds.h"
#include "oracles/harness.h"
#include "tests/files.h"
#include "tests/temp_dir.h"

namespace {

using namespace mmudiff;
namespace fs = std::filesystem;
using mmudiff::testing::slurp;

TEST(Z3Seeds, RegenerateToTheCheckedInFiles) {
  models::Solver solver;
  const std::vector<models::SeedFile> seeds = models::generate_seeds(solver);
  ASSERT_EQ(seeds.size(), 4u);
  for (const models::SeedFile& s : seeds) {
    const fs::path checked_in = fs::path(MMUDIFF_SOURCE_DIR) / "corpus/seeds" / s.name;
    ASSERT_TRUE(fs::exists(checked_in)) << s.name << ": run 'mmudiff prove --emit-seeds "
                                        << "corpus/seeds'";
    EXPECT_EQ(slurp(checked_in), s.text) << s.name << " is stale: regenerate it";
  }
}

TEST(Z3Seeds, ParseAndRunEquivalentOnEveryBackend) {
  models::Solver solver;
  const mmudiff::testing::TempDir dir;
  const std::vector<std::string> paths = models::write_seeds(solver, dir.path().string());
  ASSERT_EQ(paths.size(), 4u);
  for (const std::string& path : paths) {
    Stream stream = parse_text(slurp(path), path);
    EXPECT_GT(stream.size(), 5u) << path;
    HarnessOptions options;
    options.check_every_op = true;
    StreamReport r = run_stream(stream, options);
    EXPECT_FALSE(r.bound_reached) << path;
    EXPECT_TRUE(r.findings.empty()) << path << ": " << r.findings.front().summary;
    EXPECT_EQ(r.backends, resolve_backends({})) << "every backend in this build ran it";
  }
}

TEST(Z3Seeds, HoldTheBoundariesZ3Found) {
  models::Solver solver;
  std::string pa, alignment, owner;
  for (const models::SeedFile& s : models::generate_seeds(solver)) {
    if (s.name == "z3-pa-range.mmu") pa = s.text;
    if (s.name == "z3-block-alignment.mmu") alignment = s.text;
    if (s.name == "z3-owner.mmu") owner = s.text;
  }
  // The last page below 2^40 and 2^48, the last 1 GiB block below 2^48, the first PA refused.
  EXPECT_NE(pa.find("pa=0xfffffff000 "), std::string::npos);
  EXPECT_NE(pa.find("pa=0xfffffffff000 "), std::string::npos);
  EXPECT_NE(pa.find("pa=0xffffc0000000 "), std::string::npos);
  EXPECT_NE(pa.find("pa=0x1000000000000 "), std::string::npos);
  EXPECT_NE(alignment.find("OA bit 12 is the first a level-3 leaf allows"), std::string::npos);
  EXPECT_NE(alignment.find("OA bit 21 is the first a level-2 leaf allows"), std::string::npos);
  EXPECT_NE(owner.find("owner=1 "), std::string::npos);
  EXPECT_NE(owner.find("owner=2 "), std::string::npos);
  EXPECT_NE(owner.find("owner=255 "), std::string::npos);
}

}  // namespace

// SPDX-License-Identifier: GPL-2.0-only
// `mmudiff repro` and `minimize` replay under the fuzz targets' own options
// (fuzz/target_options.h): the same hash key and the same table-page bound, so a crash file
// replays as the engine ran it. Checked through the real CLI against fuzz_target_options.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "fuzz/target_options.h"
#include "mmu/ops/text_format.h"
#include "mmu/ops/work_budget.h"
#include "oracles/harness.h"
#include "oracles/table_hash.h"
#include "tests/cli_runner.h"
#include "tests/files.h"
#include "tests/temp_dir.h"

namespace mmudiff {
namespace {

namespace fs = std::filesystem;

using testing::run_cli;

class ReproOptions : public testing::ScratchTest {};

// 4K maps a GiB apart: each needs a level-2 and a level-3 table page of its own.
std::string far_apart_maps(unsigned count) {
  std::string text = "init ia=40 fwb=0 nofwb=0 idmap=0 force_pte=never\n";
  for (unsigned i = 0; i < count; ++i)
    text += fmt::format("map {:#x} 4K pa={:#x} prot=rw mc=4\n", uint64_t{i} << 30,
                        0x80000000ULL + (uint64_t{i} << 12));
  return text;
}

TEST_F(ReproOptions, ReproRecordsTheFuzzTargetsHashKey) {
  const char* plant = "walker-reserved-bit";
  fs::path file = fs::path(MMUDIFF_SOURCE_DIR) / "corpus/regressions/plant-walker-reserved-bit.mmu";
  for (const std::string backends : {"", "walker,linux61"}) {
    fs::path out = dir_ / ("run" + std::to_string(backends.size()));
    testing::CliResult r = run_cli(fmt::format("repro --plant {} {} --out {} {}", plant,
                                               backends.empty() ? "" : "--backends " + backends,
                                               out.string(), file.string()));
    ASSERT_EQ(r.status, 1) << r.out;
    auto run = testing::read_json(out / "run.json");
    HarnessOptions target = fuzz_target_options(
        backends.empty() ? std::vector<std::string>{} : split_backend_list(backends),
        find_plant(plant)->id);
    EXPECT_EQ(run.at("hash_key"), format_sip_key(target.hash_key));
    // And the finding repro reports is the one the target's options give, localised.
    target.check_every_op = true;
    Stream stream = parse_text(testing::slurp(file), "f");
    StreamReport report = run_stream(stream, target);
    ASSERT_NE(report.worst(), nullptr);
    EXPECT_NE(r.out.find("[" + report.worst()->signature() + "]"), std::string::npos) << r.out;
  }
}

TEST_F(ReproOptions, ReproRefusesWhatTheFuzzTargetsPageBoundRefuses) {
  // Twice the fuzz bound in table pages, within the leaf budget: the fuzz target runs it into
  // its bound, where the default bound of `mmudiff run` has room to spare.
  unsigned maps = kFuzzMaxTablePages;
  Stream over = parse_text(far_apart_maps(maps), "over");
  ASSERT_TRUE(within_work_budget(over));
  EXPECT_TRUE(run_stream(over, fuzz_target_options({}, Plant::kNone)).bound_reached);
  EXPECT_FALSE(run_stream(over, HarnessOptions{}).bound_reached);
  testing::CliResult r = run_cli("repro " + write("over.mmu", far_apart_maps(maps)));
  EXPECT_EQ(r.status, 2) << r.out;

  // A tenth of it fits both.
  Stream under = parse_text(far_apart_maps(maps / 10), "under");
  EXPECT_FALSE(run_stream(under, fuzz_target_options({}, Plant::kNone)).bound_reached);
  r = run_cli("repro " + write("under.mmu", far_apart_maps(maps / 10)));
  EXPECT_EQ(r.status, 0) << r.out;
}

}  // namespace
}  // namespace mmudiff

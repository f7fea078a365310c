// SPDX-License-Identifier: GPL-2.0-only
#include "tools/mmudiff/campaign_coverage.h"

#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>

#include <fmt/format.h>

#include "reports/backend_coverage.h"
#include "reports/run_dir.h"

namespace mmudiff::cli {

namespace fs = std::filesystem;

namespace {

// A replay that takes longer than this is not worth holding the summary for.
constexpr auto kReplayLimit = std::chrono::seconds(180);

uint64_t count_inputs(const fs::path& dir) {
  uint64_t n = 0;
  if (fs::is_directory(dir))
    for (const auto& e : fs::directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

}  // namespace

std::string write_campaign_coverage(Engine engine, const FuzzBuild& build,
                                    const CampaignLayout& layout,
                                    const std::vector<std::string>& backends) {
  fs::path target = build.plain;
  if (engine == Engine::Afl) {
    try {
      target = find_fuzz_build(Engine::LibFuzzer, fuzz_build_dir(Engine::LibFuzzer, "")).plain;
    } catch (const std::invalid_argument&) {
      return "coverage by backend: not measured (it needs the fuzz preset's libFuzzer build)";
    }
  }
  WorkerSpec spec;
  spec.name = "coverage";
  spec.log = layout.work / "coverage.log";
  // Without the campaign's planted bug: the coverage of the backends' real code, and a replay
  // that does not stop at the first input showing the plant. Crash files stay in .work.
  spec.argv = {target.string(),
               "-runs=0",
               "-print_coverage=1",
               "-max_len=4096",
               fmt::format("-artifact_prefix={}/coverage-", layout.work.string()),
               layout.corpus.string(),
               build.seeds.string()};
  std::string joined;
  for (const auto& b : backends) joined += (joined.empty() ? "" : ",") + b;
  spec.env = {{"MMUDIFF_BACKENDS", joined}};
  std::vector<RunningWorker> replay{start_worker(spec)};
  auto deadline = std::chrono::steady_clock::now() + kReplayLimit;
  while (worker_running(&replay.front())) {
    if (std::chrono::steady_clock::now() > deadline) {
      stop_workers(&replay, 2.0);
      return fmt::format("coverage by backend: not measured (the replay took over {} s; log {})",
                         kReplayLimit.count(), spec.log.string());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::ifstream in(spec.log);
  std::string output((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto by_backend = parse_libfuzzer_coverage(output, spec.log.string());
  if (by_backend.empty())
    return fmt::format("coverage by backend: not measured (the replay listed no functions; log {})",
                       spec.log.string());
  uint64_t inputs = count_inputs(layout.corpus) + count_inputs(build.seeds);
  rundir::write_json_atomic(layout.out / rundir::kCoverageFile,
                            coverage_json(by_backend, inputs, target.string()));
  std::string line = "coverage by backend (edges reached):";
  for (const auto& [name, c] : by_backend) {
    if (name.empty()) continue;
    line += fmt::format(
        " {} {}/{} ({:.1f} %)", name, c.edges_covered, c.edges,
        c.edges ? 100.0 * static_cast<double>(c.edges_covered) / static_cast<double>(c.edges)
                : 0.0);
  }
  return line;
}

}  // namespace mmudiff::cli

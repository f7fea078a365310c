// SPDX-License-Identifier: GPL-2.0-only
// soak: random operation streams through the backends, without a fuzzing engine. Every finding is
// written as a .mmu reproducer before anything else happens.
#include <chrono>
#include <filesystem>
#include <limits>
#include <map>
#include <random>

#include <fmt/format.h>

#include "mmu/ops/random_stream.h"
#include "mmu/ops/sections.h"
#include "mmu/ops/text_format.h"
#include "oracles/harness.h"
#include "oracles/isolated_run.h"
#include "tools/mmudiff/arch_option.h"
#include "tools/mmudiff/backend_option.h"
#include "tools/mmudiff/commands.h"
#include "tools/mmudiff/number_option.h"
#include "tools/mmudiff/op_timeout_option.h"
#include "tools/mmudiff/output_path.h"
#include "tools/mmudiff/plant_option.h"
#include "tools/mmudiff/stream_io.h"

namespace mmudiff::cli {

namespace {

struct SoakArgs {
  size_t streams = 10000;
  uint64_t seed = 1;
  size_t max_ops = 64;
  std::vector<std::string> backends;
  std::string out = "soak-findings";
  bool every_op = false;
  std::string plant;
  double op_timeout = kDefaultOpTimeoutSeconds;
  ProfileId profile = ProfileId::Arm64Linux61;
  unsigned vcpus = 0;
  unsigned threads = 0;
};

}  // namespace

void add_soak_command(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<SoakArgs>();
  auto* cmd = app.add_subcommand(
      "soak", "Run random operation streams through the backends (no fuzzing engine needed)");
  cmd->add_option("-n,--streams", args->streams, "how many streams (default 10000)")
      ->transform(strict_unsigned())
      ->check(CLI::Range(size_t{1}, std::numeric_limits<size_t>::max()));
  cmd->add_option("--seed", args->seed, "random seed; the same seed gives the same streams")
      ->transform(strict_unsigned());
  cmd->add_option("--max-ops", args->max_ops, "operations per stream, at most (default 64)")
      ->transform(strict_unsigned())
      ->check(CLI::Range(size_t{1}, kMaxStreamOps));
  cmd->add_option("--out", args->out, "directory for findings (default soak-findings)");
  cmd->add_flag("--every-op", args->every_op, "compare tables after every operation (slower)");
  cmd->add_option("--vcpus", args->vcpus,
                  "2-4: some shared walks run in concurrent sections on that many vCPUs, under "
                  "random schedules (arm64-6.12 only)")
      ->transform(strict_unsigned())
      ->check(CLI::Range(2u, kMaxSectionVcpus));
  cmd->add_option("--threads", args->threads,
                  "2-4: run each concurrent section's vCPUs as real threads at once, judged by the "
                  "end-state oracles only (arm64-6.12 only; implies --vcpus N without it)")
      ->transform(strict_unsigned())
      ->check(CLI::Range(2u, kMaxSectionVcpus));
  add_backends_option(cmd, &args->backends);
  add_profile_option(cmd, &args->profile);
  add_plant_option(cmd, &args->plant);
  add_op_timeout_option(cmd, &args->op_timeout);
  cmd->callback([args, exit_code] {
    if (args->threads && args->profile != ProfileId::Arm64Linux612)
      throw std::invalid_argument(fmt::format(
          "--threads: real threads run concurrent sections, which only arm64-6.12 has, not {}: "
          "add --profile arm64-6.12",
          profile_name(args->profile)));
    // Checked before the first stream: a finding is never lost for want of a directory.
    bool created_out = prepare_output_directory(args->out);
    HarnessOptions options;
    options.backends = args->backends;
    options.check_every_op = args->every_op;
    options.hash_key = random_sip_key();
    auto names = resolve_backends(options.backends, args->profile);
    options.plant = resolve_plant(args->plant, "soak", names);
    if (const PlantInfo* p = plant_info(options.plant); p && p->profile() != args->profile)
      throw std::invalid_argument(
          fmt::format("plant '{}' is in the {} backend {}: soak it with "
                      "--profile {}",
                      p->name, profile_name(p->profile()), p->backend, profile_name(p->profile())));
    fmt::print("{}", plant_banner(options.plant));
    // A finding under a plant replays only with it: the file says so.
    std::string plant_line = args->plant.empty() ? "" : fmt::format("# plant: {}\n", args->plant);
    if (args->vcpus && args->profile != ProfileId::Arm64Linux612)
      throw std::invalid_argument(fmt::format(
          "--vcpus: concurrent sections are shared walks, which arm64-6.12 has and {} has not: "
          "add --profile arm64-6.12",
          profile_name(args->profile)));
    if (args->threads && !args->vcpus) args->vcpus = args->threads;
    options.threads = args->threads;
    std::mt19937_64 rng(args->seed);
    RandomStreamOptions ropt = RandomStreamOptions::of_profile(args->profile);
    ropt.max_ops = args->max_ops;
    ropt.vcpus = args->vcpus;
    IsolationOptions isolation;
    isolation.op_timeout_seconds = args->op_timeout;
    std::map<std::string, size_t> by_signature;
    size_t ops = 0, refused = 0, with_findings = 0, raced_apart = 0;
    ThreadedStats threaded;
    auto start = std::chrono::steady_clock::now();
    for (size_t n = 0; n < args->streams; ++n) {
      Stream stream = random_stream(rng, ropt);
      ops += stream.size();
      // A stream on which a backend crashes or hangs is a finding like any other.
      StreamReport r = run_isolated(stream, options, isolation).report;
      threaded.sections += r.threaded.sections;
      threaded.lost_cmpxchgs += r.threaded.lost_cmpxchgs;
      threaded.eagain += r.threaded.eagain;
      raced_apart += r.threaded.raced_apart;
      if (r.bound_reached) {
        ++refused;
        continue;
      }
      if (r.findings.empty()) continue;
      ++with_findings;
      const Finding& w = *r.worst();
      if (by_signature[w.signature()]++ == 0) {
        // The file's verdict is the one repro will print: with tables compared after every
        // operation the stream stops at its first divergence, which may be a milder one.
        // A crash or hang already names its operation, and would only happen again.
        HarnessOptions localise = options;
        localise.check_every_op = true;
        StreamReport localised;
        if (!is_crash_finding(w)) localised = run_isolated(stream, localise, isolation).report;
        const Finding& first = localised.worst() ? *localised.worst() : w;
        std::string name = w.signature();
        for (auto& c : name)
          if (c == '/') c = '-';
        std::string path = fmt::format("{}/{}.mmu", args->out, name);
        write_file_atomic(path, fmt::format("# soak seed {} stream {}: {}\n# expect: {}/{}\n{}{}",
                                            args->seed, n, w.summary, severity_name(first.severity),
                                            first.oracle, plant_line, format_stream(stream)));
        fmt::print("finding [{}] in stream {}: {}\n  written to {}\n", w.signature(), n, w.summary,
                   path);
        for (const auto& e : w.evidence) fmt::print("    {}\n", e);
      }
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print(
        "soak: {} {} streams ({} operations) through {} in {:.1f} s ({:.0f} streams/s); seed "
        "{}\n",
        args->streams, profile_name(args->profile), ops, fmt::join(names, ", "), secs,
        double(args->streams) / secs, args->seed);
    fmt::print("soak: {} with findings in {} distinct signatures, {} refused by the memory bound\n",
               with_findings, by_signature.size(), refused);
    // Whether the threads raced at all: on two cores they seldom do (docs/concurrency.md).
    if (args->threads)
      fmt::print(
          "soak: threads: {} sections on real threads (per lane), {} lost cmpxchgs, {} -EAGAIN "
          "results, {} streams whose lanes raced apart\n",
          threaded.sections, threaded.lost_cmpxchgs, threaded.eagain, raced_apart);
    // A soak without findings leaves no empty directory behind.
    std::error_code ignored;
    if (created_out && by_signature.empty()) std::filesystem::remove(args->out, ignored);
    *exit_code = with_findings ? kExitFinding : kExitAgree;
  });
}

}  // namespace mmudiff::cli

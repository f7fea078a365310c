// SPDX-License-Identifier: GPL-2.0-only
// semdiff A B: what changed between two kernels' page-table code (reports/kernel_diff.h), as
// someone upgrading from A to B would want to know it: each class of behavioural difference with
// how often it showed and a shrunk example; a kernel that crashes or hangs is a class too
// (category "crash"). Exit 0 when the streams showed no difference, 1 when
// they did, 2 on bad usage.
#include <filesystem>

#include <fmt/format.h>

#include "mmu/backend.h"
#include "reports/kernel_diff.h"
#include "reports/run_dir.h"
#include "tools/mmudiff/commands.h"
#include "tools/mmudiff/number_option.h"
#include "tools/mmudiff/op_timeout_option.h"
#include "tools/mmudiff/output_path.h"

namespace mmudiff::cli {

namespace {

struct SemdiffArgs {
  std::string a, b;
  double seconds = 10;
  size_t streams = 0;
  uint64_t seed = 1;
  double op_timeout = kDefaultOpTimeoutSeconds;
  bool no_shrink = false;
  std::string json_path;
  std::string out_dir;
};

}  // namespace

void add_semdiff_command(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<SemdiffArgs>();
  auto* cmd = app.add_subcommand(
      "semdiff",
      "What changed between two kernels: the same streams through both, each class of "
      "behavioural difference with a minimal example");
  cmd->add_option("a", args->a, "the backend before (e.g. linux61)")->required();
  cmd->add_option("b", args->b, "the backend after (e.g. linux612)")->required();
  cmd->add_option("--time", args->seconds, "seconds of random streams (0: no time limit)")
      ->transform(finite_decimal())
      ->check(CLI::Range(0.0, 86400.0));
  cmd->add_option("--streams", args->streams, "stop after this many streams (0: no limit)")
      ->transform(strict_unsigned());
  cmd->add_option("--seed", args->seed, "of the random streams")->transform(strict_unsigned());
  add_op_timeout_option(cmd, &args->op_timeout);
  cmd->add_flag("--no-shrink", args->no_shrink, "keep each class's first example as found");
  cmd->add_option("--json", args->json_path, "also write the classes as JSON (mmudiff/semdiff-1)");
  cmd->add_option("--out", args->out_dir,
                  "a campaign's run directory: write semdiff.json into it, which `mmudiff report` "
                  "renders as a section");
  cmd->callback([args, exit_code] {
    const BackendInfo* a = nullptr;
    const BackendInfo* b = nullptr;
    for (const auto& [name, info] : {std::pair{&args->a, &a}, std::pair{&args->b, &b}}) {
      // "walker" and "legacy" exist for each architecture: the first one's, unless the other
      // backend named is of another.
      for (const BackendInfo& r : registered_backends())
        if (r.name == *name && !*info) *info = &r;
      if (!*info) {
        std::string known;
        for (const BackendInfo& r : registered_backends())
          if (known.find(std::string(r.name) + ",") == std::string::npos)
            known += std::string(r.name) + ", ";
        known.resize(known.size() - 2);
        fmt::print(stderr, "mmudiff: semdiff: no backend '{}' (built: {})\n", *name, known);
        *exit_code = kExitBadInput;
        return;
      }
    }
    if (a->arch != b->arch) {
      if (const BackendInfo* same = find_backend(a->name, b->arch))
        a = same;
      else if (const BackendInfo* same_b = find_backend(b->name, a->arch))
        b = same_b;
    }
    if (a->arch != b->arch) {
      fmt::print(stderr, "mmudiff: semdiff: {} and {} are backends of different architectures\n",
                 a->name, b->name);
      *exit_code = kExitBadInput;
      return;
    }
    if (args->seconds == 0 && args->streams == 0) {
      fmt::print(stderr, "mmudiff: semdiff: --time 0 needs --streams N\n");
      *exit_code = kExitBadInput;
      return;
    }
    if (!args->json_path.empty()) check_output_file(args->json_path);
    // Checked before the streams run: a wrong --out must not cost the run.
    if (!args->out_dir.empty() && !std::filesystem::is_regular_file(
                                      std::filesystem::path(args->out_dir) / rundir::kRunFile)) {
      fmt::print(stderr, "mmudiff: semdiff: {}: not a run directory (no {})\n", args->out_dir,
                 rundir::kRunFile);
      *exit_code = kExitBadInput;
      return;
    }
    KernelDiffOptions options;
    options.seconds = args->seconds;
    options.max_streams = args->streams;
    options.seed = args->seed;
    options.shrink = !args->no_shrink;
    options.op_timeout_seconds = args->op_timeout;
    const KernelDiffReport report = kernel_diff(*a, *b, options);
    fmt::print("{}", kernel_diff_text(report));
    const nlohmann::json j = kernel_diff_json(report);
    if (!args->json_path.empty()) rundir::write_json_atomic(args->json_path, j);
    if (!args->out_dir.empty()) {
      const auto path = std::filesystem::path(args->out_dir) / rundir::kSemdiffFile;
      rundir::write_json_atomic(path, j);
      fmt::print("wrote {}; `mmudiff report {}` renders it\n", path.string(), args->out_dir);
    }
    *exit_code = report.classes.empty() ? kExitAgree : kExitFinding;
  });
}

}  // namespace mmudiff::cli

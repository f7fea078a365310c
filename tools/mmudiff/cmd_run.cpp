// SPDX-License-Identifier: GPL-2.0-only
// run: replay streams through the backends and print every oracle's verdict.
#include <optional>

#include <fmt/format.h>

#include "mmu/ops/text_format.h"
#include "oracles/harness.h"
#include "oracles/isolated_run.h"
#include "reports/run_recorder.h"
#include "tools/mmudiff/backend_option.h"
#include "tools/mmudiff/commands.h"
#include "tools/mmudiff/number_option.h"
#include "tools/mmudiff/op_timeout_option.h"
#include "tools/mmudiff/output_path.h"
#include "tools/mmudiff/plant_option.h"
#include "tools/mmudiff/report_text.h"
#include "tools/mmudiff/stream_io.h"
#ifdef MMUDIFF_HAVE_LINUX61
#include "mmu/linux61/linux61_backend.h"
#endif
#ifdef MMUDIFF_HAVE_LINUX612_TDP
#include "mmu/linux612_tdp/linux612_source_info.h"
#endif
#ifdef MMUDIFF_HAVE_LINUX612
#include "mmu/linux612/linux612_backend.h"
#endif

namespace mmudiff::cli {

namespace {

struct RunArgs {
  std::vector<std::string> files;
  std::vector<std::string> backends;
  bool every_op = false;
  bool quiet = false;
  size_t max_pages = MemoryLimits{}.max_pages;
  std::string hash_key;
  std::string plant;
  std::string out;
  double op_timeout = kDefaultOpTimeoutSeconds;
};

}  // namespace

void add_run_command(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand(
      "run", "Replay operation streams through the backends and print each oracle's verdict");
  cmd->add_option("FILE", args->files, ".mmu text or binary stream files")->required();
  add_backends_option(cmd, &args->backends);
  add_plant_option(cmd, &args->plant);
  cmd->add_flag("--every-op", args->every_op,
                "compare tables after every operation to find the first diverging one");
  cmd->add_flag("-q,--quiet", args->quiet, "print only the oracles' verdicts, not each operation");
  cmd->add_option("--max-table-pages", args->max_pages,
                  "memory bound per backend, in 4 KiB table pages (the oracles may keep as much "
                  "again, plus 16 MiB); larger streams are refused")
      ->transform(strict_unsigned())
      ->check(CLI::Range(size_t{16}, max_table_pages_that_fit(registered_backends().size())));
  cmd->add_option(
      "--hash-key", args->hash_key,
      "SipHash key of the masked hash, 32 hex digits (default: a new random key, printed)");
  cmd->add_option("--out", args->out,
                  "also write a run directory (run.json, corpus/, findings/) for 'mmudiff report'");
  add_op_timeout_option(cmd, &args->op_timeout);
  cmd->callback([args, exit_code] {
    // A bad --out is refused before anything runs or is printed.
    if (!args->out.empty()) prepare_output_directory(args->out);
    HarnessOptions options;
    options.backends = args->backends;
    options.check_every_op = args->every_op;
    options.limits.max_pages = args->max_pages;
    // Unknown names are rejected before any file is read.
    options.plant = resolve_plant(args->plant, "run", options.backends);
    options.hash_key = args->hash_key.empty() ? random_sip_key() : parse_sip_key(args->hash_key);
    fmt::print("{}hash key: {}\n", plant_banner(options.plant), format_sip_key(options.hash_key));
#ifdef MMUDIFF_HAVE_LINUX61
    fmt::print("{}\n", linux61_source_info().summary());
#endif
#ifdef MMUDIFF_HAVE_LINUX612_TDP
    fmt::print("{}\n", linux612_source_info().summary());
#endif
#ifdef MMUDIFF_HAVE_LINUX612
    fmt::print("{}\n", linux612_arm64_source_info().summary());
#endif
    IsolationOptions isolation;
    isolation.op_timeout_seconds = args->op_timeout;
    std::optional<RunRecorder> recorder;
    if (!args->out.empty()) recorder.emplace(args->out, "run", options, args->files);
    int worst = kExitAgree;
    for (const auto& file : args->files) {
      Stream stream;
      try {
        stream = load_stream(file);
      } catch (const InputError& e) {
        fmt::print(stderr, "mmudiff: {}\n", e.what());
        worst = kExitBadInput;
        continue;
      }
      // A backend that crashes or hangs on this file is a finding; the next file still runs.
      IsolatedRun run = run_isolated(stream, options, isolation);
      const StreamReport& report = run.report;
      if (recorder) recorder->add(file, stream, report);
      fmt::print("{}", format_stream_report(file, report, !args->quiet, run.completed));
      if (report.bound_reached) {
        fmt::print(stderr, "mmudiff: {}: refused: {}\n", file, report.refusal);
        worst = kExitBadInput;
      } else if (!report.equivalent() && worst != kExitBadInput) {
        worst = kExitFinding;
      }
    }
    if (recorder) {
      recorder->finish();
      fmt::print("run directory: {} (mmudiff report {} renders it)\n", args->out, args->out);
    }
    *exit_code = worst;
  });
}

}  // namespace mmudiff::cli

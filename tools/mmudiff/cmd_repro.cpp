// SPDX-License-Identifier: GPL-2.0-only
// repro: replay a crash or divergence file bit for bit, localising the first diverging operation.
// minimize: shrink it to a small .mmu reproducer with the same kind of finding.
#include <fmt/format.h>

#include "fuzz/minimize.h"
#include "fuzz/target_options.h"
#include "mmu/ops/text_format.h"
#include "oracles/harness.h"
#include "oracles/isolated_run.h"
#include "reports/run_recorder.h"
#include "tools/mmudiff/backend_option.h"
#include "tools/mmudiff/commands.h"
#include "tools/mmudiff/op_timeout_option.h"
#include "tools/mmudiff/output_path.h"
#include "tools/mmudiff/plant_option.h"
#include "tools/mmudiff/report_text.h"
#include "tools/mmudiff/stream_io.h"

namespace mmudiff::cli {

namespace {

struct ReproArgs {
  std::string file;
  std::string output;
  std::vector<std::string> backends;
  std::string plant;
  std::string out;  // repro only: a run directory to write
  double op_timeout = kDefaultOpTimeoutSeconds;
};

HarnessOptions repro_options(const ReproArgs& a, std::string_view command) {
  // The fuzz targets' own options (hash key, table-page bound), so a crash file replays exactly
  // as the fuzzer saw it; then tables compared after every operation to localise the finding.
  HarnessOptions o = fuzz_target_options(a.backends, resolve_plant(a.plant, command, a.backends));
  o.check_every_op = true;
  return o;
}

IsolationOptions isolation(const ReproArgs& a) {
  IsolationOptions i;
  i.op_timeout_seconds = a.op_timeout;
  return i;
}

}  // namespace

void add_repro_commands(CLI::App& app, int* exit_code) {
  auto rargs = std::make_shared<ReproArgs>();
  auto* repro = app.add_subcommand(
      "repro",
      "Replay a finding (binary crash file or .mmu) operation by operation; exit 1 while it "
      "still reproduces, 0 when it no longer does");
  repro->add_option("FILE", rargs->file, "crash file (binary) or .mmu stream")->required();
  add_backends_option(repro, &rargs->backends);
  add_plant_option(repro, &rargs->plant);
  repro->add_option(
      "--out", rargs->out,
      "also write a run directory (run.json, corpus/, findings/) for 'mmudiff report'");
  add_op_timeout_option(repro, &rargs->op_timeout);
  repro->callback([rargs, exit_code] {
    // A bad --out is refused before the replay, not after it.
    if (!rargs->out.empty()) prepare_output_directory(rargs->out);
    HarnessOptions options = repro_options(*rargs, "repro");
    Stream stream = load_stream(rargs->file);
    fmt::print("{}# {} as .mmu text\n{}", plant_banner(options.plant), rargs->file,
               format_stream(stream));
    IsolatedRun run = run_isolated(stream, options, isolation(*rargs));
    const StreamReport& report = run.report;
    fmt::print("{}", format_stream_report(rargs->file, report, true, run.completed));
    if (!rargs->out.empty()) {
      RunRecorder recorder(rargs->out, "repro", options, {rargs->file});
      recorder.add(rargs->file, stream, report);
      recorder.finish();
      fmt::print("run directory: {} (mmudiff report {} renders it)\n", rargs->out, rargs->out);
    }
    *exit_code = report.bound_reached      ? kExitBadInput
                 : report.findings.empty() ? kExitAgree
                                           : kExitFinding;
  });

  auto margs = std::make_shared<ReproArgs>();
  auto* min = app.add_subcommand(
      "minimize", "Shrink a finding to a small .mmu reproducer with the same class and oracle");
  min->add_option("FILE", margs->file, "crash file (binary) or .mmu stream")->required();
  min->add_option("-o,--output", margs->output, "where to write the .mmu reproducer")->required();
  add_backends_option(min, &margs->backends);
  add_plant_option(min, &margs->plant);
  add_op_timeout_option(min, &margs->op_timeout);
  min->callback([margs, exit_code] {
    // The same options as repro, tables compared after every operation: the finding kept is the
    // one repro reports first, so the reproducer replays to the verdict its "# expect:" names.
    HarnessOptions options = repro_options(*margs, "minimize");
    // Refused before the first of many runs, not when the first improvement is written.
    check_output_file(margs->output);
    Stream stream = load_stream(margs->file);
    // Every candidate in a child: a crash or a hang is a finding to keep, not the end.
    StreamRunner runner = [iso = isolation(*margs)](const Stream& s, const HarnessOptions& o) {
      return run_isolated(s, o, iso).report;
    };
    auto kind = finding_kind(runner(stream, options));
    if (!kind) {
      fmt::print(stderr, "mmudiff: {}: produces no finding; nothing to minimise\n", margs->file);
      *exit_code = kExitBadInput;
      return;
    }
    MinimizeResult r = minimize(
        stream, options,
        [&](const Stream& s) {
          // Every improvement is on disk at once: an interrupted minimisation loses nothing.
          write_file_atomic(margs->output, format_stream(s));
        },
        runner);
    // The reproducer replays only with the plant it was found under: the file says which.
    std::string plant_line = margs->plant.empty() ? "" : fmt::format("# plant: {}\n", margs->plant);
    std::string text = fmt::format(
        "# minimised from {}: {} -> {} operations, {} runs\n# expect: {}/{}\n{}{}", margs->file,
        stream.size(), r.stream.size(), r.runs, severity_name(r.kind.severity), r.kind.oracle,
        plant_line, format_stream(r.stream));
    write_file_atomic(margs->output, text);
    fmt::print("{}: {} -> {} operations ({}/{}), written to {}\n", margs->file, stream.size(),
               r.stream.size(), severity_name(r.kind.severity), r.kind.oracle, margs->output);
    *exit_code = kExitAgree;
  });
}

}  // namespace mmudiff::cli

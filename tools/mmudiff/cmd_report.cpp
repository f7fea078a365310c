// SPDX-License-Identifier: GPL-2.0-only
// report: regenerate report.json and report.html from a run directory alone.
#include <fmt/format.h>

#include "mmu/ops/text_format.h"
#include "reports/report.h"
#include "tools/mmudiff/commands.h"
#include "tools/mmudiff/op_timeout_option.h"

namespace mmudiff::cli {

void add_report_command(CLI::App& app, int* exit_code) {
  auto dir = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "report",
      "Write RUN_DIR/report.json and a self-contained RUN_DIR/report.html (verdict, plots, "
      "findings, proofs) from the run directory alone, replaying its corpus into "
      "exercised.json and running the Z3 proofs into proofs.json when they are missing; needs "
      "gnuplot for the plots");
  cmd->add_option("RUN_DIR", *dir, "a directory written by campaign, run --out or repro --out")
      ->required();
  auto op_timeout = std::make_shared<double>();
  add_op_timeout_option(cmd, op_timeout.get());
  cmd->callback([dir, op_timeout, exit_code] {
    WrittenReport r;
    try {
      r = write_report(*dir, *op_timeout);
    } catch (const InputError& e) {
      throw;  // main prints it and exits 2
    } catch (const std::runtime_error& e) {
      // No gnuplot, a failed plot, a directory we cannot write: one line, like bad input.
      fmt::print(stderr, "mmudiff: {}\n", e.what());
      *exit_code = kExitBadInput;
      return;
    }
    if (r.exercised_computed) fmt::print("exercised: {}/exercised.json (replayed)\n", *dir);
    if (r.proofs_computed) fmt::print("proofs: {}/proofs.json (proved)\n", *dir);
    for (const auto& [path, reason] : r.skipped)
      fmt::print("skipped: {}/{}: {}\n", *dir, path, reason);
    fmt::print("{}\nreport: {}\nreport: {}\n", r.verdict, r.json.string(), r.html.string());
    *exit_code = r.equivalent ? kExitAgree : kExitFinding;
  });
}

}  // namespace mmudiff::cli

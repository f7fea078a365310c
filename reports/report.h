// SPDX-License-Identifier: GPL-2.0-only
// `mmudiff report RUN_DIR`: regenerates report.json and report.html from the run directory alone,
// replaying its streams into exercised.json first when that is missing, and running the Z3
// proofs into proofs.json (about 12 s on two cores with x86's) when that is: the report states what
// was proved as well as what was tested. Every file is written atomically, so a report of an
// interrupted or still-running campaign is always whole.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "oracles/isolated_run.h"

namespace mmudiff {

struct WrittenReport {
  std::filesystem::path json, html;
  bool exercised_computed = false;  // exercised.json was missing and has been written
  bool proofs_computed = false;     // proofs.json was missing and has been written
  std::string verdict;              // the verdict line
  // What could not be read (path relative to the run directory, why): report.json's "skipped".
  std::vector<std::pair<std::string, std::string>> skipped;
  bool equivalent = false;  // no divergence and no failed proof
};

// Throws InputError (one line naming the file) for a missing or malformed run directory,
// PlotterMissing without gnuplot, std::runtime_error for a file that cannot be written. Nothing
// is written unless everything could be made. OP_TIMEOUT_SECONDS bounds each operation of the
// corpus replay (oracles/isolated_run.h): a stream that crashes or hangs is counted, not fatal.
WrittenReport write_report(const std::filesystem::path& run_dir,
                           double op_timeout_seconds = kDefaultOpTimeoutSeconds);

}  // namespace mmudiff

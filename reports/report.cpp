// SPDX-License-Identifier: GPL-2.0-only
#include "reports/report.h"

#include <algorithm>
#include <array>
#include <stdexcept>

#include <fmt/format.h>

#include "mmu/ops/text_format.h"
#include "mmu/plants.h"
#include "mmu/profile/profile.h"
#include "oracles/harness.h"
#include "reports/exercised.h"
#include "reports/json_schema.h"
#include "reports/plots.h"
#include "reports/proofs_json.h"
#include "reports/report_html.h"
#include "reports/report_json.h"
#include "reports/run_dir.h"
#include "reports/run_dir_load.h"

namespace mmudiff {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The planted bug run.json names ("" for none), checked to be one this build has.
std::string plant_of(const LoadedRun& run) {
  if (run.run["plant"].is_null()) return "";
  std::string name = run.run["plant"];
  if (!find_plant(name))
    throw InputError(
        fmt::format("{}: unknown planted bug '{}'", (run.dir / rundir::kRunFile).string(), name));
  return name;
}

// The harness configuration run.json describes, so the replay runs what the run ran.
HarnessOptions replay_options(const LoadedRun& run) {
  std::string where = (run.dir / rundir::kRunFile).string();
  HarnessOptions options;
  for (const auto& b : run.run["backends"]) {
    std::string name = b["name"];
    bool known = false;
    for (const auto& r : registered_backends()) known = known || r.name == name;
    if (!known)
      throw InputError(
          fmt::format("{}: backend '{}' is not in this build of mmudiff", where, name));
    options.backends.push_back(name);
  }
  if (std::string plant = plant_of(run); !plant.empty()) options.plant = find_plant(plant)->id;
  options.hash_key = parse_sip_key(run.run["hash_key"].get<std::string>());
  return options;
}

// The formats whose proofs speak of what the run tested: those of the architectures of the
// operations it ran (arm64's when it ran none).
std::vector<std::string> tested_formats(const json& exercised) {
  std::array<bool, kArchCount> tested{};
  if (exercised.contains("ops_by_kind"))
    for (const auto& [name, count] : exercised["ops_by_kind"].items()) {
      OpKind kind;
      if (!count.is_number_unsigned() || count.get<uint64_t>() == 0 ||
          !op_kind_from_name(name, &kind))
        continue;
      if (std::optional<Arch> arch = op_arch(kind)) tested[static_cast<size_t>(*arch)] = true;
    }
  if (std::ranges::none_of(tested, [](bool t) { return t; }))
    tested[static_cast<size_t>(Arch::Arm64S2)] = true;
  std::vector<std::string> formats;
  for (size_t a = 0; a < kArchCount; ++a)
    if (tested[a]) formats.emplace_back(profile(static_cast<Arch>(a)).format_family);
  return formats;
}

}  // namespace

WrittenReport write_report(const fs::path& run_dir, double op_timeout_seconds) {
  LoadedRun run = load_run_dir(run_dir);
  WrittenReport written;
  json exercised;
  if (run.exercised) {
    exercised = *run.exercised;
  } else {
    IsolationOptions isolation;
    isolation.op_timeout_seconds = op_timeout_seconds;
    exercised = compute_exercised(run_dir, replay_options(run), isolation);
    check_schema(exercised, schema::kExercised, "exercised.json (computed)");
    written.exercised_computed = true;
  }
  if (!run.proofs) {
    // With the run's planted bug, as `prove --plant` would: the proofs speak of the code the
    // run tested.
    run.proofs = run_proofs_json(plant_of(run), 20000, tested_formats(exercised));
    check_schema(*run.proofs, schema::kProofs, "proofs.json (computed)");
    written.proofs_computed = true;
  }
  json report = build_report(run, exercised);
  // What we write must meet our own schema; if it does not, that is a bug here, not bad input.
  if (auto errors = schema::builtin_schemas().validate(report, schema::kReport); !errors.empty())
    throw std::logic_error(fmt::format("report.json does not meet its schema: {}", errors.front()));
  std::vector<Plot> plots = render_plots(report);
  std::string html = render_report_html(report, plots);

  if (written.exercised_computed)
    rundir::write_json_atomic(run_dir / rundir::kExercisedFile, exercised);
  if (written.proofs_computed)
    rundir::write_json_atomic(run_dir / rundir::kProofsFile, *run.proofs);
  written.json = run_dir / rundir::kReportJson;
  written.html = run_dir / rundir::kReportHtml;
  rundir::write_json_atomic(written.json, report);
  rundir::write_file_atomic(written.html, html);
  const json& verdict = report["verdict"];
  written.verdict = verdict["line"];
  for (const auto& s : report["skipped"]) written.skipped.emplace_back(s["path"], s["reason"]);
  written.equivalent = verdict["equivalent"].get<bool>() && verdict.value("proofs_failed", 0) == 0;
  return written;
}

}  // namespace mmudiff

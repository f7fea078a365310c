// SPDX-License-Identifier: GPL-2.0-only
// report.json: everything a run directory holds, summarised, with the verdict a developer quotes
// ("equivalent on N sequences / M divergences in K classes"). Built from the run directory alone.
#pragma once

#include <nlohmann/json.hpp>

#include "reports/run_dir_load.h"

namespace mmudiff {

// The verdict: sequences run (run.json's executions, or the streams exercised.json replayed when
// run.json has none), distinct finding signatures, distinct classes, proofs, and the line.
nlohmann::json report_verdict(const LoadedRun& run, const nlohmann::json& exercised);

// mmudiff/report-1 (reports/schema/report-1.schema.json). EXERCISED is exercised.json.
nlohmann::json build_report(const LoadedRun& run, const nlohmann::json& exercised);

// 1234567 -> "1,234,567".
std::string group_thousands(uint64_t n);

}  // namespace mmudiff

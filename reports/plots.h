// SPDX-License-Identifier: GPL-2.0-only
// The report's plots, drawn by gnuplot's SVG terminal from report.json's numbers and returned as
// SVG elements ready to inline in HTML (XML prologue dropped, ids made unique per plot).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mmudiff {

struct Plot {
  std::string id;  // "executions", "coverage", "operations", "return-codes", "levels", "leaf-sizes"
  std::string caption;  // one sentence under the plot
  std::string svg;      // "<svg ...>...</svg>"
};

// gnuplot is not installed (or not in PATH): what() is one line saying which package to install.
class PlotterMissing : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The plots REPORT (mmudiff/report-1) has data for: executions and coverage over time only when
// it has progress samples. Runs gnuplot once; throws PlotterMissing, or std::runtime_error with
// gnuplot's first error line.
std::vector<Plot> render_plots(const nlohmann::json& report);

}  // namespace mmudiff

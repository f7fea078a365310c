// SPDX-License-Identifier: GPL-2.0-only
// report.html: one self-contained file (inline CSS and SVG, no request leaves the page, which its
// Content-Security-Policy enforces) that opens from disk: the verdict first, then the run, the
// plots, the findings with their first divergence side by side per backend, and the proofs.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/plots.h"

namespace mmudiff {

// REPORT is mmudiff/report-1; PLOTS as render_plots made them from it.
std::string render_report_html(const nlohmann::json& report, const std::vector<Plot>& plots);

// &, <, >, " and ' as entities.
std::string html_escape(std::string_view text);

}  // namespace mmudiff

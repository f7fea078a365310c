// SPDX-License-Identifier: GPL-2.0-only
// The human-readable account of one stream's run: operations with results, each oracle's
// verdict, and for a divergence the first diverging operation with its evidence.
#pragma once

#include <string>

#include "oracles/harness.h"

namespace mmudiff::cli {

// COMPLETED false: the replay crashed or hung (oracles/isolated_run.h) and no oracle looked at
// the tables; the report holds only that finding.
std::string format_stream_report(const std::string& source, const StreamReport& report,
                                 bool show_ops, bool completed = true);

}  // namespace mmudiff::cli

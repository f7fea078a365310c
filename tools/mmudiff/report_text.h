// SPDX-License-Identifier: GPL-2.0-only
// The human-readable account of one stream's run: operations with results, each oracle's
// verdict, and for a divergence the first diverging operation with its evidence.
#pragma once

#include <string>

#include "oracles/harness.h"

namespace mmudiff::cli {

std::string format_stream_report(const std::string& source, const StreamReport& report,
                                 bool show_ops);

}  // namespace mmudiff::cli

// SPDX-License-Identifier: GPL-2.0-only
// A StreamReport as bytes, for a replay in a child process (oracles/isolated_run.h) to hand its
// outcome to the parent: everything the commands print and record except the stream itself,
// which the parent already has.
#pragma once

#include <string>

#include "oracles/harness.h"

namespace mmudiff {

std::string encode_stream_report(const StreamReport& report);
// The report encode_stream_report(R) encoded, with STREAM as its stream. Throws
// std::runtime_error when the bytes are not such a report.
StreamReport decode_stream_report(const std::string& bytes, const Stream& stream);

// One finding alone, as a replay sends each on before its report (HarnessOptions::on_finding).
std::string encode_finding(const Finding& finding);
// Throws std::runtime_error when the bytes are not such a finding.
Finding decode_finding(const std::string& bytes);

}  // namespace mmudiff

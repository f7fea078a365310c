// SPDX-License-Identifier: GPL-2.0-only
// Shrinks a stream that produces a finding to a small one that produces the same kind of finding
// (same class and oracle, and for a crash the same signal): delta debugging over whole operations,
// then simpler operands.
#pragma once

#include <functional>
#include <string>

#include "mmu/ops/op.h"
#include "oracles/harness.h"

namespace mmudiff {

struct FindingKind {
  Severity severity;
  std::string oracle;
  // A crash's or a hang's rule ("SIGSEGV", "timeout"; oracles/isolated_run.h), so a crash does
  // not shrink into the memory oracle's own finding of the same class; empty otherwise.
  std::string crash = {};
  bool operator==(const FindingKind&) const = default;
};

// The most severe finding's kind, if the stream has one.
std::optional<FindingKind> finding_kind(const StreamReport& report);

struct MinimizeResult {
  Stream stream;
  FindingKind kind;
  size_t runs = 0;  // streams executed while minimising
};

// How each candidate is run: run_stream, or a replay that survives a crashing backend
// (oracles/isolated_run.h), so a crash or hang can be minimised too.
using StreamRunner = std::function<StreamReport(const Stream&, const HarnessOptions&)>;

// The shrinking itself, for any property of a stream: drops operations (ddmin) and simplifies
// operands while `keeps` holds, which it must for `stream`.
struct ShrinkResult {
  Stream stream;
  size_t runs = 0;  // candidates tried
};
ShrinkResult shrink(const Stream& stream, const std::function<bool(const Stream&)>& keeps,
                    const std::function<void(const Stream&)>& progress = {});

// Requires that `stream` produces a finding under `options`; throws std::invalid_argument if not.
// `progress` (optional) is told each time the stream shrinks; `runner` (default run_stream) runs
// every candidate.
MinimizeResult minimize(const Stream& stream, const HarnessOptions& options,
                        const std::function<void(const Stream&)>& progress = {},
                        const StreamRunner& runner = {});

}  // namespace mmudiff

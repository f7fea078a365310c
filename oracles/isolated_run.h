// SPDX-License-Identifier: GPL-2.0-only
// A stream replayed in a child process, so that a backend that crashes (a segfault, an abort, a
// sanitizer's report) or never returns from an operation ends the replay, not the command: it
// becomes a finding of its own, and the caller goes on with its next stream.
//
// The child (oracles/child_process.h) runs run_stream and sends its StreamReport back through a
// pipe, and before that each finding as soon as the operation that made it has been judged, so
// that a crash later in the stream does not take them with it. Before each backend applies an
// operation, the harness's on_apply hook marks which operation and which backend lane in the
// progress record the parent shares; when the record has not moved for the operation timeout, the
// parent kills the child. A child that dies without a report gives a finding of class security:
// oracle "memory" with rule "SIGSEGV", "SIGBUS", "SIGABRT", ... or "sanitizer" (with the
// sanitizer's first line from the child's stderr), or oracle "hang" with rule "timeout"; its
// backend and operation are the ones the record names. It comes after the findings the child sent
// before it died.
//
// The fuzz targets do not use this: the engines catch crashes and timeouts themselves.
#pragma once

#include <functional>
#include <string>

#include "oracles/harness.h"

namespace mmudiff {

inline constexpr double kDefaultOpTimeoutSeconds = 5.0;

struct IsolationOptions {
  // An operation that has not returned after this long is a hang: the child is killed.
  double op_timeout_seconds = kDefaultOpTimeoutSeconds;
  // Runs in the child once the stream is done (after HarnessOptions::inspect_final, which also
  // runs there); what it returns comes back as IsolatedRun::payload.
  std::function<std::string()> child_payload;
};

struct IsolatedRun {
  // run_stream's report; when the child died, the stream, the backends, the findings it sent
  // and last the crash or hang.
  StreamReport report;
  bool completed = true;  // false: the child crashed or hung before it could report
  std::string payload;
};

// Throws what run_stream throws (std::invalid_argument for an unknown backend, ...), and
// std::runtime_error when no child can be started.
IsolatedRun run_isolated(const Stream& stream, const HarnessOptions& options,
                         const IsolationOptions& isolation = {});

// Whether FINDING says a replay crashed or hung, rather than that the backends disagreed.
bool is_crash_finding(const Finding& finding);

}  // namespace mmudiff

// SPDX-License-Identifier: GPL-2.0-only
// `mmudiff semdiff A B`: what changed between two kernels' page-table code. The same streams run
// through both, each on its own simulated machine, and every operation is compared: what it
// returned, the descriptor stores it made (as transitions: old -> 0 -> new in 6.1 against
// old -> locked -> new in 6.12), the TLB and cache maintenance it did, and the table it left.
// Differences fall into classes (category, operation, what each kernel did), each counted over
// the streams and kept with the smallest example found, shrunk as the minimiser shrinks findings.
// Once two tables differ, everything after follows from it: a stream is compared only up to its
// first table difference.
//
// The streams run in child processes (oracles/child_process.h): a kernel that crashes or hangs
// on an operation is a difference of category "crash" (that kernel's signal, sanitizer report or
// timeout against the other's "returned"), counted and shrunk like any other, and the run goes on
// with the next stream.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mmu/backend.h"
#include "mmu/ops/op.h"
#include "oracles/isolated_run.h"

namespace mmudiff {

// One operation's difference between the two kernels.
struct KernelDifference {
  std::string category;   // "return code", "stores", "maintenance", "table"
  std::string operation;  // the operation's name
  std::string a, b;       // what each kernel did, in the class's normalised words
  std::string detail;     // this occurrence's own values (not part of the class)
  size_t op_index = 0;    // in the stream
  std::string key() const { return category + "\x1f" + operation + "\x1f" + a + "\x1f" + b; }
};

// The differences of one stream, in operation order, up to and including the first table
// difference, in this process. ON_APPLY (optional) is called before each backend applies an
// operation: its index (the stream's size for the final destroy) and the side (0: A, 1: B).
std::vector<KernelDifference> kernel_differences(
    const BackendInfo& a, const BackendInfo& b, const Stream& stream,
    const std::function<void(size_t op, unsigned side)>& on_apply = {});

// The same in a child process: a crash or hang is the one "crash" difference it ends with.
std::vector<KernelDifference> isolated_kernel_differences(const BackendInfo& a,
                                                          const BackendInfo& b,
                                                          const Stream& stream,
                                                          double op_timeout_seconds);

struct KernelDiffClass {
  KernelDifference first;  // as found in the example
  size_t streams = 0;      // streams that show it
  size_t occurrences = 0;  // operations that show it
  Stream example;          // the smallest stream found to show it, shrunk
};

struct KernelDiffOptions {
  // Stop after this long or after this many streams, whichever comes first; 0 is no limit.
  double seconds = 10;
  size_t max_streams = 0;
  uint64_t seed = 1;   // of the random streams
  bool shrink = true;  // shrink each class's example
  // An operation that has not returned after this long is a hang (a "crash" difference).
  double op_timeout_seconds = kDefaultOpTimeoutSeconds;
};

struct KernelDiffReport {
  std::string a, b;  // backend names
  uint64_t seed = 0;
  size_t streams = 0, operations = 0;
  std::vector<KernelDiffClass> classes;  // most streams first
};

KernelDiffReport kernel_diff(const BackendInfo& a, const BackendInfo& b,
                             const KernelDiffOptions& options,
                             const std::function<void(const KernelDiffReport&)>& progress = {});

// mmudiff/semdiff-1 (reports/schema/semdiff-1.schema.json).
nlohmann::json kernel_diff_json(const KernelDiffReport& report);
std::string kernel_diff_text(const KernelDiffReport& report);

}  // namespace mmudiff

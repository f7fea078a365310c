// SPDX-License-Identifier: GPL-2.0-only
// Work done in a forked child, so that code under test that crashes (a segfault, an abort, a
// sanitizer's report) or never returns ends the child, not the command. The child writes its
// results to a pipe and marks its progress in a record the parent shares (mapped before the
// fork); the parent collects both, and kills the child when the record has not moved for the
// timeout. What the child was doing when it died is what the record last said.
//
// isolated_run.h replays one stream this way; semdiff (reports/kernel_diff.h) runs its streams.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mmudiff {

// Marked by the child, read by the parent: which item (stream), operation and lane (backend) the
// child is at. steps moves on each mark, so a child that marks is alive.
struct ChildProgress {
  std::atomic<uint64_t> steps{0};
  std::atomic<uint64_t> item{0};
  std::atomic<uint64_t> op{0};
  std::atomic<uint64_t> lane{0};

  void mark(uint64_t item_index, uint64_t op_index, uint64_t lane_index) {
    item.store(item_index, std::memory_order_relaxed);
    op.store(op_index, std::memory_order_relaxed);
    lane.store(lane_index, std::memory_order_relaxed);
    steps.fetch_add(1, std::memory_order_release);
  }
};
static_assert(std::atomic<uint64_t>::is_always_lock_free, "shared between processes");

// A ChildProgress in memory shared with the children forked after it is made.
class SharedProgress {
 public:
  SharedProgress();
  ~SharedProgress();
  SharedProgress(const SharedProgress&) = delete;
  SharedProgress& operator=(const SharedProgress&) = delete;
  ChildProgress& operator*() const { return *record_; }
  ChildProgress* operator->() const { return record_; }

 private:
  ChildProgress* record_;
};

struct ChildOutcome {
  int status = 0;          // waitpid's
  bool timed_out = false;  // killed: the progress record stood still for the timeout
  std::string message;     // everything the child wrote to its pipe
  std::string err;         // the start of its stderr (a sanitizer's report fits)
  uint64_t steps = 0, item = 0, op = 0, lane = 0;  // the progress record at its end

  // Exited with status 0 by itself.
  bool clean() const;
};

// Forks; the child runs BODY(fd of its pipe), then leaves with _exit(0) (an exception escaping
// BODY: _exit(3)), without the parent's exit handlers or its inherited stdio buffers. The
// parent returns when the child has ended. Throws std::runtime_error when no child can be made.
ChildOutcome run_in_child(const std::function<void(int out_fd)>& body, SharedProgress& progress,
                          double timeout_seconds);

// Writes all of BYTES to FD; in a child, a pipe that cannot take them ends it (_exit(3)).
void write_all(int fd, const std::string& bytes);

// How a child that did not end cleanly ended, in the words findings use.
struct ChildDeath {
  std::string oracle;  // "memory" or "hang"
  std::string rule;    // "SIGSEGV", "SIGABRT", ..., "sanitizer", "exit", "timeout"
  std::string what;    // one line: "SIGSEGV (Segmentation fault)", the sanitizer's first line, ...
  std::vector<std::string> evidence;  // the sanitizer's report, or the last lines of stderr
};
ChildDeath describe_death(const ChildOutcome& child, double timeout_seconds);

}  // namespace mmudiff

// SPDX-License-Identifier: GPL-2.0-only
// One campaign at a time on a run directory: two on the same --out would share the engines'
// logs and state, count the same executions twice and interleave progress.jsonl. The campaign
// creates the directory (refusing a path that cannot be one: an existing file, a symlink loop,
// a path under /proc, /sys or /dev) and holds an exclusive flock(2) on .work/campaign.lock
// until it ends; the kernel drops the lock when the process dies, even by SIGKILL, so a killed
// campaign never leaves a stale lock behind. The lock file names the holder's pid for the
// message a second campaign gets.
#pragma once

#include <filesystem>

namespace mmudiff::cli {

class RunDirectoryLock {
 public:
  // Creates `dir` (and dir/.work) and locks it. Throws mmudiff::InputError, one line naming the
  // directory, if it cannot be created or another campaign holds it.
  explicit RunDirectoryLock(const std::filesystem::path& dir);
  ~RunDirectoryLock();
  RunDirectoryLock(const RunDirectoryLock&) = delete;
  RunDirectoryLock& operator=(const RunDirectoryLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace mmudiff::cli

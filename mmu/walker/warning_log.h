// SPDX-License-Identifier: GPL-2.0-only
// The WARN_ONs a walker table has hit, as text. The vCPUs of a threaded run (mmu/sched/
// threaded_run.h) may warn at once on one table, so each append takes a lock; a warning is rare
// enough to pay for it. Copies (a table's value semantics) copy the warnings, not the lock.
#pragma once

#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace mmudiff::walker {

class WarningLog {
 public:
  WarningLog() = default;
  WarningLog(const WarningLog& other) : warnings_(other.snapshot()) {}
  WarningLog& operator=(const WarningLog& other) {
    if (this != &other) {
      std::vector<std::string> copy = other.snapshot();
      std::lock_guard lock(mutex_);
      warnings_ = std::move(copy);
    }
    return *this;
  }

  void push_back(std::string warning) {
    std::lock_guard lock(mutex_);
    warnings_.push_back(std::move(warning));
  }
  // Every warning since the last call.
  std::vector<std::string> take() {
    std::lock_guard lock(mutex_);
    return std::exchange(warnings_, {});
  }

 private:
  std::vector<std::string> snapshot() const {
    std::lock_guard lock(mutex_);
    return warnings_;
  }

  mutable std::mutex mutex_;
  std::vector<std::string> warnings_;
};

}  // namespace mmudiff::walker

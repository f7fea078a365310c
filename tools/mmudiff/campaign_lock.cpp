// SPDX-License-Identifier: GPL-2.0-only
#include "tools/mmudiff/campaign_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "mmu/ops/text_format.h"

namespace mmudiff::cli {

namespace fs = std::filesystem;

namespace {

// Kernel file systems take a mkdir or a write and do something else with it, or nothing.
bool under_kernel_fs(const fs::path& dir) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  if (ec) return false;
  auto first = std::next(p.begin());
  return first != p.end() && (*first == "proc" || *first == "sys" || *first == "dev");
}

void create_run_directory(const fs::path& dir) {
  if (under_kernel_fs(dir))
    throw InputError(
        fmt::format("{}: not a place for a run directory (a kernel file system)", dir.string()));
  std::error_code ec;
  fs::file_status st = fs::status(dir, ec);
  if (!ec && fs::exists(st) && !fs::is_directory(st))
    throw InputError(
        fmt::format("{}: exists and is not a directory; choose another --out", dir.string()));
  fs::create_directories(dir / ".work", ec);
  if (ec)
    throw InputError(
        fmt::format("{}: cannot create the run directory: {}", dir.string(), ec.message()));
}

}  // namespace

RunDirectoryLock::RunDirectoryLock(const fs::path& dir) {
  create_run_directory(dir);
  fs::path file = dir / ".work" / "campaign.lock";
  // Close-on-exec: the engines must not hold the lock after the campaign is gone.
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw InputError(fmt::format("{}: cannot open: {}", file.string(), std::strerror(errno)));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    char holder[32] = {};
    ssize_t n = ::pread(fd_, holder, sizeof holder - 1, 0);
    std::string pid = n > 0 ? std::string(holder, static_cast<size_t>(n)) : "";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    ::close(fd_);
    fd_ = -1;
    if (e == EWOULDBLOCK)
      throw InputError(fmt::format(
          "{}: another campaign{} is running on this run directory; wait for it to end or "
          "choose another --out",
          dir.string(), pid.empty() ? "" : " (pid " + pid + ")"));
    throw InputError(fmt::format("{}: cannot lock: {}", file.string(), std::strerror(e)));
  }
  std::string me = fmt::format("{}\n", ::getpid());
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, me.data(), me.size(), 0) < 0) {
    // The pid is only for the message; the lock itself holds.
  }
}

RunDirectoryLock::~RunDirectoryLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace mmudiff::cli

// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/child_process.h"

#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <new>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

namespace mmudiff {

namespace {

// What the parent keeps of the child's stderr: a sanitizer's report fits.
constexpr size_t kStderrKept = 256 * 1024;

// Reads whatever FD has; false at end of file.
bool drain(int fd, std::string* into, size_t keep) {
  char buf[65536];
  ssize_t n = ::read(fd, buf, sizeof buf);
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  if (into->size() < keep) into->append(buf, std::min(static_cast<size_t>(n), keep - into->size()));
  return true;
}

ChildOutcome wait_for_child(pid_t pid, int out_fd, int err_fd, const ChildProgress& record,
                            double timeout_seconds) {
  using Clock = std::chrono::steady_clock;
  ChildOutcome out;
  const auto timeout = std::chrono::duration<double>(timeout_seconds);
  uint64_t seen = record.steps.load(std::memory_order_acquire);
  auto moved = Clock::now();
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  bool open[2] = {true, true};
  while (open[0] || open[1]) {
    for (int k = 0; k < 2; ++k) fds[k].fd = open[k] ? (k ? err_fd : out_fd) : -1;
    int ready = ::poll(fds, 2, 50);
    if (ready < 0 && errno != EINTR) {
      ::kill(pid, SIGKILL);  // without poll there is no bound on the wait below
      break;
    }
    if (ready > 0) {
      for (int k = 0; k < 2; ++k)
        if (open[k] && (fds[k].revents & (POLLIN | POLLHUP | POLLERR)))
          open[k] = k ? drain(err_fd, &out.err, kStderrKept)
                      : drain(out_fd, &out.message, std::string::npos);
    }
    uint64_t steps = record.steps.load(std::memory_order_acquire);
    if (steps != seen) {
      seen = steps;
      moved = Clock::now();
    } else if (Clock::now() - moved > timeout) {
      ::kill(pid, SIGKILL);
      out.timed_out = true;
      break;
    }
  }
  while (::waitpid(pid, &out.status, 0) < 0 && errno == EINTR) {
  }
  out.steps = record.steps.load(std::memory_order_acquire);
  out.item = record.item.load(std::memory_order_relaxed);
  out.op = record.op.load(std::memory_order_relaxed);
  out.lane = record.lane.load(std::memory_order_relaxed);
  return out;
}

std::string signal_name(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

// The first line of a sanitizer's report; npos if none.
size_t sanitizer_line(const std::vector<std::string>& lines) {
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    bool sanitizer =
        l.find("Sanitizer") != std::string::npos && l.find("ERROR:") != std::string::npos;
    if (sanitizer || l.find("runtime error:") != std::string::npos) return i;
  }
  return std::string::npos;
}

// Without ASan's "==PID==" prefix.
std::string without_pid_prefix(const std::string& line) {
  size_t start = line.find_first_not_of("=0123456789");
  return start == std::string::npos ? line : line.substr(start);
}

}  // namespace

SharedProgress::SharedProgress() {
  void* p = ::mmap(nullptr, sizeof(ChildProgress), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::runtime_error("cannot map a progress record for a child");
  record_ = new (p) ChildProgress{};
}

SharedProgress::~SharedProgress() {
  ::munmap(record_, sizeof(ChildProgress));
}

bool ChildOutcome::clean() const {
  return !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ::_exit(3);
    done += static_cast<size_t>(n);
  }
}

ChildOutcome run_in_child(const std::function<void(int out_fd)>& body, SharedProgress& progress,
                          double timeout_seconds) {
  int out_pipe[2], err_pipe[2];
  if (::pipe(out_pipe) != 0) throw std::runtime_error("cannot create a pipe for a child");
  if (::pipe(err_pipe) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    throw std::runtime_error("cannot create a pipe for a child");
  }
  // What this process has buffered must not be written twice.
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = ::fork();
  if (pid < 0) {
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
    throw std::runtime_error("cannot fork a child");
  }
  if (pid == 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    ::dup2(err_pipe[1], STDERR_FILENO);
    try {
      body(out_pipe[1]);
    } catch (...) {
      ::_exit(3);
    }
    ::_exit(0);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ChildOutcome child = wait_for_child(pid, out_pipe[0], err_pipe[0], *progress, timeout_seconds);
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  return child;
}

ChildDeath describe_death(const ChildOutcome& child, double timeout_seconds) {
  ChildDeath d;
  std::vector<std::string> err = lines_of(child.err);
  if (child.timed_out) {
    d.oracle = "hang";
    d.rule = "timeout";
    d.what = fmt::format("did not return within {:g} s", timeout_seconds);
  } else if (size_t s = sanitizer_line(err); s != std::string::npos) {
    d.oracle = "memory";
    d.rule = "sanitizer";
    d.what = without_pid_prefix(err[s]);
    for (size_t j = s; j < err.size() && d.evidence.size() < 30; ++j) d.evidence.push_back(err[j]);
  } else if (WIFSIGNALED(child.status)) {
    d.oracle = "memory";
    d.rule = signal_name(WTERMSIG(child.status));
    d.what = fmt::format("{} ({})", d.rule, ::strsignal(WTERMSIG(child.status)));
  } else {
    d.oracle = "memory";
    d.rule = "exit";
    d.what = fmt::format("exited with status {} before it finished",
                         WIFEXITED(child.status) ? WEXITSTATUS(child.status) : -1);
  }
  if (d.evidence.empty()) {
    size_t from = err.size() > 20 ? err.size() - 20 : 0;
    for (size_t j = from; j < err.size(); ++j) d.evidence.push_back(err[j]);
  }
  return d;
}

}  // namespace mmudiff

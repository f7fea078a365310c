// SPDX-License-Identifier: GPL-2.0-only
// Running the real mmudiff binary from a test: its exit status and everything it printed (a
// scratch directory for its files is tests/temp_dir.h).
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace mmudiff::testing {

struct CliResult {
  int status;       // the exit status, -1 when the binary did not exit normally
  std::string out;  // stdout and stderr together
};

// Runs CMD through the shell: its stdout only (stderr goes where CMD sends it).
inline CliResult shell(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {-1, "popen failed"};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

// mmudiff ARGS, with ENV ("NAME=value ...") before it; stdout and stderr together.
inline CliResult run_cli(const std::string& args, const std::string& env = "") {
  return shell(env + (env.empty() ? "" : " ") + MMUDIFF_CLI + " " + args + " 2>&1");
}

// mmudiff ARGS with its stdout sent to STDOUT_TO (/dev/null, /dev/full, a file): what it wrote on
// stderr, so a test can tell an error message from the report.
inline CliResult run_cli_stderr(const std::string& args,
                                const std::string& stdout_to = "/dev/null") {
  return shell(std::string(MMUDIFF_CLI) + " " + args + " 2>&1 >" + stdout_to);
}

// What one run of mmudiff ARGS cost: its exit status, its peak resident memory (and that of the
// processes it waited for), and its wall time. Its output goes to /dev/null.
struct CliCost {
  int status;
  long max_rss_kb;
  double seconds;
};

inline CliCost run_cli_measured(const std::string& args) {
  std::string cmd = std::string("exec ") + MMUDIFF_CLI + " " + args + " >/dev/null 2>&1";
  auto start = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int st = 0;
  struct rusage usage {};
  if (pid < 0 || ::wait4(pid, &st, 0, &usage) != pid) return {-1, 0, 0};
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, usage.ru_maxrss, seconds};
}

}  // namespace mmudiff::testing

// SPDX-License-Identifier: GPL-2.0-only
// Runs a shell command for a test and keeps its exit status and its output, stderr included.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace mmudiff::test {

struct CommandResult {
  int status;  // the exit status; -1 if the command did not exit (a signal) or could not start
  std::string out;
};

inline CommandResult run_command(const std::string& command) {
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return {-1, "popen failed"};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

// The mmudiff CLI this build made, with ARGS.
inline CommandResult run_cli(const std::string& args) {
  return run_command(std::string(MMUDIFF_CLI) + " " + args);
}

}  // namespace mmudiff::test

// SPDX-License-Identifier: GPL-2.0-only
// The engines die with the campaign, however it ends. Each engine runs in its own process group
// (so a Ctrl-C reaches the campaign alone, which stops them in order) and gets a parent-death
// signal, but that signal reaches only the direct child: libFuzzer's fork-mode jobs and AFL++'s
// targets are grandchildren. So a small supervisor process, forked before the engines, holds the
// read end of a pipe from the campaign and learns each engine's process group through it; when
// the pipe closes -- the campaign ended, or was killed with SIGKILL -- it kills every group still
// registered, and everything it saw descend from them (AFL++ puts its target in a session of its
// own, out of reach of the engine's group), and exits.
#pragma once

#include <sys/types.h>

namespace mmudiff::cli {

class EngineSupervisor {
 public:
  // Forks the supervisor. Throws std::runtime_error if it cannot.
  EngineSupervisor();
  // Closes the pipe: the supervisor kills the groups still registered, and is reaped.
  ~EngineSupervisor();
  EngineSupervisor(const EngineSupervisor&) = delete;
  EngineSupervisor& operator=(const EngineSupervisor&) = delete;

  // The supervisor will kill process group `pgid` when the campaign ends.
  void watch(pid_t pgid);
  // `pgid` was reaped and killed already: the supervisor forgets it (its number may be reused),
  // and kills at once what it saw descend from it in other sessions (an engine that died
  // mid-campaign leaves AFL++'s stopped persistent target behind).
  void forget(pid_t pgid);

  pid_t pid() const { return pid_; }

 private:
  void send(int value);

  pid_t pid_ = -1;
  int pipe_ = -1;  // write end
};

}  // namespace mmudiff::cli

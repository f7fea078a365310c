// SPDX-License-Identifier: GPL-2.0-only
#include "tools/mmudiff/campaign_supervisor.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace mmudiff::cli {

namespace {

// How often the supervisor looks at the engines' descendants.
constexpr int kSnapshotMs = 300;

struct Proc {
  pid_t ppid = 0;
  pid_t pgid = 0;
  unsigned long long start = 0;  // since boot, in clock ticks: tells a reused pid apart
};

std::map<pid_t, Proc> processes() {
  std::map<pid_t, Proc> out;
  DIR* d = opendir("/proc");
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end) continue;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE* f = std::fopen(path, "r");
    if (!f) continue;
    char buf[1024];
    size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = 0;
    // "pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
    // stime cutime cstime priority nice threads itrealvalue starttime": comm may hold spaces.
    char* after = std::strrchr(buf, ')');
    if (!after) continue;
    Proc p;
    char state = 0;
    int fields = std::sscanf(after + 1,
                             " %c %d %d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
                             "%*d %*d %llu",
                             &state, &p.ppid, &p.pgid, &p.start);
    if (fields == 4) out[static_cast<pid_t>(pid)] = p;
  }
  closedir(d);
  return out;
}

// Everything under the engines, as it was last seen. AFL++ starts its target in a session of
// its own, out of the engine's process group; once the engine is dead that target's parent is
// init and nothing links it to the campaign any more, so it is remembered while the link exists.
class Descendants {
 public:
  void look(const std::set<pid_t>& engines) {
    auto now = processes();
    for (auto it = known_.begin(); it != known_.end();) {
      auto p = now.find(it->first);
      it = p == now.end() || p->second.start != it->second.proc.start ? known_.erase(it)
                                                                      : std::next(it);
    }
    for (const auto& [pid, p] : now) {
      pid_t up = p.ppid;
      for (int depth = 0; up > 1 && depth < 64; ++depth) {
        if (engines.count(up)) {
          known_[pid] = {p, up};
          break;
        }
        auto parent = now.find(up);
        if (parent == now.end()) break;
        up = parent->second.ppid;
      }
    }
  }
  // Kills what descends from `engine` (every engine: 0) and forgets it.
  void kill(pid_t engine) {
    auto now = processes();
    for (auto it = known_.begin(); it != known_.end();) {
      const auto& [pid, d] = *it;
      if (engine != 0 && d.engine != engine) {
        ++it;
        continue;
      }
      auto still = now.find(pid);
      if (still != now.end() && still->second.start == d.proc.start) {
        // Its whole group: the target's forked children live there as well.
        auto leader = now.find(d.proc.pgid);
        auto known_leader = known_.find(d.proc.pgid);
        if (leader != now.end() && known_leader != known_.end() &&
            leader->second.start == known_leader->second.proc.start)
          ::kill(-d.proc.pgid, SIGKILL);
        ::kill(pid, SIGKILL);
      }
      it = known_.erase(it);
    }
  }

 private:
  struct Descendant {
    Proc proc;
    pid_t engine;  // the engine (its process group) it descends from
  };
  std::map<pid_t, Descendant> known_;
};

// The supervisor itself, in a fork of the single-threaded campaign.
[[noreturn]] void supervise(int from_campaign, pid_t campaign) {
  // Signals meant for the campaign (Ctrl-C reaches its whole group) must not end the
  // supervisor first: it ends when the pipe closes, and not before.
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  // Hold nothing of the campaign's open: not its stdout (a reader would wait for us), not its
  // run directory's lock.
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
  }
  if (from_campaign != 3) {
    dup2(from_campaign, 3);
    from_campaign = 3;
  }
  close_range(4, ~0U, 0);

  std::set<pid_t> groups;
  Descendants descendants;
  for (;;) {
    pollfd p{from_campaign, POLLIN, 0};
    int ready = poll(&p, 1, kSnapshotMs);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) {
      // The pipe closes only when every copy of its write end is closed, and a child the
      // campaign forked without exec (an isolated replay) holds one: a campaign that died is
      // also told by this process being handed to another parent.
      if (getppid() != campaign) break;
      descendants.look(groups);
      continue;
    }
    int value = 0;
    ssize_t n = read(from_campaign, &value, sizeof value);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof value)) break;  // closed: the campaign ended
    if (value > 0) groups.insert(value);
    if (value < 0) {
      // An engine that died mid-campaign: what it left in sessions of their own (a stopped
      // persistent AFL++ target) goes now, not when the campaign ends.
      groups.erase(-value);
      descendants.kill(-value);
    }
  }
  for (pid_t g : groups) kill(-g, SIGKILL);
  descendants.kill(0);
  _exit(0);
}

}  // namespace

EngineSupervisor::EngineSupervisor() {
  int fds[2];
  pid_t campaign = getpid();
  if (pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(fds[0]);
    close(fds[1]);
    throw std::runtime_error(
        fmt::format("cannot fork the engines' supervisor: {}", std::strerror(e)));
  }
  if (pid == 0) {
    close(fds[1]);
    supervise(fds[0], campaign);
  }
  close(fds[0]);
  pid_ = pid;
  pipe_ = fds[1];
}

EngineSupervisor::~EngineSupervisor() {
  close(pipe_);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

void EngineSupervisor::send(int value) {
  // A supervisor that is gone cannot be told; the engines still have their parent-death signal.
  while (write(pipe_, &value, sizeof value) < 0 && errno == EINTR) {
  }
}

void EngineSupervisor::watch(pid_t pgid) {
  send(pgid);
}

void EngineSupervisor::forget(pid_t pgid) {
  send(-pgid);
}

}  // namespace mmudiff::cli

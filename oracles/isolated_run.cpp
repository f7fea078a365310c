// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/isolated_run.h"

#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <new>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "mmu/memory/asan.h"
#include "mmu/ops/text_format.h"
#include "oracles/stream_report_wire.h"

namespace mmudiff {

namespace {

// Written by the child before each backend applies an operation, read by the parent.
struct ProgressRecord {
  std::atomic<uint64_t> steps;  // how many times on_apply ran: it moves while the child works
  std::atomic<uint64_t> op;
  std::atomic<uint64_t> lane;
};
static_assert(std::atomic<uint64_t>::is_always_lock_free, "shared between processes");

// The child's message starts with one of these.
constexpr char kReportTag = 'R';
constexpr char kInvalidArgumentTag = 'I';
constexpr char kErrorTag = 'E';
constexpr char kMemoryTag = 'M';  // an allocation failed under the memory bound

// What the parent keeps of the child's stderr: a sanitizer's report fits.
constexpr size_t kStderrKept = 256 * 1024;

class SharedRecord {
 public:
  SharedRecord() {
    void* p = ::mmap(nullptr, sizeof(ProgressRecord), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("cannot map a progress record for a replay");
    record_ = new (p) ProgressRecord{};
  }
  ~SharedRecord() { ::munmap(record_, sizeof(ProgressRecord)); }
  SharedRecord(const SharedRecord&) = delete;
  SharedRecord& operator=(const SharedRecord&) = delete;
  ProgressRecord* operator->() const { return record_; }
  ProgressRecord* get() const { return record_; }

 private:
  ProgressRecord* record_;
};

void write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ::_exit(3);
    done += static_cast<size_t>(n);
  }
}

// The child's end of the pipe, for the new-handler: it must not allocate.
int memory_tag_fd = -1;

[[noreturn]] void out_of_memory() {
  const char tag = kMemoryTag;
  ssize_t n = ::write(memory_tag_fd, &tag, 1);
  ::_exit(n == 1 ? 0 : 3);
}

// Holds the child to what it has plus what the backends may take (MemoryLimits::
// bytes_per_backend): past it, mmap and brk fail, new calls out_of_memory, and the stream is
// refused rather than run into the machine's memory. Not under AddressSanitizer, whose allocator
// maps its own regions and reports a failed mapping as a fatal error of its own.
#ifdef MMUDIFF_ASAN
void limit_memory(uint64_t) {}
#else
// The process's data segment now (VmData: private writable mappings, the heap among them).
uint64_t data_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long fields[6] = {};
  int n = std::fscanf(f, "%lu %lu %lu %lu %lu %lu", &fields[0], &fields[1], &fields[2], &fields[3],
                      &fields[4], &fields[5]);
  std::fclose(f);
  return n == 6 ? uint64_t{fields[5]} * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)) : 0;
}

void limit_memory(uint64_t extra) {
  uint64_t now = data_bytes();
  if (now == 0) return;
  rlimit limit{now + extra, now + extra};
  ::setrlimit(RLIMIT_DATA, &limit);
}
#endif

// The child: run the stream, send the outcome, leave without running the parent's exit handlers
// or flushing the stdio buffers it inherited.
[[noreturn]] void child_main(const Stream& stream, HarnessOptions options,
                             const IsolationOptions& isolation, ProgressRecord* record, int out_fd,
                             int err_fd) {
  ::dup2(err_fd, STDERR_FILENO);
  options.on_apply = [record](size_t op, size_t lane) {
    record->op.store(op, std::memory_order_relaxed);
    record->lane.store(lane, std::memory_order_relaxed);
    record->steps.fetch_add(1, std::memory_order_release);
  };
  memory_tag_fd = out_fd;
  limit_memory(resolve_backends(options.backends).size() * options.limits.bytes_per_backend());
  std::set_new_handler(out_of_memory);
  std::string message;
  try {
    std::string report = encode_stream_report(run_stream(stream, options));
    std::string payload = isolation.child_payload ? isolation.child_payload() : "";
    message = kReportTag + fmt::format("{}\n", report.size()) + report + payload;
  } catch (const std::bad_alloc&) {
    out_of_memory();  // the arena's mapping failed
  } catch (const std::invalid_argument& e) {
    message = kInvalidArgumentTag + std::string(e.what());
  } catch (const std::exception& e) {
    message = kErrorTag + std::string(e.what());
  }
  write_all(out_fd, message);
  ::_exit(0);
}

// Reads whatever FD has; false at end of file.
bool drain(int fd, std::string* into, size_t keep) {
  char buf[65536];
  ssize_t n = ::read(fd, buf, sizeof buf);
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  if (into->size() < keep) into->append(buf, std::min(static_cast<size_t>(n), keep - into->size()));
  return true;
}

struct ChildOutcome {
  int status = 0;
  bool timed_out = false;
  std::string message;
  std::string err;
  uint64_t steps = 0, op = 0, lane = 0;
};

ChildOutcome wait_for_child(pid_t pid, int out_fd, int err_fd, const ProgressRecord& record,
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

// The first line of a sanitizer's report, without ASan's "==PID==" prefix; npos if none.
size_t sanitizer_line(const std::vector<std::string>& lines) {
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    bool sanitizer =
        l.find("Sanitizer") != std::string::npos && l.find("ERROR:") != std::string::npos;
    if (sanitizer || l.find("runtime error:") != std::string::npos) return i;
  }
  return std::string::npos;
}

std::string without_pid_prefix(const std::string& line) {
  size_t start = line.find_first_not_of("=0123456789");
  return start == std::string::npos ? line : line.substr(start);
}

// The finding for a child that died or hung, blaming what the progress record names.
Finding crash_finding(const Stream& stream, const std::vector<std::string>& backends,
                      const ChildOutcome& child, double timeout_seconds) {
  Finding f;
  f.severity = Severity::Security;
  std::vector<std::string> err = lines_of(child.err);
  std::string what;
  if (child.timed_out) {
    f.oracle = "hang";
    f.rule = "timeout";
    what = fmt::format("did not return within {:g} s", timeout_seconds);
  } else if (size_t s = sanitizer_line(err); s != std::string::npos) {
    f.oracle = "memory";
    f.rule = "sanitizer";
    what = without_pid_prefix(err[s]);
    for (size_t j = s; j < err.size() && f.evidence.size() < 30; ++j) f.evidence.push_back(err[j]);
  } else if (WIFSIGNALED(child.status)) {
    f.oracle = "memory";
    f.rule = signal_name(WTERMSIG(child.status));
    what = fmt::format("{} ({})", f.rule, ::strsignal(WTERMSIG(child.status)));
  } else {
    f.oracle = "memory";
    f.rule = "exit";
    what = fmt::format("the replay exited with status {} before it finished",
                       WIFEXITED(child.status) ? WEXITSTATUS(child.status) : -1);
  }
  if (f.evidence.empty()) {
    size_t from = err.size() > 20 ? err.size() - 20 : 0;
    for (size_t j = from; j < err.size(); ++j) f.evidence.push_back(err[j]);
  }
  if (child.steps == 0 || child.op >= stream.size()) {
    // Before any backend applied an operation: the default table's init, or the harness.
    f.op_index = 0;
    f.op_kind = "init";
    f.summary = fmt::format("{} before the first operation", what);
    return f;
  }
  f.op_index = child.op;
  f.op_kind = std::string(op_kind_name(stream[child.op].kind));
  f.backend = child.lane < backends.size() ? backends[child.lane] : "";
  f.summary = fmt::format("{}: {} in operation #{} {}", f.backend, what, child.op,
                          format_op(stream[child.op]));
  return f;
}

}  // namespace

bool is_crash_finding(const Finding& f) {
  if (f.oracle == "hang") return true;
  if (f.oracle != "memory") return false;
  return f.rule == "sanitizer" || f.rule == "exit" || f.rule.rfind("SIG", 0) == 0 ||
         f.rule.rfind("signal ", 0) == 0;
}

IsolatedRun run_isolated(const Stream& stream, const HarnessOptions& options,
                         const IsolationOptions& isolation) {
  // Names are checked here, so a mistake is the caller's exception rather than a crash report.
  std::vector<std::string> backends = resolve_backends(options.backends);
  SharedRecord record;
  int out_pipe[2], err_pipe[2];
  if (::pipe(out_pipe) != 0) throw std::runtime_error("cannot create a pipe for a replay");
  if (::pipe(err_pipe) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    throw std::runtime_error("cannot create a pipe for a replay");
  }
  // What this process has buffered must not be written twice.
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = ::fork();
  if (pid < 0) {
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
    throw std::runtime_error("cannot fork to replay a stream");
  }
  if (pid == 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    child_main(stream, options, isolation, record.get(), out_pipe[1], err_pipe[1]);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ChildOutcome child =
      wait_for_child(pid, out_pipe[0], err_pipe[0], *record.get(), isolation.op_timeout_seconds);
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);

  bool exited_cleanly =
      !child.timed_out && WIFEXITED(child.status) && WEXITSTATUS(child.status) == 0;
  if (exited_cleanly && !child.message.empty()) {
    // The child's own diagnostics belong on our stderr, as they would without the fork.
    if (!child.err.empty()) std::fwrite(child.err.data(), 1, child.err.size(), stderr);
    const std::string body = child.message.substr(1);
    switch (child.message.front()) {
      case kInvalidArgumentTag:
        throw std::invalid_argument(body);
      case kErrorTag:
        throw std::runtime_error(body);
      case kMemoryTag: {
        IsolatedRun run;
        run.report.stream = stream;
        run.report.backends = backends;
        run.report.results.resize(backends.size());
        run.report.bound_reached = true;
        uint64_t mib = (options.limits.bytes_per_backend() + (1 << 20) - 1) >> 20;
        if (child.steps == 0 || child.op >= stream.size()) {
          run.report.refusal =
              fmt::format("the backends' memory ({} MiB each) cannot be reserved", mib);
        } else {
          run.report.bound_op = child.op;
          run.report.refusal =
              fmt::format("operation #{} {} needs more than the memory bound of {} MiB per backend",
                          child.op, format_op(stream[child.op]), mib);
        }
        return run;
      }
      case kReportTag: {
        size_t nl = body.find('\n');
        size_t size = nl == std::string::npos ? 0 : std::stoul(body.substr(0, nl));
        if (nl == std::string::npos || body.size() < nl + 1 + size)
          throw std::runtime_error("a replay sent a truncated report");
        IsolatedRun run;
        run.report = decode_stream_report(body.substr(nl + 1, size), stream);
        run.payload = body.substr(nl + 1 + size);
        return run;
      }
      default:
        throw std::runtime_error("a replay sent a message that is not a report");
    }
  }
  IsolatedRun run;
  run.completed = false;
  run.report.stream = stream;
  run.report.backends = backends;
  run.report.results.resize(backends.size());
  run.report.findings.push_back(
      crash_finding(stream, backends, child, isolation.op_timeout_seconds));
  return run;
}

}  // namespace mmudiff

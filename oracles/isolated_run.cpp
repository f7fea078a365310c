// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/isolated_run.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <new>
#include <stdexcept>

#include <fmt/format.h>

#include "mmu/memory/asan.h"
#include "mmu/ops/sections.h"
#include "mmu/ops/text_format.h"
#include "oracles/child_process.h"
#include "oracles/stream_report_wire.h"

namespace mmudiff {

namespace {

// The child's message starts with one of these.
constexpr char kReportTag = 'R';
constexpr char kInvalidArgumentTag = 'I';
constexpr char kErrorTag = 'E';
constexpr char kMemoryTag = 'M';  // an allocation failed under the memory bound
// Before any of those, each finding as the harness makes it: "F<size>\n<finding>". A child that
// dies later has still handed on what it found before.
constexpr char kFindingTag = 'F';

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

// The child: run the stream and send the outcome.
void child_main(const Stream& stream, HarnessOptions options, const IsolationOptions& isolation,
                ChildProgress& record, int out_fd) {
  options.on_apply = [&record](size_t op, size_t lane) { record.mark(0, op, lane); };
  options.on_finding = [out_fd](const Finding& f) {
    const std::string bytes = encode_finding(f);
    write_all(out_fd, kFindingTag + fmt::format("{}\n", bytes.size()) + bytes);
  };
  memory_tag_fd = out_fd;
  // A concurrent section's vCPUs are threads: each has its stack, and may have a malloc arena.
  const uint64_t vcpu_threads =
      has_sections(stream) ? uint64_t{kMaxSectionVcpus} * (8 + 64) * 1024 * 1024 : 0;
  limit_memory(stream_backends(stream, options.backends).size() *
                   options.limits.bytes_per_backend() +
               vcpu_threads);
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
}

// The finding for a child that died or hung, blaming what the progress record names.
Finding crash_finding(const Stream& stream, const std::vector<std::string>& backends,
                      const ChildOutcome& child, double timeout_seconds) {
  ChildDeath death = describe_death(child, timeout_seconds);
  Finding f;
  f.severity = Severity::Security;
  f.oracle = death.oracle;
  f.rule = death.rule;
  f.evidence = std::move(death.evidence);
  if (child.steps == 0 || child.op >= stream.size()) {
    // Before any backend applied an operation: the default table's init, or the harness.
    f.op_index = 0;
    f.op_kind = "init";
    f.summary = fmt::format("{} before the first operation", death.what);
    return f;
  }
  f.op_index = child.op;
  f.op_kind = std::string(op_kind_name(stream[child.op].kind));
  f.backend = child.lane < backends.size() ? backends[child.lane] : "";
  f.summary = fmt::format("{}: {} in operation #{} {}", f.backend, death.what, child.op,
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

// Takes the findings the child handed on before its last message off the front of MESSAGE.
std::vector<Finding> take_findings(std::string* message) {
  std::vector<Finding> findings;
  size_t at = 0;
  while (at < message->size() && (*message)[at] == kFindingTag) {
    const size_t nl = message->find('\n', at);
    if (nl == std::string::npos) break;  // cut off by the child's death
    const size_t size = std::stoul(message->substr(at + 1, nl - at - 1));
    if (message->size() < nl + 1 + size) break;
    findings.push_back(decode_finding(message->substr(nl + 1, size)));
    at = nl + 1 + size;
  }
  message->erase(0, at);
  return findings;
}

IsolatedRun run_isolated(const Stream& stream, const HarnessOptions& options,
                         const IsolationOptions& isolation) {
  // Names are checked here, so a mistake is the caller's exception rather than a crash report.
  std::vector<std::string> backends = stream_backends(stream, options.backends);
  SharedProgress record;
  ChildOutcome child =
      run_in_child([&](int out_fd) { child_main(stream, options, isolation, *record, out_fd); },
                   record, isolation.op_timeout_seconds);
  // The report repeats them; they matter only when there is none.
  std::vector<Finding> handed_on = take_findings(&child.message);

  if (child.clean() && !child.message.empty()) {
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
        run.report.findings = std::move(handed_on);
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
  run.report.findings = std::move(handed_on);
  run.report.findings.push_back(
      crash_finding(stream, backends, child, isolation.op_timeout_seconds));
  return run;
}

}  // namespace mmudiff

// SPDX-License-Identifier: GPL-2.0-only
// The run-directory loader (reports/run_dir_load.h) fuzzed for its own sake. The input is a small
// run directory written as text, one file after another:
//
//   === run.json
//   {"schema":"mmudiff-run-1", ...}
//   === progress.jsonl
//   {...}
//   === findings/SIG/finding.json
//   {...}
//   === findings/EMPTY/          (a trailing '/' makes a directory)
//   === corpus/0123abcd
//   <bytes>
//
// A file's content is every byte after its header line up to the newline before the next "=== "
// header (or the end); bytes before the first header are ignored. Paths are relative, at most
// kMaxDepth components of [A-Za-z0-9._-] (no "." or ".."), so nothing is written outside the
// target's own directory; an input with any other header, or whose files collide (a file where
// a directory must go), is refused (-1: kept out of the corpus). Each input is unpacked into one
// per-process temporary directory, emptied between inputs (on /dev/shm when there is one and
// TMPDIR is not set: this target's cost is mostly file-system calls), and loaded.
//
// Beyond "no crash": the loader either refuses with one InputError line naming a file under the
// directory, or accepts, and then what it accepted re-serialises -- every JSON value dumps to
// text that parses back equal and passes its schema again -- and every finding directory the
// input made is listed, complete or incomplete, exactly once.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mmu/ops/text_format.h"
#include "reports/json_schema.h"
#include "reports/run_dir.h"
#include "reports/run_dir_load.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::string_view kHeader = "=== ";
constexpr size_t kMaxDepth = 4;
constexpr size_t kMaxComponent = 64;
constexpr size_t kMaxEntries = 64;

struct Entry {
  std::string path;  // relative, '/'-separated, without the trailing '/' of a directory
  bool directory = false;
  std::string_view content;
};

bool valid_component(std::string_view c) {
  if (c.empty() || c.size() > kMaxComponent || c == "." || c == "..") return false;
  for (char ch : c) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-';
    if (!ok) return false;
  }
  return true;
}

bool valid_path(std::string_view path) {
  size_t depth = 0;
  for (size_t pos = 0; pos <= path.size();) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    if (!valid_component(path.substr(pos, slash - pos)) || ++depth > kMaxDepth) return false;
    pos = slash + 1;
  }
  return true;
}

// Splits the input into entries; false if a header is malformed or there are too many.
bool unpack(std::string_view text, std::vector<Entry>* entries) {
  size_t pos = text.starts_with(kHeader) ? 0 : text.find(fmt::format("\n{}", kHeader));
  if (pos == std::string_view::npos) return true;
  if (pos != 0) ++pos;  // past the newline before the header
  while (pos < text.size()) {
    pos += kHeader.size();
    size_t eol = text.find('\n', pos);
    std::string_view header = text.substr(pos, eol == std::string_view::npos ? eol : eol - pos);
    Entry e;
    e.directory = header.ends_with('/');
    if (e.directory) header.remove_suffix(1);
    if (!valid_path(header) || entries->size() == kMaxEntries) return false;
    e.path = std::string(header);
    if (eol == std::string_view::npos) {
      entries->push_back(std::move(e));
      break;
    }
    size_t start = eol + 1;
    size_t next = text.find(fmt::format("\n{}", kHeader), eol);
    size_t end = next == std::string_view::npos ? text.size() : next;
    // "=== a\n=== b": a is empty, and the newline before b's header is a's last byte's end.
    if (start > end) end = start;
    e.content = text.substr(start, end - start);
    entries->push_back(std::move(e));
    pos = next == std::string_view::npos ? text.size() : next + 1;
  }
  return true;
}

[[noreturn]] void fail(const std::string& what) {
  fmt::print(stderr, "run_dir_fuzzer: {}\n", what);
  std::abort();
}

// What materialise() made, so the next input can take it away without walking the tree.
struct Made {
  std::vector<std::string> files;
  std::set<std::string> dirs;  // relative to the run directory
};

// Writes the entries under `dir` with plain system calls (this target's cost is mostly file-system
// calls; each directory is made once); false if they collide (a file where a directory must go, a
// path given twice as different kinds).
bool materialise(const fs::path& dir, const std::vector<Entry>& entries, Made* made) {
  auto make_dirs = [&](std::string_view rel) {
    for (size_t slash = 0; slash != std::string_view::npos;) {
      slash = rel.find('/', slash + 1);
      std::string prefix(rel.substr(0, slash));
      if (made->dirs.contains(prefix)) continue;
      if (mkdir((dir / prefix).c_str(), 0755) != 0) return false;  // a file is in the way
      made->dirs.insert(prefix);
    }
    return true;
  };
  for (const Entry& e : entries) {
    if (e.directory) {
      if (!make_dirs(e.path)) return false;
      continue;
    }
    size_t slash = e.path.rfind('/');
    if (slash != std::string::npos && !make_dirs(std::string_view(e.path).substr(0, slash)))
      return false;
    if (made->dirs.contains(e.path)) return false;
    int fd = open((dir / e.path).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    made->files.push_back(e.path);
    bool written =
        write(fd, e.content.data(), e.content.size()) == static_cast<ssize_t>(e.content.size());
    close(fd);
    if (!written) return false;
  }
  return true;
}

// Empties `dir` of what materialise() made (in reverse order a directory comes after its children).
void clear(const fs::path& dir, Made* made) {
  for (const std::string& f : made->files) unlink((dir / f).c_str());
  for (auto it = made->dirs.rbegin(); it != made->dirs.rend(); ++it)
    if (rmdir((dir / *it).c_str()) != 0)
      fail(fmt::format("cannot remove {}: {}", (dir / *it).string(), std::strerror(errno)));
  made->files.clear();
  made->dirs.clear();
}

struct Scratch {
  fs::path root;
  ~Scratch() {
    std::error_code ec;
    if (!root.empty()) fs::remove_all(root, ec);
  }
};

Scratch& scratch() {
  static Scratch s = [] {
    fs::path base = fs::temp_directory_path();
    std::error_code ec;
    if (!std::getenv("TMPDIR") && fs::is_directory("/dev/shm", ec) && access("/dev/shm", W_OK) == 0)
      base = "/dev/shm";
    std::string templ = (base / "mmudiff-run-dir-fuzzer.XXXXXX").string();
    if (!mkdtemp(templ.data())) {
      perror("run_dir_fuzzer: mkdtemp");
      std::exit(2);
    }
    return Scratch{templ};
  }();
  return s;
}

// Dumped and parsed back, the value is the same and still passes its schema.
void check_reserialises(const json& value, std::string_view schema_id, const std::string& where) {
  std::string text = value.dump();
  json again;
  try {
    again = json::parse(text);
  } catch (const json::exception& e) {
    fail(fmt::format("{}: accepted, but its re-serialisation does not parse: {}\n{}", where,
                     e.what(), text));
  }
  if (again != value)
    fail(fmt::format("{}: accepted, but re-serialised it reads back different:\n{}\n{}", where,
                     text, again.dump()));
  try {
    mmudiff::check_schema(again, schema_id, where);
  } catch (const mmudiff::InputError& e) {
    fail(fmt::format("{}: accepted, but re-serialised it fails its schema: {}", where, e.what()));
  }
}

void check_accepted(const mmudiff::LoadedRun& run, const std::vector<Entry>& entries) {
  namespace schema = mmudiff::schema;
  check_reserialises(run.run, schema::kRun, "run.json");
  for (const json& sample : run.progress)
    check_reserialises(sample, schema::kProgress, "progress.jsonl");
  for (const auto& f : run.findings) check_reserialises(f.finding, schema::kFinding, f.dir);
  if (run.exercised) check_reserialises(*run.exercised, schema::kExercised, "exercised.json");
  if (run.proofs) check_reserialises(*run.proofs, schema::kProofs, "proofs.json");
  if (run.coverage) check_reserialises(*run.coverage, schema::kCoverage, "coverage.json");

  // Every directory the input made under findings/ is a finding, complete or not, listed once.
  std::string prefix = fmt::format("{}/", mmudiff::rundir::kFindingsDir);
  std::set<std::string> made;
  for (const Entry& e : entries) {
    if (!e.path.starts_with(prefix)) continue;
    std::string_view rest = std::string_view(e.path).substr(prefix.size());
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos && !e.directory) continue;  // a file in findings/
    made.insert(prefix + std::string(rest.substr(0, slash)));
  }
  std::multiset<std::string> listed(run.incomplete_findings.begin(), run.incomplete_findings.end());
  for (const auto& f : run.findings) listed.insert(f.dir);
  // Or skipped, its record not a file the loader can read (counted as a divergence all the same).
  const std::string record = fmt::format("/{}", mmudiff::rundir::kFindingFile);
  size_t unreadable = 0;
  for (const auto& s : run.skipped) {
    if (!s.path.starts_with(prefix) || !s.path.ends_with(record)) continue;
    std::string dir = s.path.substr(0, s.path.size() - record.size());
    // findings/NAME/finding.json, not a stray file findings/finding.json.
    if (dir.size() <= prefix.size() || dir.find('/', prefix.size()) != std::string::npos) continue;
    listed.insert(dir);
    ++unreadable;
  }
  if (unreadable != run.unreadable_findings)
    fail(fmt::format("{} finding records skipped, {} counted unreadable", unreadable,
                     run.unreadable_findings));
  if (std::set<std::string>(listed.begin(), listed.end()) != made || listed.size() != made.size())
    fail(fmt::format("findings/ holds {} directories, the loader lists {} ({} complete)",
                     made.size(), listed.size(), run.findings.size()));
}

void check_refusal(const std::string& message, const fs::path& dir) {
  if (message.find('\n') != std::string::npos) fail("error message spans lines: " + message);
  if (!message.starts_with(dir.string()))
    fail(fmt::format("error message does not name a file under {}: {}", dir.string(), message));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<Entry> entries;
  if (!unpack(std::string_view(reinterpret_cast<const char*>(data), size), &entries)) return -1;
  static Made made;
  const fs::path dir = scratch().root;
  clear(dir, &made);
  if (!materialise(dir, entries, &made)) return -1;
  mmudiff::LoadedRun run;
  try {
    run = mmudiff::load_run_dir(dir);
  } catch (const mmudiff::InputError& e) {
    check_refusal(e.what(), dir);
    return 0;
  }
  check_accepted(run, entries);
  return 0;
}

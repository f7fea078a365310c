// SPDX-License-Identifier: GPL-2.0-only
#include "tools/mmudiff/campaign_findings.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mmu/ops/binary_format.h"
#include "mmu/ops/op.h"
#include "mmu/ops/work_budget.h"
#include "oracles/isolated_run.h"
#include "reports/run_dir.h"

namespace mmudiff::cli {

namespace fs = std::filesystem;

namespace {

std::string read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A sanitizer's error kind as a signature's rule: "heap-use-after-free", "SEGV",
// "signed-integer-overflow"; anything outside [A-Za-z0-9_.+-] becomes '-'.
std::string rule_word(const std::string& s) {
  std::string out;
  for (char c : s) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '.' || c == '+' || c == '-';
    out += keep ? c : '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "unknown" : out;
}

// Where in the backends a sanitizer report's first stack (the faulting access, or where leaked
// memory was allocated) was: the innermost frame in a backend's code names the backend, the
// innermost Backend method the operation (the methods are named as the operations are).
struct StackPlace {
  std::string backend;
  std::string op;
};

StackPlace stack_place(const std::vector<std::string>& lines, size_t from) {
  static const std::pair<const char*, const char*> kClasses[] = {{"WalkerBackend::", "walker"},
                                                                 {"LegacyBackend::", "legacy"},
                                                                 {"Linux61Backend::", "linux61"}};
  static const std::pair<const char*, const char*> kPaths[] = {{"/mmu/walker/", "walker"},
                                                               {"/mmu/legacy/", "legacy"},
                                                               {"/mmu/linux61/", "linux61"},
                                                               {"/kvm/hyp/pgtable.c", "linux61"}};
  StackPlace place;
  bool in_stack = false;
  for (size_t i = from; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    size_t hash = l.find_first_not_of(' ');
    bool frame = hash != std::string::npos && l[hash] == '#' && hash + 1 < l.size() &&
                 l[hash + 1] >= '0' && l[hash + 1] <= '9';
    if (!frame) {
      if (in_stack) break;  // the first stack only: later ones say where memory was freed
      continue;
    }
    in_stack = true;
    for (const auto& [cls, name] : kClasses) {
      size_t at = l.find(cls);
      if (at == std::string::npos) continue;
      if (place.backend.empty()) place.backend = name;
      size_t begin = at + std::strlen(cls), end = begin;
      while (end < l.size() && ((l[end] >= 'a' && l[end] <= 'z') || l[end] == '_')) ++end;
      OpKind kind;
      if (place.op.empty() && end < l.size() && l[end] == '(' &&
          op_kind_from_name(l.substr(begin, end - begin), &kind))
        place.op = std::string(op_kind_name(kind));
    }
    for (const auto& [path, name] : kPaths)
      if (place.backend.empty() && l.find(path) != std::string::npos) place.backend = name;
  }
  return place;
}

enum class Replay { Finding, NoFinding };

struct ReplayResult {
  Replay outcome;
  std::string signature;
  bool wrote = false;  // findings/NAME was written (a new signature)
};

}  // namespace

bool sanitizer_finding(const std::string& report, Finding* out) {
  std::istringstream in(report);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    std::string kind;
    size_t at;
    if ((at = l.find("ERROR: AddressSanitizer: ")) != std::string::npos) {
      std::string rest = l.substr(at + 25);
      kind = rest.substr(0, rest.find(' '));
    } else if (l.find("ERROR: LeakSanitizer:") != std::string::npos) {
      kind = "leak";
    } else if (l.find("runtime error:") != std::string::npos) {
      // With report_error_type=1 UBSan's summary names the check ("signed-integer-overflow").
      kind = "undefined-behavior";
      for (const auto& s : lines) {
        constexpr std::string_view kUbsan = "SUMMARY: UndefinedBehaviorSanitizer: ";
        if (s.rfind(kUbsan, 0) != 0) continue;
        std::string check = s.substr(kUbsan.size());
        kind = check.substr(0, check.find(' '));
        break;
      }
    } else {
      continue;
    }
    StackPlace place = stack_place(lines, i + 1);
    // UBSan's own line names the source file; a backend's path there names the backend.
    if (place.backend.empty()) place.backend = stack_place({"#0 " + l}, 0).backend;
    Finding f;
    f.severity = Severity::Security;
    f.oracle = "sanitizer";
    f.op_index = 0;
    f.op_kind = place.op.empty() ? "unknown" : place.op;
    f.rule = rule_word(kind);
    f.backend = place.backend;
    f.summary = l.substr(l.find_first_not_of(" =0123456789"));
    for (size_t j = i; j < lines.size() && f.evidence.size() < 30; ++j)
      if (!lines[j].empty()) f.evidence.push_back(lines[j]);
    for (const auto& s : lines)
      if (s.rfind("SUMMARY:", 0) == 0 && f.evidence.back() != s) f.evidence.push_back(s);
    *out = std::move(f);
    return true;
  }
  return false;
}

FindingStore::FindingStore(fs::path run_dir, HarnessOptions options, fs::path asan_target,
                           std::string engine)
    : run_dir_(std::move(run_dir)),
      options_(std::move(options)),
      asan_target_(std::move(asan_target)),
      engine_(std::move(engine)) {
  fs::path dir = run_dir_ / rundir::kFindingsDir;
  if (!fs::is_directory(dir)) return;
  for (const auto& entry : fs::directory_iterator(dir)) {
    fs::path record = entry.path() / rundir::kFindingFile;
    if (!fs::exists(record)) continue;  // incomplete: finding.json is written last
    try {
      auto j = nlohmann::json::parse(read_bytes(record));
      CampaignFinding f;
      f.signature = j.at("signature").get<std::string>();
      f.dir = entry.path();
      f.hits = j.value("hits", size_t{1});
      f.first_seen_t = j.value("first_seen_t", 0.0);
      findings_[f.signature] = f;
    } catch (const std::exception&) {
      // A record we cannot read is left alone; its signature will be written anew if found.
    }
  }
}

std::vector<std::string> FindingStore::scan(const fs::path& crash_dir, const std::string& prefix,
                                            int worker, double t) {
  std::vector<std::string> added;
  if (!fs::is_directory(crash_dir)) return added;
  std::vector<fs::path> fresh;
  for (const auto& entry : fs::directory_iterator(crash_dir)) {
    if (!entry.is_regular_file()) continue;
    std::string name = entry.path().filename().string();
    if (!prefix.empty() && name.rfind(prefix, 0) != 0) continue;
    if (name.size() > 4 && name.substr(name.size() - 4) == ".tmp") continue;
    if (seen_files_.insert(entry.path().string()).second) fresh.push_back(entry.path());
  }
  std::sort(fresh.begin(), fresh.end());
  for (const auto& f : fresh) {
    std::string sig = take(f, worker, t);
    if (!sig.empty()) added.push_back(sig);
  }
  return added;
}

std::vector<std::string> FindingStore::scan_seeds(const fs::path& seed_dir, int worker) {
  std::vector<std::string> added;
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(seed_dir, ec))
    if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::string sig = take(f, worker, 0.0, /*sanitizer_replay=*/false);
    if (!sig.empty()) added.push_back(sig);
  }
  return added;
}

std::string FindingStore::take(const fs::path& file, int worker, double t, bool sanitizer_replay) {
  std::string bytes = read_bytes(file);
  Stream stream =
      decode_binary(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  nlohmann::json extra = {
      {"first_seen_t", t}, {"hits", 1}, {"engine", engine_}, {"worker", worker}};

  // Replayed in a child (oracles/isolated_run.h): a backend that crashes or hangs on the file
  // is a finding of its own, and the campaign goes on.
  ReplayResult result{Replay::NoFinding, {}, false};
  std::string dir_name;
  if (within_work_budget(stream)) {
    IsolatedRun run = run_isolated(stream, options_);
    if (const Finding* w = run.report.worst()) {
      result.outcome = Replay::Finding;
      result.signature = w->signature();
      dir_name = rundir::finding_dir_name(*w);
      if (!findings_.count(result.signature)) {
        rundir::write_finding(run_dir_, *w, stream, extra);
        result.wrote = true;
      }
    }
  }

  if (result.outcome != Replay::Finding && !sanitizer_replay) return "";
  if (result.outcome != Replay::Finding) {
    // No MMUDIFF finding: does the ASan+UBSan build see a memory error or undefined behaviour?
    fs::path report_file = file;
    report_file += ".asan.txt";
    std::string backends;
    for (const auto& b : options_.backends) backends += (backends.empty() ? "" : ",") + b;
    const PlantInfo* plant = plant_info(options_.plant);
    std::string cmd = fmt::format(
        "MMUDIFF_BACKENDS={} MMUDIFF_PLANT={} ASAN_OPTIONS=detect_leaks=1:symbolize=1 "
        "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:report_error_type=1 timeout 120 {} {} > "
        "{} 2>&1",
        shell_quote(backends), shell_quote(plant ? std::string(plant->name) : ""),
        shell_quote(asan_target_.string()), shell_quote(file.string()),
        shell_quote(report_file.string()));
    int rc = std::system(cmd.c_str());
    (void)rc;
    Finding f;
    if (!sanitizer_finding(read_bytes(report_file), &f)) {
      ++unreproducible_;
      return "";
    }
    result.signature = f.signature();
    dir_name = rundir::finding_dir_name(f);
    if (!findings_.count(result.signature)) {
      rundir::write_finding(run_dir_, f, stream, extra);
      result.wrote = true;
    }
  }

  auto it = findings_.find(result.signature);
  if (it == findings_.end()) {
    CampaignFinding cf;
    cf.signature = result.signature;
    cf.dir = run_dir_ / rundir::kFindingsDir / dir_name;
    cf.hits = 1;
    cf.first_seen_t = t;
    findings_[cf.signature] = cf;
    return cf.signature;
  }
  // Seen before: one more hit, recorded durably.
  ++it->second.hits;
  fs::path record = it->second.dir / rundir::kFindingFile;
  try {
    auto j = nlohmann::json::parse(read_bytes(record));
    j["hits"] = it->second.hits;
    rundir::write_json_atomic(record, j);
  } catch (const std::exception&) {
    // The record is unreadable; the count in memory still reaches the summary.
  }
  return "";
}

}  // namespace mmudiff::cli

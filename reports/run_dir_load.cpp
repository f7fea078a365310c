// SPDX-License-Identifier: GPL-2.0-only
#include "reports/run_dir_load.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "mmu/ops/text_format.h"
#include "reports/json_schema.h"
#include "reports/run_dir.h"

namespace mmudiff {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string read_whole(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))  // a directory or a FIFO would fail or block mid-read
    throw InputError(fmt::format("{}: not a regular file", path.string()));
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw InputError(fmt::format("{}: cannot open: {}", path.string(), std::strerror(errno)));
  std::string bytes;
  try {
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } catch (const std::ios_base::failure&) {
    // libstdc++ throws when read(2) fails: a directory where a file should be (EISDIR), EIO.
    throw InputError(fmt::format("{}: read error: {}", path.string(), std::strerror(errno)));
  }
  if (in.bad()) throw InputError(fmt::format("{}: read error", path.string()));
  return bytes;
}

// nlohmann's message without its "[json.exception.parse_error.101] " prefix: the byte offset is
// given separately.
std::string parse_message(const json::exception& e) {
  std::string what = e.what();
  size_t close = what.find("] ");
  return close == std::string::npos ? what : what.substr(close + 2);
}

json parse_json(const std::string& text, const std::string& where) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    throw InputError(fmt::format("{}: byte {}: {}", where, e.byte, parse_message(e)));
  } catch (const json::out_of_range& e) {
    // A number beyond a double's range ("1e400"): nlohmann says so without an offset.
    throw InputError(fmt::format("{}: {}", where, parse_message(e)));
  }
}

}  // namespace

void check_schema(const json& value, std::string_view schema_id, const std::string& where) {
  std::vector<std::string> errors = schema::builtin_schemas().validate(value, schema_id);
  if (errors.empty()) return;
  std::string more = errors.size() > 1 ? fmt::format(" (and {} more)", errors.size() - 1) : "";
  throw InputError(fmt::format("{}: {}{} [schema {}]", where, errors.front(), more, schema_id));
}

json read_json_file(const fs::path& path, std::string_view schema_id) {
  json value = parse_json(read_whole(path), path.string());
  check_schema(value, schema_id, path.string());
  return value;
}

namespace {

std::vector<json> read_progress(const fs::path& path) {
  std::vector<json> samples;
  if (!fs::exists(path)) return samples;
  std::string text = read_whole(path);
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    bool complete = end != std::string::npos;
    std::string line = text.substr(pos, complete ? end - pos : std::string::npos);
    pos = complete ? end + 1 : text.size();
    ++line_no;
    if (line.empty()) continue;
    std::string where = fmt::format("{}:{}", path.string(), line_no);
    json sample;
    try {
      sample = json::parse(line);
    } catch (const json::parse_error& e) {
      // A run stopped mid-append leaves its last line without a newline: that sample is lost,
      // the others stand.
      if (!complete) break;
      throw InputError(fmt::format("{}: byte {}: {}", where, e.byte, parse_message(e)));
    } catch (const json::out_of_range& e) {
      if (!complete) break;
      throw InputError(fmt::format("{}: {}", where, parse_message(e)));
    }
    check_schema(sample, schema::kProgress, where);
    samples.push_back(std::move(sample));
  }
  return samples;
}

// findings/*/: each complete finding, each directory cut short, and what is not a finding
// directory at all.
void read_findings(const fs::path& dir, LoadedRun* run) {
  fs::path findings = dir / rundir::kFindingsDir;
  std::error_code ec;
  fs::file_status status = fs::symlink_status(findings, ec);
  if (ec || status.type() == fs::file_type::not_found) return;  // no finding yet
  if (!fs::is_directory(fs::status(findings, ec))) {
    run->skipped.push_back({std::string(rundir::kFindingsDir), "not a directory"});
    return;
  }
  try {
    for (const auto& entry : fs::directory_iterator(findings)) {
      std::string name = entry.path().filename().string();
      std::string rel = fmt::format("{}/{}", rundir::kFindingsDir, name);
      if (!entry.is_directory()) {
        run->skipped.push_back({rel, "not a finding directory"});
        continue;
      }
      fs::path record = entry.path() / rundir::kFindingFile;
      if (!fs::exists(record)) {
        run->incomplete_findings.push_back(rel);
        continue;
      }
      if (!fs::is_regular_file(record)) {
        run->skipped.push_back(
            {fmt::format("{}/{}", rel, rundir::kFindingFile), "not a regular file"});
        ++run->unreadable_findings;
        continue;
      }
      LoadedFinding f;
      f.dir = rel;
      f.finding = read_json_file(record, schema::kFinding);
      if (fs::exists(entry.path() / rundir::kFindingReproducer))
        f.reproducer = fmt::format("{}/{}", rel, rundir::kFindingReproducer);
      if (fs::exists(entry.path() / rundir::kFindingInput))
        f.input = fmt::format("{}/{}", rel, rundir::kFindingInput);
      run->findings.push_back(std::move(f));
    }
  } catch (const fs::filesystem_error& e) {
    run->skipped.push_back({std::string(rundir::kFindingsDir), e.code().message()});
  }
}

}  // namespace

LoadedRun load_run_dir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw InputError(fmt::format("{}: not a run directory (no such directory)", dir.string()));
  LoadedRun run;
  run.dir = dir;
  fs::path run_file = dir / rundir::kRunFile;
  if (!fs::exists(run_file))
    throw InputError(
        fmt::format("{}: not a run directory (no {})", dir.string(), rundir::kRunFile));
  run.run = read_json_file(run_file, schema::kRun);
  run.progress = read_progress(dir / rundir::kProgressFile);

  read_findings(dir, &run);
  std::sort(run.findings.begin(), run.findings.end(),
            [](const LoadedFinding& a, const LoadedFinding& b) { return a.dir < b.dir; });
  std::sort(run.incomplete_findings.begin(), run.incomplete_findings.end());

  if (fs::path p = dir / rundir::kExercisedFile; fs::exists(p))
    run.exercised = read_json_file(p, schema::kExercised);
  if (fs::path p = dir / rundir::kProofsFile; fs::exists(p))
    run.proofs = read_json_file(p, schema::kProofs);
  if (fs::path p = dir / rundir::kCoverageFile; fs::exists(p))
    run.coverage = read_json_file(p, schema::kCoverage);
  if (fs::path p = dir / rundir::kSemdiffFile; fs::exists(p))
    run.semdiff = read_json_file(p, schema::kSemdiff);
  return run;
}

}  // namespace mmudiff

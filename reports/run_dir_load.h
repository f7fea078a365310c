// SPDX-License-Identifier: GPL-2.0-only
// Reading a run directory back: every JSON file parsed and checked against its schema, with one
// line naming the file (and the byte offset, or the line of progress.jsonl) for anything wrong.
// What an interrupted run leaves half-done is not an error: a progress line cut off by the stop
// is dropped, and a finding directory without finding.json is listed as incomplete. What is not
// a file or directory where one belongs (a `findings` that is a plain file, a stray file among
// the finding directories) is listed as skipped, with why, so the report can say what it did not
// read instead of reporting on less than the run recorded.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mmudiff {

// A path of the run directory the report did not read, and why: "findings", "not a directory".
struct SkippedEntry {
  std::string path;  // relative to the run directory
  std::string reason;
};

struct LoadedFinding {
  std::string dir;         // relative to the run directory: "findings/security-..."
  nlohmann::json finding;  // finding.json
  std::optional<std::string> reproducer, input;  // relative paths, when the files exist
};

struct LoadedRun {
  std::filesystem::path dir;
  nlohmann::json run;                    // run.json
  std::vector<nlohmann::json> progress;  // progress.jsonl, in file order
  std::vector<LoadedFinding> findings;   // sorted by directory name
  std::vector<std::string> incomplete_findings;
  std::vector<SkippedEntry> skipped;        // what could not be read, in the order met
  size_t unreadable_findings = 0;           // finding directories among them (a divergence each)
  std::optional<nlohmann::json> exercised;  // exercised.json, if present
  std::optional<nlohmann::json> proofs;     // proofs.json, if present
  std::optional<nlohmann::json> coverage;   // coverage.json, if present
  std::optional<nlohmann::json> semdiff;    // semdiff.json, if present
};

// Throws InputError (mmu/ops/text_format.h), one line naming the file.
LoadedRun load_run_dir(const std::filesystem::path& dir);

// Parses PATH and checks it against the builtin schema SCHEMA_ID. Throws InputError:
// "PATH: byte 17: parse error ..." or "PATH: /backends/0: Missing required property 'name'."
nlohmann::json read_json_file(const std::filesystem::path& path, std::string_view schema_id);

// The same for JSON already in memory, WHERE naming it in the error.
void check_schema(const nlohmann::json& value, std::string_view schema_id,
                  const std::string& where);

}  // namespace mmudiff

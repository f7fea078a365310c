// SPDX-License-Identifier: GPL-2.0-only
// Writing a run directory for commands that replay given streams (`run --out`, `repro --out`):
// run.json first (status "running"), then each stream into corpus/ and each new finding signature
// into findings/ as it happens, then run.json again as "finished". `mmudiff report` turns the
// directory into report.json and report.html. Campaigns write their own directories, in the same
// layout, with the same helpers from run_dir.h.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oracles/harness.h"

namespace mmudiff {

class RunRecorder {
 public:
  // Creates DIR (refusing one that already holds a run.json: a run directory is never
  // overwritten) and writes run.json. COMMAND is "run" or "repro"; INPUTS the files given.
  // Throws InputError naming the directory.
  RunRecorder(std::filesystem::path dir, std::string command, const HarnessOptions& options,
              std::vector<std::string> inputs);

  // One stream's outcome: the stream into corpus/, each finding whose signature is new into
  // findings/ (input.bin, repro.mmu, finding.json), and the hit count of one seen before.
  void add(const std::string& source, const Stream& stream, const StreamReport& report);

  // Rewrites run.json with status "finished", the end time and the counts. Every method throws
  // InputError naming the file it could not write.
  void finish();

  const std::filesystem::path& dir() const { return dir_; }

 private:
  void write_run_json(const char* status);
  void record(const std::string& source, const Stream& stream, const StreamReport& report);

  std::filesystem::path dir_;
  nlohmann::json run_;
  std::chrono::steady_clock::time_point start_;
  size_t executions_ = 0;
  // Signature -> finding.json, kept to bump "hits".
  std::map<std::string, nlohmann::json> findings_;
};

}  // namespace mmudiff

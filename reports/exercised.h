// SPDX-License-Identifier: GPL-2.0-only
// What a run directory's streams exercise, found by replaying them through the harness: how many
// operations of each kind ran and what they returned, and what the final tables hold at each
// level (tables, blocks, pages, owner annotations) and in which leaf sizes. Fuzzing engines keep
// only their corpus, so this is computed after the fact from corpus/ and the findings' inputs,
// which is also what lets an interrupted campaign's report show it.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mmu/format/format.h"
#include "oracles/harness.h"
#include "oracles/isolated_run.h"

namespace mmudiff {

class ExercisedTally {
 public:
  // backends: the lanes replayed; the first one's return codes and final tables are counted.
  explicit ExercisedTally(std::vector<std::string> backends);

  // Runs STREAM through the harness with OPTIONS (its backends are replaced by ours), in a child
  // process (oracles/isolated_run.h), and counts.
  void replay(const Stream& stream, HarnessOptions options, const IsolationOptions& isolation = {});

  // A source that could not be replayed (RELATIVE to the run directory) and why; listed in the
  // JSON so a report never counts less than it read without saying so.
  void note_unreadable(std::string relative, std::string reason);

  size_t sequences() const { return sequences_; }
  // mmudiff/exercised-1 (reports/schema/exercised-1.schema.json).
  nlohmann::json to_json(size_t corpus_files, size_t finding_inputs, double time_ms) const;

 private:
  struct LevelCount {
    uint64_t tables = 0, blocks = 0, pages = 0, annotations = 0;
  };

  std::vector<std::string> backends_;
  // crashed: streams on which a backend crashed or hung (counted with findings, nothing else).
  size_t sequences_ = 0, refused_ = 0, with_findings_ = 0, crashed_ = 0;
  uint64_t operations_ = 0, skipped_ = 0;
  std::array<uint64_t, kOpKindCount> ops_by_kind_{};
  std::array<std::map<int, uint64_t>, kOpKindCount> return_codes_;
  static constexpr unsigned kLevelsCounted = 4;  // by entry size: 512G, 1G, 2M, 4K
  std::array<LevelCount, kLevelsCounted> levels_{};
  std::vector<std::pair<std::string, std::string>> unreadable_;
};

// The engines write inputs of at most 4,096 bytes (-max_len); a corpus file far larger is not
// theirs and is skipped rather than read whole.
inline constexpr uintmax_t kMaxReplayedFileBytes = 1 << 20;

// Replays RUN_DIR/corpus (every regular file, recursively, except hidden ones and *.tmp) and
// RUN_DIR/findings/*/input.bin as binary streams with OPTIONS and returns exercised.json. What
// cannot be replayed (a `corpus` that is not a directory, an entry that is not a regular file, a
// file that cannot be read or is over kMaxReplayedFileBytes) is listed in its "unreadable".
nlohmann::json compute_exercised(const std::filesystem::path& run_dir,
                                 const HarnessOptions& options,
                                 const IsolationOptions& isolation = {});

}  // namespace mmudiff

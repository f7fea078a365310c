// SPDX-License-Identifier: GPL-2.0-only
// Turning the engines' crash files into findings/ of the run directory, the moment they appear.
//
// Each new crash file is replayed in a forked child of the campaign (oracles/isolated_run.h: a
// backend that crashes or hangs there is a finding of oracle "memory" or "hang", and cannot take
// the campaign down) under exactly the fuzz targets' options; its most severe finding gives the
// signature: class/oracle/first diverging operation kind[/rule][/backend]. A file that shows no
// MMUDIFF finding there but crashes the ASan+UBSan target is a sanitizer finding: class
// "security", oracle "sanitizer", the operation and the backend whose code the sanitizer's first
// stack is in ("unknown" and none when it is in neither), and as the rule the sanitizer's error
// kind ("heap-use-after-free", "use-after-poison", "leak", "signed-integer-overflow", ...):
// "security/sanitizer/unmap/use-after-poison/legacy", with the sanitizer's report as its
// evidence. A file that reproduces neither way is counted as unreproducible and kept in .work/.
// Findings are deduplicated by signature: the first input is kept, later ones add to "hits".
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "oracles/harness.h"

namespace mmudiff::cli {

struct CampaignFinding {
  std::string signature;
  std::filesystem::path dir;  // findings/NAME
  size_t hits = 0;
  double first_seen_t = 0;
};

class FindingStore {
 public:
  // Loads the findings/ a previous campaign on `run_dir` left, so hits keep counting.
  FindingStore(std::filesystem::path run_dir, HarnessOptions options,
               std::filesystem::path asan_target, std::string engine);

  // Looks at every crash file not seen before. Returns the signatures that are new.
  std::vector<std::string> scan(const std::filesystem::path& crash_dir, const std::string& prefix,
                                int worker, double t);

  // The seeds an engine starts from that already show a finding. AFL++ skips such a seed in its
  // dry run (AFL_SKIP_CRASHES) and never stores it, so the campaign replays them itself. Only
  // mmudiff's own findings count here: a seed with none is simply a seed, not an unreproducible
  // crash. Returns the new signatures.
  std::vector<std::string> scan_seeds(const std::filesystem::path& seed_dir, int worker);

  const std::map<std::string, CampaignFinding>& findings() const { return findings_; }
  size_t unreproducible() const { return unreproducible_; }

 private:
  // The signature if it is new, else "". Without `sanitizer_replay`, a file that shows no mmudiff
  // finding is left at that (no ASan+UBSan replay, not counted as unreproducible).
  std::string take(const std::filesystem::path& file, int worker, double t,
                   bool sanitizer_replay = true);

  std::filesystem::path run_dir_;
  HarnessOptions options_;
  std::filesystem::path asan_target_;
  std::string engine_;
  std::set<std::string> seen_files_;
  std::map<std::string, CampaignFinding> findings_;
  size_t unreproducible_ = 0;
};

// The finding a sanitizer report describes, if it is one (exposed for tests).
bool sanitizer_finding(const std::string& report, Finding* out);

}  // namespace mmudiff::cli

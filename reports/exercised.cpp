// SPDX-License-Identifier: GPL-2.0-only
#include "reports/exercised.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <span>
#include <stdexcept>
#include <variant>

#include <fmt/format.h>

#include "mmu/ops/binary_format.h"
#include "mmu/ops/text_format.h"
#include "oracles/table_snapshot.h"
#include "reports/run_dir.h"

namespace mmudiff {

namespace fs = std::filesystem;

ExercisedTally::ExercisedTally(std::vector<std::string> backends) : backends_(std::move(backends)) {
  if (backends_.empty()) throw std::invalid_argument("exercised: no backend to replay through");
}

void ExercisedTally::replay(const Stream& stream, HarnessOptions options,
                            const IsolationOptions& isolation) {
  options.backends = backends_;
  options.check_every_op = false;
  // The first backend of the stream's architecture (its reference) is the one counted. Levels
  // are counted by entry size, the same on every architecture: 3 is 4 KiB, 2 is 2 MiB, 1 is 1 GiB,
  // 0 is 512 GiB (an x86 5-level root's entries are larger and not counted).
  std::string counted;
  std::array<LevelCount, kLevelsCounted> final_levels{};
  options.inspect_final = [&](std::string_view name, const Backend& backend,
                              const Machine& machine) {
    if (counted.empty()) counted = name;
    if (name != counted || !backend.root().live()) return;
    const DescriptorFormat& f = *backend.root().format;
    for (const SnapshotEntry& e : take_snapshot(backend, machine.memory).entries) {
      const unsigned shift = f.index_shift(e.level);
      const unsigned depth = (shift - f.page_shift()) / 9;
      if (depth >= kLevelsCounted) continue;
      LevelCount& c = final_levels[kLevelsCounted - 1 - depth];
      switch (f.classify(e.raw, e.level)) {
        case DescriptorKind::Table:
          ++c.tables;
          break;
        case DescriptorKind::Block:
          ++c.blocks;
          break;
        case DescriptorKind::Page:
          ++c.pages;
          break;
        case DescriptorKind::Invalid:
          ++c.annotations;  // the snapshot holds only entries that are not empty
          break;
        case DescriptorKind::Reserved:
          break;
      }
    }
  };
  // In a child: a stream on which a backend crashes or hangs is counted, not the end of the
  // report. The final tables are counted there and come back as the payload.
  IsolationOptions counting = isolation;
  counting.child_payload = [&] {
    nlohmann::json counts = nlohmann::json::array();
    for (const LevelCount& c : final_levels)
      counts.push_back({c.tables, c.blocks, c.pages, c.annotations});
    return counts.dump();
  };
  IsolatedRun run = run_isolated(stream, options, counting);
  const StreamReport& report = run.report;
  ++sequences_;
  if (!run.completed) {
    ++crashed_;
    ++with_findings_;
    return;
  }
  if (report.bound_reached) {
    // Refused streams say nothing about the tables; count nothing else. One that ran out of the
    // child's memory sends no counts at all.
    ++refused_;
    return;
  }
  nlohmann::json counts = nlohmann::json::parse(run.payload);
  for (size_t l = 0; l < final_levels.size(); ++l)
    final_levels[l] = {counts.at(l).at(0).get<uint64_t>(), counts.at(l).at(1).get<uint64_t>(),
                       counts.at(l).at(2).get<uint64_t>(), counts.at(l).at(3).get<uint64_t>()};
  if (!report.findings.empty()) ++with_findings_;
  const std::vector<OpResult>& results = report.results.front();
  for (size_t i = 0; i < results.size() && i < stream.size(); ++i) {
    ++operations_;
    if (i < report.skipped.size() && report.skipped[i]) {
      ++skipped_;
      continue;
    }
    auto kind = static_cast<size_t>(stream[i].kind);
    ++ops_by_kind_[kind];
    ++return_codes_[kind][results[i].ret];
  }
  for (size_t l = 0; l < kLevelsCounted; ++l) {
    levels_[l].tables += final_levels[l].tables;
    levels_[l].blocks += final_levels[l].blocks;
    levels_[l].pages += final_levels[l].pages;
    levels_[l].annotations += final_levels[l].annotations;
  }
}

void ExercisedTally::note_unreadable(std::string relative, std::string reason) {
  unreadable_.emplace_back(std::move(relative), std::move(reason));
}

nlohmann::json ExercisedTally::to_json(size_t corpus_files, size_t finding_inputs,
                                       double time_ms) const {
  nlohmann::json by_kind = nlohmann::json::object();
  nlohmann::json codes = nlohmann::json::object();
  for (unsigned k = 0; k < kOpKindCount; ++k) {
    // Both architectures have a "split": arm64's (Linux 6.12) is keyed apart so neither
    // count overwrites the other.
    std::string name = static_cast<OpKind>(k) == OpKind::Arm64Split
                           ? std::string("split (arm64-6.12)")
                           : std::string(op_kind_name(static_cast<OpKind>(k)));
    by_kind[name] = ops_by_kind_[k];
    nlohmann::json mix = nlohmann::json::object();
    for (const auto& [ret, n] : return_codes_[k]) mix[std::to_string(ret)] = n;
    codes[name] = mix;
  }
  nlohmann::json levels = nlohmann::json::array();
  nlohmann::json sizes = nlohmann::json::array();
  for (unsigned l = 0; l < kLevelsCounted; ++l) {
    const LevelCount& c = levels_[l];
    levels.push_back({{"level", l},
                      {"tables", c.tables},
                      {"blocks", c.blocks},
                      {"pages", c.pages},
                      {"annotations", c.annotations}});
    if (l >= 1) {  // 1 GiB and smaller: the leaf sizes of both architectures
      uint64_t size = uint64_t{1} << (12 + 9 * (kLevelsCounted - 1 - l));
      sizes.push_back(
          {{"size", size}, {"label", format_size(size)}, {"count", c.blocks + c.pages}});
    }
  }
  nlohmann::json unreadable = nlohmann::json::array();
  for (const auto& [path, reason] : unreadable_)
    unreadable.push_back({{"path", path}, {"reason", reason}});
  return {{"schema", "mmudiff/exercised-1"},
          {"backends", backends_},
          {"tables_of", backends_.front()},
          {"sources", {{"corpus", corpus_files}, {"findings", finding_inputs}}},
          {"sequences", sequences_},
          {"refused", refused_},
          {"crashed", crashed_},
          {"with_findings", with_findings_},
          {"operations", operations_},
          {"skipped", skipped_},
          {"ops_by_kind", by_kind},
          {"return_codes", codes},
          {"levels", levels},
          {"leaf_sizes", sizes},
          {"unreadable", unreadable},
          {"time_ms", time_ms}};
}

namespace {

// The stream in PATH, or why it cannot be replayed.
std::variant<Stream, std::string> read_binary_stream(const fs::path& path) {
  std::error_code ec;
  uintmax_t size = fs::file_size(path, ec);
  if (ec) return ec.message();
  if (size > kMaxReplayedFileBytes)
    return fmt::format("{} bytes, over the {} a stream may have", size, kMaxReplayedFileBytes);
  std::ifstream in(path, std::ios::binary);
  if (!in) return fmt::format("cannot open: {}", std::strerror(errno));
  std::vector<uint8_t> bytes(size);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  if (in.bad() || static_cast<uintmax_t>(in.gcount()) != size) return "read error";
  return decode_binary(bytes);
}

bool is_hidden_or_temporary(const fs::path& p) {
  std::string name = p.filename().string();
  return name.empty() || name[0] == '.' || p.extension() == ".tmp";
}

std::string relative_to(const fs::path& p, const fs::path& base) {
  return p.lexically_relative(base).string();
}

// Sorted, so the replay order (and so exercised.json) does not depend on the file system.
// Anything in the way is noted in TALLY: the files it holds are not replayed.
std::vector<fs::path> corpus_files(const fs::path& run_dir, ExercisedTally* tally) {
  std::vector<fs::path> files;
  fs::path dir = run_dir / rundir::kCorpusDir;
  std::error_code ec;
  if (fs::symlink_status(dir, ec).type() == fs::file_type::not_found) return files;
  if (!fs::is_directory(dir, ec)) {
    tally->note_unreadable(std::string(rundir::kCorpusDir), "not a directory");
    return files;
  }
  try {
    for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
         ++it) {
      if (is_hidden_or_temporary(it->path())) {
        if (it->is_directory()) it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file())
        files.push_back(it->path());
      else if (!it->is_directory())
        tally->note_unreadable(relative_to(it->path(), run_dir), "not a regular file");
    }
  } catch (const fs::filesystem_error& e) {
    tally->note_unreadable(relative_to(e.path1().empty() ? dir : e.path1(), run_dir),
                           e.code().message());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<fs::path> finding_inputs(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return files;  // the loader says why, once
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    fs::path input = entry.path() / rundir::kFindingInput;
    if (entry.is_directory(ec) && fs::is_regular_file(input, ec)) files.push_back(input);
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

nlohmann::json compute_exercised(const fs::path& run_dir, const HarnessOptions& options,
                                 const IsolationOptions& isolation) {
  auto start = std::chrono::steady_clock::now();
  ExercisedTally tally(resolve_backends(options.backends));
  std::vector<fs::path> corpus = corpus_files(run_dir, &tally);
  std::vector<fs::path> inputs = finding_inputs(run_dir / rundir::kFindingsDir);
  for (const auto& list : {&corpus, &inputs}) {
    for (const auto& f : *list) {
      auto stream = read_binary_stream(f);
      if (auto* why = std::get_if<std::string>(&stream))
        tally.note_unreadable(relative_to(f, run_dir), *why);
      else
        tally.replay(std::get<Stream>(stream), options, isolation);
    }
  }
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return tally.to_json(corpus.size(), inputs.size(), ms);
}

}  // namespace mmudiff
